//! Content after a complete grid, read as GDAL reads it (GDAL stops after `ncols × nrows`
//! values and never looks further), but only where that is unambiguous, and never silently:
//! each accepted file gives a [`Warning`] naming file and line, and [`Control::is_strict`]
//! refuses them all.
//!
//! Two kinds are accepted (see docs/FORMAT.md, "Trailing content"):
//! - [`TrailingKind::Lines`]: after the line of the grid's last value, only lines whose first
//!   token is a word (`PROJECTION ...`, `NOTES`, `CRS`: QGIS's own test grids), not a value
//!   such as `nan` or `null`;
//! - [`TrailingKind::Leftover`]: the grid's values lie on exactly `nrows` lines of `ncols`
//!   values, and what follows (on later lines) are values or such words: a file overwritten
//!   in place without being truncated.
//!
//! Anything else after the grid (rows of uneven length, so the header is wrong and GDAL
//! shifts rows; values on the line of the grid's last value; binary bytes) stays the error
//! it was. Nothing here runs on a good file: a reader looks only when its parse stopped at
//! the value after the grid's last one ([`examine_text`], [`examine_input`]).

use std::io::Read;

use crate::control::{Control, TrailingKind, Warning};
use crate::error::{Error, ErrorKind, ParseError};
use crate::header::Header;
use crate::input::{self, Input};
use crate::scan::is_space;
use crate::source;

/// Accepted trailing content of one grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Trailing {
    /// Which kind.
    pub(crate) kind: TrailingKind,
    /// Offset just past the grid's last value: the grid's text ends here.
    pub(crate) grid_end: u64,
    /// Whether GDAL's float markers (`.`, `,`, `e`, `E`) occur anywhere in the body, the
    /// trailing content included: GDAL's data-type scan reads the whole file.
    pub(crate) float_marker: bool,
    /// 1-based line and column of the first trailing token.
    pub(crate) line: u64,
    /// See [`Trailing::line`].
    pub(crate) column: u64,
    /// Lines holding trailing tokens.
    pub(crate) lines: u64,
    /// Trailing tokens.
    pub(crate) tokens: u64,
    /// The first trailing token, for the message.
    pub(crate) first: String,
}

