"""The typed public API. Every function here hands its work to :mod:`asciigrid._native`."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Literal, NamedTuple, Optional, Union, overload

import numpy as np
import numpy.typing as npt

from asciigrid import _native
from asciigrid._atomic import atomic_files
from asciigrid.crs import esri_to_wkt, read_prj, stage_prj
from asciigrid.errors import Cancelled

__all__ = [
    "ArchiveTile",
    "BoundingBox",
    "Grid",
    "Header",
    "MosaicLayout",
    "NamedBytes",
    "Progress",
    "Source",
    "Stats",
    "Transform",
    "archive_tiles",
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
    prj: str | None = None
    """The raw text of the grid's ``.prj`` (e.g. the zip member beside it), if any: what
    :func:`mosaic` compares and carries as the CRS."""

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


class ArchiveTile(NamedTuple):
    """A tile inside a zip archive, found by :func:`archive_tiles`: a source like a path (the
    engine decompresses it when it is read; only the first KiB of its text is held, read
    when the archive was listed, so that planning a mosaic needs no more)."""

    name: str
    """``delivery.zip/inner.zip/TILE.asc``: what messages call it."""
    member: Any
    """The engine's handle on the member (its position in the archive)."""
    prj: str | None = None
    """The raw text of its ``.prj`` sibling in the same zip folder, if any."""


Source = Union[
    str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO, NamedBytes, ArchiveTile
]
"""What every reader accepts: a path (any extension; ``.gz`` is decompressed), the file's
bytes, a binary file object, or :class:`NamedBytes`.

A path may name a member of a zip archive, zips nested in zips included:
``delivery.zip/data/NT/NT00_OST50GRID_20230501.zip/NT00.asc``. The path up to the first
component ending in ``.zip`` that is a file is the archive; inside it, the path up to the next
component ending in ``.zip`` that is a member is a nested zip, and so on; the rest names the
member. GDAL's spellings are accepted too: ``/vsizip/delivery.zip/NT00.asc`` is our
``delivery.zip/NT00.asc``; for a nested zip GDAL needs its explicit nesting,
``/vsizip/{/vsizip/delivery.zip/inner.zip}/NT00.asc``, which is accepted as
``delivery.zip/inner.zip/NT00.asc`` (and so is ``/vsizip/delivery.zip/inner.zip/NT00.asc``,
which GDAL itself does not open). Members are decompressed by the engine within its
decompression budget, and errors name them as ``delivery.zip/inner.zip/NT00.asc:line:column``.
A member's CRS is its ``.prj`` sibling (same folder and stem) in the same zip.

Where many tiles are taken (:func:`mosaic`, :func:`mosaic_layout`,
:func:`iter_mosaic_strips`, :func:`stats`), a path to a ``.zip`` file stands for the tiles it
holds: the members whose name matches ``pattern`` (fnmatch-style, ignoring case, matched
against the member's file name, or its whole path in the zip when the pattern has a ``/``),
in archive order, descending into every ``.zip`` member (the pattern applies there too).
Sidecars (``.prj``, ``.xml``, ``.aux.xml``, ``.gml``), hidden entries and ``__MACOSX/`` never
count as tiles. This is GDAL's ``/vsizip/`` reading of each member, decompressed in parallel
only when the strip that needs it is read."""

Pattern = Union[str, Sequence[str]]
"""fnmatch-style member name patterns for zip archives (see :data:`Source`)."""

DEFAULT_PATTERN = "*.asc"

Progress = Callable[[int, int], Optional[bool]]
"""``progress(done, total)`` is called from the calling thread every 25 ms with the
bytes processed so far and the total. Return ``False`` to cancel: the call then raises
:class:`asciigrid.Cancelled` and writes nothing."""

DTypeLike = Union[None, str, type, np.dtype]


class BoundingBox(NamedTuple):
    """The outer edges of a grid's cells, as rasterio's ``BoundingBox``: a plain tuple
    ``(left, bottom, right, top)`` (west, south, east, north) with names."""

    left: float
    bottom: float
    right: float
    top: float


Transform = Any
"""What :attr:`Header.transform` gives: an ``affine.Affine`` when the ``affine`` package is
installed (rasterio's type, so it composes with rasterio, rioxarray and their tools), else
the same six numbers as a plain tuple ``(a, b, c, d, e, f)`` in ``Affine``'s order
(``x = a * col + b * row + c``, ``y = d * col + e * row + f``)."""


