"""Tables and text outputs, written atomically (GeoTIFFs are written by the engine's
``asciigrid.geotiff``, the one GeoTIFF writer the plugin, the command line and dask share).

Everything goes to a hidden temporary file in the target's folder; only when the file is
complete is it moved over the target with ``os.replace``, sidecars first. On any error or
cancel the temporary files are removed, so a failed or cancelled run never leaves a
(partial) output behind. Unlike ``asciigrid._atomic`` (which names its temporary files
``.name.<random>.tmp``), OGR's drivers need the output's extension and write sidecars
(``.csvt``) beside it, hence this helper for tables.
"""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from osgeo import gdal, ogr

from .exceptions import OutputError

__all__ = [
    "OutputError",
    "atomic_output",
    "make_folder_for",
    "write_table",
    "write_text",
]

# Sidecars GDAL may write next to a table: appended to the full name, or replacing the
# extension.
_APPENDED = (".aux.xml", ".ovr", ".msk")
_REPLACING = (".csvt", ".prj")


def _sidecars(path: str) -> list[str]:
    stem = os.path.splitext(path)[0]
    return [path + s for s in _APPENDED] + [stem + s for s in _REPLACING]


def _remove(paths: Sequence[str]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(p)


def make_folder_for(target: str) -> None:
    """Create the folder an output goes to, as Processing users expect of every output."""
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)


@contextlib.contextmanager
def atomic_output(target: str, *, keep_extension: bool = False) -> Iterator[str]:
    """Yield a temporary path (hidden, in ``target``'s folder) to write to.

    It ends in ``.partial``, not the output's extension, so a leftover of a killed run is
    never listed (or opened by extension) as an output.
    ``keep_extension`` keeps it for the few drivers that read the extension (OGR's CSV
    driver makes a folder of a path without ``.csv``).

    On success it and its sidecars replace ``target`` (stale sidecars of an older
    ``target`` are removed, so old statistics never shadow new ones); on failure, the
    renames included, they are deleted and ``target`` is untouched.
    """
    target = os.path.abspath(target)
    folder, name = os.path.split(target)
    make_folder_for(target)
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
