//! Grids inside zip archives, read without trusting the archive: a member's text is
//! decompressed within the same [`BodyBudget`](crate::source::BodyBudget) as a `.gz` file, so
//! a zip bomb (or a member whose declared size is a lie) is refused after reading little more
//! than its header needs. Only `stored` and `deflate` members are read (what every zip tool
//! writes by default); a member read to its end is checked against its CRC-32. A deflated
//! member of up to [`WHOLE_INFLATE`] bytes is inflated in one call (libdeflate) into a buffer
//! of the size it declares; a larger one, or one that does not decode cleanly within that
//! size, is streamed through flate2 within the budget, which also finds and locates any
//! problem.
//!
//! An [`Archive`] reads its central directory once; a [`MemberSource`] names one member,
//! possibly inside zips nested in the archive, by position: it holds no text but its first
//! [`MEMBER_HEAD`] bytes, and each [`MemberSource::open`] reads (with positioned reads, so
//! threads share one file handle) only that member's compressed bytes and the nested zips
//! around it.
//!
//! Paths name members like GDAL's `/vsizip/` does: `delivery.zip/data/NT/NT00.zip/NT00.asc`
//! (see [`resolve_member`]).
//!
//! ```
//! use std::io::Write;
//! use asciigrid_core::{archive_members, read_member, Control, GridData, Input};
//! let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
//! zip.start_file("a.asc", zip::write::SimpleFileOptions::default()).unwrap();
//! zip.write_all(b"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n").unwrap();
//! let bytes = zip.finish().unwrap().into_inner();
//!
//! let members = archive_members(Input::Bytes(&bytes), "tiles.zip").unwrap();
//! assert_eq!(members[0].name, "a.asc");
//! let grid = read_member(Input::Bytes(&bytes), "tiles.zip", members[0].index, None,
//!                         &Control::new()).unwrap();
//! assert_eq!(grid.data, GridData::Int32(vec![1, 2]));
//! ```

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use flate2::read::DeflateDecoder;
use rayon::prelude::*;
use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use crate::control::Control;
use crate::error::Error;
use crate::source::max_inflated;

/// The largest zip inside a zip that is read into memory to reach its members (a tile's zip
/// is tens of KiB): a larger one is refused, naming it, rather than filling memory.
pub(crate) const MAX_NESTED_ARCHIVE: u64 = 256 << 20;

/// The largest `.prj` member read for a tile's CRS (a WKT is a few hundred bytes).
const MAX_PRJ: u64 = 1 << 20;

/// Deflated members up to this size are inflated in one call into a buffer of their
/// declared size, with libdeflate: on the delivery's 2858 tiles that takes two thirds of
/// the time streaming through flate2 does (0.33 against 0.50 s for the grids, 0.15 against
/// 0.21 s for the nested zips). Larger members, and any that does not decode cleanly, are
/// streamed.
const WHOLE_INFLATE: u64 = 16 << 20;

/// One file inside an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Position in the archive's central directory: what [`crate::read_member`] takes.
    pub index: usize,
    /// The name as stored (a label only: never used as a path).
    pub name: String,
    /// Size after decompression, as the archive declares it (untrusted).
    pub size: u64,
    /// Size inside the archive.
    pub compressed_size: u64,
    /// Whether [`crate::read_member`] can read it (stored or deflate, not encrypted).
    pub supported: bool,
}

/// Where an archive's bytes live: a file read with positioned reads (one handle shared by
/// every reader and thread, so no seek position is shared), or memory (a deflated nested
/// zip); a zip stored uncompressed inside another is a window of its parent's bytes, read in
/// place.
#[derive(Debug, Clone)]
enum Backing {
    File(Arc<File>),
    Bytes(Arc<[u8]>),
}

