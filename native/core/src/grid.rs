//! Reading a whole grid, or just its header.

use std::cell::Cell;

use crate::body;
use crate::chunk::{self, Stop};
use crate::control::Control;
use crate::error::Error;
use crate::header::{parse_whole_header, Header};
use crate::input::{self, load_member, Input};
use crate::limits::{check_room, room_for_cells};
use crate::source;
use crate::trailing::{self, Trailing};
use crate::value::{DataType, Value};
use crate::window::{ChunkText, InMemory, Opened, WindowedFile};

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

/// A caller's buffer for cells of one type, row-major: what [`crate::Plan::read_rows_into`]
/// fills, so that a reader of strip after strip can reuse its buffers.
#[derive(Debug)]
pub enum CellsMut<'a> {
    /// Int32 cells.
    Int32(&'a mut [i32]),
    /// Float32 cells.
    Float32(&'a mut [f32]),
    /// Float64 cells.
    Float64(&'a mut [f64]),
}

impl CellsMut<'_> {
    /// The cells' data type.
    pub fn data_type(&self) -> DataType {
        match self {
            CellsMut::Int32(_) => DataType::Int32,
            CellsMut::Float32(_) => DataType::Float32,
            CellsMut::Float64(_) => DataType::Float64,
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        match self {
            CellsMut::Int32(v) => v.len(),
            CellsMut::Float32(v) => v.len(),
            CellsMut::Float64(v) => v.len(),
        }
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Moving cells of one type in and out of [`GridData`] without matching by hand.
pub(crate) trait GridCells: Value {
    /// The vector, if `data` holds this type.
    fn from_grid_data(data: GridData) -> Option<Vec<Self>>;
    /// Wrap a vector of this type.
    fn into_grid_data(values: Vec<Self>) -> GridData;
}

macro_rules! impl_cells {
    ($t:ty, $variant:ident) => {
        impl GridCells for $t {
            fn from_grid_data(data: GridData) -> Option<Vec<Self>> {
                match data {
                    GridData::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn into_grid_data(values: Vec<Self>) -> GridData {
                GridData::$variant(values)
            }
        }
    };
}
impl_cells!(i32, Int32);
impl_cells!(f32, Float32);
impl_cells!(f64, Float64);

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

/// Turn a body failure into the caller's error.
pub(crate) fn stop_error(stop: Stop, name: &str, text: &[u8], cells: u64) -> Error {
    stop.into_error(name, cells, |loc| loc.locate(name, text))
}

/// The data type a grid gets: the caller's, else the nodata rule, else the body's markers.
pub(crate) fn resolve_data_type(
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

/// [`resolve_data_type`], refusing a type that cannot hold the header's nodata.
pub(crate) fn checked_data_type(
    forced: Option<DataType>,
    header: &Header,
    float_marker: bool,
    name: &str,
) -> Result<DataType, Error> {
    let data_type = resolve_data_type(forced, header, float_marker);
    if data_type == DataType::Int32 && header.nodata.as_ref().is_some_and(|n| n.is_null) {
        return Err(Error::Invalid(format!(
            "{name}: nodata 'null' cannot be stored in an int32 grid; read it as float32 or \
             float64"
        )));
    }
    Ok(data_type)
}

/// The header of a whole text in memory, and its body's survey (the first pass).
pub(crate) fn survey_text(
    text: &[u8],
    name: &str,
    control: &Control,
) -> Result<(Header, chunk::Survey), Error> {
    let header = parse_whole_header(text).map_err(|e| Error::Parse(e.locate(name, text)))?;
    let body = header.body_offset..text.len();
    check_room(&header, body.len() as u64, name, text)?;
    control.add_total(body.len() as u64);
    let survey =
        body::survey(text, body, control).map_err(|s| stop_error(s, name, text, header.cells()))?;
    Ok((header, survey))
}

/// Parse a whole grid from its text. `name` is used in error messages.
pub fn parse_grid(
    text: &[u8],
    name: &str,
    dtype: Option<DataType>,
    control: &Control,
) -> Result<Grid, Error> {
    parse_grid_then(text, name, dtype, control, |header, at| {
        Ok(trailing::examine_text(text, header, at))
    })
}

/// How a reader looks at what follows a grid whose parse stopped at an offset (see
/// [`trailing`]): the text in memory, or the source read again.
type Examine<'a> = dyn Fn(&Header, u64) -> Result<Option<Trailing>, Error> + 'a;

/// [`parse_grid`], `examine` telling accepted trailing content from a real error when the
/// parse stops after the grid's last value.
fn parse_grid_then(
    text: &[u8],
    name: &str,
    dtype: Option<DataType>,
    control: &Control,
    examine: impl Fn(&Header, u64) -> Result<Option<Trailing>, Error>,
) -> Result<Grid, Error> {
    let (header, survey) = survey_text(text, name, control)?;
    let cells = header.cells();
    let stopped = Cell::new(None);
    let fail = |s: Stop| {
        stopped.set(s.trailing_at());
        stop_error(s, name, text, cells)
    };
    let body = Body {
        text: &InMemory::new(text),
        end: text.len(),
        name,
        survey,
        fail,
        tail_marker: false,
    };
    let err = match body.into_grid(header.clone(), dtype, control) {
        Err(e) => e,
        ok => return ok,
    };
    let t = accepted(err, stopped.get(), &header, name, control, &examine)?;
    let grid_text = text.get(..t.grid_end as usize).unwrap_or(text);
    let (header, survey) = survey_text(grid_text, name, control)?;
    let body = Body {
        text: &InMemory::new(grid_text),
        end: grid_text.len(),
        name,
        survey,
        fail: |s| stop_error(s, name, grid_text, cells),
        tail_marker: t.float_marker,
    };
    body.into_grid(header, dtype, control)
}

/// The trailing content to read around, when a parse failed with `err` having stopped at
/// `stopped` (see [`Stop::trailing_at`]) after the grid's last value and `examine` accepts
/// what follows (warning through `control`); else the error to report (see
/// [`trailing::settle`]).
pub(crate) fn accepted(
    err: Error,
    stopped: Option<u64>,
    header: &Header,
    name: &str,
    control: &Control,
    examine: &Examine<'_>,
) -> Result<Trailing, Error> {
    let Some(at) = stopped else {
        return Err(err);
    };
    let found = examine(header, at)?;
    trailing::settle(found, err, name, header, control)
}

/// Read a large plain file window by window. A file changed during the read is an error
/// whatever the read found (a mix of old and new text may parse, or fail where the old file
/// had no problem): see [`crate::window::FileIdentity`].
pub(crate) fn read_windowed(
    mut file: WindowedFile,
    path: &std::path::Path,
    name: &str,
    dtype: Option<DataType>,
    control: &Control,
) -> Result<Grid, Error> {
    let cells = file.header.cells();
    let stopped = Cell::new(None);
    let grid = {
        let fail = |s: Stop| {
            stopped.set(s.trailing_at());
            file.error(s, name, cells)
        };
        file.survey(control).map_err(&fail).and_then(|survey| {
            let body = Body {
                text: &file,
                end: file.body().end,
                name,
                survey,
                fail: &fail,
                tail_marker: false,
            };
            body.into_grid(file.header.clone(), dtype, control)
        })
    };
    let grid = match grid {
        Err(err) => {
            let examine =
                |h: &Header, at| trailing::examine_input(Input::Path(path), name, h, at, control);
            match accepted(
                err,
                stopped.get(),
                &file.header.clone(),
                name,
                control,
                &examine,
            ) {
                Ok(t) => {
                    file.end_at(t.grid_end);
                    let fail = |s| file.error(s, name, cells);
                    file.survey(control).map_err(fail).and_then(|survey| {
                        let body = Body {
                            text: &file,
                            end: file.body().end,
                            name,
                            survey,
                            fail,
                            tail_marker: t.float_marker,
                        };
                        body.into_grid(file.header.clone(), dtype, control)
                    })
                }
                Err(e) => Err(e),
            }
        }
        ok => ok,
    };
    file.unless_changed(path, name, grid)
}

/// A surveyed body, ready for its second pass.
struct Body<'a, C, F> {
    text: &'a C,
    /// Offset just past the body's text.
    end: usize,
    /// The source's name, for errors.
    name: &'a str,
    survey: chunk::Survey,
    /// Turns a stop into the caller's error (locating it in the text).
    fail: F,
    /// Whether trailing content cut off the text holds a float marker (GDAL's type scan
    /// reads the whole file).
    tail_marker: bool,
}

impl<C: ChunkText, F: Fn(Stop) -> Error> Body<'_, C, F> {
    /// Parse the cells, in the type the caller, the header or the survey says.
    fn into_grid(
        self,
        header: Header,
        dtype: Option<DataType>,
        control: &Control,
    ) -> Result<Grid, Error> {
        let markers = self.survey.float_marker() || self.tail_marker;
        let data_type = checked_data_type(dtype, &header, markers, self.name)?;
        let cells = header.cells();
        let nulls = body::Nulls::of(&header, data_type);
        let nodata = header.nodata_as_read(dtype, data_type);
        let nan_for = nodata.filter(|_| control.is_nodata_as_nan());
        let data = match data_type {
            DataType::Int32 => GridData::Int32(self.fill(cells, &nulls, nan_for, control)?),
            DataType::Float32 => GridData::Float32(self.fill(cells, &nulls, nan_for, control)?),
            DataType::Float64 => GridData::Float64(self.fill(cells, &nulls, nan_for, control)?),
        };
        Ok(Grid {
            nodata,
            header,
            data,
        })
    }

    /// Parse all `cells` values into a new vector of `T`.
    fn fill<T: Value>(
        &self,
        cells: u64,
        nulls: &body::Nulls,
        nan_for: Option<f64>,
        control: &Control,
    ) -> Result<Vec<T>, Error> {
        let name = self.name;
        let len = usize::try_from(cells)
            .map_err(|_| Error::Invalid(format!("{name}: {cells} cells do not fit in memory")))?;
        let out = room_for_cells(len, name)?;
        let (out, written) =
            body::fill_fresh(self.text, &self.survey, nulls, nan_for, out, len, control)
                .map_err(&self.fail)?;
        if (written as u64) < cells {
            let problem = chunk::too_few(written as u64, cells, self.end as u64);
            return Err((self.fail)(Stop::Short(problem)));
        }
        Ok(out)
    }
}

/// Read a whole grid from a file or bytes.
pub fn read(
    input: Input<'_>,
    name: &str,
    dtype: Option<DataType>,
    control: &Control,
) -> Result<Grid, Error> {
    if let Input::Path(path) = input {
        return match WindowedFile::open(path, name, control)? {
            Opened::Windowed(file) => read_windowed(file, path, name, dtype, control),
            opened => read_opened(opened, input, name, dtype, control),
        };
    }
    read_opened(Opened::Stream, input, name, dtype, control)
}

/// [`read`] of `input` once [`WindowedFile::open`] said how to read it (anything but
/// windowed; [`Opened::Stream`] for inputs that are not paths).
pub(crate) fn read_opened(
    opened: Opened,
    input: Input<'_>,
    name: &str,
    dtype: Option<DataType>,
    control: &Control,
) -> Result<Grid, Error> {
    match opened {
        Opened::Whole(bytes) => return read(Input::Bytes(&bytes), name, dtype, control),
        // Read once, and only up to the value after the grid (its budget): what follows
        // cannot be seen, so trailing content stays an error here.
        Opened::NonRegular(file) => {
            let text = source::load_stream(file, name, control)?;
            return parse_grid_then(&text, name, dtype, control, |_, _| Ok(None));
        }
        Opened::Windowed(_) | Opened::Stream => {}
    }
    if let Some(size) = input::gzip_size_hint(input) {
        // Decompressed size from the gzip trailer, so progress has a total from the start.
        control.fix_total(size);
    }
    match input::load(input, name)? {
        input::Loaded::Whole(text) => parse_grid(&text, name, dtype, control),
        // Decompressed only up to the value after the grid (its budget): look at what
        // follows by reading the source again.
        input::Loaded::Bounded(text) => parse_grid_then(&text, name, dtype, control, |h, at| {
            trailing::examine_input(input, name, h, at, control)
        }),
    }
}

/// Read only the header, reading as few bytes as it needs (64 KiB at a time).
pub fn read_header(input: Input<'_>, name: &str) -> Result<Header, Error> {
    let mut reader = input::open(input, name)?;
    source::read_header_text(&mut reader, name, source::HEADER_STEP).map(|(h, _, _)| h)
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
