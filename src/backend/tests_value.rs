//! Value tests against hand-computed numbers, edge cases (zero rows,
//! empty gathers and segments), gradient bookkeeping (unused leaves,
//! repeated operands, ties), inference-mode behaviour and seeded init.

use super::grad_check::{check_gradients, Input, Tolerance};
use super::{id_eq, Binary, Graph, Real, Reduce, Unary};

#[track_caller]
fn assert_close(a: &[f32], b: &[f32]) {
    let ok = a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
    assert!(ok, "{a:?} != {b:?}");
}

/// The gradient of `sum(out)` with respect to `leaf`, where `out = f(leaf)`.
fn grad_of_sum(
    data: Vec<f32>,
    rows: usize,
    cols: usize,
    f: impl Fn(&mut Graph, &Real) -> Real,
) -> Vec<f32> {
    let mut g = Graph::training();
    let x = g.from_vec(rows, cols, data);
    let out = f(&mut g, &x);
    g.backward(&out).get(&x).expect("leaf took part")
}

#[test]
fn matmul_and_affine_values() {
    let mut g = Graph::inference();
    let a = g.from_vec(2, 2, vec![1.0, 2.0, 3.0, 4.0]);
    let b = g.from_vec(2, 1, vec![5.0, 6.0]);
    let c = g.matmul(&a, &b);
    assert_close(&g.to_vec(&c), &[17.0, 39.0]);
    let w = g.from_vec(1, 2, vec![1.0, -1.0]);
    let bias = g.from_vec(1, 1, vec![0.5]);
    let y = g.affine(&a, &w, &bias);
    assert_close(&g.to_vec(&y), &[-0.5, -0.5]);
    // Row 0: [1 2] @ [[1], [2]] = 5; row 1: [3 4] @ [[0], [1]] = 4.
    let m = g.from_vec(2, 2, vec![1.0, 2.0, 0.0, 1.0]);
    let bm = g.batched_matmul(&a, &m, 1, 2, 1);
    assert_close(&g.to_vec(&bm), &[5.0, 4.0]);
}

