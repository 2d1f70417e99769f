#!/usr/bin/env python3
"""Generate the arithmetic-tree data set for arith.dp (deterministic, seed 11).

An expression over the digits 0..4 with the operators + - * (all mod 5) is
written as a binary tree whose leaves are tokens, in infix order: the
expression `l op r` is the tree node(node(l, leaf op), r), so `leaves`
reads the expression left to right, e.g. (3 + 4) * 2 is

    [[[["3", "+"], "4"], "*"], "2"]

The label is the value of the expression mod 5 (a symbol "0".."4"). Each
expression has 1 to 4 operators, its shape drawn uniformly at random.
Writes arith_train.jsonl (4000 lines) and arith_test.jsonl (1000 lines)
next to this script; no test expression occurs in the training set.
"""
import json
import os
import random

OPS = {"+": lambda a, b: (a + b) % 5,
       "-": lambda a, b: (a - b) % 5,
       "*": lambda a, b: (a * b) % 5}


def expr(rng, n_ops):
    """A random tree with n_ops operators: (tree, value)."""
    if n_ops == 0:
        d = rng.randrange(5)
        return str(d), d
    left = rng.randrange(n_ops)
    lt, lv = expr(rng, left)
    rt, rv = expr(rng, n_ops - 1 - left)
    op = rng.choice(sorted(OPS))
    return [[lt, op], rt], OPS[op](lv, rv)


def main():
    rng = random.Random(11)
    here = os.path.dirname(os.path.abspath(__file__))
    seen = set()
    for name, n in [("arith_train.jsonl", 4000), ("arith_test.jsonl", 1000)]:
        with open(os.path.join(here, name), "w") as f:
            written = 0
            while written < n:
                tree, value = expr(rng, rng.randint(1, 4))
                line = json.dumps([tree, str(value)], separators=(",", ":"))
                if line in seen:
                    continue
                seen.add(line)
                f.write(line + "\n")
                written += 1


if __name__ == "__main__":
    main()
