#!/usr/bin/env python3
"""Generate the ring of 8 Gaussians (deterministic, seed 17).

Eight Gaussians of standard deviation 0.05 centred on a circle of radius 2
(angles 0, 45, ..., 315 degrees), equally likely: the GAN's target. A line
is one point [x, y]. Writes ring_train.jsonl (8000 lines) and
ring_valid.jsonl (1000 lines) next to this script.
"""
import json
import math
import os
import random

SD = 0.05


def example(rng):
    k = rng.randrange(8)
    a = 2 * math.pi * k / 8
    return [round(2 * math.cos(a) + rng.gauss(0, SD), 4), round(2 * math.sin(a) + rng.gauss(0, SD), 4)]


def main():
    rng = random.Random(17)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("ring_train.jsonl", 8000), ("ring_valid.jsonl", 1000)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(example(rng), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
