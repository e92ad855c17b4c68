"""asciigrid: read ESRI ASCII grids (``.asc``) fast, with exactly GDAL's values.

>>> import asciigrid
>>> grid = asciigrid.read("dem.asc")          # doctest: +SKIP
>>> grid.data.shape, grid.geotransform        # doctest: +SKIP

All parsing happens in the native engine (Rust), in parallel, with the GIL released.
This package only shapes arguments and results; see ``_native.pyi`` for the engine itself.
GeoTIFF output (through GDAL, imported only then) is in :mod:`asciigrid.geotiff`.
"""

from __future__ import annotations

from asciigrid._api import (
    ArchiveTile,
    BoundingBox,
    Grid,
    GridStrips,
    Header,
    MosaicLayout,
    NamedBytes,
    Progress,
    Source,
    Stats,
    archive_tiles,
    iter_mosaic_strips,
    mosaic,
    mosaic_layout,
    open_strips,
    read,
    read_header,
    stats,
    write,
)
from asciigrid._native import __version__
from asciigrid.errors import (
    AsciiGridError,
    AsciiGridWarning,
    Cancelled,
    ErrorKind,
    GeoTiffError,
    MosaicError,
    ParseError,
)


def __getattr__(name: str) -> object:
    # Optional pieces load their dependencies (xarray, dask) only when asked for.
    if name == "open_mosaic":
        from asciigrid.dask_mosaic import open_mosaic

        return open_mosaic
    raise AttributeError(f"module 'asciigrid' has no attribute {name!r}")


__all__ = [
    "ArchiveTile",
    "BoundingBox",
    "AsciiGridError",
    "AsciiGridWarning",
    "Cancelled",
    "ErrorKind",
    "GeoTiffError",
    "Grid",
    "GridStrips",
    "Header",
    "MosaicError",
    "MosaicLayout",
    "NamedBytes",
    "ParseError",
    "Progress",
    "Source",
    "Stats",
    "__version__",
    "archive_tiles",
    "iter_mosaic_strips",
    "mosaic",
    "mosaic_layout",
    "open_mosaic",
    "open_strips",
    "read",
    "read_header",
    "stats",
    "write",
]
