//! Errors: every failure names the source and, for bad text, the line and column.

use std::fmt;
use std::io;

/// What is wrong with a grid's text, for callers that branch on the cause (the message is
/// for people and may be reworded; a kind and its [`ErrorKind::name`] never change).
///
/// New kinds may be added (so a `match` needs a catch-all arm); none is ever renamed or
/// removed. docs/ROBUSTNESS.md lists each kind with an example.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The file holds no bytes at all.
    Empty,
    /// Not ASCII text: a NUL byte (binary data), a UTF-8 byte order mark or UTF-16 text.
    NotText,
    /// A header line starts with a word that is no keyword of its format.
    HeaderKeywordUnknown,
    /// A header keyword appears twice.
    HeaderKeywordDuplicate,
    /// A keyword the grid needs is absent (`ncols`, `cellsize`, half an origin, `dx`
    /// without `dy`, a GRASS bound).
    HeaderKeywordMissing,
    /// Keywords that exclude each other are both given (corner and center origin,
    /// `cellsize` and `dx`/`dy`).
    HeaderKeywordConflict,
    /// A header keyword without a value.
    HeaderValueMissing,
    /// A header value that is not a number, or lies beyond the double range.
    HeaderValueNotANumber,
    /// A header value that is a number but not an allowed one: `ncols 5.7`, `cellsize 0`,
    /// an infinite origin, `north` below `south`, an extent that overflows.
    HeaderValueInvalid,
    /// A header line that is not `keyword value` (text after the value; a GRASS line
    /// without its colon).
    HeaderSyntax,
    /// The text ends inside the header.
    HeaderIncomplete,
    /// No values after the longest header accepted (16 MiB).
    HeaderTooLong,
    /// A token of the body is not a number (or is beyond the double range, or longer than
    /// any number).
    BadValue,
    /// A value the grid's data type cannot hold: a decimal or an integer outside Int32 in
    /// an Int32 grid, a GRASS `*` null whose value an Int32 grid cannot hold. Reading with
    /// a wider `dtype` fixes it.
    DtypeTooNarrow,
    /// Fewer values than `ncols × nrows`: the text ends early, or is too small to hold
    /// them at all.
    TooFewValues,
    /// More values than `ncols × nrows`, in a way no reader can tell from a wrong header.
    TooManyValues,
    /// A data cell holds the value a GRASS grid's `*` null cells read as, so it would
    /// read as nodata.
    NodataCollision,
    /// Compressed text goes on past what its size or its header allows (a decompression
    /// bomb, a wrong size, data that is not deflate).
    BudgetExceeded,
    /// The compressed data (gzip, zip member) is corrupt or cut short.
    CorruptCompressed,
    /// Content after a complete grid, which a non-strict read accepts with a warning,
    /// refused because the read is strict.
    TrailingContent,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 20] = [
        ErrorKind::Empty,
        ErrorKind::NotText,
        ErrorKind::HeaderKeywordUnknown,
        ErrorKind::HeaderKeywordDuplicate,
        ErrorKind::HeaderKeywordMissing,
        ErrorKind::HeaderKeywordConflict,
        ErrorKind::HeaderValueMissing,
        ErrorKind::HeaderValueNotANumber,
        ErrorKind::HeaderValueInvalid,
        ErrorKind::HeaderSyntax,
        ErrorKind::HeaderIncomplete,
        ErrorKind::HeaderTooLong,
        ErrorKind::BadValue,
        ErrorKind::DtypeTooNarrow,
        ErrorKind::TooFewValues,
        ErrorKind::TooManyValues,
        ErrorKind::NodataCollision,
        ErrorKind::BudgetExceeded,
        ErrorKind::CorruptCompressed,
        ErrorKind::TrailingContent,
    ];

    /// The kind's stable lowercase name (`"bad_value"`): the value of the Python
    /// `asciigrid.ErrorKind` member.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty",
            ErrorKind::NotText => "not_text",
            ErrorKind::HeaderKeywordUnknown => "header_keyword_unknown",
            ErrorKind::HeaderKeywordDuplicate => "header_keyword_duplicate",
            ErrorKind::HeaderKeywordMissing => "header_keyword_missing",
            ErrorKind::HeaderKeywordConflict => "header_keyword_conflict",
            ErrorKind::HeaderValueMissing => "header_value_missing",
            ErrorKind::HeaderValueNotANumber => "header_value_not_a_number",
            ErrorKind::HeaderValueInvalid => "header_value_invalid",
            ErrorKind::HeaderSyntax => "header_syntax",
            ErrorKind::HeaderIncomplete => "header_incomplete",
            ErrorKind::HeaderTooLong => "header_too_long",
            ErrorKind::BadValue => "bad_value",
            ErrorKind::DtypeTooNarrow => "dtype_too_narrow",
            ErrorKind::TooFewValues => "too_few_values",
            ErrorKind::TooManyValues => "too_many_values",
            ErrorKind::NodataCollision => "nodata_collision",
            ErrorKind::BudgetExceeded => "budget_exceeded",
            ErrorKind::CorruptCompressed => "corrupt_compressed",
            ErrorKind::TrailingContent => "trailing_content",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A grid's text is not a valid ESRI ASCII grid.
