//! The threading policy of dp's kernels: the pool they use, how many
//! threads they may use, and which products are worth more than one.
//!
//! dp runs its pipeline on a worker of its own rayon pool (`install`,
//! whose workers have the driver's big stack): a product split there
//! hands its second half to the other worker through rayon's deque,
//! which costs a few microseconds, where a split called from outside the
//! pool waits on a lock for tens of them (measured: a 32 x 160 x 128
//! product takes 27 us on one thread, 19.5 us split from inside the pool,
//! 49 us split from outside). So products from [`PARALLEL_WORK`]
//! multiply-adds are split when running in the pool, from
//! [`PARALLEL_WORK_OUTSIDE`] otherwise; below that they run on the calling
//! thread (`linalg::gemm_acc`). dfdx's own products (`batched_matmul`)
//! follow gemm's threshold, set here too; one thread means none at all.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The work (m x n x k multiply-adds) from which a product is split across
/// the pool's threads when it runs on one of them.
pub const PARALLEL_WORK: usize = 1 << 19;

/// The same from a thread outside the pool.
pub const PARALLEL_WORK_OUTSIDE: usize = 1 << 22;

/// The elements from which an elementwise chain's passes are split across
/// the pool's threads when running on one of them (a chain's pass costs
/// about a nanosecond per element and step, a split microseconds; on the
/// TreeLSTM benchmark 4k to 16k elements measured alike, within noise).
pub const PARALLEL_ELEMENTS: usize = 1 << 13;

/// The same from a thread outside the pool.
pub const PARALLEL_ELEMENTS_OUTSIDE: usize = 1 << 18;

/// The stack of the pool's workers, on which the pipeline runs: 2 GiB of
/// address space (pages are touched only as used), so deeply nested
/// programs and data (which the stages and serde_json's parser traverse
/// recursively: a rose tree 10^6 levels deep is JSON nested 2 * 10^6 deep)
/// do not overflow.
pub const STACK: usize = 2 << 30;

static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();

/// The threads products may use (`--threads`); 0 until configured.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// The number of cores, the default for `--threads`.
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Use at most `threads` threads (at least one). The pool is made once per
/// process, with the first call's count (or the number of cores if
/// `install` comes first); later calls change only how many of its
/// threads products use.
pub fn configure(threads: usize) {
    let threads = threads.max(1);
    pool(threads);
    THREADS.store(threads, Ordering::Relaxed);
    let threshold = if threads == 1 {
        usize::MAX
    } else {
        PARALLEL_WORK
    };
    gemm_common::gemm::set_threading_threshold(threshold);
}

fn pool(threads: usize) -> Option<&'static rayon::ThreadPool> {
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .stack_size(STACK)
            .thread_name(|i| format!("dp-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// Run `f` on a worker of dp's pool (the caller waits); on the calling
/// thread if it is one already, or if the pool could not be made.
pub fn install<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match pool(available()) {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// How many blocks a product of `work` multiply-adds is cut into.
pub(super) fn parts_for(work: usize) -> usize {
    parts_over(work, PARALLEL_WORK, PARALLEL_WORK_OUTSIDE)
}

/// How many pieces an elementwise pass over `elements` values is cut into
/// (`chain.rs`).
pub(super) fn elementwise_parts(elements: usize) -> usize {
    parts_over(elements, PARALLEL_ELEMENTS, PARALLEL_ELEMENTS_OUTSIDE)
}

/// The threads to use for `work`: all configured from `inside` (on a
/// worker of the pool) or `outside` (elsewhere), else one.
fn parts_over(work: usize, inside: usize, outside: usize) -> usize {
    let configured = match THREADS.load(Ordering::Relaxed) {
        0 => available(),
        n => n,
    };
    let threads = rayon::current_num_threads().min(configured);
    let threshold = if rayon::current_thread_index().is_some() {
        inside
    } else {
        outside
    };
    if threads < 2 || work < threshold {
        1
    } else {
        threads
    }
}