/// Bytes of a [`Store`], found by [`Store::locate`]: in memory, or in a file at an offset.
enum Located<'a> {
    Memory(&'a [u8]),
    File(&'a File, u64),
}

/// The bytes `base..base + len` of a [`Backing`].
#[derive(Debug, Clone)]
struct Store {
    backing: Backing,
    base: u64,
    len: u64,
}

impl Store {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        match self.locate(offset, buf.len() as u64)? {
            Located::Memory(slice) => buf.copy_from_slice(slice),
            Located::File(file, at) => crate::source::read_exact_at(file, buf, at)?,
        }
        Ok(())
    }

    /// Bytes `offset..offset + len`: borrowed from memory, or read from the file.
    fn bytes(&self, offset: u64, len: u64) -> io::Result<Cow<'_, [u8]>> {
        match self.locate(offset, len)? {
            Located::Memory(slice) => Ok(Cow::Borrowed(slice)),
            Located::File(file, at) => {
                let len = usize::try_from(len).map_err(|_| io::ErrorKind::OutOfMemory)?;
                let mut buf = vec![0u8; len];
                crate::source::read_exact_at(file, &mut buf, at)?;
                Ok(Cow::Owned(buf))
            }
        }
    }

    /// Where bytes `offset..offset + len` of the store are; an error when they run past its
    /// end.
    fn locate(&self, offset: u64, len: u64) -> io::Result<Located<'_>> {
        let eof = || io::Error::from(io::ErrorKind::UnexpectedEof);
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(eof());
        }
        let at = self.base + offset;
        match &self.backing {
            Backing::File(f) => Ok(Located::File(f, at)),
            Backing::Bytes(b) => {
                let at = usize::try_from(at).map_err(|_| eof())?;
                let len = usize::try_from(len).map_err(|_| eof())?;
                let slice = at.checked_add(len).and_then(|end| b.get(at..end));
                slice.map(Located::Memory).ok_or_else(eof)
            }
        }
    }

    /// Bytes `start..start + len` of this store, as a store of their own.
    fn window(&self, start: u64, len: u64) -> Option<Store> {
        let end = start.checked_add(len)?;
        (end <= self.len).then(|| Store {
            backing: self.backing.clone(),
            base: self.base + start,
            len,
        })
    }
}

/// `Read + Seek` over the bytes `..end` of a [`Store`], with its own position.
#[derive(Debug, Clone)]
struct Span {
    store: Store,
    pos: u64,
    end: u64,
}

impl Read for Span {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        if n == 0 {
            return Ok(0);
        }
        self.store.read_exact_at(&mut buf[..n], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Span {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let to = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.end.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = to.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the archive's start",
            )
        })?;
        Ok(self.pos)
    }
}

/// Holds a member to what the archive declares: no more bytes than its size, and, once read
/// to its end, its CRC-32 (corrupt stored data, or deflate data that happens to decode).
struct CrcCheck<R> {
    inner: R,
    hasher: crc32fast::Hasher,
    expected: u32,
    /// Bytes the member may still yield (its declared size minus what was read).
    left: u64,
}

impl<R: Read> CrcCheck<R> {
    fn new(inner: R, entry: &Entry) -> Self {
        CrcCheck {
            inner,
            hasher: crc32fast::Hasher::new(),
            expected: entry.crc32,
            left: entry.size,
        }
    }
}

impl<R: Read> Read for CrcCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the member is larger than its declared uncompressed size",
            )
        })?;
        if n == 0 && !buf.is_empty() {
            let got = self.hasher.clone().finalize();
            if got != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "CRC-32 {got:08x} of the text differs from the {:08x} the archive \
                         declares",
                        self.expected
                    ),
                ));
            }
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    header_start: u64,
    compressed: u64,
    size: u64,
    crc32: u32,
    deflated: bool,
    supported: bool,
    is_dir: bool,
}

/// A zip archive whose central directory has been read: members are opened from it by
/// position, any number of times, from any thread.
#[derive(Debug)]
pub(crate) struct Archive {
    label: String,
    store: Store,
    entries: Vec<Entry>,
}

fn zip_error(name: &str, e: ZipError) -> Error {
    match e {
        ZipError::Io(source) => Error::Io {
            path: name.to_owned(),
            source,
        },
        other => Error::Invalid(format!("{name}: not a readable zip archive: {other}")),
    }
}

fn io_error(name: &str, source: io::Error) -> Error {
    Error::Io {
        path: name.to_owned(),
        source,
    }
}