///
/// `line` and `column` are 1-based and point at the first byte of the offending token, so
/// `path:line:column` can be pasted into an editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file name (or the name given to in-memory data).
    pub path: String,
    /// 1-based line of the offending byte.
    pub line: u64,
    /// 1-based column (in bytes) of the offending byte.
    pub column: u64,
    /// What is wrong, for code.
    pub kind: ErrorKind,
    /// What is wrong and, where it helps, what to do about it.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Everything the engine can fail with.
#[derive(Debug)]
pub enum Error {
    /// The text is not a valid grid.
    Parse(ParseError),
    /// The file could not be read or written.
    Io {
        /// The file concerned.
        path: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// Tiles cannot be combined (cell size or alignment differ); names the tile.
    Mosaic {
        /// The tile that does not fit.
        path: String,
        /// Why.
        message: String,
    },
    /// An argument is out of range (e.g. an unknown data type).
    Invalid(String),
    /// The caller cancelled; nothing was written.
    Cancelled,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(e) => e.fmt(f),
            Error::Io { path, source } => write!(f, "{path}: {source}"),
            Error::Mosaic { path, message } => write!(f, "{path}: {message}"),
            Error::Invalid(message) => f.write_str(message),
            Error::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Parse(e) => Some(e),
            _ => None,
        }
    }
}

/// Errors hold an `io::Error`, which is not `Clone`: a clone rebuilds it from its kind, its
/// OS error number and its text (a mosaic reports a skipped tile's error more than once).
impl Clone for Error {
    fn clone(&self) -> Self {
        match self {
            Error::Parse(p) => Error::Parse(p.clone()),
            Error::Io { path, source } => Error::Io {
                path: path.clone(),
                source: match source.raw_os_error() {
                    Some(code) => io::Error::from_raw_os_error(code),
                    None => io::Error::new(source.kind(), source.to_string()),
                },
            },
            Error::Mosaic { path, message } => Error::Mosaic {
                path: path.clone(),
                message: message.clone(),
            },
            Error::Invalid(m) => Error::Invalid(m.clone()),
            Error::Cancelled => Error::Cancelled,
        }
    }
}

/// What the operating system said, without the ` (os error N)` Rust appends (the number is
/// reported on its own, as Python's `OSError.errno`).
pub fn os_message(e: &io::Error) -> String {
    let full = e.to_string();
    match (e.raw_os_error(), full.rfind(" (os error ")) {
        (Some(_), Some(cut)) => full[..cut].to_owned(),
        _ => full,
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}

/// A parse failure located by byte offset only; turned into a [`ParseError`] (with line and
/// column) once, at the end, by [`Located::locate`]. Hot loops carry this small value
/// instead of counting lines as they go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Byte offset of the offending byte in the whole (decompressed) text.
    pub offset: u64,
    /// What is wrong, for code.
    pub kind: ErrorKind,
    /// What is wrong.
    pub message: String,
}

