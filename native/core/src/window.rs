//! Where the chunks of a body come from: text already in memory, or a large plain file read
//! window by window. Reading a big file whole costs more than parsing it: the kernel must
//! zero every page of a fresh buffer as large as the file before the copy lands in it. A
//! window per chunk, read into a small buffer each thread reuses, costs one copy from the
//! page cache into memory that stays in cache for the parse, and keeps the text out of the
//! process's peak memory (a 3 GB grid needs only its cells).

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;

use crate::body::{self, Stop, Survey};
use crate::control::Control;
use crate::error::Error;
use crate::grid::{check_room, header_error};
use crate::header::{parse_header, Header, HeaderError};
use crate::scan::{count_tokens, fixed_chunks};
use crate::source;

/// Text that hands out its chunks: each call gets a text holding the chunk (and what is
/// needed around it), the chunk's range within that text, and that text's offset in the
/// whole body's text (for error positions).
pub trait ChunkText: Sync {
    /// Call `f(text, range, base)` for the chunk `range` of the whole text.
    fn with_chunk<R>(
        &self,
        range: &Range<usize>,
        f: impl FnOnce(&[u8], Range<usize>, u64) -> Result<R, Stop>,
    ) -> Result<R, Stop>;
}

/// A stretch of text in memory whose first byte is at offset `base` of the whole text.
#[derive(Debug, Clone, Copy)]
pub struct InMemory<'a> {
    /// The text.
    pub text: &'a [u8],
    /// Offset of `text[0]` in the whole text.
    pub base: u64,
}

impl<'a> InMemory<'a> {
    /// The whole text.
    pub fn new(text: &'a [u8]) -> Self {
        InMemory { text, base: 0 }
    }
}

impl ChunkText for InMemory<'_> {
    #[inline]
    fn with_chunk<R>(
        &self,
        range: &Range<usize>,
        f: impl FnOnce(&[u8], Range<usize>, u64) -> Result<R, Stop>,
    ) -> Result<R, Stop> {
        f(self.text, range.clone(), self.base)
    }
}

/// Files at least this large are read window by window; smaller ones (tiles) whole, in one
/// read, which is cheaper for them.
pub const WINDOWED_MIN: u64 = 4 << 20;

/// Bytes per chunk of a windowed file: small enough to stay in a core's cache between the
/// read and the parse, large enough that a read call per chunk costs nothing.
const WINDOW: usize = 1 << 20;

/// Bytes read past a chunk's end for the value that starts in it and runs on (more are read
/// only for a longer token, which cannot be a number anyway).
const TAIL: usize = 256;

/// Bytes read to find the header; a longer header sends the file the usual way.
const HEAD: usize = 1 << 20;

