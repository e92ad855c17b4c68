//! Where the chunks of a body come from: text already in memory, or a large plain file read
//! window by window. Reading a big file whole costs more than parsing it: the kernel must
//! zero every page of a fresh buffer as large as the file before the copy lands in it. A
//! window per chunk, read into a small buffer each thread reuses, costs one copy from the
//! page cache into memory that stays in cache for the parse, and keeps the text out of the
//! process's peak memory (a 3 GB grid needs only its cells).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Seek};
use std::ops::Range;
use std::path::Path;

use crate::chunk::{self, Stop, Survey};
use crate::control::Control;
use crate::error::{line_column_streamed, Error};
use crate::header::{parse_header, Header, HeaderParse};
use crate::limits::check_room;
use crate::parallel::{consecutive_mut, map_items};
use crate::scan::{chunk_size, count_tokens, fixed_chunks, is_space, worth_parallel, ChunkCount};
use crate::source::{self, ReadBuffer};

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

/// Bytes read past a chunk's end for the value that starts in it and runs on. More than the
/// longest token a number can be ([`crate::value::MAX_TOKEN`]): a token that has not ended
/// there is refused from what is read, so no token, however long, is read twice.
const TAIL: usize = 512;

/// Chunks counted in the survey's first round; each later round counts twice as many, up to
/// [`MAX_ROUND`]. A body that is certainly bad (see [`WindowedFile::survey`]) early on is not
/// read to its end.
const FIRST_ROUND: usize = 1;

/// The most chunks counted in one round (enough to keep every core busy).
const MAX_ROUND: usize = 64;

/// Bytes read to find the header; a longer header sends the file the usual way.
const HEAD: usize = 1 << 20;

thread_local! {
    /// Each thread's window, reused from chunk to chunk and from read to read.
    static WINDOW_BUFFER: RefCell<ReadBuffer> = const { RefCell::new(ReadBuffer::new()) };
}

thread_local! {
    /// Each thread's spare buffer for a small file's whole text (see [`WholeText`]).
    static SPARE_TEXT: RefCell<ReadBuffer> = const { RefCell::new(ReadBuffer::new()) };
}

/// A small file's whole text. Dropped, it becomes this thread's spare buffer for the next
/// small file: a mosaic's thousands of tiles then reuse a buffer per thread instead of
/// asking the allocator for each, and so the system where the allocator hands memory back
/// eagerly (dask's worker processes run with `MALLOC_TRIM_THRESHOLD_=65536`, under which
/// every tile's text cost fresh, zeroed pages).
pub struct WholeText(ReadBuffer);

impl WholeText {
    /// The text of `file`, `len` bytes long when it was opened, read into this thread's
    /// spare buffer if any; a file grown since is read one byte longer (the caller's
    /// [`FileIdentity`] check then refuses it). A text worth it is read in parallel pieces,
    /// one positioned read each (see [`crate::parallel`]): a 3.6 MB file took 1.1 ms to
    /// copy from the page cache on one thread.
    fn read(file: &mut File, len: usize, control: &Control) -> io::Result<WholeText> {
        let mut text = WholeText(SPARE_TEXT.with(|cell| std::mem::take(&mut *cell.borrow_mut())));
        let buf = text.0.room(len.saturating_add(1), 0);
        let pieces = fixed_chunks(0..len, chunk_size(len, control));
        let parallel = worth_parallel(&pieces, control);
        let got = if parallel && Self::read_pieces(file, buf, &pieces, control) {
            // Whether the file has grown since it was opened.
            file.seek(io::SeekFrom::Start(len as u64))?;
            len + source::read_full(file, &mut buf[len..])?
        } else {
            if parallel {
                // A piece fell short (the file changed since it was opened) or failed: read
                // it again from the start, as short as it now is, or with its error.
                file.seek(io::SeekFrom::Start(0))?;
            }
            source::read_full(file, buf)?
        };
        text.0.truncate(got);
        Ok(text)
    }

