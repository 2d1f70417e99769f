"""Side by side: a child-sum TreeLSTM (Tai et al. 2015) over n-ary trees,
dp's `examples/listops_treelstm.dp` against PyTorch level-batched.

The data are dp's bundled ListOps trees (examples/data/listops_train.jsonl:
6,000 rose trees, nodes with 0 to 4 children, labelled [op, value]). Both
sides train the same model with the same sizes: embedding 13 x 32, gates
(x, sum of children's h) -> (i, o, u) 96 -> 3 x 64, a forget gate per child
from (x, that child's h) 96 -> 64, decide 64 -> 10, cross-entropy at the
root, Adam lr 1e-3, batch 32, 2 threads.

PyTorch (level-batched, the dynamic batching of TF Fold and DGL): every
node of a minibatch is numbered, nodes of equal height across the batch
are computed together, children's states fetched with index_select and
summed per parent with index_add; the schedule (index tensors) is built
once per batch before timing. One step = forward + backward + Adam.

dp: `dp train examples/listops_treelstm.dp --epochs 3 --batch 32 --lr 1e-3`,
examples/s of each epoch (the median reported).

Run from the repository root with the peers' Python:
    PEERS_PY=~/peers-venv/bin/python; $PEERS_PY bench/childsum_treelstm.py [DP_BIN]
Prints one JSON line: both sides' examples/s (median, min, max) and the ratio.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)

OPS = ["MAX", "MIN", "SM"] + [str(d) for d in range(10)]
X, H, NCLS, BATCH, REPS = 32, 64, 10, 32, 5
DATA = "examples/data/listops_train.jsonl"


def load():
    trees = []
    for line in open(DATA):
        trees.append(json.loads(line))
    return trees


def schedule(batch):
    """Number every node (children first); per height: node ids, each
    node's op, its children (flat) and the parent slot of each child."""
    ops, kids, height = [], [], []
    roots, labels = [], []

    def visit(t):
        # iterative post-order
        stack = [(t, False)]
        done = []
        while stack:
            node, expanded = stack.pop()
            if expanded:
                k = len(node[1])
                mine = done[len(done) - k:] if k else []
                del done[len(done) - k:]
                nid = len(ops)
                ops.append(OPS.index(node[0][0]))
                kids.append(mine)
                height.append(1 + max((height[c] for c in mine), default=-1))
                done.append(nid)
            else:
                stack.append((node, True))
                for c in reversed(node[1]):
                    stack.append((c, False))
        return done[0]

    for t in batch:
        roots.append(visit(t))
        labels.append(int(t[0][1]))
    levels = []
    for h in range(max(height) + 1):
        ids = [i for i in range(len(ops)) if height[i] == h]
        child = [c for i in ids for c in kids[i]]
        parent = [k for k, i in enumerate(ids) for _ in kids[i]]
        levels.append((torch.tensor(ids), torch.tensor([ops[i] for i in ids]),
                       torch.tensor(child, dtype=torch.long), torch.tensor(parent, dtype=torch.long)))
    return len(ops), levels, torch.tensor(roots), torch.tensor(labels)


class ChildSum(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(OPS), X)
        self.gates = nn.Linear(X + H, 3 * H)
        self.forget = nn.Linear(X + H, H)
        self.decide = nn.Linear(H, NCLS)

    def forward(self, n, levels, roots):
        h_all = torch.zeros(n, H)
        c_all = torch.zeros(n, H)
        for ids, ops, child, parent in levels:
            e = self.embed(ops)
            m = len(ids)
            hsum = torch.zeros(m, H).index_add(0, parent, h_all.index_select(0, child))
            i, o, u = self.gates(torch.cat([e, hsum], 1)).chunk(3, 1)
            hk = h_all.index_select(0, child)
            fk = torch.sigmoid(self.forget(torch.cat([e.index_select(0, parent), hk], 1)))
            kept = torch.zeros(m, H).index_add(0, parent, fk * c_all.index_select(0, child))
            c = torch.sigmoid(i) * torch.tanh(u) + kept
            h = torch.sigmoid(o) * torch.tanh(c)
            h_all = h_all.index_copy(0, ids, h)
            c_all = c_all.index_copy(0, ids, c)
        return self.decide(h_all.index_select(0, roots))


def peer(trees):
    model = ChildSum()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = [schedule(trees[k:k + BATCH]) for k in range(0, len(trees), BATCH)]

    def step(b):
        n, levels, roots, labels = b
        opt.zero_grad()
        loss = F.cross_entropy(model(n, levels, roots), labels)
        loss.backward()
        opt.step()

    for b in batches[:20]:
        step(b)
    rates = []
    for _ in range(REPS):
        start = time.perf_counter()
        for b in batches:
            step(b)
        rates.append(len(trees) / (time.perf_counter() - start))
    return rates


def dp(bin_path):
    out = subprocess.run(
        [bin_path, "train", "examples/listops_treelstm.dp", "--data", DATA, "--epochs", str(REPS),
         "--batch", str(BATCH), "--lr", "1e-3", "--seed", "0"],
        check=True, capture_output=True, text=True).stdout
    return [float(l.split()[-2]) for l in out.splitlines() if l.startswith("epoch ")]


def summary(rates):
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


if __name__ == "__main__":
    bin_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DP_BIN", "target/release/dp")
    trees = load()
    theirs = summary(peer(trees))
    ours = summary(dp(bin_path))
    print(json.dumps({"pytorch_level_batched": theirs, "dp": ours,
                      "dp_over_pytorch": ours["median"] / theirs["median"]}))