def _transform(geotransform: Sequence[float]) -> Transform:
    """GDAL's geotransform ``(c, a, b, f, d, e)`` in ``Affine``'s order (what
    ``Affine.from_gdal`` does), as an ``Affine`` when ``affine`` can be imported."""
    c, a, b, f, d, e = geotransform
    try:
        from affine import Affine
    except ImportError:
        return (a, b, c, d, e, f)
    return Affine(a, b, c, d, e, f)


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
    """``nodata_value`` as GDAL reports it (``null`` becomes -FLT_MAX or -DBL_MAX). GRASS
    ASCII grids always have one: the ``null:`` value, else -2147483648, which their ``*`` null
    cells read as (GDAL reads them as 0 and reports none; see docs/FORMAT.md)."""
    dtype: np.dtype | None
    """The data type GDAL chooses (int32, float32 or float64; see docs/FORMAT.md). ``None`` from
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
    def bounds(self) -> BoundingBox:
        """``BoundingBox(left, bottom, right, top)``: west, south, east and north of the
        outer cell edges (a tuple in that order, as rasterio's ``bounds``)."""
        x0, dx, _, y0, _, ndy = self.geotransform
        return BoundingBox(x0, y0 + ndy * self.nrows, x0 + dx * self.ncols, y0)

    @property
    def res(self) -> tuple[float, float]:
        """``(xres, yres)``: cell width and height, both positive (rasterio's ``res``)."""
        return (self.dx, self.dy)

    @property
    def transform(self) -> Transform:
        """The affine transform from (column, row) to (x, y) of the cells' corners, as
        rasterio's ``transform``: an ``affine.Affine`` when ``affine`` is installed, else a
        plain tuple ``(a, b, c, d, e, f)`` in ``Affine``'s order (see :data:`Transform`)."""
        return _transform(self.geotransform)

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
        """GDAL's 6-tuple (see docs/FORMAT.md for the exact formula)."""
        return self.header.geotransform

    @property
    def shape(self) -> tuple[int, int]:
        """``(nrows, ncols)``."""
        return self.header.shape

    @property
    def bounds(self) -> BoundingBox:
        """``BoundingBox(left, bottom, right, top)`` (see :attr:`Header.bounds`)."""
        return self.header.bounds

    @property
    def res(self) -> tuple[float, float]:
        """``(xres, yres)`` (see :attr:`Header.res`)."""
        return self.header.res

    @property
    def transform(self) -> Transform:
        """The affine transform (see :attr:`Header.transform`)."""
        return self.header.transform

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
    sum_of_squared_deviations: float
    """Sum of squared deviations from the mean, ``sum((x - mean)**2)`` (``count * std**2``;
    QGIS 3.22's ``SUM_OF_SQUARES``). Not the sum of squared values."""
    histogram: tuple[list[int], list[float]] | None = None
    """``(counts, bin_edges)`` when a histogram was asked for."""
    path: str | None = None

    @property
    def sum_of_squares(self) -> float:
        """The same as :attr:`sum_of_squared_deviations` (its name until 0.x, kept so that
        code using it keeps working): the sum of squared *deviations from the mean*."""
        return self.sum_of_squared_deviations

    @property
    def range(self) -> float | None:
        """``max - min``."""
        return None if self.min is None or self.max is None else self.max - self.min

    @classmethod
    def combine(cls, parts: Iterable[Stats]) -> Stats:
        """The statistics of all the cells of ``parts`` together (say, of grids whose
        statistics were computed at different times), merged by the engine with the formula
        :func:`stats` merges its sources with, so the result equals what :func:`stats` of
        all of them at once gives (to rounding). ``std`` and ``mean`` come from the merged
        count, sum of squared deviations and mean, not from averaging the parts'.

        Histograms are merged when every part has one with the same bin edges; parts with
        different edges, or some with a histogram and some without, raise ``ValueError``.
        """
        parts = list(parts)
        histograms = [p.histogram for p in parts]
        edges = histograms[0][1] if histograms and histograms[0] is not None else None
        if any(h is not None for h in histograms) and not all(
            h is not None and h[1] == edges for h in histograms
        ):
            raise ValueError(
                "only statistics whose histograms have the same bin edges (or that all have "
                "none) can be combined"
            )
        merged = _native.BandStatistics()
        for part, histogram in zip(parts, histograms):
            merged.add_summary(
                count=part.count,
                nodata_count=part.nodata_count,
                min=part.min,
                max=part.max,
                sum=part.sum,
                mean=part.mean,
                sum_of_squared_deviations=part.sum_of_squared_deviations,
                histogram=None if histogram is None else list(histogram[0]),
            )
        return cls._from_native(merged.summary(edges), None)

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
            sum_of_squared_deviations=raw["sum_of_squared_deviations"],
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
    prj: str | None = None
    """The raw ``.prj`` text of the tiles' common CRS (the first placed tile that has one),
    or ``None`` when no tile has one."""
    _native_plan: Any = field(default=None, repr=False, compare=False)
    """The engine's plan, so :func:`iter_mosaic_strips` can reuse it instead of planning
    again."""
    _nodata_origin: str = field(default="", repr=False, compare=False)
    """Where the nodata value comes from, in words, for the messages of a part of this
    mosaic read elsewhere (see :func:`_mosaic_part`)."""

    @functools.cached_property
    def crs_wkt(self) -> str | None:
        """The tiles' common CRS as WKT, converted from :attr:`prj` when first asked for
        (as :attr:`Grid.crs_wkt`)."""
        return esri_to_wkt(self.prj)


# --- sources --------------------------------------------------------------------------------


def _native_source(source: Source) -> tuple[Any, str]:
    """``(path-or-bytes-or-member, name for messages)`` for the engine."""
    if isinstance(source, ArchiveTile):
        return source.member, source.name
    if isinstance(source, NamedBytes):
        return bytes(source.data), source.name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fsdecode(source)
        found = _archive_member(path)
        if found is not None:
            return found[0], found[0].label
        return path, _display_name(path)
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        name = name if isinstance(name, str) else "<file>"
        # Pulled in pieces within the decompression budget: the object may be decompressing.
        return _native.load_file(source, name), name
    raise TypeError(f"expected a path, bytes or a binary file object, got {type(source).__name__}")


def _is_zip_name(path: str) -> bool:
    return path.lower().endswith(".zip")


def _archive_member(path: str) -> tuple[Any, str | None] | None:
    """The zip member ``path`` names and its ``.prj`` text, or ``None`` when ``path`` is an
    ordinary file (or names no archive at all: then opening it reports what is wrong)."""
    return _archive_members([path], prj=True)[0]


def _archive_members(paths: list[str], prj: bool) -> list[tuple[Any, str | None] | None]:
    """:func:`_archive_member` of each of ``paths`` (``.prj`` texts only with ``prj``), each
    zip they start in opened once."""
    named = [
        i
        for i, path in enumerate(paths)
        if path.startswith("/vsizip/") or (".zip" in path.lower() and not os.path.exists(path))
    ]
    found: list[tuple[Any, str | None] | None] = [None] * len(paths)
    if named:
        for i, member in zip(named, _native.archive_members([paths[i] for i in named], prj)):
            found[i] = member
    return found


def archive_tiles(
    path: str | os.PathLike[str], *, pattern: Pattern = DEFAULT_PATTERN
) -> list[ArchiveTile]:
    """The tiles of the zip file ``path``, as :func:`mosaic` and :func:`stats` take them from
    it (members matching ``pattern``, nested zips included, sidecars never; see
    :data:`Source`), in archive order, each usable as a source. Only the archives' directories
    are read (and each nested zip once, to list it), and each tile's first KiB (its header and
    first values, all a mosaic plan needs). A nested zip that cannot be read is listed as a
    tile, so that reading it raises an error naming it.

    Raises ``OSError`` when ``path`` cannot be opened and ``ValueError`` when it is not a zip.
    """
    text = os.fsdecode(path)
    found = _native.archive_tiles(text, _display_name(text), _patterns(pattern))
    return [ArchiveTile(member.label, member, prj) for member, prj in found]


def _refuse_archive(path: Any, name: str) -> None:
    """A zip file given where one grid is read: say how to name a member."""
    if isinstance(path, str) and _is_zip_name(path) and os.path.isfile(path):
        raise ValueError(
            f"{name} is a zip archive, not a grid: name a member inside it "
            f"({name}/MEMBER.asc), or pass the archive to mosaic() or stats(), which read "
            "every tile it holds"
        )


def _display_name(path: str) -> str:
    """``path`` for messages: a name that is not valid UTF-8 (``os.fsdecode`` keeps its bytes
    as surrogates, which no message can carry) gets U+FFFD for each undecodable byte; the file
    itself is still opened by its exact name."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="replace")
    return path


def _as_list(sources: Source | Iterable[Source]) -> list[Source]:
    single = (str, os.PathLike, bytes, bytearray, memoryview, NamedBytes, ArchiveTile)
    if isinstance(sources, single) or (hasattr(sources, "read")):
        return [sources]  # type: ignore[list-item]
    return list(sources)  # type: ignore[arg-type]


def _patterns(pattern: Pattern) -> list[str]:
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ValueError(f"pattern must be a non-empty string or strings, got {pattern!r}")
    return patterns


class _Tiles(NamedTuple):
    raw: list[Any]
    names: list[str]
    prjs: list[str | None]


def _native_sources(
    sources: Source | Iterable[Source], pattern: Pattern = DEFAULT_PATTERN, prj: bool = False
) -> _Tiles:
    """The engine's sources, with each zip archive replaced by the tiles it holds (see
    :data:`Source`), and (with ``prj``) each tile's ``.prj`` text."""
    patterns = _patterns(pattern)
    tiles = _Tiles([], [], [])
    listed = _as_list(sources)
    paths = [os.fsdecode(s) if isinstance(s, (str, os.PathLike)) else "" for s in listed]
    # Zip files are expanded below; other paths may name members, looked up all at once.
    zips = [bool(p) and _is_zip_name(p) and os.path.isfile(p) for p in paths]
    members = _archive_members([p if not z else "" for p, z in zip(paths, zips)], prj)
    for source, path, is_zip, found in zip(listed, paths, zips, members):
        if isinstance(source, (str, os.PathLike)):
            if is_zip:
                for tile in archive_tiles(path, pattern=patterns):
                    tiles.raw.append(tile.member)
                    tiles.names.append(tile.name)
                    tiles.prjs.append(tile.prj)
                continue
            if found is not None:
                tiles.raw.append(found[0])
                tiles.names.append(found[0].label)
                tiles.prjs.append(found[1])
                continue
        raw, name = _native_source(source)
        tiles.raw.append(raw)
        tiles.names.append(name)
        tiles.prjs.append(_tile_prj(source) if prj else None)
    return tiles


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


