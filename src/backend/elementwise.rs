//! Elementwise ops: unary functions, binary arithmetic, `broadcast_cols`,
//! `affine_scalar` and soft thresholding (one op).
//!
//! `tanh`, `sigmoid`, `exp` and `ln` are custom ops on the vectorised
//! kernels of `vmath` (dfdx's call libm once per element); the other unary
//! functions and `Div` are dfdx kernels (with the same-id guard); `Add`,
//! `Sub` and `Mul` are host loops (custom ops); `Max` is a custom op so that ties send the gradient to
//! the left operand, as the contract says (dfdx splits it half and half).
//! Derivatives at kinks follow dfdx (`relu'(0) = 0`, `abs'(0) = 0`).

use super::tape::on_tape;
use super::vmath;
use super::{Binary, Graph, Real, Unary};

impl Graph {
    pub(super) fn unary_impl(&mut self, op: Unary, x: &Real) -> Real {
        let shape = (x.rows(), x.cols());
        match op {
            Unary::Tanh | Unary::Sigmoid | Unary::Exp | Unary::Log => self.transcendental(op, x),
            Unary::Relu => on_tape!(self, shape, [x], |t| t.relu()),
            Unary::Sqrt => on_tape!(self, shape, [x], |t| t.sqrt()),
            Unary::Abs => on_tape!(self, shape, [x], |t| t.abs()),
            Unary::Neg => on_tape!(self, shape, [x], |t| t.negate()),
            Unary::Square => on_tape!(self, shape, [x], |t| t.square()),
            Unary::Sign | Unary::Sin | Unary::Cos => self.periodic_or_sign(op, x),
        }
    }

    /// `sign`, `sin` and `cos` on the host. Backward: `sign' = 0` (no
    /// gradient), `sin' = cos`, `cos' = -sin`.
    fn periodic_or_sign(&mut self, op: Unary, x: &Real) -> Real {
        let xv = x.values();
        let f = |v: f32| match op {
            Unary::Sign if v > 0.0 => 1.0,
            Unary::Sign if v < 0.0 => -1.0,
            Unary::Sign => 0.0,
            Unary::Sin => v.sin(),
            _ => v.cos(),
        };
        let y = xv.iter().map(|&v| f(v)).collect();
        self.custom(&[x], (x.rows(), x.cols()), y, move |_, g, gi| {
            let d = |v: f32| match op {
                Unary::Sin => v.cos(),
                Unary::Cos => -v.sin(),
                _ => 0.0,
            };
            for ((gi, &g), &v) in gi.iter_mut().zip(g).zip(xv.iter()) {
                *gi += g * d(v);
            }
        })
    }

    /// `y = x^p` per row (`p` one value per row). Backward: `dx = g p
    /// x^(p-1)`; `dp = sum_j g y ln x` over the row's entries with `x > 0`
    /// (the power of a non-positive base has no real derivative in `p`).
    pub(super) fn pow_rows_impl(&mut self, x: &Real, p: &Real) -> Real {
        let (xv, pv) = (x.values(), p.values());
        let cols = x.cols();
        let y: Vec<f32> = xv
            .iter()
            .enumerate()
            .map(|(k, &v)| v.powf(pv[k / cols.max(1)]))
            .collect();
        let kept = y.clone();
        self.custom(&[x, p], (x.rows(), cols), y, move |k, g, gi| {
            for (i, (&v, &g)) in xv.iter().zip(g).enumerate() {
                let row = i / cols.max(1);
                let e = pv[row];
                if k == 0 {
                    gi[i] += g * e * v.powf(e - 1.0);
                } else if v > 0.0 {
                    gi[row] += g * kept[i] * v.ln();
                }
            }
        })
    }

    pub(super) fn binary_impl(&mut self, op: Binary, a: &Real, b: &Real) -> Real {
        match op {
            Binary::Max => return self.extremum(a, b, true),
            Binary::Min => return self.extremum(a, b, false),
            Binary::Add | Binary::Sub | Binary::Mul => return self.arith(op, a, b),
            Binary::Div => {}
        }
        // `Div`: dfdx's kernel.
        let shape = (a.rows(), a.cols());
        let b = self.distinct(b, &[a]);
        let rhs = b.t.clone();
        on_tape!(self, shape, [a, &b], |t| t / rhs)
    }

    /// The identity whose result passes no gradient back: forward `y = x`,
    /// backward `dx += 0`.
    pub(super) fn stop_gradient_impl(&mut self, x: &Real) -> Real {
        let shape = (x.rows(), x.cols());
        self.custom(&[x], shape, x.host(), |_, _, _| {})
    }

    /// `a + b`, `a - b`, `a * b` on the host (one pass each way; dfdx's
    /// strided kernels cost several times more on the small tensors of a
    /// recurrence). `a` and `b` may be the same tensor.
    fn arith(&mut self, op: Binary, a: &Real, b: &Real) -> Real {
        let (av, bv) = (a.values(), b.values());
        let pairs = av.iter().zip(bv.iter());
        let y: Vec<f32> = match op {
            Binary::Add => pairs.map(|(x, y)| x + y).collect(),
            Binary::Sub => pairs.map(|(x, y)| x - y).collect(),
            _ => pairs.map(|(x, y)| x * y).collect(),
        };
        let shape = (a.rows(), a.cols());
        self.custom(&[a, b], shape, y, move |k, g, gi| match (op, k) {
            // d(a + b) = da + db; d(a - b) = da - db
            (Binary::Add, _) | (Binary::Sub, 0) => {
                gi.iter_mut().zip(g).for_each(|(gi, &g)| *gi += g)
            }
            (Binary::Sub, _) => gi.iter_mut().zip(g).for_each(|(gi, &g)| *gi -= g),
            // d(a b) = b da + a db
            (_, 0) => gi
                .iter_mut()
                .zip(g)
                .zip(bv.iter())
                .for_each(|((gi, &g), &b)| *gi += g * b),
            _ => gi
                .iter_mut()
                .zip(g)
                .zip(av.iter())
                .for_each(|((gi, &g), &a)| *gi += g * a),
        })
    }

