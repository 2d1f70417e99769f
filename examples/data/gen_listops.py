#!/usr/bin/env python3
"""Generate the bundled ListOps data set (deterministic, seed 11).

ListOps (Nangia and Bowman, 2018): an expression tree whose internal nodes
are the operators MAX, MIN and SM (sum modulo 10) over any number of
arguments, and whose leaves are digits; its value is a digit. A node may
have 2 to 4 children, so the trees are n-ary: a rose tree, not a binary
one. Every node is labelled with its operator or digit AND with the value
of its subtree, as the Stanford Sentiment Treebank labels every phrase:
`[[op, value], [child, ...]]`. The root's value is the expression's value;
the others supervise a loss at every node.

Writes listops_train.jsonl (6000 lines) and listops_valid.jsonl (500 lines)
next to this script.
"""
import json
import os
import random

OPS = ["MAX", "MIN", "SM"]


def apply(op, values):
    if op == "MAX":
        return max(values)
    if op == "MIN":
        return min(values)
    return sum(values) % 10


def tree(rng, depth):
    """A random expression at most `depth` operators deep."""
    if depth == 0 or rng.random() < 0.3:
        d = rng.randrange(10)
        return [[str(d), str(d)], []]
    op = rng.choice(OPS)
    kids = [tree(rng, depth - 1) for _ in range(rng.randint(2, 4))]
    value = apply(op, [int(k[0][1]) for k in kids])
    return [[op, str(value)], kids]


def main():
    rng = random.Random(11)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("listops_train.jsonl", 6000), ("listops_valid.jsonl", 500)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                t = tree(rng, 2)
                while not t[1]:
                    t = tree(rng, 2)
                f.write(json.dumps(t, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
