//! The threading policy of dp's kernels: how many threads they may use,
//! and which products are worth more than one.
//!
//! dfdx hands every matrix product to gemm with
//! `Parallelism::Rayon(current_num_threads())`; gemm then splits any
//! product above its threading threshold across rayon's pool. On a small
//! machine the recurrent cells' products (32 x 160 by 160 x 128) cost more
//! in hand-off and in workers spinning for work than they gain, so the
//! threshold is raised to where a second thread pays (measured, see
//! `docs/benchmarks.md`), and one thread means none at all.

use std::sync::Once;

/// The work (m x n x k multiply-adds) from which a product is split across
/// threads. Below it the product runs on the calling thread.
pub const PARALLEL_WORK: usize = 1 << 22;

/// The number of cores, the default for `--threads`.
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Use at most `threads` threads (at least one). The pool is made once per
/// process; later calls change only which products use it.
pub fn configure(threads: usize) {
    static POOL: Once = Once::new();
    let threads = threads.max(1);
    POOL.call_once(|| {
        // Fails only if a pool exists already; then that one is used.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    });
    let threshold = if threads == 1 {
        usize::MAX
    } else {
        PARALLEL_WORK
    };
    gemm_common::gemm::set_threading_threshold(threshold);
}