    /// Read `pieces` of `file` into their places in `buf`, in parallel: whether every piece
    /// was read whole.
    fn read_pieces(
        file: &File,
        buf: &mut [u8],
        pieces: &[Range<usize>],
        control: &Control,
    ) -> bool {
        let starts = pieces.iter().map(|p| p.start as u64);
        let work = starts
            .zip(consecutive_mut(buf, pieces.iter().map(|p| p.len())))
            .collect();
        let read = |(at, dst): (u64, &mut [u8])| source::read_exact_at(file, dst, at).is_ok();
        map_items(work, true, control, read)
            .into_iter()
            .all(|whole| whole)
    }
}

impl std::ops::Deref for WholeText {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.0.text()
    }
}

impl Drop for WholeText {
    fn drop(&mut self) {
        // A small file's buffer: its text, one byte more and room to place it.
        if self.0.capacity() <= WINDOWED_MIN as usize + 1024 {
            let text = std::mem::take(&mut self.0);
            SPARE_TEXT.with(|cell| *cell.borrow_mut() = text);
        }
    }
}

/// A file, opened by [`WindowedFile::open`].
pub enum Opened {
    /// A large plain file, to be read window by window.
    Windowed(WindowedFile),
    /// A small file's bytes (plain or gzip), read in one call.
    Whole(WholeText),
    /// A large gzip file, or one whose header runs past its first MiB: read it as a stream.
    Stream,
    /// Not a regular file (a FIFO, a pipe such as `/dev/stdin`, a character device): its
    /// size says nothing about its text, which is read from this handle as a stream within
    /// a [`source::BodyBudget`] (opening it again could lose what was read, or block).
    NonRegular(File),
}

/// A large plain file whose header is parsed and whose body is read window by window.
pub struct WindowedFile {
    file: File,
    len: usize,
    /// The file as it was when opened, to tell a file changed during the read.
    identity: FileIdentity,
    /// The parsed header.
    pub header: Header,
}

/// What tells a file rewritten (or replaced) during a read from the file as it was opened:
/// its size, modification time and, on unix, device and inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileIdentity {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl FileIdentity {
    /// The identity `meta` describes.
    pub(crate) fn of(meta: &std::fs::Metadata) -> Self {
        FileIdentity {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (meta.dev(), meta.ino())
            },
        }
    }

    /// An error if `path` (or the open `file` that was read) is no longer the file this
    /// identity was taken from: a read that overlapped a rewrite may hold a mix of old and
    /// new text, with no parse error to show for it.
    pub(crate) fn check(&self, file: &File, path: &Path, name: &str) -> Result<(), Error> {
        let same =
            |m: io::Result<std::fs::Metadata>| m.is_ok_and(|m| FileIdentity::of(&m) == *self);
        if same(file.metadata()) && same(std::fs::metadata(path)) {
            Ok(())
        } else {
            Err(changed_error(name))
        }
    }
}

/// What a read that overlapped a change of its file says.
pub(crate) const CHANGED: &str = "the file changed while it was being read; read it again";

/// The error for a file that changed while it was being read: an I/O error of the path (the
/// text is not wrong, the read is), which reading again fixes.
pub(crate) fn changed_error(name: &str) -> Error {
    io_error(name, io::Error::other(CHANGED))
}

impl WindowedFile {
    /// Open `path` with one `open` call, whatever it turns out to be: a plain file of at
    /// least [`WINDOWED_MIN`] bytes whose header fits its first MiB is windowed (a bad header,
    /// or one promising more values than the body can hold, is an error right here); a
    /// smaller file is read whole; anything else is left to a stream.
    pub fn open(path: &Path, name: &str, control: &Control) -> Result<Opened, Error> {
        let io_err = |e: io::Error| io_error(name, e);
        // A FIFO is opened without waiting for its writer: the wait happens in reads that
        // watch for a cancel (`pipe::Interruptible`).
        let opened = crate::pipe::open(path).map_err(io_err)?;
        if !opened.regular {
            return Ok(Opened::NonRegular(opened.file));
        }
        let (mut file, meta) = (opened.file, opened.meta);
        let identity = FileIdentity::of(&meta);
        let size = meta.len();
        let Ok(len) = usize::try_from(size) else {
            return Ok(Opened::Stream);
        };
        if size < WINDOWED_MIN {
            let bytes = WholeText::read(&mut file, len, control).map_err(io_err)?;
            identity.check(&file, path, name)?;
            return Ok(Opened::Whole(bytes));
        }
        let mut buffer = ReadBuffer::new();
        source::read_exact_at(&file, buffer.room(HEAD, 0), 0).map_err(io_err)?;
        let head = buffer.text();
        if source::is_gzip(head) {
            return Ok(Opened::Stream);
        }
        let header = match parse_header(head, false) {
            Ok(HeaderParse::Complete(h)) => h,
            Ok(HeaderParse::NeedMore) => return Ok(Opened::Stream),
            Err(e) => return Err(Error::Parse(e.locate(name, head))),
        };
        let body_len = (len - header.body_offset) as u64;
        check_room(&header, body_len, name, head)?;
        control.add_total(body_len);
        Ok(Opened::Windowed(WindowedFile {
            file,
            len,
            identity,
            header,
        }))
    }