impl Archive {
    /// Read the central directory of the zip file at `path`; `label` names it in messages.
    pub(crate) fn open(path: &Path, label: &str) -> Result<Archive, Error> {
        let file = File::open(path).map_err(|e| io_error(label, e))?;
        let len = file.metadata().map_err(|e| io_error(label, e))?.len();
        let store = Store {
            backing: Backing::File(Arc::new(file)),
            base: 0,
            len,
        };
        Archive::read(store, label)
    }

    /// Read the central directory of a zip archive held in memory.
    pub(crate) fn from_bytes(bytes: Arc<[u8]>, label: &str) -> Result<Archive, Error> {
        let len = bytes.len() as u64;
        let store = Store {
            backing: Backing::Bytes(bytes),
            base: 0,
            len,
        };
        Archive::read(store, label)
    }

    fn read(store: Store, label: &str) -> Result<Archive, Error> {
        let end = store.len;
        let span = Span {
            store: store.clone(),
            pos: 0,
            end,
        };
        let archive = ZipArchive::new(BufReader::new(span)).map_err(|e| zip_error(label, e))?;
        let mut entries = Vec::with_capacity(archive.len());
        for index in 0..archive.len() {
            let e = archive
                .by_index_data(index)
                .map_err(|e| zip_error(label, e))?;
            let method = e.compression();
            entries.push(Entry {
                name: String::from_utf8_lossy(e.name_raw()).into_owned(),
                header_start: e.header_start(),
                compressed: e.compressed_size(),
                size: e.size(),
                crc32: e.crc32(),
                deflated: method == CompressionMethod::Deflated,
                supported: !e.encrypted()
                    && matches!(
                        method,
                        CompressionMethod::Stored | CompressionMethod::Deflated
                    ),
                is_dir: e.is_dir(),
            });
        }
        Ok(Archive {
            label: label.to_owned(),
            store,
            entries,
        })
    }

