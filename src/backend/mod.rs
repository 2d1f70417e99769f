//! The tensor backend: the only module that uses dfdx.
//!
//! Every real value the runtime handles is a [`Real`]: a 2-D tensor
//! `[rows, cols]` of f32 where rows index the batch (examples, list
//! elements, tree nodes...) and cols hold one value's reals flattened
//! row-major. Ranks above two exist only transiently inside an op (batched
//! matmul, softmax over the last axis of `R[n, m]`).
//!
//! A [`Graph`] runs ops. In training mode it records one gradient tape for
//! the whole minibatch; values stay tape-free and the tape moves from op to
//! op, so a value used twice gets its gradients summed. In inference mode
//! no tape is kept. This module knows nothing of dp's types or syntax.
//!
//! This file is the contract the runtime codes against; the ops themselves
//! live in submodules (`elementwise`, `linalg`, `structure`, `reduce`,
//! `loss`, `init`), all built on the two tape helpers in `tape`. Some ops
//! are dfdx kernels (unary functions, arithmetic, matmuls, gather); the
//! rest are small custom ops recorded on the same dfdx tape with a
//! hand-written backward (one pass each way, exact tie rules, and repeated
//! operands handled without dfdx's same-id panic).
//!
//! Not here: parameters, optimizers, safetensors I/O (other modules own
//! them on top of [`Graph::from_vec`], [`Graph::to_vec`] and
//! [`Gradients::get`]). The backend is CPU-only: custom ops read host data.

mod chain;
mod defer;
mod elementwise;
mod fused;
mod init;
mod linalg;
mod loss;
pub mod memory;
mod recur;
mod reduce;
mod structure;
mod tape;
pub mod threads;
mod vmath;

pub use chain::{Chain, Step};
pub use defer::{deferred_runs, set_deferral, Deferral};
pub use fused::Activation;
pub use recur::Recurrence;

#[cfg(test)]
pub(crate) mod grad_check;

#[cfg(test)]
mod tests_grad;
#[cfg(test)]
mod tests_value;

use std::cell::RefCell;
use std::collections::HashSet;

use dfdx::shapes::HasShape;
use dfdx::tensor::{Cpu, OwnedTape, Tensor};

/// The dfdx tensor type behind every [`Real`].
type T2<T = dfdx::tensor::NoneTape> = Tensor<(usize, usize), f32, Cpu, T>;

/// A `[rows, cols]` real tensor, tape-free. Cloning is cheap (shared data,
/// same tensor id).
///
/// Invariant: the underlying tensor is contiguous (row-major), and `id`
/// mirrors dfdx's tensor id: two `Real`s have equal `id` exactly when they
/// share a dfdx id (clones, and [`Graph::reshape`] of a value).
#[derive(Clone)]
pub struct Real {
    t: T2,
    id: u64,
    /// The values on the host, shared by every clone (`Real::values`):
    /// the tensor's own buffer for a value made on the host, else copied
    /// once on first use; a value overwritten gets a fresh one.
    host: std::sync::Arc<std::sync::OnceLock<tape::Values>>,
}

impl Real {
    pub fn rows(&self) -> usize {
        self.t.shape().0
    }
    pub fn cols(&self) -> usize {
        self.t.shape().1
    }
}

impl std::fmt::Debug for Real {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Real#{}[{}, {}]", self.id, self.rows(), self.cols())
    }
}

/// Whether `a` and `b` are the same tensor (clones of one value, or one is
/// a reshape of the other). Such operands share gradients.
pub fn id_eq(a: &Real, b: &Real) -> bool {
    a.id == b.id
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    Tanh,
    Sigmoid,
    Relu,
    Exp,
    /// Natural log.
    Log,
    Sqrt,
    Abs,
    Neg,
    Square,
    /// -1, 0 or 1; its derivative is 0 everywhere.
    Sign,
    Sin,
    Cos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    /// Elementwise maximum (gradient to the larger; ties to the left).
    Max,
    /// Elementwise minimum (gradient to the smaller; ties to the left).
    Min,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Mean,
    Max,
}

