//! Data-movement ops: `gather_rows`, `gather_from`, `gather_cols`,
//! `concat_rows`, `concat_cols`,
//! `slice_cols`, `select_rows`, `reshape`.
//!
//! `gather_rows` is dfdx's `gather` (reads the source in place; its
//! backward scatter-adds, so repeated indices accumulate). The others are
//! one custom op, a [`CopyPlan`]: a list of contiguous runs copied from
//! source tensors into the output. Sources are deduplicated by id, so a
//! part repeated in a concat is one operand whose gradient sums both uses.
//! Forward and backward are linear in the output size plus the number of
//! runs (adjacent runs are merged; the forward sorts them by destination
//! and appends them when they tile the output), however many parts there
//! are.
//! `reshape` records nothing: the result is the same dfdx tensor.

use std::collections::HashMap;

use dfdx::tensor_ops::ReshapeTo;

use super::{Graph, Real};

/// One contiguous run: `len` values from `src` (offset in the source) to
/// `dst` (offset in the output).
#[derive(Clone, Copy, Debug)]
struct Run {
    src: usize,
    dst: usize,
    len: usize,
}

/// An output `[rows, cols]` assembled from runs of source tensors.
struct CopyPlan {
    rows: usize,
    cols: usize,
    sources: Vec<Real>,
    slot_of: HashMap<u64, usize>,
    /// Runs per source, in push order.
    runs: Vec<Vec<Run>>,
}

impl CopyPlan {
    fn new(rows: usize, cols: usize) -> CopyPlan {
        CopyPlan {
            rows,
            cols,
            sources: Vec::new(),
            slot_of: HashMap::new(),
            runs: Vec::new(),
        }
    }

    /// The slot of `x` (one per distinct id).
    fn source(&mut self, x: &Real) -> usize {
        *self.slot_of.entry(x.id).or_insert_with(|| {
            self.sources.push(x.clone());
            self.runs.push(Vec::new());
            self.sources.len() - 1
        })
    }

    /// Copies `len` values at `src` of source `slot` to `dst`.
    fn push(&mut self, slot: usize, src: usize, dst: usize, len: usize) {
        if len == 0 {
            return;
        }
        let runs = &mut self.runs[slot];
        if let Some(last) = runs.last_mut() {
            if last.src + last.len == src && last.dst + last.len == dst {
                last.len += len;
                return;
            }
        }
        runs.push(Run { src, dst, len });
    }

    /// The output's values: appended run by run in output order when the
    /// runs cover it without a gap (a slice, a concat, a gather), else
    /// copied into zeros.
    fn values(&self) -> Vec<f32> {
        let n = self.rows * self.cols;
        let values: Vec<_> = self.sources.iter().map(Real::values).collect();
        let mut order: Vec<(usize, Run)> = (self.runs.iter().enumerate())
            .flat_map(|(slot, runs)| runs.iter().map(move |&r| (slot, r)))
            .collect();
        order.sort_by_key(|(_, r)| r.dst);
        let mut end = 0;
        let tiles = order.iter().all(|(_, r)| {
            let next = r.dst == end;
            end += r.len;
            next
        }) && end == n;
        if tiles {
            let mut data = Vec::with_capacity(n);
            for (slot, r) in order {
                data.extend_from_slice(&values[slot][r.src..r.src + r.len]);
            }
            return data;
        }
        let mut data = vec![0.0; n];
        for (slot, r) in order {
            data[r.dst..r.dst + r.len].copy_from_slice(&values[slot][r.src..r.src + r.len]);
        }
        data
    }

    /// Runs the plan on `g`'s tape.
    fn run(self, g: &mut Graph) -> Real {
        let data = self.values();
        let operands: Vec<&Real> = self.sources.iter().collect();
        let runs = self.runs;
        g.custom(&operands, (self.rows, self.cols), data, move |k, g, gi| {
            for r in &runs[k] {
                let dst = &mut gi[r.src..r.src + r.len];
                for (d, &v) in dst.iter_mut().zip(&g[r.dst..r.dst + r.len]) {
                    *d += v;
                }
            }
        })
    }
}

impl Graph {
    /// Forward: row `r` of the result is row `idx[r]` of `x`. Backward:
    /// `dx[idx[r]] += dy[r]` (a scatter-add; repeated rows sum).
    pub(super) fn gather_rows_impl(&mut self, x: &Real, idx: &[usize]) -> Real {
        let (n, cols) = (idx.len(), x.cols());
        let src = x.values();
        let mut data = Vec::with_capacity(n * cols);
        for &i in idx {
            data.extend_from_slice(&src[i * cols..(i + 1) * cols]);
        }
        let idx = idx.to_vec();
        self.custom(&[x], (n, cols), data, move |_, g, gi| {
            for (r, &i) in idx.iter().enumerate() {
                let dst = &mut gi[i * cols..(i + 1) * cols];
                for (d, &v) in dst.iter_mut().zip(&g[r * cols..(r + 1) * cols]) {
                    *d += v;
                }
            }
        })
    }

