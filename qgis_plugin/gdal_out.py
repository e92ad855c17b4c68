"""The one place where outputs are written: through GDAL, atomically.

Everything goes to a hidden temporary file in the target's folder; only when the file is
complete (GeoTIFF data, internal overviews, statistics) is it moved over the target with
``os.replace``, sidecars first. On any error or cancel the temporary files are removed, so a
failed or cancelled run never leaves a (partial) output behind.
"""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, Callable

import numpy as np
from osgeo import gdal, ogr

from .exceptions import Cancelled, OutputError

__all__ = [
    "Cancelled",
    "GdalProgress",
    "GeoTiffWriter",
    "OutputError",
    "atomic_output",
    "geotiff_output",
    "write_geotiff",
    "write_table",
    "write_text",
]

GdalProgress = Callable[[float], bool]
"""``progress(fraction_done)`` -> False to cancel a long GDAL step."""

# Sidecars GDAL may write next to a raster or a table: appended to the full name, or
# replacing the extension.
_APPENDED = (".aux.xml", ".ovr", ".msk")
_REPLACING = (".csvt", ".prj")

GEOTIFF_OPTIONS = (
    "TILED=YES",
    "BLOCKXSIZE=256",
    "BLOCKYSIZE=256",
    "COMPRESS=DEFLATE",
    "ZLEVEL=1",
    "NUM_THREADS=ALL_CPUS",
    "BIGTIFF=IF_SAFER",
)

_GDAL_TYPES = {
    "int32": gdal.GDT_Int32,
    "float32": gdal.GDT_Float32,
    "float64": gdal.GDT_Float64,
}


def _sidecars(path: str) -> list[str]:
    stem = os.path.splitext(path)[0]
    return [path + s for s in _APPENDED] + [stem + s for s in _REPLACING]


