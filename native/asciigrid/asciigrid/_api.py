"""The typed public API. Every function here hands its work to :mod:`asciigrid._native`."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, NamedTuple, Optional, Union

import numpy as np
import numpy.typing as npt

from asciigrid import _native
from asciigrid.crs import esri_to_wkt, read_prj

__all__ = [
    "Grid",
    "Header",
    "MosaicLayout",
    "NamedBytes",
    "Progress",
    "Source",
    "Stats",
    "iter_mosaic_strips",
    "mosaic",
    "mosaic_layout",
    "read",
    "read_header",
    "stats",
    "write",
]


class NamedBytes(NamedTuple):
    """An in-memory grid with the name to use in error messages (e.g. a zip member)."""

    name: str
    data: bytes

    @classmethod
    def from_file(
        cls, file: BinaryIO, name: str, *, compressed_size: int | None = None
    ) -> NamedBytes:
        """The text of a binary file object (a ``ZipFile.open`` member, say) under ``name``,
        pulled in pieces within the decompression budget: a bomb raises :class:`ParseError`
        early instead of filling memory. Gzip data is decompressed on the way.

        ``compressed_size`` is the size of the deflate (or stored) data the object
        decompresses, when known: pass a zip member's ``ZipInfo.compress_size`` (only for
        ``ZIP_STORED`` and ``ZIP_DEFLATED`` members; bzip2 and lzma expand further). Deflate
        expands at most 1032-fold, so a header promising more values than that much text can
        hold raises :class:`ParseError` before the body is read, and so does more text than
        that."""
        if compressed_size is not None and compressed_size < 0:
            raise ValueError(f"compressed_size must be at least 0, got {compressed_size}")
        return cls(name, _native.load_file(file, name, compressed_size=compressed_size))


Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO, NamedBytes]
"""What every reader accepts: a path (any extension; ``.gz`` is decompressed), the file's
bytes, a binary file object, or :class:`NamedBytes`."""

Progress = Callable[[int, int], Optional[bool]]
"""``progress(done, total)`` is called from the calling thread every 25 ms with the
bytes processed so far and the total. Return ``False`` to cancel: the call then raises
:class:`asciigrid.Cancelled` and writes nothing."""

DTypeLike = Union[None, str, type, np.dtype]


@dataclass(frozen=True)
class Header:
    """What a grid's header says, resolved the way GDAL resolves it."""

    ncols: int
    nrows: int
    dx: float
    """Cell width (``cellsize``, or ``dx``)."""
    dy: float
    """Cell height (``cellsize``, or ``dy``), positive."""
    origin: str
    """``"corner"`` (``xllcorner``/``yllcorner``), ``"center"`` (``xllcenter``/``yllcenter``), or
    ``"north-west"`` (GRASS ASCII ``west:``/``north:`` headers, and mosaics)."""
    x_origin: float
    """The x value written in the header (corner or centre, see :attr:`origin`)."""
    y_origin: float
    """The y value written in the header (corner or centre, see :attr:`origin`)."""
    nodata: float | int | None
    """``nodata_value`` as GDAL reports it (``null`` becomes -FLT_MAX or -DBL_MAX)."""
    dtype: np.dtype | None
    """The data type GDAL chooses (int32, float32 or float64; see FORMAT.md). ``None`` from
    :func:`read_header` when only the body can decide it (no nodata value forcing a float)."""
    geotransform: tuple[float, float, float, float, float, float]
    """GDAL's geotransform: (x of west edge, dx, 0, y of north edge, 0, -dy)."""
    header_lines: int
    """How many lines the header takes; the body starts on the next one."""

    @property
    def cellsize(self) -> float | None:
        """The square cell size, or ``None`` when ``dx != dy``."""
        return self.dx if self.dx == self.dy else None

    @property
    def shape(self) -> tuple[int, int]:
        """``(nrows, ncols)``."""
        return (self.nrows, self.ncols)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the outer cell edges."""
        x0, dx, _, y0, _, ndy = self.geotransform
        return (x0, y0 + ndy * self.nrows, x0 + dx * self.ncols, y0)

    @classmethod
    def _from_native(cls, raw: dict[str, Any]) -> Header:
        return cls(
            ncols=raw["ncols"],
            nrows=raw["nrows"],
            dx=raw["dx"],
            dy=raw["dy"],
            origin=raw["origin"],
            x_origin=raw["x_origin"],
            y_origin=raw["y_origin"],
            nodata=raw["nodata"],
            dtype=None if raw["dtype"] is None else np.dtype(raw["dtype"]),
            geotransform=tuple(raw["geotransform"]),  # type: ignore[arg-type]
            header_lines=raw["header_lines"],
        )


@dataclass(frozen=True)
class Grid:
    """A grid read into memory: raw values (nodata cells keep the nodata value, as in GDAL)."""

    data: npt.NDArray[Any]
    """Shape ``(nrows, ncols)``, row 0 is the northernmost row."""
    header: Header
    prj: str | None = None
    """The raw text of the ``.prj`` sidecar, if there is one."""
    path: str | None = None

    @functools.cached_property
    def crs_wkt(self) -> str | None:
        """The CRS as WKT, converted from :attr:`prj` (ESRI forms through GDAL's osr when
        available) the first time it is asked for: the first conversion in a process loads
        GDAL's projection database, which costs more than reading a large grid."""
        return esri_to_wkt(self.prj)

    @property
    def nodata(self) -> float | int | None:
        """The nodata value, or ``None``."""
        return self.header.nodata

    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        """GDAL's 6-tuple (see FORMAT.md for the exact formula)."""
        return self.header.geotransform

    @property
    def shape(self) -> tuple[int, int]:
        """``(nrows, ncols)``."""
        return self.header.shape

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)``."""
        return self.header.bounds

    def masked(self) -> np.ma.MaskedArray:
        """The data with nodata cells and NaN masked."""
        mask = np.zeros(self.data.shape, dtype=bool)
        if self.nodata is not None and not _isnan(self.nodata):
            # A nodata the cells' type cannot hold (-9999.5 in int32) matches no cell.
            as_cell = self.data.dtype.type(self.nodata)
            if float(as_cell) == float(self.nodata):
                mask |= self.data == as_cell
        if self.data.dtype.kind == "f":
            mask |= np.isnan(self.data)
        return np.ma.MaskedArray(self.data, mask=mask)


@dataclass(frozen=True)
class Stats:
    """Statistics of the valid cells (not nodata, not NaN), computed without loading a grid."""

    count: int
    nodata_count: int
    min: float | None
    max: float | None
    sum: float
    mean: float | None
    std: float | None
    """Population standard deviation (divides by ``count``, as numpy does; QGIS 3.22's
    ``STD_DEV`` divides by ``count - 1``)."""
    sum_of_squares: float
    """Sum of squared deviations from the mean (QGIS's ``SUM_OF_SQUARES``)."""
    histogram: tuple[list[int], list[float]] | None = None
    """``(counts, bin_edges)`` when a histogram was asked for."""
    path: str | None = None

    @property
    def range(self) -> float | None:
        """``max - min``."""
        return None if self.min is None or self.max is None else self.max - self.min

    @classmethod
    def _from_native(cls, raw: dict[str, Any], path: str | None) -> Stats:
        hist = raw.get("histogram")
        return cls(
            count=raw["count"],
            nodata_count=raw["nodata_count"],
            min=raw["min"],
            max=raw["max"],
            sum=raw["sum"],
            mean=raw["mean"],
            std=raw["std"],
            sum_of_squares=raw["sum_of_squares"],
            histogram=None if hist is None else (list(hist[0]), list(hist[1])),
            path=path,
        )


@dataclass(frozen=True)
class MosaicLayout:
    """Where each tile lands in the union grid of a mosaic."""

    header: Header
    """The mosaic's own header (union extent, common cell size, chosen dtype and nodata)."""
    tiles: list[tuple[str, int, int, int, int]]
    """``(name, row_offset, col_offset, nrows, ncols)`` for each usable tile, input order."""
    skipped: list[tuple[str, Exception]] = field(default_factory=list)
    """Tiles left out (only with ``skip_errors=True``) and why."""
    bands: list[tuple[int, int]] = field(default_factory=list)
    """``(row_start, row_count)`` strips in which each tile lies wholly inside one strip."""
    _native_plan: Any = field(default=None, repr=False, compare=False)
    """The engine's plan, so :func:`iter_mosaic_strips` can reuse it instead of planning
    again."""


# --- sources --------------------------------------------------------------------------------


def _native_source(source: Source) -> tuple[str | bytes, str]:
    """``(path-or-bytes, name for messages)`` for the engine."""
    if isinstance(source, NamedBytes):
        return bytes(source.data), source.name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        return path, path
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        name = name if isinstance(name, str) else "<file>"
        # Pulled in pieces within the decompression budget: the object may be decompressing.
        return _native.load_file(source, name), name
    raise TypeError(f"expected a path, bytes or a binary file object, got {type(source).__name__}")


def _native_sources(sources: Source | Iterable[Source]) -> tuple[list[str | bytes], list[str]]:
    if isinstance(sources, (str, os.PathLike, bytes, bytearray, memoryview, NamedBytes)) or (
        hasattr(sources, "read")
    ):
        sources = [sources]  # type: ignore[list-item]
    pairs = [_native_source(s) for s in sources]  # type: ignore[union-attr]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _dtype_name(dtype: DTypeLike) -> str | None:
    if dtype is None:
        return None
    name = np.dtype(dtype).name
    if name not in ("int32", "float32", "float64"):
        raise ValueError(f"dtype must be int32, float32 or float64, not {name}")
    return name


def _isnan(v: float | int) -> bool:
    return isinstance(v, float) and v != v


# --- public functions ----------------------------------------------------------------------


def read(source: Source, *, dtype: DTypeLike = None, progress: Progress | None = None) -> Grid:
    """Read a whole grid.

    ``dtype=None`` picks GDAL's type (int32 unless the file has decimals; see FORMAT.md);
    int32, float32 or float64 forces one. Raises :class:`ParseError` (with path, line and
    column) on any input GDAL would read wrongly or not at all.
    """
    raw_source, name = _native_source(source)
    data, raw_header = _native.read(raw_source, name, _dtype_name(dtype), progress)
    prj = read_prj(raw_source) if isinstance(raw_source, str) else None
    return Grid(
        data=data,
        header=Header._from_native(raw_header),
        prj=prj,
        path=raw_source if isinstance(raw_source, str) else None,
    )


def read_header(source: Source) -> Header:
    """Read only the header (reads a few hundred bytes, whatever the file's size)."""
    raw_source, name = _native_source(source)
    return Header._from_native(_native.read_header(raw_source, name))


def stats(
    sources: Source | Iterable[Source],
    *,
    dtype: DTypeLike = None,
    histogram_bins: int | None = None,
    histogram_range: tuple[float, float] | None = None,
    per_source: bool = False,
    progress: Progress | None = None,
) -> Stats | list[Stats]:
    """Streaming statistics of one grid or of all cells of many grids together.

    Values are taken in the grid's data type (so a Float32 grid's statistics equal those of
    the GeoTIFF QGIS would make of it). With ``per_source=True`` a list is returned: one
    :class:`Stats` per source, then the combined one last.
    """
    if histogram_bins is not None:
        if histogram_bins < 1:
            raise ValueError(f"histogram_bins must be at least 1, got {histogram_bins}")
        # The engine refuses more than its maximum with a ValueError; beyond int64 the
        # conversion alone would raise OverflowError.
        histogram_bins = min(histogram_bins, 2**63 - 1)
    raw_sources, names = _native_sources(sources)
    per, total = _native.stats(
        raw_sources, names, _dtype_name(dtype), histogram_bins, histogram_range, progress
    )
    combined = Stats._from_native(total, None)
    if not per_source:
        return combined
    return [Stats._from_native(s, n) for s, n in zip(per, names)] + [combined]


def mosaic_layout(
    sources: Iterable[Source],
    *,
    dtype: DTypeLike = None,
    nodata: float | None = None,
    skip_errors: bool = False,
) -> MosaicLayout:
    """Plan a mosaic from the tiles' headers only: union extent, offsets, strips.

    Tiles must share cell size and alignment, else :class:`MosaicError` names the tile.
    With ``skip_errors=True`` tiles whose header is bad are listed in ``skipped`` instead.
    """
    return _plan(sources, dtype, nodata, skip_errors).layout


def mosaic(
    sources: Iterable[Source],
    *,
    dtype: DTypeLike = None,
    nodata: float | None = None,
    progress: Progress | None = None,
) -> Grid:
    """Read many aligned tiles into one grid (gaps are nodata; later tiles win overlaps)."""
    plan = _plan(sources, dtype, nodata, False)
    data = plan.native.read_rows(0, plan.layout.header.nrows, False, progress)[0]
    return Grid(data=data, header=plan.layout.header)


def iter_mosaic_strips(
    sources: Iterable[Source] | MosaicLayout,
    *,
    dtype: DTypeLike = None,
    nodata: float | None = None,
    skip_errors: bool = False,
    progress: Progress | None = None,
) -> Iterator[tuple[int, npt.NDArray[Any], list[tuple[str, Exception]]]]:
    """Yield ``(row_start, strip, failed)`` strip by strip, north to south.

    Peak memory is one strip, not the mosaic. ``failed`` lists tiles of that strip whose body
    was bad (only with ``skip_errors=True``; otherwise the error is raised). Given the
    :class:`MosaicLayout` of :func:`mosaic_layout`, its plan is reused (``dtype`` and
    ``nodata`` were fixed when it was made). Progress covers one strip at a time.
    """
    if isinstance(sources, MosaicLayout):
        plan = _Plan(sources._native_plan, sources)
    else:
        plan = _plan(sources, dtype, nodata, skip_errors)
    for row_start, row_count in plan.layout.bands:
        data, failed = plan.native.read_rows(row_start, row_count, skip_errors, progress)
        yield row_start, data, [(plan.layout.tiles[i][0], err) for i, err in failed]


def write(
    path: str | os.PathLike[str],
    data: npt.ArrayLike,
    *,
    geotransform: Sequence[float],
    nodata: float | None = None,
    crs_wkt: str | None = None,
    precision: int | None = None,
) -> None:
    """Write an ESRI ASCII grid atomically (temp file in the same folder, then rename).

    Float values are written in the shortest form that reads back to the same value
    (or with ``precision`` decimals). A ``.prj`` is written beside it when ``crs_wkt`` is given.
    """
    array = np.ascontiguousarray(data)
    if array.ndim != 2:
        raise ValueError(f"data must be 2-D, got shape {array.shape}")
    if array.dtype.name not in ("int32", "float32", "float64"):
        if array.dtype.kind in "iub":
            info = np.iinfo(np.int32)
            if array.size and (array.min() < info.min or array.max() > info.max):
                raise ValueError(
                    f"{array.dtype} values outside the int32 range cannot be written as an "
                    "integer grid; convert the array to float64 first"
                )
            array = array.astype(np.int32)
        elif array.dtype.kind == "f":
            array = array.astype(np.float64)
        else:
            raise ValueError(f"cannot write {array.dtype} cells; use int32, float32 or float64")
    x0, dx, rx, y0, ry, ndy = (float(v) for v in geotransform)
    if rx != 0 or ry != 0 or ndy >= 0:
        raise ValueError("only north-up geotransforms (0 rotation, negative dy) can be written")
    target = Path(path)
    _native.write(str(target), array, x0, y0, dx, -ndy, nodata, precision)
    if crs_wkt is not None:
        from asciigrid.crs import write_prj

        write_prj(target, crs_wkt)


class _Plan(NamedTuple):
    native: Any
    layout: MosaicLayout


def _plan(
    sources: Iterable[Source],
    dtype: DTypeLike,
    nodata: float | None,
    skip_errors: bool,
) -> _Plan:
    raw_sources, names = _native_sources(sources)
    native = _native.MosaicPlan(raw_sources, names, _dtype_name(dtype), nodata, skip_errors)
    raw = native.layout()
    layout = MosaicLayout(
        header=Header._from_native(raw["header"]),
        tiles=[tuple(t) for t in raw["tiles"]],  # type: ignore[misc]
        skipped=list(raw["skipped"]),
        bands=[tuple(b) for b in raw["bands"]],  # type: ignore[misc]
        _native_plan=native,
    )
    return _Plan(native, layout)
