#!/usr/bin/env python3
"""Generate the two-spirals data set (deterministic, seed 11).

Two interleaved spiral arms "a" and "b" in the plane, each 1.5 turns, with
Gaussian noise (sd 0.08); no line or shallow feature separates them. A
point is [x, y]; a line is [point, arm]. Writes spirals_train.jsonl (1000
lines) and spirals_valid.jsonl (400 lines) next to this script.
"""
import json
import math
import os
import random


def example(rng):
    arm = rng.choice("ab")
    t = rng.random()
    angle = 3.0 * math.pi * t + (math.pi if arm == "b" else 0.0)
    r = 0.2 + 1.8 * t
    x = r * math.cos(angle) + rng.gauss(0, 0.08)
    y = r * math.sin(angle) + rng.gauss(0, 0.08)
    return [[round(x, 4), round(y, 4)], arm]


def main():
    rng = random.Random(11)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("spirals_train.jsonl", 1000), ("spirals_valid.jsonl", 400)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(example(rng), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
