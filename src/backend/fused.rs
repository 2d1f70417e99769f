//! Fused ops: several ops' work in one forward pass and one backward pass,
//! on gemm directly, with no intermediate tensor on the tape.
//!
//! `addmm_act(c, rows, x, w, act)` is `act(c[rows] + x W^T)`: a recurrent
//! cell's step once its input half is hoisted (`c` holds `W_e e + b` for
//! every element, `rows` the step's). Forward: one gemm accumulating into a
//! copy of those rows, the activation in place by the thread that
//! computed each block of the product (`linalg::gemm_acc_then`). Backward: `dz = g act'(y)`
//! (from the output `y`), then `dc[rows] += dz`, `dx += dz W` and `dW +=
//! dz^T x` (two gemms; the last deferred to one product over all steps
//! inside a loop, `defer.rs`).

use std::cell::RefCell;

use super::linalg::{gemm_acc, gemm_acc_then, Mat};
use super::vmath;
use super::{Graph, Real, Unary};

/// The activations `addmm_act` fuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Identity,
    Tanh,
    Sigmoid,
    Relu,
}

impl Activation {
    pub fn of(u: Unary) -> Option<Activation> {
        match u {
            Unary::Tanh => Some(Activation::Tanh),
            Unary::Sigmoid => Some(Activation::Sigmoid),
            Unary::Relu => Some(Activation::Relu),
            _ => None,
        }
    }

    /// `z = act(z)`, through a small copy for the functions that read
    /// and write separate slices (the same values as out of place).
    pub(super) fn in_place(self, z: &mut [f32]) {
        const RUN: usize = 64;
        let mut from = [0.0; RUN];
        match self {
            Activation::Identity => {}
            Activation::Relu => z.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Tanh | Activation::Sigmoid => {
                for run in z.chunks_mut(RUN) {
                    let from = &mut from[..run.len()];
                    from.copy_from_slice(run);
                    match self {
                        Activation::Tanh => vmath::tanh(from, run),
                        _ => vmath::sigmoid(from, run),
                    }
                }
            }
        }
    }

    /// `g * act'(z)` from `y = act(z)`: tanh' = 1 - y^2, sigmoid' = y (1 -
    /// y), relu' = [y > 0].
    fn backward(self, g: &[f32], y: &[f32]) -> Vec<f32> {
        let mut d = g.to_vec();
        self.backward_in_place(&mut d, y);
        d
    }

    /// [`Activation::backward`] written over `g`.
    pub(super) fn backward_in_place(self, g: &mut [f32], y: &[f32]) {
        let pairs = g.iter_mut().zip(y);
        match self {
            Activation::Identity => {}
            Activation::Tanh => pairs.for_each(|(g, y)| *g *= 1.0 - y * y),
            Activation::Sigmoid => pairs.for_each(|(g, y)| *g = *g * y * (1.0 - y)),
            Activation::Relu => pairs.for_each(|(g, &y)| *g = if y > 0.0 { *g } else { 0.0 }),
        }
    }
}

impl Graph {
    /// `act(c[rows] + x W^T)`: `c` is `[_, out]` (its rows `rows`, or all
    /// of it), `x` `[r, in]`, `w` `[out, in]`. Picking the rows inside the
    /// op saves a recurrence's per-step gather of its precomputed half.
    pub fn addmm_act(
        &mut self,
        c: &Real,
        rows: Option<&[usize]>,
        x: &Real,
        w: &Real,
        act: Activation,
    ) -> Real {
        let (r, inp, out) = (x.rows(), x.cols(), w.rows());
        debug_assert!(c.cols() == out && w.cols() == inp);
        debug_assert!(rows.map_or(c.rows() == r, |rs| rs.len() == r
            && rs.iter().all(|&i| i < c.rows())));
        let (xv, wv) = (x.values(), w.values());
        let rows: Option<Vec<usize>> = rows.map(<[usize]>::to_vec);
        let mut z = match &rows {
            None => c.host(),
            Some(rs) => {
                let cv = c.values();
                let mut z = Vec::with_capacity(r * out);
                for &i in rs {
                    z.extend_from_slice(&cv[i * out..(i + 1) * out]);
                }
                z
            }
        };
        let wt = Mat::new(&wv, out, inp).t();
        // The activation by the thread that computed each block, in place.
        gemm_acc_then(&mut z, Mat::new(&xv, r, inp), wt, &|run| act.in_place(run));
        let (t, y) = self.host_tensor(z, (r, out));
        let kept = y.clone();
        let deferred = self.deferred(w, r);
        let dz: RefCell<Option<Vec<f32>>> = RefCell::new(None);
        self.record(&[c, x, w], t, y, move |k, g, gi| {
            let mut cache = dz.borrow_mut();
            let dz = cache.get_or_insert_with(|| act.backward(g, &kept));
            let dzm = Mat::new(dz, r, out);
            match k {
                0 => match &rows {
                    None => gi.iter_mut().zip(dz.iter()).for_each(|(gi, &d)| *gi += d),
                    Some(rs) => {
                        for (k, &i) in rs.iter().enumerate() {
                            let dst = &mut gi[i * out..(i + 1) * out];
                            let src = &dz[k * out..(k + 1) * out];
                            dst.iter_mut().zip(src).for_each(|(gi, &d)| *gi += d);
                        }
                    }
                },
                1 => gemm_acc(gi, dzm, Mat::new(&wv, out, inp)),
                _ if deferred.is_some() => {
                    if let Some(p) = &deferred {
                        p.borrow_mut().push(dz, &xv);
                    }
                }
                _ => {
                    let dzt = Mat::new(dz, r, out).t();
                    gemm_acc(gi, dzt, Mat::new(&xv, r, inp));
                }
            }
        })
    }
}
