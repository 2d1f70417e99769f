#!/usr/bin/env python3
"""Generate the remember-the-first-symbol data set (deterministic, seed 23).

Hochreiter & Schmidhuber's long time lag task (1997, experiment 2): a
sequence starts with one of "x" "y" "z" "w", then 19 to 29 distractors
drawn from "a" to "e"; its label is the first symbol, so a model must carry
it across 20 to 30 steps. A line is [symbols, label]. Writes
first_train.jsonl (3000 lines) and first_valid.jsonl (500 lines) next to
this script.
"""
import json
import os
import random


def example(rng):
    first = rng.choice("xyzw")
    rest = [rng.choice("abcde") for _ in range(rng.randint(19, 29))]
    return [[first] + rest, first]


def main():
    rng = random.Random(23)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("first_train.jsonl", 3000), ("first_valid.jsonl", 500)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(example(rng), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
