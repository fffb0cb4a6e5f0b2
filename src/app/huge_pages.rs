//! Transparent huge pages off for the window's process.
//!
//! With THP on (Linux's usual `always` or `madvise` with mimalloc asking for it), the first
//! touch of fresh memory zeroes a whole 2 MiB page inside the page fault. The UI thread
//! touches fresh memory every frame (tessellated meshes, the metrics history filling up, the
//! allocator handing back what it purged between frames): on the spiral set, whose frames
//! each take in 16,384 training events, `perf` put `clear_page_erms` under huge-page faults
//! at 46% of the UI thread's samples, and the slowest frames took 17-21 ms of CPU. With 4 KiB
//! pages the same runs had frame p99 5.6-6.0 ms (`scripts/measure_window_training.sh`).

/// Asks the kernel not to back this process's memory with transparent huge pages from now
/// on. Returns whether it took effect (always false off Linux).
pub fn disable_for_this_process() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
        let status = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        status == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_kernel_reports_huge_pages_off_afterwards() {
        assert!(super::disable_for_this_process());
        // SAFETY: PR_GET_THP_DISABLE takes plain integers and touches no memory of ours.
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1);
    }
}
