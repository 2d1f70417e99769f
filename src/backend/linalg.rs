//! Matrix products: `matmul`, `matmul_t` and `affine` on gemm directly
//! (one op forward, one backward, the bias seeded into the product), and
//! `batched_matmul` on dfdx's kernels.
//!
//! [`gemm_acc`] is the one entry to gemm: below the threading policy's
//! threshold (`threads.rs`) a product runs on the calling thread; above it
//! the output is cut in halves along its longer side and each half is one
//! single-threaded gemm on its own thread. Measured on this 2-core machine
//! (`docs/benchmarks.md`), that runs the cells' products (a few hundred
//! rows by 300 by 150-750) at 100-123 GFLOP/s where gemm's own rayon
//! split reaches 77-107. The gemm is the `gemm` crate's 0.18 (dfdx keeps
//! its 0.15 for `batched_matmul`): single-threaded, 0.18 runs the cells'
//! products at 76-87 GFLOP/s where 0.15 ran them at 50-55 (1x128x128 to
//! 400x300x450 and their backward forms, measured on this machine).
//!
//! Rank-3 views exist only inside `batched_matmul`.

use dfdx::tensor_ops::{ReshapeTo, TryMatMul};

use super::tape::on_tape;
use super::{Graph, Real};

/// A strided view of a matrix: element `(i, j)` is `data[i * rs + j * cs]`
/// (strides non-negative).
#[derive(Clone, Copy)]
pub(super) struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> Mat<'a> {
    /// A row-major `rows x cols` matrix.
    pub(super) fn new(data: &'a [f32], rows: usize, cols: usize) -> Mat<'a> {
        Mat {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose (a view: no copy).
    pub(super) fn t(self) -> Mat<'a> {
        Mat {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// Rows `r0..r1`.
    fn rows_of(self, r0: usize, r1: usize) -> Mat<'a> {
        Mat {
            data: &self.data[(r0 * self.rs).min(self.data.len())..],
            rows: r1 - r0,
            ..self
        }
    }

    /// Columns `c0..c1`.
    fn cols_of(self, c0: usize, c1: usize) -> Mat<'a> {
        Mat {
            data: &self.data[(c0 * self.cs).min(self.data.len())..],
            cols: c1 - c0,
            ..self
        }
    }

    /// Every element's index lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len()
    }
}

/// The output of a product: `m x n` at `ptr`, row stride `ld`.
#[derive(Clone, Copy)]
struct Dst {
    ptr: *mut f32,
    ld: usize,
}

// SAFETY: the halves a `Dst` is cut into address disjoint elements, and the
// buffer outlives the join that uses them.
unsafe impl Send for Dst {}
unsafe impl Sync for Dst {}

/// `dst (m x n, row-major) += a (m x k) b (k x n)`.
pub(super) fn gemm_acc(dst: &mut [f32], a: Mat, b: Mat) {
    gemm_acc_from(dst, a, b, 1, None)
}

/// An elementwise function applied to a product's output in place, by
/// the thread that computed each block, right after it (on row segments
/// of the block: any cut of the output into runs gives the same result).
pub(super) type Epilogue<'f> = &'f (dyn Fn(&mut [f32]) + Sync);

/// [`gemm_acc`] with `then` applied to the output (an activation: each
/// thread applies it to its own block while it is in cache).
pub(super) fn gemm_acc_then(dst: &mut [f32], a: Mat, b: Mat, then: Epilogue) {
    gemm_acc_from(dst, a, b, 1, Some(then))
}

/// [`gemm_acc`], split between threads only from `scale` times the usual
/// work: for a product whose split costs more than it saves (a deferred
/// weight gradient at batch 1, `defer.rs`); `then` as in
/// [`gemm_acc_then`].
pub(super) fn gemm_acc_from(dst: &mut [f32], a: Mat, b: Mat, scale: usize, then: Option<Epilogue>) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(b.rows == k && dst.len() == m * n && a.in_bounds() && b.in_bounds());
    if m == 0 || n == 0 {
        return;
    }
    let parts = super::threads::parts_for(m * n * k.max(1) / scale.max(1));
    let dst = Dst {
        ptr: dst.as_mut_ptr(),
        ld: n,
    };
    split(dst, a, b, parts, then);
}

/// The smallest side worth a thread of its own.
const MIN_SIDE: usize = 16;