#[test]
fn elementwise_values() {
    let mut g = Graph::inference();
    let x = g.from_vec(1, 3, vec![-1.0, 0.0, 4.0]);
    let cases = [
        (Unary::Relu, [0.0, 0.0, 4.0]),
        (Unary::Abs, [1.0, 0.0, 4.0]),
        (Unary::Neg, [1.0, 0.0, -4.0]),
        (Unary::Square, [1.0, 0.0, 16.0]),
        (Unary::Sigmoid, [0.268_941_43, 0.5, 0.982_013_8]),
    ];
    for (op, want) in cases {
        let y = g.unary(op, &x);
        assert_close(&g.to_vec(&y), &want);
    }
    let y = g.affine_scalar(&x, 2.0, 1.0);
    assert_close(&g.to_vec(&y), &[-1.0, 1.0, 9.0]);
    let c = g.from_vec(2, 1, vec![1.0, 2.0]);
    let b = g.broadcast_cols(&c, 3);
    assert_close(&g.to_vec(&b), &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    let z = g.from_vec(1, 3, vec![-2.0, 5.0, 4.0]);
    let m = g.binary(Binary::Max, &x, &z);
    assert_close(&g.to_vec(&m), &[-1.0, 5.0, 4.0]);
}

#[test]
fn max_ties_send_gradient_left() {
    let mut g = Graph::training();
    let a = g.from_vec(1, 2, vec![1.0, 2.0]);
    let b = g.from_vec(1, 2, vec![1.0, 3.0]);
    let m = g.binary(Binary::Max, &a, &b);
    let grads = g.backward(&m);
    assert_close(&grads.get(&a).unwrap(), &[1.0, 0.0]);
    assert_close(&grads.get(&b).unwrap(), &[0.0, 1.0]);
}

/// At edge points where a finite subgradient exists, the one PyTorch uses:
/// `abs` and `relu` at 0 give 0, `norm` at the zero vector gives 0 (a
/// zero row beside a non-zero one keeps its own gradient).
#[test]
fn edge_points_have_finite_subgradients() {
    let mut g = Graph::training();
    let x = g.from_vec(1, 3, vec![0.0, 0.0, 0.0]);
    let y = g.unary(Unary::Abs, &x);
    let z = g.unary(Unary::Relu, &x);
    let sum = g.binary(Binary::Add, &y, &z);
    let grads = g.backward(&sum);
    assert_close(&grads.get(&x).unwrap(), &[0.0, 0.0, 0.0]);
    let mut g = Graph::training();
    let x = g.from_vec(2, 2, vec![0.0, 0.0, 3.0, -4.0]);
    let n = g.norm_rows(&x);
    assert_close(&g.to_vec(&n), &[0.0, 5.0]);
    let grads = g.backward(&n);
    assert_close(&grads.get(&x).unwrap(), &[0.0, 0.0, 0.6, -0.8]);
}

/// The softmax family at |z| = 1e4 against a float64 reference: relative
/// error at f32's precision (forming `m + ln s` first gave 4e-4).
#[test]
fn softmax_family_is_stable_for_large_logits() {
    let z: Vec<f32> = vec![
        1e4,
        1e4 - 1.5,
        1e4 - 3.0,
        1e4 - 0.25,
        -1e4,
        2e4 - 0.5,
        2e4,
        2e4 - 7.0,
    ];
    let reference = |row: &[f32]| {
        let m = row
            .iter()
            .map(|&v| v as f64)
            .fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
        let log: Vec<f64> = row.iter().map(|&v| (v as f64 - m) - s.ln()).collect();
        log
    };
    let want: Vec<f64> = z.chunks(4).flat_map(reference).collect();
    let close = |got: &[f32], want: &[f64], what: &str| {
        for (g, w) in got.iter().zip(want) {
            let err = (*g as f64 - w).abs() / w.abs().max(1e-30);
            assert!(
                err < 1e-6,
                "{what}: {g} against {w} (relative error {err:e})"
            );
        }
    };
    let mut g = Graph::inference();
    let x = g.from_vec(2, 4, z.clone());
    let log = g.log_softmax(&x, 4);
    close(&g.to_vec(&log), &want, "log_softmax");
    let soft = g.softmax(&x, 4);
    let probs: Vec<f64> = want.iter().map(|l| l.exp()).collect();
    close(&g.to_vec(&soft), &probs, "softmax");
    let ce = g.cross_entropy(&x, &[1, 3]);
    close(&g.to_vec(&ce), &[-want[1], -want[7]], "cross_entropy");
}

#[test]
fn reductions_values() {
    let mut g = Graph::inference();
    let x = g.from_vec(2, 4, vec![1.0, 5.0, 2.0, 0.0, -1.0, -3.0, 4.0, 4.5]);
    let cases = [
        (Reduce::Sum, 2, vec![6.0, 2.0, -4.0, 8.5]),
        (Reduce::Mean, 4, vec![2.0, 1.125]),
        (Reduce::Max, 2, vec![5.0, 2.0, -1.0, 4.5]),
    ];
    for (op, group, want) in cases {
        let y = g.reduce_cols(op, &x, group);
        assert_eq!((y.rows(), y.cols()), (2, 4 / group));
        assert_close(&g.to_vec(&y), &want);
    }
    let rows = g.from_vec(4, 2, vec![1.0, 2.0, 3.0, -4.0, 5.0, 6.0, 7.0, 8.0]);
    let offsets = [0, 2, 2, 4];
    let sum = g.reduce_segments(Reduce::Sum, &rows, &offsets);
    assert_close(&g.to_vec(&sum), &[4.0, -2.0, 0.0, 0.0, 12.0, 14.0]);
    let mean = g.reduce_segments(Reduce::Mean, &rows, &offsets);
    assert_close(&g.to_vec(&mean), &[2.0, -1.0, 0.0, 0.0, 6.0, 7.0]);
    let max = g.reduce_segments(Reduce::Max, &rows, &offsets);
    assert_close(&g.to_vec(&max), &[3.0, 2.0, 0.0, 0.0, 7.0, 8.0]);
}

#[test]
fn reduce_max_tie_goes_to_first() {
    let grad = grad_of_sum(vec![2.0, 2.0, 1.0], 1, 3, |g, x| {
        g.reduce_cols(Reduce::Max, x, 3)
    });
    assert_close(&grad, &[1.0, 0.0, 0.0]);
    let grad = grad_of_sum(vec![1.0, 5.0, 3.0, 5.0, 3.0, 0.0], 3, 2, |g, x| {
        g.reduce_segments(Reduce::Max, x, &[0, 3])
    });
    assert_close(&grad, &[0.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
}

#[test]
fn softmax_and_loss_values() {
    let mut g = Graph::inference();
    let x = g.from_vec(1, 4, vec![0.0, 0.0, 1.0, 3.0]);
    let s = g.softmax(&x, 2);
    let e = std::f32::consts::E;
    let (p, q) = (1.0 / (1.0 + e * e), e * e / (1.0 + e * e));
    assert_close(&g.to_vec(&s), &[0.5, 0.5, p, q]);
    let ls = g.log_softmax(&x, 2);
    assert_close(
        &g.to_vec(&ls),
        &[-(2f32.ln()), -(2f32.ln()), p.ln(), q.ln()],
    );
    let logits = g.from_vec(2, 2, vec![0.0, 0.0, 1.0, 3.0]);
    let ce = g.cross_entropy(&logits, &[1, 0]);
    assert_close(&g.to_vec(&ce), &[2f32.ln(), -p.ln()]);
    let z = g.from_vec(3, 1, vec![0.0, 2.0, -100.0]);
    let bce = g.bce_with_logits(&z, &[true, false, false]);
    let want_1 = 2.0 + (1.0 + (-2f32).exp()).ln();
    assert_close(&g.to_vec(&bce), &[2f32.ln(), want_1, 0.0]);
}

#[test]
fn structure_values() {
    let mut g = Graph::inference();
    let x = g.from_vec(3, 2, vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0]);
    let y = g.from_vec(1, 2, vec![7.0, 8.0]);
    let gathered = g.gather_rows(&x, &[2, 0, 2]);
    assert_close(&g.to_vec(&gathered), &[20.0, 21.0, 0.0, 1.0, 20.0, 21.0]);
    let rows = g.concat_rows(&[y.clone(), x.clone(), y.clone()]);
    assert_eq!((rows.rows(), rows.cols()), (5, 2));
    assert_close(&g.to_vec(&rows)[..4], &[7.0, 8.0, 0.0, 1.0]);
    let cols = g.concat_cols(&[x.clone(), x.clone()]);
    assert_close(
        &g.to_vec(&cols)[..8],
        &[0.0, 1.0, 0.0, 1.0, 10.0, 11.0, 10.0, 11.0],
    );
    let sliced = g.slice_cols(&cols, 1, 3);
    assert_close(&g.to_vec(&sliced), &[1.0, 0.0, 11.0, 10.0, 21.0, 20.0]);
    let neg = g.unary(Unary::Neg, &x);
    let sel = g.select_rows(&[false, true, false], &x, &neg);
    assert_close(&g.to_vec(&sel), &[0.0, -1.0, 10.0, 11.0, -20.0, -21.0]);
    let r = g.reshape(&x, 2, 3);
    assert_eq!((r.rows(), r.cols()), (2, 3));
    assert_close(&g.to_vec(&r), &g.to_vec(&x));
}

/// `gather_cols` is the blocks' `gather_from`s and their `concat_cols`:
/// the same values and gradients, bit for bit.
#[test]
fn gather_cols_equals_gathers_and_concat() {
    let run = |fused: bool| {
        let mut g = Graph::training();
        let p0 = g.from_vec(2, 2, vec![1.0, 2.0, 3.0, 4.0]);
        let p1 = g.from_vec(1, 2, vec![5.0, 6.0]);
        let q = g.from_vec(2, 1, vec![7.0, 8.0]);
        let parts = [p0.clone(), p1.clone()];
        let (ra, rb) = ([(1, 0), (0, 1), (1, 0)], [(0, 1), (0, 0), (0, 1)]);
        let y = match fused {
            true => g.gather_cols(&[(&parts, &ra), (&[q.clone()], &rb), (&parts, &ra)]),
            false => {
                let a = g.gather_from(&parts, &ra);
                let b = g.gather_from(&[q.clone()], &rb);
                g.concat_cols(&[a.clone(), b, a])
            }
        };
        let w = g.from_vec(3, 5, (1..=15).map(|v| v as f32).collect());
        let loss = g.binary(Binary::Mul, &y, &w);
        let grads = g.backward(&loss);
        let got = |x: &Real| grads.get(x).expect("a gradient");
        (g.to_vec(&y), got(&p0), got(&p1), got(&q))
    };
    let fused = run(true);
    assert_eq!(
        fused.0,
        [5.0, 6.0, 8.0, 5.0, 6.0, 3.0, 4.0, 7.0, 3.0, 4.0, 5.0, 6.0, 8.0, 5.0, 6.0]
    );
    assert_eq!(fused, run(false));
}

#[test]
fn repeated_gather_indices_accumulate() {
    let grad = grad_of_sum(vec![1.0; 6], 3, 2, |g, x| g.gather_rows(x, &[1, 1, 1, 0]));
    assert_close(&grad, &[1.0, 1.0, 3.0, 3.0, 0.0, 0.0]);
}

#[test]
fn unused_leaf_has_no_gradient() {
    let mut g = Graph::training();
    let x = g.from_vec(1, 2, vec![1.0, 2.0]);
    let unused = g.from_vec(1, 2, vec![1.0, 2.0]);
    let side = g.from_vec(1, 2, vec![3.0, 4.0]);
    let y = g.unary(Unary::Square, &x);
    let _dead_end = g.unary(Unary::Exp, &side); // on the tape, not in the loss
    let grads = g.backward(&y);
    assert_close(&grads.get(&x).unwrap(), &[2.0, 4.0]);
    assert!(grads.get(&unused).is_none());
    assert_close(&grads.get(&side).unwrap(), &[0.0, 0.0]);
}

#[test]
fn reshaped_leaf_shares_gradient() {
    let mut g = Graph::training();
    let x = g.from_vec(1, 4, vec![1.0, 2.0, 3.0, 4.0]);
    let r = g.reshape(&x, 2, 2);
    assert!(id_eq(&x, &r));
    let y = g.binary(Binary::Mul, &r, &r);
    let z = g.reshape(&y, 1, 4);
    let w = g.binary(Binary::Add, &z, &x); // x and a value derived from it
    let grads = g.backward(&w);
    assert_close(&grads.get(&x).unwrap(), &[3.0, 5.0, 7.0, 9.0]);
    // A leaf reshaped but never used otherwise: no gradient, no panic.
    let mut g = Graph::training();
    let p = g.from_vec(1, 2, vec![1.0, 2.0]);
    let _view = g.reshape(&p, 2, 1);
    let q = g.from_vec(1, 1, vec![1.0]);
    let grads = g.backward(&q);
    assert!(grads.get(&p).is_none());
    assert_close(&grads.get(&q).unwrap(), &[1.0]);
}

#[test]
fn id_eq_tracks_sharing() {
    let mut g = Graph::inference();
    let x = g.fill(2, 2, 1.0);
    let y = g.fill(2, 2, 1.0);
    assert!(id_eq(&x, &x.clone()));
    assert!(!id_eq(&x, &y));
    let z = g.unary(Unary::Tanh, &x);
    assert!(!id_eq(&x, &z));
}

/// Every shape-preserving op's output combined with its input in a dfdx
/// binary op: catches an op whose output secretly keeps its input's id.
#[test]
fn op_outputs_never_alias_inputs() {
    type Op = fn(&mut Graph, &Real) -> Real;
    let ops: [Op; 8] = [
        |g, x| g.unary(Unary::Tanh, x),
        |g, x| g.unary(Unary::Neg, x),
        |g, x| g.affine_scalar(x, 1.0, 0.0),
        |g, x| g.softmax(x, 2),
        |g, x| g.slice_cols(x, 0, 2),
        |g, x| g.concat_rows(std::slice::from_ref(x)),
        |g, x| g.gather_rows(x, &[0, 1]),
        |g, x| g.binary(Binary::Max, x, x),
    ];
    for op in ops {
        let mut g = Graph::training();
        let x = g.from_vec(2, 2, vec![0.5, 1.0, 1.5, 2.0]);
        let y = op(&mut g, &x);
        let s = g.binary(Binary::Add, &y, &x);
        let p = g.matmul(&s, &x);
        assert!(g.backward(&p).get(&x).is_some());
    }
}

#[test]
fn zero_rows_do_not_panic() {
    for training in [false, true] {
        let mut g = if training {
            Graph::training()
        } else {
            Graph::inference()
        };
        let x = g.fill(0, 3, 1.0);
        let w = g.fill(2, 3, 0.5);
        let b = g.fill(1, 2, 0.1);
        let k = g.fill(3, 2, 1.0);
        let mut outs: Vec<Real> = vec![
            g.unary(Unary::Tanh, &x),
            g.binary(Binary::Mul, &x, &x),
            g.binary(Binary::Max, &x, &x),
            g.affine_scalar(&x, 2.0, 1.0),
            g.reduce_cols(Reduce::Max, &x, 3),
            g.reduce_segments(Reduce::Max, &x, &[0]),
            g.matmul(&x, &k),
            g.batched_matmul(&x, &x, 1, 3, 1),
            g.affine(&x, &w, &b),
            g.gather_rows(&w, &[]),
            g.concat_rows(&[x.clone(), x.clone()]),
            g.concat_cols(&[x.clone(), x.clone()]),
            g.slice_cols(&x, 1, 2),
            g.reshape(&x, 3, 0),
            g.softmax(&x, 3),
            g.log_softmax(&x, 1),
            g.select_rows(&[], &x, &x),
            g.cross_entropy(&x, &[]),
        ];
        let empty_segments = g.reduce_segments(Reduce::Sum, &x, &[0, 0, 0]);
        assert_eq!(g.to_vec(&empty_segments), vec![0.0; 6]);
        let col = g.reduce_cols(Reduce::Sum, &x, 3);
        outs.push(g.broadcast_cols(&col, 4));
        outs.push(g.bce_with_logits(&col, &[]));
        for o in &outs {
            assert_eq!(o.rows() * o.cols(), 0, "{o:?}");
            let _ = g.to_vec(o);
        }
        let grads = g.backward(&outs[9]);
        assert_eq!(grads.get(&w).map(|v| v.len()), training.then_some(6));
    }
}

#[test]
fn zero_inner_dimension() {
    let mut g = Graph::training();
    let a = g.fill(2, 0, 1.0);
    let b = g.fill(0, 3, 1.0);
    let c = g.matmul(&a, &b);
    assert_eq!(g.to_vec(&c), vec![0.0; 6]);
    let d = g.batched_matmul(&a, &a, 2, 0, 2);
    assert_eq!(g.to_vec(&d), vec![0.0; 8]);
    let w = g.fill(3, 0, 1.0);
    let bias = g.fill(1, 3, 0.5);
    let e = g.affine(&a, &w, &bias);
    assert_eq!(g.to_vec(&e), vec![0.5; 6]);
    let total = g.concat_cols(&[c, d, e]);
    let grads = g.backward(&total);
    assert_eq!(grads.get(&a), Some(vec![]));
    assert_eq!(grads.get(&bias), Some(vec![2.0; 3]));
}

#[test]
fn inference_backward_is_empty_and_training_restarts() {
    let mut g = Graph::inference();
    assert!(!g.is_training());
    let x = g.fill(1, 1, 2.0);
    let y = g.unary(Unary::Square, &x);
    assert!(g.backward(&y).get(&x).is_none());

    let mut g = Graph::training();
    assert!(g.is_training());
    // A parameter created by another graph.
    let param = Graph::inference().fill(1, 1, 3.0);
    for _ in 0..2 {
        let y = g.binary(Binary::Mul, &param, &param);
        let grads = g.backward(&y);
        assert_close(&grads.get(&param).unwrap(), &[6.0]);
    }
}

#[test]
fn many_part_concat() {
    let mut g = Graph::training();
    let parts: Vec<Real> = (0..5000).map(|i| g.fill(1 + i % 3, 4, i as f32)).collect();
    let all = g.concat_rows(&parts);
    assert_eq!(all.rows(), parts.iter().map(Real::rows).sum::<usize>());
    let grads = g.backward(&all);
    assert_close(&grads.get(&parts[4999]).unwrap(), &[1.0; 8]);
}

#[test]
fn seeded_init_is_deterministic() {
    let g = Graph::inference();
    let a = g.to_vec(&g.gaussian(50, 40, 1.0, 2.0, 7));
    assert_eq!(a, g.to_vec(&g.gaussian(50, 40, 1.0, 2.0, 7)));
    assert_ne!(a, g.to_vec(&g.gaussian(50, 40, 1.0, 2.0, 8)));
    let mean = a.iter().sum::<f32>() / a.len() as f32;
    let var = a.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / a.len() as f32;
    assert!((mean - 1.0).abs() < 0.15 && (var.sqrt() - 2.0).abs() < 0.15);
    let u = g.to_vec(&g.uniform(50, 40, -0.5, 0.25, 3));
    assert_eq!(u, g.to_vec(&g.uniform(50, 40, -0.5, 0.25, 3)));
    assert!(u.iter().all(|&v| (-0.5..0.25).contains(&v)));
    assert_eq!(g.to_vec(&g.uniform(1, 2, 1.0, 1.0, 0)), vec![1.0, 1.0]);
    assert_eq!(g.to_vec(&g.gaussian(1, 2, 4.0, 0.0, 0)), vec![4.0, 4.0]);
}

/// The checker itself must catch a wrong gradient: here the output depends
/// on the input through the host, so the analytic gradient is zero.
#[test]
fn checker_detects_wrong_gradients() {
    let x = Input::uniform(2, 2, -1.0, 1.0, 1);
    let result = check_gradients(&[x], Tolerance::default(), |g, xs| {
        let copy = g.from_vec(2, 2, g.to_vec(&xs[0]));
        g.binary(Binary::Mul, &copy, &xs[0])
    });
    assert!(result.is_err());
}

/// Ad-hoc timing (not a test of speed): `cargo test --lib backend::tests_value::timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing_affine_128_on_32_rows() {
    let mut g = Graph::training();
    let w = g.gaussian(128, 128, 0.0, 0.1, 1);
    let b = g.fill(1, 128, 0.0);
    let x = g.gaussian(32, 128, 0.0, 1.0, 2);
    let n = 2000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let y = g.affine(&x, &w, &b);
        let y = g.unary(Unary::Tanh, &y);
        let grads = g.backward(&y);
        assert!(grads.get(&w).is_some());
    }
    let per = start.elapsed() / n;
    eprintln!("affine 32x128 @ 128x128 + tanh, forward+backward+grad read: {per:?}");
}

