//! Hostile input that only the core can be tested with directly: decompression bombs (gzip
//! and zip, refused after reading little more than the header needs), corrupt archives, and
//! writes that are cancelled or fail (nothing is left behind). See docs/ROBUSTNESS.md.

use std::io::Write;
use std::time::{Duration, Instant};

use asciigrid_core::{
    archive_members, read, read_header, read_member, summarize, write_grid, Cells, Control, Error,
    ErrorKind, GridData, Input, ParseError, WriteOptions, BODY_SLACK, MAX_BYTES_PER_VALUE,
};
use flate2::write::GzEncoder;
use flate2::Compression;

const HEADER: &str = "ncols 4\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
const ROWS: &str = "1 2 3 4\n5 6 7 8\n9 10 11 12\n";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `head` followed by `copies` × `block`, gzipped cheaply: gzip members may be concatenated,
/// so one compressed block is repeated (a 4 GiB text costs ~4 MB and no time to build).
fn gzip_bomb(head: &[u8], block: &[u8], copies: usize) -> Vec<u8> {
    let mut out = gzip(head);
    let member = gzip(block);
    for _ in 0..copies {
        out.extend_from_slice(&member);
    }
    out
}

fn parse_error(r: Result<impl std::fmt::Debug, Error>) -> ParseError {
    match r {
        Err(Error::Parse(p)) => p,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

/// Run `f` under a guard against runaway work: a bomb that were inflated whole would take
/// minutes. Not a speed test (a busy machine cannot fail it): what each test checks is the
/// error's position, which proves where reading stopped.
fn quick<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(60), "{what} ran away: {took:?}");
    out
}

#[test]
fn gzip_whitespace_bomb_is_refused_after_about_a_mebibyte() {
    // 12 values, then 4 GiB of blanks.
    let text = format!("{HEADER}{ROWS}");
    let bomb = gzip_bomb(text.as_bytes(), &vec![b' '; 4 << 20], 1024);
    assert!(bomb.len() < 16 << 20, "{}", bomb.len());
    let err = quick("read", || {
        parse_error(read(
            Input::Bytes(&bomb),
            "bomb.asc.gz",
            None,
            &Control::new(),
        ))
    });
    assert_eq!(err.path, "bomb.asc.gz");
    assert_eq!(err.kind, ErrorKind::BudgetExceeded, "{err}");
    // The error is where the allowance ends: 12 values' worth plus the slack, on line 9.
    let allowed = 12 * MAX_BYTES_PER_VALUE + BODY_SLACK;
    assert_eq!((err.line, err.column), (9, allowed - ROWS.len() as u64 + 1));
    // The streaming readers (statistics, mosaics) stop there too.
    let err = quick("stats", || {
        parse_error(summarize(
            Input::Bytes(&bomb),
            "bomb.asc.gz",
            None,
            None,
            &Control::new(),
        ))
    });
    assert_eq!(err.kind, ErrorKind::BudgetExceeded, "{err}");
    assert_eq!((err.line, err.column), (9, allowed - ROWS.len() as u64 + 1));
    // The header alone is fine.
    assert_eq!(
        read_header(Input::Bytes(&bomb), "bomb.asc.gz")
            .unwrap()
            .ncols,
        4
    );
}

#[test]
fn gzip_bomb_of_values_stops_at_the_first_value_too_many() {
    let bomb = gzip_bomb(HEADER.as_bytes(), &b"0 ".repeat(2 << 20), 1024);
    let err = quick("read", || {
        parse_error(read(
            Input::Bytes(&bomb),
            "values.asc.gz",
            None,
            &Control::new(),
        ))
    });
    assert_eq!(err.kind, ErrorKind::TooManyValues, "{err}");
    assert_eq!((err.line, err.column), (6, 25));
    let err = quick("stats", || {
        parse_error(summarize(
            Input::Bytes(&bomb),
            "values.asc.gz",
            None,
            None,
            &Control::new(),
        ))
    });
    assert_eq!((err.line, err.column), (6, 25));
}