/// Gradients of a backward pass, looked up by the leaf tensor.
///
/// Holds the gradients of every tensor of the pass (dfdx's leaky
/// gradients) until dropped: read what you need, then drop it.
pub struct Gradients {
    grads: Option<RefCell<dfdx::tensor::Gradients<f32, Cpu>>>,
    /// Ids of the values that were operands of a recorded op.
    used: HashSet<u64>,
}

impl Gradients {
    /// The gradient of the loss with respect to `leaf` (same shape,
    /// row-major), or `None` if `leaf` took no part in the loss.
    pub fn get(&self, leaf: &Real) -> Option<Vec<f32>> {
        self.with(leaf, <[f32]>::to_vec)
    }

    /// `f` of the gradient of `leaf`, read where the backward pass left it
    /// (no copy); `None` if `leaf` took no part in the loss.
    pub fn with<R>(&self, leaf: &Real, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
        if !self.used.contains(&leaf.id) {
            return None;
        }
        let mut grads = self.grads.as_ref()?.borrow_mut();
        let buf = grads.get_or_alloc_mut(&leaf.t).ok()?;
        // Custom ops free their output's gradient once consumed; such a
        // (non-leaf) value reports no gradient rather than a wrong one.
        (buf.len() == leaf.rows() * leaf.cols()).then(|| f(buf))
    }
}

/// Runs tensor ops, recording a tape in training mode.
pub struct Graph {
    dev: Cpu,
    /// `Some` in training mode (taken out only for the duration of an op).
    tape: Option<OwnedTape<f32, Cpu>>,
    training: bool,
    /// Ids of the operands of recorded ops since the last backward.
    used: HashSet<u64>,
    /// Open loops whose weight gradients are deferred (`defer.rs`).
    regions: defer::Regions,
}

impl Graph {
    /// No tape: values only.
    pub fn inference() -> Graph {
        Graph {
            dev: Cpu::default(),
            tape: None,
            training: false,
            used: HashSet::new(),
            regions: Default::default(),
        }
    }
    /// Records a tape for one backward pass.
    pub fn training() -> Graph {
        Graph {
            tape: Some(OwnedTape::default()),
            training: true,
            ..Graph::inference()
        }
    }
    pub fn is_training(&self) -> bool {
        self.training
    }

    // ---- creation and reading (no gradient) ----
    /// `data.len()` must be `rows * cols` (the caller guarantees it).
    pub fn from_vec(&self, rows: usize, cols: usize, data: Vec<f32>) -> Real {
        debug_assert_eq!(data.len(), rows * cols, "from_vec: wrong data length");
        self.leaf(rows, cols, data)
    }
    pub fn fill(&self, rows: usize, cols: usize, value: f32) -> Real {
        self.leaf(rows, cols, vec![value; rows * cols])
    }
    pub fn to_vec(&self, x: &Real) -> Vec<f32> {
        x.host()
    }
    /// `x` with `data` (row-major, `x`'s size) as its values from now on
    /// (the optimizer's step: a weight is read by the next step's ops). A
    /// fresh tensor (and id) holding one copy of `data`, its host values
    /// read in place; values that shared `x`'s old tensor (a clone kept
    /// elsewhere, the backward of an op that read it) keep the old values.
    /// Writing over the old buffer instead would copy twice (the tensor's,
    /// then its host values) and a third time while the buffer is shared.
    pub fn overwrite(&self, x: &mut Real, data: &[f32]) {
        if data.len() == x.rows() * x.cols() && !data.is_empty() {
            *x = self.leaf(x.rows(), x.cols(), data.to_vec());
        }
    }