#[test]
#[ignore]
fn timing_breakdown() {
    let time = |name: &str, f: &mut dyn FnMut()| {
        let n = 1000;
        let start = std::time::Instant::now();
        for _ in 0..n {
            f();
        }
        eprintln!("{name}: {:?}", start.elapsed() / n);
    };
    let g0 = Graph::inference();
    let w = g0.gaussian(128, 128, 0.0, 0.1, 1);
    let b = g0.fill(1, 128, 0.0);
    let x = g0.gaussian(32, 128, 0.0, 1.0, 2);
    let k = g0.gaussian(128, 128, 0.0, 1.0, 2);
    let mut gi = Graph::inference();
    time("inference affine", &mut || drop(gi.affine(&x, &w, &b)));
    time("inference matmul", &mut || drop(gi.matmul(&x, &k)));
    time("inference tanh", &mut || drop(gi.unary(Unary::Tanh, &x)));
    time("inference add", &mut || {
        drop(gi.binary(Binary::Add, &x, &x))
    });
    let mut g = Graph::training();
    time("train matmul+bwd", &mut || {
        let y = g.matmul(&x, &k);
        drop(g.backward(&y));
    });
    time("train affine+bwd", &mut || {
        let y = g.affine(&x, &w, &b);
        drop(g.backward(&y));
    });
    time("train tanh+bwd", &mut || {
        let y = g.unary(Unary::Tanh, &x);
        drop(g.backward(&y));
    });
    time("train bwd only", &mut || {
        drop(g.backward(&x));
    });
}

