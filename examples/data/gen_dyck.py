#!/usr/bin/env python3
"""Generate the balanced-brackets language data set (deterministic, seed 13).

A line is one string of the language: balanced brackets "(" ")" with 1 to
5 pairs (every such string is equally likely within a number of pairs, the
number of pairs uniform). The program appends the end marker "$" itself.
A generative RNN learns the language by predicting each next symbol
(teacher forcing); dyck_lm.dp then completes prompts (the first half of a
held-out string) by greedy decoding with unfold. Writes dyck_train.jsonl
(2000 lines) and dyck_valid.jsonl (500 lines) next to this script.
"""
import json
import os
import random


def dyck(n):
    """All balanced strings with n pairs."""
    if n == 0:
        return [""]
    out = []
    for k in range(n):  # "(" inner ")" rest, inner with k pairs
        for inner in dyck(k):
            for rest in dyck(n - 1 - k):
                out.append("(" + inner + ")" + rest)
    return out


LANGUAGE = {n: dyck(n) for n in range(1, 6)}


def example(rng):
    n = rng.randint(1, 5)
    return list(rng.choice(LANGUAGE[n]))


def main():
    rng = random.Random(13)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("dyck_train.jsonl", 2000), ("dyck_valid.jsonl", 500)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(example(rng), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
