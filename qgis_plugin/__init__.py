"""asciigrid for QGIS: fast, exact ESRI ASCII grid (.asc) loading, mosaicking and statistics
as Processing algorithms (``asciigrid:fastload``, ``asciigrid:batchimport``, ``asciigrid:stats``).

Installed as the folder ``asciigrid_qgis``. Importing it never imports the native engine.
"""

from __future__ import annotations

from typing import Any


def classFactory(iface: Any) -> Any:
    """QGIS's entry point (``iface`` is None under ``qgis_process``)."""
    from .plugin import AsciiGridPlugin

    return AsciiGridPlugin(iface)
