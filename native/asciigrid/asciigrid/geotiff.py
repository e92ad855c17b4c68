"""Streaming GeoTIFF output through GDAL: the one writer the QGIS plugin, the command line
and dask writes share.

>>> from asciigrid import geotiff
>>> geotiff.write_geotiff("dem.tif", asciigrid.read("dem.asc"))      # doctest: +SKIP

A grid (or a mosaic, strip by strip) becomes a tiled, compressed GeoTIFF with internal
overviews and band statistics in one pass:

* strips are compressed and written by a writer thread while the caller parses the next
  one (at most two strips are held; GDAL and the engine both release the GIL);
* blocks that are entirely nodata are not written (``SPARSE_OK``); they read back as nodata,
  and are never even handed to GDAL;
* overviews are averaged from each strip as it passes (nodata-aware, exactly GDAL's
  ``AVERAGE``: cascading level by level, area-weighted at odd edges) and written into the
  file's own overview levels, and the band statistics come from the same pass, so nothing
  reads the output back. The engine does the per-cell work (statistics, empty blocks, and
  the 2 x 2 averages of every level that halves both axes), in parallel without the GIL;
  numpy only the last, small levels;
* the file is written to a hidden temporary file beside the target and renamed into place
  only when complete (``asciigrid._atomic``); an error or a cancel leaves nothing behind;
* ``cog=True`` turns the finished file into a Cloud Optimized GeoTIFF (GDAL's COG driver
  reusing the overviews already computed).

GDAL (``osgeo.gdal``, as in QGIS) is imported only when a file is written: ``asciigrid``
itself never needs it.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np
import numpy.typing as npt

from asciigrid import _native
from asciigrid._atomic import GDAL_SIDECARS, AtomicFiles
from asciigrid.errors import Cancelled, GeoTiffError

if TYPE_CHECKING:
    from asciigrid._api import Grid, GridStrips

__all__ = [
    "BLOCK_SIZE",
    "CODECS",
    "DEFAULT_CODEC",
    "GeoTiffError",
    "GeoTiffProgress",
    "GeoTiffSource",
    "GeoTiffWriter",
    "Statistics",
    "creation_options",
    "overview_factors",
    "write_geotiff",
]

GeoTiffProgress = Callable[[float], Optional[bool]]
"""``progress(fraction_done)``, 0 to 1 over the whole job (data, overviews, statistics and
the COG copy), never backwards; called from the calling thread. Return ``False`` to cancel:
the writer then raises :class:`asciigrid.Cancelled` and leaves no file behind."""

BLOCK_SIZE = 256
"""Tile width and height. 512 x 512 tiles compress no better (0.5% smaller, the same CPU
time, on the 4000 x 4000 float grid below) and make each overview level's last block row,
and QGIS's reads at small scales, four times larger."""

CODECS: dict[str, tuple[str, ...]] = {
    "ZSTD": ("COMPRESS=ZSTD", "ZSTD_LEVEL=1"),
    "ZSTD+PREDICTOR": ("COMPRESS=ZSTD", "ZSTD_LEVEL=1", "PREDICTOR=YES"),
    "DEFLATE": ("COMPRESS=DEFLATE", "ZLEVEL=1"),
    "DEFLATE+PREDICTOR": ("COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=YES"),
    "LZW": ("COMPRESS=LZW",),
    "NONE": ("COMPRESS=NONE",),
}
"""GeoTIFF compressions by name. ``PREDICTOR=YES`` becomes 2 (horizontal differencing) for
integer grids, 3 (floating point) for float64 grids, and for float32 grids whichever of the
two compresses the file's first blocks holding data smaller (see :data:`DEFAULT_CODEC`)."""

DEFAULT_CODEC = "ZSTD+PREDICTOR"
"""ZSTD level 1 with a predictor: the fastest codec that keeps the file compact.

Compression CPU time (one thread) and file size, measured with GDAL 3.6 on this project's
2-core machine (``scripts/bench_geotiff.py`` and ``scripts/corpus.py``):

=====================  ================  ================  ================
codec (level 1)        4000 x 4000 f32   2000 x 10800 i32  same, / 10, f32
=====================  ================  ================  ================
ZSTD                   0.16 s, 48.6 MB   0.33 s, 56.7 MB   0.34 s, 61.4 MB
ZSTD + predictor       0.30 s, 38.1 MB   0.42 s, 43.1 MB   0.42 s, 52.4 MB
DEFLATE                0.50 s, 37.0 MB   0.70 s, 54.4 MB   0.71 s, 56.8 MB
DEFLATE + predictor    0.51 s, 38.0 MB   0.67 s, 42.7 MB   0.73 s, 50.6 MB
=====================  ================  ================  ================

ZSTD alone is fastest but its files are 15-30% larger than the others'; with the predictor
ZSTD is as compact as DEFLATE with a predictor (within 3%) in 40-60% of its CPU time.

Which predictor suits a float32 grid depends on its values. Heights stored with few
decimals (an elevation product's ``123.4``) differ from their neighbours by a few thousand
units in the last place, which horizontal differencing of the 32-bit patterns (2) turns
into small numbers; noisy full-precision values compress better byte-shuffled (3). On the
OS Terrain 50 style delivery (one decimal) predictor 2 made the GeoTIFF 21% smaller (117
against 149 MB) and the whole write 11% faster; on the noisy 4000 x 4000 grid above,
predictor 3 is 13% smaller. So the writer compresses up to four of the first blocks that
hold data both ways, in memory (a few milliseconds), and creates the file with the
smaller; float64 keeps 3, because older libtiff builds refuse horizontal differencing of
64-bit samples.

Every QGIS >= 3.22 reads it: GDAL reads ZSTD-compressed GeoTIFFs since 2.3 when built with
libzstd, which the QGIS builds are (OSGeo4W, the macOS installers, Flatpak, and
Debian/Ubuntu's GDAL, e.g. Debian 12's GDAL 3.6), and both predictors are libtiff's (2 is
baseline TIFF, 3 GDAL's since 2.0)."""

