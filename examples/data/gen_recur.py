#!/usr/bin/env python3
"""Generate the "occurs again later" tagging data set (deterministic, seed 3).

A sequence of 4 to 14 symbols over "a".."h"; the tag of each symbol is
"yes" when the same symbol occurs again later in the sequence, else "no".
The tag depends on the future, so a left-to-right tagger can only guess
from the prefix (it does not even know how much sequence is left), while a
bidirectional one reads the answer off a right-to-left state. Used by
occurs_later.dp (bidirectional) and occurs_later_forward.dp (left to right
only). Writes recur_train.jsonl (3000 lines) and recur_valid.jsonl (500
lines) next to this script; a line is [symbols, tags].
"""
import json
import os
import random

SYMBOLS = "abcdefgh"


def example(rng):
    n = rng.randint(4, 14)
    s = [rng.choice(SYMBOLS) for _ in range(n)]
    tags = ["yes" if s[i] in s[i + 1:] else "no" for i in range(n)]
    return [s, tags]


def main():
    rng = random.Random(3)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("recur_train.jsonl", 3000), ("recur_valid.jsonl", 500)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(example(rng), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
