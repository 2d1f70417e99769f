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
//!
//! With two threads (this machine's case) a split's second half goes to
//! dp's helper thread instead (`join`), which spins between jobs: rayon's
//! idle worker falls asleep between a recurrence's products and was woken
//! for each, too late to take its half.

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
    let threads = rayon::current_num_threads().min(configured());
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

/// Runs `a` and `b`, `b` on another thread when one is free: with two
/// threads configured, on dp's helper thread (`Helper`), else on rayon's
/// pool.
///
/// Why a helper of our own: a product of a recurrent step at batch 128
/// takes ~50 us, and its two halves ~25 us each. Rayon's idle worker falls
/// asleep between such products, so a `rayon::join` mostly wakes it (a
/// futex call, 12% of the calling thread's time in the profile), finds it
/// still waking when its own half is done, and runs the other half itself:
/// the second core did a quarter of the products' work. The helper spins
/// while work keeps coming (it parks after [`HELPER_IDLE`] without any),
/// so it takes a half within a microsecond.
pub(super) fn join<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce() + Send,
{
    if configured() != 2 {
        rayon::join(a, b);
        return;
    }
    match helper() {
        Some(h) => h.join(a, b),
        None => {
            rayon::join(a, b);
        }
    }
}

/// The threads kernels may use: `--threads`, or the number of cores.
fn configured() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => available(),
        n => n,
    }
}

/// How long the helper spins without work before it parks.
const HELPER_IDLE: std::time::Duration = std::time::Duration::from_millis(2);

/// A job handed to the helper: `call(data)` runs it once; `state` says
/// whether it has finished.
struct Job {
    data: *mut (),
    call: unsafe fn(*mut ()),
    state: std::sync::atomic::AtomicU8,
}

const RUNNING: u8 = 0;
const DONE: u8 = 1;
const PANICKED: u8 = 2;

/// Runs the closure in the `Option<B>` at `data` (once: it is taken).
///
/// # Safety
/// `data` points to a live `Option<B>` that no other thread touches.
unsafe fn call_once<B: FnOnce()>(data: *mut ()) {
    // SAFETY: the caller's guarantee.
    if let Some(b) = unsafe { (*(data as *mut Option<B>)).take() } {
        b()
    }
}

/// The one helper thread: takes a job posted in `job`, runs it, marks it
/// done; spins between jobs and parks when idle.
struct Helper {
    /// The posted job (null when none), taken by swapping it out: whoever
    /// takes the pointer (the helper, or the poster taking it back) owns
    /// the job.
    job: std::sync::atomic::AtomicPtr<Job>,
    parked: std::sync::atomic::AtomicBool,
    thread: std::thread::Thread,
}

fn helper() -> Option<&'static Helper> {
    static HELPER: OnceLock<Option<&'static Helper>> = OnceLock::new();
    *HELPER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<&'static Helper>();
        let spawned = std::thread::Builder::new()
            .name("dp-helper".into())
            .spawn(move || {
                let helper: &'static Helper = Box::leak(Box::new(Helper {
                    job: Default::default(),
                    parked: Default::default(),
                    thread: std::thread::current(),
                }));
                if tx.send(helper).is_ok() {
                    helper.serve();
                }
            });
        spawned.ok().and_then(|_| rx.recv().ok())
    })
}

