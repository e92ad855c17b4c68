"""The ``.prj`` sidecar: find it, keep its text, turn it into WKT, write it."""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

__all__ = ["esri_to_wkt", "prj_path", "read_prj", "write_prj"]

_WKT_ROOTS = ("PROJCS[", "GEOGCS[", "GEOCCS[", "COMPD_CS[", "PROJCRS[", "GEOGCRS[", "BOUNDCRS[")


def prj_path(grid_path: str | os.PathLike[str]) -> Path | None:
    """The sidecar of ``grid_path``: ``name.prj``, else ``name.PRJ`` (as GDAL looks)."""
    path = Path(grid_path)
    if path.suffix.lower() == ".gz":
        path = path.with_suffix("")
    for suffix in (".prj", ".PRJ"):
        candidate = path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def read_prj(grid_path: str | os.PathLike[str]) -> str | None:
    """The raw text of the grid's ``.prj``, or ``None`` when it has none."""
    path = prj_path(grid_path)
    if path is None:
        return None
    try:
        raw = path.read_bytes()
    except OSError as err:
        # GDAL reads such a grid without a CRS; losing the grid over its sidecar would be worse.
        from asciigrid.errors import AsciiGridWarning

        reason = err.strerror or str(err)
        warnings.warn(
            f"{path}: the .prj sidecar cannot be read ({reason}); the grid is read without a CRS",
            AsciiGridWarning,
            stacklevel=3,
        )
        return None
    return raw.decode("utf-8", errors="replace")


@functools.lru_cache(maxsize=256)
def esri_to_wkt(prj: str | None) -> str | None:
    """WKT for a ``.prj`` text (ESRI WKT or the old Arc/Info keyword form).

    Uses GDAL's ``osr`` (inside every QGIS) when present; without it, WKT text is passed
    through and the keyword form gives ``None``. Cached: a tile set shares one ``.prj`` text.
    """
    if prj is None or not prj.strip():
        return None
    try:
        from osgeo import osr
    except ImportError:
        text = prj.strip()
        return text if text.upper().startswith(_WKT_ROOTS) else None
    srs = osr.SpatialReference()
    use_exceptions = osr.GetUseExceptions()
    osr.UseExceptions()
    try:
        srs.ImportFromESRI(prj.splitlines())
        return str(srs.ExportToWkt())
    except RuntimeError:
        return None
    finally:
        if not use_exceptions:
            osr.DontUseExceptions()


def write_prj(grid_path: str | os.PathLike[str], crs_wkt: str) -> None:
    """Write ``crs_wkt`` beside the grid (as ESRI WKT when GDAL is at hand), atomically."""
    text = crs_wkt
    try:
        from osgeo import osr

        srs = osr.SpatialReference()
        if srs.ImportFromWkt(crs_wkt) == 0 and srs.MorphToESRI() == 0:
            text = srs.ExportToWkt()
    except ImportError:
        pass
    target = Path(grid_path).with_suffix(".prj")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, target)
