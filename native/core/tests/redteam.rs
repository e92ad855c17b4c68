//! Issue #10 findings on the engine's read path that only the core can set up exactly: a
//! file rewritten in the middle of a read (finding 13), a zip member whose header claims more
//! than its compressed size can hold (finding 6). See docs/ROBUSTNESS.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::{Duration, SystemTime};

use asciigrid_core::{
    archive_members, read, read_member, summarize, Control, Error, Input, WINDOWED_MIN,
};

/// A grid of at least [`WINDOWED_MIN`] bytes (so it is read window by window), every value
/// `value` (a single digit).
fn grid_text(value: u8) -> Vec<u8> {
    let (ncols, nrows) = (1000usize, 1100usize);
    let mut text = format!("ncols {ncols}\nnrows {nrows}\nxllcorner 0\nyllcorner 0\ncellsize 1\n")
        .into_bytes();
    let row: Vec<u8> = [value, b' ', b' ', b' '].repeat(ncols);
    for _ in 0..nrows {
        text.extend_from_slice(&row);
        text.push(b'\n');
    }
    assert!(text.len() as u64 >= WINDOWED_MIN);
    text
}

/// The global thread pool is the test's to hold: one test at a time.
static POOL: Mutex<()> = Mutex::new(());

/// Read `path` (written with [`grid_text`]) while every thread of the global pool is held:
/// the read opens the file, then waits for the pool; `change` runs then, and the pool is let
/// go. Deterministic: the change lands after the file was opened and before any body byte
/// was read.
fn read_while(path: &Path, change: impl FnOnce(&Path)) -> Result<asciigrid_core::Grid, Error> {
    held_while(path, change, |path, control| {
        read(Input::Path(path), "g.asc", None, control)
    })
}

/// [`read_while`] for any reader `work` of the path.
fn held_while<T: Send + 'static>(
    path: &Path,
    change: impl FnOnce(&Path),
    work: fn(&Path, &Control) -> Result<T, Error>,
) -> Result<T, Error> {
    let _pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let threads = rayon::current_num_threads();
    let release = Arc::new(Barrier::new(threads + 1));
    let (started, all_started) = mpsc::channel();
    for _ in 0..threads {
        let release = Arc::clone(&release);
        let started = started.clone();
        rayon::spawn(move || {
            started.send(()).unwrap();
            release.wait();
        });
    }
    for _ in 0..threads {
        all_started.recv().unwrap();
    }
    let control = Arc::new(Control::new());
    let reading = {
        let control = Arc::clone(&control);
        let path: PathBuf = path.to_owned();
        std::thread::spawn(move || work(&path, &control))
    };
    // The file is open (its size is the progress total) once the total is known.
    while control.progress().1 == 0 && !reading.is_finished() {
        std::thread::sleep(Duration::from_millis(1));
    }
    change(path);
    release.wait();
    reading.join().unwrap()
}

fn assert_changed<T>(result: Result<T, Error>) {
    match result {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, "g.asc");
            assert_eq!(
                source.to_string(),
                "the file changed while it was being read; read it again"
            );
        }
        Err(other) => panic!("expected 'the file changed', got {other:?}"),
        Ok(_) => panic!("expected 'the file changed', got a result"),
    }
}

fn written(dir: &Path, text: &[u8]) -> PathBuf {
    let path = dir.join("g.asc");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_unchanged_file_held_up_the_same_way_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path(), &grid_text(b'1'));
    let grid = read_while(&path, |_| {}).unwrap();
    assert_eq!(grid.data.len(), 1_100_000);
}

#[test]
fn a_file_rewritten_in_place_during_a_read_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path(), &grid_text(b'1'));
    assert_changed(read_while(&path, |p| {
        // Same size, other values: only the modification time tells (set apart from the
        // first write's, which a coarse clock could give again).
        let mut f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
        f.write_all(&grid_text(b'2')).unwrap();
        f.set_modified(SystemTime::now() + Duration::from_secs(10))
            .unwrap();
    }));
}

#[test]
fn a_file_that_grows_during_a_read_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path(), &grid_text(b'1'));
    assert_changed(read_while(&path, |p| {
        let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
        f.write_all(b"5 6 7\n").unwrap();
    }));
}

#[test]
fn statistics_of_a_file_rewritten_during_them_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path(), &grid_text(b'1'));
    assert_changed(held_while(
        &path,
        |p| {
            let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
            f.write_all(b"5 6 7\n").unwrap();
        },
        |path, control| summarize(Input::Path(path), "g.asc", None, None, control),
    ));
}

#[test]
fn a_file_replaced_during_a_read_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path(), &grid_text(b'1'));
    assert_changed(read_while(&path, |p| {
        let new = p.with_extension("new");
        std::fs::write(&new, grid_text(b'2')).unwrap();
        std::fs::rename(&new, p).unwrap();
    }));
}

/// Finding 6: a zip member's compressed size bounds its text (deflate expands at most
/// 1032-fold), so a member whose header claims more values than that can hold is refused
/// after its header, before its body is decompressed.
#[test]
fn a_zip_member_claiming_more_values_than_its_compressed_size_holds_is_refused() {
    let mut text =
        b"ncols 2147483647\nnrows 2147483647\nxllcorner 0\nyllcorner 0\ncellsize 1\n".to_vec();
    text.extend(b"1 ".repeat(1 << 20));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("bomb.asc", options).unwrap();
    w.write_all(&text).unwrap();
    let z = w.finish().unwrap().into_inner();
    let members = archive_members(Input::Bytes(&z), "tiles.zip").unwrap();
    let got = read_member(
        Input::Bytes(&z),
        "tiles.zip",
        members[0].index,
        None,
        &Control::new(),
    );
    match got {
        Err(Error::Parse(e)) => {
            assert_eq!(
                (e.path.as_str(), e.line, e.column),
                ("tiles.zip/bomb.asc", 6, 1)
            );
            assert!(
                e.message.contains("deflate expands at most 1032-fold"),
                "{e}"
            );
        }
        other => panic!("expected a parse error, got {:?}", other.map(|g| g.header)),
    }
}
