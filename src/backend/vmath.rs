//! Vectorisable `exp`, `ln`, `tanh` and `sigmoid` over slices of f32.
//!
//! glibc's `tanhf`/`expf` are scalar calls, about 28 % of a recurrent
//! model's training time. These are branch-free (every lane computes the
//! same steps and selects), so the compiler vectorises the loops: with
//! AVX2 and FMA when the CPU has them (chosen at run time), with SSE2
//! otherwise. The approximations are Cephes' single-precision ones (range
//! reduction, then a polynomial), within a few ulp of libm over the whole
//! range; `tests` sweeps them against libm.

/// `e^x`: `x = k ln 2 + r`, `|r| <= ln 2 / 2`, `e^r` by a degree-6
/// polynomial, `2^k` built from its bits in two halves (so results down to
/// the subnormal range and up to infinity come out right).
#[inline(always)]
fn exp1(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    // Round to nearest without a libm call: adding 1.5 * 2^23 drops the fraction.
    const MAGIC: f32 = 12_582_912.0;
    let xc = x.clamp(-104.0, 89.0);
    let kf = xc * LOG2E + MAGIC;
    let k = kf - MAGIC;
    let r = xc - k * C1 - k * C2;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 5.000_000_1e-1;
    let e = p * r * r + r + 1.0;
    // `k` as an integer from the bits of `kf`, whose low mantissa bits
    // hold it (|k| < 2^22; a NaN `x` gives some k, its result is replaced
    // below): `k as i32` is a saturating conversion that does not
    // vectorise (a scalar conversion and two compares per lane).
    let k = (kf.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let k1 = k >> 1;
    let k2 = k - k1;
    let two = |n: i32| f32::from_bits(((n + 127) as u32) << 23);
    let y = e * two(k1) * two(k2);
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// `ln x`: `x = m 2^e` with `m` in `[sqrt(1/2), sqrt(2))`, `ln(1 + f)` by a
/// degree-9 polynomial; 0 gives -inf, negatives NaN, +inf itself.
#[inline(always)]
fn ln1(x: f32) -> f32 {
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let tiny = x < f32::MIN_POSITIVE;
    let xs = if tiny { x * 8_388_608.0 } else { x };
    let bits = xs.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 126 - if tiny { 23 } else { 0 };
    let mut m = f32::from_bits((bits & 0x807f_ffff) | 0x3f00_0000);
    let low = m < SQRT_HALF;
    e -= low as i32;
    m = if low { m + m - 1.0 } else { m - 1.0 };
    let z = m * m;
    let p = ((((((((7.037_683_6e-2 * m - 1.151_461e-1) * m + 1.167_699_9e-1) * m
        - 1.242_014_1e-1)
        * m
        + 1.424_932_3e-1)
        * m
        - 1.666_805_8e-1)
        * m
        + 2.000_071_4e-1)
        * m
        - 2.499_999_4e-1)
        * m
        + 3.333_333e-1)
        * m
        * z;
    let ef = e as f32;
    let y = p - 2.121_944_4e-4 * ef - 0.5 * z + m + 0.693_359_4 * ef;
    if x == 0.0 {
        f32::NEG_INFINITY
    } else if x.is_nan() || x < 0.0 {
        f32::NAN
    } else if x == f32::INFINITY {
        x
    } else {
        y
    }
}

/// `tanh x`: an odd polynomial below 0.625, `1 - 2 / (e^{2|x|} + 1)` above.
#[inline(always)]
fn tanh1(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let small =
        ((((-5.704_988_7e-3 * z + 2.063_908_8e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z
            - 3.333_328_2e-1)
            * z
            * x
            + x;
    let large = 1.0 - 2.0 / (exp1(2.0 * a) + 1.0);
    let large = if x < 0.0 { -large } else { large };
    if a < 0.625 {
        small
    } else {
        large
    }
}

/// The logistic function `1 / (1 + e^{-x})`.
#[inline(always)]
fn sigmoid1(x: f32) -> f32 {
    1.0 / (1.0 + exp1(-x))
}

/// Apply `f` to every element of `xs` into `out`, vectorised: the loop is
/// compiled twice, for AVX2 + FMA and for the baseline, and the first is
/// chosen when the CPU has it.
macro_rules! slice_fn {
    ($name:ident, $one:ident) => {
        pub fn $name(xs: &[f32], out: &mut [f32]) {
            #[inline(always)]
            fn body(xs: &[f32], out: &mut [f32]) {
                for (o, &x) in out.iter_mut().zip(xs) {
                    *o = $one(x);
                }
            }
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2(xs: &[f32], out: &mut [f32]) {
                    body(xs, out)
                }
                if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    unsafe { avx2(xs, out) };
                    return;
                }
            }
            body(xs, out)
        }
    };
}

slice_fn!(exp, exp1);
slice_fn!(ln, ln1);
slice_fn!(tanh, tanh1);
slice_fn!(sigmoid, sigmoid1);

#[cfg(test)]
mod tests {
    /// Distance in units in the last place (same sign; NaN equals NaN).
    fn ulps(a: f32, b: f32) -> u32 {
        if a.is_nan() && b.is_nan() || a == b {
            return 0;
        }
        if a.is_nan() || b.is_nan() || a.is_sign_negative() != b.is_sign_negative() {
            return u32::MAX;
        }
        a.to_bits().abs_diff(b.to_bits())
    }

    /// Inputs across the whole range: a dense linear grid near 0 and a
    /// logarithmic one over every magnitude, both signs, and the specials.
    fn sweep() -> Vec<f32> {
        let mut xs: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 1e-4).collect();
        let mut m = 1e-38f32;
        while m < 3e38 {
            xs.push(m);
            xs.push(-m);
            m *= 1.0007;
        }
        xs.extend([
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1e-45,
            88.72,
            88.73,
        ]);
        xs.extend([-87.3, -103.9, -104.1, 89.5, f32::MIN_POSITIVE, f32::MAX]);
        xs
    }

    /// Each function within `max_ulps` of libm (`reference`) on the sweep;
    /// where libm's result is subnormal, within 1e-45 absolute.
    fn check(name: &str, f: fn(&[f32], &mut [f32]), reference: fn(f32) -> f32, max_ulps: u32) {
        let xs = sweep();
        let mut out = vec![0.0; xs.len()];
        f(&xs, &mut out);
        let mut worst = (0, 0.0f32);
        for (&x, &y) in xs.iter().zip(&out) {
            let want = reference(x);
            let d = if want.abs() < f32::MIN_POSITIVE && (y - want).abs() <= 2e-45 {
                0
            } else {
                ulps(y, want)
            };
            if d > worst.0 {
                worst = (d, x);
            }
        }
        assert!(
            worst.0 <= max_ulps,
            "{name}: {} ulps from libm at x = {:e}",
            worst.0,
            worst.1
        );
    }

    #[test]
    fn exp_is_within_a_few_ulps_of_libm() {
        check("exp", super::exp, f32::exp, 3);
    }

    #[test]
    fn ln_is_within_a_few_ulps_of_libm() {
        check("ln", super::ln, f32::ln, 3);
    }

    #[test]
    fn tanh_is_within_a_few_ulps_of_libm() {
        check("tanh", super::tanh, f32::tanh, 4);
    }

    #[test]
    fn sigmoid_is_within_a_few_ulps_of_libm() {
        check("sigmoid", super::sigmoid, |x| 1.0 / (1.0 + (-x).exp()), 4);
    }
}