    /// `result` of reading this file, unless the file at `path` is no longer the one opened
    /// (see [`FileIdentity`]): then the read may hold a mix of old and new text, whatever it
    /// found, and the error says so. A cancel stays a cancel.
    pub fn unless_changed<T>(
        &self,
        path: &Path,
        name: &str,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        match result {
            Err(Error::Cancelled) => Err(Error::Cancelled),
            result => self.identity.check(&self.file, path, name).and(result),
        }
    }

    /// The caller's error for a stop of this file's body (a grid of `cells` values).
    pub fn error(&self, stop: Stop, name: &str, cells: u64) -> Error {
        stop.into_error(name, cells, |loc| {
            // Lines are counted only now, window by window up to the problem, in constant
            // memory however far into the file it is.
            let (line, column) =
                line_column_streamed(loc.offset, self.len as u64, WINDOW, |at, buf| {
                    source::read_exact_at(&self.file, buf, at)
                })
                .unwrap_or((1, 1));
            loc.at(name, line, column)
        })
    }

    /// End the text at offset `end` (the end of the grid, when what follows is trailing
    /// content read around: see [`crate::trailing`]).
    pub fn end_at(&mut self, end: u64) {
        self.len = usize::try_from(end).map_or(self.len, |end| end.min(self.len));
    }

    /// The body's range in the file.
    pub fn body(&self) -> Range<usize> {
        self.header.body_offset..self.len
    }

    /// The first pass: count every chunk's values, reading each window once.
    ///
    /// Chunks are counted in rounds (1, 2, 4, … up to [`MAX_ROUND`] chunks), and the survey
    /// stops after a round that shows the body certainly bad: more values than the header's
    /// `ncols × nrows`, or a chunk without a single separator (a token longer than any
    /// number: a run of NUL bytes, say). The second pass then parses only the
    /// chunks surveyed, and the first problem in them is the file's first problem: a run of
    /// gigabytes of garbage after a grid costs a few windows, not a read of it all. The data
    /// type is then chosen from the surveyed text (as for compressed text, see
    /// [`source::BodyBudget`]).
    pub fn survey(&self, control: &Control) -> Result<Survey, Stop> {
        let mut chunks = fixed_chunks(self.body(), WINDOW);
        let cells = self.header.cells();
        let mut counts: Vec<ChunkCount> = Vec::with_capacity(chunks.len());
        let mut round = FIRST_ROUND;
        while counts.len() < chunks.len() {
            let batch = &chunks[counts.len()..chunks.len().min(counts.len() + round)];
            let count = |range: &Range<usize>| {
                if control.is_cancelled() {
                    return Err(Stop::Cancelled);
                }
                // The chunk and the byte before it: whether a token runs into the chunk.
                let found = self.read_window(range.start - 1..range.end, |text| {
                    let count = count_tokens(&text[1..], !is_space(text[0]));
                    (count, certainly_bad(&text[1..], &count))
                })?;
                control.advance(chunk::survey_share(range.len()));
                Ok(found)
            };
            let found = map_items(
                batch.iter().collect(),
                worth_parallel(batch, control),
                control,
                count,
            )
            .into_iter()
            .collect::<Result<Vec<_>, Stop>>()?;
            let mut bad = false;
            for (count, chunk_bad) in found {
                counts.push(count);
                bad |= chunk_bad;
            }
            let tokens: u64 = counts.iter().map(|c| c.tokens).sum();
            if bad || tokens > cells {
                chunks.truncate(counts.len());
                break;
            }
            round = (round * 2).min(MAX_ROUND);
        }
        Ok(Survey { chunks, counts })
    }