    /// How messages name the archive.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// The files in the archive (directories left out), in central-directory order.
    pub(crate) fn members(&self) -> Vec<Member> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.is_dir)
            .map(|(index, e)| Member {
                index,
                name: e.name.clone(),
                size: e.size,
                compressed_size: e.compressed,
                supported: e.supported,
            })
            .collect()
    }

    fn entry(&self, index: usize) -> Result<&Entry, Error> {
        self.entries.get(index).ok_or_else(|| {
            Error::Invalid(format!("{}: it has no member number {index}", self.label))
        })
    }

    /// The decompressed bytes of member `index` as a stream, its label, and the most bytes
    /// it can yield ([`max_inflated`] of its compressed size).
    pub(crate) fn open_member(
        &self,
        index: usize,
    ) -> Result<(Box<dyn Read + Send>, String, u64), Error> {
        let e = self.entry(index)?;
        let label = member_label(&self.label, &e.name);
        if !e.supported {
            return Err(Error::Invalid(format!(
                "{label}: only stored or deflate members that are not encrypted can be read"
            )));
        }
        let start = self.data_start(e, &label)?;
        let span = Span {
            store: self.store.clone(),
            pos: start,
            end: start.saturating_add(e.compressed),
        };
        let reader: Box<dyn Read + Send> = if e.deflated {
            Box::new(CrcCheck::new(DeflateDecoder::new(span), e))
        } else {
            Box::new(CrcCheck::new(span, e))
        };
        Ok((reader, label, max_inflated(e.compressed)))
    }

    /// Where the data of entry `e` starts: the local header repeats the name and may carry
    /// its own extra field, and the data follows both.
    fn data_start(&self, e: &Entry, label: &str) -> Result<u64, Error> {
        let mut local = [0u8; 30];
        // A header past the archive's end is corruption, like a header that is not one.
        let found = match self.store.read_exact_at(&mut local, e.header_start) {
            Ok(()) => local.starts_with(b"PK\x03\x04"),
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => false,
            Err(err) => return Err(io_error(label, err)),
        };
        if !found {
            return Err(Error::Invalid(format!(
                "{label}: the archive's directory points at no member there; the archive is \
                 corrupt"
            )));
        }
        let lengths = u64::from(u16::from_le_bytes([local[26], local[27]]))
            + u64::from(u16::from_le_bytes([local[28], local[29]]));
        Ok(e.header_start + 30 + lengths)
    }

    /// Member `index` inflated in one call (see [`WHOLE_INFLATE`]), when it is deflated and
    /// declares at most `limit` bytes. `None` when it is not, or when its data does not
    /// decode within its declared size to a text with its CRC-32: streamed, it is then
    /// refused where the problem is.
    fn inflate_whole(&self, index: usize, limit: u64) -> Option<Vec<u8>> {
        let e = self.entry(index).ok()?;
        let most = limit.min(WHOLE_INFLATE).min(max_inflated(e.compressed));
        if !(e.supported && e.deflated) || e.size > most {
            return None;
        }
        let start = self.data_start(e, &self.label).ok()?;
        let compressed = self.store.bytes(start, e.compressed).ok()?;
        let mut text = vec![0u8; usize::try_from(e.size).ok()?];
        let n = libdeflater::Decompressor::new()
            .deflate_decompress(&compressed, &mut text)
            .ok()?;
        text.truncate(n);
        (crc32fast::hash(&text) == e.crc32).then_some(text)
    }

    /// The whole decompressed member `index`, refused past `limit` bytes (and past what it
    /// declares): for nested zips and `.prj` texts, never for grids (those have a budget).
    fn member_bytes(&self, index: usize, limit: u64) -> Result<(Vec<u8>, String), Error> {
        if let Some(bytes) = self.inflate_whole(index, limit) {
            return Ok((bytes, member_label(&self.label, &self.entry(index)?.name)));
        }
        let (reader, label, most) = self.open_member(index)?;
        let declared = self.entry(index)?.size;
        let cap = limit.min(most).min(declared);
        let mut bytes = Vec::new();
        reader
            .take(cap.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| match crate::source::corrupt_message(&e) {
                Some(why) => Error::Invalid(format!("{label}: {why}")),
                None => io_error(&label, e),
            })?;
        if bytes.len() as u64 > cap {
            let why = if declared <= limit {
                format!("it holds more than the {declared} bytes the archive declares")
            } else {
                format!("it is larger than {} MiB; extract it first", limit >> 20)
            };
            return Err(Error::Invalid(format!("{label}: {why}")));
        }
        Ok((bytes, label))
    }

    /// Member `index`, itself a zip, opened: in place when it is stored (a window of this
    /// archive's bytes), else decompressed into memory.
    fn nested(&self, index: usize) -> Result<Archive, Error> {
        let e = self.entry(index)?;
        if e.supported && !e.deflated {
            let label = member_label(&self.label, &e.name);
            let start = self.data_start(e, &label)?;
            let store = self.store.window(start, e.compressed).ok_or_else(|| {
                Error::Invalid(format!(
                    "{label}: it goes on past the end of the archive; the archive is corrupt"
                ))
            })?;
            return Archive::read(store, &label);
        }
        let (bytes, label) = self.member_bytes(index, MAX_NESTED_ARCHIVE)?;
        Archive::from_bytes(bytes.into(), &label)
    }
}

/// Bytes of a member's text kept by [`find_tiles`] (see [`MemberSource`]): enough for the
/// header and first values of a tile, and small enough to keep for thousands of tiles.
pub(crate) const MEMBER_HEAD: usize = 1024;

/// A member's text after its [`MemberSource::head`]: opened (the nested zips around it
/// decompressed) only when a reader wants more than the head.
struct Rest {
    member: MemberSource,
    skip: u64,
    reader: Option<Box<dyn Read + Send>>,
}

impl Read for Rest {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => {
                let (mut reader, _) = self.member.open_stream().map_err(io::Error::other)?;
                let skipped = io::copy(&mut (&mut reader).take(self.skip), &mut io::sink())?;
                if skipped != self.skip {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the member changed while it was read",
                    ));
                }
                self.reader.insert(reader)
            }
        };
        reader.read(buf)
    }
}

