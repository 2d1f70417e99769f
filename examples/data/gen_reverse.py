#!/usr/bin/env python3
"""Generate the sequence-reversal data set (deterministic, seed 17).

A line is [input, target]: an input of 1 to 6 symbols over "a".."h" and
the same symbols in reverse order. The validation inputs never occur in the
training set (held-out sequences). reverse_seq2seq.dp encodes the input
with a fold, then decodes the target with an unfold. Writes
reverse_train.jsonl (6000 lines) and reverse_valid.jsonl (500 lines) next
to this script.
"""
import json
import os
import random

SYMBOLS = "abcdefgh"


def sequence(rng):
    n = rng.randint(1, 6)
    return tuple(rng.choice(SYMBOLS) for _ in range(n))


def main():
    rng = random.Random(17)
    here = os.path.dirname(os.path.abspath(__file__))
    train = [sequence(rng) for _ in range(6000)]
    seen = set(train)
    valid = []
    while len(valid) < 500:
        s = sequence(rng)
        if s not in seen:
            seen.add(s)
            valid.append(s)
    for name, rows in [("reverse_train.jsonl", train), ("reverse_valid.jsonl", valid)]:
        with open(os.path.join(here, name), "w") as f:
            for s in rows:
                f.write(json.dumps([list(s), list(reversed(s))], separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
