"""asciigrid: read ESRI ASCII grids (``.asc``) fast, with exactly GDAL's values.

>>> import asciigrid
>>> grid = asciigrid.read("dem.asc")          # doctest: +SKIP
>>> grid.data.shape, grid.geotransform        # doctest: +SKIP

All parsing happens in the native engine (Rust), in parallel, with the GIL released.
This package only shapes arguments and results; see ``_native.pyi`` for the engine itself.
"""

from __future__ import annotations

from asciigrid._api import (
    ArchiveTile,
    Grid,
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
    MosaicError,
    ParseError,
)

__all__ = [
    "ArchiveTile",
    "AsciiGridError",
    "AsciiGridWarning",
    "Cancelled",
    "Grid",
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
    "read",
    "read_header",
    "stats",
    "write",
]