/// Cuts the product into `parts` blocks of the output, halving its longer
/// side, and runs the blocks on rayon's pool; each block's thread applies
/// `then` to it after its product.
fn split(dst: Dst, a: Mat, b: Mat, parts: usize, then: Option<Epilogue>) {
    let (m, n) = (a.rows, b.cols);
    if parts < 2 || m.max(n) < 2 * MIN_SIDE {
        // SAFETY: `dst` addresses `m x n` elements (checked by the caller
        // for the whole, kept by every cut); the operands are in bounds.
        unsafe { block(dst, a, b, then) };
        return;
    }
    let (first, second) = if m >= n {
        let h = m / 2;
        let lower = Dst {
            // SAFETY: row `h` lies inside the `m x n` output.
            ptr: unsafe { dst.ptr.add(h * dst.ld) },
            ..dst
        };
        ((dst, a.rows_of(0, h), b), (lower, a.rows_of(h, m), b))
    } else {
        let h = n / 2;
        let right = Dst {
            // SAFETY: column `h` lies inside the `m x n` output.
            ptr: unsafe { dst.ptr.add(h) },
            ..dst
        };
        ((dst, a, b.cols_of(0, h)), (right, a, b.cols_of(h, n)))
    };
    let half = parts / 2;
    super::threads::join(
        move || split(first.0, first.1, first.2, half, then),
        move || split(second.0, second.1, second.2, parts - half, then),
    );
}

/// One block: its product (when the inner dimension is not empty), then
/// `then` on each of its row segments.
///
/// # Safety
/// As [`kernel`]'s.
unsafe fn block(dst: Dst, a: Mat, b: Mat, then: Option<Epilogue>) {
    if a.cols > 0 {
        // SAFETY: the caller's contract.
        unsafe { kernel(dst, a, b) };
    }
    if let Some(then) = then {
        for i in 0..a.rows {
            // SAFETY: row `i`'s `b.cols` elements of the block lie inside
            // the output, and only this thread touches them.
            let row = unsafe { std::slice::from_raw_parts_mut(dst.ptr.add(i * dst.ld), b.cols) };
            then(row);
        }
    }
}

/// The largest side of a product computed by plain loops (`simd`).
const DOT_SIDE: usize = 4;

/// One single-threaded product accumulating into `dst`; products with a
/// side of at most [`DOT_SIDE`] (a step at batch 1) as plain loops, where
/// gemm spends most of its time packing: as dot products when the inner
/// dimension is contiguous in both operands (`h W^T`, 8 us -> 2 us at
/// 1x160x128), as rows of `b` scaled and added when `b`'s rows are
/// contiguous (`dz W`, and the outer product `dz^T h`); else one gemm.
///
/// # Safety
/// `dst` must address `a.rows x b.cols` writable elements (row stride
/// `dst.ld`) that no other thread touches meanwhile.
unsafe fn kernel(dst: Dst, a: Mat, b: Mat) {
    if a.cs == 1 && b.rs == 1 && a.rows.min(b.cols) <= DOT_SIDE {
        return simd(dst, a, b, Form::Dots);
    }
    if b.cs == 1 && a.rows.min(a.cols) <= DOT_SIDE {
        return simd(dst, a, b, Form::Axpys);
    }
    gemm::gemm(
        a.rows,
        b.cols,
        a.cols,
        dst.ptr,
        1,
        dst.ld as isize,
        true,
        a.data.as_ptr(),
        a.cs as isize,
        a.rs as isize,
        b.data.as_ptr(),
        b.cs as isize,
        b.rs as isize,
        1.0,
        1.0,
        false,
        false,
        false,
        gemm::Parallelism::None,
    );
}

/// The loop forms of small products.
#[derive(Clone, Copy)]
enum Form {
    /// `dst[i][j] += a_i . b_j` (`a.cs == 1`, `b.rs == 1`).
    Dots,
    /// `dst[i] += sum_p a[i][p] b_p` over `b`'s rows (`b.cs == 1`).
    Axpys,
}

/// A small product as loops, with AVX2 and FMA when the CPU has them.
///
/// # Safety
/// As [`kernel`], and the operands' strides as `form` says.
unsafe fn simd(dst: Dst, a: Mat, b: Mat, form: Form) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2(dst: Dst, a: Mat, b: Mat, form: Form) {
            loops::<true>(dst, a, b, form)
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked just above); the
            // caller's guarantees are passed on.
            return unsafe { avx2(dst, a, b, form) };
        }
    }
    loops::<false>(dst, a, b, form)
}

