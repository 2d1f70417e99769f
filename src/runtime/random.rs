//! Random draws (LANGUAGE.md 11.1): `normal`, `uniform`, `dropout` and
//! `sample`.
//!
//! Every draw is a function of the run's seed, the epoch, the position of
//! the example it belongs to in its data set, and its place in that
//! example's evaluation: each example keeps a counter of the values drawn
//! for it so far, and a row's values come from a ChaCha8 stream keyed by
//! (seed, epoch, position), read from word `16 x counter` on. A batched
//! run draws for each row exactly what running its example alone draws,
//! since the runtime performs the same operations on an example's rows in
//! the same order whatever else is in the batch; and the same command
//! draws the same values. Values that belong to no example (a constant
//! def evaluated once) use the position `u64::MAX`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Standard, StandardNormal};

use crate::backend::Binary;
use crate::diagnostic::Diagnostic;

use super::builtins::Call;
use super::eval::Eval;
use super::layout::{self, pack};
use super::prims::map_reals;
use super::value::Value;

/// Where a run's draws come from.
#[derive(Clone, Copy, Debug, Default)]
pub struct Draws<'a> {
    pub seed: u64,
    pub epoch: u64,
    /// While training (`dropout` drops).
    pub training: bool,
    /// Each example's position in its data set, by its index in the
    /// batch; where this is shorter, the index itself.
    pub positions: &'a [u64],
}

/// Stream words reserved per value drawn (a normal takes two, rarely more).
const WORDS_PER_VALUE: u128 = 16;

/// The distributions `normal` and `uniform` draw from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dist {
    Normal,
    Uniform,
}

impl Draws<'_> {
    /// The stream of the example at `index` of the batch (`None`: no
    /// example), from its `counter`-th value on.
    fn stream(&self, index: Option<usize>, counter: u64) -> ChaCha8Rng {
        let position = match index {
            Some(i) => self.positions.get(i).copied().unwrap_or(i as u64),
            None => u64::MAX,
        };
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&self.epoch.to_le_bytes());
        key[16..24].copy_from_slice(&position.to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_word_pos(u128::from(counter) * WORDS_PER_VALUE);
        rng
    }
}

/// `cols` values from `dist` for each row of a batch with example indices
/// `origin` (row-major), advancing each example's counter.
pub(crate) fn draw(ev: &mut Eval, origin: &[usize], cols: usize, dist: Dist) -> Vec<f32> {
    let draws = ev.ctx.draws;
    let mut out = Vec::with_capacity(origin.len() * cols);
    for &example in origin {
        let counter = ev.counter(example);
        let index = (example != super::eval::NO_EXAMPLE).then_some(example);
        let mut rng = draws.stream(index, *counter);
        *counter += cols as u64;
        match dist {
            Dist::Normal => out.extend((0..cols).map(|_| rng.sample::<f32, _>(StandardNormal))),
            Dist::Uniform => out.extend((0..cols).map(|_| rng.sample::<f32, _>(Standard))),
        }
    }
    out
}

/// `normal` or `uniform` of the call's representation type.
pub(crate) fn noise(ev: &mut Eval, c: &Call, dist: Dist) -> Result<Value, Diagnostic> {
    let cols = layout::size_of(ev.ctx, c.ty, c.span)?;
    let data = draw(ev, c.origin, cols, dist);
    let x = ev.graph.from_vec(c.origin.len(), cols, data);
    layout::unpack(ev.ctx, ev.graph, &x, c.ty, c.span)
}

/// `dropout p x`: while training, each element of `x` zeroed with
/// probability `p` (the example's own `p`, in [0, 1): checked always) and
/// the others scaled by `1 / (1 - p)`, so the expectation is `x`; the
/// identity (and no draw) otherwise. Backward: the same mask times the gradient; the
/// mask itself carries none.
pub(crate) fn dropout(ev: &mut Eval, c: &Call, p: &Value, x: &Value) -> Result<Value, Diagnostic> {
    let p = pack(ev.graph, p, c.span)?;
    let ps = ev.graph.to_vec(&p);
    if let Some(row) = ps.iter().position(|p| !(0.0..1.0).contains(p)) {
        let message = format!(
            "`dropout` with probability {} (it must be in [0, 1))",
            ps[row]
        );
        return Err(ev.fail(c.span, c.origin, row, message, "this dropout"));
    }
    if !ev.ctx.draws.training {
        return Ok(x.clone());
    }
    let origin = c.origin.clone();
    map_reals(
        x,
        &mut |r| {
            let cols = r.cols();
            let u = draw(ev, &origin, cols, Dist::Uniform);
            let mask: Vec<f32> = u
                .iter()
                .enumerate()
                .map(|(i, &u)| {
                    let p = ps[i / cols.max(1)];
                    if u < p {
                        0.0
                    } else {
                        1.0 / (1.0 - p)
                    }
                })
                .collect();
            let mask = ev.graph.from_vec(r.rows(), cols, mask);
            Ok(ev.graph.binary(Binary::Mul, r, &mask))
        },
        c.span,
    )
}

/// `sample s`: a symbol drawn from `softmax s` for each row (one uniform
/// draw, inverted through the cumulative probabilities); no gradient.
pub(crate) fn sample(ev: &mut Eval, c: &Call, x: &Value) -> Result<Value, Diagnostic> {
    let (scores, cols) = super::builtins::score_rows(ev, c, x, "sample")?;
    let u = draw(ev, c.origin, 1, Dist::Uniform);
    let picked = scores
        .chunks(cols.max(1))
        .zip(&u)
        .map(|(row, &u)| {
            let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let weights: Vec<f64> = row.iter().map(|&s| f64::from(s - top).exp()).collect();
            let total: f64 = weights.iter().sum();
            let target = f64::from(u) * total;
            let mut acc = 0.0;
            for (k, w) in weights.iter().enumerate() {
                acc += w;
                if target < acc {
                    return k as u32;
                }
            }
            // Rounding left the target at the very top: the last symbol
            // with any weight.
            weights.iter().rposition(|&w| w > 0.0).unwrap_or(0) as u32
        })
        .collect();
    Ok(Value::Sym(std::rc::Rc::new(picked)))
}