impl Trailing {
    /// The warning for this content in source `path` of a grid with header `header`.
    pub(crate) fn warning(&self, path: &str, header: &Header) -> Warning {
        let message = match self.kind {
            TrailingKind::Lines => format!(
                "{} line{} after the grid's last value (starting '{}') ignored, as GDAL does",
                self.lines,
                plural(self.lines),
                self.first
            ),
            TrailingKind::Leftover => format!(
                "{} value{} after the grid's {} complete rows of {} values ignored, as GDAL \
                 does: the file was probably overwritten in place without being truncated",
                self.tokens,
                plural(self.tokens),
                header.nrows,
                header.ncols
            ),
        };
        Warning {
            path: path.to_owned(),
            line: self.line,
            column: self.column,
            kind: self.kind,
            message,
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The decision a reader takes when its parse failed with `err` where trailing content may
/// start: with content `found`, read the grid without it (and warn), or, with a strict
/// control, refuse the file with `err` as a [`ErrorKind::TrailingContent`] error; without,
/// `err` stands. Returns the content to read around.
pub(crate) fn settle(
    found: Option<Trailing>,
    err: Error,
    name: &str,
    header: &Header,
    control: &Control,
) -> Result<Trailing, Error> {
    let Some(found) = found else {
        return Err(err);
    };
    if control.is_strict() {
        return Err(match err {
            Error::Parse(e) => Error::Parse(ParseError {
                kind: ErrorKind::TrailingContent,
                ..e
            }),
            other => other,
        });
    }
    control.warn(found.warning(name, header));
    Ok(found)
}

/// The tokens that start a line of values although they start with a letter (as in
/// [`crate::header`]'s rule for where the body starts).
const VALUE_WORDS: [&[u8]; 4] = [b"nan", b"null", b"inf", b"infinity"];

/// Bytes of the first trailing token kept for the message (`show_token` cuts longer ones).
const SHOWN: usize = 40;

/// Longest word kept to compare with [`VALUE_WORDS`].
const WORD: usize = 9;

/// A byte-by-byte pass over a whole text (header included, for line numbers), deciding what
/// follows value `ncols × nrows`. Slow next to the parser, and only run after a parse stopped.
struct Examiner {
    ncols: u64,
    cells: u64,
    body: u64,
    /// Where the parse stopped: a stop before the grid's end is a real error.
    stop_at: u64,
    pos: u64,
    line: u64,
    line_start: u64,
    pending_cr: bool,
    tokens: u64,
    inside: bool,
    token_start: u64,
    token_len: u64,
    token_numeric: bool,
    word: [u8; WORD],
    word_len: usize,
    /// Grid values on the current line.
    line_tokens: u64,
    /// Every line of grid values so far holds exactly `ncols` of them.
    rows_ok: bool,
    grid_end: Option<u64>,
    /// Trailing tokens on the current line, and whether its first one is a word.
    tail_line_tokens: u64,
    tail_line_word: bool,
    tail_word_lines: u64,
    tail_value_lines: u64,
    /// Line and column of the first trailing token, and its first bytes.
    first: Option<(u64, u64)>,
    first_raw: Vec<u8>,
    float_marker: bool,
    dead: bool,
    /// Whether `*` is a value (a GRASS null cell).
    star_nulls: bool,
}

impl Examiner {
    fn new(header: &Header, stop_at: u64) -> Self {
        Examiner {
            ncols: header.ncols as u64,
            cells: header.cells(),
            body: header.body_offset as u64,
            stop_at,
            pos: 0,
            line: 1,
            line_start: 0,
            pending_cr: false,
            tokens: 0,
            inside: false,
            token_start: 0,
            token_len: 0,
            token_numeric: true,
            word: [0; WORD],
            word_len: 0,
            line_tokens: 0,
            rows_ok: true,
            grid_end: None,
            tail_line_tokens: 0,
            tail_line_word: false,
            tail_word_lines: 0,
            tail_value_lines: 0,
            first: None,
            first_raw: Vec::new(),
            float_marker: false,
            dead: false,
            star_nulls: header.star_nulls,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.dead {
                return;
            }
            self.byte(b);
        }
    }

    fn byte(&mut self, b: u8) {
        let at = self.pos;
        self.pos += 1;
        // Lines end at LF, CRLF or a lone CR, as everywhere else (`error::line_ends`).
        if self.pending_cr && b != b'\n' {
            self.line += 1;
            self.line_start = at;
        }
        self.pending_cr = b == b'\r';
        if b == b'\n' {
            self.line += 1;
            self.line_start = at + 1;
        }
        if at < self.body {
            return;
        }
        if self.grid_end.is_none() && at >= self.stop_at {
            // The parse stopped inside the grid: a real error.
            self.dead = true;
            return;
        }
        if is_space(b) {
            if self.inside {
                self.end_token(at);
            }
            if b == b'\n' || b == b'\r' {
                self.end_line();
            }
            return;
        }
        if b == 0 {
            self.dead = true;
            return;
        }
        self.float_marker |= matches!(b, b'.' | b',' | b'e' | b'E');
        if !self.inside {
            self.start_token(at);
        }
        self.token_len += 1;
        self.token_numeric &= matches!(b, b'0'..=b'9' | b'+' | b'-' | b'.' | b',' | b'e' | b'E');
        if self.tokens == self.cells + 1 && self.first_raw.len() <= SHOWN {
            self.first_raw.push(b);
        }
        if self.word_len < WORD {
            self.word[self.word_len] = b.to_ascii_lowercase();
            self.word_len += 1;
        }
    }

    fn start_token(&mut self, at: u64) {
        self.inside = true;
        self.token_start = at;
        self.token_len = 0;
        self.token_numeric = true;
        self.word_len = 0;
        self.tokens += 1;
        if self.tokens <= self.cells {
            self.line_tokens += 1;
            return;
        }
        if self.tokens == self.cells + 1 {
            if self.line_tokens > 0 {
                // On the line of the grid's last value: the rows are not what the header says.
                self.dead = true;
                return;
            }
            let column = at - self.line_start + 1;
            self.first = Some((self.line, column));
        }
    }

    fn end_token(&mut self, at: u64) {
        self.inside = false;
        if self.tokens == self.cells {
            self.grid_end = Some(at);
        }
        if self.tokens <= self.cells {
            return;
        }
        let word = &self.word[..self.word_len];
        let value = self.token_len <= crate::value::MAX_TOKEN as u64
            && (self.token_numeric
                || VALUE_WORDS.contains(&word)
                || (self.star_nulls && word == b"*"));
        if self.tail_line_tokens == 0 {
            self.tail_line_word = !value && word.first().is_some_and(u8::is_ascii_alphabetic);
            if self.tail_line_word {
                self.tail_word_lines += 1;
            } else if value {
                self.tail_value_lines += 1;
            } else {
                self.dead = true;
            }
        } else if !self.tail_line_word && !value {
            self.dead = true;
        }
        self.tail_line_tokens += 1;
        if self.tail_value_lines > 0 && !self.rows_ok {
            self.dead = true;
        }
    }

    fn end_line(&mut self) {
        if self.line_tokens > 0 {
            self.rows_ok &= self.line_tokens == self.ncols;
            self.line_tokens = 0;
        }
        self.tail_line_tokens = 0;
    }

    fn finish(mut self) -> Option<Trailing> {
        if !self.dead && self.inside {
            self.end_token(self.pos);
        }
        let grid_end = self.grid_end?;
        let (line, column) = self.first?;
        if self.dead || self.tokens <= self.cells {
            return None;
        }
        let kind = if self.tail_value_lines == 0 {
            TrailingKind::Lines
        } else if self.rows_ok {
            TrailingKind::Leftover
        } else {
            return None;
        };
        Some(Trailing {
            kind,
            grid_end,
            float_marker: self.float_marker,
            line,
            column,
            lines: self.tail_word_lines + self.tail_value_lines,
            tokens: self.tokens - self.cells,
            first: crate::error::show_token(&self.first_raw),
        })
    }
}

/// What follows the grid in `text` (a whole text in memory, header included), given that its
/// parse stopped at offset `stop_at`: accepted trailing content, or `None` when the stop is a
/// real error.
pub(crate) fn examine_text(text: &[u8], header: &Header, stop_at: u64) -> Option<Trailing> {
    let mut e = Examiner::new(header, stop_at);
    e.feed(text);
    e.finish()
}

/// [`examine_text`] for a source read again from its start (decompressing it if need be),
/// 1 MiB at a time. Compressed text is read only within what its header allows (see
/// [`source::BodyBudget`]): past that, the stop stays an error. `None` on any failure: the
/// caller then reports the stop it had; only a cancel is passed on.
pub(crate) fn examine_input(
    input: Input<'_>,
    name: &str,
    header: &Header,
    stop_at: u64,
    control: &Control,
) -> Result<Option<Trailing>, Error> {
    let Ok((mut reader, bound)) = input::open_tracked(input, name) else {
        return Ok(None);
    };
    let limit = bound.budget.then(|| {
        (header.body_offset as u64)
            .saturating_add(header.cells().saturating_mul(source::MAX_BYTES_PER_VALUE))
            .saturating_add(source::BODY_SLACK)
    });
    let mut e = Examiner::new(header, stop_at);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if control.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok(None),
        };
        e.feed(&buf[..n]);
        if e.dead || limit.is_some_and(|l| e.pos > l) {
            return Ok(None);
        }
    }
    Ok(e.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::parse_whole_header;

    fn examine(text: &str) -> Option<Trailing> {
        let header = parse_whole_header(text.as_bytes()).expect("header");
        // As a parse stops: at the value after the grid's last one.
        examine_text(text.as_bytes(), &header, u64::MAX)
    }

    const H: &str = "ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n";

    #[test]
    fn word_lines_after_the_grid_are_trailing_lines() {
        let t = examine(&format!("{H}1 2 3\n4\r\nPROJECTION UTM 32\nNOTES\n")).expect("accepted");
        assert_eq!(t.kind, TrailingKind::Lines);
        assert_eq!(
            (t.line, t.column, t.lines, t.first.as_str()),
            (8, 1, 2, "PROJECTION")
        );
        assert_eq!(t.grid_end as usize, H.len() + 7);
        assert!(t.float_marker, "PROJECTION and NOTES hold an E");
    }

    #[test]
    fn leftover_values_after_complete_rows_are_accepted() {
        let t = examine(&format!("{H}1 2\n3 4\n5.5 6\n7")).expect("accepted");
        assert_eq!(
            (t.kind, t.tokens, t.lines, t.line),
            (TrailingKind::Leftover, 3, 2, 8)
        );
        assert!(t.float_marker);
    }

    #[test]
    fn star_null_cells_are_leftover_values_in_grass_grids_only() {
        let grass = "north: 2\nsouth: 0\neast: 2\nwest: 0\nrows: 2\ncols: 2\n";
        let t = examine(&format!("{grass}1 *\n3 4\n* 6\n")).expect("accepted");
        assert_eq!((t.kind, t.tokens), (TrailingKind::Leftover, 2));
        assert_eq!(examine(&format!("{H}1 2\n3 4\n* 6\n")), None);
    }

    #[test]
    fn leftover_values_after_ragged_rows_stay_an_error() {
        assert_eq!(examine(&format!("{H}1 2 3\n4\n5 6\n")), None);
        assert_eq!(examine(&format!("{H}1 2\n3 4 5\n6\n")), None);
    }

    #[test]
    fn values_words_and_binary_bytes_are_no_trailer() {
        assert_eq!(examine(&format!("{H}1 2 3\n4\nnan\n")), None);
        assert_eq!(examine(&format!("{H}1 2 3 4\nNOTES\0\n")), None);
        assert_eq!(examine(&format!("{H}1 2 3 4\n#comment\n")), None);
    }

    #[test]
    fn content_on_the_last_values_line_stays_an_error() {
        assert_eq!(examine(&format!("{H}1 2\n3 4 NOTES\n")), None);
        assert_eq!(examine(&format!("{H}1 2\n3 4 5\n")), None);
    }

    #[test]
    fn a_stop_inside_the_grid_is_a_real_error() {
        let text = format!("{H}1 x\n3 4\nNOTES\n");
        let header = parse_whole_header(text.as_bytes()).expect("header");
        assert_eq!(
            examine_text(text.as_bytes(), &header, H.len() as u64 + 2),
            None
        );
    }
}
