#!/usr/bin/env python3
"""Generate the motif-detection data set (deterministic, seed 5).

A sequence of 5 to 20 symbols over "a" "b" "c" "d" is labelled "yes" when
the motif "a b a" occurs somewhere in it, else "no" (half and half). A bag
of symbols cannot tell: negatives are drawn with the same symbol
frequencies, many containing "a b" or "b a" but never "a b a". A width-3
convolution (windowMap) detects the motif at any position and max pooling
(maxList) reports whether it fired anywhere. Writes motif_train.jsonl (3000
lines) and motif_valid.jsonl (500 lines) next to this script; a line is
[symbols, label].
"""
import json
import os
import random

SYMBOLS = "abcd"
MOTIF = ["a", "b", "a"]


def has_motif(s):
    return any(s[i:i + 3] == MOTIF for i in range(len(s) - 2))


def example(rng):
    positive = rng.random() < 0.5
    n = rng.randint(5, 20)
    while True:
        # "a" and "b" are frequent so that near misses ("a b c", "b a b") are common.
        s = [rng.choice("aabbcd") for _ in range(n)]
        if positive:
            i = rng.randint(0, n - 3)
            s[i:i + 3] = MOTIF
        if has_motif(s) == positive:
            return [s, "yes" if positive else "no"]


def main():
    rng = random.Random(5)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("motif_train.jsonl", 3000), ("motif_valid.jsonl", 500)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(example(rng), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
