"""The ``.prj`` sidecar: find it, keep its text, turn it into WKT, write it."""

from __future__ import annotations

import functools
import os
import stat
import warnings
from pathlib import Path

from asciigrid._atomic import AtomicFiles, atomic_files

__all__ = [
    "esri_text",
    "esri_to_wkt",
    "prj_candidates",
    "prj_path",
    "read_prj",
    "stage_prj",
    "write_prj",
]

_WKT_ROOTS = ("PROJCS[", "GEOGCS[", "GEOCCS[", "COMPD_CS[", "PROJCRS[", "GEOGCRS[", "BOUNDCRS[")


def _prj_names(grid_path: str | os.PathLike[str]) -> tuple[str, str]:
    # Plain strings, not pathlib: a mosaic looks up thousands of these.
    path = os.fsdecode(grid_path)
    stem, ext = os.path.splitext(path)
    if ext.lower() == ".gz":
        stem = os.path.splitext(stem)[0]
    return stem + ".prj", stem + ".PRJ"


def prj_candidates(grid_path: str | os.PathLike[str]) -> list[Path]:
    """Where the sidecar of ``grid_path`` may be, in the order GDAL looks: ``name.prj``, then
    ``name.PRJ`` (a ``.gz`` suffix is dropped first)."""
    return [Path(name) for name in _prj_names(grid_path)]


def _regular_prj(grid_path: str | os.PathLike[str]) -> str | None:
    for name in _prj_names(grid_path):
        try:
            if stat.S_ISREG(os.stat(name).st_mode):
                return name
        except (OSError, ValueError):
            continue
    return None


def prj_path(grid_path: str | os.PathLike[str]) -> Path | None:
    """The sidecar of ``grid_path``: ``name.prj``, else ``name.PRJ`` (as GDAL looks)."""
    name = _regular_prj(grid_path)
    return None if name is None else Path(name)


def read_prj(grid_path: str | os.PathLike[str]) -> str | None:
    """The raw text of the grid's ``.prj``, or ``None`` when it has none."""
    path = _regular_prj(grid_path)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            raw = f.read()
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


def esri_text(crs_wkt: str) -> str:
    """The ``.prj`` text for ``crs_wkt``: ESRI WKT when GDAL's ``osr`` is at hand, else the
    WKT as given."""
    try:
        from osgeo import osr
    except ImportError:
        return crs_wkt
    srs = osr.SpatialReference()
    try:
        if srs.ImportFromWkt(crs_wkt) == 0 and srs.MorphToESRI() == 0:
            return str(srs.ExportToWkt())
    except RuntimeError:  # not WKT osr knows (with osr.UseExceptions() on)
        pass
    return crs_wkt


def stage_prj(files: AtomicFiles, grid_path: str | os.PathLike[str], crs_wkt: str | None) -> None:
    """Add to ``files`` the grid's new sidecar (``name.prj`` holding ``crs_wkt``), and the
    removal of any other one (``name.PRJ``; with ``crs_wkt=None`` every one): an old ``.prj``
    left beside a rewritten grid would give it the old CRS."""
    new, *others = prj_candidates(grid_path)
    if crs_wkt is not None:
        files.write_bytes(new, esri_text(crs_wkt).encode("utf-8"))
    else:
        others.insert(0, new)
    for old in others:
        if old.is_file() and not (crs_wkt is not None and _same_file(old, new)):
            files.remove(old)


def _same_file(a: Path, b: Path) -> bool:
    """On a case-insensitive file system ``name.PRJ`` is ``name.prj``."""
    try:
        return a.samefile(b)
    except OSError:
        return False


def write_prj(grid_path: str | os.PathLike[str], crs_wkt: str) -> None:
    """Write ``crs_wkt`` beside the grid (as ESRI WKT when GDAL is at hand), atomically."""
    with atomic_files() as files:
        stage_prj(files, grid_path, crs_wkt)