/// A member's text, from [`MemberSource::open_text`].
pub(crate) enum MemberText {
    /// Inflated whole: read as bytes in memory are.
    Whole(Vec<u8>),
    /// To be read as a stream, within a budget, and the most bytes it can yield.
    Stream(Box<dyn Read + Send>, u64),
}

/// A member of an archive, possibly inside zips nested in it, named by position: what a
/// mosaic plan holds instead of the member's text (see the module docs).
#[derive(Debug, Clone)]
pub struct MemberSource {
    root: Arc<Archive>,
    /// Member positions: in the root, then in each nested zip.
    path: Vec<usize>,
    label: String,
    compressed: u64,
    /// The size the archive declares (untrusted: only a progress measure).
    size: u64,
    /// The first [`MEMBER_HEAD`] bytes of its text, read while [`find_tiles`] had its archive
    /// open: a mosaic plan's probe of the header and data type needs no more, and would
    /// otherwise decompress the nested zips around the member again.
    head: Option<Arc<[u8]>>,
}

impl MemberSource {
    /// `archive/inner.zip/member`: how messages name it.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The member's compressed size (what bounds its text).
    pub fn compressed_size(&self) -> u64 {
        self.compressed
    }

    /// Bytes of text it should hold: its declared size, within what its compressed size can
    /// hold. Progress counts text, so this is its share of a progress total.
    pub fn text_size_hint(&self) -> u64 {
        self.size.min(max_inflated(self.compressed))
    }

    /// The archive holding the member, reading the nested zips on the way.
    fn parent(&self) -> Result<(Option<Archive>, usize), Error> {
        let (&last, outer) = self
            .path
            .split_last()
            .ok_or_else(|| Error::Invalid(format!("{}: no member named", self.label)))?;
        let mut inner: Option<Archive> = None;
        for &i in outer {
            let next = inner.as_ref().unwrap_or(&self.root).nested(i)?;
            inner = Some(next);
        }
        Ok((inner, last))
    }

    /// The member's decompressed text as a stream, and the most bytes it can yield.
    pub fn open(&self) -> Result<(Box<dyn Read + Send>, u64), Error> {
        let Some(head) = &self.head else {
            return self.open_stream();
        };
        let rest = Rest {
            member: self.clone().without_head(),
            skip: head.len() as u64,
            reader: None,
        };
        let text = io::Cursor::new(Arc::clone(head)).chain(rest);
        Ok((Box::new(text), max_inflated(self.compressed)))
    }

    /// The same member without the start of its text kept by [`find_tiles`] (once planned,
    /// a mosaic's tiles are read whole: see [`MemberSource::open_text`]).
    pub(crate) fn without_head(self) -> MemberSource {
        MemberSource { head: None, ..self }
    }

    fn open_stream(&self) -> Result<(Box<dyn Read + Send>, u64), Error> {
        let (inner, last) = self.parent()?;
        let (reader, _, most) = inner.as_ref().unwrap_or(&self.root).open_member(last)?;
        Ok((reader, most))
    }

    /// The member's text, inflated in one call when it can be (see [`WHOLE_INFLATE`]), else
    /// as a stream.
    pub(crate) fn open_text(&self) -> Result<MemberText, Error> {
        let (inner, last) = self.parent()?;
        let archive = inner.as_ref().unwrap_or(&self.root);
        if let Some(text) = archive.inflate_whole(last, WHOLE_INFLATE) {
            return Ok(MemberText::Whole(text));
        }
        let (reader, _, most) = archive.open_member(last)?;
        Ok(MemberText::Stream(reader, most))
    }

    /// The member opened as a zip archive.
    pub(crate) fn open_archive(&self) -> Result<Archive, Error> {
        let (inner, last) = self.parent()?;
        inner.as_ref().unwrap_or(&self.root).nested(last)
    }
}

/// The label errors use for member `member` of archive `name`: `name/member`.
pub(crate) fn member_label(name: &str, member: &str) -> String {
    format!("{name}/{member}")
}

// --- Finding tiles -------------------------------------------------------------------------

