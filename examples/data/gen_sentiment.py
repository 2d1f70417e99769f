#!/usr/bin/env python3
"""Generate the bundled sentiment data set (deterministic, seed 7).

A sentence has one adjective, optionally negated by "not", among filler
words; its label is the adjective's polarity, flipped by "not". A bag of
words cannot solve it (the label is an XOR of "not" and the polarity):
word order and composition matter, which is what an encoding RNN (a fold)
learns. Writes sentiment_train.jsonl (2000 lines) and sentiment_valid.jsonl
(500 lines) next to this script.
"""
import json
import os
import random

POSITIVE = ["good", "great", "fine", "excellent", "lovely", "fun", "moving", "clever"]
NEGATIVE = ["bad", "awful", "dull", "boring", "poor", "weak", "tedious", "messy"]
OPENERS = [["the", "film", "was"], ["this", "movie", "is"], ["i", "found", "it"],
           ["the", "plot", "felt"], ["honestly", "it", "was"], ["the", "acting", "is"]]
INTENSIFIERS = ["very", "really", "quite", "so"]
CLOSERS = [[], [], ["overall"], ["to", "me"], ["in", "the", "end"], ["i", "think"]]


def sentence(rng):
    positive = rng.random() < 0.5
    negated = rng.random() < 0.5
    words = list(rng.choice(OPENERS))
    if negated:
        words.append("not")
    if rng.random() < 0.4:
        words.append(rng.choice(INTENSIFIERS))
    words.append(rng.choice(POSITIVE if positive else NEGATIVE))
    words.extend(rng.choice(CLOSERS))
    label = "pos" if positive != negated else "neg"
    return [words, label]


def main():
    rng = random.Random(7)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, n in [("sentiment_train.jsonl", 2000), ("sentiment_valid.jsonl", 500)]:
        with open(os.path.join(here, name), "w") as f:
            for _ in range(n):
                f.write(json.dumps(sentence(rng), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
