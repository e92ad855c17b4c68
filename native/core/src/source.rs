//! Getting a grid's text: from a file (plain or gzip, recognised by its magic bytes, so the
//! extension does not matter), from bytes in memory, or from a member of a zip archive
//! (see [`crate::archive`]).

use std::fs::File;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use crate::control::Control;
use crate::error::{Error, ErrorKind};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `bytes` start like gzip data: the one gzip check every reader uses.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// An I/O error reading `name` (a cancelled wait is [`Error::Cancelled`]).
pub(crate) fn io_error(name: &str, source: io::Error) -> Error {
    if crate::pipe::is_cancelled(&source) {
        return Error::Cancelled;
    }
    Error::Io {
        path: name.to_owned(),
        source,
    }
}

pub(crate) fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The whole text of a FIFO, a pipe or a device opened by [`crate::pipe::open`], read as a
/// stream within a [`BodyBudget`], in waits that end when `control` is cancelled.
pub(crate) fn load_stream(file: File, name: &str, control: &Control) -> Result<Vec<u8>, Error> {
    load_reader(
        &mut crate::pipe::Interruptible::new(file, control),
        name,
        None,
    )
}

/// The whole text of a file opened by [`crate::pipe::open`]: a regular file's bytes as they
/// are (its size is known, and the parser checks it against the header), gzip within a
/// [`BodyBudget`] and what its size can hold; anything else (a FIFO, a pipe, a device) as a
/// stream within a [`BodyBudget`]. With the metadata taken at the open, a small tile costs
/// one `open`, one `fstat` and two reads.
pub(crate) fn load_opened(opened: crate::pipe::OpenedFile, name: &str) -> Result<Vec<u8>, Error> {
    let io_err = |e| io_error(name, e);
    let size = opened.meta.len();
    if !opened.regular {
        let mut file = opened.into_blocking().map_err(io_err)?;
        return load_reader(&mut file, name, None);
    }
    let mut file = opened.file;
    let capacity = usize::try_from(size).unwrap_or(0).saturating_add(1);
    let mut text = Vec::new();
    text.try_reserve_exact(capacity).map_err(|_| {
        io_err(io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("not enough memory to hold the file's {size} bytes"),
        ))
    })?;
    // The first bytes (a tile: all of it) say whether it is gzip. Gzip must not be held
    // whole before it is decompressed within its budget, so at most GZIP_PROBE of it is.
    // Reads go straight into the text: `read_to_end` would stat the file again, and grow
    // its reads from 8 KiB.
    let len = capacity - 1;
    let first = len.min(GZIP_PROBE);
    text.resize(first, 0);
    let mut got = read_full(&mut file, &mut text).map_err(io_err)?;
    text.truncate(got);
    if is_gzip(&text) {
        let mut chained = io::Cursor::new(std::mem::take(&mut text)).chain(file);
        return load_reader(&mut chained, name, Some(size));
    }
    if got == first && got < len {
        text.resize(len, 0);
        got += read_full(&mut file, &mut text[got..]).map_err(io_err)?;
        text.truncate(got);
    }
    // A file that grew since it was opened: read on, so its text is never cut short.
    let mut more = [0u8; 64];
    let extra = read_full(&mut file, &mut more).map_err(io_err)?;
    if extra > 0 {
        text.extend_from_slice(&more[..extra]);
        io::copy(&mut file, &mut text).map_err(io_err)?;
    }
    Ok(text)
}

/// How much of a regular file is read before knowing whether it is gzip (see
/// [`load_opened`]).
const GZIP_PROBE: usize = 4 << 20;

/// A buffer that file text is read into, placed so that each byte lands at the same offset
/// within a 64-byte line as it had in the file.
///
/// Why: the kernel copies file data to user memory with `rep movsb`, which on AMD EPYC
/// (Zen) runs about ten times slower when the destination lies 1 to 31 bytes past the
/// source's offset within a page, and the allocator puts every large buffer 16 bytes into a
/// page: reading a 1.4 MB grid from the page cache took 0.7-1.0 ms into such a buffer, 0.07-0.1
/// ms into one placed this way (`os.preadv` into an `mmap` at offsets 0-4095, this machine).
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    bytes: Vec<u8>,
    start: usize,
    len: usize,
}

