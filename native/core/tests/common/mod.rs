//! What the test binaries that count this process's threads share (each is alone in its
//! binary, so that no other test's threads count).

/// The threads of this process (Linux: its `/proc/self/task` entries).
#[cfg(target_os = "linux")]
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

#[cfg(not(target_os = "linux"))]
pub fn threads() -> usize {
    0
}

/// The text of an `ncols` x `nrows` grid of one-decimal values.
pub fn grid_text(ncols: usize, nrows: usize) -> Vec<u8> {
    let mut text = format!("ncols {ncols}\nnrows {nrows}\nxllcorner 0\nyllcorner 0\ncellsize 1\n");
    for r in 0..nrows {
        let row: Vec<String> = (0..ncols)
            .map(|c| format!("{}.{}", (r * 7 + c) % 1000, c % 10))
            .collect();
        text.push_str(&row.join(" "));
        text.push('\n');
    }
    text.into_bytes()
}
