#!/usr/bin/env python3
"""Build the flat digits data sets from the digits (no randomness).

Dropout's example needs a task that over-fits: a 2-layer MLP of 512 units
trained on only 300 digits. Each 8x8 digit becomes its 64 pixels in reading
order, scaled to [0, 1] (exact: multiples of 1/16); a line is [pixels,
digit]. fewdigits_train.jsonl is the first 300 lines of digits_train.jsonl,
fewdigits_valid.jsonl its lines 1001 to 1500 (disjoint, other writers'
digits). digits64_train.jsonl and digits64_valid.jsonl are all of
digits_train.jsonl and digits_test.jsonl in the same form (the VAE's
data). Run from anywhere: paths are relative to this script.
"""
import json
import os


def flat(line):
    grid, digit = json.loads(line)
    return [[round(v / 16, 4) for row in grid for v in row], digit]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "digits_train.jsonl")) as f:
        rows = f.readlines()
    with open(os.path.join(here, "digits_test.jsonl")) as f:
        test = f.readlines()
    for name, part in [("fewdigits_train.jsonl", rows[:300]),
                       ("fewdigits_valid.jsonl", rows[1000:1500]),
                       ("digits64_train.jsonl", rows),
                       ("digits64_valid.jsonl", test)]:
        with open(os.path.join(here, name), "w") as f:
            for line in part:
                f.write(json.dumps(flat(line), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
