"""Exception types raised by :mod:`asciigrid`.

The native engine raises these (it imports this module), so every error a user sees is a
type they can catch, never a bare string or a panic.
"""

from __future__ import annotations

import enum

__all__ = [
    "AsciiGridError",
    "AsciiGridWarning",
    "Cancelled",
    "ErrorKind",
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


class ErrorKind(enum.Enum):
    """What is wrong with a grid's text: :attr:`ParseError.kind`, for code that branches on
    the cause (messages are for people and may be reworded).

    The values are stable lowercase strings (``ErrorKind("bad_value")``); kinds may be added,
    none is ever renamed or removed. docs/ROBUSTNESS.md lists each with an example.
    """

    EMPTY = "empty"
    """The file holds no bytes at all."""
    NOT_TEXT = "not_text"
    """Not ASCII text: a NUL byte (binary data), a UTF-8 byte order mark or UTF-16 text."""
    HEADER_KEYWORD_UNKNOWN = "header_keyword_unknown"
    """A header line starts with a word that is no keyword of its format."""
    HEADER_KEYWORD_DUPLICATE = "header_keyword_duplicate"
    """A header keyword appears twice."""
    HEADER_KEYWORD_MISSING = "header_keyword_missing"
    """A keyword the grid needs is absent (``ncols``, ``cellsize``, half an origin, ``dx``
    without ``dy``, a GRASS bound)."""
    HEADER_KEYWORD_CONFLICT = "header_keyword_conflict"
    """Keywords that exclude each other are both given (corner and center origin,
    ``cellsize`` and ``dx``/``dy``)."""
    HEADER_VALUE_MISSING = "header_value_missing"
    """A header keyword without a value."""
    HEADER_VALUE_NOT_A_NUMBER = "header_value_not_a_number"
    """A header value that is not a number, or lies beyond the double range."""
    HEADER_VALUE_INVALID = "header_value_invalid"
    """A header value that is a number but not an allowed one: ``ncols 5.7``,
    ``cellsize 0``, an infinite origin, ``north`` below ``south``, an overflowing extent."""
    HEADER_SYNTAX = "header_syntax"
    """A header line that is not ``keyword value`` (text after the value; a GRASS line
    without its colon)."""
    HEADER_INCOMPLETE = "header_incomplete"
    """The text ends inside the header."""
    HEADER_TOO_LONG = "header_too_long"
    """No values after the longest header accepted (16 MiB)."""
    BAD_VALUE = "bad_value"
    """A token of the body is not a number (or is beyond the double range, or longer than
    any number)."""
    DTYPE_TOO_NARROW = "dtype_too_narrow"
    """A value the grid's data type cannot hold (a decimal or an integer outside Int32 in an
    Int32 grid): reading with a wider ``dtype`` fixes it."""
    TOO_FEW_VALUES = "too_few_values"
    """Fewer values than ``ncols × nrows``: the text ends early, or is too small to hold
    them at all."""
    TOO_MANY_VALUES = "too_many_values"
    """More values than ``ncols × nrows``, in a way no reader can tell from a wrong header."""
    NODATA_COLLISION = "nodata_collision"
    """A data cell holds the value a GRASS grid's ``*`` null cells read as."""
    BUDGET_EXCEEDED = "budget_exceeded"
    """Compressed text goes on past what its size or its header allows (a decompression
    bomb, a wrong size, data that is not deflate)."""
    CORRUPT_COMPRESSED = "corrupt_compressed"
    """The compressed data (gzip, zip member) is corrupt or cut short."""
    TRAILING_CONTENT = "trailing_content"
    """Content after a complete grid, which a non-strict read accepts with a warning,
    refused because the read is strict."""


class ParseError(AsciiGridError, ValueError):
    """A grid's text is not a valid ESRI ASCII grid.

    ``str(err)`` reads ``path:line:column: message``, e.g.
    ``tile_07.asc:12:31: expected a number, found 'x4'``; ``line`` and ``column`` are 1-based
    and point at the offending byte, so an editor can jump straight to it. ``kind`` (an
    :class:`ErrorKind`) says what is wrong, for code::

        try:
            grid = asciigrid.read(path)
        except asciigrid.ParseError as err:
            if err.kind is not asciigrid.ErrorKind.DTYPE_TOO_NARROW:
                raise
            grid = asciigrid.read(path, dtype="float64")

    Every error the engine raises has a kind; ``kind`` is ``None`` only for a
    ``ParseError`` built without one.
    """

    def __init__(
        self,
        message: str,
        path: str,
        line: int,
        column: int,
        kind: ErrorKind | str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.kind: ErrorKind | None = None if kind is None else ErrorKind(kind)
        super().__init__(f"{path}:{line}:{column}: {message}")

    def __reduce__(
        self,
    ) -> tuple[type[ParseError], tuple[str, str, int, int, str | None]]:
        kind = None if self.kind is None else self.kind.value
        return (type(self), (self.message, self.path, self.line, self.column, kind))


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
