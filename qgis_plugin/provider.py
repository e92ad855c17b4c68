"""The ``asciigrid`` Processing provider."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .algorithms import ALGORITHMS
from .algorithms.base import ICON, RASTER_EXTENSIONS, TABLE_EXTENSIONS
from .engine import engine_status
from .metadata import plugin_version


class AsciiGridProvider(QgsProcessingProvider):
    """Registers ``asciigrid:fastload``, ``asciigrid:batchimport`` and ``asciigrid:stats``.

    Loading the provider never touches the native engine: a missing engine only makes the
    algorithms fail with a message saying how to install it.
    """

    def id(self) -> str:
        return "asciigrid"

    def name(self) -> str:
        return "asciigrid"

    def longName(self) -> str:
        return f"asciigrid {plugin_version()} (fast ESRI ASCII grids)"

    def icon(self) -> QIcon:
        return QIcon(ICON)

    def svgIconPath(self) -> str:
        return ICON

    def versionInfo(self) -> str:
        return f"{plugin_version()}; {engine_status()}"

    def loadAlgorithms(self) -> None:
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())

    def supportedOutputRasterLayerExtensions(self) -> list[str]:
        return list(RASTER_EXTENSIONS)

    def supportedOutputVectorLayerExtensions(self) -> list[str]:
        return list(TABLE_EXTENSIONS)

    def supportedOutputTableExtensions(self) -> list[str]:
        return list(TABLE_EXTENSIONS)

    def defaultVectorFileExtension(self, hasGeometry: bool = True) -> str:  # noqa: N803
        return "gpkg" if hasGeometry else "csv"

    def defaultRasterFileExtension(self) -> str:
        return "tif"
