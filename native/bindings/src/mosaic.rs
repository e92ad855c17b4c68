//! `_native.MosaicPlan`: a core mosaic plan held for Python, read strip by strip.

use asciigrid_core::{Error, Plan};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::{grid_array, header_dict, parse_dtype, run, to_py_err, with_cells_mut, Source};

/// Tiles' headers read and placed in one union grid.
#[pyclass(module = "asciigrid._native", frozen)]
pub struct MosaicPlan {
    plan: Plan,
    /// Whether reading its tiles refuses what it would otherwise read with a warning.
    strict: bool,
}

#[pymethods]
impl MosaicPlan {
    #[new]
    #[pyo3(signature = (sources, names, dtype=None, nodata=None, skip_errors=false, crs=None, strict=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        sources: Vec<Source>,
        names: Vec<String>,
        dtype: Option<&str>,
        nodata: Option<f64>,
        skip_errors: bool,
        crs: Option<Vec<Option<u32>>>,
        strict: bool,
    ) -> PyResult<Self> {
        let crs = crs.unwrap_or_default();
        let dtype = parse_dtype(dtype)?;
        let inputs: Vec<_> = sources
            .iter()
            .map(Source::to_owned_input)
            .zip(names)
            .collect();
        let plan = run(py, None, strict, |control| {
            Plan::new(inputs, dtype, nodata, skip_errors, &crs, control)
        })?;
        Ok(MosaicPlan { plan, strict })
    }

    /// {header, tiles: [(name, row, col, nrows, ncols)], skipped: [(name, exception)],
    /// bands: [(row_start, row_count)], crs: key of the placed tiles' CRS or None}
    fn layout<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = &self.plan;
        let d = PyDict::new(py);
        d.set_item(
            "header",
            header_dict(py, &p.header, Some(p.data_type), Some(p.nodata))?,
        )?;
        let tiles = PyList::empty(py);
        for t in &p.tiles {
            tiles.append((
                t.name.as_str(),
                t.row,
                t.col,
                t.header.nrows,
                t.header.ncols,
            ))?;
        }
        d.set_item("tiles", tiles)?;
        let skipped = PyList::empty(py);
        for (name, e) in &p.skipped {
            skipped.append((name.as_str(), to_py_err(py, e.clone()).into_value(py)))?;
        }
        d.set_item("skipped", skipped)?;
        d.set_item("bands", p.bands.clone())?;
        d.set_item("crs", p.crs)?;
        Ok(d)
    }

    /// Rows [row_start, row_start + row_count) and the failed tiles `[(index, exception)]`;
    /// with `out` (a writable C-contiguous array of exactly those cells in the mosaic's
    /// type), the rows are read into it and it is returned.
    #[pyo3(signature = (row_start, row_count, skip_errors=false, progress=None, out=None))]
    fn read_rows<'py>(
        &self,
        py: Python<'py>,
        row_start: usize,
        row_count: usize,
        skip_errors: bool,
        progress: Option<Py<PyAny>>,
        out: Option<Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyList>)> {
        let plan = &self.plan;
        let (array, failed) = match out {
            None => {
                let (data, failed) = run(py, progress, self.strict, |control| {
                    plan.read_rows(row_start, row_count, skip_errors, control)
                })?;
                (grid_array(py, data, row_count, plan.header.ncols)?, failed)
            }
            Some(out) => {
                let failed =
                    self.read_into(py, row_start, row_count, skip_errors, progress, &out)?;
                (out, failed)
            }
        };
        let failures = PyList::empty(py);
        for (i, e) in failed {
            failures.append((i, to_py_err(py, e).into_value(py)))?;
        }
        Ok((array, failures))
    }
}

impl MosaicPlan {
    /// `read_rows` into the caller's array.
    fn read_into(
        &self,
        py: Python<'_>,
        row_start: usize,
        row_count: usize,
        skip_errors: bool,
        progress: Option<Py<PyAny>>,
        out: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<(usize, Error)>> {
        let plan = &self.plan;
        let shape = (row_count, plan.header.ncols);
        with_cells_mut(out, plan.data_type, shape, |cells| {
            run(py, progress, self.strict, |control| {
                plan.read_rows_into(row_start, row_count, skip_errors, control, cells)
            })
        })
    }
}
