//! The tape plumbing every op is built on.
//!
//! - [`on_tape!`] runs a dfdx expression with the graph's tape on its first
//!   operand (training) or with no tape (inference), then stores the tape
//!   back: one dfdx op per call site, a few lines each.
//! - [`Graph::custom`] records an op whose forward the caller computed on
//!   the host and whose backward is a closure accumulating into each
//!   operand's gradient. Operands may repeat (the same tensor twice).
//! - [`Graph::distinct`] gives an operand a fresh id on the tape when it
//!   shares its id with another operand of the same dfdx op (dfdx's
//!   gradient bookkeeping panics on that).
//! - Leaf creation, id bookkeeping and `backward`.
//!
//! This file defines no user-visible op.

use std::sync::atomic::{AtomicU64, Ordering};

use dfdx::shapes::Rank0;
use dfdx::tensor::{OwnedTape, PutTape, Tape, TensorFromVec};
use dfdx::tensor_ops::{Backward, SumTo};

use std::sync::Arc;

use super::{Gradients, Graph, Real, T2};

/// A new value id, never shared with an existing [`Real`].
pub(super) fn fresh_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A tensor's values on the host, shared by every reader: read in place
/// from the storage of a tensor whose data the backend made on the host
/// (a custom op's output, a leaf), or copied out once (a dfdx kernel's
/// output).
#[derive(Clone)]
pub(crate) struct Values(Arc<Held>);

enum Held {
    Copied(Box<[f32]>),
    /// `len` values at `ptr`, the heap buffer of `_storage`'s data (held
    /// only to keep it alive).
    InPlace {
        _storage: T2,
        ptr: *const f32,
        len: usize,
    },
}

// SAFETY: `InPlace` reads the buffer of a tensor it holds a clone of, so
// the buffer lives as long as the `Values`; dfdx mutates a tensor's data
// only through `Arc::make_mut`, which copies while the data is shared (as
// it is, by that clone), so the buffer never changes. Reading it from
// several threads at once is reading shared memory.
unsafe impl Send for Values {}
// SAFETY: as for `Send`: the buffer is immutable while the value exists.
unsafe impl Sync for Values {}

impl std::ops::Deref for Values {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        match &*self.0 {
            Held::Copied(v) => v,
            // SAFETY: `ptr` and `len` are those of `_storage`'s buffer (see
            // `Graph::host_tensor`), kept alive and unchanged by `_storage`.
            Held::InPlace { ptr, len, .. } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
        }
    }
}

impl Values {
    /// Read in place from a tensor's buffer (not a copy)?
    #[cfg(test)]
    pub(crate) fn is_in_place(&self) -> bool {
        matches!(*self.0, Held::InPlace { .. })
    }
}

impl From<Vec<f32>> for Values {
    fn from(v: Vec<f32>) -> Values {
        Values(Arc::new(Held::Copied(v.into())))
    }
}

impl From<&[f32]> for Values {
    fn from(v: &[f32]) -> Values {
        Values(Arc::new(Held::Copied(v.into())))
    }
}

impl Graph {
    /// A tensor of `data` (`[rows, cols]`) and its host values, read in
    /// place from the tensor's buffer: no copy.
    pub(super) fn host_tensor(&self, data: Vec<f32>, shape: (usize, usize)) -> (T2, Values) {
        let (ptr, len) = (data.as_ptr(), data.len());
        // dfdx keeps the vector as the tensor's data (moved, not copied:
        // its heap buffer stays where it is).
        let t = self.dev.tensor_from_vec(data, shape);
        let values = Values(Arc::new(Held::InPlace {
            _storage: t.clone(),
            ptr,
            len,
        }));
        (t, values)
    }
}

impl Real {
    /// Wraps a freshly produced (new dfdx id) contiguous tensor.
    pub(super) fn fresh(t: T2) -> Real {
        Real {
            t,
            id: fresh_id(),
            host: Default::default(),
        }
    }

    /// The values, row-major, shared: for ops that read a few rows of a
    /// large tensor many times (the gathers of a recurrence), which must
    /// not copy all of it each time. A tensor made on the host is read in
    /// place; another is copied out once.
    pub(super) fn values(&self) -> Values {
        let copy = || {
            let mut values = vec![0.0; self.rows() * self.cols()];
            // dfdx's iterators index out of bounds on empty tensors.
            if !values.is_empty() {
                self.t.copy_into(&mut values);
            }
            Values::from(values)
        };
        self.host.get_or_init(copy).clone()
    }
    /// The values, row-major: a copy of the host values when there are
    /// some, else of the tensor (one memcpy, since it is contiguous).
    pub(super) fn host(&self) -> Vec<f32> {
        if let Some(values) = self.host.get() {
            return values.to_vec();
        }
        let mut values = vec![0.0; self.rows() * self.cols()];
        // dfdx's iterators index out of bounds on empty tensors.
        if !values.is_empty() {
            self.t.copy_into(&mut values);
        }
        values
    }

    /// A fresh value whose host values are `data` (`t`'s), kept from the
    /// start: the op that computed it on the host has them.
    pub(super) fn with_host(t: T2, data: Values) -> Real {
        let x = Real::fresh(t);
        // A fresh cell: the set cannot fail.
        let _ = x.host.set(data);
        x
    }
}

