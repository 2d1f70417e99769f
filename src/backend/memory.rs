//! The process's allocator settings for the backend's buffers.
//!
//! Every op allocates its output and every backward pass its gradients:
//! per recurrence step, buffers of tens to hundreds of KB are allocated and
//! freed. With glibc's defaults a freed block at the top of the heap above
//! 128 KB is given back to the kernel (and a block above the adaptive mmap
//! threshold is mapped on its own), so the next step's allocation faults
//! its pages in again: 279,000 page faults in one epoch of the benchmark's
//! RNN at batch 96 with hoisting, against 6,000 at batch 64, and 20 % of
//! its time. [`keep_freed_memory`] raises both thresholds so freed buffers
//! are reused from the heap. It changes a process-wide setting, so the
//! binary calls it once at start; the library never does on its own.

/// Blocks up to this size come from the heap (and are reused), not from
/// their own mapping.
const MMAP_THRESHOLD: i32 = 64 << 20;
/// Free memory at the top of the heap kept for reuse before any is
/// returned to the kernel.
const TRIM_THRESHOLD: i32 = 256 << 20;

/// Keep freed buffers in the process for reuse (glibc; elsewhere nothing).
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets allocator parameters; it is called once,
    // at start, before any thread that allocates is spawned.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
