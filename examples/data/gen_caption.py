#!/usr/bin/env python3
"""Generate the image-captioning data set for caption.dp (deterministic, seed 5).

Each example is a row of three 8x8 handwritten digits placed side by side
(an 8x24 grid of pixel counts 0..16) with its caption, the words for the
digits from left to right:

    [[[0,0,5,...], ... 8 rows of 24 ...], ["three", "one", "four"]]

The digit images come from digits_train.jsonl (for caption_train.jsonl,
3000 lines) and digits_test.jsonl (for caption_test.jsonl, 300 lines), so
no test image is ever seen in training. Training images are augmented:
each digit is moved by a random shift of -1, 0 or +1 pixel vertically and
horizontally (zeros shifted in); test images are left as they are. Run digits' split first (see
README.md); this script only reads those two files.
"""
import json
import os
import random

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def shift(img, dy, dx):
    """The 8x8 image moved by (dy, dx) pixels, zeros shifted in."""
    return [[img[r - dy][c - dx] if 0 <= r - dy < 8 and 0 <= c - dx < 8 else 0
             for c in range(8)] for r in range(8)]


def row(rng, images, jitter):
    picks = [rng.choice(images) for _ in range(3)]
    if jitter:
        picks = [(shift(img, rng.randint(-1, 1), rng.randint(-1, 1)), label)
                 for img, label in picks]
    grid = [sum((img[r] for img, _ in picks), []) for r in range(8)]
    return [grid, [WORDS[int(label)] for _, label in picks]]


def main():
    rng = random.Random(5)
    here = os.path.dirname(os.path.abspath(__file__))
    for src, name, n, jitter in [("digits_train.jsonl", "caption_train.jsonl", 3000, True),
                                 ("digits_test.jsonl", "caption_test.jsonl", 300, False)]:
        images = load(os.path.join(here, src))
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(row(rng, images, jitter), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