impl ReadBuffer {
    /// The bytes a destination may be moved by, to match any source offset.
    const LINE: usize = 64;

    /// An empty buffer (no allocation until [`ReadBuffer::room`]).
    pub(crate) const fn new() -> ReadBuffer {
        ReadBuffer {
            bytes: Vec::new(),
            start: 0,
            len: 0,
        }
    }

    /// Room for `len` bytes to be read from offset `offset` of a file, placed as the type
    /// says; what was there before is gone. The room becomes the text ([`ReadBuffer::text`]):
    /// shorten it with [`ReadBuffer::truncate`] to what a read really got.
    pub(crate) fn room(&mut self, len: usize, offset: u64) -> &mut [u8] {
        let need = len.saturating_add(Self::LINE);
        if self.bytes.len() < need {
            // Zeroed by the system as the read first touches each page (buffers here hold
            // at most a small file or a window: a few MB).
            self.bytes = vec![0; need];
        }
        let address = self.bytes.as_ptr() as usize;
        // (offset − address) mod LINE: then address + start ≡ offset (mod LINE).
        self.start = (offset as usize).wrapping_sub(address) & (Self::LINE - 1);
        self.len = len;
        &mut self.bytes[self.start..self.start + len]
    }

    /// Keep the first `len` bytes of the text (no more than it has).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// The bytes that were read.
    pub(crate) fn text(&self) -> &[u8] {
        &self.bytes[self.start..self.start + self.len]
    }