    // ---- differentiable ops (all record on the tape in training mode) ----
    pub fn unary(&mut self, op: Unary, x: &Real) -> Real {
        self.unary_impl(op, x)
    }
    /// Same shape on both sides. `a` and `b` may be the same tensor.
    pub fn binary(&mut self, op: Binary, a: &Real, b: &Real) -> Real {
        debug_assert_eq!(
            (a.rows(), a.cols()),
            (b.rows(), b.cols()),
            "binary: shapes differ"
        );
        self.binary_impl(op, a, b)
    }
    /// `[r, 1]` to `[r, cols]` (a Float broadcast against a representation).
    pub fn broadcast_cols(&mut self, x: &Real, cols: usize) -> Real {
        debug_assert_eq!(x.cols(), 1, "broadcast_cols: input must be [r, 1]");
        self.broadcast_cols_impl(x, cols)
    }
    /// `sign x * relu (|x| - t)` per entry (`t` the shape of `x`).
    pub fn soft_threshold(&mut self, t: &Real, x: &Real) -> Real {
        debug_assert_eq!(
            (t.rows(), t.cols()),
            (x.rows(), x.cols()),
            "soft_threshold: shapes differ"
        );
        self.soft_threshold_impl(t, x)
    }
    /// `x[i, j] ^ p[i]`: each row raised to its own power (`p` is `[r, 1]`).
    pub fn pow_rows(&mut self, x: &Real, p: &Real) -> Real {
        debug_assert_eq!(
            (p.rows(), p.cols()),
            (x.rows(), 1),
            "pow_rows: p must be [r, 1]"
        );
        self.pow_rows_impl(x, p)
    }
    /// `x`, as a constant to the gradient (`stop_gradient`).
    pub fn stop_gradient(&mut self, x: &Real) -> Real {
        self.stop_gradient_impl(x)
    }
    /// `x * s + t` elementwise with constants.
    pub fn affine_scalar(&mut self, x: &Real, s: f32, t: f32) -> Real {
        self.affine_scalar_impl(x, s, t)
    }
    /// The Euclidean norm of each row, `[r, c]` to `[r, 1]`; its gradient
    /// at the zero vector is 0.
    pub fn norm_rows(&mut self, x: &Real) -> Real {
        self.norm_rows_impl(x)
    }
    /// Reduce each run of `group` consecutive columns: `[r, c]` to
    /// `[r, c / group]`. `group == cols` reduces whole rows to `[r, 1]`.
    pub fn reduce_cols(&mut self, op: Reduce, x: &Real, group: usize) -> Real {
        debug_assert!(
            group > 0 && x.cols().is_multiple_of(group),
            "reduce_cols: bad group"
        );
        self.reduce_cols_impl(op, x, group)
    }
    /// Reduce runs of rows: segment `i` is rows `offsets[i]..offsets[i+1]`;
    /// `[N, c]` to `[offsets.len() - 1, c]`. An empty segment gives zeros
    /// (the caller reports empty `Max`/`Mean` segments as errors first).
    pub fn reduce_segments(&mut self, op: Reduce, x: &Real, offsets: &[usize]) -> Real {
        debug_assert!(!offsets.is_empty(), "reduce_segments: no offsets");
        debug_assert!(
            offsets.windows(2).all(|w| w[0] <= w[1]),
            "reduce_segments: unsorted"
        );
        debug_assert!(offsets.last().is_none_or(|&n| n <= x.rows()));
        self.reduce_segments_impl(op, x, offsets)
    }
    /// Plain matrix product `[r, k] @ [k, c]`.
    pub fn matmul(&mut self, a: &Real, b: &Real) -> Real {
        debug_assert_eq!(a.cols(), b.rows(), "matmul: inner dimensions differ");
        self.matmul_impl(a, b)
    }
    /// `a b^T`: `[r, k]` by `[m, k]` to `[r, m]` (one shared matrix `b`
    /// applied to every row of `a`). Gradients: `dA = G B`, `dB = G^T A`.
    pub fn matmul_t(&mut self, a: &Real, b: &Real) -> Real {
        debug_assert_eq!(a.cols(), b.cols(), "matmul_t: inner dimensions differ");
        self.matmul_t_impl(a, b)
    }
    /// Row-wise matrix product: row i of `a` is an `m x n` matrix, row i of
    /// `b` an `n x p` matrix; row i of the result is their `m x p` product.
    pub fn batched_matmul(&mut self, a: &Real, b: &Real, m: usize, n: usize, p: usize) -> Real {
        debug_assert_eq!(a.rows(), b.rows(), "batched_matmul: rows differ");
        debug_assert_eq!(a.cols(), m * n, "batched_matmul: a is not m x n");
        debug_assert_eq!(b.cols(), n * p, "batched_matmul: b is not n x p");
        self.batched_matmul_impl(a, b, m, n, p)
    }
    /// `x W^T + b`: `x [r, in]`, `w [out, in]`, `b [1, out]` to `[r, out]`.
    pub fn affine(&mut self, x: &Real, w: &Real, b: &Real) -> Real {
        debug_assert_eq!(x.cols(), w.cols(), "affine: x and w disagree on `in`");
        debug_assert_eq!(
            (b.rows(), b.cols()),
            (1, w.rows()),
            "affine: b is not [1, out]"
        );
        self.affine_impl(x, w, b)
    }
    /// An elementwise chain (`chain.rs`) over same-shaped inputs, as one
    /// op forward and one backward.
    pub fn chain(&mut self, chain: &std::sync::Arc<Chain>, inputs: &[Real]) -> Real {
        debug_assert!(chain.is_valid(), "chain: invalid steps");
        debug_assert_eq!(
            inputs.len(),
            chain.inputs(),
            "chain: wrong number of inputs"
        );
        debug_assert!(
            inputs
                .windows(2)
                .all(|w| (w[0].rows(), w[0].cols()) == (w[1].rows(), w[1].cols())),
            "chain: inputs of different shapes"
        );
        self.chain_impl(chain, inputs)
    }
    /// Rows of `x` picked by index (repeats allowed): `[idx.len(), c]`.
    pub fn gather_rows(&mut self, x: &Real, idx: &[usize]) -> Real {
        debug_assert!(
            idx.iter().all(|&i| i < x.rows()),
            "gather_rows: index out of range"
        );
        self.gather_rows_impl(x, idx)
    }
    /// Rows picked from several tensors of the same cols: row `k` is row
    /// `rows[k].1` of `parts[rows[k].0]` (one op however many parts).
    pub fn gather_from(&mut self, parts: &[Real], rows: &[(usize, usize)]) -> Real {
        debug_assert!(
            !parts.is_empty() && !rows.is_empty(),
            "gather_from: nothing"
        );
        debug_assert!(parts.iter().all(|p| p.cols() == parts[0].cols()));
        debug_assert!(rows
            .iter()
            .all(|&(p, r)| p < parts.len() && r < parts[p].rows()));
        self.gather_from_impl(parts, rows)
    }
    /// Gathers side by side: row `k` of the result is, block after block,
    /// row `rows[k].1` of `parts[rows[k].0]` of that block (every block
    /// picks the same number of rows; a block's parts have the same cols).
    /// One op for what is otherwise a `gather_from` per block and a
    /// `concat_cols` of them: a tree cell's affine input `[h_l; h_r]` read
    /// straight from the node-state parts.
    pub fn gather_cols(&mut self, blocks: &[(&[Real], &[(usize, usize)])]) -> Real {
        debug_assert!(!blocks.is_empty(), "gather_cols: no blocks");
        debug_assert!(blocks.iter().all(|(parts, rows)| {
            !parts.is_empty()
                && rows.len() == blocks[0].1.len()
                && parts.iter().all(|p| p.cols() == parts[0].cols())
                && rows
                    .iter()
                    .all(|&(p, r)| p < parts.len() && r < parts[p].rows())
        }));
        self.gather_cols_impl(blocks)
    }
    /// Rows stacked: all parts have the same cols. An empty slice is not allowed.
    ///
    /// Cost is linear in the total size, however many parts.
    pub fn concat_rows(&mut self, parts: &[Real]) -> Real {
        debug_assert!(!parts.is_empty(), "concat_rows: no parts");
        debug_assert!(parts.iter().all(|p| p.cols() == parts[0].cols()));
        self.concat_rows_impl(parts)
    }
    /// Columns side by side: all parts have the same rows.
    pub fn concat_cols(&mut self, parts: &[Real]) -> Real {
        debug_assert!(!parts.is_empty(), "concat_cols: no parts");
        debug_assert!(parts.iter().all(|p| p.rows() == parts[0].rows()));
        self.concat_cols_impl(parts)
    }
    /// Row `i`: columns `starts[i]..starts[i] + width` of row `i` of `x`.
    pub fn cols_at(&mut self, x: &Real, starts: &[usize], width: usize) -> Real {
        debug_assert_eq!(starts.len(), x.rows(), "cols_at: one start per row");
        debug_assert!(
            starts.iter().all(|&s| s + width <= x.cols()),
            "cols_at: out of range"
        );
        self.cols_at_impl(x, starts, width)
    }
    /// Column `j` of the result is column `perm[j]` of `x`.
    pub fn permute_cols(&mut self, x: &Real, perm: &[usize]) -> Real {
        debug_assert!(
            perm.iter().all(|&p| p < x.cols()),
            "permute_cols: out of range"
        );
        self.permute_cols_impl(x, perm)
    }
    /// Columns `start..end`.
    pub fn slice_cols(&mut self, x: &Real, start: usize, end: usize) -> Real {
        debug_assert!(start <= end && end <= x.cols(), "slice_cols: bad range");
        self.slice_cols_impl(x, start, end)
    }
    /// Same data, new `[rows, cols]` (row-major; `rows * cols` unchanged).
    /// The result is the same tensor (it shares `x`'s id and gradient).
    pub fn reshape(&mut self, x: &Real, rows: usize, cols: usize) -> Real {
        debug_assert_eq!(rows * cols, x.rows() * x.cols(), "reshape: size changes");
        self.reshape_impl(x, rows, cols)
    }
    /// Softmax over each run of `group` consecutive columns.
    pub fn softmax(&mut self, x: &Real, group: usize) -> Real {
        debug_assert!(
            group > 0 && x.cols().is_multiple_of(group),
            "softmax: bad group"
        );
        self.softmax_impl(x, group, false)
    }
    /// Log-softmax over each run of `group` consecutive columns.
    pub fn log_softmax(&mut self, x: &Real, group: usize) -> Real {
        debug_assert!(
            group > 0 && x.cols().is_multiple_of(group),
            "log_softmax: bad group"
        );
        self.softmax_impl(x, group, true)
    }
    /// Row i from `a` where `mask[i]`, else from `b`.
    pub fn select_rows(&mut self, mask: &[bool], a: &Real, b: &Real) -> Real {
        debug_assert_eq!(
            (a.rows(), a.cols()),
            (b.rows(), b.cols()),
            "select_rows: shapes"
        );
        debug_assert_eq!(mask.len(), a.rows(), "select_rows: mask length");
        self.select_rows_impl(mask, a, b)
    }
    /// Per-row cross entropy of logits `[r, v]` against class indices: `[r, 1]`.
    pub fn cross_entropy(&mut self, logits: &Real, targets: &[usize]) -> Real {
        debug_assert_eq!(
            targets.len(),
            logits.rows(),
            "cross_entropy: targets length"
        );
        debug_assert!(
            targets.iter().all(|&t| t < logits.cols()),
            "cross_entropy: target"
        );
        self.cross_entropy_impl(logits, targets)
    }
    /// Per-row binary cross entropy of logits `[r, 1]` against labels: `[r, 1]`.
    pub fn bce_with_logits(&mut self, logits: &Real, labels: &[bool]) -> Real {
        debug_assert_eq!(logits.cols(), 1, "bce_with_logits: logits must be [r, 1]");
        debug_assert_eq!(
            labels.len(),
            logits.rows(),
            "bce_with_logits: labels length"
        );
        self.bce_impl(logits, labels)
    }

    /// Backpropagate from the sum of all entries of `loss`, consuming the
    /// tape. Panics in inference mode is NOT allowed: returns empty gradients.
    /// A training graph starts a fresh tape afterwards.
    pub fn backward(&mut self, loss: &Real) -> Gradients {
        self.backward_impl(loss)
    }
}
