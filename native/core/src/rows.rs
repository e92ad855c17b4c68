//! One grid read strip by strip, so a writer can take each strip while the next is parsed
//! and memory holds strips, not the grid: a large plain file's body is counted once (the
//! first pass of [`crate::read`]), then any rows are parsed when asked for. Anything else
//! (a small file, gzip, a stream, a body whose count shows text after the grid or too few
//! values) is read whole by [`crate::read`], with its warnings and errors, and handed out in
//! pieces.

use std::path::PathBuf;

use crate::body::{self, Nulls};
use crate::chunk::Survey;
use crate::control::Control;
use crate::error::Error;
use crate::grid::{self, CellsMut, GridData};
use crate::header::Header;
use crate::input::Input;
use crate::value::DataType;
use crate::window::{Opened, WindowedFile};

/// A plain file counted chunk by chunk, its values exactly the grid's.
struct Windowed {
    file: WindowedFile,
    path: PathBuf,
    name: String,
    survey: Survey,
    nulls: Nulls,
}

/// A grid whose rows are read on demand (see the module docs).
pub struct GridRows {
    header: Header,
    data_type: DataType,
    nodata: Option<f64>,
    cells: Cells,
}

enum Cells {
    /// A large plain file, its rows parsed when asked for.
    Windowed(Box<Windowed>),
    /// The grid, read whole.
    Whole(GridData),
}

impl GridRows {
    /// Open `input` for reading by rows, in `dtype` or the type GDAL's rule gives (which
    /// takes the whole body's first pass, as [`crate::read`] does).
    pub fn open(
        input: Input<'_>,
        name: &str,
        dtype: Option<DataType>,
        control: &Control,
    ) -> Result<GridRows, Error> {
        let opened = match input {
            Input::Path(path) => WindowedFile::open(path, name, control)?,
            _ => Opened::Stream,
        };
        let file = match opened {
            Opened::Windowed(file) => file,
            opened => {
                return Ok(Self::whole(grid::read_opened(
                    opened, input, name, dtype, control,
                )?))
            }
        };
        let Input::Path(path) = input else {
            return Err(Error::Invalid(format!(
                "{name}: internal: a windowed file without a path"
            )));
        };
        // Opening is the first pass: its progress runs to the end of that pass.
        control.fix_total(crate::chunk::survey_share(file.body().len()));
        let cells = file.header.cells();
        let survey = file
            .survey(control)
            .map_err(|s| file.error(s, name, cells))?;
        let whole_body = survey.chunks.last().map(|c| c.end) == Some(file.body().end);
        if survey.tokens() != cells || !whole_body {
            // Text after the grid, too few values, a run of garbage: the whole read says
            // what it is (a warning and the grid, or the error).
            let grid = grid::read_windowed(file, path, name, dtype, control)?;
            return Ok(Self::whole(grid));
        }
        let header = file.header.clone();
        let data_type = grid::checked_data_type(dtype, &header, survey.float_marker(), name)?;
        Ok(GridRows {
            nodata: header.nodata_as_read(dtype, data_type),
            data_type,
            cells: Cells::Windowed(Box::new(Windowed {
                nulls: Nulls::of(&header, data_type),
                file,
                path: path.to_path_buf(),
                name: name.to_owned(),
                survey,
            })),
            header,
        })
    }

    fn whole(grid: grid::Grid) -> GridRows {
        GridRows {
            data_type: grid.data.data_type(),
            header: grid.header,
            nodata: grid.nodata,
            cells: Cells::Whole(grid.data),
        }
    }

    /// The header as written.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The cells' data type.
    pub fn data_type(&self) -> DataType {
        self.data_type
    }

    /// The nodata value as GDAL reports it for the cells' type (as [`crate::Grid::nodata`]).
    pub fn nodata(&self) -> Option<f64> {
        self.nodata
    }

    /// Rows `start..` into `out` (whole rows, in the grid's type). A bad value in them is an
    /// error naming its line and column; a file changed since it was opened is an error too.
    pub fn read_rows_into(
        &self,
        start: usize,
        out: CellsMut<'_>,
        control: &Control,
    ) -> Result<(), Error> {
        let ncols = self.header.ncols.max(1);
        let rows = out.len() / ncols;
        if out.data_type() != self.data_type
            || out.len() % ncols != 0
            || start
                .checked_add(rows)
                .is_none_or(|end| end > self.header.nrows)
        {
            return Err(Error::Invalid(format!(
                "rows {start}..{} of {} cells each in {} are not rows of this {} x {} {} grid",
                start.saturating_add(rows),
                ncols,
                out.data_type().name(),
                self.header.ncols,
                self.header.nrows,
                self.data_type.name()
            )));
        }
        let first = start * ncols;
        match &self.cells {
            Cells::Whole(data) => copy_rows(data, first, out),
            Cells::Windowed(w) => {
                let Windowed {
                    file,
                    path,
                    name,
                    survey,
                    nulls,
                } = w.as_ref();
                let cells = self.header.cells();
                let parsed = match out {
                    CellsMut::Int32(v) => {
                        body::fill_part(file, survey, nulls, v, first as u64, control)
                    }
                    CellsMut::Float32(v) => {
                        body::fill_part(file, survey, nulls, v, first as u64, control)
                    }
                    CellsMut::Float64(v) => {
                        body::fill_part(file, survey, nulls, v, first as u64, control)
                    }
                };
                let result = parsed.map_err(|s| file.error(s, name, cells));
                file.unless_changed(path, name, result)
            }
        }
    }
}

