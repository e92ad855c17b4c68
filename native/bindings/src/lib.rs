//! `asciigrid._native`: the thin PyO3 layer over `asciigrid-core`.
//!
//! It converts arguments in and arrays out, releases the GIL around all work, maps the
//! core's errors to the Python exception types of `asciigrid.errors`, and turns a Python
//! progress callback into the core's [`Control`]. No parsing or other logic lives here.

// Every unsafe operation lives in the core, behind a safe function that proves it sound.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use asciigrid_core::{
    self as core, Cells, CellsMut, Control, DataType, Error, ErrorKind, GridData, Header, Input,
    NodataValue, WriteOptions,
};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray2, PyReadwriteArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyPermissionError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyDict, PyTuple};

mod archive;
mod file_object;
mod geotiff;
mod mosaic;
mod rows;
mod stats;

/// A grid source as Python hands it over: the file's bytes, a path, or a zip member.
#[derive(FromPyObject)]
pub(crate) enum Source {
    Bytes(PyBackedBytes),
    Path(PathBuf),
    Member(Py<archive::ArchiveMember>),
}

/// Where [`read`] runs a source, by its size.
enum ReadSize {
    /// A tile: on the calling thread alone, done sooner than a pool thread could wake.
    Tile,
    /// Read whole in a few milliseconds: on the calling thread, the pool's threads helping
    /// (`Control::with_helpers`); too short to need watching for Ctrl-C.
    Whole,
    /// Longer, or not a regular file: in the pool, the calling thread watching for Ctrl-C
    /// and reporting progress ([`run_with`]).
    Large,
}

