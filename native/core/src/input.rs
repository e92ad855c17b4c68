//! Where a grid comes from ([`Input`]: a file, bytes in memory, a zip member) and the text
//! each one gives: opened, loaded whole, or measured for progress. A zip member is one kind
//! of input, and a zip can itself come from any input, so this sits above both the bounded
//! readers ([`crate::source`]) and the archive reader ([`crate::archive`]).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::archive::{Archive, Member, MemberSource, MemberText};
use crate::error::Error;
use crate::source::{
    io_error, is_gzip, load_bounded, load_opened, load_reader, max_inflated, read_full,
};

/// Where a grid comes from.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A file on disk.
    Path(&'a Path),
    /// The file's bytes, already in memory (plain or gzip).
    Bytes(&'a [u8]),
    /// A member of a zip archive (possibly nested), decompressed as it is read.
    Member(&'a MemberSource),
}

/// An owned [`Input`], for work that outlives the caller's borrow (e.g. mosaic plans).
#[derive(Debug, Clone)]
pub enum OwnedInput {
    /// A file on disk.
    Path(PathBuf),
    /// Bytes in memory.
    Bytes(std::sync::Arc<[u8]>),
    /// A member of a zip archive: its position, never its text.
    Member(MemberSource),
}

impl OwnedInput {
    /// Borrow as an [`Input`].
    pub fn as_input(&self) -> Input<'_> {
        match self {
            OwnedInput::Path(p) => Input::Path(p),
            OwnedInput::Bytes(b) => Input::Bytes(b),
            OwnedInput::Member(m) => Input::Member(m),
        }
    }
}

/// A reader over the grid's text, decompressing gzip transparently.
pub(crate) fn open<'a>(input: Input<'a>, name: &str) -> Result<Box<dyn Read + Send + 'a>, Error> {
    open_tracked(input, name).map(|(reader, _)| reader)
}

/// How a text must be read: whether it needs a [`BodyBudget`] (compressed text, or a stream
/// of unknown size such as a FIFO), and the most text it can hold, when that is known (deflate
/// data of known compressed size, see [`max_inflated`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Bound {
    /// Whether the text must be read within a [`BodyBudget`].
    pub(crate) budget: bool,
    /// The most bytes of text the input can hold.
    pub(crate) max_text: Option<u64>,
}

/// [`open`], also saying how the text must be bounded (see [`Bound`]).
pub(crate) fn open_tracked<'a>(
    input: Input<'a>,
    name: &str,
) -> Result<(Box<dyn Read + Send + 'a>, Bound), Error> {
    match input {
        Input::Bytes(bytes) if is_gzip(bytes) => Ok((
            Box::new(MultiGzDecoder::new(bytes)),
            Bound {
                budget: true,
                max_text: Some(max_inflated(bytes.len() as u64)),
            },
        )),
        Input::Bytes(bytes) => Ok((Box::new(bytes), Bound::default())),
        Input::Member(member) => {
            let (reader, most) = member.open()?;
            Ok((
                reader,
                Bound {
                    budget: true,
                    max_text: Some(most),
                },
            ))
        }
        Input::Path(path) => {
            let opened = crate::pipe::open(path).map_err(|e| io_error(name, e))?;
            // A FIFO, a pipe or a device: its size (0) says nothing about its text.
            let size = opened.regular.then_some(opened.meta.len());
            let mut file = opened.into_blocking().map_err(|e| io_error(name, e))?;
            let mut magic = [0u8; 2];
            let got = read_full(&mut file, &mut magic).map_err(|e| io_error(name, e))?;
            let head = io::Cursor::new(magic[..got].to_vec());
            let chained = head.chain(file);
            if is_gzip(&magic[..got]) {
                let bound = Bound {
                    budget: true,
                    max_text: size.map(max_inflated),
                };
                Ok((Box::new(MultiGzDecoder::new(chained)), bound))
            } else {
                let bound = Bound {
                    budget: size.is_none(),
                    max_text: None,
                };
                Ok((Box::new(chained), bound))
            }
        }
    }
}

