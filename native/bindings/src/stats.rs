//! `_native.stats`: argument conversion for `asciigrid_core::summarize_all`.

use asciigrid_core::{summarize_all, StatsOptions, Summary};
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
