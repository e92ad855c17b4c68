"""Tables without geometry (CSV with a .csvt, GeoPackage, XLSX, ODS), written through OGR
and replaced all or nothing (:mod:`.atomic_files`). GeoTIFFs are written by the engine's
``asciigrid.geotiff``, the one GeoTIFF writer the plugin, the command line and dask share.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from osgeo import gdal, ogr

from .atomic_files import atomic_output
from .exceptions import OutputError

__all__ = ["write_table"]

# What OGR's drivers may write beside a table, replacing its extension (the CSV driver's
# column types).
_TABLE_SIDECARS = (".csvt",)


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
    with atomic_output(target, keep_extension=True, extension_sidecars=_TABLE_SIDECARS) as tmp:
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
