//! Engine bugs found while hardening (issue #5), one test each, written before the fix: each
//! fails until its bug is fixed. Repro, expected and found: docs/ROBUSTNESS.md, "Bugs found".

use std::time::{Duration, Instant};

use asciigrid_core::{read, read_header, Control, DataType, Error, ErrorKind, GridData, Input};

fn grid(text: &[u8], dtype: Option<DataType>) -> Result<asciigrid_core::Grid, Error> {
    read(Input::Bytes(text), "r.asc", dtype, &Control::new())
}

/// R1. A lone CR ends a header line for GDAL (it splits the header on " \n\r\t"); the engine
/// ran on to the next LF, silently dropping what followed the CR: here the nodata value.
#[test]
fn r1_cr_ends_a_header_line_nodata_is_not_dropped() {
    let text = b"ncols 3\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\rNODATA_value 5\n1 5 3\n";
    let g = grid(text, None).expect("GDAL reads this grid");
    assert_eq!(g.nodata, Some(5.0), "GDAL: nodata 5");
}

/// R1 again: the values after `cellsize 1\r` were skipped and the next line read instead.
/// GDAL reads 9 9 9 (and ignores the rest); the strict answer is "more values than ncols ×
/// nrows", never the silently shifted 1 5 3.
#[test]
fn r1_cr_ends_a_header_line_values_are_not_skipped() {
    let text = b"ncols 3\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\r9 9 9\n1 5 3\n";
    match grid(text, None) {
        Ok(g) => assert_eq!(g.data, GridData::Int32(vec![9, 9, 9]), "shifted rows"),
        Err(Error::Parse(p)) => assert_eq!(p.kind, ErrorKind::TooManyValues, "{p}"),
        Err(e) => panic!("{e:?}"),
    }
}

/// R1 again: a file with classic Mac (CR-only) line ends, which GDAL reads.
#[test]
fn r1_cr_only_line_ends_read_like_gdal() {
    let text = b"ncols 3\rnrows 1\rxllcorner 0\ryllcorner 0\rcellsize 1\r1 5 3\r";
    let g = grid(text, None).expect("GDAL reads CR-only files");
    assert_eq!(g.data, GridData::Int32(vec![1, 5, 3]));
}

/// R2. Leading zeros: GDAL (atoi/strtod) reads `00000000000000000005` as 5; the engine said
/// "outside the Int32 range" once a token has more than 19 digits.
#[test]
fn r2_integer_with_many_leading_zeros() {
    let text = b"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n00000000000000000005 7\n";
    let g = grid(text, None).expect("GDAL reads 5");
    assert_eq!(g.data, GridData::Int32(vec![5, 7]));
}

/// R3. With dtype int32 forced, `5.0` is refused ("not an integer") but `5.` was taken as 5:
/// the two spellings of one number must get one answer.
#[test]
fn r3_forced_int32_treats_5_dot_like_5_dot_0() {
    let text = |v: &str| {
        format!("ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n{v} 7\n").into_bytes()
    };
    let dot = grid(&text("5."), Some(DataType::Int32)).is_ok();
    let dot_zero = grid(&text("5.0"), Some(DataType::Int32)).is_ok();
    assert_eq!(dot, dot_zero, "'5.' and '5.0' must both read or both fail");
}