def read(
    source: Source,
    *,
    dtype: DTypeLike = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> Grid:
    """Read a whole grid.

    ``dtype=None`` picks GDAL's type (int32 unless the file has decimals; see docs/FORMAT.md);
    int32, float32 or float64 forces one. Raises :class:`ParseError` (with path, line and
    column) on any input GDAL would read wrongly or not at all.

    ``strict=True`` refuses, with the :class:`ParseError` it would otherwise be, what is
    read by default with an :class:`AsciiGridWarning` naming file and line: trailing content
    after a complete grid (lines starting with a word, or values left over after ``nrows``
    complete rows of ``ncols`` values; see docs/FORMAT.md).
    """
    return _read(source, dtype, progress, strict)


def _read(
    source: Source,
    dtype: DTypeLike,
    progress: Progress | None = None,
    strict: bool = False,
    nodata_as_nan: bool = False,
) -> Grid:
    """:func:`read`; with ``nodata_as_nan``, float cells equal to the nodata come out as NaN
    (the xarray backend's masking, done by the engine as it parses each chunk; int32 cells
    and ``header.nodata`` are as without it)."""
    raw_source, name, sidecar = _one_grid(source)
    data, raw_header = _native.read(
        raw_source, name, _dtype_name(dtype), progress, strict, nodata_as_nan
    )
    prj, path = sidecar()
    return Grid(data=data, header=Header._from_native(raw_header), prj=prj, path=path)


def _one_grid(source: Source) -> tuple[Any, str, Callable[[], tuple[str | None, str | None]]]:
    """What the engine reads for one grid, its name for messages, and a function giving its
    ``.prj`` text and path once it has been read: a file's sidecar, a zip member's sibling in
    the same zip folder, :attr:`ArchiveTile.prj` or :attr:`NamedBytes.prj`, as a mosaic of
    the same source takes its CRS from."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fsdecode(source)
        found = _archive_member(path)
        if found is not None:
            member, member_prj = found
            return member, member.label, lambda: (member_prj, member.label)
        name = _display_name(path)
        _refuse_archive(path, name)
        return path, name, lambda: (read_prj(path), path)
    raw_source, name = _native_source(source)
    if isinstance(source, ArchiveTile):
        return raw_source, name, lambda: (source.prj, source.name)
    if isinstance(source, NamedBytes):
        return raw_source, name, lambda: (source.prj, None)
    return raw_source, name, lambda: (None, None)


STRIP_BYTES = 16 << 20
"""About how many bytes of cells :meth:`GridStrips.strips` hands out at a time by default."""


@dataclass(frozen=True)
class GridStrips:
    """One grid read strip by strip (from :func:`open_strips`): a large file's values are
    counted when it is opened, then each strip is parsed when it is asked for, so memory
    holds strips, not the grid, and a writer can take a strip while the next is parsed."""

    header: Header
    """The header, with the data type and nodata the cells are read with."""
    prj: str | None
    """The raw text of the ``.prj`` sidecar, if there is one."""
    path: str | None
    _rows: Any

    @functools.cached_property
    def crs_wkt(self) -> str | None:
        """The CRS as WKT, converted from :attr:`prj` (as :attr:`Grid.crs_wkt`)."""
        return esri_to_wkt(self.prj)

    def strips(
        self,
        rows: int | None = None,
        *,
        buffers: int = 0,
        progress: Progress | None = None,
    ) -> Iterator[tuple[int, npt.NDArray[Any]]]:
        """Yield ``(row_start, strip)`` north to south, ``rows`` rows at a time (by default
        about :data:`STRIP_BYTES` of cells, in whole 256-row blocks). ``buffers`` as in
        :func:`iter_mosaic_strips`. ``progress(rows_done, nrows)`` returning ``False``
        cancels (:class:`Cancelled`). A bad value is a :class:`ParseError` raised with the
        strip holding it."""
        nrows, ncols = self.header.shape
        dtype = self.header.dtype
        if rows is None:
            per_row = max(1, ncols * dtype.itemsize)
            rows = max(256, STRIP_BYTES // per_row // 256 * 256)
        if rows < 1 or buffers < 0:
            raise ValueError(f"rows must be 1 or more and buffers 0 or more, got {rows}, {buffers}")
        ring = [np.empty((min(rows, nrows), ncols), dtype) for _ in range(buffers)]
        for k, row_start in enumerate(range(0, nrows, rows)):
            count = min(rows, nrows - row_start)
            out = ring[k % len(ring)][:count] if ring else np.empty((count, ncols), dtype)
            polled = None
            if progress is not None:
                if progress(row_start, nrows) is False:
                    raise Cancelled()
                polled = functools.partial(_as_rows_progress, progress, row_start, nrows)
            yield row_start, self._rows.read_rows(row_start, count, out, polled)
        if progress is not None:
            progress(nrows, nrows)


def _as_rows_progress(progress: Progress, rows_done: int, nrows: int, *_: int) -> bool:
    """The engine's ``(done, total)`` poll during a strip, as rows done before it."""
    return progress(rows_done, nrows) is not False


def open_strips(
    source: Source,
    *,
    dtype: DTypeLike = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> GridStrips:
    """Open one grid to read it strip by strip (:meth:`GridStrips.strips`); the values are
    exactly :func:`read`'s, with its ``dtype`` and ``strict``. A large plain file's body is
    counted here (GDAL's data type rule looks at all of it), and parsed strip by strip
    later; anything else (a small or gzip file, bytes, a stream, a zip member, a file with
    text after the grid) is read whole here and handed out in strips."""
    raw_source, name, sidecar = _one_grid(source)
    rows = _native.GridRows(raw_source, name, _dtype_name(dtype), progress, strict)
    prj, path = sidecar()
    return GridStrips(header=Header._from_native(rows.header()), prj=prj, path=path, _rows=rows)


def read_header(source: Source) -> Header:
    """Read only the header (reads a few hundred bytes, whatever the file's size)."""
    raw_source, name = _native_source(source)
    _refuse_archive(raw_source, name)
    return Header._from_native(_native.read_header(raw_source, name))


@overload
def stats(
    sources: Source | Iterable[Source],
    *,
    dtype: DTypeLike = ...,
    histogram_bins: int | None = ...,
    histogram_range: tuple[float, float] | None = ...,
    per_source: Literal[False] = ...,
    progress: Progress | None = ...,
    pattern: Pattern = ...,
    strict: bool = ...,
) -> Stats: ...


@overload
def stats(
    sources: Source | Iterable[Source],
    *,
    dtype: DTypeLike = ...,
    histogram_bins: int | None = ...,
    histogram_range: tuple[float, float] | None = ...,
    per_source: Literal[True],
    progress: Progress | None = ...,
    pattern: Pattern = ...,
    strict: bool = ...,
) -> list[Stats]: ...


@overload
def stats(
    sources: Source | Iterable[Source],
    *,
    dtype: DTypeLike = ...,
    histogram_bins: int | None = ...,
    histogram_range: tuple[float, float] | None = ...,
    per_source: bool,
    progress: Progress | None = ...,
    pattern: Pattern = ...,
    strict: bool = ...,
) -> Stats | list[Stats]: ...


def stats(
    sources: Source | Iterable[Source],
    *,
    dtype: DTypeLike = None,
    histogram_bins: int | None = None,
    histogram_range: tuple[float, float] | None = None,
    per_source: bool = False,
    progress: Progress | None = None,
    pattern: Pattern = DEFAULT_PATTERN,
    strict: bool = False,
) -> Stats | list[Stats]:
    """Streaming statistics of one grid or of all cells of many grids together.

    Values are taken in the grid's data type (so a Float32 grid's statistics equal those of
    the GeoTIFF QGIS would make of it). With ``per_source=True`` a list is returned: one
    :class:`Stats` per source, then the combined one last (a zip archive counts as the tiles
    it holds that match ``pattern``, each with its own :class:`Stats`; see :data:`Source`).
    A grid with trailing content gets one warning naming it (``strict`` as in :func:`read`).
    """
    if histogram_bins is not None:
        if histogram_bins < 1:
            raise ValueError(f"histogram_bins must be at least 1, got {histogram_bins}")
        # The engine refuses more than its maximum with a ValueError; beyond int64 the
        # conversion alone would raise OverflowError.
        histogram_bins = min(histogram_bins, 2**63 - 1)
    tiles = _native_sources(sources, pattern)
    names = tiles.names
    per, total = _native.stats(
        tiles.raw, names, _dtype_name(dtype), histogram_bins, histogram_range, progress, strict
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
    pattern: Pattern = DEFAULT_PATTERN,
    strict: bool = False,
) -> MosaicLayout:
    """Plan a mosaic from the tiles' headers only: union extent, offsets, strips.

    Tiles must share CRS, cell size and alignment, else :class:`MosaicError` names the tile
    (and, for a CRS, the tile whose CRS it differs from). The CRS is each path's ``.prj``, or
    :attr:`NamedBytes.prj`; a tile without one takes the others' CRS. A header that promises
    more values than its file can hold is refused here, before any cells are read. With
    ``skip_errors=True`` such tiles are listed in ``skipped`` instead (and if none is left,
    the error lists every tile and why).

    The data type is ``dtype``, else the widest of the tiles' types (float64 rather than
    float32 when an integer tile holds values beyond 2^24, which float32 would round). The
    nodata value is ``nodata``, else the first tile's, else -9999; each tile's own nodata
    cells become it, and a tile holding it as data is refused when its cells are read (a
    :class:`MosaicError` naming the tile; pass a ``nodata`` no tile holds). Tiles that all
    share one nodata value (the usual case) cannot collide and cost nothing extra.

    A zip archive counts as the tiles it holds that match ``pattern`` (see :data:`Source`);
    its members are named ``archive.zip/inner.zip/TILE.asc`` in ``tiles``, ``skipped`` and
    errors, and each takes its CRS from its ``.prj`` sibling.

    ``strict`` is as in :func:`read`, for every tile read through this layout; a tile with
    trailing content gets one warning naming it.
    """
    return _plan(sources, dtype, nodata, skip_errors, pattern, strict).layout


def mosaic(
    sources: Iterable[Source],
    *,
    dtype: DTypeLike = None,
    nodata: float | None = None,
    progress: Progress | None = None,
    pattern: Pattern = DEFAULT_PATTERN,
    strict: bool = False,
) -> Grid:
    """Read many aligned tiles into one grid (gaps are nodata; later tiles win overlaps).

    The rules (CRS, data type, nodata, zip archives and ``pattern``) are those of
    :func:`mosaic_layout` (``strict`` too); the grid's :attr:`Grid.prj` is the tiles' common
    ``.prj`` text, so :attr:`Grid.crs_wkt` is their CRS. ``asciigrid.mosaic("delivery.zip")``
    reads every ``*.asc`` tile of a delivery of zips in a zip.
    """
    return _read_plan(_plan(sources, dtype, nodata, False, pattern, strict), progress)


def _read_plan(plan: _Plan, progress: Progress | None = None) -> Grid:
    _native.release_free_memory()  # see iter_mosaic_strips
    data = plan.native.read_rows(0, plan.layout.header.nrows, False, progress)[0]
    return Grid(data=data, header=plan.layout.header, prj=plan.layout.prj)


def _mosaic_part(
    tiles: Sequence[tuple[str, int, int, int, int]],
    geotransform: tuple[float, float, float, float, float, float],
    dtype: str,
    nodata: float | int,
    nodata_origin: str,
) -> tuple[npt.NDArray[Any], int, int]:
    """The cells of the union of some tiles of a mosaic planned whole (a chunk of
    :func:`asciigrid.open_mosaic`, on a dask worker), and the mosaic row and column they
    start at: ``tiles`` are their :attr:`MosaicLayout.tiles` entries, and the other
    arguments the whole mosaic's (its ``nodata_origin`` words the nodata value's origin in
    messages). Each tile is read where that plan put it, so none is opened twice and no
    ``.prj`` again; a tile that changed since is a :class:`MosaicError` naming it."""
    found = _native_sources([t[0] for t in tiles])
    native = _native.MosaicPlan.placed(
        found.raw,
        found.names,
        [t[1:] for t in tiles],
        geotransform,
        dtype,
        nodata,
        nodata_origin,
    )
    row0, col0 = min(t[1] for t in tiles), min(t[2] for t in tiles)
    nrows = max(t[1] + t[3] for t in tiles) - row0
    data: npt.NDArray[Any] = native.read_rows(0, nrows)[0]
    return data, row0, col0


def iter_mosaic_strips(
    sources: Iterable[Source] | MosaicLayout,
    *,
    dtype: DTypeLike = None,
    nodata: float | None = None,
    skip_errors: bool = False,
    progress: Progress | None = None,
    pattern: Pattern = DEFAULT_PATTERN,
    strict: bool = False,
    buffers: int = 0,
) -> Iterator[tuple[int, npt.NDArray[Any], list[tuple[str, Exception]]]]:
    """Yield ``(row_start, strip, failed)`` strip by strip, north to south.

    Peak memory is one strip, not the mosaic. ``failed`` lists tiles of that strip whose body
    was bad (only with ``skip_errors=True``; otherwise the error is raised). Given the
    :class:`MosaicLayout` of :func:`mosaic_layout`, its plan is reused (``dtype``,
    ``nodata`` and ``strict`` were fixed when it was made). Progress covers one strip at a time. Zip
    archives and ``pattern`` are as in :func:`mosaic_layout`; a strip's members are
    decompressed, in parallel, only when it is read.

    By default every strip is a new array. With ``buffers=n`` the strips are read into ``n``
    arrays taken in turn, so a strip is overwritten ``n`` strips later: for a consumer done
    with each strip by the time it asks for the next-but-``n - 1`` (a
    :class:`asciigrid.geotiff.GeoTiffWriter` needs ``buffers=2``), this spares the system
    handing out, and clearing, fresh memory for every strip.
    """
    if buffers < 0:
        raise ValueError(f"buffers must be 0 (a new array per strip) or more, got {buffers}")
    if isinstance(sources, MosaicLayout):
        plan = _Plan(sources._native_plan, sources)
    else:
        plan = _plan(sources, dtype, nodata, skip_errors, pattern, strict)
    bands = plan.layout.bands
    # What planning freed (every tile's name, .prj text and first KiB of text: 2-4 KiB a
    # tile) goes back to the system before the strips take memory; glibc would otherwise keep
    # it, unused, through the whole read.
    _native.release_free_memory()
    ring: list[npt.NDArray[Any]] = []
    if buffers and bands:
        shape = (max(rows for _, rows in bands), plan.layout.header.ncols)
        ring = [np.empty(shape, plan.layout.header.dtype) for _ in range(buffers)]
    for k, (row_start, row_count) in enumerate(bands):
        out = ring[k % len(ring)][:row_count] if ring else None
        data, failed = plan.native.read_rows(row_start, row_count, skip_errors, progress, out)
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
    (or with ``precision`` decimals). A ``.prj`` is written beside it when ``crs_wkt`` is
    given; without it an old ``.prj`` of the grid is removed. The grid and its ``.prj``
    are replaced together or not at all, and a replaced grid keeps its permissions. Masked
    cells of a masked array are written as ``nodata``. Raises ``ValueError`` for anything
    that would not read back as given (±inf float32 cells, an int32 grid with a fractional
    nodata, ...).
    """
    target = os.fspath(path)
    if not target:
        raise ValueError("the output path is empty; give the name of the grid file to write")
    mask = np.ma.getmaskarray(data) if isinstance(data, np.ma.MaskedArray) else None
    array = np.ascontiguousarray(np.ma.getdata(data))
    if array.ndim != 2:
        raise ValueError(f"data must be 2-D, got shape {array.shape}")
    if not array.dtype.isnative:
        # The engine takes the machine's byte order; the values are the same.
        array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))
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
    if mask is not None and mask.any():
        array = _fill_masked(array, mask, nodata)
    x0, dx, rx, y0, ry, ndy = (float(v) for v in geotransform)
    if rx != 0 or ry != 0 or ndy >= 0:
        raise ValueError("only north-up geotransforms (0 rotation, negative dy) can be written")
    with atomic_files() as files:
        stage_prj(files, target, crs_wkt)
        # Added last: the grid's rename is the commit point.
        temp = _native.write(target, array, x0, y0, dx, -ndy, nodata, precision, stage=True)
        files.adopt(temp, target)


def _fill_masked(array: np.ndarray, mask: np.ndarray, nodata: float | None) -> np.ndarray:
    """``array`` with its masked cells set to ``nodata``, refusing what would not read back
    with the same mask."""
    if nodata is None:
        raise ValueError(
            "the masked array has masked cells, which are written as the nodata value: "
            "pass nodata=..."
        )
    if array.dtype.kind == "i":
        info = np.iinfo(array.dtype)
        fits = float(nodata).is_integer() and info.min <= nodata <= info.max
    else:
        with np.errstate(over="ignore"):
            fits = not (np.isinf(array.dtype.type(nodata)) and not np.isinf(nodata))
    if not fits:
        raise ValueError(
            f"nodata {nodata!r} cannot be stored in {array.dtype} cells, so the masked cells "
            "cannot be written as nodata; choose a nodata value the array's type holds"
        )
    fill = array.dtype.type(nodata)
    clash = np.argwhere(~mask & (array == fill))
    if clash.size:
        r, c = clash[0]
        raise ValueError(
            f"cell (row {r}, column {c}) is not masked but holds the nodata value {nodata!r}: "
            "it would read back as nodata; choose a nodata value no valid cell holds"
        )
    filled = array.copy()
    filled[mask] = fill
    return filled


class _Plan(NamedTuple):
    native: Any
    layout: MosaicLayout


def _plan(
    sources: Iterable[Source],
    dtype: DTypeLike,
    nodata: float | None,
    skip_errors: bool,
    pattern: Pattern = DEFAULT_PATTERN,
    strict: bool = False,
    check_crs: bool = True,
) -> _Plan:
    tiles = _native_sources(sources, pattern, prj=check_crs)
    keys, prjs = _crs_keys(tiles.prjs)
    native = _native.MosaicPlan(
        tiles.raw, tiles.names, _dtype_name(dtype), nodata, skip_errors, keys, strict
    )
    del tiles  # every tile's name, .prj and first KiB: the plan keeps what it needs
    raw = native.layout()
    prj = None if raw["crs"] is None else prjs[raw["crs"]]
    layout = MosaicLayout(
        header=Header._from_native(raw["header"]),
        tiles=[tuple(t) for t in raw["tiles"]],  # type: ignore[misc]
        skipped=list(raw["skipped"]),
        bands=[tuple(b) for b in raw["bands"]],  # type: ignore[misc]
        prj=prj,
        _native_plan=native,
        _nodata_origin=raw["nodata_origin"],
    )
    return _Plan(native, layout)


def _tile_prj(source: Source) -> str | None:
    """The raw ``.prj`` text of a mosaic tile: its sidecar, or what :class:`NamedBytes` or
    :class:`ArchiveTile` carries; ``None`` for bytes and file objects (their CRS is unknown)."""
    if isinstance(source, (NamedBytes, ArchiveTile)):
        return source.prj
    if isinstance(source, (str, os.PathLike)):
        return read_prj(source)
    return None


def _crs_keys(prjs: list[str | None]) -> tuple[list[int | None], list[str]]:
    """A key per tile (equal keys: the same CRS; ``None``: no ``.prj``, or a blank one) and
    the ``.prj`` text of each key. Identical texts (a tile set shares one) are matched by
    text alone; a new text is compared with each key's text by :func:`_same_crs`."""
    keys: list[int | None] = []
    texts: list[str] = []
    by_text: dict[str, int] = {}
    for prj in prjs:
        if prj is None or not prj.strip():
            keys.append(None)
            continue
        key = by_text.get(prj)
        if key is None:
            key = next((k for k, t in enumerate(texts) if _same_crs(prj, t)), None)
            if key is None:
                key = len(texts)
                texts.append(prj)
            by_text[prj] = key
        keys.append(key)
    return keys, texts


def _same_crs(a: str, b: str) -> bool:
    """Whether two ``.prj`` texts describe one CRS: GDAL's ``IsSame`` when osgeo is at hand
    (ESRI and OGC WKT of one CRS match), else equal WKT text (ignoring whitespace). A text
    that cannot be understood matches only itself."""
    wkt_a, wkt_b = esri_to_wkt(a), esri_to_wkt(b)
    if wkt_a is None or wkt_b is None:
        return " ".join(a.split()) == " ".join(b.split())
    try:
        from osgeo import osr
    except ImportError:
        return " ".join(wkt_a.split()) == " ".join(wkt_b.split())
    srs_a, srs_b = osr.SpatialReference(), osr.SpatialReference()
    if srs_a.ImportFromWkt(wkt_a) != 0 or srs_b.ImportFromWkt(wkt_b) != 0:
        return wkt_a == wkt_b
    return bool(srs_a.IsSame(srs_b))
