//! Reductions and normalisations over groups: `reduce_cols` (runs of
//! columns), `reduce_segments` (runs of rows) and `softmax`/`log_softmax`
//! (runs of columns).
//!
//! All are custom ops, one pass forward and one backward. `Max` sends the
//! gradient to the first maximal entry of each group; an empty group (only
//! possible for segments) yields 0 and receives no gradient.

use super::{Graph, Real, Reduce};

/// Index (within the slice) of the first maximal value; `None` if empty.
fn argmax(values: impl Iterator<Item = f32>) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, v) in values.enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// Reduces rows `lo..hi` of `xv` (`c` columns, row-major) into `out`
/// (zeros on entry), row by row. For `Max`, `win` receives each column's
/// winning row (first maximum); an empty segment leaves zeros.
fn reduce_segment(
    op: Reduce,
    xv: &[f32],
    c: usize,
    (lo, hi): (usize, usize),
    out: &mut [f32],
    win: &mut [usize],
) {
    for i in lo..hi {
        let row = &xv[i * c..(i + 1) * c];
        if op != Reduce::Max {
            out.iter_mut().zip(row).for_each(|(o, &v)| *o += v);
            continue;
        }
        for (j, &v) in row.iter().enumerate() {
            if i == lo || v > out[j] {
                out[j] = v;
                win[j] = i;
            }
        }
    }
    if op == Reduce::Mean && hi > lo {
        let scale = 1.0 / (hi - lo) as f32;
        out.iter_mut().for_each(|o| *o *= scale);
    }
}

impl Graph {
    pub(super) fn reduce_cols_impl(&mut self, op: Reduce, x: &Real, group: usize) -> Real {
        let (rows, cols) = (x.rows(), x.cols());
        let out_cols = cols / group;
        let xv = x.host();
        let groups = xv.chunks_exact(group);
        // For `Max`, the flat input index of each group's winner.
        let mut winners = Vec::new();
        let data: Vec<f32> = match op {
            Reduce::Sum => groups.map(|c| c.iter().sum()).collect(),
            Reduce::Mean => groups
                .map(|c| c.iter().sum::<f32>() / group as f32)
                .collect(),
            Reduce::Max => groups
                .enumerate()
                .map(|(k, c)| {
                    let i = argmax(c.iter().copied()).unwrap_or(0);
                    winners.push(k * group + i);
                    c[i]
                })
                .collect(),
        };
        let scale = if op == Reduce::Mean {
            1.0 / group as f32
        } else {
            1.0
        };
        self.custom(&[x], (rows, out_cols), data, move |_, g, gi| {
            if op == Reduce::Max {
                for (&w, &g) in winners.iter().zip(g) {
                    gi[w] += g;
                }
                return;
            }
            for (chunk, &g) in gi.chunks_exact_mut(group).zip(g) {
                chunk.iter_mut().for_each(|v| *v += g * scale);
            }
        })
    }

    pub(super) fn reduce_segments_impl(&mut self, op: Reduce, x: &Real, offsets: &[usize]) -> Real {
        let c = x.cols();
        let segs = offsets.len().saturating_sub(1);
        let xv = x.host();
        let mut data = vec![0.0; segs * c];
        // For `Max`, the input row of each output entry's winner.
        let mut winners = vec![usize::MAX; if op == Reduce::Max { segs * c } else { 0 }];
        for (s, w) in offsets.windows(2).enumerate() {
            let out = &mut data[s * c..(s + 1) * c];
            let win = winners.get_mut(s * c..(s + 1) * c).unwrap_or_default();
            reduce_segment(op, &xv, c, (w[0], w[1]), out, win);
        }
        let offsets = offsets.to_vec();
        self.custom(&[x], (segs, c), data, move |_, g, gi| {
            if op == Reduce::Max {
                for (e, (&row, &g)) in winners.iter().zip(g).enumerate() {
                    if row != usize::MAX {
                        gi[row * c + e % c] += g;
                    }
                }
                return;
            }
            for (s, w) in offsets.windows(2).enumerate() {
                let (lo, hi) = (w[0], w[1]);
                let scale = if op == Reduce::Mean {
                    1.0 / (hi - lo).max(1) as f32
                } else {
                    1.0
                };
                let gs = &g[s * c..(s + 1) * c];
                for row in gi[lo * c..hi * c].chunks_exact_mut(c.max(1)) {
                    row.iter_mut().zip(gs).for_each(|(v, &g)| *v += g * scale);
                }
            }
        })
    }

    /// The Euclidean norm of each row: `[r, c]` to `[r, 1]`.
    pub(super) fn norm_rows_impl(&mut self, x: &Real) -> Real {
        let c = x.cols().max(1);
        let xv = x.host();
        let norms: Vec<f32> = xv
            .chunks_exact(c)
            .map(|row| row.iter().map(|v| v * v).sum::<f32>().sqrt())
            .collect();
        let out = norms.clone();
        self.custom(&[x], (x.rows(), 1), out, move |_, g, gi| {
            // d||x||/dx = x / ||x||; at the zero vector, where no gradient
            // exists, the subgradient 0 (as PyTorch's `norm`), not NaN.
            let rows = xv.chunks_exact(c).zip(gi.chunks_exact_mut(c));
            for ((row, gis), (&n, &g)) in rows.zip(norms.iter().zip(g)) {
                if n > 0.0 {
                    gis.iter_mut()
                        .zip(row)
                        .for_each(|(gi, &v)| *gi += g * v / n);
                }
            }
        })
    }

    /// Softmax (or log-softmax) over runs of `group` columns.
    pub(super) fn softmax_impl(&mut self, x: &Real, group: usize, log: bool) -> Real {
        let mut y = x.host();
        for chunk in y.chunks_exact_mut(group) {
            // Stable at any scale: with m = max z and s = sum exp(z - m),
            // softmax = exp(z - m) / s and log_softmax = (z - m) - ln s.
            // (Forming m + ln s first loses ln s's digits when |m| is large.)
            let m = chunk.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let s: f32 = chunk.iter().map(|&v| (v - m).exp()).sum();
            let ln_s = s.ln();
            for v in chunk.iter_mut() {
                *v = if log {
                    (*v - m) - ln_s
                } else {
                    (*v - m).exp() / s
                };
            }
        }
        let out = y.clone();
        self.custom(&[x], (x.rows(), x.cols()), out, move |_, g, gi| {
            let groups = y.chunks_exact(group).zip(g.chunks_exact(group));
            for ((ys, gs), gis) in groups.zip(gi.chunks_exact_mut(group)) {
                if log {
                    // d/dx of log_softmax: g - softmax * sum(g).
                    let total: f32 = gs.iter().sum();
                    for ((gi, &g), &y) in gis.iter_mut().zip(gs).zip(ys) {
                        *gi += g - y.exp() * total;
                    }
                } else {
                    // d/dx of softmax: y * (g - sum(g * y)).
                    let dot: f32 = gs.iter().zip(ys).map(|(g, y)| g * y).sum();
                    for ((gi, &g), &y) in gis.iter_mut().zip(gs).zip(ys) {
                        *gi += y * (g - dot);
                    }
                }
            }
        })
    }
}
