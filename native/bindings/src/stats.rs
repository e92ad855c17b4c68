//! `_native.stats`: argument conversion for `asciigrid_core::summarize_all`.

use asciigrid_core::{summarize_all, StatsOptions, Summary};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::{parse_dtype, run, Source};

/// A summary as the Python side receives it: `sum_of_squared_deviations` named for what it
/// holds (the Python API keeps `sum_of_squares` as an alias of it).
pub(crate) fn summary_dict<'py>(
    py: Python<'py>,
    s: &Summary,
    edges: Option<&[f64]>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("count", s.count)?;
    d.set_item("nodata_count", s.nodata_count)?;
    d.set_item("min", s.min)?;
    d.set_item("max", s.max)?;
    d.set_item("sum", s.sum)?;
    d.set_item("mean", (s.count > 0).then_some(s.mean))?;
    d.set_item("std", s.std())?;
    d.set_item("sum_of_squared_deviations", s.sum_of_squared_deviations)?;
    d.set_item("dtype", s.data_type.map(|t| t.name()))?;
    match (&s.histogram, edges) {
        (Some(counts), Some(edges)) => d.set_item(
            "histogram",
            (PyList::new(py, counts)?, PyList::new(py, edges)?),
        )?,
        _ => d.set_item("histogram", py.None())?,
    }
    Ok(d)
}

/// A summary computed elsewhere (another run of the engine, or QGIS), checked so that
/// merging it cannot give statistics no set of cells has: what lets the engine's merge be
/// the only one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn summary_from_parts(
    count: u64,
    nodata_count: u64,
    min: Option<f64>,
    max: Option<f64>,
    sum: f64,
    mean: Option<f64>,
    sum_of_squared_deviations: f64,
    histogram: Option<Vec<u64>>,
) -> PyResult<Summary> {
    let mean = match (count, min, max, mean) {
        (0, _, _, _) => 0.0,
        (_, Some(low), Some(high), Some(mean)) if low <= high => mean,
        _ => {
            return Err(PyValueError::new_err(format!(
                "a summary of {count} valid cells needs min <= max and a mean, got min {min:?}, \
                 max {max:?}, mean {mean:?}"
            )))
        }
    };
    if sum_of_squared_deviations.is_nan() || sum_of_squared_deviations < 0.0 {
        return Err(PyValueError::new_err(format!(
            "sum_of_squared_deviations must be at least 0, got {sum_of_squared_deviations}"
        )));
    }
    Ok(Summary {
        count,
        nodata_count,
        sum: if count == 0 { 0.0 } else { sum },
        min: min.filter(|_| count > 0),
        max: max.filter(|_| count > 0),
        mean,
        sum_of_squared_deviations: if count == 0 {
            0.0
        } else {
            sum_of_squared_deviations
        },
        histogram,
        data_type: None,
    })
}

/// Per-source statistics and the combined statistics.
#[pyfunction]
#[pyo3(signature = (sources, names, dtype=None, histogram_bins=None, histogram_range=None, progress=None, strict=false))]
#[allow(clippy::too_many_arguments)]
pub fn stats<'py>(
    py: Python<'py>,
    sources: Vec<Source>,
    names: Vec<String>,
    dtype: Option<&str>,
    histogram_bins: Option<i64>,
    histogram_range: Option<(f64, f64)>,
    progress: Option<Py<PyAny>>,
    strict: bool,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyDict>)> {
    // Any int is taken, so that a negative or huge one is the core's ValueError (not a
    // conversion's OverflowError).
    let histogram_bins = histogram_bins.map(|b| usize::try_from(b).unwrap_or(0));
    let options = StatsOptions {
        data_type: parse_dtype(dtype)?,
        histogram_bins,
        histogram_range,
    };
    let (per, total, histogram) = run(py, progress, strict, |control| {
        let inputs: Vec<_> = sources
            .iter()
            .map(Source::input)
            .zip(names.iter().map(String::as_str))
            .collect();
        summarize_all(&inputs, &options, control)
    })?;
    let edges = histogram.map(|spec| spec.edges());
    let per_list = PyList::empty(py);
    for s in &per {
        per_list.append(summary_dict(py, s, edges.as_deref())?)?;
    }
    Ok((per_list, summary_dict(py, &total, edges.as_deref())?))
}