    /// Soft thresholding, `y = sign x * relu (|x| - t)`, in one pass (`t`
    /// the shape of `x`). Backward, where `|x| - t > 0` (the entry passes):
    /// `dx = g sign(x)^2` (`g`, or 0 at `x = 0`), `dt = -g sign x`; 0
    /// elsewhere (`relu'(0) = 0`, `abs'(0) = 0`, as the separate ops).
    pub(super) fn soft_threshold_impl(&mut self, t: &Real, x: &Real) -> Real {
        let (tv, xv) = (t.values(), x.values());
        let sign = |v: f32| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            }
        };
        // The sign of each entry that passes, 0 for one that does not.
        let pass: Vec<f32> = (xv.iter().zip(tv.iter()))
            .map(|(&x, &t)| if x.abs() - t > 0.0 { sign(x) } else { 0.0 })
            .collect();
        // `sign x * 0` where an entry does not pass: the separate ops' signed zero.
        let y = (xv.iter().zip(tv.iter()))
            .map(|(&x, &t)| sign(x) * (x.abs() - t).max(0.0))
            .collect();
        self.custom(&[t, x], (x.rows(), x.cols()), y, move |k, g, gi| {
            let each = gi.iter_mut().zip(g).zip(&pass);
            match k {
                0 => each.for_each(|((gi, &g), &s)| *gi -= g * s),
                _ => each.for_each(|((gi, &g), &s)| *gi += g * s * s),
            }
        })
    }

    /// `tanh`, `sigmoid`, `exp` or `ln` with `vmath`'s kernels; the backward
    /// from the output `y` (or, for `ln`, the input `x`).
    fn transcendental(&mut self, op: Unary, x: &Real) -> Real {
        let xv = x.host();
        let mut y = vec![0.0; xv.len()];
        let f = match op {
            Unary::Tanh => vmath::tanh,
            Unary::Sigmoid => vmath::sigmoid,
            Unary::Exp => vmath::exp,
            _ => vmath::ln,
        };
        f(&xv, &mut y);
        let kept = if op == Unary::Log { xv } else { y.clone() };
        let shape = (x.rows(), x.cols());
        self.custom(&[x], shape, y, move |_, g, gi| {
            let each = gi.iter_mut().zip(g).zip(&kept);
            match op {
                // tanh' = 1 - tanh^2
                Unary::Tanh => each.for_each(|((gi, &g), &y)| *gi += g * (1.0 - y * y)),
                // sigmoid' = sigmoid (1 - sigmoid)
                Unary::Sigmoid => each.for_each(|((gi, &g), &y)| *gi += g * y * (1.0 - y)),
                // exp' = exp
                Unary::Exp => each.for_each(|((gi, &g), &y)| *gi += g * y),
                // ln' = 1 / x
                _ => each.for_each(|((gi, &g), &x)| *gi += g / x),
            }
        })
    }

    /// Elementwise maximum; the gradient goes to `a` where `a >= b`.
    /// The larger (`max`) or smaller of `a` and `b` per entry; the
    /// gradient goes to the chosen one, to `a` on ties.
    fn extremum(&mut self, a: &Real, b: &Real, max: bool) -> Real {
        let (av, bv) = (a.host(), b.host());
        let left: Vec<bool> = av
            .iter()
            .zip(&bv)
            .map(|(x, y)| if max { x >= y } else { x <= y })
            .collect();
        let data = av
            .iter()
            .zip(&bv)
            .zip(&left)
            .map(|((&x, &y), &l)| if l { x } else { y })
            .collect();
        let shape = (a.rows(), a.cols());
        self.custom(&[a, b], shape, data, move |k, g, gi| {
            let want_left = k == 0;
            for ((gi, &g), &l) in gi.iter_mut().zip(g).zip(&left) {
                if l == want_left {
                    *gi += g;
                }
            }
        })
    }

    pub(super) fn broadcast_cols_impl(&mut self, x: &Real, cols: usize) -> Real {
        let xv = x.host();
        let data = xv
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, cols))
            .collect();
        self.custom(&[x], (x.rows(), cols), data, move |_, g, gi| {
            if cols == 0 {
                return;
            }
            for (gi, row) in gi.iter_mut().zip(g.chunks_exact(cols)) {
                *gi += row.iter().sum::<f32>();
            }
        })
    }

    pub(super) fn affine_scalar_impl(&mut self, x: &Real, s: f32, t: f32) -> Real {
        let data = x.host().into_iter().map(|v| v * s + t).collect();
        self.custom(&[x], (x.rows(), x.cols()), data, move |_, g, gi| {
            for (gi, &g) in gi.iter_mut().zip(g) {
                *gi += g * s;
            }
        })
    }
}
