//! Large plain files are read window by window (`window.rs`), everything else whole. Both
//! ways must give the same grid, the same statistics and the same error, wherever the window
//! boundaries fall: these tests read the same text from a file and from memory.

use std::io::Write;

use asciigrid_core::{read, summarize, Control, DataType, Error, Input, WINDOWED_MIN};

/// Text of at least [`WINDOWED_MIN`] bytes, `ncols` values a row, values of every shape the
/// parser has a path for (short, negative, long, exponent, decimal comma, a 300-digit one),
/// separated by single spaces, runs of blanks, tabs, CRLF and LF, so that some cross a 1 MiB
/// window boundary whichever way the cuts fall.
fn varied_text(ncols: usize, rows: usize) -> String {
    let shapes = |i: usize| -> String {
        match i % 13 {
            0 => format!("{}.{:02}", i % 1000, i % 100),
            1 => format!("-{}", i % 10_000),
            2 => format!("{}", i % 7),
            3 => format!("{}.{}", i, i % 1_000_000),
            4 => "1.5E+02".to_owned(),
            5 => format!("-{}.{:03}", i % 100, i % 1000),
            6 => format!("0.{}1", "0".repeat(298)),
            7 => format!("{},25", i % 50),
            8 => "-0".to_owned(),
            9 => format!("{}.", i % 9),
            10 => format!("{:08}", i % 99_999_999),
            11 => "-9999".to_owned(),
            _ => format!("{}", i % 1_000_000_007),
        }
    };
    let header = format!(
        "ncols {ncols}\r\nnrows {rows}\r\nxllcorner 0\r\nyllcorner 0\r\ncellsize 1\r\n\
         NODATA_value -9999\r\n"
    );
    let mut text = header;
    let mut i = 0;
    for row in 0..rows {
        for col in 0..ncols {
            text.push_str(&shapes(i));
            i += 1;
            text.push_str(match (col + 1 == ncols, (row + col) % 5) {
                (true, 0) => "\r\n",
                (true, _) => "\n",
                (false, 0) => "  ",
                (false, 1) => "\t",
                _ => " ",
            });
        }
    }
    assert!(text.len() as u64 >= WINDOWED_MIN, "{} bytes", text.len());
    text
}

fn file_with(text: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".asc").tempfile().unwrap();
    file.write_all(text).unwrap();
    file.flush().unwrap();
    file
}

fn both(
    text: &[u8],
    dtype: Option<DataType>,
) -> (
    Result<asciigrid_core::Grid, Error>,
    Result<asciigrid_core::Grid, Error>,
) {
    // Strict, so that values left over after complete rows stay errors to compare (they are
    // otherwise read with a warning: see `trailing_content_is_read_like_whole_text`).
    let file = file_with(text);
    let windowed = read(Input::Path(file.path()), "g.asc", dtype, &Control::strict());
    let whole = read(Input::Bytes(text), "g.asc", dtype, &Control::strict());
    (windowed, whole)
}