/// Whether `name` ends with `suffix`, ignoring ASCII case.
fn ends_with_ignore_case(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len()
        && name.is_char_boundary(name.len() - suffix.len())
        && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Whether a member name is a zip to descend into.
pub(crate) fn is_zip_name(name: &str) -> bool {
    ends_with_ignore_case(name, ".zip")
}

/// Members that never count as tiles: sidecars (`.prj`, `.xml` — `.aux.xml` included —,
/// `.gml`), and hidden entries or macOS resource forks (`__MACOSX/`, `._name`).
pub(crate) fn is_ignored(name: &str) -> bool {
    [".prj", ".xml", ".gml"]
        .iter()
        .any(|s| ends_with_ignore_case(name, s))
        || name
            .split('/')
            .any(|part| part.starts_with('.') || part == "__MACOSX")
}

/// fnmatch-style matching (`*`, `?`, `[abc]`, `[!a-z]`), ignoring case. A pattern without
/// `/` is matched against the last component of `name`, one with `/` against all of it.
pub(crate) fn matches_pattern(pattern: &str, name: &str) -> bool {
    let subject = if pattern.contains('/') {
        name
    } else {
        name.rsplit('/').next().unwrap_or(name)
    };
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let s: Vec<char> = subject.to_lowercase().chars().collect();
    glob(&p, &s)
}

fn glob(p: &[char], s: &[char]) -> bool {
    // Iterative matching with one backtrack point for the last `*`: linear in practice and
    // never exponential.
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                '[' => {
                    if let Some((hit, next)) = class(&p[pi..], s[si]) {
                        if hit {
                            pi += next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == '[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                c if c == s[si] => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// A `[...]` class at the start of `p`: whether `c` is in it, and its length; `None` when
/// the class is not closed (then `[` is literal, as in fnmatch).
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    None
}

/// A tile found in an archive by [`find_tiles`].
#[derive(Debug, Clone)]
pub struct FoundTile {
    /// Where its text is.
    pub member: MemberSource,
    /// The text of its `.prj` sibling, if it has one.
    pub prj: Option<String>,
}

/// The first [`MEMBER_HEAD`] bytes of member `index`'s text (`None` when it cannot be read:
/// reading it again reports why).
fn head_of(archive: &Archive, index: usize) -> Option<Arc<[u8]>> {
    let (mut reader, _, _) = archive.open_member(index).ok()?;
    let mut head = vec![0u8; MEMBER_HEAD];
    let n = crate::source::read_full(&mut reader, &mut head).ok()?;
    head.truncate(n);
    Some(head.into())
}

/// The `.prj` sibling of member `index` (same folder, same stem, `.prj` in any case).
fn sibling_prj(archive: &Archive, index: usize) -> Option<String> {
    let name = &archive.entries.get(index)?.name;
    let stem = &name[..name.rfind('.').unwrap_or(name.len())];
    let prj = archive.entries.iter().position(|e| {
        e.name.len() == stem.len() + 4
            && e.name.starts_with(stem)
            && e.name[stem.len()..].eq_ignore_ascii_case(".prj")
    })?;
    let (bytes, _) = archive.member_bytes(prj, MAX_PRJ).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The tiles of the zip file at `path` (named `label` in messages), in archive order:
/// members whose path matches any of `patterns` (globs as fnmatch reads them, ignoring case;
/// sidecars and hidden entries never count), and those of every zip nested in it, with their `.prj`
/// texts. Nested zips are read (in parallel) only to list their members; a nested zip that
/// cannot be read is listed as a tile, so that reading it reports why, naming it.
pub fn find_tiles(
    path: &Path,
    label: &str,
    patterns: &[String],
    control: &Control,
) -> Result<Vec<FoundTile>, Error> {
    let root = Arc::new(Archive::open(path, label)?);
    let mut out = Vec::new();
    walk(&root, &root, &[], patterns, control, &mut out)?;
    Ok(out)
}

fn walk(
    root: &Arc<Archive>,
    here: &Archive,
    prefix: &[usize],
    patterns: &[String],
    control: &Control,
    out: &mut Vec<FoundTile>,
) -> Result<(), Error> {
    let source = |index: usize, e: &Entry| {
        let mut path = prefix.to_vec();
        path.push(index);
        MemberSource {
            root: Arc::clone(root),
            path,
            label: member_label(&here.label, &e.name),
            compressed: e.compressed,
            size: e.size,
            head: None,
        }
    };
    let wanted: Vec<usize> = (0..here.entries.len())
        .filter(|&i| {
            let e = &here.entries[i];
            !e.is_dir
                && !is_ignored(&e.name)
                && (is_zip_name(&e.name) || patterns.iter().any(|p| matches_pattern(p, &e.name)))
        })
        .collect();
    let found: Vec<Result<Vec<FoundTile>, Error>> = wanted
        .par_iter()
        .map(|&i| {
            if control.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let e = &here.entries[i];
            if !is_zip_name(&e.name) {
                return Ok(vec![FoundTile {
                    member: MemberSource {
                        head: head_of(here, i),
                        ..source(i, e)
                    },
                    prj: sibling_prj(here, i),
                }]);
            }
            let mut inner_out = Vec::new();
            match here.nested(i) {
                Ok(inner) => {
                    let mut path = prefix.to_vec();
                    path.push(i);
                    walk(root, &inner, &path, patterns, control, &mut inner_out)?;
                }
                Err(_) => inner_out.push(FoundTile {
                    member: source(i, e),
                    prj: None,
                }),
            }
            Ok(inner_out)
        })
        .collect();
    for f in found {
        out.extend(f?);
    }
    Ok(())
}

// --- Naming members by path ----------------------------------------------------------------

/// The member a path names, or `None` when no component of it is a zip file. Accepted forms:
///
/// - `delivery.zip/data/NT/NT00.zip/NT00.asc`: the path up to the first component ending in
///   `.zip` that is a file is the archive; in it, the rest up to the next component ending in
///   `.zip` that is a member is a nested zip, and so on; what is left names the member.
/// - GDAL's `/vsizip/delivery.zip/NT00.asc` (the same path after the prefix), and GDAL's
///   explicit nesting `/vsizip/{/vsizip/delivery.zip/data/NT/NT00.zip}/NT00.asc` (GDAL reads
///   nested zips only so; `/vsizip/` before a path through nested zips is accepted here too).
///
/// The member's label is the path without `/vsizip/` or braces.
pub fn resolve_member(path: &str) -> Result<Option<MemberSource>, Error> {
    resolve_in(path, &mut Roots::default())
}

/// [`resolve_member`] of each of `paths`, in order; each zip file they start in is opened
/// (its central directory read) once, not once per path: naming the tiles of one delivery
/// one by one (a dask chunk's) costs one directory read, not thousands.
pub fn resolve_members(paths: &[String]) -> Vec<Result<Option<MemberSource>, Error>> {
    let mut roots = Roots::default();
    paths.iter().map(|p| resolve_in(p, &mut roots)).collect()
}

/// The zip files opened while naming members, by path.
#[derive(Default)]
struct Roots(std::collections::HashMap<String, Arc<Archive>>);

impl Roots {
    fn open(&mut self, path: &str) -> Result<Arc<Archive>, Error> {
        if let Some(a) = self.0.get(path) {
            return Ok(Arc::clone(a));
        }
        let archive = Arc::new(Archive::open(Path::new(path), path)?);
        self.0.insert(path.to_owned(), Arc::clone(&archive));
        Ok(archive)
    }
}

fn resolve_in(path: &str, roots: &mut Roots) -> Result<Option<MemberSource>, Error> {
    let Some((archive, rest)) = split_archive(path, roots)? else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: names an archive, not a member inside it",
            archive.label()
        )));
    }
    let (root, prefix) = match archive {
        Resolved::Root(a) => (a, Vec::new()),
        Resolved::Member(m) => (Arc::clone(&m.root), m.path.clone()),
    };
    // Walk down the nested zips the rest passes through.
    let mut path_idx = prefix;
    let mut current: Option<Archive> = None;
    if !path_idx.is_empty() {
        let m = MemberSource {
            root: Arc::clone(&root),
            path: path_idx.clone(),
            label: String::new(),
            compressed: 0,
            size: 0,
            head: None,
        };
        current = Some(m.open_archive()?);
    }
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let mut from = 0;
    loop {
        let here = current.as_ref().unwrap_or(&root);
        let mut descended = None;
        for to in from + 1..parts.len() {
            let name = parts[from..to].join("/");
            if is_zip_name(&name) {
                if let Some(i) = find_entry(here, &name) {
                    descended = Some((i, to));
                    break;
                }
            }
        }
        match descended {
            Some((i, to)) => {
                let next = here.nested(i)?;
                path_idx.push(i);
                current = Some(next);
                from = to;
            }
            None => {
                let name = parts[from..].join("/");
                let i = find_entry(here, &name).ok_or_else(|| Error::Io {
                    path: member_label(here.label(), &name),
                    source: io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("no member {name} in {}", here.label()),
                    ),
                })?;
                let e = &here.entries[i];
                path_idx.push(i);
                return Ok(Some(MemberSource {
                    label: member_label(here.label(), &e.name),
                    compressed: e.compressed,
                    size: e.size,
                    root,
                    path: path_idx,
                    head: None,
                }));
            }
        }
    }
}

