//! `_native.GridRows`: one grid read strip by strip (see `asciigrid_core::GridRows`).

use asciigrid_core as core;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::{header_dict, parse_dtype, run, with_cells_mut, Source};

/// A grid whose rows are parsed when asked for.
#[pyclass(module = "asciigrid._native", frozen)]
pub struct GridRows {
    rows: core::GridRows,
    /// Whether reading refuses what it would otherwise read with a warning.
    strict: bool,
}

#[pymethods]
impl GridRows {
    /// Open `source` (the first pass over a large file's body happens here).
    #[new]
    #[pyo3(signature = (source, name, dtype=None, progress=None, strict=false))]
    fn new(
        py: Python<'_>,
        source: Source,
        name: String,
        dtype: Option<&str>,
        progress: Option<Py<PyAny>>,
        strict: bool,
    ) -> PyResult<Self> {
        let dtype = parse_dtype(dtype)?;
        let rows = run(py, progress, strict, |control| {
            core::GridRows::open(source.input(), &name, dtype, control)
        })?;
        Ok(GridRows { rows, strict })
    }

    /// The header dict, with the cells' data type and nodata as read.
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.rows;
        header_dict(py, r.header(), Some(r.data_type()), r.nodata())
    }

    /// Rows `[row_start, row_start + row_count)` into `out` (a writable C-contiguous array
    /// of exactly those cells in the grid's type), which is returned.
    #[pyo3(signature = (row_start, row_count, out, progress=None))]
    fn read_rows<'py>(
        &self,
        py: Python<'py>,
        row_start: usize,
        row_count: usize,
        out: Bound<'py, PyAny>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r = &self.rows;
        let shape = (row_count, r.header().ncols);
        with_cells_mut(&out, r.data_type(), shape, |cells| {
            run(py, progress, self.strict, |control| {
                r.read_rows_into(row_start, cells, control)
            })
        })?;
        Ok(out)
    }
}