/// `simd`'s loops: dot products four columns at a time (four independent
/// sums share each load of `a`'s row), eight lanes each; or `b`'s rows
/// scaled into each output row.
#[inline(always)]
unsafe fn loops<const FMA: bool>(dst: Dst, a: Mat, b: Mat, form: Form) {
    let (k, n) = (a.cols, b.cols);
    let column = |j: usize| &b.data[j * b.cs..j * b.cs + k];
    for i in 0..a.rows {
        // SAFETY: row `i` of the output lies inside `dst` (the caller's).
        let out = unsafe { std::slice::from_raw_parts_mut(dst.ptr.add(i * dst.ld), n) };
        if let Form::Axpys = form {
            for p in 0..k {
                let s = a.data[i * a.rs + p * a.cs];
                let row = &b.data[p * b.rs..p * b.rs + n];
                out.iter_mut()
                    .zip(row)
                    .for_each(|(o, &v)| *o = madd::<FMA>(s, v, *o));
            }
            continue;
        }
        let x = &a.data[i * a.rs..i * a.rs + k];
        let mut j = 0;
        while j + 4 <= n {
            let sums = dot4::<FMA>(x, [column(j), column(j + 1), column(j + 2), column(j + 3)]);
            out[j..j + 4]
                .iter_mut()
                .zip(sums)
                .for_each(|(o, s)| *o += s);
            j += 4;
        }
        for (j, o) in out.iter_mut().enumerate().skip(j) {
            *o += dot4::<FMA>(x, [column(j); 4])[0];
        }
    }
}

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `x . c[q]` for four vectors as long as `x`.
#[inline(always)]
fn dot4<const FMA: bool>(x: &[f32], c: [&[f32]; 4]) -> [f32; 4] {
    #[cfg(target_arch = "x86_64")]
    if FMA {
        // SAFETY: `FMA` is chosen only where the CPU has AVX2 and FMA.
        return unsafe { dot4_avx2(x, c) };
    }
    dot4_lanes::<FMA>(x, c)
}

/// `dot4` in AVX2 registers: four sums of eight lanes, one load of `x`
/// per step for the four of them.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot4_avx2(x: &[f32], c: [&[f32]; 4]) -> [f32; 4] {
    use std::arch::x86_64::{
        _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };
    let k = x.len();
    assert!(c.iter().all(|c| c.len() >= k));
    let whole = k / 8 * 8;
    let mut acc = [_mm256_setzero_ps(); 4];
    for p in (0..whole).step_by(8) {
        // SAFETY: `p + 8 <= k` and every operand holds `k` values.
        unsafe {
            let xv = _mm256_loadu_ps(x.as_ptr().add(p));
            for (acc, c) in acc.iter_mut().zip(&c) {
                *acc = _mm256_fmadd_ps(xv, _mm256_loadu_ps(c.as_ptr().add(p)), *acc);
            }
        }
    }
    let mut out = [0f32; 4];
    for ((o, acc), c) in out.iter_mut().zip(acc).zip(&c) {
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds eight values.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), acc) };
        let mut s: f32 = lanes.iter().sum();
        for p in whole..k {
            s = x[p].mul_add(c[p], s);
        }
        *o = s;
    }
    out
}

/// `dot4` in plain arrays, for the compiler to vectorise.
#[inline(always)]
fn dot4_lanes<const FMA: bool>(x: &[f32], c: [&[f32]; 4]) -> [f32; 4] {
    let mut acc = [[0f32; 8]; 4];
    let whole = x.len() / 8 * 8;
    for p in (0..whole).step_by(8) {
        let xs = &x[p..p + 8];
        for (acc, c) in acc.iter_mut().zip(&c) {
            let cs = &c[p..p + 8];
            for l in 0..8 {
                acc[l] = madd::<FMA>(xs[l], cs[l], acc[l]);
            }
        }
    }
    let mut out = [0f32; 4];
    for ((o, acc), c) in out.iter_mut().zip(&acc).zip(&c) {
        let mut s: f32 = acc.iter().sum();
        for p in whole..x.len() {
            s = madd::<FMA>(x[p], c[p], s);
        }
        *o = s;
    }
    out
}

/// Column sums of a row-major matrix with `cols` columns, added to `acc`.
fn add_col_sums(acc: &mut [f32], g: &[f32], cols: usize) {
    for row in g.chunks_exact(cols.max(1)) {
        acc.iter_mut().zip(row).for_each(|(a, &g)| *a += g);
    }
}

/// The right operand of a `k`-deep product with `n` output columns:
/// stored `[k, n]`, or `[n, k]` and applied transposed.
fn right(data: &[f32], k: usize, n: usize, transposed: bool) -> Mat<'_> {
    if transposed {
        Mat::new(data, n, k).t()
    } else {
        Mat::new(data, k, n)
    }
}

impl Graph {
    pub(super) fn matmul_impl(&mut self, a: &Real, b: &Real) -> Real {
        self.product(a, b, false, None)
    }

    /// `a b^T`: `[r, k]` times `[m, k]` transposed is `[r, m]`.
    pub(super) fn matmul_t_impl(&mut self, a: &Real, b: &Real) -> Real {
        self.product(a, b, true, None)
    }

    /// `x W^T + b`: the bias is the product's starting value.
    pub(super) fn affine_impl(&mut self, x: &Real, w: &Real, b: &Real) -> Real {
        self.product(x, w, true, Some(b))
    }

