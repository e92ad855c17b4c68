//! Reading a grid's text block by block, for work that must not hold the whole file (or the
//! whole decompressed stream) in memory: statistics and mosaics. Blocks end at whitespace, so
//! the chunk parser of [`crate::body`] runs on them unchanged; byte offsets stay absolute and
//! line counts are carried from block to block, so errors still name line and column.

use std::io::Read;

use crate::error::{line_ends, Error, Located, ParseError};
use crate::header::Header;
use crate::input::{self, Input};
use crate::scan::is_space;
use crate::source::{self, BodyBudget};

/// Size of the blocks read from the input.
pub(crate) const BLOCK: usize = 8 << 20;

/// A grid's text, one block at a time, after its header.
pub(crate) struct BlockStream<'a> {
    name: String,
    reader: Box<dyn Read + Send + 'a>,
    buf: Vec<u8>,
    /// Absolute offset of `buf[0]`.
    buf_start: u64,
    /// How many bytes of `buf` the current block covers.
    block_len: usize,
    ended: bool,
    /// Limits on decompressed text (only for compressed input).
    budget: Option<BodyBudget>,
    /// Newlines before `buf[0]`.
    lines_before: u64,
    /// Absolute offset where the line containing `buf[0]` starts.
    line_start: u64,
    /// Whether lines are counted (for [`BlockStream::locate`]); a scan that reports no
    /// position skips counting them (see [`BlockStream::unlocated`]).
    count_lines: bool,
    /// The header (and the text it was read from, kept for locating header errors).
    pub(crate) header: Header,
}

impl<'a> BlockStream<'a> {
    /// Open `input` and read its header. Compressed text, and a stream of unknown size (a
    /// FIFO), is read within a [`BodyBudget`], so a decompression bomb or an endless stream
    /// fails (with its position) instead of streaming on for ever; a compressed file whose
    /// header promises more values than its size can hold fails right after the header.
    pub(crate) fn open(input: Input<'a>, name: &str) -> Result<Self, Error> {
        let (mut reader, bound) = input::open_tracked(input, name)?;
        let (header, buf, ended) =
            source::read_header_text(&mut reader, name, source::HEADER_STEP)?;
        if let Some(max) = bound.max_text {
            source::check_compressed_room(&header, max, name, &buf)?;
        }
        let mut budget = bound.budget.then(|| {
            BodyBudget::new(header.cells(), header.body_offset as u64).with_max_text(bound.max_text)
        });
        let mut stop = false;
        if let Some(b) = &mut budget {
            stop = b
                .feed(&buf[header.body_offset..])
                .map_err(|e| Error::Parse(e.locate(name, &buf)))?;
        }
        let mut stream = BlockStream {
            name: name.to_owned(),
            reader,
            buf,
            buf_start: 0,
            block_len: 0,
            ended,
            budget,
            lines_before: 0,
            line_start: 0,
            count_lines: true,
            header,
        };
        if stop {
            stream.stop_early();
        }
        let body = stream.header.body_offset;
        stream.consume(body);
        Ok(stream)
    }

    /// The budget saw a value past the grid: end the text just after it.
    fn stop_early(&mut self) {
        if let Some(at) = self.budget.as_ref().and_then(BodyBudget::stop_at) {
            let keep = usize::try_from(at.saturating_sub(self.buf_start)).unwrap_or(usize::MAX);
            self.buf.truncate(keep);
        }
        self.ended = true;
    }

    /// The stream for a scan that locates nothing (its errors are ignored or carry no
    /// position): the blocks' lines are not counted, which was a fifth of such a scan.
    /// [`BlockStream::locate`] then gives wrong lines and columns.
    pub(crate) fn unlocated(mut self) -> Self {
        self.count_lines = false;
        self
    }

    /// Drop the first `n` bytes of the buffer, keeping line counts right.
    fn consume(&mut self, n: usize) {
        if self.count_lines {
            let (lines, last) = line_ends(&self.buf[..n], self.buf.get(n).copied());
            self.lines_before += lines;
            if let Some(p) = last {
                self.line_start = self.buf_start + p as u64;
            }
        }
        self.buf.drain(..n);
        self.buf_start += n as u64;
    }

    /// Move to the next block (ending at whitespace or the end of the text); returns its
    /// absolute offset, or `None` at the end. [`BlockStream::block`] gives its bytes.
    pub(crate) fn next_block(&mut self) -> Result<Option<u64>, Error> {
        self.next_block_within(BLOCK)
    }

    /// [`BlockStream::next_block`], reading until the buffer holds `limit` bytes (fewer than
    /// [`BLOCK`]: for work that usually stops early, as a look for the first float marker).
    pub(crate) fn next_block_within(&mut self, limit: usize) -> Result<Option<u64>, Error> {
        let done = self.block_len;
        self.consume(done);
        self.block_len = 0;
        while !self.ended && self.buf.len() < limit {
            let want = limit - self.buf.len();
            let before = self.buf.len();
            self.ended = match source::fill_fallible(&mut self.reader, &mut self.buf, want) {
                Ok(ended) => ended,
                Err(e) => {
                    let end = self.buf_start + self.buf.len() as u64;
                    return Err(match source::corrupt_message(&e) {
                        Some(m) => Error::Parse(self.locate(Located::new(
                            end,
                            crate::error::ErrorKind::CorruptCompressed,
                            m,
                        ))),
                        None => Error::Io {
                            path: self.name.clone(),
                            source: e,
                        },
                    });
                }
            };
            if let Some(budget) = &mut self.budget {
                match budget.feed(&self.buf[before..]) {
                    Ok(false) => {}
                    Ok(true) => self.stop_early(),
                    Err(e) => return Err(Error::Parse(self.locate(e))),
                }
            }
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        let len = if self.ended {
            self.buf.len()
        } else {
            // Never cut after the very last byte read: what follows it (a CR's LF) must be
            // known when the block's lines are counted.
            let known = &self.buf[..self.buf.len() - 1];
            match known.iter().rposition(|&b| is_space(b)) {
                Some(p) => p + 1,
                // One token longer than a whole block: take it all and let it fail to parse.
                None => self.buf.len(),
            }
        };
        self.block_len = len;
        Ok(Some(self.buf_start))
    }

    /// The current block's bytes.
    pub(crate) fn block(&self) -> &[u8] {
        &self.buf[..self.block_len]
    }

    /// Absolute offset of the end of the text read so far.
    pub(crate) fn position(&self) -> u64 {
        self.buf_start + self.block_len as u64
    }

    /// A [`ParseError`] for a problem at absolute offset `at`, which lies in the current
    /// buffer (or at its end).
    pub(crate) fn locate(&self, problem: Located) -> ParseError {
        let rel = usize::try_from(problem.offset.saturating_sub(self.buf_start))
            .unwrap_or(usize::MAX)
            .min(self.buf.len());
        let (lines, last) = line_ends(&self.buf[..rel], self.buf.get(rel).copied());
        let line = self.lines_before + lines + 1;
        let line_start = last.map_or(self.line_start, |p| self.buf_start + p as u64);
        let column = problem.offset - line_start + 1;
        problem.at(&self.name, line, column)
    }

    /// The name used in messages.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}
