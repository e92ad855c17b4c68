"""Stubs of the native engine (Rust, PyO3). Use the typed wrappers in ``asciigrid`` instead."""

import os
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO, Literal, overload

import numpy as np
import numpy.typing as npt

__version__: str

_Progress = Callable[[int, int], bool | None] | None
_Sources = Sequence[str | bytes | ArchiveMember]

class ArchiveMember:
    """A member of a zip archive (possibly nested), usable wherever a source is."""

    @property
    def label(self) -> str:
        """``archive.zip/inner.zip/member``."""
    @property
    def compressed_size(self) -> int: ...
    @property
    def size(self) -> int:
        """Bytes of text it should hold: its share of progress."""

def release_free_memory() -> None:
    """Give the memory the allocator holds free back to the OS (glibc only)."""

def archive_tiles(
    path: str, label: str, patterns: Sequence[str]
) -> list[tuple[ArchiveMember, str | None]]:
    """The members of the zip ``path`` matching ``patterns`` (nested zips included), each
    with its ``.prj`` sibling's text."""

def archive_members(
    paths: Sequence[str], prj: bool
) -> list[tuple[ArchiveMember, str | None] | None]:
    """The member each path names (``a.zip/inner.zip/T.asc``, ``/vsizip/`` forms) with, if
    ``prj``, its ``.prj`` sibling's text; ``None`` where no component of a path is a zip
    file. Each zip file the paths start in is opened once."""

def read(
    source: str | bytes | ArchiveMember,
    name: str,
    dtype: str | None = None,
    progress: _Progress = None,
    strict: bool = False,
    nodata_as_nan: bool = False,
) -> tuple[npt.NDArray[Any], dict[str, Any]]:
    """Parse a whole grid; returns (array, header dict). Trailing content read around is an
    ``asciigrid.AsciiGridWarning`` (``path:line:column: ...``), refused with ``strict``. With
    ``nodata_as_nan``, float cells equal to the nodata are NaN (the header's is unchanged)."""

def read_header(source: str | bytes | ArchiveMember, name: str) -> dict[str, Any]:
    """Parse only the header."""

def error_kinds() -> list[str]:
    """The value of every ``asciigrid.ErrorKind`` the engine reports (a ``ParseError`` is
    raised as ``ParseError(message, path, line, column, kind)`` with one of them)."""

def load_file(file: BinaryIO, name: str, *, compressed_size: int | None = None) -> bytes:
    """The text of a binary file object, pulled with ``read(n)`` within the decompression
    budget (gzip data decompressed); a Python exception from ``read`` propagates as it is.
    ``compressed_size`` (deflate or stored data the object decompresses) also refuses a
    header promising, or text longer than, what that much deflate data can hold."""

