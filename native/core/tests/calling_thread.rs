//! A read whose control keeps it on the calling thread (`Control::on_calling_thread`) starts
//! no thread at all, not even rayon's global pool, whatever the input's size, and reads what
//! a parallel read reads. Alone in its test binary, so that no other test's threads count.

use asciigrid_core::{parse_grid, read, Control, Input};

mod common;
use common::{grid_text, threads};

#[test]
fn a_read_on_the_calling_thread_starts_no_thread_and_reads_the_same() {
    // 1 MB in memory (parallel-sized) and a 6 MB file (read window by window).
    let small = grid_text(500, 300);
    let large = grid_text(1000, 900);
    assert!(small.len() > 512 << 10 && large.len() > 4 << 20);
    let path = std::env::temp_dir().join(format!("asciigrid-calling-{}.asc", std::process::id()));
    std::fs::write(&path, &large).expect("a temporary file");

    let before = threads();
    let alone = |c: Control| c.on_calling_thread();
    let from_text = parse_grid(&small, "small.asc", None, &alone(Control::new()));
    let from_file = read(
        Input::Path(&path),
        "large.asc",
        None,
        &alone(Control::new()),
    );
    let after = threads();

    // The same reads in a pool of their own, in parallel.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a thread pool");
    let parallel_text = pool.install(|| parse_grid(&small, "small.asc", None, &Control::new()));
    let parallel_file =
        pool.install(|| read(Input::Path(&path), "large.asc", None, &Control::new()));
    let _ = std::fs::remove_file(&path);

    assert_eq!(
        after, before,
        "a read on the calling thread started threads"
    );
    let (from_text, parallel_text) = (from_text.expect("read"), parallel_text.expect("read"));
    let (from_file, parallel_file) = (from_file.expect("read"), parallel_file.expect("read"));
    assert_eq!(from_text.data, parallel_text.data);
    assert_eq!(from_file.data, parallel_file.data);
    assert_eq!(from_file.header.cells(), 900_000);
}
