//! `_native.BandStatistics`, `_native.blocks_with_data` and `_native.average_2x2`: argument
//! conversion for the kernels `asciigrid.geotiff` runs on every strip and block row it writes
//! (`asciigrid_core::summarize_block_row`, `blocks_with_data` and `average_2x2`).

use asciigrid_core::{
    average_2x2 as average, blocks_with_data as with_data, cells_from_sums as means,
    summarize_block_row, Averaged, DataType, Summary,
};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::stats::summary_dict;
use crate::{parse_dtype, run_inline, to_py_err};

/// Call `$go` with `$cells` as the C-contiguous 2-D array of its cell type.
macro_rules! dispatch {
    ($cells:expr, |$a:ident| $go:expr) => {{
        if let Ok($a) = $cells.extract::<PyReadonlyArray2<'_, f32>>() {
            $go
        } else if let Ok($a) = $cells.extract::<PyReadonlyArray2<'_, f64>>() {
            $go
        } else if let Ok($a) = $cells.extract::<PyReadonlyArray2<'_, i32>>() {
            $go
        } else {
            Err(PyValueError::new_err(
                "cells must be a C-contiguous 2-D int32, float32 or float64 array",
            ))
        }
    }};
}

/// A band's statistics, added up block row by block row as a GeoTIFF is written (the
/// core's [`Summary`] and its merge: one accumulator for the engine and the writer).
#[pyclass(module = "asciigrid._native")]
#[derive(Default)]
pub struct BandStatistics {
    summary: Summary,
}

#[pymethods]
impl BandStatistics {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Add a block row's valid cells; returns, per block of `block` columns, whether it
    /// holds a cell that is not nodata.
    #[pyo3(signature = (cells, block, nodata=None))]
    fn add_block_row<'py>(
        &mut self,
        py: Python<'py>,
        cells: &Bound<'py, PyAny>,
        block: usize,
        nodata: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        fn go<'py, T: Averaged + numpy::Element>(
            py: Python<'py>,
            a: PyReadonlyArray2<'py, T>,
            block: usize,
            nodata: Option<f64>,
        ) -> PyResult<(Summary, Vec<bool>)> {
            let ncols = a.shape()[1];
            let cells = a.as_slice()?;
            run_inline(py, false, |_| {
                Ok(summarize_block_row(cells, ncols, block, nodata))
            })
        }
        let (summary, flags) = dispatch!(cells, |a| go(py, a, block, nodata))?;
        self.summary = std::mem::take(&mut self.summary).merge(&summary);
        PyList::new(py, flags)
    }

    /// Merge a summary of other cells (per-file statistics, QGIS's statistics of another
    /// raster) with the core's formula, so that no other merge exists; a histogram's
    /// counts must have as many bins as the ones already added.
    #[pyo3(signature = (*, count, nodata_count, min, max, sum, mean, sum_of_squared_deviations, histogram=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_summary(
        &mut self,
        py: Python<'_>,
        count: u64,
        nodata_count: u64,
        min: Option<f64>,
        max: Option<f64>,
        sum: f64,
        mean: Option<f64>,
        sum_of_squared_deviations: f64,
        histogram: Option<Vec<u64>>,
    ) -> PyResult<()> {
        let other = Summary {
            count,
            nodata_count,
            sum,
            min,
            max,
            mean: mean.unwrap_or(f64::NAN),
            sum_of_squared_deviations,
            histogram,
            data_type: None,
        }
        .checked()
        .map_err(|e| to_py_err(py, e))?;
        self.summary = std::mem::take(&mut self.summary)
            .merge_checked(&other)
            .map_err(|e| to_py_err(py, e))?;
        Ok(())
    }

    /// The statistics so far, as `_native.stats` gives them; `histogram_edges` are the bin
    /// edges of the histograms added (without them no histogram is given).
    #[pyo3(signature = (histogram_edges=None))]
    fn summary<'py>(
        &self,
        py: Python<'py>,
        histogram_edges: Option<Vec<f64>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        summary_dict(py, &self.summary, histogram_edges.as_deref())
    }
}

/// For each block of `block` columns of a block row, whether it holds a cell that is not
/// nodata (the blocks a writer must write), without adding up statistics.
#[pyfunction]
#[pyo3(signature = (cells, block, nodata=None))]
pub fn blocks_with_data<'py>(
    py: Python<'py>,
    cells: &Bound<'py, PyAny>,
    block: usize,
    nodata: Option<f64>,
) -> PyResult<Bound<'py, PyList>> {
    fn go<T: Averaged + numpy::Element>(
        py: Python<'_>,
        a: PyReadonlyArray2<'_, T>,
        block: usize,
        nodata: Option<f64>,
    ) -> PyResult<Vec<bool>> {
        let ncols = a.shape()[1];
        let cells = a.as_slice()?;
        run_inline(py, false, |_| Ok(with_data(cells, ncols, block, nodata)))
    }
    let flags = dispatch!(cells, |a| go(py, a, block, nodata))?;
    PyList::new(py, flags)
}

/// The next overview level of a block row whose rows and columns both halve.
#[pyfunction]
#[pyo3(signature = (cells, nodata=None))]
pub fn average_2x2<'py>(
    py: Python<'py>,
    cells: &Bound<'py, PyAny>,
    nodata: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    fn go<'py, T: Averaged + numpy::Element>(
        py: Python<'py>,
        a: PyReadonlyArray2<'py, T>,
        nodata: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (nrows, ncols) = (a.shape()[0], a.shape()[1]);
        let cells = a.as_slice()?;
        let out = run_inline(py, false, |_| average(cells, ncols, nodata))?;
        Array2::from_shape_vec((nrows / 2, ncols / 2), out)
            .map(|out| out.into_pyarray(py).into_any())
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }
    dispatch!(cells, |a| go(py, a, nodata))
}

/// The cells of an overview level the writer reduced itself (axes that do not both halve):
/// `sums / weights` as `dtype` cells, converted as [`average_2x2`] converts its means.
#[pyfunction]
#[pyo3(signature = (sums, weights, dtype, nodata=None))]
pub fn cells_from_sums<'py>(
    py: Python<'py>,
    sums: PyReadonlyArray2<'py, f64>,
    weights: PyReadonlyArray2<'py, f64>,
    dtype: &str,
    nodata: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    fn go<'py, T: Averaged + numpy::Element>(
        py: Python<'py>,
        shape: (usize, usize),
        sums: &[f64],
        weights: &[f64],
        nodata: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let out = run_inline(py, false, |_| means::<T>(sums, weights, nodata))?;
        Array2::from_shape_vec(shape, out)
            .map(|out| out.into_pyarray(py).into_any())
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }
    let shape = (sums.shape()[0], sums.shape()[1]);
    let (s, w) = (sums.as_slice()?, weights.as_slice()?);
    match parse_dtype(Some(dtype))? {
        Some(DataType::Int32) => go::<i32>(py, shape, s, w, nodata),
        Some(DataType::Float32) => go::<f32>(py, shape, s, w, nodata),
        _ => go::<f64>(py, shape, s, w, nodata),
    }
}
