"""Helpers of the QGIS plugin tests (imported by the tests and by conftest.py)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "scripts"))  # corpus.py, qgis_tools.py

PROVIDER = "asciigrid"
ALGORITHMS = ("fastload", "batchimport", "stats")


def gdal_open(path: Path | str) -> Any:
    """``gdal.Open`` with GDAL's own AAIGrid type rule (not QGIS's Float64 override)."""
    from osgeo import gdal

    before = gdal.GetConfigOption("AAIGRID_DATATYPE")
    gdal.SetConfigOption("AAIGRID_DATATYPE", None)
    try:
        return gdal.Open(str(path))
    finally:
        gdal.SetConfigOption("AAIGRID_DATATYPE", before)


class CancelAt:
    """A feedback that presses Cancel once progress passes ``percent`` and records when."""

    def __init__(self, percent: float) -> None:
        from qgis.core import QgsProcessingFeedback

        self.feedback = QgsProcessingFeedback()
        self.percent = percent
        self.cancelled_at: float | None = None
        self.feedback.progressChanged.connect(self._on_progress)

    def _on_progress(self, progress: float) -> None:
        if progress >= self.percent and self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
            self.feedback.cancel()


def run(algorithm_id: str, parameters: dict[str, Any], feedback: Any = None) -> dict[str, Any]:
    """Run an algorithm in-process (raises QgsProcessingException on failure)."""
    import processing
    from qgis.core import QgsProcessingFeedback

    return processing.run(algorithm_id, parameters, feedback=feedback or QgsProcessingFeedback())


def assert_run(
    algorithm_id: str, parameters: dict[str, Any], feedback: Any = None
) -> dict[str, Any]:
    """Run, then check that every output the algorithm declares is in the results (what the
    graphical modeler relies on) and that every file output exists."""
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    assert algorithm is not None, algorithm_id
    results = run(algorithm_id, parameters, feedback)
    declared = {o.name() for o in algorithm.outputDefinitions()}
    missing = declared - set(results)
    assert not missing, f"{algorithm_id} did not return {sorted(missing)}"
    for output in algorithm.outputDefinitions():
        if output.type() in ("outputRaster", "outputFile", "outputVector", "outputLayer"):
            value = results[output.name()]
            assert value and os.path.isfile(value), f"{output.name()}: {value!r} not written"
    return results


def leftovers(folder: Path) -> list[str]:
    """Files in ``folder`` (temporary outputs included)."""
    return sorted(p.name for p in folder.iterdir())