/// A grid's text, as [`load`] gives it.
pub(crate) enum Loaded<'a> {
    /// All of it: plain bytes, or a zip member inflated whole.
    Whole(Cow<'a, [u8]>),
    /// Read within a [`BodyBudget`](crate::source::BodyBudget) (see [`load_bounded`]): it may
    /// stop just after the value that follows the grid.
    Bounded(Vec<u8>),
}

impl<'a> Loaded<'a> {
    /// The text, whichever way it was read.
    pub(crate) fn into_text(self) -> Cow<'a, [u8]> {
        match self {
            Loaded::Whole(text) => text,
            Loaded::Bounded(text) => Cow::Owned(text),
        }
    }
}

/// The text: borrowed when the input is plain bytes, whole when a zip member can be inflated
/// in one call, else read (and decompressed, within a budget: see [`load_bounded`]).
pub(crate) fn load<'a>(input: Input<'a>, name: &str) -> Result<Loaded<'a>, Error> {
    match input {
        Input::Bytes(bytes) if !is_gzip(bytes) => Ok(Loaded::Whole(Cow::Borrowed(bytes))),
        Input::Path(path) => {
            let opened = crate::pipe::open(path).map_err(|e| io_error(name, e))?;
            Ok(Loaded::Bounded(load_opened(opened, name)?))
        }
        Input::Bytes(mut bytes) => {
            let size = bytes.len() as u64;
            Ok(Loaded::Bounded(load_reader(&mut bytes, name, Some(size))?))
        }
        Input::Member(member) => match member.open_text()? {
            MemberText::Whole(text) => Ok(Loaded::Whole(Cow::Owned(text))),
            MemberText::Stream(mut reader, most) => Ok(Loaded::Bounded(load_bounded(
                &mut reader,
                name,
                Some(most),
            )?)),
        },
    }
}

/// The decompressed size a gzip input announces in its trailer (modulo 4 GiB, so only a
/// hint), or `None` when the input is not gzip.
pub(crate) fn gzip_size_hint(input: Input<'_>) -> Option<u64> {
    let trailer = match input {
        Input::Bytes(b) if is_gzip(b) && b.len() >= 22 => {
            let mut t = [0u8; 4];
            t.copy_from_slice(&b[b.len() - 4..]);
            t
        }
        Input::Path(p) => {
            let mut f = File::open(p).ok()?;
            let mut magic = [0u8; 2];
            read_full(&mut f, &mut magic).ok()?;
            if !is_gzip(&magic) {
                return None;
            }
            io::Seek::seek(&mut f, io::SeekFrom::End(-4)).ok()?;
            let mut t = [0u8; 4];
            f.read_exact(&mut t).ok()?;
            t
        }
        Input::Bytes(_) | Input::Member(_) => return None,
    };
    Some(u64::from(u32::from_le_bytes(trailer)))
}

/// Bytes the input holds (compressed size for gzip; the text an archive member declares):
/// a progress total.
pub(crate) fn size_hint(input: Input<'_>) -> u64 {
    match input {
        Input::Bytes(b) => b.len() as u64,
        Input::Member(m) => m.text_size_hint(),
        Input::Path(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
    }
}

// --- Zip archives -------------------------------------------------------------------------

/// The archive `input` holds; `label` names it in messages.
fn archive_of(input: Input<'_>, label: &str) -> Result<Archive, Error> {
    match input {
        Input::Bytes(b) => Archive::from_bytes(Arc::from(b), label),
        Input::Path(p) => Archive::open(p, label),
        Input::Member(m) => m.open_archive(),
    }
}

/// The files in the archive (directories left out), in central-directory order. Reads only
/// the central directory.
pub fn archive_members(input: Input<'_>, name: &str) -> Result<Vec<Member>, Error> {
    Ok(archive_of(input, name)?.members())
}

/// The text of member `index` (decompressed within a budget, see the module docs) and its
/// label (`archive/member`, used in error messages).
pub(crate) fn load_member(
    input: Input<'_>,
    name: &str,
    index: usize,
) -> Result<(String, Vec<u8>), Error> {
    let archive = archive_of(input, name)?;
    let (mut reader, label, most) = archive.open_member(index)?;
    let text = load_bounded(&mut reader, &label, Some(most))?;
    Ok((label, text))
}