#[test]
fn gzip_bomb_behind_a_huge_header_claim_is_still_refused_early() {
    // The header claims 10^8 values, but what follows is blank: refused after 1 MiB. (A
    // claim the compressed size cannot hold, 10^10 values here, is refused even before the
    // body: tests/redteam.rs, tests/test_redteam_read.py.)
    let head = "ncols 10000\nnrows 10000\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
    let bomb = gzip_bomb(head.as_bytes(), &vec![b' '; 4 << 20], 1024);
    let err = quick("read", || {
        parse_error(read(
            Input::Bytes(&bomb),
            "huge.asc.gz",
            None,
            &Control::new(),
        ))
    });
    assert_eq!(err.kind, ErrorKind::BudgetExceeded, "{err}");
    // A header that never ends is cut off at 16 MiB.
    let bomb = gzip_bomb(b"ncols 1\n", &vec![b'\n'; 32 << 20], 128);
    let err = quick("read", || {
        parse_error(read(Input::Bytes(&bomb), "h.asc.gz", None, &Control::new()))
    });
    assert_eq!(err.kind, ErrorKind::HeaderTooLong, "{err}");
    assert_eq!(err.line, (16 << 20) - 8 + 2);
    // (read_header's slowness on such a header: see tests/regressions.rs.)
}

#[test]
fn corrupt_gzip_is_a_parse_error_where_the_text_stops() {
    let good = gzip(format!("{HEADER}{ROWS}").as_bytes());
    let mut bad_crc = good.clone();
    let at = bad_crc.len() - 8;
    bad_crc[at] ^= 0xff;
    let err = parse_error(read(
        Input::Bytes(&bad_crc),
        "crc.asc.gz",
        None,
        &Control::new(),
    ));
    assert_eq!(err.kind, ErrorKind::CorruptCompressed, "{err}");
    assert_eq!((err.line, err.column), (9, 1));
    for cut in 2..good.len() {
        let err = parse_error(read(
            Input::Bytes(&good[..cut]),
            "cut.asc.gz",
            None,
            &Control::new(),
        ));
        assert!(err.line >= 1 && err.column >= 1);
    }
}

/// A zip holding one member whose (raw deflate) data is given: lets a test build a member
/// that inflates to gigabytes, and declare a size that is a lie.
fn zip_with_raw_member(name: &str, deflated: &[u8], declared_size: u32) -> Vec<u8> {
    let mut z = Vec::new();
    let n = name.len() as u16;
    let csize = deflated.len() as u32;
    // Local file header.
    z.extend_from_slice(b"PK\x03\x04");
    z.extend_from_slice(&20u16.to_le_bytes()); // version needed
    z.extend_from_slice(&0u16.to_le_bytes()); // flags
    z.extend_from_slice(&8u16.to_le_bytes()); // deflate
    z.extend_from_slice(&[0; 4]); // time, date
    z.extend_from_slice(&0u32.to_le_bytes()); // crc (never reached)
    z.extend_from_slice(&csize.to_le_bytes());
    z.extend_from_slice(&declared_size.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(deflated);
    let cd_start = z.len() as u32;
    // Central directory.
    z.extend_from_slice(b"PK\x01\x02");
    z.extend_from_slice(&20u16.to_le_bytes()); // made by
    z.extend_from_slice(&20u16.to_le_bytes()); // needed
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(&8u16.to_le_bytes());
    z.extend_from_slice(&[0; 4]);
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(&csize.to_le_bytes());
    z.extend_from_slice(&declared_size.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
    z.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    z.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    z.extend_from_slice(name.as_bytes());
    let cd_len = z.len() as u32 - cd_start;
    // End of central directory.
    z.extend_from_slice(b"PK\x05\x06");
    z.extend_from_slice(&[0; 4]);
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd_start.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

/// Raw deflate of `head` then `copies` × `block`, built by compressing `block` once: a full
/// flush makes each block's compressed bytes independent of what came before.
fn deflate_bomb(head: &[u8], block: &[u8], copies: usize) -> Vec<u8> {
    let mut c = flate2::Compress::new(Compression::fast(), false);
    let run = |input: &[u8], flush: flate2::FlushCompress, c: &mut flate2::Compress| {
        let mut out = Vec::with_capacity(input.len() / 2 + 1024);
        let mut pos = 0;
        loop {
            let before_in = c.total_in();
            c.compress_vec(&input[pos..], &mut out, flush).unwrap();
            pos += (c.total_in() - before_in) as usize;
            if pos == input.len() && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity().max(1024));
        }
        out
    };
    let mut data = run(head, flate2::FlushCompress::Full, &mut c);
    let first = run(block, flate2::FlushCompress::Full, &mut c);
    let again = run(block, flate2::FlushCompress::Full, &mut c);
    assert_eq!(first, again, "a full flush makes blocks repeatable");
    for _ in 0..copies {
        data.extend_from_slice(&first);
    }
    data.extend_from_slice(&run(b"", flate2::FlushCompress::Finish, &mut c));
    data
}

#[test]
fn zip_bomb_member_is_refused_early_whatever_size_it_declares() {
    let text = format!("{HEADER}{ROWS}");
    let deflated = deflate_bomb(text.as_bytes(), &vec![b' '; 4 << 20], 1024);
    for (declared, why) in [
        // The zip reader itself stops at the declared size...
        (100, "larger than its declared uncompressed size"),
        // ...which is at most 4 GiB here, and more with zip64: the budget stops it early.
        (u32::MAX, "decompression bomb"),
    ] {
        let z = zip_with_raw_member("bomb.asc", &deflated, declared);
        let members = archive_members(Input::Bytes(&z), "tiles.zip").unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].name, "bomb.asc");
        assert_eq!(members[0].size, u64::from(declared));
        assert!(members[0].supported);
        let err = quick("zip member", || {
            parse_error(read_member(
                Input::Bytes(&z),
                "tiles.zip",
                0,
                None,
                &Control::new(),
            ))
        });
        assert_eq!(err.path, "tiles.zip/bomb.asc");
        assert!(err.message.contains(why), "{err}");
    }
}

