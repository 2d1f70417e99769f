#!/usr/bin/env python3
"""Generate the made-up words (deterministic, seed 19).

A word is 2 to 4 syllables drawn from ten ("ka", "ki", "lo", "lu", "me",
"mi", "na", "no", "ta", "tu"), spelt letter by letter: a letter model must
learn which vowels follow which consonant (10 of the 35 pairs occur) and
how long words are. A line is the word's letters. Writes words_train.jsonl
(3000 lines) and words_valid.jsonl (300 lines) next to this script.
"""
import json
import os
import random

SYLLABLES = ["ka", "ki", "lo", "lu", "me", "mi", "na", "no", "ta", "tu"]


def example(rng):
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return list(word)


def main():
    rng = random.Random(19)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("words_train.jsonl", 3000), ("words_valid.jsonl", 300)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(example(rng), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
