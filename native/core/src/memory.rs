//! Large buffers. A fast read spends a large share of its time in the page faults of its
//! fresh buffers (the file's text, the cells): one fault per 4 KiB page. Asking Linux for
//! transparent huge pages makes that one fault per 2 MiB.

/// Ask the OS to back `buf` with huge pages. Call it before the buffer is first written
/// (a zeroed `Vec` from `vec![0; n]` is still untouched: the allocator maps fresh zero pages
/// for large sizes); pages already touched are left as they are. Only advice: contents never
/// change, and where the OS has no such thing (or refuses) nothing happens.
pub(crate) fn advise_huge_pages<T>(buf: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = buf.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(buf);
        // Only whole huge pages inside the buffer: the advice then never reaches memory
        // the buffer does not own.
        let first = start.next_multiple_of(HUGE);
        let last = end - end % HUGE;
        if last > first {
            // SAFETY: [first, last) lies inside `buf`, which this function borrows mutably,
            // so it is mapped memory no one else uses meanwhile; MADV_HUGEPAGE only changes
            // how the kernel backs those pages, never their contents. A failure (THP not
            // built in, or disabled) is harmless and ignored.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}

/// Give the memory the allocator holds free back to the OS. glibc keeps the small blocks a
/// large plan frees (each tile's names, `.prj` text and the start of its text, 2-4 KiB per
/// tile while planning) for reuse, and a write that follows reuses little of it: a plan of
/// ten thousand zipped tiles left 28 MB of such memory held through the whole write. Costs
/// a walk over the heap's free lists (milliseconds); elsewhere than glibc nothing happens.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions: it only takes the allocator's lock and
    // returns whole free pages to the OS (live allocations are never touched), and may be
    // called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