#[test]
fn zip_members_read_like_plain_files() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflate = zip::write::SimpleFileOptions::default();
    let stored = deflate.compression_method(zip::CompressionMethod::Stored);
    w.add_directory("tiles/", deflate).unwrap();
    w.start_file("tiles/good.asc", deflate).unwrap();
    w.write_all(format!("{HEADER}{ROWS}").as_bytes()).unwrap();
    w.start_file("tiles/bad.asc", stored).unwrap();
    w.write_all(format!("{HEADER}1 2 3 4\n5 x4 7 8\n9 10 11 12\n").as_bytes())
        .unwrap();
    let z = w.finish().unwrap().into_inner();
    let members = archive_members(Input::Bytes(&z), "t.zip").unwrap();
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["tiles/good.asc", "tiles/bad.asc"]);
    let good = read_member(
        Input::Bytes(&z),
        "t.zip",
        members[0].index,
        None,
        &Control::new(),
    )
    .unwrap();
    assert_eq!(good.data, GridData::Int32((1..=12).collect()));
    let err = parse_error(read_member(
        Input::Bytes(&z),
        "t.zip",
        members[1].index,
        None,
        &Control::new(),
    ));
    assert_eq!(
        err.to_string(),
        "t.zip/tiles/bad.asc:7:3: expected an integer, found 'x4'"
    );
    // From a file on disk, too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.zip");
    std::fs::write(&path, &z).unwrap();
    let from_file = read_member(
        Input::Path(&path),
        "t.zip",
        members[0].index,
        None,
        &Control::new(),
    )
    .unwrap();
    assert_eq!(from_file, good);
}

