//! Random draws (LANGUAGE.md 11.1): `normal` and `uniform`.
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

use crate::diagnostic::Diagnostic;

use super::builtins::Call;
use super::eval::Eval;
use super::layout;
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