/// Runs one dfdx expression on the graph's tape.
///
/// `on_tape!(graph, shape, [x, y, ..], |t| expr)`: `shape` is the result's
/// `[rows, cols]`; `x` is the operand that carries the tape. In training
/// mode `t` is a clone of `x`'s tensor with the tape, in inference mode a
/// tape-free clone; `expr` must produce a `(usize, usize)` tensor with the
/// same tape type, whose tape is stored back. The other operands `y, ..`
/// go into `expr` tape-free (dfdx still records their gradients) and are
/// listed so that they count as used. The result is made contiguous and
/// gets a fresh id. An empty result skips dfdx entirely (its strided
/// iterators index out of bounds on empty tensors): the operands get zero
/// gradients.
macro_rules! on_tape {
    ($g:expr, $shape:expr, [$x:expr $(, $y:expr)*], |$t:ident| $body:expr) => {{
        #[allow(unused_imports)]
        use dfdx::tensor::{PutTape as _, SplitTape as _};
        #[allow(unused_imports)]
        use dfdx::tensor_ops::ReshapeTo as _;
        let g: &mut $crate::backend::Graph = $g;
        let x: &$crate::backend::Real = $x;
        let shape: (usize, usize) = $shape;
        if shape.0 * shape.1 == 0 {
            g.custom(&[x $(, $y)*], shape, Vec::new(), |_, _, _| {})
        } else {
            g.touch(&[x $(, $y)*]);
            match g.tape.take() {
                Some(tape) => {
                    let $t = x.t.clone().put_tape(tape);
                    let (out, tape) = ($body).contiguous().split_tape();
                    g.tape = Some(tape);
                    $crate::backend::Real::fresh(out)
                }
                None => {
                    let $t = x.t.clone();
                    $crate::backend::Real::fresh(($body).contiguous())
                }
            }
        }
    }};
}
pub(super) use on_tape;

impl Graph {
    /// A tape-free leaf tensor (a parameter, an input, a constant).
    pub(super) fn leaf(&self, rows: usize, cols: usize, data: Vec<f32>) -> Real {
        let (t, values) = self.host_tensor(data, (rows, cols));
        Real::with_host(t, values)
    }

    /// Notes that `xs` are operands of an op recorded on the tape.
    pub(super) fn touch(&mut self, xs: &[&Real]) {
        if self.training {
            self.used.extend(xs.iter().map(|x| x.id));
        }
    }

    /// `x`, or a copy of it with a fresh id (recorded on the tape) when it
    /// shares its id with one of `others` in training mode.
    pub(super) fn distinct(&mut self, x: &Real, others: &[&Real]) -> Real {
        if self.tape.is_some() && others.iter().any(|o| o.id == x.id) {
            self.affine_scalar_impl(x, 1.0, 0.0)
        } else {
            x.clone()
        }
    }

    /// Records a custom op. `data` is the forward result `[rows, cols]`
    /// computed by the caller from `operands`. In training mode,
    /// `backward(k, grad_out, grad_k)` is called once per operand position
    /// `k` during the backward pass and must add the operand's gradient
    /// contribution into `grad_k` (an operand repeated at several positions
    /// receives the sum). In inference mode `backward` is dropped.
    pub(super) fn custom<F>(
        &mut self,
        operands: &[&Real],
        shape: (usize, usize),
        data: Vec<f32>,
        backward: F,
    ) -> Real
    where
        F: Fn(usize, &[f32], &mut [f32]) + 'static,
    {
        debug_assert_eq!(data.len(), shape.0 * shape.1);
        let (out, host) = self.host_tensor(data, shape);
        self.record(operands, out, host, backward)
    }

    /// [`Graph::custom`] for an output tensor made by [`Graph::host_tensor`]
    /// (a backward that reads the output keeps a clone of `host`).
    pub(super) fn record<F>(
        &mut self,
        operands: &[&Real],
        out: T2,
        host: Values,
        backward: F,
    ) -> Real
    where
        F: Fn(usize, &[f32], &mut [f32]) + 'static,
    {
        self.touch(operands);
        if let Some(tape) = self.tape.as_mut() {
            let ghosts: Vec<_> = operands.iter().map(|x| x.t.ghost()).collect();
            let out_ghost = out.ghost();
            tape.add_backward_op(move |grads| {
                // Taken out (and left empty): every consumer of the output
                // has already run, so its gradient is final and not needed
                // after this op.
                let grad_out = std::mem::take::<Vec<f32>>(grads.get_or_alloc_mut(&out_ghost)?);
                for (k, ghost) in ghosts.iter().enumerate() {
                    backward(k, &grad_out, grads.get_or_alloc_mut(ghost)?);
                }
                Ok(())
            });
        }
        Real::with_host(out, host)
    }

    pub(super) fn backward_impl(&mut self, loss: &Real) -> Gradients {
        if self.tape.is_none() {
            return Gradients {
                grads: None,
                used: Default::default(),
            };
        }
        // Sum into a [1, 1] tensor on the host first: dfdx's own sum
        // iterates out of bounds on an empty loss.
        let sum = loss.host().iter().sum::<f32>();
        let total = self.custom(&[loss], (1, 1), vec![sum], |_, g, gi| {
            gi.iter_mut().for_each(|v| *v += g[0]);
        });
        let used = std::mem::take(&mut self.used);
        let tape = self.tape.replace(OwnedTape::default()).unwrap_or_default();
        let grads = total.t.put_tape(tape).sum::<Rank0, _>().backward();
        Gradients {
            grads: Some(std::cell::RefCell::new(grads)),
            used,
        }
    }
}
