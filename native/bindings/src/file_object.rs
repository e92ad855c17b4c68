//! Python binary file objects (`open(..., "rb")`, `gzip.open`, a `ZipFile.open` member) as
//! a source: their text is pulled with `.read(n)` and held to the same decompression budget
//! as a gzip file, since such an object may itself be decompressing.

use std::io::{self, Read};

use asciigrid_core::{load_reader, max_inflated};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

/// Bytes asked for per `.read(n)` call at least (a Python call per few bytes would be slow).
const CALL_SIZE: usize = 1 << 16;

/// A Python file object as a [`Read`]. An exception its `read` raises is kept, to be raised
/// to the caller as it was (not as an engine error).
struct PyFileReader<'py> {
    file: Bound<'py, PyAny>,
    /// What the last `.read` returned and is not handed over yet.
    pending: PyBackedBytes,
    offset: usize,
    error: Option<PyErr>,
}

impl Read for PyFileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.offset == self.pending.len() {
            let chunk = self
                .file
                .call_method1("read", (buf.len().max(CALL_SIZE),))
                .and_then(|c| c.extract::<PyBackedBytes>().map_err(PyErr::from));
            match chunk {
                Ok(bytes) => {
                    self.pending = bytes;
                    self.offset = 0;
                }
                Err(e) => {
                    self.error = Some(e);
                    return Err(io::Error::other("the file object's read() failed"));
                }
            }
        }
        let rest = &self.pending[self.offset..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.offset += n;
        Ok(n)
    }
}

/// The text of a binary file object, read within the decompression budget (and decompressed
/// if it is gzip data), as bytes for the engine. `name` is used in errors. `compressed_size`
/// is the size of the deflate (or stored) data the object decompresses, when known (a zip
/// member's `ZipInfo.compress_size`): a header promising more values than that can hold,
/// or more text than it can hold, is refused (see `asciigrid_core::max_inflated`).
#[pyfunction]
#[pyo3(signature = (file, name, *, compressed_size=None))]
pub(crate) fn load_file<'py>(
    py: Python<'py>,
    file: Bound<'py, PyAny>,
    name: String,
    compressed_size: Option<u64>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut reader = PyFileReader {
        file,
        pending: PyBytes::new(py, b"").extract()?,
        offset: 0,
        error: None,
    };
    let stream_max = compressed_size.map(max_inflated);
    match load_reader(&mut reader, &name, stream_max) {
        Ok(text) => Ok(PyBytes::new(py, &text)),
        Err(e) => Err(match reader.error.take() {
            Some(python_error) => python_error,
            None => crate::to_py_err(py, e),
        }),
    }
}