thread_local! {
    /// Each thread's window, reused from chunk to chunk and from read to read.
    static WINDOW_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A file, opened by [`WindowedFile::open`].
pub enum Opened {
    /// A large plain file, to be read window by window.
    Windowed(WindowedFile),
    /// A small file's bytes (plain or gzip), read in one call.
    Whole(Vec<u8>),
    /// A large gzip file, or one whose header runs past its first MiB: read it as a stream.
    Stream,
}

/// A large plain file whose header is parsed and whose body is read window by window.
pub struct WindowedFile {
    file: File,
    len: usize,
    /// The parsed header.
    pub header: Header,
}

impl WindowedFile {
    /// Open `path` with one `open` call, whatever it turns out to be: a plain file of at
    /// least [`WINDOWED_MIN`] bytes whose header fits its first MiB is windowed (a bad header,
    /// or one promising more values than the body can hold, is an error right here); a
    /// smaller file is read whole; anything else is left to a stream.
    pub fn open(path: &Path, name: &str, control: &Control) -> Result<Opened, Error> {
        let io_err = |e: io::Error| io_error(name, e);
        let mut file = File::open(path).map_err(io_err)?;
        let size = file.metadata().map_err(io_err)?.len();
        let Ok(len) = usize::try_from(size) else {
            return Ok(Opened::Stream);
        };
        if size < WINDOWED_MIN {
            let mut bytes = Vec::with_capacity(len + 1);
            io::Read::read_to_end(&mut file, &mut bytes).map_err(io_err)?;
            return Ok(Opened::Whole(bytes));
        }
        let mut head = vec![0u8; HEAD];
        source::read_exact_at(&file, &mut head, 0).map_err(io_err)?;
        if source::is_gzip(&head) {
            return Ok(Opened::Stream);
        }
        let header = match parse_header(&head, false) {
            Ok(h) => h,
            Err(HeaderError::NeedMore) => return Ok(Opened::Stream),
            Err(e) => return Err(header_error(e, name, &head)),
        };
        let body_len = (len - header.body_offset) as u64;
        check_room(&header, body_len, name, &head)?;
        control.add_total(body_len);
        Ok(Opened::Windowed(WindowedFile { file, len, header }))
    }

    /// The caller's error for a stop of this file's body (a grid of `cells` values).
    pub fn error(&self, stop: Stop, name: &str, cells: u64) -> Error {
        stop.into_error(name, cells, |loc| {
            // Lines are counted only now, in the text up to the problem.
            let end =
                usize::try_from(loc.offset).map_or(self.len, |o| o.saturating_add(1).min(self.len));
            let mut text = vec![0u8; end];
            if source::read_exact_at(&self.file, &mut text, 0).is_err() {
                text.clear();
            }
            loc.locate(name, &text)
        })
    }

    /// The body's range in the file.
    pub fn body(&self) -> Range<usize> {
        self.header.body_offset..self.len
    }

    /// The first pass: count every chunk's values, reading each window once.
    pub fn survey(&self, control: &Control) -> Result<Survey, Stop> {
        let chunks = fixed_chunks(self.body(), WINDOW);
        let counts = chunks
            .par_iter()
            .map(|range| {
                if control.is_cancelled() {
                    return Err(Stop::Cancelled);
                }
                // The chunk and the byte before it: whether a token runs into the chunk.
                let count = self.read_window(range.start - 1..range.end, |text| {
                    count_tokens(&text[1..], !crate::scan::is_space(text[0]))
                })?;
                control.advance(body::survey_share(range.len()));
                Ok(count)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Survey { chunks, counts })
    }

    /// Read `span` of the file into this thread's window buffer and give it to `f`. The span
    /// is clamped to the file's length as it was opened.
    fn read_window<R>(&self, span: Range<usize>, f: impl FnOnce(&[u8]) -> R) -> Result<R, Stop> {
        let span = span.start..span.end.min(self.len);
        WINDOW_BUFFER.with(|cell| {
            let mut buf = cell.borrow_mut();
            if buf.len() < span.len() {
                buf.resize(span.len(), 0);
            }
            let text = &mut buf[..span.len()];
            source::read_exact_at(&self.file, text, span.start as u64).map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    Stop::from(io::Error::new(
                        e.kind(),
                        "the file got shorter while it was being read; read it again",
                    ))
                } else {
                    Stop::from(e)
                }
            })?;
            let result = f(text);
            // A window grown for one freak token does not stay with the thread.
            if buf.len() > 4 * (WINDOW + TAIL) {
                *buf = Vec::new();
            }
            Ok(result)
        })
    }
}

impl ChunkText for WindowedFile {
    fn with_chunk<R>(
        &self,
        range: &Range<usize>,
        f: impl FnOnce(&[u8], Range<usize>, u64) -> Result<R, Stop>,
    ) -> Result<R, Stop> {
        // The byte before the chunk says whether its first token started earlier; the tail
        // holds the end of the last token that starts in it.
        let start = range.start - 1;
        let mut f = Some(f);
        let mut tail = TAIL;
        loop {
            let end = range.end.saturating_add(tail).min(self.len);
            let done = self.read_window(start..end, |text| {
                let ends_token = end == self.len
                    || text[range.end - start..]
                        .iter()
                        .any(|&b| crate::scan::is_space(b));
                if !ends_token {
                    return None;
                }
                f.take()
                    .map(|f| f(text, range.start - start..range.end - start, start as u64))
            })?;
            match done {
                Some(result) => return result,
                None => tail = tail.saturating_mul(16),
            }
        }
    }
}

fn io_error(name: &str, source: io::Error) -> Error {
    Error::Io {
        path: name.to_owned(),
        source,
    }
}