fn parse_error(r: Result<asciigrid_core::Grid, Error>) -> asciigrid_core::ParseError {
    match r {
        Err(Error::Parse(p)) => p,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn windows_read_what_memory_reads() {
    for (ncols, rows) in [(1000, 600), (997, 650), (1, 600_000)] {
        let text = varied_text(ncols, rows);
        for dtype in [None, Some(DataType::Float32), Some(DataType::Float64)] {
            let (windowed, whole) = both(text.as_bytes(), dtype);
            let (windowed, whole) = (windowed.unwrap(), whole.unwrap());
            assert_eq!(windowed, whole, "{ncols}x{rows} {dtype:?}");
        }
        let file = file_with(text.as_bytes());
        let from_file = summarize(
            Input::Path(file.path()),
            "g.asc",
            None,
            None,
            &Control::new(),
        );
        let from_bytes = summarize(
            Input::Bytes(text.as_bytes()),
            "g.asc",
            None,
            None,
            &Control::new(),
        );
        let (a, b) = (from_file.unwrap(), from_bytes.unwrap());
        // Exact counts and extremes; sums merged in another order (the chunks differ) agree
        // to rounding.
        let exact = |s: &asciigrid_core::Summary| (s.count, s.nodata_count, s.min, s.max);
        assert_eq!(exact(&a), exact(&b), "stats {ncols}x{rows}");
        for (x, y) in [
            (a.sum, b.sum),
            (a.mean, b.mean),
            (a.sum_of_squared_deviations, b.sum_of_squared_deviations),
        ] {
            assert!((x - y).abs() <= 1e-12 * x.abs().max(y.abs()), "{x} vs {y}");
        }
    }
}

#[test]
fn windows_read_integer_grids_too() {
    let row: String = (0..1000)
        .map(|i| format!("{} ", i * 37 % 100_003 - 50_000))
        .collect();
    let text = format!(
        "ncols 1000\nnrows 800\nxllcorner 0\nyllcorner 0\ncellsize 1\n{}",
        format!("{row}\n").repeat(800)
    );
    let (windowed, whole) = both(text.as_bytes(), None);
    let windowed = windowed.unwrap();
    assert_eq!(windowed.data.data_type(), DataType::Int32);
    assert_eq!(windowed, whole.unwrap());
}

/// A bad token, a missing value and an extra one, deep in the file and next to a window
/// boundary: the same line, column and message as when the text is read whole.
#[test]
fn windowed_errors_are_located_like_whole_ones() {
    let text = varied_text(1000, 600);
    let body_start = text.find("\r\n0.00").unwrap() + 2;
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for boundary in [1 << 20, 3 << 20, 4 << 20] {
        // A bad token just before, across and just after a window boundary.
        for shift in [-3i64, -1, 0, 2] {
            let at = (body_start as i64 + boundary + shift) as usize;
            let start = text[..at].rfind([' ', '\t', '\n']).map_or(at, |p| p + 1);
            let mut bad = text.clone().into_bytes();
            bad[start] = b'x';
            cases.push((format!("bad token near {boundary}{shift:+}"), bad));
        }
    }
    let trimmed = text.trim_end();
    let cut = trimmed.rfind(' ').unwrap();
    cases.push((
        "one value missing".into(),
        trimmed.as_bytes()[..cut].to_vec(),
    ));
    cases.push((
        "one value too many".into(),
        format!("{text} 7\n").into_bytes(),
    ));
    for (what, bad) in cases {
        let (windowed, whole) = both(&bad, None);
        assert_eq!(parse_error(windowed), parse_error(whole), "{what}");
    }
}

/// Values left over after complete rows, at the end of a windowed file: read around with one
/// warning, as the same text in memory is.
#[test]
fn trailing_content_is_read_like_whole_text() {
    let text = varied_text(1000, 600);
    let stale = format!("{text} 7 8\nNOTES\n");
    let file = file_with(stale.as_bytes());
    let (a, b) = (Control::new(), Control::new());
    let windowed = read(Input::Path(file.path()), "g.asc", None, &a).unwrap();
    let whole = read(Input::Bytes(stale.as_bytes()), "g.asc", None, &b).unwrap();
    let plain = read(
        Input::Bytes(text.as_bytes()),
        "g.asc",
        None,
        &Control::new(),
    )
    .unwrap();
    assert_eq!(windowed, whole);
    assert_eq!(windowed, plain);
    let (wa, wb) = (a.take_warnings(), b.take_warnings());
    assert_eq!(wa, wb);
    assert_eq!(wa.len(), 1, "{wa:?}");
}

#[test]
fn a_cancelled_windowed_read_stops() {
    let text = varied_text(1000, 600);
    let file = file_with(text.as_bytes());
    let control = Control::new();
    control.cancel();
    let result = read(Input::Path(file.path()), "g.asc", None, &control);
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
}

/// A token that starts just before a window's end and runs far past the bytes read after it
/// (a 301-digit number, valid; then a 1000-byte bad token): read whole, or located.
#[test]
fn long_tokens_across_a_window_end() {
    let long = format!("0.{}1", "0".repeat(298));
    for (token, bad) in [(long.as_str(), false), (&*"x".repeat(1000), true)] {
        let header = "ncols NCOLS\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
        let window_end = header.len() + (1 << 20);
        let mut body = String::new();
        let mut values = 0;
        while header.len() + body.len() < window_end - 10 {
            body.push_str("2.5 ");
            values += 1;
        }
        body.push_str(token);
        values += 1;
        while header.len() + body.len() < (5 << 20) {
            body.push_str(" 7.25");
            values += 1;
        }
        // The count (seven digits) is two bytes longer than "NCOLS": the token still starts
        // a few bytes before the first window's end, and ends ~290 or ~990 bytes after it.
        let text = header.replace("NCOLS", &values.to_string()) + &body + "\n";
        let (windowed, whole) = both(text.as_bytes(), None);
        if bad {
            assert_eq!(parse_error(windowed), parse_error(whole));
        } else {
            assert_eq!(windowed.unwrap(), whole.unwrap());
        }
    }
}

/// The line and column of an error deep in a windowed file, counted window by window (1 MiB
/// each, from the file's start) in constant memory: right where a CRLF is cut by a window's
/// end (CR last in one window, LF first in the next) and where a lone CR ends a window, as an
/// independent count of the text says.
#[test]
fn an_error_deep_in_a_windowed_file_is_located_across_window_ends() {
    const MIB: usize = 1 << 20;
    // The CR of a CRLF, or a lone CR, is the last byte of a window.
    let crlf = [MIB - 1, 2 * MIB - 1];
    let lone_cr = 3 * MIB - 1;
    let header_len = "ncols 1\nnrows 00000000\nxllcorner 0\nyllcorner 0\ncellsize 1\n".len();
    let mut body = String::new();
    let mut rows = 0usize;
    while header_len + body.len() < 5 * MIB {
        body.push('7');
        rows += 1;
        let at = header_len + body.len();
        let target = crlf
            .into_iter()
            .chain([lone_cr])
            .find(|&t| t >= at)
            .unwrap_or(usize::MAX);
        if target - at < 3 {
            body.push_str(&" ".repeat(target - at));
            body.push_str(if target == lone_cr { "\r" } else { "\r\n" });
        } else {
            body.push('\n');
        }
    }
    let mut text =
        format!("ncols 1\nnrows {rows:08}\nxllcorner 0\nyllcorner 0\ncellsize 1\n{body}");
    assert_eq!(text.as_bytes()[crlf[1]..crlf[1] + 2], *b"\r\n");
    assert_eq!(text.as_bytes()[lone_cr..lone_cr + 2], *b"\r7");
    // A bad token deep in the fifth window.
    let bad_at = text[..4 * MIB + 12345].rfind('7').unwrap();
    text.replace_range(bad_at..bad_at + 1, "x");
    let before = &text[..bad_at];
    let line_ends =
        before.matches("\r\n").count() + before.replace("\r\n", "").matches(['\n', '\r']).count();
    let line_start = before.rfind(['\n', '\r']).map_or(0, |p| p + 1);
    let file = file_with(text.as_bytes());
    let err = parse_error(read(
        Input::Path(file.path()),
        "g.asc",
        None,
        &Control::new(),
    ));
    assert_eq!(
        (err.line, err.column),
        (line_ends as u64 + 1, (bad_at - line_start) as u64 + 1),
        "{err}"
    );
    assert_eq!(err.kind, asciigrid_core::ErrorKind::BadValue);
    let whole = read(
        Input::Bytes(text.as_bytes()),
        "g.asc",
        None,
        &Control::new(),
    );
    assert_eq!(parse_error(whole), err);
}