    /// Read `span` of the file into this thread's window buffer and give it to `f`. The span
    /// is clamped to the file's length as it was opened.
    fn read_window<R>(&self, span: Range<usize>, f: impl FnOnce(&[u8]) -> R) -> Result<R, Stop> {
        let span = span.start..span.end.min(self.len);
        WINDOW_BUFFER.with(|cell| {
            let mut buf = cell.borrow_mut();
            let text = buf.room(span.len(), span.start as u64);
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
            Ok(f(text))
        })
    }
}

/// Whether a surveyed chunk (`count` its count) shows the body certainly bad: no separator
/// at all in it, so a token runs through the whole window (a NUL run after a grid, say), far
/// longer than any number. Cheap: the search runs only for a chunk in which no token starts.
fn certainly_bad(chunk: &[u8], count: &ChunkCount) -> bool {
    count.tokens == 0 && !chunk.is_empty() && !chunk.iter().any(|&b| is_space(b))
}

impl ChunkText for WindowedFile {
    fn with_chunk<R>(
        &self,
        range: &Range<usize>,
        f: impl FnOnce(&[u8], Range<usize>, u64) -> Result<R, Stop>,
    ) -> Result<R, Stop> {
        // The byte before the chunk says whether its first token started earlier; the tail
        // holds the end of the last token that starts in it, or (if that token runs on past
        // it) more of it than any number has: the parser refuses it from that much.
        let start = range.start - 1;
        let end = range.end.saturating_add(TAIL).min(self.len);
        self.read_window(start..end, |text| {
            f(text, range.start - start..range.end - start, start as u64)
        })?
    }
}

fn io_error(name: &str, source: io::Error) -> Error {
    Error::Io {
        path: name.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;

    /// A file of `len` bytes of varied text, and its path (removed by the caller).
    fn text_file(tag: &str, len: usize) -> (std::path::PathBuf, Vec<u8>) {
        let text: Vec<u8> = (0..len)
            .map(|i| b"0123456789 \n"[(i * 7 + i / 13) % 12])
            .collect();
        let path =
            std::env::temp_dir().join(format!("asciigrid-whole-{tag}-{}.asc", std::process::id()));
        std::fs::write(&path, &text).expect("a temporary file");
        (path, text)
    }

    fn helped() -> Control {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a thread pool");
        Control::new().with_helpers(Arc::new(pool))
    }

    #[test]
    fn a_whole_text_read_in_pieces_is_the_file() {
        let len = (1 << 20) + 12_345;
        let (path, text) = text_file("pieces", len);
        let mut file = File::open(&path).expect("open");
        assert!(worth_parallel(
            &fixed_chunks(0..len, chunk_size(len, &helped())),
            &helped()
        ));
        let read = WholeText::read(&mut file, len, &helped()).expect("read");
        let alone = WholeText::read(
            &mut File::open(&path).expect("open"),
            len,
            &Control::new().on_calling_thread(),
        )
        .expect("read");
        let _ = std::fs::remove_file(&path);
        assert!(*read == text[..], "the pieces do not make up the file");
        assert!(*alone == text[..]);
    }

    #[test]
    fn a_whole_text_read_in_pieces_sees_a_file_grown_or_cut_since_it_was_opened() {
        let len = 1 << 20;
        let (path, text) = text_file("changed", len);
        // Grown after it was opened: one byte more than its length then (for the identity
        // check to refuse).
        let mut file = File::open(&path).expect("open");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"7 8 9\n"))
            .expect("append");
        let grown = WholeText::read(&mut file, len, &helped()).expect("read");
        assert_eq!(grown.len(), len + 1);
        assert!(grown[..len] == text[..]);
        assert_eq!(grown[len], b'7', "not the byte after the opened length");
        // Cut after it was opened: as short as it now is.
        let mut file = File::open(&path).expect("open");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(300_000))
            .expect("truncate");
        let cut = WholeText::read(&mut file, len, &helped()).expect("read");
        let _ = std::fs::remove_file(&path);
        assert!(*cut == text[..300_000]);
    }
}
