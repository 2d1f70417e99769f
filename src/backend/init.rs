//! Seeded random leaf tensors, for parameter initialisation and tests.
//!
//! Deterministic for a given seed (`StdRng::seed_from_u64`), independent of
//! the graph and of any global state. No tape involvement: the results are
//! leaves like [`Graph::from_vec`]'s.

use rand::distributions::{Distribution, Uniform};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::Normal;

use super::{Graph, Real};

impl Graph {
    /// A `[rows, cols]` leaf with entries drawn from N(`mean`, `std`²).
    /// `std` must be finite and non-negative (`std == 0` gives `mean`).
    pub fn gaussian(&self, rows: usize, cols: usize, mean: f32, std: f32, seed: u64) -> Real {
        debug_assert!(std.is_finite() && std >= 0.0, "gaussian: bad std {std}");
        let mut rng = StdRng::seed_from_u64(seed);
        let data = match Normal::new(mean, std.max(0.0)) {
            Ok(d) => (0..rows * cols).map(|_| d.sample(&mut rng)).collect(),
            Err(_) => vec![mean; rows * cols],
        };
        self.leaf(rows, cols, data)
    }

    /// A `[rows, cols]` leaf with entries drawn uniformly from
    /// `[low, high)`. `low <= high` (`low == high` gives `low`).
    pub fn uniform(&self, rows: usize, cols: usize, low: f32, high: f32, seed: u64) -> Real {
        debug_assert!(low <= high, "uniform: low > high");
        let data = if low < high {
            let mut rng = StdRng::seed_from_u64(seed);
            let d = Uniform::new(low, high);
            (0..rows * cols).map(|_| d.sample(&mut rng)).collect()
        } else {
            vec![low; rows * cols]
        };
        self.leaf(rows, cols, data)
    }
}
