//! The rose-tree examples (spec 11.5; docs/examples.md, "Rose trees") train
//! to their stated level on ListOps (`examples/data/gen_listops.py`: MAX,
//! MIN and sum-mod-10 over 2 to 4 arguments, two operators deep; the most
//! common root value (9) is 15.8% of the held-out set). Each trains briefly
//! through the `dp` binary into a temporary directory; training is
//! deterministic for a given seed, data and flags.

mod common;

use common::examples::{apply_mean, last, train, TempDir};

/// A child-sum TreeLSTM over n-ary trees learns the root's value from the
/// operators and digits alone.
#[test]
fn child_sum_treelstm_learns_listops() {
    let tmp = TempDir::new("listops-treelstm");
    let w = tmp.file("treelstm.safetensors");
    let flags = ["--epochs", "8", "--lr", "0.003"];
    let acc = train("listops_treelstm", "listops", "accuracy", &flags, &w);
    assert!(last(&acc) >= 0.5, "root accuracy {acc:?}");
}

/// A TreeNet with a loss at every node learns every subexpression's value
/// (its operator nodes' accuracy), and the root's.
#[test]
fn treenet_with_a_loss_at_every_node() {
    let tmp = TempDir::new("listops-nodes");
    let w = tmp.file("nodes.safetensors");
    let flags = [
        "--metric",
        "inner_accuracy",
        "--epochs",
        "10",
        "--lr",
        "0.003",
    ];
    let acc = train("listops_nodes", "listops", "accuracy", &flags, &w);
    assert!(last(&acc) >= 0.5, "root accuracy {acc:?}");
    let valid = "examples/data/listops_valid.jsonl";
    let inner = apply_mean("examples/listops_nodes.dp", &w, "inner_accuracy", valid);
    assert!(inner >= 0.75, "operator-node accuracy {inner}");
}