    /// The bytes the buffer holds in all (text, room and placing).
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
pub(crate) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let mut f = file.try_clone()?;
    io::Seek::seek(&mut f, io::SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

/// The text a stream hands over (a Python file object, say), gzip or not, always read within
/// the decompression budget ([`MAX_BYTES_PER_VALUE`]): such a stream may itself be decompressing (`gzip.open`, a zip member),
/// so nothing about its size is known up front. `stream_max`, when known, is the most bytes
/// the stream can yield (a zip member's: [`max_inflated`] of its compressed size): more text
/// than that is refused, and so is a header promising more values than it can hold.
pub fn load_reader(
    reader: &mut impl Read,
    name: &str,
    stream_max: Option<u64>,
) -> Result<Vec<u8>, Error> {
    let mut magic = [0u8; 2];
    let got = read_full(reader, &mut magic).map_err(|e| io_error(name, e))?;
    let mut chained = io::Cursor::new(magic[..got].to_vec()).chain(reader);
    if is_gzip(&magic[..got]) {
        let max_text = stream_max.map(max_inflated);
        load_bounded(&mut MultiGzDecoder::new(chained), name, max_text)
    } else {
        load_bounded(&mut chained, name, stream_max)
    }
}

/// Read from `reader` until `buf` holds at least `want` more bytes or the input ends.
/// Returns whether the input ended. `buf` must hold the text from its start: corrupt
/// compressed data is reported as a parse error where the decompressed text stops.
pub(crate) fn fill_buffer(
    reader: &mut (impl Read + ?Sized),
    buf: &mut Vec<u8>,
    want: usize,
    name: &str,
) -> Result<bool, Error> {
    // The same reads as every other reader of compressed text: flate2 drops the output of a
    // read that fails, so where corrupt data is reported depends on how reads are cut.
    fill_fallible(reader, buf, want).map_err(|e| decompression_error(e, name, buf))
}

// --- Decompression limits ------------------------------------------------------------------

/// At most this many bytes of decompressed body per value read so far: a compressed body
/// longer than its values can need is refused as a decompression bomb while it is read.
pub const MAX_BYTES_PER_VALUE: u64 = 512;

/// Decompressed body bytes always allowed on top of [`MAX_BYTES_PER_VALUE`] per value.
pub const BODY_SLACK: u64 = 1 << 20;

/// The most bytes one byte of deflate data (gzip, zip) can become. Deflate's longest match is
/// 258 bytes and takes at least 2 bits (1-bit length and distance codes), so no deflate
/// stream expands more than 1032-fold; a gzip file or a zip member only adds headers.
pub(crate) const MAX_DEFLATE_RATIO: u64 = 1032;

/// Bytes allowed on top of [`MAX_DEFLATE_RATIO`] per compressed byte (the end of a block, a
/// tiny stream): generous, so the bound can only refuse what deflate cannot produce.
pub(crate) const DEFLATE_SLACK: u64 = 64 << 10;

/// The most text `compressed` bytes of deflate data can hold: no deflate stream expands
/// more than 1032-fold (its longest match, 258 bytes, takes at least 2 bits), plus 64 KiB.
pub fn max_inflated(compressed: u64) -> u64 {
    compressed
        .saturating_mul(MAX_DEFLATE_RATIO)
        .saturating_add(DEFLATE_SLACK)
}

/// Refuse, right after the header, a compressed input whose header promises more values than
/// `max_text` bytes of text (all it can hold, see [`max_inflated`]) can possibly carry: a
/// value bomb, or a header whose ncols or nrows is wrong. Each value takes two bytes.
pub(crate) fn check_compressed_room(
    header: &crate::header::Header,
    max_text: u64,
    name: &str,
    text: &[u8],
) -> Result<(), Error> {
    let need = crate::limits::min_body_len(header);
    let room = max_text.saturating_sub(header.body_offset as u64);
    if need <= room {
        return Ok(());
    }
    Err(Error::Parse(
        crate::error::Located::new(
            header.body_offset as u64,
            ErrorKind::TooFewValues,
            format!(
                "the header promises {} × {} = {} values, which need at least {need} bytes, \
                 but this compressed input holds at most {room} bytes of text after the \
                 header (deflate expands at most {MAX_DEFLATE_RATIO}-fold): the header's \
                 ncols or nrows is wrong, or the file is not what it claims",
                header.ncols,
                header.nrows,
                header.cells()
            ),
        )
        .locate(name, text),
    ))
}

/// The longest header accepted from any input (a header is a few hundred bytes).
pub(crate) const MAX_HEADER: usize = 16 << 20;

/// How much decompressed text a compressed grid may hold, checked while it is decompressed
/// so that a decompression bomb is refused after reading little more than its header needs.
///
/// The header says how many values follow (`cells = ncols × nrows`). As the body streams in,
/// with `v` values seen so far:
/// - the body may hold at most `MAX_BYTES_PER_VALUE × min(v, cells) + BODY_SLACK` bytes (no
///   real value takes 512 bytes: the longest number the parser accepts has 400; so this only
///   refuses runs of blank space or garbage far beyond anything a grid writer produces);
/// - reading stops as soon as value number `cells + 1` has been read whole: the text then
///   certainly has values left over, and the parser reports that (or an earlier problem)
///   exactly where it is.
///
/// So memory and time are bounded by what the header's `cells` can need, and a lie in the
/// header about `cells` costs at most what it claims. Plain (not compressed) text is not
/// limited: its size is known before reading, and the parser checks it against the header.
#[derive(Debug, Clone)]
pub(crate) struct BodyBudget {
    cells: u64,
    body_start: u64,
    /// Absolute offset up to which bytes were fed.
    seen_to: u64,
    /// Values (runs of bytes above 0x20) started so far.
    tokens: u64,
    /// Whether the last byte fed was inside a value.
    inside: bool,
    /// Whether value number `cells + 1` has started.
    past_grid: bool,
    /// Absolute offset just past value number `cells + 1`, once it has ended.
    stop_at: Option<u64>,
    /// The most body bytes the input can hold (see [`BodyBudget::with_max_text`]).
    max_body: Option<u64>,
}

impl BodyBudget {
    /// A budget for a body of `cells` values starting at absolute offset `body_start`.
    pub(crate) fn new(cells: u64, body_start: u64) -> Self {
        BodyBudget {
            cells,
            body_start,
            seen_to: body_start,
            tokens: 0,
            inside: false,
            past_grid: false,
            stop_at: None,
            max_body: None,
        }
    }

    /// Also refuse text past `max_text` bytes (header included): what the input can hold by
    /// its compressed size (see [`max_inflated`]). Only a stream that lies about its size
    /// (a file object given a wrong compressed size) goes past it.
    pub(crate) fn with_max_text(mut self, max_text: Option<u64>) -> Self {
        self.max_body = max_text.map(|m| m.saturating_sub(self.body_start));
        self
    }

    /// Once value `cells + 1` has been read whole: the offset just past it. Reading may stop
    /// there; the text up to it shows the grid's first problem.
    pub(crate) fn stop_at(&self) -> Option<u64> {
        self.stop_at
    }

    /// Bytes the body may hold with the values seen so far.
    fn allowance(&self) -> u64 {
        self.tokens
            .min(self.cells)
            .saturating_mul(MAX_BYTES_PER_VALUE)
            .saturating_add(BODY_SLACK)
    }

    /// Account for the next `bytes` of the body (they follow those fed before). Returns
    /// whether reading may stop ([`BodyBudget::stop_at`] is set), or the located refusal.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<bool, crate::error::Located> {
        if self.stop_at.is_some() {
            return Ok(true);
        }
        let start = self.seen_to;
        let mut from = 0;
        if !self.past_grid {
            let new_tokens = crate::scan::count_tokens(bytes, self.inside).tokens;
            if self.tokens + new_tokens <= self.cells {
                self.tokens += new_tokens;
                if let Some(&last) = bytes.last() {
                    self.inside = last > 0x20;
                }
                from = bytes.len();
            } else {
                // Value `cells + 1` starts in these bytes.
                for (i, &b) in bytes.iter().enumerate() {
                    let inside = b > 0x20;
                    if inside && !self.inside {
                        self.tokens += 1;
                        if self.tokens > self.cells {
                            self.past_grid = true;
                            from = i;
                            break;
                        }
                    }
                    self.inside = inside;
                }
            }
        }
        if self.past_grid {
            // It ends where the parser's token ends: at whitespace.
            if let Some(p) = bytes[from..].iter().position(|&b| crate::scan::is_space(b)) {
                let at = start + (from + p) as u64;
                self.stop_at = Some(at);
                self.seen_to = at;
                return Ok(true);
            }
        }
        self.seen_to = start + bytes.len() as u64;
        let used = self.seen_to - self.body_start;
        if let Some(max) = self.max_body.filter(|&m| used > m) {
            return Err(crate::error::Located::new(
                self.body_start + max,
                ErrorKind::BudgetExceeded,
                format!(
                    "the text goes on past the {} bytes its compressed size can hold (deflate \
                     expands at most {MAX_DEFLATE_RATIO}-fold): the compressed size given is \
                     wrong, or the data is not deflate",
                    self.body_start + max
                ),
            ));
        }
        let allowed = self.allowance();
        if used > allowed {
            return Err(crate::error::Located::new(
                self.body_start + allowed,
                ErrorKind::BudgetExceeded,
                format!(
                    "the compressed text goes on far past what the header's {} values can \
                     need ({} bytes after the header hold only {} values; a compressed grid \
                     may have at most {MAX_BYTES_PER_VALUE} bytes per value plus {} KiB): a \
                     decompression bomb or a corrupt file",
                    self.cells,
                    used,
                    self.tokens,
                    BODY_SLACK / 1024
                ),
            ));
        }
        Ok(false)
    }

    /// The text ended: the value past the grid (if one started) ends here too.
    pub(crate) fn finish(&mut self) {
        if self.stop_at.is_none() && self.past_grid {
            self.stop_at = Some(self.seen_to);
        }
    }
}

/// Read up to `want` more bytes into `buf` (fewer only at the end). Returns whether the
/// input ended. Growing `buf` past what memory allows is an error, not an abort.
pub(crate) fn fill_fallible(
    reader: &mut (impl Read + ?Sized),
    buf: &mut Vec<u8>,
    want: usize,
) -> io::Result<bool> {
    let start = buf.len();
    buf.try_reserve(want).map_err(|_| {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("not enough memory to hold {} bytes of text", start + want),
        )
    })?;
    // Read into the reserved space without zero-filling it first (a small tile would pay
    // for zeroing the whole block otherwise).
    let got = reader.take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

/// What to tell the user when reading decompressed text failed because the compressed data
/// is corrupt or cut short (`None`: the failure is an I/O error, e.g. reading the file).
pub(crate) fn corrupt_message(e: &io::Error) -> Option<String> {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
    )
    .then(|| {
        format!(
            "the compressed data is corrupt or cut short ({e}); the text decompressed so far \
             ends here"
        )
    })
}