/// The sibling `.prj` text of the member a path names (see [`resolve_member`]).
pub fn member_prj(member: &MemberSource) -> Option<String> {
    let (inner, last) = member.parent().ok()?;
    sibling_prj(inner.as_ref().unwrap_or(&member.root), last)
}

/// A member by exact name, else by name ignoring case.
fn find_entry(archive: &Archive, name: &str) -> Option<usize> {
    let files = || {
        archive
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.is_dir)
    };
    files()
        .find(|(_, e)| e.name == name)
        .or_else(|| files().find(|(_, e)| e.name.eq_ignore_ascii_case(name)))
        .map(|(i, _)| i)
}

enum Resolved {
    Root(Arc<Archive>),
    Member(MemberSource),
}

impl Resolved {
    fn label(&self) -> &str {
        match self {
            Resolved::Root(a) => a.label(),
            Resolved::Member(m) => m.label(),
        }
    }
}

/// The archive a path starts with (from `roots` if it was opened before), and the rest of
/// the path.
fn split_archive(path: &str, roots: &mut Roots) -> Result<Option<(Resolved, String)>, Error> {
    let plain = path.strip_prefix("/vsizip/");
    if let Some(inner) = plain.and_then(|p| p.strip_prefix('{')) {
        let close = inner.rfind('}').ok_or_else(|| {
            Error::Invalid(format!("{path}: the '{{' of /vsizip/{{...}} is not closed"))
        })?;
        let (spec, rest) = (&inner[..close], &inner[close + 1..]);
        let rest = rest.trim_start_matches('/').to_owned();
        if let Some(m) = resolve_in(spec, roots)? {
            return Ok(Some((Resolved::Member(m), rest)));
        }
        return Ok(Some((Resolved::Root(roots.open(spec)?), rest)));
    }
    let text = plain.unwrap_or(path);
    let mut end = 0;
    for part in text.split_inclusive('/') {
        end += part.len();
        let candidate = text[..end].trim_end_matches('/');
        if is_zip_name(candidate) && Path::new(candidate).is_file() {
            let archive = roots.open(candidate)?;
            return Ok(Some((Resolved::Root(archive), text[end..].to_owned())));
        }
    }
    if plain.is_some() {
        return Err(Error::Io {
            path: text.to_owned(),
            source: io::Error::new(io::ErrorKind::NotFound, "no zip file in this /vsizip/ path"),
        });
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_fnmatch_ignoring_case() {
        let cases = [
            ("*.asc", "data/NT/NT00.ASC", true),
            ("nt??.asc", "data/NT/NT00.asc", true),
            ("NT[0-4]*.asc", "NT51.asc", false),
            ("NT[!5]*", "NT41.asc", true),
            ("data/*/NT*.asc", "data/NT/NT00.asc", true),
            ("*.asc", "NT00.asc.xml", false),
            ("[", "[", true),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(matches_pattern(pattern, name), want, "{pattern} {name}");
        }
    }
}