impl Located {
    /// A failure of `kind` at `offset`.
    pub(crate) fn new(offset: u64, kind: ErrorKind, message: impl Into<String>) -> Self {
        Located {
            offset,
            kind,
            message: message.into(),
        }
    }

    /// The [`ParseError`] of this failure at 1-based `line` and `column` of `path`.
    pub fn at(self, path: &str, line: u64, column: u64) -> ParseError {
        ParseError {
            path: path.to_owned(),
            line,
            column,
            kind: self.kind,
            message: self.message,
        }
    }

    /// Turn into a [`ParseError`], counting lines in `text` (which must start at offset 0).
    pub fn locate(self, path: &str, text: &[u8]) -> ParseError {
        let (line, column) = line_column(text, self.offset);
        self.at(path, line, column)
    }
}

/// The line ends in `bytes` (LF, CRLF, or a lone CR, as GDAL splits lines) and the offset
/// just past the last one. `next` is the byte after `bytes`, if known, so that a CR at the
/// very end is not counted when an LF follows it (the LF counts).
pub(crate) fn line_ends(bytes: &[u8], next: Option<u8>) -> (u64, Option<usize>) {
    let mut count = 0u64;
    let mut last = None;
    for (i, &b) in bytes.iter().enumerate() {
        let after = bytes.get(i + 1).copied().or(next);
        if b == b'\n' || (b == b'\r' && after != Some(b'\n')) {
            count += 1;
            last = Some(i + 1);
        }
    }
    (count, last)
}

/// 1-based (line, column) of byte `offset` in `text`.
pub(crate) fn line_column(text: &[u8], offset: u64) -> (u64, u64) {
    let end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(text.len());
    let (lines, last) = line_ends(&text[..end], text.get(end).copied());
    (1 + lines, (end - last.unwrap_or(0)) as u64 + 1)
}

/// [`line_column`] of byte `offset` in a text of `len` bytes that is not in memory, in
/// constant memory: `read(at, buf)` fills `buf` with the text from offset `at`, one window
/// of `window` bytes (plus the byte after it, which says whether a CR at the window's end is
/// followed by an LF) at a time.
pub(crate) fn line_column_streamed(
    offset: u64,
    len: u64,
    window: usize,
    mut read: impl FnMut(u64, &mut [u8]) -> io::Result<()>,
) -> io::Result<(u64, u64)> {
    let end = offset.min(len);
    let window = window.max(1);
    let mut buf = vec![0u8; window + 1];
    let (mut lines, mut line_start, mut at) = (0u64, 0u64, 0u64);
    while at < end {
        let n = usize::try_from(end - at).map_or(window, |left| left.min(window));
        let with_next = if at + (n as u64) < len { n + 1 } else { n };
        read(at, &mut buf[..with_next])?;
        let (count, last) = line_ends(&buf[..n], buf[..with_next].get(n).copied());
        lines += count;
        if let Some(p) = last {
            line_start = at + p as u64;
        }
        at += n as u64;
    }
    Ok((1 + lines, end - line_start + 1))
}

/// Show a token in a message: printable, and cut short if it is long.
pub(crate) fn show_token(token: &[u8]) -> String {
    const MAX: usize = 40;
    let cut = &token[..token.len().min(MAX)];
    let mut s: String = String::from_utf8_lossy(cut)
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if token.len() > MAX {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counting window by window gives what counting the whole text gives, wherever the
    /// windows cut (between a CR and its LF too).
    #[test]
    fn streamed_line_column_equals_whole_text() {
        let text = b"ab\r\ncd\r\re\n\nf\rg\r\n\r\nhij\r";
        for window in 1..=text.len() + 1 {
            for offset in 0..=text.len() as u64 + 2 {
                let streamed =
                    line_column_streamed(offset, text.len() as u64, window, |at, buf| {
                        let at = at as usize;
                        buf.copy_from_slice(&text[at..at + buf.len()]);
                        Ok(())
                    })
                    .unwrap();
                assert_eq!(streamed, line_column(text, offset), "{window} {offset}");
            }
        }
    }
}
