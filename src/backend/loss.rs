//! Per-row losses: `cross_entropy` (logits against class indices) and
//! `bce_with_logits` (one logit against a label).
//!
//! Both are custom ops computed in a numerically stable form, with the
//! closed-form gradients `softmax - onehot` and `sigmoid(z) - y`. They do
//! not reduce over rows: the caller sums or averages.

use super::{Graph, Real};

impl Graph {
    pub(super) fn cross_entropy_impl(&mut self, logits: &Real, targets: &[usize]) -> Real {
        let (rows, v) = (logits.rows(), logits.cols());
        // Becomes the softmax, kept for the backward pass.
        let mut probs = logits.host();
        let mut data = Vec::with_capacity(rows);
        for (row, &t) in probs.chunks_exact_mut(v.max(1)).zip(targets) {
            // ln s - (z_t - m), with m = max z and s = sum exp(z - m):
            // never m + ln s, which loses ln s's digits when |m| is large.
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let s: f32 = row.iter().map(|&z| (z - m).exp()).sum();
            data.push(s.ln() - (row[t] - m));
            row.iter_mut().for_each(|z| *z = (*z - m).exp() / s);
        }
        let targets = targets.to_vec();
        self.custom(&[logits], (rows, 1), data, move |_, g, gi| {
            let rows = gi
                .chunks_exact_mut(v.max(1))
                .zip(probs.chunks_exact(v.max(1)));
            for (((gi, p), &g), &t) in rows.zip(g).zip(&targets) {
                gi.iter_mut().zip(p).for_each(|(gi, &p)| *gi += g * p);
                gi[t] -= g;
            }
        })
    }

    pub(super) fn bce_impl(&mut self, logits: &Real, labels: &[bool]) -> Real {
        let z = logits.host();
        let y: Vec<f32> = labels.iter().map(|&l| if l { 1.0 } else { 0.0 }).collect();
        let data = z
            .iter()
            .zip(&y)
            .map(|(&z, &y)| z.max(0.0) - z * y + (-z.abs()).exp().ln_1p())
            .collect();
        self.custom(&[logits], (logits.rows(), 1), data, move |_, g, gi| {
            for (((gi, &g), &z), &y) in gi.iter_mut().zip(g).zip(&z).zip(&y) {
                *gi += g * (sigmoid(z) - y);
            }
        })
    }
}

/// The logistic function, stable for large `|z|`.
fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}