def _remove(paths: Sequence[str]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(p)


@contextlib.contextmanager
def atomic_output(target: str, *, keep_extension: bool = False) -> Iterator[str]:
    """Yield a temporary path (hidden, in ``target``'s folder) to write to.

    It ends in ``.partial``, not the output's extension, so a leftover of a killed run is
    never listed (or opened by extension) as an output; raster writers name their driver.
    ``keep_extension`` keeps it for the few drivers that read the extension (OGR's CSV
    driver makes a folder of a path without ``.csv``).

    On success it and its sidecars replace ``target`` (stale sidecars of an older
    ``target`` are removed, so old statistics never shadow new ones); on failure, the
    renames included, they are deleted and ``target`` is untouched.
    """
    target = os.path.abspath(target)
    folder, name = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    stem, ext = os.path.splitext(name)
    token = uuid.uuid4().hex[:12]
    hidden = f".{stem}.{token}.partial{ext}" if keep_extension else f".{stem}{ext}.{token}.partial"
    tmp = os.path.join(folder, hidden)
    moved: list[str] = []
    try:
        yield tmp
        if not os.path.exists(tmp):
            raise OutputError(f"{target}: nothing was written")
        if os.path.isdir(target):  # checked before any sidecar replaces the old ones
            raise OutputError(f"{target}: is a folder; give a file name; nothing was written")
        try:
            for made, final in zip(_sidecars(tmp), _sidecars(target)):
                if os.path.exists(made):
                    os.replace(made, final)
                    moved.append(final)
                elif final.startswith(target):  # a stale .aux.xml/.ovr of an older target
                    _remove([final])
            os.replace(tmp, target)
        except OSError as err:
            raise OutputError(
                f"{target}: could not put the new file in place: {err.strerror or err}; "
                "nothing was written"
            ) from err
    except BaseException:
        # Sidecars already moved describe a file that never arrived: drop them too.
        _remove([tmp, *_sidecars(tmp), *moved])
        raise


def _check(what: str, path: str, status: Any = 0) -> None:
    """Raise :class:`OutputError` if GDAL reported a failure (works with or without
    ``gdal.UseExceptions()``)."""
    if gdal.GetLastErrorType() >= gdal.CE_Failure or (isinstance(status, int) and status != 0):
        message = gdal.GetLastErrorMsg() or f"error code {status}"
        gdal.ErrorReset()
        raise OutputError(f"{path}: GDAL could not {what}: {message}")


def _overview_levels(nrows: int, ncols: int, smallest: int = 256) -> list[int]:
    levels: list[int] = []
    factor = 2
    while math.ceil(max(nrows, ncols) / (factor // 2)) > smallest:
        levels.append(factor)
        factor *= 2
    return levels


class GeoTiffWriter:
    """A tiled, compressed single-band GeoTIFF being written.

    Use :func:`geotiff_output` (rows streamed in, e.g. mosaic strips) or
    :func:`write_geotiff` (a grid already in memory); both write atomically.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.cancelled = False
        self.ds: Any = None
        self.band: Any = None
        self.statistics_done = False
        self.block_rows = 256
        self.pending: np.ndarray | None = None
        self.pending_start = 0
        self.nodata: float | None = None
        self.parts: list[tuple[int, float, float, float, float]] = []
        self.parts_usable = True

    @classmethod
    def create(
        cls,
        path: str,
        *,
        nrows: int,
        ncols: int,
        dtype: str,
        geotransform: Sequence[float],
        crs_wkt: str | None,
        nodata: float | None,
    ) -> GeoTiffWriter:
        """An empty GeoTIFF to fill with :meth:`write_rows`."""
        if dtype not in _GDAL_TYPES:
            raise OutputError(f"{path}: cannot write data type {dtype}")
        writer = cls(path)
        driver = gdal.GetDriverByName("GTiff")
        writer.ds = writer._call(
            "create the GeoTIFF",
            driver.Create,
            path,
            ncols,
            nrows,
            1,
            _GDAL_TYPES[dtype],
            options=list(GEOTIFF_OPTIONS),
        )
        writer._georeference(writer.ds, geotransform, crs_wkt, nodata)
        writer.band = writer.ds.GetRasterBand(1)
        writer.block_rows = writer.band.GetBlockSize()[1]
        writer.nodata = None if nodata is None else float(nodata)
        return writer

    @classmethod
    def copy_of(
        cls,
        path: str,
        data: np.ndarray,
        *,
        geotransform: Sequence[float],
        crs_wkt: str | None,
        nodata: float | None,
        progress: GdalProgress | None = None,
    ) -> GeoTiffWriter:
        """A GeoTIFF copy of a grid in memory. GDAL reads the array in place (no copy),
        computes its exact statistics there (no read-back of the compressed file) and copies
        them into the GeoTIFF with the data."""
        from osgeo import gdal_array

        writer = cls(path)
        source = writer._call("wrap the grid", gdal_array.OpenArray, np.ascontiguousarray(data))
        writer._georeference(source, geotransform, crs_wkt, nodata)
        writer._call(
            "compute statistics",
            source.GetRasterBand(1).ComputeStatistics,
            False,
            callback=writer._callback(_part(progress, 0.0, 0.3)),
        )
        driver = gdal.GetDriverByName("GTiff")
        writer.ds = writer._call(
            "write the GeoTIFF",
            driver.CreateCopy,
            path,
            source,
            options=list(GEOTIFF_OPTIONS),
            callback=writer._callback(_part(progress, 0.3, 1.0)),
        )
        writer.band = writer.ds.GetRasterBand(1)
        writer.statistics_done = True
        return writer

    def _georeference(
        self,
        ds: Any,
        geotransform: Sequence[float],
        crs_wkt: str | None,
        nodata: float | None,
    ) -> None:
        self._call("set the geotransform", ds.SetGeoTransform, list(geotransform))
        if crs_wkt:
            self._call("set the CRS", ds.SetProjection, crs_wkt)
        if nodata is not None:
            self._call("set the nodata value", ds.GetRasterBand(1).SetNoDataValue, float(nodata))

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call GDAL; raise :class:`Cancelled` or :class:`OutputError` (naming the file)
        whether or not ``gdal.UseExceptions()`` is on."""
        gdal.ErrorReset()
        try:
            result = fn(*args, **kwargs)
        except RuntimeError as err:
            if self.cancelled:
                raise Cancelled() from None
            raise OutputError(f"{self.path}: GDAL could not {what}: {err}") from err
        if self.cancelled:
            gdal.ErrorReset()
            raise Cancelled()
        failed = result is None and what in ("create the GeoTIFF", "write the GeoTIFF")
        _check(what, self.path, 1 if failed else result if isinstance(result, int) else 0)
        return result

    def _callback(self, progress: GdalProgress | None) -> Callable[..., int] | None:
        """A GDAL progress callback; returning 0 makes GDAL stop ("User terminated")."""
        if progress is None:
            return None

        def callback(complete: float, _message: Any = None, _data: Any = None) -> int:
            if not progress(complete):
                self.cancelled = True
                return 0
            return 1

        return callback

    def write_rows(self, row_start: int, rows: np.ndarray) -> None:
        """Write ``rows`` (shape ``(n, ncols)``) starting at row ``row_start``.

        Strips written north to south are written in whole rows of GeoTIFF blocks, and each
        write is flushed out of GDAL's cache, so memory stays at one strip plus one row of
        blocks however large the raster (a block is never compressed twice). The few rows
        that do not fill a row of blocks wait for the next strip.
        """
        self._accumulate_statistics(rows)
        if self.pending is not None and row_start != self.pending_start + len(self.pending):
            self._flush_pending()  # not contiguous: write what waits as it is
        if self.pending is not None:
            fill = min(len(rows), self.block_rows - len(self.pending))
            head = np.concatenate([self.pending, rows[:fill]])
            start = self.pending_start
            self.pending = None
            rows, row_start = rows[fill:], row_start + fill
            if len(head) == self.block_rows or start + len(head) == self.ds.RasterYSize:
                self._write(start, head)
            else:
                self.pending, self.pending_start = head, start
                return
        end = row_start + len(rows)
        aligned = end if end == self.ds.RasterYSize else end - end % self.block_rows
        if aligned > row_start:
            self._write(row_start, rows[: aligned - row_start])
        if end > max(aligned, row_start):
            tail = rows[max(aligned, row_start) - row_start :]
            self.pending, self.pending_start = tail.copy(), max(aligned, row_start)

    def _accumulate_statistics(self, rows: np.ndarray) -> None:
        """GDAL's statistics of the rows, computed in memory where they are (no read-back of
        the compressed file later). Each row is written exactly once, so these parts add up
        to the statistics of the whole raster (see :meth:`_store_statistics`)."""
        from osgeo import gdal_array

        if rows.size == 0:
            return
        source = self._call("wrap rows", gdal_array.OpenArray, np.ascontiguousarray(rows))
        band = source.GetRasterBand(1)
        if self.nodata is not None:
            band.SetNoDataValue(self.nodata)
        gdal.ErrorReset()
        try:
            low, high, mean, std = band.ComputeStatistics(False)
        except (RuntimeError, TypeError, ValueError):  # no valid cell in these rows
            gdal.ErrorReset()
            return
        if gdal.GetLastErrorType() >= gdal.CE_Failure:  # no valid cell (without exceptions)
            gdal.ErrorReset()
            return
        if not all(map(math.isfinite, (low, high, mean, std))):
            self.parts_usable = False  # infinities: let GDAL scan the file at the end
            return
        # the exact number of valid cells: a one-bucket histogram wider than [min, max]
        count = band.GetHistogram(low - max(1.0, abs(low)), high + max(1.0, abs(high)), 1, 0, 0)[0]
        self.parts.append((int(count), low, high, mean, std))

    def _store_statistics(self) -> bool:
        """Combine the parts into the band's statistics (what ComputeStatistics would give)."""
        parts = [p for p in self.parts if p[0] > 0]
        if not parts or not self.parts_usable:
            return False
        total = sum(n for n, *_ in parts)
        mean = sum(n * m for n, _, _, m, _ in parts) / total
        m2 = sum(n * s * s + n * (m - mean) ** 2 for n, _, _, m, s in parts)
        low = min(p[1] for p in parts)
        high = max(p[2] for p in parts)
        self._call(
            "store statistics", self.band.SetStatistics, low, high, mean, math.sqrt(m2 / total)
        )
        cells = self.ds.RasterXSize * self.ds.RasterYSize
        self.band.SetMetadataItem("STATISTICS_VALID_PERCENT", f"{100.0 * total / cells:.4g}")
        return True

    def _write(self, row_start: int, rows: np.ndarray) -> None:
        self._call("write rows", self.band.WriteArray, rows, 0, row_start)
        self._call("write the data", self.ds.FlushCache)

    def _flush_pending(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self._write(self.pending_start, pending)

    def finish(self, *, overviews: bool, progress: GdalProgress | None = None) -> None:
        """Build internal overviews (optional) and store exact band statistics (unless
        already there), so QGIS displays and styles the layer at once without scanning it."""
        self._flush_pending()
        self._call("write the data", self.ds.FlushCache)
        levels = _overview_levels(self.ds.RasterYSize, self.ds.RasterXSize) if overviews else []
        scan = not self.statistics_done and not (self.parts and self.parts_usable)
        split = 0.0 if not levels else 0.6 if scan else 1.0
        if levels:
            self._call(
                "build overviews",
                self.ds.BuildOverviews,
                "AVERAGE",
                levels,
                callback=self._callback(_part(progress, 0.0, split)),
            )
        if not self.statistics_done and not self._store_statistics():
            stats = self._call(
                "compute statistics",
                self.band.ComputeStatistics,
                False,
                callback=self._callback(_part(progress, split, 1.0)),
            )
            if stats is None:
                _check("compute statistics", self.path, 1)

    def close(self) -> None:
        """Close the dataset (writes the last blocks and the metadata)."""
        if self.ds is not None:
            self.band = None
            self.ds.FlushCache()
            self.ds = None


def _part(progress: GdalProgress | None, start: float, end: float) -> GdalProgress | None:
    """``progress`` for a step that covers ``[start, end]`` of the whole."""
    if progress is None:
        return None
    return lambda fraction: progress(start + (end - start) * max(0.0, min(1.0, fraction)))


@contextlib.contextmanager
def geotiff_output(
    target: str,
    *,
    nrows: int,
    ncols: int,
    dtype: str,
    geotransform: Sequence[float],
    crs_wkt: str | None,
    nodata: float | None,
) -> Iterator[GeoTiffWriter]:
    """A :class:`GeoTiffWriter` to stream rows into; its file replaces ``target`` only when
    the block exits normally (write rows, then call :meth:`GeoTiffWriter.finish`)."""
    with atomic_output(target) as tmp:
        writer = GeoTiffWriter.create(
            tmp,
            nrows=nrows,
            ncols=ncols,
            dtype=dtype,
            geotransform=geotransform,
            crs_wkt=crs_wkt,
            nodata=nodata,
        )
        try:
            yield writer
        finally:
            writer.close()
        _check("finish the GeoTIFF", target)


def write_geotiff(
    target: str,
    data: np.ndarray,
    *,
    geotransform: Sequence[float],
    crs_wkt: str | None,
    nodata: float | None,
    overviews: bool,
    progress: GdalProgress | None = None,
) -> None:
    """Write a grid held in memory as a GeoTIFF (with statistics, and overviews when asked)
    that replaces ``target`` only once complete."""
    if data.dtype.name not in _GDAL_TYPES:
        raise OutputError(f"{target}: cannot write data type {data.dtype.name}")
    split = 0.6 if overviews else 1.0
    with atomic_output(target) as tmp:
        writer = GeoTiffWriter.copy_of(
            tmp,
            data,
            geotransform=geotransform,
            crs_wkt=crs_wkt,
            nodata=nodata,
            progress=_part(progress, 0.0, split),
        )
        try:
            writer.finish(overviews=overviews, progress=_part(progress, split, 1.0))
        finally:
            writer.close()
        _check("finish the GeoTIFF", target)


_OGR_DRIVERS = {".csv": "CSV", ".gpkg": "GPKG", ".xlsx": "XLSX", ".ods": "ODS"}
_OGR_TYPES = {int: ogr.OFTInteger64, float: ogr.OFTReal, str: ogr.OFTString}


def write_table(
    target: str,
    fields: Sequence[tuple[str, type]],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Write a table without geometry (CSV with a .csvt, GeoPackage, XLSX or ODS, chosen by
    the extension) through OGR, atomically."""
    ext = os.path.splitext(target)[1].lower()
    driver_name = _OGR_DRIVERS.get(ext)
    if driver_name is None:
        raise OutputError(f"{target}: unsupported table format {ext!r} (use .csv or .gpkg)")
    layer_name = os.path.splitext(os.path.basename(target))[0]
    with atomic_output(target, keep_extension=True) as tmp:
        gdal.ErrorReset()
        try:
            ds = ogr.GetDriverByName(driver_name).CreateDataSource(tmp)
        except RuntimeError as err:
            raise OutputError(f"{target}: GDAL could not create the table: {err}") from err
        if ds is None:
            _check("create the table", target, 1)
        layer = defn = feature = None
        try:
            options = ["CREATE_CSVT=YES"] if driver_name == "CSV" else []
            layer = ds.CreateLayer(layer_name, None, ogr.wkbNone, options=options)
            if layer is None:
                _check("create the table", target, 1)
            for name, kind in fields:
                layer.CreateField(ogr.FieldDefn(name, _OGR_TYPES[kind]))
            defn = layer.GetLayerDefn()
            feature = None
            layer.StartTransaction()
            for row in rows:
                feature = ogr.Feature(defn)
                for i, value in enumerate(row):
                    if value is None or (isinstance(value, float) and math.isnan(value)):
                        feature.SetFieldNull(i)
                    else:
                        feature.SetField(i, value)
                if layer.CreateFeature(feature) != 0:
                    _check("write a row", target, 1)
            layer.CommitTransaction()
        finally:
            # Drop every reference so GDAL closes (and flushes) the file before the rename.
            feature = defn = layer = None  # noqa: F841
            ds = None  # noqa: F841
        _check("write the table", target)


def write_text(target: str, text: str) -> None:
    """Write a small text file (e.g. a report) with the same all-or-nothing rule."""
    with atomic_output(target) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