/// `out.len()` cells of `data` from cell `first`.
fn copy_rows(data: &GridData, first: usize, out: CellsMut<'_>) -> Result<(), Error> {
    fn copy<T: Copy>(from: &[T], first: usize, to: &mut [T]) -> Result<(), Error> {
        let part = from
            .get(first..first + to.len())
            .ok_or_else(|| Error::Invalid("internal: rows outside the grid".into()))?;
        to.copy_from_slice(part);
        Ok(())
    }
    match (data, out) {
        (GridData::Int32(d), CellsMut::Int32(o)) => copy(d, first, o),
        (GridData::Float32(d), CellsMut::Float32(o)) => copy(d, first, o),
        (GridData::Float64(d), CellsMut::Float64(o)) => copy(d, first, o),
        _ => Err(Error::Invalid("internal: cells of another type".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::read;
    use std::io::Write;

    /// A grid of `nrows` x `ncols` whose text passes [`crate::WINDOWED_MIN`], `value(i)`
    /// giving cell `i`'s token, and what follows it.
    fn big_file(
        ncols: usize,
        nrows: usize,
        value: impl Fn(usize) -> String,
        after: &str,
    ) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let mut text = format!(
            "ncols {ncols}\nnrows {nrows}\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -9999\n"
        );
        for r in 0..nrows {
            let row: Vec<String> = (0..ncols).map(|c| value(r * ncols + c)).collect();
            text.push_str(&row.join(" "));
            text.push('\n');
        }
        text.push_str(after);
        assert!(text.len() as u64 > crate::WINDOWED_MIN);
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn strips_f32(rows: &GridRows, height: usize) -> Vec<f32> {
        let ncols = rows.header().ncols;
        let mut all = Vec::new();
        let mut start = 0;
        while start < rows.header().nrows {
            let n = height.min(rows.header().nrows - start);
            let mut strip = vec![0f32; n * ncols];
            rows.read_rows_into(start, CellsMut::Float32(&mut strip), &Control::new())
                .unwrap();
            all.extend(strip);
            start += n;
        }
        all
    }

    #[test]
    fn strips_of_a_windowed_file_equal_the_whole_read() {
        let f = big_file(731, 1200, |i| format!("{}.{}", i % 977, i % 10), "");
        let path = f.path();
        let whole = read(Input::Path(path), "g.asc", None, &Control::new()).unwrap();
        let rows = GridRows::open(Input::Path(path), "g.asc", None, &Control::new()).unwrap();
        assert!(matches!(rows.cells, Cells::Windowed(_)));
        assert_eq!(rows.data_type(), DataType::Float32);
        assert_eq!(rows.nodata(), whole.nodata);
        let GridData::Float32(expected) = whole.data else {
            panic!("float32")
        };
        // Strip heights that cut chunks anywhere, one row, and the whole grid at once.
        for height in [1, 7, 64, 333, 1200] {
            assert_eq!(
                strips_f32(&rows, height),
                expected,
                "strips of {height} rows"
            );
        }
    }

    #[test]
    fn text_after_the_grid_is_read_whole_as_read_does() {
        let f = big_file(800, 1500, |i| format!("{}", i % 3000), "7 7 7\n");
        let whole = read(Input::Path(f.path()), "g.asc", None, &Control::new()).unwrap();
        let rows = GridRows::open(Input::Path(f.path()), "g.asc", None, &Control::new()).unwrap();
        assert!(matches!(rows.cells, Cells::Whole(_)));
        let GridData::Int32(expected) = whole.data else {
            panic!("int32")
        };
        let mut part = vec![0i32; 3 * 800];
        rows.read_rows_into(1000, CellsMut::Int32(&mut part), &Control::new())
            .unwrap();
        assert_eq!(part, expected[1000 * 800..1003 * 800]);
    }

    #[test]
    fn a_bad_value_is_the_error_read_gives_in_the_strip_holding_it() {
        let f = big_file(
            800,
            1400,
            |i| {
                if i == 800 * 900 + 17 {
                    "x4".into()
                } else {
                    format!("{}.5", i % 100)
                }
            },
            "",
        );
        let err = read(Input::Path(f.path()), "g.asc", None, &Control::new()).unwrap_err();
        let rows = GridRows::open(Input::Path(f.path()), "g.asc", None, &Control::new()).unwrap();
        let mut strip = vec![0f32; 100 * 800];
        rows.read_rows_into(0, CellsMut::Float32(&mut strip), &Control::new())
            .unwrap();
        let got = rows
            .read_rows_into(850, CellsMut::Float32(&mut strip), &Control::new())
            .unwrap_err();
        assert_eq!(got.to_string(), err.to_string());
        assert!(got.to_string().contains("g.asc:907:"), "{got}");
    }

    #[test]
    fn rows_outside_the_grid_or_of_another_type_are_refused() {
        let f = big_file(600, 2000, |i| format!("{}", i % 5000), "");
        let rows = GridRows::open(Input::Path(f.path()), "g.asc", None, &Control::new()).unwrap();
        let mut ints = vec![0i32; 600 * 10];
        assert!(rows
            .read_rows_into(1995, CellsMut::Int32(&mut ints), &Control::new())
            .is_err());
        let mut floats = vec![0f32; 600];
        assert!(rows
            .read_rows_into(0, CellsMut::Float32(&mut floats), &Control::new())
            .is_err());
        let mut ragged = vec![0i32; 601];
        assert!(rows
            .read_rows_into(0, CellsMut::Int32(&mut ragged), &Control::new())
            .is_err());
    }
}
