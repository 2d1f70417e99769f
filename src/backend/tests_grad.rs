//! Finite-difference gradient checks for every op of the backend.
//!
//! Inputs are seeded and kept away from kinks (relu, abs, max, ties) so
//! that central differences are meaningful.

use super::grad_check::{assert_gradients, Input};
use super::{Binary, Graph, Reduce, Unary};

fn u(rows: usize, cols: usize, lo: f32, hi: f32, seed: u64) -> Input {
    Input::uniform(rows, cols, lo, hi, seed)
}

/// Values in `±[0.2, 1.5)`: away from 0 (relu/abs kinks).
fn away_from_zero(rows: usize, cols: usize, seed: u64) -> Input {
    let mut x = u(rows, cols, 0.2, 1.5, seed);
    for (i, v) in x.data.iter_mut().enumerate() {
        if i % 3 != 1 {
            *v = -*v;
        }
    }
    x
}

#[test]
fn unary_ops() {
    let cases = [
        (Unary::Tanh, u(3, 4, -2.0, 2.0, 1)),
        (Unary::Sigmoid, u(3, 4, -3.0, 3.0, 2)),
        (Unary::Relu, away_from_zero(3, 4, 3)),
        (Unary::Exp, u(3, 4, -2.0, 1.5, 4)),
        (Unary::Log, u(3, 4, 0.5, 3.0, 5)),
        (Unary::Sqrt, u(3, 4, 0.5, 3.0, 6)),
        (Unary::Abs, away_from_zero(3, 4, 7)),
        (Unary::Neg, u(3, 4, -2.0, 2.0, 8)),
        (Unary::Square, u(3, 4, -2.0, 2.0, 9)),
        (Unary::Sin, u(3, 4, -3.0, 3.0, 13)),
        (Unary::Cos, u(3, 4, -3.0, 3.0, 14)),
        (Unary::Sign, away_from_zero(3, 4, 15)),
    ];
    for (op, x) in cases {
        eprintln!("unary {op:?}");
        assert_gradients(&[x], |g, xs| g.unary(op, &xs[0]));
    }
}

#[test]
fn binary_ops() {
    for op in [Binary::Add, Binary::Sub, Binary::Mul, Binary::Div] {
        eprintln!("binary {op:?}");
        let b = u(3, 4, 0.5, 2.0, 11);
        assert_gradients(&[u(3, 4, -2.0, 2.0, 10), b], |g, xs| {
            g.binary(op, &xs[0], &xs[1])
        });
    }
    // Max away from ties: a and b differ by at least 0.2 everywhere.
    let a = u(3, 4, -2.0, 2.0, 12);
    let mut b = a.clone();
    for (i, v) in b.data.iter_mut().enumerate() {
        *v += if i % 2 == 0 { 0.3 } else { -0.3 };
    }
    for op in [Binary::Max, Binary::Min] {
        eprintln!("binary {op:?}");
        let (a, b) = (a.clone(), b.clone());
        assert_gradients(&[a, b], |g, xs| g.binary(op, &xs[0], &xs[1]));
    }
}

/// `pow_rows`: each row to its own power, positive bases (the exponent's
/// gradient needs `ln x`), exponents on both sides of 1.
#[test]
fn cols_at_and_permute_cols() {
    let x = u(3, 6, -2.0, 2.0, 18);
    assert_gradients(&[x.clone()], |g, xs| g.cols_at(&xs[0], &[0, 3, 2], 3));
    assert_gradients(&[x.clone()], |g, xs| g.cols_at(&xs[0], &[5, 1, 0], 1));
    // a 2 x 3 matrix per row, transposed
    assert_gradients(&[x], |g, xs| g.permute_cols(&xs[0], &[0, 3, 1, 4, 2, 5]));
}

/// Soft thresholding: entries that pass and entries that do not, both
/// signs, `|x| - t` at least 0.2 from the kink.
#[test]
fn soft_threshold() {
    let x = vec![-1.2, 0.3, 0.9, -0.25, 1.4, -0.8];
    let t = vec![0.5, 0.6, 0.1, 0.05, 0.7, 1.0];
    let inputs = [
        Input {
            rows: 2,
            cols: 3,
            data: t,
        },
        Input {
            rows: 2,
            cols: 3,
            data: x,
        },
    ];
    assert_gradients(&inputs, |g, xs| g.soft_threshold(&xs[0], &xs[1]));
}

