//! `_native.MosaicPlan`: a core mosaic plan held for Python, read strip by strip.

use asciigrid_core::{Error, Placement, Plan};
use pyo3::exceptions::PyValueError;
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

    /// Some tiles of a mosaic planned whole elsewhere, where that plan's `layout()` put them
    /// (`placements`: `(row, col, nrows, ncols)` per tile), read without opening any of them
    /// now; the plan covers their union. `geotransform`, `dtype`, `nodata` and
    /// `nodata_origin` are the whole plan's.
    #[staticmethod]
    #[pyo3(signature = (sources, names, placements, geotransform, dtype, nodata, nodata_origin, strict=false))]
    #[allow(clippy::too_many_arguments)]
    fn placed(
        py: Python<'_>,
        sources: Vec<Source>,
        names: Vec<String>,
        placements: Vec<(usize, usize, usize, usize)>,
        geotransform: [f64; 6],
        dtype: &str,
        nodata: f64,
        nodata_origin: String,
        strict: bool,
    ) -> PyResult<Self> {
        let data_type = parse_dtype(Some(dtype))?
            .ok_or_else(|| PyValueError::new_err("a placed plan needs its data type"))?;
        if sources.len() != names.len() || names.len() != placements.len() {
            return Err(PyValueError::new_err(
                "sources, names and placements must be as many",
            ));
        }
        let inputs = sources
            .iter()
            .map(Source::to_owned_input)
            .zip(names)
            .zip(placements)
            .map(|((input, name), (row, col, nrows, ncols))| {
                (
                    input,
                    name,
                    Placement {
                        row,
                        col,
                        nrows,
                        ncols,
                    },
                )
            })
            .collect();
        let [x0, dx, _, y0, _, ndy] = geotransform;
        let plan = Plan::placed(
            inputs,
            (x0, y0),
            (dx, -ndy),
            data_type,
            nodata,
            nodata_origin,
        )
        .map_err(|e| to_py_err(py, e))?;
        Ok(MosaicPlan { plan, strict })
    }

    /// {header, tiles: [(name, row, col, nrows, ncols)], skipped: [(name, exception)],
    /// bands: [(row_start, row_count)], crs: key of the placed tiles' CRS or None,
    /// nodata_origin: where the nodata value comes from, in words}
    fn layout<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = &self.plan;
        let d = PyDict::new(py);
        d.set_item(
            "header",
            header_dict(py, &p.header, Some(p.data_type), Some(p.nodata))?,
        )?;
        let tiles = PyList::empty(py);
        for t in &p.tiles {
            let at = &t.place;
            tiles.append((t.name.as_str(), at.row, at.col, at.nrows, at.ncols))?;
        }
        d.set_item("tiles", tiles)?;
        let skipped = PyList::empty(py);
        for (name, e) in &p.skipped {
            skipped.append((name.as_str(), to_py_err(py, e.clone()).into_value(py)))?;
        }
        d.set_item("skipped", skipped)?;
        d.set_item("bands", p.bands.clone())?;
        d.set_item("crs", p.crs)?;
        d.set_item("nodata_origin", p.nodata_origin.as_str())?;
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
