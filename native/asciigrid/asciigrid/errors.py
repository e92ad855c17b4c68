"""Exception types raised by :mod:`asciigrid`.

The native engine raises these (it imports this module), so every error a user sees is a
type they can catch, never a bare string or a panic.
"""

from __future__ import annotations

__all__ = [
    "AsciiGridError",
    "AsciiGridWarning",
    "Cancelled",
    "GeoTiffError",
    "MosaicError",
    "ParseError",
]


class AsciiGridError(Exception):
    """Base class of every error raised by asciigrid itself."""


class AsciiGridWarning(UserWarning):
    """Something was read, but not all of it: e.g. a ``.prj`` sidecar that cannot be opened
    (the grid is then read without a CRS, as GDAL does). Filter it with the ``warnings``
    module like any other warning."""


class ParseError(AsciiGridError, ValueError):
    """A grid's text is not a valid ESRI ASCII grid.

    ``str(err)`` reads ``path:line:column: message``, e.g.
    ``tile_07.asc:12:31: expected a number, found 'x4'``; ``line`` and ``column`` are 1-based
    and point at the offending byte, so an editor can jump straight to it.
    """

    def __init__(self, message: str, path: str, line: int, column: int) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        super().__init__(f"{path}:{line}:{column}: {message}")

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, str, int, int]]:
        return (type(self), (self.message, self.path, self.line, self.column))


class MosaicError(AsciiGridError, ValueError):
    """Tiles cannot be combined into one grid (different cell size or misaligned).

    ``path`` names the first tile that does not fit.
    """

    def __init__(self, message: str, path: str) -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}")

    def __reduce__(self) -> tuple[type[MosaicError], tuple[str, str]]:
        return (type(self), (self.message, self.path))


class Cancelled(AsciiGridError):
    """The progress callback asked to stop; nothing was written."""

    def __init__(self, message: str = "cancelled by the caller; nothing was written") -> None:
        super().__init__(message)


class GeoTiffError(AsciiGridError, OSError):
    """GDAL could not write a GeoTIFF (:mod:`asciigrid.geotiff`); the message names the
    target file and says what GDAL reported. Nothing was written."""