/// A failure while reading decompressed text: a [`crate::ParseError`] at the end of the text
/// decompressed so far when the compressed data is corrupt or cut short, else an I/O error.
pub(crate) fn decompression_error(e: io::Error, name: &str, text: &[u8]) -> Error {
    match corrupt_message(&e) {
        Some(message) => {
            let problem = crate::error::Located::new(
                text.len() as u64,
                ErrorKind::CorruptCompressed,
                message,
            );
            Error::Parse(problem.locate(name, text))
        }
        None => io_error(name, e),
    }
}

/// Decompress a grid's whole text from `reader`, refusing a decompression bomb early: first
/// the header (at most [`MAX_HEADER`] bytes), then the body within a [`BodyBudget`]. When
/// the text certainly holds values past `ncols × nrows`, reading stops just after the first
/// of them (the parser then reports it, or an earlier problem, where it is).
///
/// `max_text`, when known, is the most text the input can hold (see [`max_inflated`]): a
/// header promising more values than that is refused before the body is read, and so is
/// more text. A header whose cells memory cannot hold is refused there too: the text is read
/// for a grid, and a decompression bomb must not cost its body first.
pub(crate) fn load_bounded(
    reader: &mut (impl Read + ?Sized),
    name: &str,
    max_text: Option<u64>,
) -> Result<Vec<u8>, Error> {
    const BLOCK: usize = 4 << 20;
    let (header, mut text, mut ended) = read_header_text(reader, name, HEADER_STEP)?;
    if let Some(max) = max_text {
        check_compressed_room(&header, max, name, &text)?;
    }
    crate::limits::check_cells_fit(header.cells(), std::mem::size_of::<f32>(), name)?;
    let mut budget =
        BodyBudget::new(header.cells(), header.body_offset as u64).with_max_text(max_text);
    let locate = |e: crate::error::Located, text: &[u8]| Error::Parse(e.locate(name, text));
    let mut stop = budget
        .feed(&text[header.body_offset..])
        .map_err(|e| locate(e, &text))?;
    while !stop && !ended {
        let before = text.len();
        ended = fill_fallible(reader, &mut text, BLOCK)
            .map_err(|e| decompression_error(e, name, &text))?;
        stop = budget.feed(&text[before..]).map_err(|e| locate(e, &text))?;
    }
    budget.finish();
    if let Some(at) = budget.stop_at() {
        text.truncate(usize::try_from(at).unwrap_or(usize::MAX));
    }
    Ok(text)
}