#[test]
fn pow_rows() {
    let x = u(3, 4, 0.3, 2.0, 16);
    let p = u(3, 1, -1.5, 2.5, 17);
    assert_gradients(&[x, p], |g, xs| g.pow_rows(&xs[0], &xs[1]));
}

#[test]
fn binary_ops_same_operand() {
    for op in [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Max,
    ] {
        eprintln!("binary {op:?} x x");
        assert_gradients(&[u(2, 3, 0.5, 2.0, 13)], |g, xs| {
            g.binary(op, &xs[0], &xs[0].clone())
        });
    }
}

#[test]
fn broadcast_and_affine_scalar() {
    assert_gradients(&[u(3, 1, -1.0, 1.0, 14)], |g, xs| {
        g.broadcast_cols(&xs[0], 4)
    });
    assert_gradients(&[u(3, 4, -1.0, 1.0, 15)], |g, xs| {
        g.affine_scalar(&xs[0], -2.5, 0.7)
    });
}

#[test]
fn norm_rows() {
    assert_gradients(&[u(3, 4, -2.0, 2.0, 16)], |g, xs| g.norm_rows(&xs[0]));
    assert_gradients(&[u(2, 1, -2.0, 2.0, 17)], |g, xs| g.norm_rows(&xs[0]));
}

#[test]
fn reduce_cols_all_ops() {
    for op in [Reduce::Sum, Reduce::Mean, Reduce::Max] {
        for group in [6, 2, 3] {
            eprintln!("reduce_cols {op:?} group {group}");
            // Distinct values (a permutation scaled): no ties for Max.
            let mut x = u(3, 6, -1.0, 1.0, 16);
            for (i, v) in x.data.iter_mut().enumerate() {
                *v = ((i * 7) % 18) as f32 * 0.13 - 1.0;
            }
            assert_gradients(&[x], |g, xs| g.reduce_cols(op, &xs[0], group));
        }
    }
}

#[test]
fn reduce_segments_all_ops() {
    let distinct = || {
        let mut x = u(7, 3, -1.0, 1.0, 17);
        for (i, v) in x.data.iter_mut().enumerate() {
            *v = ((i * 5) % 21) as f32 * 0.11 - 1.0;
        }
        x
    };
    for op in [Reduce::Sum, Reduce::Mean, Reduce::Max] {
        eprintln!("reduce_segments {op:?}");
        assert_gradients(&[distinct()], |g, xs| {
            g.reduce_segments(op, &xs[0], &[0, 2, 3, 7])
        });
    }
    // An empty segment (Sum only; the caller rejects empty Mean/Max), and
    // rows not covered by any segment.
    assert_gradients(&[distinct()], |g, xs| {
        g.reduce_segments(Reduce::Sum, &xs[0], &[1, 3, 3, 6])
    });
}

#[test]
fn matmul_and_affine() {
    assert_gradients(
        &[u(3, 4, -1.0, 1.0, 18), u(4, 2, -1.0, 1.0, 19)],
        |g, xs| g.matmul(&xs[0], &xs[1]),
    );
    // a @ a with the same tensor on both sides.
    assert_gradients(&[u(3, 3, -1.0, 1.0, 20)], |g, xs| g.matmul(&xs[0], &xs[0]));
    assert_gradients(
        &[u(3, 4, -1.0, 1.0, 24), u(2, 4, -1.0, 1.0, 25)],
        |g, xs| g.matmul_t(&xs[0], &xs[1]),
    );
    assert_gradients(&[u(3, 3, -1.0, 1.0, 26)], |g, xs| {
        g.matmul_t(&xs[0], &xs[0])
    });
    let inputs = [
        u(4, 3, -1.0, 1.0, 21),
        u(2, 3, -1.0, 1.0, 22),
        u(1, 2, -1.0, 1.0, 23),
    ];
    assert_gradients(&inputs, |g, xs| g.affine(&xs[0], &xs[1], &xs[2]));
}

/// `stop_gradient x * x` has derivative `x` (not `2x`): the stopped factor
/// is a constant to the gradient.
#[test]
fn stop_gradient_passes_nothing_back() {
    let mut g = Graph::training();
    let x = g.from_vec(1, 3, vec![0.5, -1.0, 2.0]);
    let stopped = g.stop_gradient(&x);
    let y = g.binary(Binary::Mul, &stopped, &x);
    let total = g.reduce_cols(Reduce::Sum, &y, 3);
    let grads = g.backward(&total);
    assert_eq!(g.to_vec(&y), [0.25, 1.0, 4.0]);
    assert_eq!(grads.get(&x).expect("a gradient"), [0.5, -1.0, 2.0]);
}

