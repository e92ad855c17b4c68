//! Grids inside zip archives, read without trusting the archive: a member's text is
//! decompressed within the same [`BodyBudget`](crate::source::BodyBudget) as a `.gz` file, so
//! a zip bomb (or a member whose declared size is a lie) is refused after reading little more
//! than its header needs. Only `stored` and `deflate` members are read (what every zip tool
//! writes by default); deflate goes through flate2's pure-Rust backend.
//!
//! ```
//! use std::io::Write;
//! use asciigrid_core::{archive, Control, GridData, Input};
//! let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
//! zip.start_file("a.asc", zip::write::SimpleFileOptions::default()).unwrap();
//! zip.write_all(b"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n").unwrap();
//! let bytes = zip.finish().unwrap().into_inner();
//!
//! let members = archive::members(Input::Bytes(&bytes), "tiles.zip").unwrap();
//! assert_eq!(members[0].name, "a.asc");
//! let grid = archive::read_member(Input::Bytes(&bytes), "tiles.zip", members[0].index, None,
//!                                 &Control::new()).unwrap();
//! assert_eq!(grid.data, GridData::Int32(vec![1, 2]));
//! ```

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};

use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use crate::control::Control;
use crate::error::Error;
use crate::grid::{parse_grid, Grid};
use crate::source::{load_bounded, max_inflated, Input};
use crate::value::DataType;

/// One file inside an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Position in the archive's central directory: what [`read_member`] takes.
    pub index: usize,
    /// The name as stored (a label only: never used as a path).
    pub name: String,
    /// Size after decompression, as the archive declares it (untrusted).
    pub size: u64,
    /// Size inside the archive.
    pub compressed_size: u64,
    /// Whether [`read_member`] can read it (stored or deflate, not encrypted).
    pub supported: bool,
}

/// The archive's bytes, from memory or a file.
enum Reader<'a> {
    Bytes(Cursor<&'a [u8]>),
    File(BufReader<File>),
}

impl Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::Bytes(r) => r.read(buf),
            Reader::File(r) => r.read(buf),
        }
    }
}

impl Seek for Reader<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Reader::Bytes(r) => r.seek(pos),
            Reader::File(r) => r.seek(pos),
        }
    }
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

fn open_archive<'a>(input: Input<'a>, name: &str) -> Result<ZipArchive<Reader<'a>>, Error> {
    let reader = match input {
        Input::Bytes(bytes) => Reader::Bytes(Cursor::new(bytes)),
        Input::Path(path) => {
            Reader::File(BufReader::new(File::open(path).map_err(|e| Error::Io {
                path: name.to_owned(),
                source: e,
            })?))
        }
    };
    ZipArchive::new(reader).map_err(|e| zip_error(name, e))
}

/// Whether `bytes` start like a zip archive (a local file header, or the end record of an
/// empty archive).
pub fn looks_like_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The files in the archive (directories left out), in central-directory order. Reads only
/// the central directory.
pub fn members(input: Input<'_>, name: &str) -> Result<Vec<Member>, Error> {
    let archive = open_archive(input, name)?;
    let mut out = Vec::new();
    for index in 0..archive.len() {
        let entry = archive
            .by_index_data(index)
            .map_err(|e| zip_error(name, e))?;
        if entry.is_dir() {
            continue;
        }
        out.push(Member {
            index,
            name: String::from_utf8_lossy(entry.name_raw()).into_owned(),
            size: entry.size(),
            compressed_size: entry.compressed_size(),
            supported: !entry.encrypted()
                && matches!(
                    entry.compression(),
                    CompressionMethod::Stored | CompressionMethod::Deflated
                ),
        });
    }
    Ok(out)
}

/// The label errors use for member `member` of archive `name`: `name/member`.
pub fn member_label(name: &str, member: &str) -> String {
    format!("{name}/{member}")
}

/// The text of member `index` (decompressed within a budget, see the module docs) and its
/// label (`archive/member`, used in error messages).
pub fn load_member(input: Input<'_>, name: &str, index: usize) -> Result<(String, Vec<u8>), Error> {
    let mut archive = open_archive(input, name)?;
    let (label, supported) = {
        let entry = archive
            .by_index_data(index)
            .map_err(|e| zip_error(name, e))?;
        let label = member_label(name, &String::from_utf8_lossy(entry.name_raw()));
        let supported = !entry.encrypted()
            && matches!(
                entry.compression(),
                CompressionMethod::Stored | CompressionMethod::Deflated
            );
        (label, supported)
    };
    if !supported {
        return Err(Error::Invalid(format!(
            "{label}: only stored or deflate members that are not encrypted can be read"
        )));
    }
    let mut file = archive.by_index(index).map_err(|e| zip_error(&label, e))?;
    let max_text = max_inflated(file.compressed_size());
    let text = load_bounded(&mut file, &label, Some(max_text))?;
    Ok((label, text))
}

/// Read member `index` of the archive as a grid (see [`crate::read`]). Errors name the member
/// as `archive/member`.
pub fn read_member(
    input: Input<'_>,
    name: &str,
    index: usize,
    dtype: Option<DataType>,
    control: &Control,
) -> Result<Grid, Error> {
    let (label, text) = load_member(input, name, index)?;
    parse_grid(&text, &label, dtype, control)
}