/// How much text header readers ask for first (a header is a few hundred bytes; more is
/// read, in doubling steps, only for a longer one).
pub(crate) const HEADER_STEP: usize = 64 * 1024;

/// The one header reader every source goes through: reads from `reader` (`first_step` bytes,
/// then doubling steps, up to [`MAX_HEADER`]) until the header parses. Returns the header,
/// the text read so far (header and the start of the body) and whether the input ended.
pub(crate) fn read_header_text(
    reader: &mut (impl Read + ?Sized),
    name: &str,
    first_step: usize,
) -> Result<(crate::header::Header, Vec<u8>, bool), Error> {
    use crate::header::{parse_header, parse_whole_header, HeaderParse};
    let mut text = Vec::new();
    loop {
        // Doubling steps keep re-parsing a long header linear overall.
        let step = text.len().clamp(first_step, MAX_HEADER);
        let ended = fill_fallible(reader, &mut text, step)
            .map_err(|e| decompression_error(e, name, &text))?;
        if ended {
            return match parse_whole_header(&text) {
                Ok(h) => Ok((h, text, ended)),
                Err(e) => Err(Error::Parse(e.locate(name, &text))),
            };
        }
        match parse_header(&text, false) {
            Ok(HeaderParse::Complete(h)) => return Ok((h, text, ended)),
            Ok(HeaderParse::NeedMore) if text.len() < MAX_HEADER => continue,
            Ok(HeaderParse::NeedMore) => return Err(header_too_long(name, &text)),
            Err(e) => return Err(Error::Parse(e.locate(name, &text))),
        }
    }
}