/// R4. read_header re-parses its whole buffer after every 64 KiB read, so a long header (here
/// 16 MiB of blank lines, which GDAL skips) takes quadratic time: ~30 s in a debug build.
/// Doubling the read size (as the stream and gzip readers do) makes it linear.
#[test]
fn r4_read_header_is_linear_in_the_header_length() {
    let mut text = b"ncols 1\n".to_vec();
    text.resize(16 << 20, b'\n');
    let start = Instant::now();
    let r = read_header(Input::Bytes(&text), "long.asc");
    assert!(matches!(r, Err(Error::Parse(_))));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

/// R7. A header line longer than read_header's limit (here `ncols 4 ` and 20 MiB of `x`):
/// read says `1:9: unexpected text after the value of 'ncols'`, but read_header (and so
/// stats and mosaics) waited for the line to end and said "the file ends inside the header"
/// at the cut, 20 million columns on, in a file that does not end there. Text after a value
/// is an error whatever follows, so a prefix can report it.
#[test]
fn r7_overlong_header_line_gets_the_same_error_from_every_reader() {
    let mut text = b"ncols 4 ".to_vec();
    text.resize(20 << 20, b'x');
    let whole = match grid(&text, None) {
        Err(Error::Parse(p)) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!((whole.line, whole.column), (1, 9), "{whole}");
    match read_header(Input::Bytes(&text), "r.asc") {
        Err(Error::Parse(p)) => assert_eq!(p, whole),
        other => panic!("{other:?}"),
    }
}

/// R9. Since a lone CR ends a header line (R1), `Header::header_lines` counts CR-ended lines,
/// but error positions still count only LFs: in a CR-only file every error is on "line 1",
/// thousands of columns in, where an editor shows line 6, column 3. Positions should count a
/// lone CR as a line end too (error::line_column, and stream::BlockStream for stats and
/// mosaics, which must agree with it).
#[test]
fn r9_error_positions_count_a_lone_cr_as_a_line_end() {
    let text = b"ncols 3\rnrows 1\rxllcorner 0\ryllcorner 0\rcellsize 1\r1 x 3\r";
    let err = match grid(text, None) {
        Err(Error::Parse(p)) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!((err.line, err.column), (6, 3), "{err}");
}

/// R10. Two 2 × 2 tiles, one with a typo in its origin (`xllcorner 1e15`): the mosaic plan
/// spans 2 × 10^15 cells, and reading it aborted the process ("memory allocation of
/// 8000000000000016 bytes failed"), QGIS included. A union wider or taller than 2^31 - 1
/// cells (the limit a single grid's header has) must be refused when planning, naming the
/// tile that stretches it; and every large allocation should be fallible
/// (`Vec::try_reserve_exact`), so a grid too big for memory is an error, never an abort.
#[test]
fn r10_tiles_far_apart_are_refused_when_planning() {
    use asciigrid_core::OwnedInput;
    use asciigrid_core::Plan;
    let tile = |x: &str| {
        let text = format!("ncols 2\nnrows 2\nxllcorner {x}\nyllcorner 0\ncellsize 1\n1 2 3 4\n");
        OwnedInput::Bytes(std::sync::Arc::from(text.into_bytes().as_slice()))
    };
    for far in ["1e15", "3000000000"] {
        let inputs = vec![
            (tile("0"), "near.asc".to_owned()),
            (tile(far), "far.asc".to_owned()),
        ];
        match Plan::new(inputs, None, None, false, &[], &Control::new()) {
            Err(Error::Mosaic { path, .. }) => assert_eq!(path, "far.asc"),
            Err(e) => panic!("{far}: {e:?}"),
            Ok(plan) => panic!("{far}: planned {} columns", plan.header.ncols),
        }
    }
}

/// R16. A header that never ends (here `ncols 4` and 32 MiB of blank lines, which GDAL
/// skips): read_header, and so statistics and mosaics, stop at their limit and said "the
/// file ends inside the header", at line 32505858, of a file that goes on. A gzipped copy
/// read whole says `no grid values after 16 MiB of header` (source::header_too_long); the
/// streaming readers should say that too.
#[test]
fn r16_a_header_cut_at_the_limit_is_not_called_the_end_of_the_file() {
    let mut text = b"ncols 4\n".to_vec();
    text.resize(32 << 20, b'\n');
    match read_header(Input::Bytes(&text), "r.asc") {
        Err(Error::Parse(p)) => {
            assert_eq!(p.kind, ErrorKind::HeaderTooLong, "{p}");
        }
        other => panic!("{other:?}"),
    }
}

/// R17 (fuzzer, `read`). Where a corrupt deflate stream is reported ("the text decompressed
/// so far ends here") depended on how each reader cut its reads: flate2 drops the output of
/// the read that fails, so `read` said 4:3355 and `read_header` (and statistics) 1:1 for the
/// same bytes. Every reader now pulls compressed text the same way.
#[test]
fn r17_corrupt_gzip_is_reported_at_one_place_by_every_reader() {
    let data = include_bytes!("../fuzz/regressions/read-corrupt-gzip-position.bin");
    let text = &data[1..]; // the fuzz target's selector byte
    let whole = match grid(text, None) {
        Err(Error::Parse(p)) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(whole.kind, ErrorKind::CorruptCompressed, "{whole}");
    match read_header(Input::Bytes(text), "r.asc") {
        Err(Error::Parse(p)) => assert_eq!((p.line, p.column), (whole.line, whole.column)),
        other => panic!("{other:?}"),
    }
}
