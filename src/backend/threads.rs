//! The threading policy of dp's kernels: how many threads they may use,
//! and which products are worth more than one.
//!
//! Products go through `linalg::gemm_acc`: below [`PARALLEL_WORK`]
//! multiply-adds on the calling thread (on a small machine the recurrent
//! cells' products, 32 x 160 by 160 x 128, cost more in hand-off than a
//! second thread gains; measured, see `docs/benchmarks.md`), above it one
//! block of the output per thread. dfdx's own products (`batched_matmul`)
//! follow gemm's threshold, set here too; one thread means none at all.

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
