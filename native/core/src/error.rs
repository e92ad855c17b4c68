//! Errors: every failure names the source and, for bad text, the line and column.

use std::fmt;
use std::io;

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
    /// What is wrong.
    pub message: String,
}

impl Located {
    /// A failure at `offset`.
    pub(crate) fn new(offset: u64, message: impl Into<String>) -> Self {
        Located {
            offset,
            message: message.into(),
        }
    }

    /// Turn into a [`ParseError`], counting lines in `text` (which must start at offset 0).
    pub fn locate(self, path: &str, text: &[u8]) -> ParseError {
        let (line, column) = line_column(text, self.offset);
        ParseError {
            path: path.to_owned(),
            line,
            column,
            message: self.message,
        }
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
