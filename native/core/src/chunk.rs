//! What the two passes over a body's chunks report, shared by the parser ([`crate::body`])
//! and the texts that hand out chunks ([`crate::window`]): why a chunk stopped, what the
//! first pass counted, and each pass's share of progress. It sits below both, so the
//! windowed reader can run a survey without importing the parser that uses its windows.

use std::ops::Range;

use crate::error::{Error, ErrorKind, Located, ParseError};
use crate::scan::ChunkCount;

/// Why a chunk stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A token is not a value.
    Bad(Located),
    /// The text ended before the grid was full (see `too_few`).
    Short(Located),
    /// A value came after the sink was full; its offset.
    Extra(u64),
    /// The caller cancelled.
    Cancelled,
    /// The text could not be read (a file read window by window).
    Io {
        /// The operating system's kind of error.
        kind: std::io::ErrorKind,
        /// What it said.
        message: String,
    },
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// The problem of a body that ends after `found` of its `cells` values, at offset `at`.
pub(crate) fn too_few(found: u64, cells: u64, at: u64) -> Located {
    Located::new(
        at,
        ErrorKind::TooFewValues,
        format!(
            "the file ends after {found} values, but ncols × nrows = {cells}; it is \
             truncated, or the header's ncols or nrows is wrong"
        ),
    )
}

impl Stop {
    /// The caller's error for this stop in a grid of `cells` values from source `name`;
    /// `locate` turns an offset into line and column (the whole text, or a stream's current
    /// block, knows how).
    pub fn into_error(
        self,
        name: &str,
        cells: u64,
        locate: impl FnOnce(Located) -> ParseError,
    ) -> Error {
        match self {
            Stop::Bad(loc) | Stop::Short(loc) => Error::Parse(locate(loc)),
            Stop::Extra(at) => Error::Parse(locate(Located::new(
                at,
                ErrorKind::TooManyValues,
                format!(
                    "more values than ncols × nrows = {cells}: the header's ncols or nrows is \
                     wrong, or the file has trailing data"
                ),
            ))),
            Stop::Cancelled => Error::Cancelled,
            Stop::Io { kind, message } => Error::Io {
                path: name.to_owned(),
                source: std::io::Error::new(kind, message),
            },
        }
    }

    /// Where a parse that stopped here may have met content after the grid (a value past
    /// `ncols × nrows`, or a token that is not one): the offset to examine, see
    /// [`crate::trailing`].
    pub fn trailing_at(&self) -> Option<u64> {
        match self {
            Stop::Bad(e) => Some(e.offset),
            Stop::Extra(at) => Some(*at),
            Stop::Short(_) | Stop::Cancelled | Stop::Io { .. } => None,
        }
    }

    fn offset(&self) -> u64 {
        match self {
            Stop::Bad(e) | Stop::Short(e) => e.offset,
            Stop::Extra(at) => *at,
            Stop::Cancelled | Stop::Io { .. } => 0,
        }
    }
}

/// What the first pass found in a body.
#[derive(Debug, Clone)]
pub struct Survey {
    /// Chunk ranges (into the text); each owns the values that start in it.
    pub chunks: Vec<Range<usize>>,
    /// Per-chunk token counts and float markers.
    pub counts: Vec<ChunkCount>,
}

impl Survey {
    /// Total number of tokens (the whole-grid readers compare counts chunk by chunk instead;
    /// a grid read strip by strip needs the total to equal its cells).
    pub fn tokens(&self) -> u64 {
        self.counts.iter().map(|c| c.tokens).sum()
    }

    /// Whether any chunk has a float marker (GDAL's Float32 rule).
    pub fn float_marker(&self) -> bool {
        self.counts.iter().any(|c| c.float_marker)
    }
}

/// The share of a chunk's bytes reported as done after the survey pass; the parse pass
/// (the slow one) reports the rest, so progress ends at exactly the body's size.
pub(crate) fn survey_share(len: usize) -> u64 {
    len as u64 / 4
}

/// See [`survey_share`].
pub(crate) fn parse_share(len: usize) -> u64 {
    len as u64 - survey_share(len)
}

/// All the values, or the problem that comes first in the text (a cancel beats everything).
pub(crate) fn earliest<V>(results: Vec<Result<V, Stop>>) -> Result<Vec<V>, Stop> {
    let mut values = Vec::with_capacity(results.len());
    let mut first: Option<Stop> = None;
    for r in results {
        match r {
            Ok(v) => values.push(v),
            Err(Stop::Cancelled) => return Err(Stop::Cancelled),
            Err(e) => {
                if first.as_ref().is_none_or(|f| e.offset() < f.offset()) {
                    first = Some(e);
                }
            }
        }
    }
    match first {
        Some(e) => Err(e),
        None => Ok(values),
    }
}