    /// `a B + bias` with `B = b^T` when `transposed`, the bias a `[1, n]`
    /// row added to every row. Forward: one gemm into the bias rows.
    /// Backward (`g` the output's gradient): `da += g B^T`; `db += a^T g`
    /// (or `g^T a` for the transposed `b`); `dbias += column sums of g`.
    fn product(&mut self, a: &Real, b: &Real, transposed: bool, bias: Option<&Real>) -> Real {
        let (r, k) = (a.rows(), a.cols());
        let n = if transposed { b.rows() } else { b.cols() };
        let (av, bv) = (a.values(), b.values());
        let mut z = match bias {
            Some(bias) => bias.values().repeat(r),
            None => vec![0.0; r * n],
        };
        gemm_acc(&mut z, Mat::new(&av, r, k), right(&bv, k, n, transposed));
        // A weight `x W^T` of an enclosing loop: its gradient summed over
        // the steps as one product (`defer.rs`).
        let deferred = transposed.then(|| self.deferred(b, r)).flatten();
        let mut operands = vec![a, b];
        operands.extend(bias);
        self.custom(&operands, (r, n), z, move |pos, g, gi| {
            let gm = Mat::new(g, r, n);
            match pos {
                0 => gemm_acc(gi, gm, right(&bv, k, n, transposed).t()),
                1 if deferred.is_some() => {
                    if let Some(p) = &deferred {
                        p.borrow_mut().push(g, &av);
                    }
                }
                1 if transposed => gemm_acc(gi, gm.t(), Mat::new(&av, r, k)),
                1 => gemm_acc(gi, Mat::new(&av, r, k).t(), gm),
                _ => add_col_sums(gi, g, n),
            }
        })
    }

    pub(super) fn batched_matmul_impl(
        &mut self,
        a: &Real,
        b: &Real,
        m: usize,
        n: usize,
        p: usize,
    ) -> Real {
        let r = a.rows();
        let b = self.distinct(b, &[a]);
        let rhs = b.t.clone().reshape_like(&(r, n, p));
        on_tape!(self, (r, m * p), [a, &b], |t| t
            .reshape_like(&(r, m, n))
            .matmul(rhs)
            .reshape_like(&(r, m * p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook product, in f64.
    fn reference(a: Mat, b: Mat) -> Vec<f32> {
        let at = |m: &Mat, i: usize, j: usize| m.data[i * m.rs + j * m.cs] as f64;
        let mut out = Vec::with_capacity(a.rows * b.cols);
        for i in 0..a.rows {
            for j in 0..b.cols {
                let s: f64 = (0..a.cols).map(|p| at(&a, i, p) * at(&b, p, j)).sum();
                out.push(s as f32);
            }
        }
        out
    }

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 7919 + seed * 104729) % 1000) as f32 / 500.0) - 1.0)
            .collect()
    }

    /// Cut into 1, 2 and 3 blocks, along rows and along columns, with
    /// plain and transposed operands (so with gemm and with both loop forms), the
    /// product equals the reference (and accumulates into what `dst` held).
    #[test]
    fn split_products_equal_the_reference() {
        for &(m, k, n) in &[
            (33, 5, 7),
            (7, 9, 40),
            (64, 64, 65),
            (1, 3, 1),
            (100, 1, 33),
            (40, 0, 3),
        ] {
            for &(ta, tb) in &[(false, false), (true, false), (false, true), (true, true)] {
                let (av, bv) = (values(m * k, 1), values(k * n, 2));
                let a = if ta {
                    Mat::new(&av, k, m).t()
                } else {
                    Mat::new(&av, m, k)
                };
                let b = if tb {
                    Mat::new(&bv, n, k).t()
                } else {
                    Mat::new(&bv, k, n)
                };
                let want: Vec<f32> = reference(a, b).iter().map(|v| v + 0.5).collect();
                for parts in 1..=3 {
                    let mut dst = vec![0.5; m * n];
                    let d = Dst {
                        ptr: dst.as_mut_ptr(),
                        ld: n,
                    };
                    split(d, a, b, parts, None);
                    for (x, y) in dst.iter().zip(&want) {
                        assert!((x - y).abs() < 1e-4, "{m}x{k}x{n} {ta} {tb} {parts}");
                    }
                    // With an epilogue: every element once, after its product.
                    let mut then = vec![0.5; m * n];
                    let twice = |row: &mut [f32]| row.iter_mut().for_each(|v| *v = 2.0 * *v + 1.0);
                    let d = Dst {
                        ptr: then.as_mut_ptr(),
                        ld: n,
                    };
                    split(d, a, b, parts, Some(&twice));
                    for (x, y) in then.iter().zip(&want) {
                        assert!((x - (2.0 * y + 1.0)).abs() < 1e-3, "{m}x{k}x{n} then");
                    }
                }
            }
        }
    }
}
