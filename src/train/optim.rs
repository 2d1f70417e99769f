//! Optimizers (Adam, SGD) applied per tensor on host-side data.
//!
//! dfdx's optimizers need a parameter set whose size is known at compile
//! time; a dp program's parameters are known only at run time, so the
//! update is done here on plain slices (DESIGN.md, "dfdx 0.13 notes").
//! This module knows nothing of tensors or programs: slots are indices.

/// Which update rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerKind {
    Adam,
    Sgd,
}

impl OptimizerKind {
    /// The names `--optimizer` takes and weights files record.
    pub const NAMES: [&'static str; 2] = ["adam", "sgd"];

    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Adam => "adam",
            OptimizerKind::Sgd => "sgd",
        }
    }

    /// The default learning rate: 1e-3 for Adam, 0.1 for SGD.
    pub fn default_lr(self) -> f32 {
        match self {
            OptimizerKind::Adam => 1e-3,
            OptimizerKind::Sgd => 0.1,
        }
    }
}

impl std::str::FromStr for OptimizerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "adam" => Ok(OptimizerKind::Adam),
            "sgd" => Ok(OptimizerKind::Sgd),
            _ => Err(format!("unknown optimizer `{s}` (adam or sgd)")),
        }
    }
}

/// Optimizer state for a fixed list of tensor slots.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub lr: f32,
    /// Steps taken (Adam's bias correction).
    pub step: u64,
    /// Adam's first and second moments per slot (empty for SGD).
    pub m: Vec<Vec<f32>>,
    pub v: Vec<Vec<f32>>,
}

pub const BETA1: f32 = 0.9;
pub const BETA2: f32 = 0.999;
pub const EPSILON: f32 = 1e-8;

impl Optimizer {
    pub fn new(kind: OptimizerKind, lr: f32, sizes: &[usize]) -> Optimizer {
        let zeros = || sizes.iter().map(|&n| vec![0.0; n]).collect();
        let (m, v) = match kind {
            OptimizerKind::Adam => (zeros(), zeros()),
            OptimizerKind::Sgd => (Vec::new(), Vec::new()),
        };
        Optimizer {
            kind,
            lr,
            step: 0,
            m,
            v,
        }
    }

    /// Start a step (call once per minibatch, before the slot updates).
    pub fn begin_step(&mut self) {
        self.step += 1;
    }

    /// Update one slot's parameters in place from its gradient.
    pub fn update(&mut self, slot: usize, params: &mut [f32], grad: &[f32]) {
        match self.kind {
            OptimizerKind::Sgd => {
                for (p, g) in params.iter_mut().zip(grad) {
                    *p -= self.lr * g;
                }
            }
            OptimizerKind::Adam => {
                let (Some(m), Some(v)) = (self.m.get_mut(slot), self.v.get_mut(slot)) else {
                    return;
                };
                let t = self.step.max(1) as i32;
                // Bias corrections folded into one step size and one scale.
                let step = AdamStep {
                    size: self.lr / (1.0 - BETA1.powi(t)),
                    v_scale: 1.0 / (1.0 - BETA2.powi(t)).sqrt(),
                };
                step.run(params, grad, m, v);
            }
        }
    }
}

/// One Adam step over a slot: `m = b1 m + (1 - b1) g`, `v = b2 v + (1 -
/// b2) g^2`, `p -= size m / (sqrt(v) v_scale + eps)`.
#[derive(Clone, Copy)]
struct AdamStep {
    size: f32,
    v_scale: f32,
}

impl AdamStep {
    /// With AVX2 when the CPU has it: eight lanes instead of four, the
    /// same results bit for bit (no operation is contracted or
    /// approximated; the square root and the division are exact).
    fn run(self, params: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(s: AdamStep, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
                s.body(p, g, m, v)
            }
            if is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                return unsafe { avx2(self, params, grad, m, v) };
            }
        }
        self.body(params, grad, m, v)
    }

    #[inline(always)]
    fn body(self, params: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
        let entries = params
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut().zip(v.iter_mut()));
        for ((p, &g), (m, v)) in entries {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            *p -= self.size * *m / (v.sqrt() * self.v_scale + EPSILON);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_step_is_lr_times_gradient() {
        let mut o = Optimizer::new(OptimizerKind::Sgd, 0.1, &[2]);
        let mut p = vec![1.0, -2.0];
        o.begin_step();
        o.update(0, &mut p, &[0.5, -1.0]);
        assert_eq!(p, vec![0.95, -1.9]);
    }

    #[test]
    fn adam_first_steps_match_hand_computation() {
        // Step 1: m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2, so the
        // step is lr * g / (|g| + eps) = lr * sign(g).
        let mut o = Optimizer::new(OptimizerKind::Adam, 0.01, &[2]);
        let mut p = vec![1.0, 1.0];
        o.begin_step();
        o.update(0, &mut p, &[0.5, -2.0]);
        assert!(
            (p[0] - 0.99).abs() < 1e-6 && (p[1] - 1.01).abs() < 1e-6,
            "{p:?}"
        );
        // Step 2 with gradient 0.25 for the first entry:
        // m = 0.9*0.05 + 0.1*0.25 = 0.07, v = 0.999*0.00025 + 0.001*0.0625 = 0.00031225
        // m_hat = 0.07/0.19, v_hat = 0.00031225/0.001999
        o.begin_step();
        o.update(0, &mut p, &[0.25, 0.0]);
        let m_hat = 0.07f32 / (1.0 - 0.81);
        let v_hat = 0.000_312_25f32 / (1.0 - 0.998_001);
        let expected = 0.99 - 0.01 * m_hat / (v_hat.sqrt() + EPSILON);
        assert!((p[0] - expected).abs() < 1e-6, "{} vs {expected}", p[0]);
    }
}
