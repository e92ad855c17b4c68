"""Exceptions shared by the plugin's modules (pure Python: importing them never fails)."""

from __future__ import annotations

__all__ = ["Cancelled", "OutputError"]


class Cancelled(Exception):
    """The user pressed Cancel (seen by a progress callback or between steps)."""


class OutputError(RuntimeError):
    """GDAL could not write an output (the message names the file)."""
