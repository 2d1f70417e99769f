#!/usr/bin/env python3
"""Generate the bracket-depth tagging data set (deterministic, seed 11).

A sequence mixes brackets "(" ")" with filler letters "x" "y"; it never
closes more brackets than it has opened. The tag of each token is the
nesting depth after it, clipped to "3" (so depth 5 and depth 3 are both
"3", and the tagger must still count past 3 to know when a ")" brings the
depth back to "2"). The tag depends on the whole past, which is what an
accumulating RNN (mapAccumL) carries. Writes depth_train.jsonl (3000 lines)
and depth_valid.jsonl (500 lines) next to this script; a line is
[tokens, tags].
"""
import json
import os
import random

MAX_DEPTH = 6


def example(rng):
    n = rng.randint(4, 24)
    toks, tags, depth = [], [], 0
    for _ in range(n):
        r = rng.random()
        if r < 0.2:
            tok = rng.choice("xy")
        elif depth == 0 or (depth < MAX_DEPTH and r < 0.62):
            tok = "("
            depth += 1
        else:
            tok = ")"
            depth -= 1
        toks.append(tok)
        tags.append(str(min(depth, 3)))
    return [toks, tags]


def main():
    rng = random.Random(11)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("depth_train.jsonl", 3000), ("depth_valid.jsonl", 500)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(example(rng), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
