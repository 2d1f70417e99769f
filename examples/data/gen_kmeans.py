#!/usr/bin/env python3
"""Generate the clustering data set for kmeans.dp (deterministic, seed 13).

A mixture of four 2-D Gaussians (standard deviation 0.5, means at the
corners of a square of side 3) with equal weights. A line is a point and
the index 0..3 of the Gaussian it was drawn from, `[[x, y], k]`; the label
is never seen by the clustering objective, only by the test that measures
normalised mutual information (NMI) between clusters and mixture
components. Writes kmeans_train.jsonl (2000 lines) and kmeans_test.jsonl
(500 lines) next to this script.
"""
import json
import os
import random

MEANS = [(-1.5, -1.5), (-1.5, 1.5), (1.5, -1.5), (1.5, 1.5)]
SIGMA = 0.5


def main():
    rng = random.Random(13)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("kmeans_train.jsonl", 2000), ("kmeans_test.jsonl", 500)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                k = rng.randrange(len(MEANS))
                mx, my = MEANS[k]
                point = [round(rng.gauss(mx, SIGMA), 4), round(rng.gauss(my, SIGMA), 4)]
                f.write(json.dumps([point, k], separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
