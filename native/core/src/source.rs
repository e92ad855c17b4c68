//! Getting a grid's text: from a file (plain or gzip, recognised by its magic bytes, so the
//! extension does not matter) or from bytes in memory.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::Error;

/// Where a grid comes from.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A file on disk.
    Path(&'a Path),
    /// The file's bytes, already in memory (plain or gzip).
    Bytes(&'a [u8]),
}

/// An owned [`Input`], for work that outlives the caller's borrow (e.g. mosaic plans).
#[derive(Debug, Clone)]
pub enum OwnedInput {
    /// A file on disk.
    Path(PathBuf),
    /// Bytes in memory.
    Bytes(std::sync::Arc<[u8]>),
}

impl OwnedInput {
    /// Borrow as an [`Input`].
    pub fn as_input(&self) -> Input<'_> {
        match self {
            OwnedInput::Path(p) => Input::Path(p),
            OwnedInput::Bytes(b) => Input::Bytes(b),
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn io_error(name: &str, source: io::Error) -> Error {
    Error::Io {
        path: name.to_owned(),
        source,
    }
}

/// A reader over the grid's text, decompressing gzip transparently.
pub fn open<'a>(input: Input<'a>, name: &str) -> Result<Box<dyn Read + Send + 'a>, Error> {
    match input {
        Input::Bytes(bytes) if bytes.starts_with(&GZIP_MAGIC) => {
            Ok(Box::new(MultiGzDecoder::new(bytes)))
        }
        Input::Bytes(bytes) => Ok(Box::new(bytes)),
        Input::Path(path) => {
            let mut file = File::open(path).map_err(|e| io_error(name, e))?;
            let mut magic = [0u8; 2];
            let got = read_full(&mut file, &mut magic).map_err(|e| io_error(name, e))?;
            let head = io::Cursor::new(magic[..got].to_vec());
            let chained = head.chain(file);
            if got == 2 && magic == GZIP_MAGIC {
                Ok(Box::new(MultiGzDecoder::new(chained)))
            } else {
                Ok(Box::new(chained))
            }
        }
    }
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
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

/// The whole text: borrowed when the input is plain bytes, else read (and decompressed).
pub fn load<'a>(input: Input<'a>, name: &str) -> Result<Cow<'a, [u8]>, Error> {
    match input {
        Input::Bytes(bytes) if !bytes.starts_with(&GZIP_MAGIC) => Ok(Cow::Borrowed(bytes)),
        Input::Path(path) => {
            let bytes = read_file(path).map_err(|e| io_error(name, e))?;
            if bytes.starts_with(&GZIP_MAGIC) {
                Ok(Cow::Owned(gunzip(&bytes, name)?))
            } else {
                Ok(Cow::Owned(bytes))
            }
        }
        Input::Bytes(bytes) => Ok(Cow::Owned(gunzip(bytes, name)?)),
    }
}

/// Read a whole file, in parallel pieces: the copy out of the page cache and the page faults
/// of the new buffer are a large share of a fast parse, and they spread over cores well.
fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    use rayon::prelude::*;
    const PIECE: usize = 4 << 20;
    let file = File::open(path)?;
    let len = usize::try_from(file.metadata()?.len())
        .map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "file too large for memory"))?;
    if len < 2 * PIECE {
        return std::fs::read(path);
    }
    let mut buf = vec![0u8; len];
    buf.par_chunks_mut(PIECE)
        .enumerate()
        .try_for_each(|(i, piece)| read_exact_at(&file, piece, (i * PIECE) as u64))?;
    // The file may have grown since its length was taken: read what follows, as a plain
    // sequential read would.
    let mut rest = Vec::new();
    let mut tail = File::open(path)?;
    io::Seek::seek(&mut tail, io::SeekFrom::Start(len as u64))?;
    tail.read_to_end(&mut rest)?;
    buf.extend_from_slice(&rest);
    Ok(buf)
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
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
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let mut f = file.try_clone()?;
    io::Seek::seek(&mut f, io::SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

fn gunzip(bytes: &[u8], name: &str) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| io_error(name, e))?;
    Ok(out)
}

/// Read from `reader` until `buf` holds at least `want` more bytes or the input ends.
/// Returns whether the input ended.
pub fn fill_buffer(
    reader: &mut (impl Read + ?Sized),
    buf: &mut Vec<u8>,
    want: usize,
    name: &str,
) -> Result<bool, Error> {
    let target = buf.len() + want;
    let mut block = vec![0u8; want.clamp(1, 1 << 20)];
    while buf.len() < target {
        match reader.read(&mut block) {
            Ok(0) => return Ok(true),
            Ok(n) => buf.extend_from_slice(&block[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(name, e)),
        }
    }
    Ok(false)
}

/// Bytes the input holds (compressed size for gzip): a progress total.
pub fn size_hint(input: Input<'_>) -> u64 {
    match input {
        Input::Bytes(b) => b.len() as u64,
        Input::Path(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
    }
}
