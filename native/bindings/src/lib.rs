//! `asciigrid._native`: the thin PyO3 layer over `asciigrid-core`.
//!
//! It converts arguments in and arrays out, releases the GIL around all work, maps the
//! core's errors to the Python exception types of `asciigrid.errors`, and turns a Python
//! progress callback into the core's [`Control`]. No parsing or other logic lives here.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use asciigrid_core::{
    self as core, Cells, Control, DataType, Error, GridData, Header, Input, WriteOptions,
};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyPermissionError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyDict, PyTuple};

mod file_object;
mod mosaic;
mod stats;

/// A grid source as Python hands it over: the file's bytes, or a path.
#[derive(FromPyObject)]
pub(crate) enum Source {
    Bytes(PyBackedBytes),
    Path(PathBuf),
}

impl Source {
    pub(crate) fn input(&self) -> Input<'_> {
        match self {
            Source::Bytes(b) => Input::Bytes(b),
            Source::Path(p) => Input::Path(p),
        }
    }

    pub(crate) fn to_owned_input(&self) -> core::OwnedInput {
        match self {
            Source::Bytes(b) => core::OwnedInput::Bytes(std::sync::Arc::from(&b[..])),
            Source::Path(p) => core::OwnedInput::Path(p.clone()),
        }
    }
}

/// An instance of the exception class `class` of `asciigrid.errors`.
fn errors_module_exception<'py>(
    py: Python<'py>,
    class: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyErr {
    match py
        .import("asciigrid.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call1(args))
    {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// Map a core error to the matching Python exception.
pub(crate) fn to_py_err(py: Python<'_>, err: Error) -> PyErr {
    match err {
        Error::Parse(e) => {
            errors_module_exception(py, "ParseError", (e.message, e.path, e.line, e.column))
        }
        Error::Mosaic { path, message } => {
            errors_module_exception(py, "MosaicError", (message, path))
        }
        Error::Cancelled => errors_module_exception(py, "Cancelled", ()),
        Error::Invalid(message) => PyValueError::new_err(message),
        Error::Io { path, source } => {
            let errno = source.raw_os_error().unwrap_or(0);
            // Rust appends " (os error N)"; Python's own OSError text does not.
            let full = source.to_string();
            let text = full.split(" (os error").next().unwrap_or(&full).to_owned();
            match source.kind() {
                std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err((errno, text, path)),
                std::io::ErrorKind::PermissionDenied => {
                    PyPermissionError::new_err((errno, text, path))
                }
                _ => PyOSError::new_err((errno, text, path)),
            }
        }
    }
}

/// How often a progress callback is called: often enough that a cancel is seen even in a
/// read that takes a tenth of a second, rarely enough that taking the GIL costs nothing.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(25);

/// Run `work` with the GIL released. With a callback, the work runs on a scoped thread while
/// this thread calls `progress(done, total)` every [`PROGRESS_INTERVAL`]; a `False` answer (or an exception
/// in the callback) cancels the work through the core's [`Control`].
pub(crate) fn run<R: Send>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    work: impl FnOnce(&Control) -> Result<R, Error> + Send,
) -> PyResult<R> {
    let control = Control::new();
    let Some(callback) = progress else {
        return py.detach(|| work(&control)).map_err(|e| to_py_err(py, e));
    };
    let (result, callback_error) = py.detach(|| {
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel::<()>();
            let control = &control;
            let worker = scope.spawn(move || {
                let r = work(control);
                let _ = tx.send(());
                r
            });
            let mut callback_error: Option<PyErr> = None;
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(PROGRESS_INTERVAL) {
                if control.is_cancelled() {
                    continue;
                }
                let (done, total) = control.progress();
                let keep_going = Python::attach(|py| -> PyResult<bool> {
                    let answer = callback.call1(py, (done, total))?;
                    let answer = answer.bind(py);
                    Ok(answer.is_none() || answer.is_truthy()?)
                });
                match keep_going {
                    Ok(true) => {}
                    Ok(false) => control.cancel(),
                    Err(e) => {
                        callback_error = Some(e);
                        control.cancel();
                    }
                }
            }
            let result = match worker.join() {
                Ok(r) => r,
                Err(_) => Err(Error::Invalid("internal error: the engine panicked".into())),
            };
            (result, callback_error)
        })
    });
    if let Some(e) = callback_error {
        return Err(e);
    }
    result.map_err(|e| to_py_err(py, e))
}

pub(crate) fn parse_dtype(dtype: Option<&str>) -> PyResult<Option<DataType>> {
    dtype
        .map(|name| {
            DataType::from_name(name).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "dtype must be int32, float32 or float64, not {name}"
                ))
            })
        })
        .transpose()
}

/// The header as the dict `asciigrid.Header._from_native` takes. `dtype` is `None` when only
/// the body can decide it (see [`read_header`]).
pub(crate) fn header_dict<'py>(
    py: Python<'py>,
    header: &Header,
    dtype: Option<DataType>,
    nodata: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("ncols", header.ncols)?;
    d.set_item("nrows", header.nrows)?;
    d.set_item("dx", header.dx)?;
    d.set_item("dy", header.dy)?;
    d.set_item("origin", header.origin.name())?;
    d.set_item("x_origin", header.x_origin)?;
    d.set_item("y_origin", header.y_origin)?;
    let integral = |v: f64| v.fract() == 0.0 && v.abs() < 9.0e15;
    match nodata {
        Some(v)
            if dtype != Some(DataType::Float32)
                && dtype != Some(DataType::Float64)
                && integral(v) =>
        {
            d.set_item("nodata", v as i64)?
        }
        Some(v) => d.set_item("nodata", v)?,
        None => d.set_item("nodata", py.None())?,
    }
    d.set_item("dtype", dtype.map(DataType::name))?;
    d.set_item("geotransform", PyTuple::new(py, header.geotransform())?)?;
    d.set_item("header_lines", header.header_lines)?;
    Ok(d)
}