/// A chain's values are its steps' values as separate ops (`tanh (a * b)
/// - sigmoid a`), also on an empty tensor.
#[test]
fn chain_values_equal_the_separate_ops() {
    use super::{Chain, Step};
    let chain = std::sync::Arc::new(Chain {
        steps: vec![
            Step::Input(0),
            Step::Input(1),
            Step::Binary(Binary::Mul, 0, 1),
            Step::Unary(Unary::Tanh, 2),
            Step::Unary(Unary::Sigmoid, 0),
            Step::Binary(Binary::Sub, 3, 4),
        ],
    });
    let mut g = Graph::inference();
    let a = g.from_vec(2, 3, vec![0.5, -1.0, 2.0, 0.0, 3.0, -0.25]);
    let b = g.from_vec(2, 3, vec![1.5, 0.5, -1.0, 4.0, 0.1, 2.0]);
    let fused = g.chain(&chain, &[a.clone(), b.clone()]);
    let ab = g.binary(Binary::Mul, &a, &b);
    let t = g.unary(Unary::Tanh, &ab);
    let s = g.unary(Unary::Sigmoid, &a);
    let separate = g.binary(Binary::Sub, &t, &s);
    assert_close(&g.to_vec(&fused), &g.to_vec(&separate));
    let empty = g.from_vec(0, 3, vec![]);
    let none = g.chain(&chain, &[empty.clone(), empty]);
    assert_eq!((none.rows(), none.cols()), (0, 3));
}