/// The error for a header that has not ended after [`MAX_HEADER`] bytes.
pub(crate) fn header_too_long(name: &str, text: &[u8]) -> Error {
    Error::Parse(
        crate::error::Located::new(
            text.len() as u64,
            ErrorKind::HeaderTooLong,
            format!(
                "no grid values after {} MiB of header: this is not an ESRI ASCII grid (a \
                 header is a few lines)",
                MAX_HEADER >> 20
            ),
        )
        .locate(name, text),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_buffer_places_text_as_the_file_had_it_within_a_line() {
        let mut buffer = ReadBuffer::new();
        for (len, offset) in [
            (1, 0),
            (100, 0),
            (5000, 4096),
            (300_000, 17),
            (1 << 20, 8191),
        ] {
            let room = buffer.room(len, offset);
            assert_eq!(room.len(), len);
            assert_eq!(room.as_ptr() as usize % 64, offset as usize % 64);
            room.fill(7);
            buffer.truncate(len - 1);
            assert_eq!(buffer.text().len(), len - 1);
            assert!(buffer.text().iter().all(|&b| b == 7));
            assert!(buffer.capacity() >= len);
        }
        // Shorter text later: the buffer is kept, the text is the new one.
        let kept = buffer.capacity();
        buffer.room(10, 3).copy_from_slice(b"0123456789");
        assert_eq!(buffer.text(), b"0123456789");
        assert_eq!(buffer.capacity(), kept);
    }

    #[test]
    fn budget_counts_values_across_pieces() {
        let mut b = BodyBudget::new(3, 10);
        assert_eq!(b.feed(b" 1 2"), Ok(false));
        assert_eq!(b.feed(b"2 3"), Ok(false));
        assert_eq!(b.stop_at(), None);
        // The values so far are 1, 22 and 3; value 4 starts here and ends at the space: stop
        // there (offset 10 + 7 + 3).
        assert_eq!(b.feed(b"\n45 6 7"), Ok(true));
        assert_eq!(b.stop_at(), Some(20));
        // A value past the grid that the text ends inside.
        let mut b = BodyBudget::new(1, 0);
        assert_eq!(b.feed(b"1 2"), Ok(false));
        b.finish();
        assert_eq!(b.stop_at(), Some(3));
        // Blank space beyond the allowance.
        let mut b = BodyBudget::new(2, 0);
        assert_eq!(b.feed(b"1 "), Ok(false));
        let err = b.feed(&vec![b' '; BODY_SLACK as usize + 1024]).unwrap_err();
        assert_eq!(err.offset, MAX_BYTES_PER_VALUE + BODY_SLACK);
    }

    /// R5 (fuzzing, `header` target). The header parser, on a prefix (what every streaming
    /// reader parses), decided that a line starting with the word `nan` begins the body even
    /// when the prefix ends inside that word, which goes on as `nancy` (an unknown keyword): a
    /// reader cutting there reported a different error, or none, than a whole read. Cut inside
    /// such a word, the header reader must read on and say what a whole read says.
    #[test]
    fn r5_a_read_cut_inside_a_first_word_says_what_a_whole_read_says() {
        let head = b"ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
        for (tail, rest) in [
            ("nan", "cy 5\n1\n"),
            ("nu", "dge 5\n1\n"),
            ("in", "ch 5\n1\n"),
        ] {
            let text = [&head[..], tail.as_bytes(), rest.as_bytes()].concat();
            let read = |first_step| {
                read_header_text(&mut io::Cursor::new(&text), "t.asc", first_step)
                    .map(|(header, _, _)| header)
                    .map_err(|e| e.to_string())
            };
            let whole = read(HEADER_STEP);
            assert!(whole.is_err(), "{tail}{rest}: {whole:?}");
            assert_eq!(read(head.len() + tail.len()), whole, "{tail}");
        }
    }
}
