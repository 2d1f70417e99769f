#!/bin/sh
# Seed the fuzz corpora from the repository's own programs and data (the
# corpora stay out of git; these files are their seeds). Run from anywhere;
# needs a built `dp` for the weights seeds (target/release/dp).
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$here"
mkdir -p corpus/check corpus/data corpus/weights corpus/repl

# check, repl: every program of the repository.
for f in "$root"/examples/*.dp "$root"/stdlib/*.dp "$root"/tests/golden/*.dp \
         "$root"/tests/errors/*.dp "$root"/tests/programs/*.dp; do
    name=$(echo "$f" | sed "s|$root/||; s|/|_|g")
    cp "$f" "corpus/check/$name"
    # The REPL reads declarations and expressions line by line.
    cp "$f" "corpus/repl/$name"
done

# data: a byte choosing the type (see fuzz_targets/data.rs), then lines:
# the first lines of every data file under every type, and a value of
# each type.
n=0
for f in "$root"/examples/data/*.jsonl "$root"/tests/data/*.jsonl; do
    for pick in 0 1 2 3 4 5; do
        { printf "\\$(printf '%03o' "$pick")"; head -5 "$f"; } > "corpus/data/file_${n}_$pick"
    done
    n=$((n + 1))
done
seed() { { printf "\\$(printf '%03o' "$1")"; printf '%s\n' "$2"; } > "corpus/data/value_$1_$3"; }
seed 0 '[[1, "the"], [-2, "film"]]' 0
seed 0 '[]' 1
seed 1 '[[1.5, [2.0, -3]], NaN]' 0
seed 1 '{"leaf": 1.0}' 1
seed 2 '[["pos", [1, 2]], [[["neg", [0.5, Infinity]], []]]]' 0
seed 3 '[[true, false], [false, true]]' 0
seed 3 '[[], []]' 1
seed 4 '[[1, 2, 3], [0.5, -1], [[1, 0], [0, 1]]]' 0
seed 5 '[[["a", ["b", "c"]]], [], ["d"]]' 0

# weights: files a short training run writes for the weights program.
dp="$root/target/release/dp"
if [ -x "$dp" ]; then
    tmp=$(mktemp -d)
    cp programs/weights.dp "$tmp/w.dp"
    printf '[["a", "b"], "pos"]\n[["c"], "neg"]\n' > "$tmp/d.jsonl"
    for e in 1 2; do
        "$dp" train "$tmp/w.dp" --data "$tmp/d.jsonl" --epochs "$e" --save "corpus/weights/trained_$e.safetensors" > /dev/null
    done
    rm -r "$tmp"
fi
echo "seeded: $(ls corpus/check | wc -l) programs, $(ls corpus/data | wc -l) data inputs, $(ls corpus/weights | wc -l) weights files"
