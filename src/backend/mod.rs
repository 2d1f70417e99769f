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

// NOTE FOR IMPLEMENTERS: the signatures below are the contract used by the
// runtime; keep them (add more if needed).

/// A `[rows, cols]` real tensor, tape-free. Cloning is cheap (shared data,
/// same tensor id).
#[derive(Clone, Debug)]
pub struct Real {
    // implementation-defined
}

impl Real {
    pub fn rows(&self) -> usize {
        todo!()
    }
    pub fn cols(&self) -> usize {
        todo!()
    }
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    /// Elementwise maximum (gradient to the larger; ties to the left).
    Max,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Mean,
    Max,
}

/// Gradients of a backward pass, looked up by the leaf tensor.
pub struct Gradients {
    // implementation-defined
}

impl Gradients {
    /// The gradient of the loss with respect to `leaf` (same shape,
    /// row-major), or `None` if `leaf` took no part in the loss.
    pub fn get(&self, leaf: &Real) -> Option<Vec<f32>> {
        let _ = leaf;
        todo!()
    }
}

/// Runs tensor ops, recording a tape in training mode.
pub struct Graph {
    // implementation-defined
}

impl Graph {
    /// No tape: values only.
    pub fn inference() -> Graph {
        todo!()
    }
    /// Records a tape for one backward pass.
    pub fn training() -> Graph {
        todo!()
    }
    pub fn is_training(&self) -> bool {
        todo!()
    }

    // ---- creation and reading (no gradient) ----
    /// `data.len()` must be `rows * cols` (the caller guarantees it).
    pub fn from_vec(&self, rows: usize, cols: usize, data: Vec<f32>) -> Real {
        let _ = (rows, cols, data);
        todo!()
    }
    pub fn fill(&self, rows: usize, cols: usize, value: f32) -> Real {
        let _ = (rows, cols, value);
        todo!()
    }
    pub fn to_vec(&self, x: &Real) -> Vec<f32> {
        let _ = x;
        todo!()
    }

    // ---- differentiable ops (all record on the tape in training mode) ----
    pub fn unary(&mut self, op: Unary, x: &Real) -> Real {
        let _ = (op, x);
        todo!()
    }
    /// Same shape on both sides. `a` and `b` may be the same tensor.
    pub fn binary(&mut self, op: Binary, a: &Real, b: &Real) -> Real {
        let _ = (op, a, b);
        todo!()
    }
    /// `[r, 1]` to `[r, cols]` (a Float broadcast against a representation).
    pub fn broadcast_cols(&mut self, x: &Real, cols: usize) -> Real {
        let _ = (x, cols);
        todo!()
    }
    /// `x * s + t` elementwise with constants.
    pub fn affine_scalar(&mut self, x: &Real, s: f32, t: f32) -> Real {
        let _ = (x, s, t);
        todo!()
    }
    /// Reduce each run of `group` consecutive columns: `[r, c]` to
    /// `[r, c / group]`. `group == cols` reduces whole rows to `[r, 1]`.
    pub fn reduce_cols(&mut self, op: Reduce, x: &Real, group: usize) -> Real {
        let _ = (op, x, group);
        todo!()
    }
    /// Reduce runs of rows: segment `i` is rows `offsets[i]..offsets[i+1]`;
    /// `[N, c]` to `[offsets.len() - 1, c]`. An empty segment gives zeros
    /// (the caller reports empty `Max`/`Mean` segments as errors first).
    pub fn reduce_segments(&mut self, op: Reduce, x: &Real, offsets: &[usize]) -> Real {
        let _ = (op, x, offsets);
        todo!()
    }
    /// Plain matrix product `[r, k] @ [k, c]`.
    pub fn matmul(&mut self, a: &Real, b: &Real) -> Real {
        let _ = (a, b);
        todo!()
    }
    /// Row-wise matrix product: row i of `a` is an `m x n` matrix, row i of
    /// `b` an `n x p` matrix; row i of the result is their `m x p` product.
    pub fn batched_matmul(&mut self, a: &Real, b: &Real, m: usize, n: usize, p: usize) -> Real {
        let _ = (a, b, m, n, p);
        todo!()
    }
    /// `x W^T + b`: `x [r, in]`, `w [out, in]`, `b [1, out]` to `[r, out]`.
    pub fn affine(&mut self, x: &Real, w: &Real, b: &Real) -> Real {
        let _ = (x, w, b);
        todo!()
    }
    /// Rows of `x` picked by index (repeats allowed): `[idx.len(), c]`.
    pub fn gather_rows(&mut self, x: &Real, idx: &[usize]) -> Real {
        let _ = (x, idx);
        todo!()
    }
    /// Rows stacked: all parts have the same cols. An empty slice is not allowed.
    pub fn concat_rows(&mut self, parts: &[Real]) -> Real {
        let _ = parts;
        todo!()
    }
    /// Columns side by side: all parts have the same rows.
    pub fn concat_cols(&mut self, parts: &[Real]) -> Real {
        let _ = parts;
        todo!()
    }
    /// Columns `start..end`.
    pub fn slice_cols(&mut self, x: &Real, start: usize, end: usize) -> Real {
        let _ = (x, start, end);
        todo!()
    }
    /// Same data, new `[rows, cols]` (row-major; `rows * cols` unchanged).
    pub fn reshape(&mut self, x: &Real, rows: usize, cols: usize) -> Real {
        let _ = (x, rows, cols);
        todo!()
    }
    /// Softmax over each run of `group` consecutive columns.
    pub fn softmax(&mut self, x: &Real, group: usize) -> Real {
        let _ = (x, group);
        todo!()
    }
    /// Log-softmax over each run of `group` consecutive columns.
    pub fn log_softmax(&mut self, x: &Real, group: usize) -> Real {
        let _ = (x, group);
        todo!()
    }
    /// Row i from `a` where `mask[i]`, else from `b`.
    pub fn select_rows(&mut self, mask: &[bool], a: &Real, b: &Real) -> Real {
        let _ = (mask, a, b);
        todo!()
    }
    /// Per-row cross entropy of logits `[r, v]` against class indices: `[r, 1]`.
    pub fn cross_entropy(&mut self, logits: &Real, targets: &[usize]) -> Real {
        let _ = (logits, targets);
        todo!()
    }
    /// Per-row binary cross entropy of logits `[r, 1]` against labels: `[r, 1]`.
    pub fn bce_with_logits(&mut self, logits: &Real, labels: &[bool]) -> Real {
        let _ = (logits, labels);
        todo!()
    }

    /// Backpropagate from the sum of all entries of `loss`, consuming the
    /// tape. Panics in inference mode is NOT allowed: returns empty gradients.
    pub fn backward(&mut self, loss: &Real) -> Gradients {
        let _ = loss;
        todo!()
    }
}

impl Graph {
    /// Placeholder until the backend lands.
    pub fn gaussian(&self, rows: usize, cols: usize, mean: f32, std: f32, seed: u64) -> Real {
        let _ = (rows, cols, mean, std, seed);
        todo!()
    }
    /// Placeholder until the backend lands.
    pub fn uniform(&self, rows: usize, cols: usize, low: f32, high: f32, seed: u64) -> Real {
        let _ = (rows, cols, low, high, seed);
        todo!()
    }
}
