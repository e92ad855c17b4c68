//! A read whose control has helpers (`Control::with_helpers`), called from a thread of no
//! pool, reads what a read on the calling thread alone reads, and uses the helpers' pool
//! only: it starts no thread (rayon's global pool included). Alone in its test binary, so
//! that no other test's threads count.

use std::sync::Arc;

use asciigrid_core::{parse_grid, read, Control, Input};

mod common;
use common::{grid_text, threads};

#[test]
fn a_helped_read_starts_no_thread_and_reads_what_one_thread_reads() {
    // 2 MB in memory (many chunks), and a 6 MB file (read window by window).
    let text = grid_text(700, 400);
    let large = grid_text(1000, 900);
    assert!(text.len() > 1 << 20 && large.len() > 4 << 20);
    let path = std::env::temp_dir().join(format!("asciigrid-helped-{}.asc", std::process::id()));
    std::fs::write(&path, &large).expect("a temporary file");
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a thread pool"),
    );

    let before = threads();
    let helped = || Control::new().with_helpers(Arc::clone(&pool));
    let from_text = parse_grid(&text, "mem.asc", None, &helped());
    let from_file = read(Input::Path(&path), "large.asc", None, &helped());
    let after = threads();

    let alone = || Control::new().on_calling_thread();
    let alone_text = parse_grid(&text, "mem.asc", None, &alone());
    let alone_file = read(Input::Path(&path), "large.asc", None, &alone());
    let _ = std::fs::remove_file(&path);

    assert_eq!(after, before, "a helped read started threads");
    assert_eq!(
        from_text.expect("read").data,
        alone_text.expect("read").data
    );
    assert_eq!(
        from_file.expect("read").data,
        alone_file.expect("read").data
    );
}
