//! `_native.ArchiveMember`, `_native.archive_tiles` and `_native.archive_member`: zip members
//! as grid sources. Python holds a member's position and the first KiB of its text (what a
//! mosaic plan reads of it): the core decompresses the rest when it is read.

use std::path::PathBuf;

use asciigrid_core::{find_tiles, member_prj, resolve_members, MemberSource};
use pyo3::prelude::*;

use crate::{run, to_py_err};

/// A member of a zip archive (possibly nested), usable wherever a source is.
#[pyclass(module = "asciigrid._native", frozen)]
pub struct ArchiveMember {
    pub(crate) member: MemberSource,
}

#[pymethods]
impl ArchiveMember {
    /// `archive.zip/inner.zip/member`: how messages name it.
    #[getter]
    fn label(&self) -> &str {
        self.member.label()
    }

    /// The member's compressed size in bytes.
    #[getter]
    fn compressed_size(&self) -> u64 {
        self.member.compressed_size()
    }

    /// Bytes of text it should hold (its declared size, within what its compressed size can
    /// hold): its share of progress.
    #[getter]
    fn size(&self) -> u64 {
        self.member.text_size_hint()
    }

    fn __repr__(&self) -> String {
        format!("ArchiveMember({:?})", self.member.label())
    }
}

/// The tiles of the zip file `path` (named `label`): `[(member, prj text or None)]`, members
/// matching any of `patterns`, nested zips included.
#[pyfunction]
pub fn archive_tiles(
    py: Python<'_>,
    path: PathBuf,
    label: String,
    patterns: Vec<String>,
) -> PyResult<Vec<(ArchiveMember, Option<String>)>> {
    let found = run(py, None, false, |control| {
        find_tiles(&path, &label, &patterns, control)
    })?;
    Ok(found
        .into_iter()
        .map(|f| (ArchiveMember { member: f.member }, f.prj))
        .collect())
}

/// A member named by path, and its `.prj` text if asked for.
type NamedMember = (ArchiveMember, Option<String>);

/// The member each path names (`a.zip/inner.zip/T.asc`, or GDAL's `/vsizip/` forms) and,
/// with `prj`, its `.prj` text; `None` where no component of a path is a zip file. Each zip
/// file the paths start in is opened once; the first path that names nothing readable is
/// the error.
#[pyfunction]
pub fn archive_members(
    py: Python<'_>,
    paths: Vec<String>,
    prj: bool,
) -> PyResult<Vec<Option<NamedMember>>> {
    let found = py.detach(|| {
        resolve_members(&paths)
            .into_iter()
            .map(|m| {
                Ok(m?.map(|member| {
                    let text = if prj { member_prj(&member) } else { None };
                    (ArchiveMember { member }, text)
                }))
            })
            .collect::<Result<Vec<_>, asciigrid_core::Error>>()
    });
    found.map_err(|e| to_py_err(py, e))
}