impl Helper {
    fn serve(&self) {
        let mut idle = std::time::Instant::now();
        let mut spins = 0u32;
        loop {
            let p = self.job.load(Ordering::SeqCst);
            if !p.is_null()
                && self
                    .job
                    .compare_exchange(p, std::ptr::null_mut(), Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            {
                // SAFETY: the poster keeps the job alive until its state is
                // no longer RUNNING, and no one else took the pointer.
                let job = unsafe { &*p };
                let call = job.call;
                let data = job.data;
                // SAFETY: `data` is the poster's `Option<B>`, now ours alone.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
                    call(data)
                }));
                // The last touch of the job: after it, the poster may free it.
                job.state
                    .store(if ran.is_ok() { DONE } else { PANICKED }, Ordering::SeqCst);
                idle = std::time::Instant::now();
                continue;
            }
            // The clock read only every 1,024 spins (it was a tenth of the
            // helper's time when read at every one).
            spins = spins.wrapping_add(1);
            if spins % 1024 != 0 || idle.elapsed() < HELPER_IDLE {
                std::hint::spin_loop();
                continue;
            }
            self.parked.store(true, Ordering::SeqCst);
            if self.job.load(Ordering::SeqCst).is_null() {
                std::thread::park();
            }
            self.parked.store(false, Ordering::SeqCst);
            idle = std::time::Instant::now();
        }
    }

    fn join<A: FnOnce(), B: FnOnce() + Send>(&self, a: A, b: B) {
        let mut slot = Some(b);
        // From here on `slot` is reached only through `data`: by the helper
        // once it has taken the job, else by this thread.
        let data: *mut Option<B> = &mut slot;
        let job = Job {
            data: data as *mut (),
            call: call_once::<B>,
            state: std::sync::atomic::AtomicU8::new(RUNNING),
        };
        let p = &job as *const Job as *mut Job;
        let posted = (self.job)
            .compare_exchange(std::ptr::null_mut(), p, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if posted && self.parked.load(Ordering::SeqCst) {
            self.thread.unpark();
        }
        // `b` must be taken back or finished before this frame unwinds.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(a));
        self.finish(p, posted, &job, data);
        if let Err(panic) = ran {
            std::panic::resume_unwind(panic);
        }
    }

    /// After the poster's own half: runs `b` here if the helper has not
    /// taken it (or it was never posted: another thread's job was
    /// waiting), else waits until the helper has finished it.
    fn finish<B: FnOnce()>(&self, p: *mut Job, posted: bool, job: &Job, data: *mut Option<B>) {
        let taken_back = posted
            && (self.job)
                .compare_exchange(p, std::ptr::null_mut(), Ordering::SeqCst, Ordering::SeqCst)
                .is_ok();
        if !posted || taken_back {
            // SAFETY: the helper never took the job, so `data` is ours.
            unsafe { call_once::<B>(data as *mut ()) };
            return;
        }
        loop {
            match job.state.load(Ordering::SeqCst) {
                RUNNING => std::hint::spin_loop(),
                DONE => return,
                _ => panic!("a kernel's half panicked on dp's helper thread"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::helper;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Each half of a join fills its own half of a buffer; many joins in a
    /// row (the helper spinning), and from several threads at once (a
    /// posted job makes the others run both halves themselves).
    #[test]
    fn helper_joins_run_both_halves() {
        let h = helper().expect("the helper thread starts");
        let run = |seed: usize| {
            for round in 0..300 {
                let mut buf = vec![0usize; 64];
                let (x, y) = buf.split_at_mut(32);
                h.join(
                    || x.iter_mut().for_each(|v| *v = round + seed),
                    || y.iter_mut().for_each(|v| *v = round * 2 + seed),
                );
                assert!(buf[..32].iter().all(|&v| v == round + seed));
                assert!(buf[32..].iter().all(|&v| v == round * 2 + seed));
            }
        };
        run(0);
        std::thread::scope(|s| {
            for seed in 1..4 {
                s.spawn(move || run(seed));
            }
        });
    }

    /// A panic in either half reaches the caller after both halves are
    /// over, and the helper serves the next join.
    #[test]
    fn helper_join_passes_panics_on() {
        let h = helper().expect("the helper thread starts");
        let ran = AtomicUsize::new(0);
        let second = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            h.join(
                || std::thread::sleep(std::time::Duration::from_millis(1)),
                || panic!("b"),
            )
        }));
        assert!(second.is_err());
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            h.join(
                || panic!("a"),
                || {
                    ran.fetch_add(1, Ordering::SeqCst);
                },
            )
        }));
        assert!(first.is_err());
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        let mut both = (0, 0);
        h.join(
            || both.0 = 1,
            || {
                ran.fetch_add(1, Ordering::SeqCst);
            },
        );
        both.1 = ran.load(Ordering::SeqCst);
        assert_eq!(both, (1, 2));
    }
}
