//! Matrix products: `matmul`, `batched_matmul` and `affine`, on dfdx's
//! matmul kernels (gemm).
//!
//! Operands that share an id get a fresh one first (`a @ a` would
//! otherwise panic in dfdx's backward). Rank-3 views exist only inside
//! `batched_matmul`.

use dfdx::shapes::{Axes2, Axis};
use dfdx::tensor_ops::{BroadcastTo, PermuteTo, ReshapeTo, TryMatMul};

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

    pub(super) fn affine_impl(&mut self, x: &Real, w: &Real, b: &Real) -> Real {
        let (r, out) = (x.rows(), w.rows());
        let w = self.distinct(w, &[x]);
        let wt = w.t.clone().permute::<(usize, usize), Axes2<1, 0>>();
        let bias =
            b.t.clone()
                .reshape_like(&(out,))
                .broadcast_like::<(usize, usize), Axis<0>>(&(r, out));
        on_tape!(self, (r, out), [x, &w, b], |t| t.matmul(wt) + bias)
    }
}