_TYPES = ("int32", "float32", "float64")
_FEED_ROWS = 4 * BLOCK_SIZE
"""Rows per strip when an array in memory is written (4 block rows: a few MB per strip)."""
_POLL = 0.05
"""Seconds between progress calls while the caller waits for the writer thread: a cancel
is seen within this (plus one block row being compressed), far below half a second."""
_STREAM_SHARE_COG = 0.5
"""Share of the bar for the streamed file when ``cog=True`` (the COG copy takes the rest:
it recompresses every block, about what the streamed write costs)."""


@dataclass(frozen=True)
class Statistics:
    """Band statistics of the written grid (nodata and NaN cells excluded), as GDAL's
    ``ComputeStatistics`` gives them (``std`` is the population standard deviation)."""

    count: int
    """Valid cells."""
    minimum: float
    maximum: float
    mean: float
    std: float


def overview_factors(nrows: int, ncols: int, smallest: int = BLOCK_SIZE) -> list[int]:
    """The overview factors (2, 4, 8, ...) written: halving until the larger side of the
    smallest overview is at most ``smallest`` cells (what ``gdaladdo`` picks by default)."""
    factors: list[int] = []
    factor = 2
    while math.ceil(max(nrows, ncols) / (factor // 2)) > smallest:
        factors.append(factor)
        factor *= 2
    return factors


def _gdal() -> Any:
    try:
        from osgeo import gdal
    except ImportError as err:
        raise ImportError(
            "asciigrid.geotiff needs GDAL's Python bindings (osgeo.gdal): install QGIS, or "
            "'python3-gdal' (Debian/Ubuntu), or 'conda install gdal'"
        ) from err
    return gdal


def _creation_options(codec: str, dtype: np.dtype[Any]) -> list[str]:
    try:
        options = CODECS[codec.upper()]
    except KeyError:
        raise ValueError(f"unknown codec {codec!r}; use one of {', '.join(CODECS)}") from None
    predictor = "3" if dtype.kind == "f" else "2"
    return [o.replace("PREDICTOR=YES", f"PREDICTOR={predictor}") for o in options]


def creation_options(dtype: npt.DTypeLike, codec: str = DEFAULT_CODEC) -> list[str]:
    """The GTiff creation options this module writes with (``gdal_translate -co`` takes the
    same): 256 x 256 tiles, sparse, compressed on every core with ``codec``. For float32 cells
    the predictor shown is 3; the writer picks 2 instead when the file's data compresses
    smaller with it (see :data:`DEFAULT_CODEC`)."""
    return _layout_options(_creation_options(codec, np.dtype(dtype)))


def _layout_options(codec_options: Sequence[str]) -> list[str]:
    return [
        "TILED=YES",
        f"BLOCKXSIZE={BLOCK_SIZE}",
        f"BLOCKYSIZE={BLOCK_SIZE}",
        "SPARSE_OK=TRUE",
        "NUM_THREADS=ALL_CPUS",
        "BIGTIFF=IF_SAFER",
        *codec_options,
    ]


def _not_nodata(values: npt.NDArray[Any], nodata: float | None) -> npt.NDArray[np.bool_] | None:
    """Cells GDAL's ``AVERAGE`` overviews use (``None``: all). A NaN that is not the nodata
    value is averaged like any value (the overview cell becomes NaN), as GDAL does."""
    if nodata is None:
        return None
    if math.isnan(nodata):
        valid = ~np.isnan(values) if values.dtype.kind == "f" else None
    else:
        valid = values != nodata
    return None if valid is None or valid.all() else valid


def _statistics(summary: dict[str, Any]) -> Statistics | None:
    """The band statistics of an engine summary (``None`` when no cell is valid, or when
    infinite cells leave no meaningful mean: the band is then left without statistics)."""
    if summary["count"] == 0:
        return None
    stats = Statistics(
        int(summary["count"]),
        float(summary["min"]),
        float(summary["max"]),
        float(summary["mean"]),
        float(summary["std"]),
    )
    return stats if all(map(math.isfinite, (stats.mean, stats.std))) else None


class _Axis:
    """GDAL's ``AVERAGE`` weights along one axis, ``size`` source cells to ``out`` cells:
    each output cell covers ``size / out`` source cells, whole cells with weight 1 and the
    cells cut at its edges with the part they overlap (so an odd size, 5 -> 3, weighs the
    middle cell's neighbours by 1/3, as ``GDALResampleChunk_AverageOrRMS`` does)."""

    def __init__(self, size: int, out: int, *, whole_pairs: bool = False) -> None:
        ratio = size / out
        lo = np.arange(out) * ratio
        hi = (np.arange(out) + 1) * ratio
        start = (lo + 1e-8).astype(np.int64)
        end = np.ceil(hi - 1e-8).astype(np.int64)
        end = np.minimum(np.maximum(end, start + 1), size)
        span = int((end - start).max())
        cells = start[:, None] + np.arange(span)[None, :]
        overlap = np.minimum(cells + 1, hi[:, None]) - np.maximum(cells, lo[:, None])
        inside = cells < end[:, None]
        self.weights = np.where(inside, np.clip(overlap, 0.0, 1.0), 0.0)
        if whole_pairs:  # see _Level: windows of two cells are plain pairs
            pairs = end - start == 2
            self.weights[pairs] = inside[pairs]
        # unused slots point at the first cell: always there when the window is complete
        self.index = np.where(inside, cells, start[:, None])
        self.start = start
        self.end = end
        self.halving = size == 2 * out  # every output cell is exactly two whole cells


class _Level:
    """One overview level: averages the rows of the level above as they arrive and writes
    its own rows in whole block rows."""

    def __init__(
        self, band: Any, above: tuple[int, int], dtype: np.dtype[Any], nodata: float | None
    ) -> None:
        self.band = band
        self.rows = _BlockRows(band.YSize)
        self.x = _Axis(above[1], band.XSize)
        # GDAL's AVERAGE (GDALResampleChunk_AverageOrRMS) takes a fast path, a plain mean of
        # 2 x 2 cells, where the columns halve exactly, the output row's window spans two
        # source rows and there is no nodata value: with an odd number of rows that is the
        # first and the last row, whose second cell is otherwise weighed by its overlap.
        self.y = _Axis(above[0], band.YSize, whole_pairs=self.x.halving and nodata is None)
        self.dtype = dtype
        self.nodata = nodata
        self.sums: npt.NDArray[np.float64] = np.empty((0, band.XSize))
        self.weights: npt.NDArray[Any] = np.empty((0, band.XSize), np.uint8)
        self.first = 0
        """Row of the level above that ``sums[0]`` holds."""
        self.done = 0
        """Rows of this level computed."""
        self.halves = self.x.halving and self.y.halving
        """Both axes halve exactly (every level but the last small ones): the engine averages
        each 2 x 2 cells, from the rows themselves."""
        self.odd_row: npt.NDArray[Any] = np.empty((0, above[1]), dtype)
        """With :attr:`halves`, a row of the level above waiting for its pair."""

    def add(self, rows: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Take the next rows of the level above; return (and write) the rows of this level
        they complete."""
        if self.halves:
            out = self._halve(rows)
            self._write(out)
            return out
        sums, counts = self._across(rows, _not_nodata(rows, self.nodata))
        if self.y.halving:
            total, weight = self._halve_down(sums, counts)
        else:
            total, weight = self._weigh_down(sums, counts)
        out = self._cast(total, weight)
        self._write(out)
        return out

    def _write(self, out: npt.NDArray[Any]) -> None:
        for row, cells in self.rows.add(out):
            _write_block_row(self.band, row, cells)

    def _halve(self, rows: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if len(self.odd_row):
            rows = np.concatenate([self.odd_row, rows])
        even = len(rows) - len(rows) % 2
        self.odd_row = rows[even:].copy()  # the rows' buffer may be reused
        pairs = np.ascontiguousarray(rows[:even])
        return _native.average_2x2(pairs, self.nodata)

    def _across(
        self, rows: npt.NDArray[Any], valid: npt.NDArray[np.bool_] | None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[Any]]:
        """Each row reduced to this level's columns: weighted sums and weights of the valid
        cells (sums in float64, exact for any int32 and as GDAL's for floats)."""
        values = rows if valid is None else np.where(valid, rows, 0)
        ones = np.ones(rows.shape, np.uint8) if valid is None else valid.view(np.uint8)
        if self.x.halving:  # strided adds, no gathers: the common case, kept fast
            sums = np.add(values[:, 0::2], values[:, 1::2], dtype=np.float64)
            counts = np.add(ones[:, 0::2], ones[:, 1::2], dtype=np.uint8)
            return sums, counts
        sums = np.zeros((len(rows), self.x.weights.shape[0]))
        weights = np.zeros_like(sums)
        for k in range(self.x.weights.shape[1]):
            w = self.x.weights[:, k]
            used = w > 0  # a cell outside the window adds nothing, not even its NaN
            sums += np.where(used, values[:, self.x.index[:, k]] * w, 0.0)
            weights += ones[:, self.x.index[:, k]] * w
        return sums, weights

    def _halve_down(
        self, sums: npt.NDArray[np.float64], counts: npt.NDArray[Any]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[Any]]:
        """Rows added in pairs (an odd row waits for the next strip)."""
        if len(self.sums):
            sums = np.concatenate([self.sums, sums])
            counts = np.concatenate([self.weights, counts])
        even = len(sums) - len(sums) % 2
        self.sums, self.weights = sums[even:], counts[even:]
        return (
            np.add(sums[0:even:2], sums[1:even:2]),
            np.add(counts[0:even:2], counts[1:even:2], dtype=counts.dtype),
        )

    def _weigh_down(
        self, sums: npt.NDArray[np.float64], counts: npt.NDArray[Any]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Rows combined with :class:`_Axis` weights, once every row they need is here."""
        self.sums = np.concatenate([self.sums, sums])
        self.weights = np.concatenate([self.weights, counts])
        received = self.first + len(self.sums)
        stop = int(np.searchsorted(self.y.end, received, side="right"))
        span = slice(self.done, stop)
        total = np.zeros((max(0, stop - self.done), self.sums.shape[1]))
        weight = np.zeros_like(total)
        for k in range(self.y.weights.shape[1]):
            w = self.y.weights[span, k][:, None]
            at = self.y.index[span, k] - self.first
            total += np.where(w > 0, self.sums[at] * w, 0.0)
            weight += self.weights[at] * w
        self.done = max(self.done, stop)
        keep = int(self.y.start[stop]) - self.first if stop < len(self.y.start) else len(self.sums)
        self.sums, self.weights = self.sums[keep:], self.weights[keep:]
        self.first += keep
        return total, weight

    def _cast(self, total: npt.NDArray[np.float64], weight: npt.NDArray[Any]) -> npt.NDArray[Any]:
        # The engine's rule for every level: GDAL's conversion of a mean to a cell.
        return _native.cells_from_sums(
            np.ascontiguousarray(total, np.float64),
            np.ascontiguousarray(weight, np.float64),
            self.dtype.name,
            self.nodata,
        )


class _BlockRows:
    """Cuts rows arriving in any number into whole rows of blocks (the last may be short),
    so that each block is written, and compressed, exactly once."""

    def __init__(self, nrows: int) -> None:
        self.nrows = nrows
        self.held: npt.NDArray[Any] | None = None
        """Rows of a block row begun by an earlier call, copied (holding a view would keep
        the caller's whole strip alive)."""
        self.held_rows = 0
        self.done = 0
        """Rows handed out in block rows."""

    def add(self, rows: npt.NDArray[Any]) -> Iterator[tuple[int, npt.NDArray[Any]]]:
        """The block rows ``(first row, cells)`` that ``rows`` complete, each valid until the
        next is asked for: views of ``rows`` where a block row lies within them, else the
        rows held from before completed."""
        while len(rows):
            size = min(BLOCK_SIZE, self.nrows - self.done)
            if self.held_rows == 0 and len(rows) >= size:
                block_row, rows = rows[:size], rows[size:]
            else:
                if self.held is None or self.held.shape[1:] != rows.shape[1:]:
                    self.held = np.empty((BLOCK_SIZE, rows.shape[1]), rows.dtype)
                take = min(size - self.held_rows, len(rows))
                self.held[self.held_rows : self.held_rows + take] = rows[:take]
                self.held_rows += take
                rows = rows[take:]
                if self.held_rows < size:
                    return
                block_row, self.held_rows = self.held[:size], 0
            yield self.done, block_row
            self.done += size


_FLUSH_BLOCKS = 8
"""Blocks handed to GDAL between two flushes of its cache: GDAL copies each block it
compresses, so memory would otherwise grow with the raster's width and the share of its
blocks that hold data (8: 5-8 percent less peak memory on the delivery, no slower)."""


def _write_block_row(
    band: Any, row: int, cells: npt.NDArray[Any], has_data: Sequence[bool] | None = None
) -> None:
    """Write a block row starting at ``row``: only its blocks that hold data (``has_data``
    per block; ``None``: all), as runs of neighbours; the others stay sparse and read back
    as nodata, without a copy into GDAL's cache or a scan. Each run of at most
    :data:`_FLUSH_BLOCKS` blocks is flushed out of the cache once written, so memory stays
    at a few blocks whatever the raster's size."""
    ncols = cells.shape[1]
    runs = [(0, ncols)] if has_data is None else _runs(has_data, ncols)
    for start, stop in runs:
        for first in range(start, stop, _FLUSH_BLOCKS * BLOCK_SIZE):
            last = min(stop, first + _FLUSH_BLOCKS * BLOCK_SIZE)
            _check(band.WriteArray(cells[:, first:last], first, row))
            band.FlushCache()


def _runs(has_data: Sequence[bool], ncols: int) -> list[tuple[int, int]]:
    """The column spans ``(start, stop)`` of consecutive blocks that hold data."""
    runs: list[tuple[int, int]] = []
    for i, has in enumerate(has_data):
        if not has:
            continue
        start, stop = i * BLOCK_SIZE, min((i + 1) * BLOCK_SIZE, ncols)
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], stop)
        else:
            runs.append((start, stop))
    return runs


_SAMPLE_BLOCKS = 4
"""Blocks compressed both ways to choose a float32 file's predictor."""


def _with_predictor(options: Sequence[str], predictor: str) -> list[str]:
    """``options`` with their ``PREDICTOR`` set to ``predictor``."""
    return [f"PREDICTOR={predictor}" if o.startswith("PREDICTOR=") else o for o in options]


def _smaller_predictor(
    cells: npt.NDArray[Any], has_data: Sequence[bool], codec_options: Sequence[str]
) -> str:
    """``"2"`` or ``"3"``: the predictor that compresses the first blocks of ``cells`` that
    hold data smaller (``"2"``, the faster, on a tie), each tried in GDAL's own writer in
    memory (a few milliseconds)."""
    gdal = _gdal()
    blocks = [
        cells[:, i * BLOCK_SIZE : (i + 1) * BLOCK_SIZE] for i, has in enumerate(has_data) if has
    ]
    sample = np.ascontiguousarray(np.concatenate(blocks[:_SAMPLE_BLOCKS], axis=1))
    sizes: dict[str, int] = {}
    for predictor in ("2", "3"):
        name = f"/vsimem/asciigrid_predictor_{threading.get_ident()}_{predictor}.tif"
        options = _with_predictor(_layout_options(codec_options), predictor)
        ds = gdal.GetDriverByName("GTiff").Create(
            name, sample.shape[1], sample.shape[0], 1, gdal.GDT_Float32, options
        )
        if ds is None:
            _check(1)
        try:
            _check(ds.GetRasterBand(1).WriteArray(sample))
        finally:
            ds = None
        sizes[predictor] = gdal.VSIStatL(name).size
        gdal.Unlink(name)
    return "2" if sizes["2"] <= sizes["3"] else "3"


def _check(status: Any) -> None:
    """Raise what GDAL reported (with or without ``gdal.UseExceptions()``)."""
    gdal = _gdal()
    if (isinstance(status, int) and status != 0) or gdal.GetLastErrorType() >= gdal.CE_Failure:
        message = gdal.GetLastErrorMsg() or f"error code {status}"
        gdal.ErrorReset()
        raise RuntimeError(message)


class GeoTiffWriter:
    """A GeoTIFF being written strip by strip, north to south.

    ::

        with GeoTiffWriter("mosaic.tif", shape=(nrows, ncols), dtype="float32",
                           geotransform=gt, nodata=-9999.0) as tif:
            for row_start, strip, _ in asciigrid.iter_mosaic_strips(layout, buffers=2):
                tif.write(row_start, strip)
        # complete and in place here; an exception in the block leaves nothing behind

    :meth:`write` hands a strip to the writer thread and returns at once unless the thread
    is still busy with the previous strip (so at most two strips are held, and a strip's
    array may be reused once the next strip has been written: ``buffers=2`` above). :meth:`close`
    finishes the file and renames it over ``path``; :meth:`abort` (or an exception in a
    ``with`` block) removes it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        shape: tuple[int, int],
        dtype: npt.DTypeLike,
        geotransform: Sequence[float],
        nodata: float | None = None,
        crs_wkt: str | None = None,
        codec: str = DEFAULT_CODEC,
        overviews: bool = True,
        cog: bool = False,
        progress: GeoTiffProgress | None = None,
    ) -> None:
        _gdal()  # without GDAL, fail here rather than in the writer thread
        self.path = os.fspath(path)
        self.dtype = np.dtype(dtype)
        if self.dtype.name not in _TYPES:
            raise ValueError(
                f"{self.path}: cannot write {self.dtype.name} cells; convert to one of "
                f"{', '.join(_TYPES)}"
            )
        self.nrows, self.ncols = (int(n) for n in shape)
        if self.nrows <= 0 or self.ncols <= 0:
            raise ValueError(f"{self.path}: a GeoTIFF needs at least one row and one column")
        self.nodata = None if nodata is None else float(nodata)
        self._geotransform = [float(v) for v in geotransform]
        if len(self._geotransform) != 6:
            raise ValueError(f"{self.path}: a geotransform has 6 numbers, got {geotransform!r}")
        self._crs_wkt = crs_wkt
        self.cog = cog
        self.codec_options = _creation_options(codec, self.dtype)
        self._progress = progress
        self._shown = 0.0
        self._share = _STREAM_SHARE_COG if cog else 1.0
        self._statistics: Statistics | None = None
        self._band_statistics = _native.BandStatistics()
        self._next_row = 0
        self._rows_done = 0
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[int, npt.NDArray[Any]] | None] = queue.Queue(maxsize=1)
        self._taken = threading.Event()
        """Set by the writer thread each time it takes an item."""
        self._closed = False
        # The file itself (or, for a COG, the finished COG) replaces the target together
        # with its sidecars (an older target's removed); the streamed file of a COG is
        # scratch, always removed.
        self._files = AtomicFiles()
        self._scratch = AtomicFiles()
        try:
            files = self._scratch if cog else self._files
            fd, self._tmp = files.new_temp(self.path, sidecars=GDAL_SIDECARS)
            os.close(fd)
            self._ds: Any = None
            self._band: Any = None
            self._levels: list[_Level] = []
            self._overviews = overviews
            self._base = _BlockRows(self.nrows)
            self._empty_rows = 0
            """Rows of only nodata passed before the file was created (see :meth:`_open`)."""
            # A float32 file's predictor is chosen from its first data (see DEFAULT_CODEC):
            # the file is then created when that data arrives.
            if self.dtype != np.float32 or _option(self.codec_options, "PREDICTOR") is None:
                self._open()
        except BaseException:
            self._release()
            raise
        self._thread = threading.Thread(target=self._run, name="asciigrid-geotiff", daemon=True)
        self._thread.start()

    # -- the caller's side ---------------------------------------------------------------

    def write(self, row_start: int, strip: npt.ArrayLike) -> None:
        """Queue rows ``row_start ..`` (shape ``(n, ncols)``); strips must follow each other
        north to south without gaps. Raises the writer thread's error, or
        :class:`asciigrid.Cancelled` when ``progress`` returned False."""
        self._check_open()
        rows = np.asarray(strip)
        if rows.ndim != 2 or rows.shape[1] != self.ncols:
            raise ValueError(f"{self.path}: a strip must have shape (rows, {self.ncols})")
        if row_start != self._next_row or row_start + len(rows) > self.nrows:
            raise ValueError(
                f"{self.path}: strips must follow each other north to south: expected row "
                f"{self._next_row}, got {row_start} ({len(rows)} rows, of {self.nrows})"
            )
        self._next_row += len(rows)
        rows = np.ascontiguousarray(rows, self.dtype)
        # The statistics are added up here, in the caller's thread, which would otherwise wait
        # for the writer's: the writer is the slower of the two, and order does not matter.
        self._band_statistics.add_block_row(rows, BLOCK_SIZE, self.nodata)
        self._hand_over((row_start, rows))

    def close(self) -> Statistics | None:
        """Finish the file (last rows, overviews, statistics; the COG copy) and rename it
        over ``path``. Returns the band statistics (``None`` if no cell is valid)."""
        self._check_open()
        try:
            if self._next_row != self.nrows:
                raise ValueError(
                    f"{self.path}: only {self._next_row} of {self.nrows} rows were written"
                )
            self._hand_over(None)  # the end: the thread finishes the file
            while self._thread.is_alive():
                self._thread.join(_POLL)
                self._raise_pending()
                self._report(self._streamed())
            self._raise_pending()
            self._close_dataset()  # writes the last blocks
            if self.cog:
                self._gdal_call("write the Cloud Optimized GeoTIFF", self._write_cog, _gdal())
            self._report(1.0)
            self._files.commit()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        self._scratch.discard()
        return self._statistics

    def abort(self) -> None:
        """Stop and remove everything written; the target is untouched."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join()
        self._release()

    def __enter__(self) -> GeoTiffWriter:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    @property
    def statistics(self) -> Statistics | None:
        """The band statistics, once :meth:`close` has returned."""
        return self._statistics

    def _hand_over(self, item: tuple[int, npt.NDArray[Any]] | None) -> None:
        """Hand ``item`` to the writer thread, returning once the thread has taken it (so it
        is done with the previous strip, and the caller's next strip is the second held, not
        the third); meanwhile move the bar and look for a cancel or the thread's error."""
        handed = False
        while not handed or not self._queue.empty():
            self._raise_pending()
            self._report(self._streamed())
            if handed:
                self._taken.wait(_POLL)
                continue
            try:
                self._taken.clear()
                self._queue.put(item, timeout=_POLL)
                handed = True
            except queue.Full:
                continue

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")

    def _raise_pending(self) -> None:
        """Raise the writer thread's error (every time: the file is lost either way)."""
        if self._error is not None:
            raise self._error

    def _streamed(self) -> float:
        return self._share * self._rows_done / self.nrows

    def _report(self, fraction: float) -> None:
        """Move the bar (never backwards); raise :class:`Cancelled` if asked to stop."""
        self._shown = max(self._shown, min(1.0, fraction))
        if self._progress is not None and self._progress(self._shown) is False:
            self._stop.set()
            raise Cancelled()

    def _close_dataset(self) -> None:
        """Close the GDAL dataset, dropping its bands first (a band outliving its dataset
        is freed twice)."""
        self._levels = []
        self._base = None
        self._band = None
        self._ds = None

    def _release(self) -> None:
        self._close_dataset()
        self._files.discard()
        self._scratch.discard()

    def _gdal_call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a GDAL step; its failure becomes a :class:`GeoTiffError` naming the target."""
        gdal = _gdal()
        gdal.ErrorReset()
        try:
            result = fn(*args)
            _check(0)
        except (Cancelled, GeoTiffError):
            raise
        except RuntimeError as err:
            if self._stop.is_set():
                raise Cancelled() from None
            raise GeoTiffError(
                f"{self.path}: GDAL could not {what}: {err}; nothing was written"
            ) from None
        return result

    # -- GDAL ----------------------------------------------------------------------------

    def _create(self, gdal: Any) -> Any:
        from osgeo import gdal_array

        kind = gdal_array.NumericTypeCodeToGDALTypeCode(self.dtype.type)
        ds = gdal.GetDriverByName("GTiff").Create(
            self._tmp, self.ncols, self.nrows, 1, kind, _layout_options(self.codec_options)
        )
        if ds is None:
            _check(1)
        _check(ds.SetGeoTransform(self._geotransform))
        if self._crs_wkt:
            _check(ds.SetProjection(self._crs_wkt))
        if self.nodata is not None:
            _check(ds.GetRasterBand(1).SetNoDataValue(self.nodata))
        return ds

    def _open(self) -> None:
        """Create the file (and its empty overview levels). Rows that held only nodata before
        it existed wrote nothing to the band; the overviews still average them."""
        gdal = _gdal()
        self._ds = self._gdal_call("create the GeoTIFF", self._create, gdal)
        self._band = self._ds.GetRasterBand(1)
        self._levels = self._make_levels(gdal) if self._overviews else []
        empty, self._empty_rows = self._empty_rows, 0
        for start in range(0, empty, BLOCK_SIZE):
            rows = min(BLOCK_SIZE, empty - start)
            self._to_levels(np.full((rows, self.ncols), self.nodata, self.dtype))

    def _make_levels(self, gdal: Any) -> list[_Level]:
        factors = overview_factors(self.nrows, self.ncols)
        if not factors:
            return []
        # Empty overview levels, filled as the strips pass: compressed like the data.
        settings = {
            "COMPRESS_OVERVIEW": _option(self.codec_options, "COMPRESS"),
            "PREDICTOR_OVERVIEW": _option(self.codec_options, "PREDICTOR"),
            "ZLEVEL_OVERVIEW": _option(self.codec_options, "ZLEVEL"),
            "ZSTD_LEVEL_OVERVIEW": _option(self.codec_options, "ZSTD_LEVEL"),
            "SPARSE_OK_OVERVIEW": "ON",
            "GDAL_TIFF_OVR_BLOCKSIZE": str(BLOCK_SIZE),
        }
        for key, value in settings.items():
            gdal.SetThreadLocalConfigOption(key, value)
        try:
            self._gdal_call("create the overview levels", self._ds.BuildOverviews, "NONE", factors)
        finally:
            for key in settings:
                gdal.SetThreadLocalConfigOption(key, None)
        levels: list[_Level] = []
        above = (self.nrows, self.ncols)
        for i in range(self._band.GetOverviewCount()):
            band = self._band.GetOverview(i)
            levels.append(_Level(band, above, self.dtype, self.nodata))
            above = (band.YSize, band.XSize)
        return levels

    def _run(self) -> None:
        """The writer thread: compress and write strips, average overviews, add up
        statistics; stop between block rows when asked."""
        try:
            while True:
                item = None  # the strip just written is freed before the next is taken
                try:
                    item = self._queue.get(timeout=_POLL)
                    self._taken.set()
                except queue.Empty:
                    if self._stop.is_set():
                        return
                    continue
                if item is None or self._stop.is_set():
                    break
                self._put(item[1])
            if self._stop.is_set():
                return
            if self._ds is None:  # every cell was nodata: no data to choose a predictor by
                self._open()
            self._statistics = _statistics(self._band_statistics.summary())
            if self._statistics is not None:
                self._gdal_call("store the statistics", self._store_statistics)
            self._gdal_call("write the data", self._ds.FlushCache)
        except BaseException as err:  # handed to the caller's thread
            self._error = err

    def _put(self, rows: npt.NDArray[Any]) -> None:
        for row, cells in self._base.add(rows):
            if self._stop.is_set():
                raise Cancelled()
            self._gdal_call("write the data", self._write_base, row, cells)
            if self._ds is not None:
                self._to_levels(cells)
            self._rows_done += len(cells)

    def _to_levels(self, cells: npt.NDArray[Any]) -> None:
        part = cells
        for level in self._levels:
            part = self._gdal_call("write the overviews", level.add, part)
            if len(part) == 0:
                break

    def _write_base(self, row: int, cells: npt.NDArray[Any]) -> None:
        """One block row of the full-resolution band (its blocks that hold data); the first
        that holds data creates the file when the predictor is chosen from it."""
        has_data = _native.blocks_with_data(np.ascontiguousarray(cells), BLOCK_SIZE, self.nodata)
        if self._ds is None:
            if not any(has_data):
                self._empty_rows += len(cells)
                return
            predictor = _smaller_predictor(cells, has_data, self.codec_options)
            self.codec_options = _with_predictor(self.codec_options, predictor)
            self._open()
        _write_block_row(self._band, row, cells, has_data)

    def _store_statistics(self) -> None:
        s = self._statistics
        assert s is not None
        _check(self._band.SetStatistics(s.minimum, s.maximum, s.mean, s.std))
        valid = 100.0 * s.count / (self.nrows * self.ncols)
        self._band.SetMetadataItem("STATISTICS_VALID_PERCENT", f"{valid:.4g}")

    def _write_cog(self, gdal: Any) -> None:
        fd, final = self._files.new_temp(self.path, sidecars=GDAL_SIDECARS)
        os.close(fd)
        options = [
            f"BLOCKSIZE={BLOCK_SIZE}",
            "NUM_THREADS=ALL_CPUS",
            "BIGTIFF=IF_SAFER",
            "OVERVIEWS=FORCE_USE_EXISTING",
            *(
                o.replace("ZLEVEL", "LEVEL").replace("ZSTD_LEVEL", "LEVEL")
                for o in self.codec_options
            ),
        ]
        if "SPARSE_OK" in (
            gdal.GetDriverByName("COG").GetMetadataItem("DMD_CREATIONOPTIONLIST") or ""
        ):
            options.append("SPARSE_OK=TRUE")

        def callback(complete: float, _message: Any = None, _data: Any = None) -> int:
            try:
                self._report(self._share + (1.0 - self._share) * complete)
            except Cancelled:
                return 0
            return 1

        source = gdal.Open(self._tmp)
        try:
            ds = gdal.GetDriverByName("COG").CreateCopy(
                final, source, 0, options, callback=callback
            )
            if self._stop.is_set():
                raise Cancelled()
            if ds is None:
                _check(1)
            ds = None
        finally:
            source = None


def _option(options: Sequence[str], key: str) -> str | None:
    for option in options:
        name, _, value = option.partition("=")
        if name == key:
            return value
    return None


GeoTiffSource = Union["Grid", "GridStrips", npt.NDArray[Any], Iterable[Sequence[Any]]]
"""What :func:`write_geotiff` writes: a :class:`asciigrid.Grid`, a
:class:`asciigrid.GridStrips` (parsed strip by strip while the writer compresses the one
before), a 2-D array, or strips
``(row_start, strip, ...)`` north to south, as :func:`asciigrid.iter_mosaic_strips` yields
them (extra items, such as its list of failed tiles, are ignored)."""


def write_geotiff(
    path: str | os.PathLike[str],
    source: GeoTiffSource,
    *,
    geotransform: Sequence[float] | None = None,
    nodata: float | None = None,
    crs_wkt: str | None = None,
    shape: tuple[int, int] | None = None,
    codec: str = DEFAULT_CODEC,
    overviews: bool = True,
    cog: bool = False,
    progress: GeoTiffProgress | None = None,
) -> Statistics | None:
    """Write ``source`` as a tiled, compressed GeoTIFF with internal overviews and band
    statistics, atomically (nothing at ``path`` changes unless the whole file is written).

    For a :class:`asciigrid.Grid` or :class:`asciigrid.GridStrips`, ``geotransform``,
    ``nodata`` and ``crs_wkt`` default to the grid's. Strips need ``shape=(nrows, ncols)``
    and ``geotransform``. ``codec`` is a key of :data:`CODECS`; ``overviews`` adds averaged
    overview levels down to 256 cells; ``cog`` writes a Cloud Optimized GeoTIFF. Returns the
    band statistics (``None`` when no cell is valid). Raises :class:`GeoTiffError` when GDAL
    fails and :class:`asciigrid.Cancelled` when ``progress`` returns False.
    """
    if _is_dataarray(source):
        source, found = _from_dataarray(source)
        geotransform = found["geotransform"] if geotransform is None else geotransform
        nodata = found["nodata"] if nodata is None else nodata
        crs_wkt = found["crs_wkt"] if crs_wkt is None else crs_wkt
    if _is_dask(source):
        shape = tuple(source.shape)  # type: ignore[union-attr,assignment]
        source = _dask_strips(source)
    from asciigrid._api import GridStrips

    if isinstance(source, GridStrips):
        header = source.header
        geotransform = header.geotransform if geotransform is None else geotransform
        nodata = header.nodata if nodata is None else nodata
        crs_wkt = source.crs_wkt if crs_wkt is None else crs_wkt
        shape = header.shape
        source = source.strips(buffers=2)  # the writer is done with a strip at the next
    data = getattr(source, "data", None)
    if isinstance(data, np.ndarray) and hasattr(source, "geotransform"):
        geotransform = source.geotransform if geotransform is None else geotransform  # type: ignore[union-attr]
        nodata = source.nodata if nodata is None else nodata  # type: ignore[union-attr]
        crs_wkt = source.crs_wkt if crs_wkt is None else crs_wkt  # type: ignore[union-attr]
        source = data
    if geotransform is None:
        raise ValueError(f"{os.fspath(path)}: give the geotransform of the grid")
    strips: Iterator[Sequence[Any]]
    if isinstance(source, np.ndarray):
        if source.ndim != 2:
            raise ValueError(f"{os.fspath(path)}: the grid must be 2-D, got shape {source.shape}")
        array = source
        shape = array.shape  # type: ignore[assignment]
        dtype: npt.DTypeLike = array.dtype
        strips = ((i, array[i : i + _FEED_ROWS]) for i in range(0, len(array), _FEED_ROWS))
    else:
        if shape is None:
            raise ValueError(f"{os.fspath(path)}: give the shape (nrows, ncols) of the strips")
        strips = iter(source)
        first = next(strips, None)
        if first is None:
            raise ValueError(f"{os.fspath(path)}: no strips to write")
        dtype = np.asarray(first[1]).dtype
        strips = _chain(first, strips)
    writer = GeoTiffWriter(
        path,
        shape=shape,  # type: ignore[arg-type]
        dtype=dtype,
        geotransform=geotransform,
        nodata=nodata,
        crs_wkt=crs_wkt,
        codec=codec,
        overviews=overviews,
        cog=cog,
        progress=progress,
    )
    with writer:
        for item in strips:
            writer.write(int(item[0]), item[1])
    return writer.statistics


def _is_dataarray(source: object) -> bool:
    return type(source).__name__ == "DataArray" and hasattr(source, "dims")


def _is_dask(source: object) -> bool:
    return type(source).__module__.startswith("dask.") and hasattr(source, "blocks")


def _from_dataarray(array: Any) -> tuple[Any, dict[str, Any]]:
    """The data of a 2-D ``(y, x)`` DataArray (as :func:`asciigrid.open_mosaic` or the xarray
    backend give) and what it says of its georeferencing: the ``spatial_ref`` coordinate's
    ``GeoTransform`` and ``crs_wkt``, else cell-centre ``x``/``y``; ``_FillValue``."""
    if array.ndim != 2:
        raise ValueError(f"the DataArray must be 2-D (y, x), got dims {array.dims}")
    found: dict[str, Any] = {"geotransform": None, "nodata": None, "crs_wkt": None}
    ref = array.coords.get("spatial_ref")
    attrs = {} if ref is None else dict(ref.attrs)
    if "GeoTransform" in attrs:
        found["geotransform"] = tuple(float(v) for v in str(attrs["GeoTransform"]).split())
    elif "x" in array.coords and "y" in array.coords and array.sizes["x"] > 1:
        x, y = array.coords["x"].values, array.coords["y"].values
        dx, dy = float(x[1] - x[0]), float(y[1] - y[0])
        found["geotransform"] = (float(x[0]) - dx / 2, dx, 0.0, float(y[0]) - dy / 2, 0.0, dy)
    found["crs_wkt"] = attrs.get("crs_wkt") or attrs.get("spatial_ref")
    fill = array.attrs.get("_FillValue", array.encoding.get("_FillValue"))
    found["nodata"] = None if fill is None else float(fill)
    return array.data, found


def _dask_strips(array: Any) -> Iterator[tuple[int, npt.NDArray[Any]]]:
    """One row of chunks at a time, computed where dask computes (a cluster, if the caller
    has a client): memory holds a row of chunks, not the array."""
    row_start = 0
    for i in range(array.numblocks[0]):
        strip = np.asarray(array.blocks[i, :].compute())
        yield row_start, strip
        row_start += strip.shape[0]


def _chain(first: Sequence[Any], rest: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    yield first
    yield from rest