    /// Row `k` of the result is row `rows[k].1` of `parts[rows[k].0]`: one
    /// copy plan, whatever the number of parts (backward: each picked
    /// row's gradient added to its source row).
    pub(super) fn gather_from_impl(&mut self, parts: &[Real], rows: &[(usize, usize)]) -> Real {
        self.gather_cols_impl(&[(parts, rows)])
    }

    /// Row `k` of the result is, block after block, row `rows[k].1` of
    /// `parts[rows[k].0]` of that block: the blocks' gathers and their
    /// `concat_cols` as one copy plan (backward: each copied row's gradient
    /// added to its source row; a part in several blocks is one operand).
    pub(super) fn gather_cols_impl(&mut self, blocks: &[(&[Real], &[(usize, usize)])]) -> Real {
        let n = blocks.first().map_or(0, |(_, rows)| rows.len());
        let width: usize = blocks.iter().map(|(parts, _)| parts[0].cols()).sum();
        let mut plan = CopyPlan::new(n, width);
        let mut offset = 0;
        for (parts, rows) in blocks {
            let cols = parts[0].cols();
            let slots: Vec<usize> = parts.iter().map(|p| plan.source(p)).collect();
            for (k, &(p, r)) in rows.iter().enumerate() {
                plan.push(slots[p], r * cols, k * width + offset, cols);
            }
            offset += cols;
        }
        plan.run(self)
    }

    pub(super) fn concat_rows_impl(&mut self, parts: &[Real]) -> Real {
        let cols = parts[0].cols();
        let rows = parts.iter().map(Real::rows).sum();
        let mut plan = CopyPlan::new(rows, cols);
        let mut dst = 0;
        for p in parts {
            let slot = plan.source(p);
            let len = p.rows() * cols;
            plan.push(slot, 0, dst, len);
            dst += len;
        }
        plan.run(self)
    }

    pub(super) fn concat_cols_impl(&mut self, parts: &[Real]) -> Real {
        let rows = parts[0].rows();
        let cols = parts.iter().map(Real::cols).sum();
        let mut plan = CopyPlan::new(rows, cols);
        let slots: Vec<usize> = parts.iter().map(|p| plan.source(p)).collect();
        for i in 0..rows {
            let mut dst = i * cols;
            for (p, &slot) in parts.iter().zip(&slots) {
                plan.push(slot, i * p.cols(), dst, p.cols());
                dst += p.cols();
            }
        }
        plan.run(self)
    }

    /// Row `i` of the result is columns `starts[i]..starts[i] + width` of
    /// row `i` of `x` (a copy plan: backward adds each copied value's
    /// gradient to its source).
    pub(super) fn cols_at_impl(&mut self, x: &Real, starts: &[usize], width: usize) -> Real {
        let rows = x.rows();
        let mut plan = CopyPlan::new(rows, width);
        let slot = plan.source(x);
        for (i, &s) in starts.iter().enumerate() {
            plan.push(slot, i * x.cols() + s, i * width, width);
        }
        plan.run(self)
    }

    /// Column `j` of the result is column `perm[j]` of `x` (a copy plan).
    pub(super) fn permute_cols_impl(&mut self, x: &Real, perm: &[usize]) -> Real {
        let (rows, cols) = (x.rows(), perm.len());
        let mut plan = CopyPlan::new(rows, cols);
        let slot = plan.source(x);
        for i in 0..rows {
            for (j, &p) in perm.iter().enumerate() {
                plan.push(slot, i * x.cols() + p, i * cols + j, 1);
            }
        }
        plan.run(self)
    }

    pub(super) fn slice_cols_impl(&mut self, x: &Real, start: usize, end: usize) -> Real {
        let (rows, width) = (x.rows(), end - start);
        let mut plan = CopyPlan::new(rows, width);
        let slot = plan.source(x);
        for i in 0..rows {
            plan.push(slot, i * x.cols() + start, i * width, width);
        }
        plan.run(self)
    }

    pub(super) fn select_rows_impl(&mut self, mask: &[bool], a: &Real, b: &Real) -> Real {
        let (rows, cols) = (a.rows(), a.cols());
        let mut plan = CopyPlan::new(rows, cols);
        let (sa, sb) = (plan.source(a), plan.source(b));
        for (i, &m) in mask.iter().enumerate() {
            plan.push(if m { sa } else { sb }, i * cols, i * cols, cols);
        }
        plan.run(self)
    }

    pub(super) fn reshape_impl(&mut self, x: &Real, rows: usize, cols: usize) -> Real {
        // `x` is contiguous, so dfdx keeps the data and the id: no op.
        Real {
            t: x.t.clone().reshape_like(&(rows, cols)),
            id: x.id,
            host: x.host.clone(),
        }
    }
}
