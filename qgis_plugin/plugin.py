"""The QGIS plugin object: registers the Processing provider, nothing else."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsApplication

from .provider import AsciiGridProvider


class AsciiGridPlugin:
    """Works with and without a GUI: ``qgis_process`` creates it with ``iface=None`` and
    only calls :meth:`initProcessing`; QGIS desktop calls :meth:`initGui`."""

    def __init__(self, iface: Any | None = None) -> None:
        self.iface = iface
        self.provider: AsciiGridProvider | None = None

    def initProcessing(self) -> None:
        if self.provider is None:
            self.provider = AsciiGridProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
