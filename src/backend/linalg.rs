//! Matrix products: `matmul`, `batched_matmul` and `affine`, on dfdx's
//! matmul kernels (gemm).
//!
//! Operands that share an id get a fresh one first (`a @ a` would
//! otherwise panic in dfdx's backward). Rank-3 views exist only inside
//! `batched_matmul`.

use dfdx::shapes::Axes2;
use dfdx::tensor_ops::{PermuteTo, ReshapeTo, TryMatMul};

use super::tape::on_tape;
use super::{Graph, Real};

impl Graph {
    pub(super) fn matmul_impl(&mut self, a: &Real, b: &Real) -> Real {
        let shape = (a.rows(), b.cols());
        let b = self.distinct(b, &[a]);
        let rhs = b.t.clone();
        on_tape!(self, shape, [a, &b], |t| t.matmul(rhs))
    }

    /// `a b^T`: `[r, k]` times `[m, k]` transposed is `[r, m]`.
    pub(super) fn matmul_t_impl(&mut self, a: &Real, b: &Real) -> Real {
        let shape = (a.rows(), b.rows());
        let b = self.distinct(b, &[a]);
        let bt = b.t.clone().permute::<(usize, usize), Axes2<1, 0>>();
        on_tape!(self, shape, [a, &b], |t| t.matmul(bt))
    }

    pub(super) fn batched_matmul_impl(
        &mut self,
        a: &Real,
        b: &Real,
        m: usize,
        n: usize,
        p: usize,
    ) -> Real {
        let r = a.rows();
        let b = self.distinct(b, &[a]);
        let rhs = b.t.clone().reshape_like(&(r, n, p));
        on_tape!(self, (r, m * p), [a, &b], |t| t
            .reshape_like(&(r, m, n))
            .matmul(rhs)
            .reshape_like(&(r, m * p)))
    }

    /// `x W^T + b`: the product on dfdx's gemm, the bias added on the host.
    pub(super) fn affine_impl(&mut self, x: &Real, w: &Real, b: &Real) -> Real {
        let xw = self.matmul_t_impl(x, w);
        self.add_bias(&xw, b)
    }

    /// `y + b` with `b` a `[1, cols]` row added to every row of `y`.
    /// Backward: `dy += g`, `db += sum over rows of g`.
    fn add_bias(&mut self, y: &Real, b: &Real) -> Real {
        let (rows, cols) = (y.rows(), y.cols());
        let (yv, bv) = (y.values(), b.values());
        let mut out = Vec::with_capacity(rows * cols);
        for row in yv.chunks_exact(cols.max(1)) {
            out.extend(row.iter().zip(bv.iter()).map(|(a, b)| a + b));
        }
        self.custom(&[y, b], (rows, cols), out, move |k, g, gi| {
            if k == 0 {
                gi.iter_mut().zip(g).for_each(|(gi, &g)| *gi += g);
                return;
            }
            for row in g.chunks_exact(cols.max(1)) {
                gi.iter_mut().zip(row).for_each(|(gi, &g)| *gi += g);
            }
        })
    }
}
