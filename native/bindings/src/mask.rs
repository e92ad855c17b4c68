//! `_native.nodata_to_nan`: argument conversion for `asciigrid_core::nodata_to_nan`, which the xarray
//! backend uses to mask a float grid as xarray's decoding would.

use asciigrid_core::{nodata_to_nan as mask, Maskable};
use numpy::{Element, PyReadwriteArrayDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::run_inline;

/// Replace, in place, every cell of a C-contiguous float32 or float64 array equal to
/// `nodata` with NaN; returns how many cells were replaced.
#[pyfunction]
pub fn nodata_to_nan(py: Python<'_>, cells: &Bound<'_, PyAny>, nodata: f64) -> PyResult<usize> {
    fn go<T: Maskable + Element>(
        py: Python<'_>,
        mut a: PyReadwriteArrayDyn<'_, T>,
        nodata: T,
    ) -> PyResult<usize> {
        let cells = a.as_slice_mut()?;
        run_inline(py, false, |_| Ok(mask(cells, nodata)))
    }
    if let Ok(a) = cells.extract::<PyReadwriteArrayDyn<'_, f32>>() {
        // The grid's nodata is stored as the cells store it, so compare in the cell type.
        go(py, a, nodata as f32)
    } else if let Ok(a) = cells.extract::<PyReadwriteArrayDyn<'_, f64>>() {
        go(py, a, nodata)
    } else {
        Err(PyValueError::new_err(
            "cells must be a writeable, C-contiguous float32 or float64 array",
        ))
    }
}
