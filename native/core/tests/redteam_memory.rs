//! Issue #10, finding 1: an error near the end of a large file was located by reading the
//! whole file up to it into one buffer (`vec![0u8; offset + 1]`), which aborted the process
//! on a 600 MB file under a 450 MB address-space limit. Lines are now counted window by
//! window. This test binary counts the largest single allocation made while reading (its
//! own binary: the allocator sees every test of a binary, so its tests run one at a time).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use asciigrid_core::{
    parse_grid, read, Control, Error, ErrorKind, Input, ParseError, WINDOWED_MIN,
};

/// The system allocator, remembering the largest block asked for.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s
// contract; the only addition is an atomic counter, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with `layout`; the caller guarantees `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// One test at a time: the counter is the whole process's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const HEADER: &[u8] = b"ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n";

/// Read a file of `HEADER`, `body_start`, 16 MiB of line ends and `tail`: its error, checked
/// to be the one the whole text in memory gives, found with no allocation of a window's size.
fn windowed_error(body_start: &[u8], tail: &[u8]) -> ParseError {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.asc");
    let mut text = Vec::new();
    text.extend_from_slice(HEADER);
    text.extend_from_slice(body_start);
    text.extend(std::iter::repeat_n(b'\n', 16 << 20));
    text.extend_from_slice(tail);
    std::fs::write(&path, &text).unwrap();
    LARGEST.store(0, Ordering::Relaxed);
    let result = read(Input::Path(&path), "big.asc", None, &Control::new());
    let largest = LARGEST.load(Ordering::Relaxed);
    let err = match result {
        Err(Error::Parse(e)) => e,
        other => panic!("expected a parse error, got {other:?}"),
    };
    assert!(
        largest < WINDOWED_MIN as usize,
        "an allocation of {largest} bytes"
    );
    assert_eq!(err, whole_text_error(&text));
    err
}

/// The error the whole text in memory gives (what the windowed read must give too).
fn whole_text_error(text: &[u8]) -> ParseError {
    match parse_grid(text, "big.asc", None, &Control::new()) {
        Err(Error::Parse(e)) => e,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn a_bad_last_value_is_located_in_constant_memory() {
    let err = windowed_error(b"1 2 3\n", b"\r\n  x\r\n");
    assert_eq!((err.line, err.column), (16 * 1024 * 1024 + 8, 3));
    assert_eq!(err.kind, ErrorKind::BadValue);
}

#[test]
fn a_file_cut_short_is_located_in_constant_memory() {
    let err = windowed_error(b"1 2 3\r", b"\r");
    assert_eq!(err.kind, ErrorKind::TooFewValues);
    assert!(
        err.message.starts_with("the file ends after 3 values"),
        "{err}"
    );
}
