//! Reading a whole grid, or just its header.

use crate::body::{self, Stop};
use crate::control::Control;
use crate::error::{Error, Located};
use crate::header::{parse_header, Header, HeaderError};
use crate::scan::{after_token, count_tokens};
use crate::source::{self, Input};
use crate::value::{DataType, Value};

/// A grid's cells, row-major, row 0 the northernmost.
#[derive(Debug, Clone, PartialEq)]
pub enum GridData {
    /// Int32 cells.
    Int32(Vec<i32>),
    /// Float32 cells.
    Float32(Vec<f32>),
    /// Float64 cells.
    Float64(Vec<f64>),
}

impl GridData {
    /// The cells' data type.
    pub fn data_type(&self) -> DataType {
        match self {
            GridData::Int32(_) => DataType::Int32,
            GridData::Float32(_) => DataType::Float32,
            GridData::Float64(_) => DataType::Float64,
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        match self {
            GridData::Int32(v) => v.len(),
            GridData::Float32(v) => v.len(),
            GridData::Float64(v) => v.len(),
        }
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A grid read into memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The header as written.
    pub header: Header,
    /// The nodata value as GDAL reports it for [`Grid::data`]'s type.
    pub nodata: Option<f64>,
    /// The cells.
    pub data: GridData,
}

/// Turn a header failure into a located error.
pub(crate) fn header_error(e: HeaderError, name: &str, text: &[u8]) -> Error {
    match e {
        HeaderError::Bad(loc) => Error::Parse(loc.locate(name, text)),
        HeaderError::NeedMore => Error::Parse(
            Located::new(text.len() as u64, "the file ends inside the header").locate(name, text),
        ),
    }
}

/// `n` cells of `fill`, or an error (never an abort) when memory cannot hold them. The
/// fallible reservation is only a probe: `vec!` then allocates zeroed memory lazily, which
/// keeps large reads fast.
pub(crate) fn alloc_cells<T: Clone>(n: usize, fill: T, name: &str) -> Result<Vec<T>, Error> {
    let too_big = || {
        Error::Invalid(format!(
            "{name}: {n} cells of {} bytes do not fit in memory",
            std::mem::size_of::<T>()
        ))
    };
    let bytes = n
        .checked_mul(std::mem::size_of::<T>())
        .ok_or_else(too_big)?;
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(bytes).map_err(|_| too_big())?;
    drop(probe);
    Ok(vec![fill; n])
}

/// Turn a body failure into the caller's error.
pub(crate) fn stop_error(stop: Stop, name: &str, text: &[u8], cells: u64) -> Error {
    stop.into_error(cells, |loc| loc.locate(name, text))
}

/// Refuse, before allocating anything, a header that promises more cells than the body can
/// hold (each value takes at least one byte plus a separator).
pub(crate) fn check_room(
    header: &Header,
    body_len: u64,
    name: &str,
    text: &[u8],
) -> Result<(), Error> {
    let cells = header.cells();
    let need = cells.saturating_mul(2).saturating_sub(1);
    if body_len < need {
        return Err(Error::Parse(
            Located::new(
                header.body_offset as u64,
                format!(
                    "the header promises {} × {} = {cells} values, which need at least {need} \
                     bytes, but only {body_len} bytes follow the header",
                    header.ncols, header.nrows
                ),
            )
            .locate(name, text),
        ));
    }
    Ok(())
}

/// The data type a grid gets: the caller's, else the nodata rule, else the body's markers.
pub fn resolve_data_type(
    forced: Option<DataType>,
    header: &Header,
    float_marker: bool,
) -> DataType {
    forced
        .or_else(|| header.nodata_data_type())
        .unwrap_or(if float_marker {
            DataType::Float32
        } else {
            DataType::Int32
        })
}

/// Parse a whole grid from its text. `name` is used in error messages.
pub fn parse_grid(
    text: &[u8],
    name: &str,
    dtype: Option<DataType>,
    control: &Control,
) -> Result<Grid, Error> {
    let header = parse_header(text, true).map_err(|e| header_error(e, name, text))?;
    let body = header.body_offset..text.len();
    check_room(&header, body.len() as u64, name, text)?;
    control.add_total(body.len() as u64);
    let survey = body::survey(text, body, control).map_err(|s| stop_error(s, name, text, 0))?;
    parse_surveyed(text, name, header, &survey, dtype, control)
}

/// The second half of a read, once the header is parsed and the body surveyed.
fn parse_surveyed(
    text: &[u8],
    name: &str,
    header: Header,
    survey: &body::Survey,
    dtype: Option<DataType>,
    control: &Control,
) -> Result<Grid, Error> {
    let data_type = resolve_data_type(dtype, &header, survey.float_marker());
    if data_type == DataType::Int32 && header.nodata.as_ref().is_some_and(|n| n.is_null) {
        return Err(Error::Invalid(format!(
            "{name}: nodata 'null' cannot be stored in an int32 grid; read it as float32 or float64"
        )));
    }
    let data = match data_type {
        DataType::Int32 => GridData::Int32(fill_typed(text, name, &header, survey, control)?),
        DataType::Float32 => GridData::Float32(fill_typed(text, name, &header, survey, control)?),
        DataType::Float64 => GridData::Float64(fill_typed(text, name, &header, survey, control)?),
    };
    Ok(Grid {
        nodata: header.nodata_as_read(dtype, data_type),
        header,
        data,
    })
}

/// A whole file in memory, its header parsed and its body surveyed.
pub(crate) struct Loaded {
    pub text: Vec<u8>,
    pub header: Header,
    pub survey: body::Survey,
}

/// Read a large plain file and survey it in one parallel pass: each chunk is counted while
/// it is still in cache from being read.
fn read_path_surveyed(
    path: &std::path::Path,
    name: &str,
    dtype: Option<DataType>,
    control: &Control,
) -> Result<Option<Grid>, Error> {
    let Some(Loaded {
        text,
        header,
        survey,
    }) = load_surveyed(path, name, control)?
    else {
        return Ok(None);
    };
    parse_surveyed(&text, name, header, &survey, dtype, control).map(Some)
}

/// Load and survey `path`, a large file in one parallel pass. `None` when this does not apply
/// (gzip, or a header longer than the first read): use the streaming or plain path then.
pub(crate) fn load_surveyed(
    path: &std::path::Path,
    name: &str,
    control: &Control,
) -> Result<Option<Loaded>, Error> {
    use rayon::prelude::*;
    const HEAD: usize = 1 << 20;
    let io_err = |e: std::io::Error| Error::Io {
        path: name.to_owned(),
        source: e,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let Ok(len) = usize::try_from(file.metadata().map_err(io_err)?.len()) else {
        return Ok(None);
    };
    if len < 4 * HEAD {
        // Small (a tile): one plain read, then the usual survey.
        let text = std::fs::read(path).map_err(io_err)?;
        if text.starts_with(&[0x1f, 0x8b]) {
            return Ok(None);
        }
        let header = parse_header(&text, true).map_err(|e| header_error(e, name, &text))?;
        let body = header.body_offset..text.len();
        check_room(&header, body.len() as u64, name, &text)?;
        control.add_total(body.len() as u64);
        let survey =
            body::survey(&text, body, control).map_err(|s| stop_error(s, name, &text, 0))?;
        return Ok(Some(Loaded {
            text,
            header,
            survey,
        }));
    }
    let mut text = vec![0u8; len];
    source::read_exact_at(&file, &mut text[..HEAD], 0).map_err(io_err)?;
    if text.starts_with(&[0x1f, 0x8b]) {
        return Ok(None);
    }
    let header = match parse_header(&text[..HEAD], false) {
        Ok(h) => h,
        Err(HeaderError::NeedMore) => return Ok(None),
        Err(e) => return Err(header_error(e, name, &text[..HEAD])),
    };
    let body = header.body_offset..len;
    check_room(&header, body.len() as u64, name, &text[..HEAD])?;
    control.add_total(body.len() as u64);
    let size = crate::scan::chunk_size(body.len());
    let chunks = crate::scan::fixed_chunks(body.clone(), size);
    let body_start = body.start;
    let counted: Vec<(crate::scan::ChunkCount, bool)> = text[body.clone()]
        .par_chunks_mut(size)
        .enumerate()
        .map(|(i, piece)| {
            if control.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let start = body_start + i * size;
            let unread = HEAD.saturating_sub(start).min(piece.len());
            source::read_exact_at(&file, &mut piece[unread..], (start + unread) as u64)
                .map_err(io_err)?;
            control.advance(body::survey_share(piece.len()));
            // The byte before the piece may not be read yet: count as if it were a
            // separator, and correct once every piece is in.
            Ok((
                count_tokens(piece, false),
                piece.first().is_some_and(|&b| b > 0x20),
            ))
        })
        .collect::<Result<_, _>>()?;
    let counts = chunks
        .iter()
        .zip(counted)
        .map(|(range, (mut count, starts_inside))| {
            if starts_inside && after_token(&text, range.start) {
                count.tokens -= 1;
            }
            count
        })
        .collect();
    let survey = body::Survey { chunks, counts };
    Ok(Some(Loaded {
        text,
        header,
        survey,
    }))
}

fn fill_typed<T: Value>(
    text: &[u8],
    name: &str,
    header: &Header,
    survey: &body::Survey,
    control: &Control,
) -> Result<Vec<T>, Error> {
    let cells = header.cells();
    let len = usize::try_from(cells)
        .map_err(|_| Error::Invalid(format!("{name}: {cells} cells do not fit in memory")))?;
    let mut out = alloc_cells(len, T::default(), name)?;
    let written = body::fill(text, survey, &mut out, control)
        .map_err(|s| stop_error(s, name, text, cells))?;
    if (written as u64) < cells {
        let problem = body::too_few(written as u64, cells, text.len() as u64);
        return Err(Error::Parse(problem.locate(name, text)));
    }
    Ok(out)
}

/// Read a whole grid from a file or bytes.
pub fn read(
    input: Input<'_>,
    name: &str,
    dtype: Option<DataType>,
    control: &Control,
) -> Result<Grid, Error> {
    if let Input::Path(path) = input {
        if let Some(grid) = read_path_surveyed(path, name, dtype, control)? {
            return Ok(grid);
        }
    }
    if let Some(size) = source::gzip_size_hint(input) {
        // Decompressed size from the gzip trailer, so progress has a total from the start.
        control.fix_total(size);
    }
    let text = source::load(input, name)?;
    parse_grid(&text, name, dtype, control)
}

/// Read only the header, reading as few bytes as it needs (64 KiB at a time).
pub fn read_header(input: Input<'_>, name: &str) -> Result<Header, Error> {
    const STEP: usize = 64 * 1024;
    let mut reader = source::open(input, name)?;
    let mut text = Vec::new();
    loop {
        // Doubling keeps re-parsing a long header linear in its length.
        let want = text.len().max(STEP);
        let ended = source::fill_buffer(&mut reader, &mut text, want, name)?;
        match parse_header(&text, ended) {
            Ok(h) => return Ok(h),
            Err(HeaderError::NeedMore) if !ended && text.len() < source::MAX_HEADER => continue,
            Err(HeaderError::NeedMore) if !ended => {
                return Err(source::header_too_long(name, &text))
            }
            Err(e) => return Err(header_error(e, name, &text)),
        }
    }
}