#[test]
fn fused_addmm_activation() {
    use super::Activation;
    for act in [
        Activation::Identity,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Relu,
    ] {
        eprintln!("addmm_act {act:?}");
        let inputs = [
            u(4, 2, -1.0, 1.0, 31),
            u(4, 3, -1.0, 1.0, 32),
            u(2, 3, -1.0, 1.0, 33),
        ];
        assert_gradients(&inputs, |g, xs| {
            g.addmm_act(&xs[0], None, &xs[1], &xs[2], act)
        });
        // Rows of a larger `c`, one of them twice.
        let inputs = [
            u(5, 2, -1.0, 1.0, 37),
            u(4, 3, -1.0, 1.0, 32),
            u(2, 3, -1.0, 1.0, 33),
        ];
        assert_gradients(&inputs, |g, xs| {
            g.addmm_act(&xs[0], Some(&[4, 1, 4, 0]), &xs[1], &xs[2], act)
        });
    }
    // The values are those of the unfused ops.
    let mut g = Graph::inference();
    let real = |i: Input| g.from_vec(i.rows, i.cols, i.data);
    let (c, x, w) = (
        real(u(4, 2, -1.0, 1.0, 34)),
        real(u(4, 3, -1.0, 1.0, 35)),
        real(u(2, 3, -1.0, 1.0, 36)),
    );
    let fused = g.addmm_act(&c, None, &x, &w, Activation::Tanh);
    let xw = g.matmul_t(&x, &w);
    let z = g.binary(Binary::Add, &c, &xw);
    let plain = g.unary(Unary::Tanh, &z);
    for (a, b) in g.to_vec(&fused).iter().zip(g.to_vec(&plain)) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

/// A whole recurrence: examples of 2, 0, 3 and 1 steps (the one with none
/// keeps its initial state) reading rows of `c` out of order (row 3
/// unread), for every activation, in one lane and in two (one of them
/// holding the example with no step).
#[test]
fn recurrence() {
    use super::{Activation, Recurrence};
    for act in [
        Activation::Identity,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Relu,
    ] {
        for lanes in [1, 2] {
            eprintln!("recurrence {act:?}, {lanes} lanes");
            let inputs = [
                u(7, 3, -1.0, 1.0, 41),
                u(3, 3, -0.8, 0.8, 42),
                u(4, 3, -1.0, 1.0, 43),
            ];
            assert_gradients(&inputs, |g, xs| {
                let r = Recurrence {
                    c: &xs[0],
                    w: &xs[1],
                    h0: &xs[2],
                    starts: &[4, 0, 0, 6],
                    lengths: &[2, 0, 3, 1],
                    act,
                };
                g.recurrence_in(r, lanes)
            });
        }
    }
}

#[test]
fn batched_matmul() {
    for (m, n, p) in [(2, 3, 1), (2, 3, 2), (1, 2, 3)] {
        eprintln!("batched_matmul {m} {n} {p}");
        let inputs = [u(3, m * n, -1.0, 1.0, 24), u(3, n * p, -1.0, 1.0, 25)];
        assert_gradients(&inputs, |g, xs| g.batched_matmul(&xs[0], &xs[1], m, n, p));
    }
    // Same tensor as both operands (m = n = p = 2).
    assert_gradients(&[u(2, 4, -1.0, 1.0, 26)], |g, xs| {
        g.batched_matmul(&xs[0], &xs[0], 2, 2, 2)
    });
}

#[test]
fn gather_concat_slice_reshape() {
    let x = || u(4, 3, -1.0, 1.0, 27);
    assert_gradients(&[x()], |g, xs| g.gather_rows(&xs[0], &[2, 0, 2, 2, 3]));
    assert_gradients(&[x(), u(2, 3, -1.0, 1.0, 28)], |g, xs| {
        g.concat_rows(&[xs[0].clone(), xs[1].clone(), xs[0].clone()])
    });
    assert_gradients(&[x(), u(4, 2, -1.0, 1.0, 29)], |g, xs| {
        g.concat_cols(&[xs[0].clone(), xs[1].clone(), xs[0].clone()])
    });
    // Rows from two tensors (one of them twice), repeats summing.
    assert_gradients(&[x(), u(2, 3, -1.0, 1.0, 30)], |g, xs| {
        let parts = [xs[0].clone(), xs[1].clone(), xs[0].clone()];
        g.gather_from(&parts, &[(1, 1), (0, 3), (2, 3), (1, 0), (0, 0)])
    });
    // Gathers side by side: blocks of 3 and 2 cols, a part in two blocks.
    assert_gradients(
        &[x(), u(2, 3, -1.0, 1.0, 31), u(3, 2, -1.0, 1.0, 32)],
        |g, xs| {
            let (a, b) = ([xs[0].clone(), xs[1].clone()], [xs[2].clone()]);
            let (ra, rb) = ([(1, 1), (0, 3), (0, 3)], [(0, 2), (0, 0), (0, 2)]);
            g.gather_cols(&[(&a, &ra), (&b, &rb), (&a[..1], &[(0, 0), (0, 1), (0, 3)])])
        },
    );
    assert_gradients(&[x()], |g, xs| g.slice_cols(&xs[0], 1, 3));
    assert_gradients(&[x()], |g, xs| g.reshape(&xs[0], 2, 6));
}

#[test]
fn softmax_and_log_softmax() {
    for group in [6, 3, 2] {
        eprintln!("softmax group {group}");
        assert_gradients(&[u(3, 6, -2.0, 2.0, 30)], |g, xs| g.softmax(&xs[0], group));
        assert_gradients(&[u(3, 6, -2.0, 2.0, 31)], |g, xs| {
            g.log_softmax(&xs[0], group)
        });
    }
}

#[test]
fn select_rows() {
    let mask = [true, false, false, true];
    assert_gradients(
        &[u(4, 3, -1.0, 1.0, 32), u(4, 3, -1.0, 1.0, 33)],
        |g, xs| g.select_rows(&mask, &xs[0], &xs[1]),
    );
    assert_gradients(&[u(4, 3, -1.0, 1.0, 34)], |g, xs| {
        g.select_rows(&mask, &xs[0], &xs[0])
    });
}

#[test]
fn losses() {
    assert_gradients(&[u(4, 5, -2.0, 2.0, 35)], |g, xs| {
        g.cross_entropy(&xs[0], &[0, 4, 2, 2])
    });
    let mut z = u(4, 1, -3.0, 3.0, 36);
    z.data[1] = 8.0; // large logits stay finite and smooth
    assert_gradients(&[z], |g, xs| {
        g.bce_with_logits(&xs[0], &[true, false, false, true])
    });
}

#[test]
fn composed_expression_with_shared_value() {
    // h = tanh(x W^T + b); y = h * sigmoid(h) + sum_rows(h) broadcast;
    // out = log_softmax(concat_cols([y, h])) gathered with repeats.
    let inputs = [
        u(3, 4, -1.0, 1.0, 37),
        u(2, 4, -1.0, 1.0, 38),
        u(1, 2, -1.0, 1.0, 39),
    ];
    assert_gradients(&inputs, |g, xs| {
        let h = g.affine(&xs[0], &xs[1], &xs[2]);
        let h = g.unary(Unary::Tanh, &h);
        let s = g.unary(Unary::Sigmoid, &h);
        let y = g.binary(Binary::Mul, &h, &s);
        let total = g.reduce_cols(Reduce::Sum, &h, 2);
        let total = g.broadcast_cols(&total, 2);
        let y = g.binary(Binary::Add, &y, &total);
        let both = g.concat_cols(&[y, h.clone()]);
        let out = g.log_softmax(&both, 4);
        let picked = g.gather_rows(&out, &[0, 2, 0]);
        let again = g.binary(Binary::Mul, &h, &h);
        let again = g.reduce_segments(Reduce::Sum, &again, &[0, 3]);
        let again = g.concat_cols(&[again.clone(), again]);
        let first = g.slice_cols(&again, 0, 1);
        let again = g.broadcast_cols(&first, 4);
        g.concat_rows(&[picked, again])
    });
}

/// One weight shared by the products of a recurrence: plain `matmul_t`,
/// `affine` and `addmm_act` steps of different row counts, and the weight
/// also used as an ordinary operand afterwards and before.
#[test]
fn weight_shared_by_several_products() {
    let inputs = [
        u(3, 3, -1.0, 1.0, 51),
        u(3, 3, -0.8, 0.8, 52),
        u(1, 3, -1.0, 1.0, 53),
        u(4, 3, -1.0, 1.0, 54),
    ];
    assert_gradients(&inputs, |g, xs| {
        let (x, w, b, c) = (&xs[0], &xs[1], &xs[2], &xs[3]);
        let early = g.unary(Unary::Tanh, w);
        let h1 = g.matmul_t(x, w);
        let h1 = g.unary(Unary::Tanh, &h1);
        let h2 = g.affine(&h1, w, b);
        let h2 = g.unary(Unary::Sigmoid, &h2);
        let two = g.gather_rows(&h2, &[2, 0]);
        let h3 = g.addmm_act(c, Some(&[3, 0]), &two, w, super::fused::Activation::Tanh);
        let h4 = g.matmul_t(&h3, w);
        let late = g.binary(Binary::Mul, w, &early);
        g.concat_rows(&[h4, late])
    });
}

/// The same products inside loops whose weight gradients are deferred
/// (`defer.rs`): a weight made before the region (deferred, several steps,
/// more rows than one pending block in tests), a weight made inside it
/// (a per-step value: not deferred), a nested region, and the weight used
/// again after the region closes.
#[test]
fn deferred_weight_gradients() {
    let inputs = [
        u(3, 3, -1.0, 1.0, 71),
        u(3, 3, -0.8, 0.8, 72),
        u(1, 3, -1.0, 1.0, 73),
        u(4, 3, -1.0, 1.0, 74),
    ];
    assert_gradients(&inputs, |g, xs| {
        let (x, w, b, c) = (&xs[0], &xs[1], &xs[2], &xs[3]);
        let early = g.unary(Unary::Tanh, w);
        let outer = g.begin_deferral();
        let mut h = x.clone();
        for step in 0..6 {
            h = g.affine(&h, w, b);
            h = g.unary(Unary::Sigmoid, &h);
            let inside = g.unary(Unary::Tanh, &h);
            h = g.matmul_t(&h, &inside);
            if step % 2 == 0 {
                let inner = g.begin_deferral();
                let two = g.gather_rows(&h, &[2, 0]);
                let two = g.addmm_act(c, Some(&[3, 0]), &two, w, super::fused::Activation::Tanh);
                let two = g.matmul_t(&two, &early);
                g.end_deferral(inner);
                let one = g.gather_rows(&h, &[1]);
                h = g.concat_rows(&[two, one]);
            }
        }
        g.end_deferral(outer);
        let after = g.matmul_t(&h, w);
        let late = g.binary(Binary::Mul, w, &early);
        g.concat_rows(&[after, late])
    });
}

/// An elementwise chain (one op) has the gradients of its steps: a
/// TreeLSTM cell's `c' = s(i) t(u) + s(f) c` and `h = s(o) t(c')`, with
/// every fusable function, an input used twice, a step used by two later
/// ones, and more elements than one chunk.
#[test]
fn elementwise_chain() {
    use super::{Chain, Step};
    use Step::{Binary as B, Input as In, Unary as U};
    let steps = vec![
        In(0),
        In(1),
        In(2),
        In(3),
        U(Unary::Sigmoid, 0),
        U(Unary::Tanh, 1),
        B(Binary::Mul, 4, 5),
        U(Unary::Sigmoid, 2),
        B(Binary::Mul, 7, 3),
        B(Binary::Add, 6, 8),
        U(Unary::Tanh, 9),
        B(Binary::Mul, 10, 10),
        U(Unary::Relu, 3),
        U(Unary::Exp, 12),
        U(Unary::Neg, 13),
        U(Unary::Square, 2),
        B(Binary::Sub, 14, 15),
        B(Binary::Sub, 11, 16),
        In(0),
        B(Binary::Mul, 17, 18),
    ];
    let chain = std::sync::Arc::new(Chain { steps });
    assert!(chain.is_valid() && chain.inputs() == 4);
    let inputs: Vec<Input> = (0..4).map(|k| away_from_zero(3, 100, 60 + k)).collect();
    assert_gradients(&inputs, |g, xs| g.chain(&chain, xs));
    // The same input at two positions.
    let twice = std::sync::Arc::new(Chain {
        steps: vec![In(0), In(1), B(Binary::Mul, 0, 1), U(Unary::Tanh, 2)],
    });
    assert_gradients(&[u(2, 3, -1.0, 1.0, 64)], |g, xs| {
        g.chain(&twice, &[xs[0].clone(), xs[0].clone()])
    });
}
