//! Value tests against hand-computed numbers, edge cases (zero rows,
//! empty gathers), gradient bookkeeping and inference-mode behaviour.

use super::Graph;

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
}

#[track_caller]
fn assert_close(a: &[f32], b: &[f32]) {
    assert!(close(a, b), "{a:?} != {b:?}");
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
}