/// Cells as a 2-D numpy array, handing the Vec's buffer to numpy without a copy.
pub(crate) fn grid_array<'py>(
    py: Python<'py>,
    data: GridData,
    nrows: usize,
    ncols: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let shape = (nrows, ncols);
    let bad_shape = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
    Ok(match data {
        GridData::Int32(v) => Array2::from_shape_vec(shape, v)
            .map_err(bad_shape)?
            .into_pyarray(py)
            .into_any(),
        GridData::Float32(v) => Array2::from_shape_vec(shape, v)
            .map_err(bad_shape)?
            .into_pyarray(py)
            .into_any(),
        GridData::Float64(v) => Array2::from_shape_vec(shape, v)
            .map_err(bad_shape)?
            .into_pyarray(py)
            .into_any(),
    })
}

/// Parse a whole grid; returns `(array, header dict)`.
#[pyfunction]
#[pyo3(signature = (source, name, dtype=None, progress=None))]
fn read<'py>(
    py: Python<'py>,
    source: Source,
    name: String,
    dtype: Option<&str>,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let dtype = parse_dtype(dtype)?;
    let grid = run(py, progress, |control| {
        core::read(source.input(), &name, dtype, control)
    })?;
    let data_type = grid.data.data_type();
    let header = header_dict(py, &grid.header, Some(data_type), grid.nodata)?;
    let array = grid_array(py, grid.data, grid.header.nrows, grid.header.ncols)?;
    Ok((array, header))
}

/// Parse only the header (reads 64 KiB at a time until the body starts).
#[pyfunction]
fn read_header<'py>(py: Python<'py>, source: Source, name: String) -> PyResult<Bound<'py, PyDict>> {
    let header = py
        .detach(|| core::read_header(source.input(), &name))
        .map_err(|e| to_py_err(py, e))?;
    // The body is not read: the type is known only when the nodata value decides it.
    let dtype = header.nodata_data_type();
    let nodata = header.nodata_for(dtype.unwrap_or(DataType::Int32));
    header_dict(py, &header, dtype, nodata)
}

/// Write a grid atomically. With `stage=True` the grid is only written to a hidden
/// temporary file beside `path`, whose name is returned: the caller renames it into place
/// (with the `.prj`, together) or removes it.
#[pyfunction]
#[pyo3(signature = (path, data, west, north, dx, dy, nodata=None, precision=None, stage=false))]
#[allow(clippy::too_many_arguments)]
fn write(
    py: Python<'_>,
    path: PathBuf,
    data: &Bound<'_, PyAny>,
    west: f64,
    north: f64,
    dx: f64,
    dy: f64,
    nodata: Option<f64>,
    precision: Option<&Bound<'_, PyAny>>,
    stage: bool,
) -> PyResult<Option<PathBuf>> {
    let precision = precision
        .map(|p| {
            p.extract::<usize>().map_err(|_| {
                PyValueError::new_err(format!(
                    "precision must be a number of decimals from 0 to {}, got {p}",
                    core::writer::MAX_PRECISION
                ))
            })
        })
        .transpose()?;
    let opts = |ncols: usize| WriteOptions {
        ncols,
        west,
        north,
        dx,
        dy,
        nodata,
        precision,
    };
    let go = |cells: Cells<'_>, ncols: usize| {
        let o = opts(ncols);
        py.detach(|| {
            let staged = core::writer::stage_grid(&path, cells, &o, &Control::new())?;
            if stage {
                staged.keep().map(Some)
            } else {
                staged.commit().map(|()| None)
            }
        })
        .map_err(|e| to_py_err(py, e))
    };
    if let Ok(a) = data.extract::<PyReadonlyArray2<'_, i32>>() {
        let ncols = a.shape()[1];
        return go(Cells::Int32(a.as_slice()?), ncols);
    }
    if let Ok(a) = data.extract::<PyReadonlyArray2<'_, f32>>() {
        let ncols = a.shape()[1];
        return go(Cells::Float32(a.as_slice()?), ncols);
    }
    if let Ok(a) = data.extract::<PyReadonlyArray2<'_, f64>>() {
        let ncols = a.shape()[1];
        return go(Cells::Float64(a.as_slice()?), ncols);
    }
    Err(PyValueError::new_err(
        "data must be a C-contiguous 2-D int32, float32 or float64 array",
    ))
}

/// The `asciigrid._native` module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(read_header, m)?)?;
    m.add_function(wrap_pyfunction!(write, m)?)?;
    m.add_function(wrap_pyfunction!(stats::stats, m)?)?;
    m.add_function(wrap_pyfunction!(file_object::load_file, m)?)?;
    m.add_class::<mosaic::MosaicPlan>()?;
    Ok(())
}