def stats(
    sources: _Sources,
    names: Sequence[str],
    dtype: str | None = None,
    histogram_bins: int | None = None,
    histogram_range: tuple[float, float] | None = None,
    progress: _Progress = None,
    strict: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-source statistics and the combined statistics (warnings and ``strict`` as in
    :func:`read`)."""

_Cells = npt.NDArray[np.int32] | npt.NDArray[np.float32] | npt.NDArray[np.float64]

class BandStatistics:
    """A band's statistics, added up block row by block row (the engine's accumulator)."""

    def __init__(self) -> None: ...
    def add_block_row(self, cells: _Cells, block: int, nodata: float | None = None) -> list[bool]:
        """Add a block row's valid cells (nodata and NaN left out); returns, per block of
        ``block`` columns, whether it holds a cell that is not nodata (all ``True`` without
        nodata)."""
    def add_summary(
        self,
        *,
        count: int,
        nodata_count: int,
        min: float | None,
        max: float | None,
        sum: float,
        mean: float | None,
        sum_of_squared_deviations: float,
        histogram: Sequence[int] | None = None,
    ) -> None:
        """Merge the summary of other cells (the engine's one merge of statistics); raises
        ``ValueError`` for a summary no set of cells has, or a histogram with another number
        of bins."""
    def summary(self, histogram_edges: Sequence[float] | None = None) -> dict[str, Any]:
        """The statistics so far, as :func:`stats` gives them (the histogram only when its
        ``histogram_edges`` are given)."""

def blocks_with_data(cells: _Cells, block: int, nodata: float | None = None) -> list[bool]:
    """Per block of ``block`` columns, whether it holds a cell that is not nodata (as
    :meth:`BandStatistics.add_block_row` says, without adding statistics)."""

def average_2x2(cells: _Cells, nodata: float | None = None) -> _Cells:
    """The next overview level of cells whose rows and columns both halve: each cell the
    mean of its 2 x 2 source cells that are not nodata (GDAL's ``AVERAGE``)."""

def cells_from_sums(
    sums: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    dtype: str,
    nodata: float | None = None,
) -> _Cells:
    """An overview level's cells from the weighted sums and weights of its valid source
    cells, converted as :func:`average_2x2` converts its means; ``nodata`` (else NaN for
    floats, 0 for integers) where the weight is 0."""

@overload
def write(
    path: str,
    data: npt.NDArray[np.int32] | npt.NDArray[np.float32] | npt.NDArray[np.float64],
    west: float,
    north: float,
    dx: float,
    dy: float,
    nodata: float | None = None,
    precision: int | None = None,
    stage: Literal[False] = False,
) -> None: ...
@overload
def write(
    path: str,
    data: npt.NDArray[np.int32] | npt.NDArray[np.float32] | npt.NDArray[np.float64],
    west: float,
    north: float,
    dx: float,
    dy: float,
    nodata: float | None = None,
    precision: int | None = None,
    *,
    stage: Literal[True],
) -> os.PathLike[str]: ...
@overload
def write(
    path: str,
    data: npt.NDArray[np.int32] | npt.NDArray[np.float32] | npt.NDArray[np.float64],
    west: float,
    north: float,
    dx: float,
    dy: float,
    nodata: float | None = None,
    precision: int | None = None,
    stage: bool = False,
) -> os.PathLike[str] | None:
    """Write a grid atomically. With ``stage=True`` only write it to a hidden temporary file
    beside ``path`` and return that file's name: the caller renames it into place or removes
    it."""

class GridRows:
    """One grid whose rows are parsed when asked for (a large file's values counted at
    opening); anything else is read whole at opening."""

    def __init__(
        self,
        source: str | bytes | ArchiveMember,
        name: str,
        dtype: str | None = None,
        progress: _Progress = None,
        strict: bool = False,
    ) -> None: ...
    def header(self) -> dict[str, Any]:
        """The header dict, with the cells' data type and nodata as read."""
    def read_rows(
        self,
        row_start: int,
        row_count: int,
        out: npt.NDArray[Any],
        progress: _Progress = None,
    ) -> npt.NDArray[Any]:
        """Rows [row_start, row_start+row_count) into ``out`` (writable, C-contiguous,
        exactly those cells in the grid's type), which is returned."""

class MosaicPlan:
    """Tiles' headers read and placed in one union grid."""

    def __init__(
        self,
        sources: _Sources,
        names: Sequence[str],
        dtype: str | None = None,
        nodata: float | None = None,
        skip_errors: bool = False,
        crs: Sequence[int | None] | None = None,
        strict: bool = False,
    ) -> None:
        """``crs[i]``: a key for tile ``i``'s CRS (equal keys: one CRS), ``None`` if unknown.
        ``strict`` applies to every :meth:`read_rows` (see :func:`read`)."""
    @staticmethod
    def placed(
        sources: _Sources,
        names: Sequence[str],
        placements: Sequence[tuple[int, int, int, int]],
        geotransform: tuple[float, float, float, float, float, float],
        dtype: str,
        nodata: float,
        nodata_origin: str,
        strict: bool = False,
    ) -> MosaicPlan:
        """Some tiles of a mosaic planned whole elsewhere, at ``(row, col, nrows, ncols)`` of
        that plan's :meth:`layout`, read without being opened now; the plan covers their
        union. The other arguments are the whole plan's."""
    def layout(self) -> dict[str, Any]:
        """{header, tiles: [(name, row_off, col_off, nrows, ncols)], skipped: [(name, exc)],
        bands: [(row_start, row_count)], crs: the placed tiles' CRS key or None,
        nodata_origin: where the nodata value comes from, in words}"""
    def read_rows(
        self,
        row_start: int,
        row_count: int,
        skip_errors: bool = False,
        progress: _Progress = None,
        out: npt.NDArray[Any] | None = None,
    ) -> tuple[npt.NDArray[Any], list[tuple[int, Exception]]]:
        """Rows [row_start, row_start+row_count) of the mosaic, and failed tile indices; with
        ``out`` (writable, C-contiguous, exactly those cells in the mosaic's type) the rows
        are read into it and it is returned."""