impl Source {
    pub(crate) fn input(&self) -> Input<'_> {
        match self {
            Source::Bytes(b) => Input::Bytes(b),
            Source::Path(p) => Input::Path(p),
            Source::Member(m) => Input::Member(&m.get().member),
        }
    }

    /// How long reading it takes, as far as its size tells (see [`ReadSize`]).
    fn read_size(&self) -> ReadSize {
        const TILE: u64 = 256 << 10;
        // Text read whole (not window by window), a few milliseconds.
        const WHOLE: u64 = core::WINDOWED_MIN;
        // Compressed text: as much as eight times longer once inflated.
        let text = match self {
            Source::Bytes(b) if core::is_gzip(b) => (b.len() as u64).saturating_mul(8),
            Source::Bytes(b) => b.len() as u64,
            Source::Path(p) => match std::fs::metadata(p) {
                Ok(m) if m.is_file() => m.len(),
                _ => return ReadSize::Large,
            },
            Source::Member(m) => m.get().member.compressed_size().saturating_mul(8),
        };
        if text < TILE {
            ReadSize::Tile
        } else if text < WHOLE {
            ReadSize::Whole
        } else {
            ReadSize::Large
        }
    }

    pub(crate) fn to_owned_input(&self) -> core::OwnedInput {
        match self {
            Source::Bytes(b) => core::OwnedInput::Bytes(std::sync::Arc::from(&b[..])),
            Source::Path(p) => core::OwnedInput::Path(p.clone()),
            Source::Member(m) => core::OwnedInput::Member(m.get().member.clone()),
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
        Error::Parse(e) => errors_module_exception(
            py,
            "ParseError",
            (e.message, e.path, e.line, e.column, e.kind.name()),
        ),
        Error::Mosaic { path, message } => {
            errors_module_exception(py, "MosaicError", (message, path))
        }
        Error::Cancelled => errors_module_exception(py, "Cancelled", ()),
        Error::Invalid(message) => PyValueError::new_err(message),
        Error::Io { path, source } => {
            let errno = source.raw_os_error().unwrap_or(0);
            let text = core::os_message(&source);
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

/// How often the calling thread looks up from waiting: to call the progress callback and
/// to let Python run its signal handlers (Ctrl-C). Often enough that a cancel or an interrupt
/// is acted on well within half a second, rarely enough that taking the GIL costs nothing.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Run `work` with the GIL released, as a job of the engine's thread pool, while the
/// calling thread polls every [`POLL_INTERVAL`]: Python's signal handlers run only on the main
/// thread and only while it holds the GIL, so without this a Ctrl-C would wait for the whole
/// read. An exception from a signal handler (`KeyboardInterrupt`) cancels the work through the
/// core's [`Control`] and is raised once the work has stopped. With a callback,
/// `progress(done, total)` is also called; a `False` answer (or an exception in the callback)
/// cancels the work the same way. The job is handed to the pool directly (no thread is
/// started per call: that cost 60-110 µs a call on the development machine, a read of a
/// 1.5 MB grid being 1.3 ms).
pub(crate) fn run<R: Send>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    strict: bool,
    work: impl FnOnce(&Control) -> Result<R, Error> + Send,
) -> PyResult<R> {
    run_with(py, progress, new_control(strict), work)
}

/// [`run`] with a control the caller made (a read's options beyond strictness).
fn run_with<R: Send>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    control: Control,
    work: impl FnOnce(&Control) -> Result<R, Error> + Send,
) -> PyResult<R> {
    let (result, interruption) = py.detach(|| {
        let pool = match engine_pool() {
            Ok(pool) => pool,
            Err(e) => return (Err(e), None),
        };
        let (tx, rx) = mpsc::channel::<Result<R, Error>>();
        let control = &control;
        let mut interruption: Option<PyErr> = None;
        let mut answer = None;
        pool.in_place_scope(|scope| {
            // The work's parallel phases wake the pool's other threads as they need them. Those
            // threads must not spin in wait for it: on this project's 2-core machine, one that
            // kept its core busy up to 20 ms (to join sooner after an idle spell) shared it with
            // the work's own thread in one read of ten after a GDAL read, which then took 20 ms
            // more (real-world grids in turns with GDAL: 5.2x GDAL on average against 11.4x).
            scope.spawn(move |_| {
                // A panic must not cross into Python (nor into the scope, which would
                // re-raise it here): it becomes an error.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(control)))
                    .unwrap_or_else(|_| {
                        Err(Error::Invalid("internal error: the engine panicked".into()))
                    });
                let _ = tx.send(r);
            });
            loop {
                match rx.recv_timeout(POLL_INTERVAL) {
                    Ok(r) => {
                        answer = Some(r);
                        break;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
                if control.is_cancelled() {
                    continue;
                }
                let polled = Python::attach(|py| -> PyResult<bool> {
                    py.check_signals()?;
                    let Some(callback) = &progress else {
                        return Ok(true);
                    };
                    let (done, total) = control.progress();
                    let answer = callback.call1(py, (done, total))?;
                    let answer = answer.bind(py);
                    Ok(answer.is_none() || answer.is_truthy()?)
                });
                match polled {
                    Ok(true) => {}
                    Ok(false) => control.cancel(),
                    Err(e) => {
                        interruption = Some(e);
                        control.cancel();
                    }
                }
            }
        });
        let result = answer.unwrap_or_else(|| {
            Err(Error::Invalid(
                "internal error: the engine stopped without an answer".into(),
            ))
        });
        (result, interruption)
    });
    if let Some(e) = interruption {
        return Err(e);
    }
    settle(py, &control, result)
}

fn new_control(strict: bool) -> Control {
    if strict {
        Control::strict()
    } else {
        Control::new()
    }
}

/// Hand the warnings the work recorded to Python's `warnings` module, as
/// `asciigrid.AsciiGridWarning`s reading `path:line:column: message`: on the calling thread,
/// holding the GIL, after the work (a filter that turns warnings into errors raises here).
pub(crate) fn emit_warnings(py: Python<'_>, control: &Control) -> PyResult<()> {
    let warnings = control.take_warnings();
    if warnings.is_empty() {
        return Ok(());
    }
    let category = py.import("asciigrid.errors")?.getattr("AsciiGridWarning")?;
    for w in warnings {
        let message = std::ffi::CString::new(w.to_string().replace('\0', "\u{FFFD}"))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        // Level 2: the asciigrid function the user called, not this module.
        PyErr::warn(py, &category, &message, 2)?;
    }
    Ok(())
}

/// [`run`] for work too small to be worth polling for (a tile: well under a millisecond, so
/// a Ctrl-C is seen as soon as it returns): the calling thread waits for it in the pool,
/// GIL released.
pub(crate) fn run_inline<R: Send>(
    py: Python<'_>,
    strict: bool,
    work: impl FnOnce(&Control) -> Result<R, Error> + Send,
) -> PyResult<R> {
    let control = new_control(strict);
    let result = py.detach(|| engine_pool()?.install(|| work(&control)));
    settle(py, &control, result)
}

/// [`run_inline`] for a read of a source small enough not to need watching for Ctrl-C: on the
/// calling thread itself, GIL released, so no pool thread must wake before it starts nor
/// wake it when done. `control` says whether the pool's threads help
/// (`Control::with_helpers`) or none is woken (`Control::on_calling_thread`: handing a tile to
/// the pool and waiting for it cost more than reading it; 2858 tiles read in a loop:
/// 0.37-0.42 s through the pool, 0.22 s here).
fn run_on_calling_thread<R: Send>(
    py: Python<'_>,
    control: Control,
    work: impl FnOnce(&Control) -> Result<R, Error> + Send,
) -> PyResult<R> {
    let result = py.detach(|| work(&control));
    settle(py, &control, result)
}

/// The end of a call: its warnings to Python, its error as Python's exception.
fn settle<R>(py: Python<'_>, control: &Control, result: Result<R, Error>) -> PyResult<R> {
    emit_warnings(py, control)?;
    result.map_err(|e| to_py_err(py, e))
}

/// The engine's thread pool in this process. Not rayon's global pool: that one does not
/// survive `fork()` (multiprocessing's default start method on Linux), and a forked child
/// that used it would wait for ever on worker threads it does not have. A child gets a pool
/// of its own the first time it calls the engine.
fn engine_pool() -> Result<Arc<rayon::ThreadPool>, Error> {
    static POOL: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut slot = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((owner, pool)) = slot.as_ref() {
        if *owner == pid {
            return Ok(Arc::clone(pool));
        }
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("asciigrid-{i}"))
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start the engine's threads: {e}")))?,
    );
    if let Some((_, inherited)) = slot.replace((pid, Arc::clone(&pool))) {
        // The parent's pool: its threads are not in this process, so dropping it (which
        // signals them) is pointless; leave it be.
        std::mem::forget(inherited);
    }
    Ok(pool)
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
    match nodata.map(|v| NodataValue::of(v, dtype)) {
        Some(NodataValue::Int(v)) => d.set_item("nodata", v)?,
        Some(NodataValue::Float(v)) => d.set_item("nodata", v)?,
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

/// `out` (a writable C-contiguous array of `shape` cells of `data_type`) as cells for `f`:
/// how a caller's buffer reaches the engine, so strip readers can reuse their buffers.
pub(crate) fn with_cells_mut<R>(
    out: &Bound<'_, PyAny>,
    data_type: DataType,
    shape: (usize, usize),
    f: impl FnOnce(CellsMut<'_>) -> PyResult<R>,
) -> PyResult<R> {
    let (rows, cols) = shape;
    let wrong = || {
        PyValueError::new_err(format!(
            "out must be a writable C-contiguous {} array of {rows} rows of {cols} cells",
            data_type.name()
        ))
    };
    macro_rules! as_cells {
        ($t:ty, $variant:ident) => {{
            let mut array = out
                .extract::<PyReadwriteArray2<'_, $t>>()
                .map_err(|_| wrong())?;
            if array.shape() != [rows, cols] {
                return Err(wrong());
            }
            f(CellsMut::$variant(
                array.as_slice_mut().map_err(|_| wrong())?,
            ))
        }};
    }
    match data_type {
        DataType::Int32 => as_cells!(i32, Int32),
        DataType::Float32 => as_cells!(f32, Float32),
        DataType::Float64 => as_cells!(f64, Float64),
    }
}

/// Parse a whole grid; returns `(array, header dict)`. With `nodata_as_nan`, float cells
/// equal to the nodata are NaN (`Control::nodata_as_nan`; the header's nodata is unchanged).
#[pyfunction]
#[pyo3(signature = (source, name, dtype=None, progress=None, strict=false, nodata_as_nan=false))]
fn read<'py>(
    py: Python<'py>,
    source: Source,
    name: String,
    dtype: Option<&str>,
    progress: Option<Py<PyAny>>,
    strict: bool,
    nodata_as_nan: bool,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let dtype = parse_dtype(dtype)?;
    let work = |control: &Control| core::read(source.input(), &name, dtype, control);
    let control = new_control(strict);
    let control = if nodata_as_nan {
        control.nodata_as_nan()
    } else {
        control
    };
    let grid = match (progress, source.read_size()) {
        (None, ReadSize::Tile) => run_on_calling_thread(py, control.on_calling_thread(), work)?,
        (None, ReadSize::Whole) => {
            let pool = engine_pool().map_err(|e| to_py_err(py, e))?;
            run_on_calling_thread(py, control.with_helpers(pool), work)?
        }
        (progress, _) => run_with(py, progress, control, work)?,
    };
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
    let (dtype, nodata) = header.alone();
    header_dict(py, &header, dtype, nodata)
}

/// The names of every [`ErrorKind`] the engine reports, for `asciigrid.ErrorKind` to be
/// checked against.
#[pyfunction]
fn error_kinds() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|k| k.name()).collect()
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
                    core::MAX_PRECISION
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
            let staged = core::stage_grid(&path, cells, &o, &Control::new())?;
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

/// Give the memory the allocator holds free back to the OS (see
/// `asciigrid_core::release_free_memory`): called once a mosaic is planned.
#[pyfunction]
fn release_free_memory(py: Python<'_>) {
    py.detach(asciigrid_core::release_free_memory);
}

/// The `asciigrid._native` module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // rust-numpy imports numpy's C API on first use; done inside a read, a Ctrl-C arriving
    // during that import would surface as a panic instead of a KeyboardInterrupt.
    numpy::PyArray1::<f64>::zeros(m.py(), 0, false);
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(read_header, m)?)?;
    m.add_function(wrap_pyfunction!(error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(write, m)?)?;
    m.add_function(wrap_pyfunction!(stats::stats, m)?)?;
    m.add_class::<geotiff::BandStatistics>()?;
    m.add_function(wrap_pyfunction!(geotiff::average_2x2, m)?)?;
    m.add_function(wrap_pyfunction!(geotiff::blocks_with_data, m)?)?;
    m.add_function(wrap_pyfunction!(geotiff::cells_from_sums, m)?)?;
    m.add_function(wrap_pyfunction!(file_object::load_file, m)?)?;
    m.add_class::<mosaic::MosaicPlan>()?;
    m.add_class::<rows::GridRows>()?;
    m.add_class::<archive::ArchiveMember>()?;
    m.add_function(wrap_pyfunction!(release_free_memory, m)?)?;
    m.add_function(wrap_pyfunction!(archive::archive_tiles, m)?)?;
    m.add_function(wrap_pyfunction!(archive::archive_members, m)?)?;
    Ok(())
}