#[test]
fn broken_archives_are_errors_not_panics() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("a.asc", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(format!("{HEADER}{ROWS}").as_bytes()).unwrap();
    let z = w.finish().unwrap().into_inner();
    for cut in 0..z.len() {
        match archive_members(Input::Bytes(&z[..cut]), "cut.zip") {
            Ok(ms) => {
                for m in ms {
                    let _ = read_member(
                        Input::Bytes(&z[..cut]),
                        "cut.zip",
                        m.index,
                        None,
                        &Control::new(),
                    );
                }
            }
            Err(Error::Invalid(m)) => assert!(m.starts_with("cut.zip: "), "{m}"),
            Err(e) => panic!("{e:?}"),
        }
    }
    // Every byte flipped in turn: a grid, a parse error or an invalid-archive error.
    for i in 0..z.len() {
        let mut bad = z.clone();
        bad[i] ^= 0x55;
        if let Ok(ms) = archive_members(Input::Bytes(&bad), "flip.zip") {
            for m in ms {
                match read_member(
                    Input::Bytes(&bad),
                    "flip.zip",
                    m.index,
                    None,
                    &Control::new(),
                ) {
                    Ok(_) | Err(Error::Parse(_)) | Err(Error::Invalid(_)) => {}
                    Err(e) => panic!("byte {i}: {e:?}"),
                }
            }
        }
    }
    assert!(matches!(
        read_member(Input::Bytes(&z), "t.zip", 7, None, &Control::new()),
        Err(Error::Invalid(_))
    ));
}

fn options(ncols: usize) -> WriteOptions {
    WriteOptions {
        ncols,
        west: 0.0,
        north: 0.0,
        dx: 1.0,
        dy: 1.0,
        nodata: None,
        precision: None,
    }
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn cancelled_or_failed_writes_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.asc");
    let cells: Vec<f64> = (0..4_000_000).map(|i| i as f64 * 0.37).collect();
    // Cancelled before it starts.
    let c = Control::new();
    c.cancel();
    let r = write_grid(&target, Cells::Float64(&cells), &options(2000), &c);
    assert!(matches!(r, Err(Error::Cancelled)));
    assert!(files_in(dir.path()).is_empty());
    // Cancelled from another thread while it writes.
    let c = Control::new();
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            while c.progress().0 == 0 {
                std::thread::yield_now();
            }
            c.cancel();
        });
        write_grid(&target, Cells::Float64(&cells), &options(2000), &c)
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
    // A previous version survives a cancelled rewrite untouched.
    let small = [1.5f64, 2.5];
    write_grid(
        &target,
        Cells::Float64(&small),
        &options(2),
        &Control::new(),
    )
    .unwrap();
    let before = std::fs::read(&target).unwrap();
    let c = Control::new();
    c.cancel();
    assert!(write_grid(&target, Cells::Float64(&cells), &options(2000), &c).is_err());
    assert_eq!(std::fs::read(&target).unwrap(), before);
    assert_eq!(files_in(dir.path()), ["out.asc"]);
    // A folder that does not exist: an I/O error, nothing created.
    let missing = dir.path().join("no/such/dir/out.asc");
    let r = write_grid(
        &missing,
        Cells::Float64(&small),
        &options(2),
        &Control::new(),
    );
    assert!(matches!(r, Err(Error::Io { .. })));
    assert_eq!(files_in(dir.path()), ["out.asc"]);
}

/// Streaming readers (statistics, mosaics) count lines block by block (8 MiB). A CRLF cut by
/// a block boundary (the block ends with the CR, the LF is read later) is one line end, and
/// the error position must be the one `read` gives.
#[test]
fn crlf_across_a_stream_block_boundary_counts_once() {
    let header = "ncols 4\nnrows 932200\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
    let row = "1 2 3 4\r\n";
    // The first block ends at body offset 8 MiB - 1; put a CR there: rows are 9 bytes with
    // the CR at index 7, and 8 MiB - 1 = 4 (mod 9), so 6 leading blanks put a CR there.
    let mut text = String::from(header);
    text.push_str("      ");
    for _ in 0..932_199 {
        text.push_str(row);
    }
    text.push_str("1 2 3 x\r\n");
    let at = header.len() + (8 << 20) - 1;
    assert_eq!(&text[at..at + 2], "\r\n");
    let whole = parse_error(read(
        Input::Bytes(text.as_bytes()),
        "crlf.asc",
        None,
        &Control::new(),
    ));
    assert_eq!((whole.line, whole.column), (5 + 932_200, 7), "{whole}");
    let streamed = parse_error(summarize(
        Input::Bytes(text.as_bytes()),
        "crlf.asc",
        None,
        None,
        &Control::new(),
    ));
    assert_eq!(
        (streamed.line, streamed.column),
        (whole.line, whole.column),
        "{streamed}"
    );
}