/// A weight overwritten (the optimizer's step) is read with its
/// new values by every kind of reader: the host copy, a product, a gather;
/// a clone taken before keeps the old ones.
#[test]
fn overwritten_values_are_read_fresh() {
    let mut g = Graph::inference();
    let mut w = g.from_vec(2, 2, vec![1.0, 2.0, 3.0, 4.0]);
    let x = g.from_vec(1, 2, vec![1.0, 1.0]);
    let before = w.clone();
    let first = g.matmul(&x, &w);
    assert_close(&g.to_vec(&first), &[4.0, 6.0]);
    g.overwrite(&mut w, &[10.0, 20.0, 30.0, 40.0]);
    assert_close(&g.to_vec(&w), &[10.0, 20.0, 30.0, 40.0]);
    let product = g.matmul(&x, &w);
    assert_close(&g.to_vec(&product), &[40.0, 60.0]);
    let row = g.gather_rows(&w, &[1]);
    assert_close(&g.to_vec(&row), &[30.0, 40.0]);
    assert_close(&g.to_vec(&before), &[1.0, 2.0, 3.0, 4.0]);
}

/// A value made on the host is read in place (no copy of its buffer), and
/// that view outlives its tensor and is never changed by an overwrite.
#[test]
fn host_values_are_read_in_place() {
    let mut g = Graph::training();
    let data = vec![1.0, 2.0, 3.0, 4.0];
    let at = data.as_ptr();
    let mut w = g.from_vec(2, 2, data);
    let view = w.values();
    assert_eq!(view.as_ptr(), at);
    let x = g.from_vec(1, 2, vec![1.0, 1.0]);
    let y = g.matmul(&x, &w);
    // An op computed on the host is read in place too.
    assert!(y.values().is_in_place());
    g.overwrite(&mut w, &[10.0, 20.0, 30.0, 40.0]);
    assert_eq!(&view[..], &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(&w.values()[..], &[10.0, 20.0, 30.0, 40.0]);
    drop(w);
    assert_eq!(&view[..], &[1.0, 2.0, 3.0, 4.0]);
    let grads = g.backward(&y);
    assert_close(&grads.get(&x).expect("x took part"), &[3.0, 7.0]);
}

/// Soft thresholding as one op equals its separate ops bit for bit (the
/// signed zeros of entries that do not pass included).
#[test]
fn soft_threshold_equals_the_separate_ops() {
    let mut g = Graph::inference();
    let x = g.from_vec(1, 6, vec![-1.2, 0.3, 0.0, -0.05, 1.4, -0.8]);
    let t = g.from_vec(1, 6, vec![0.5, 0.6, 0.1, 0.1, -0.5, 0.0]);
    let one = g.soft_threshold(&t, &x);
    let sign = g.unary(Unary::Sign, &x);
    let a = g.unary(Unary::Abs, &x);
    let d = g.binary(Binary::Sub, &a, &t);
    let r = g.unary(Unary::Relu, &d);
    let separate = g.binary(Binary::Mul, &sign, &r);
    let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
    assert_eq!(bits(g.to_vec(&one)), bits(g.to_vec(&separate)));
}

/// A whole recurrence equals its steps run one by one per example
/// (`addmm_act` on one row at a time), values and gradients, in one lane
/// and in two: examples of 3, 0, 5 and 5 steps, so the running set
/// shrinks and ties keep their order.
#[test]
fn recurrence_equals_its_steps() {
    use super::{Activation, Recurrence};
    let (starts, lengths) = ([5usize, 0, 8, 0], [3usize, 0, 5, 5]);
    let data = |rows: usize, cols: usize, seed: u64| {
        let v: Vec<f32> = (0..rows * cols)
            .map(|i| ((i as u64 * 7 + seed) as f32 * 0.37).sin() * 0.6)
            .collect();
        v
    };
    for act in [Activation::Tanh, Activation::Relu] {
        let run = |lanes: usize| {
            let mut g = Graph::training();
            let c = g.from_vec(13, 4, data(13, 4, 1));
            let w = g.from_vec(4, 4, data(4, 4, 2));
            let h0 = g.from_vec(4, 4, data(4, 4, 3));
            let out = if lanes > 0 {
                let r = Recurrence {
                    c: &c,
                    w: &w,
                    h0: &h0,
                    starts: &starts,
                    lengths: &lengths,
                    act,
                };
                g.recurrence_in(r, lanes)
            } else {
                let finals: Vec<Real> = (0..4)
                    .map(|b| {
                        let mut h = g.gather_rows(&h0, &[b]);
                        for t in 0..lengths[b] {
                            h = g.addmm_act(&c, Some(&[starts[b] + t]), &h, &w, act);
                        }
                        h
                    })
                    .collect();
                g.concat_rows(&finals)
            };
            let weights = g.from_vec(4, 4, data(4, 4, 4));
            let loss = g.binary(Binary::Mul, &out, &weights);
            let grads = g.backward(&loss);
            let each = [&c, &w, &h0].map(|x| grads.get(x).expect("took part"));
            (g.to_vec(&out), each)
        };
        let plain = run(0);
        for lanes in [1, 2] {
            let fused = run(lanes);
            assert_close(&fused.0, &plain.0);
            for (a, b) in fused.1.iter().zip(&plain.1) {
                assert_close(a, b);
            }
        }
    }
}
