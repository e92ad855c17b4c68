"""Helpers of the QGIS plugin tests (imported by the tests and by conftest.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from measure_work import bytes_read_and_written

REPO_ROOT = Path(__file__).resolve().parents[2]
# The plugins folder the tests import ``asciigrid_qgis`` from (see pyproject.toml's pythonpath).
PLUGINS = Path(__file__).resolve().parent / "plugins"

PROVIDER = "asciigrid"
ALGORITHMS = ("fastload", "batchimport", "stats")
FILE_OUTPUTS = ("outputRaster", "outputFile", "outputVector", "outputLayer", "outputHtml")


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
    """A feedback that presses Cancel once progress passes ``percent``, noting how many bytes
    the process had read and written by then: what it reads and writes after is the work
    done after the cancel (counted, not timed, so a busy machine does not change it)."""

    def __init__(self, percent: float) -> None:
        from qgis.core import QgsProcessingFeedback

        self.feedback = QgsProcessingFeedback()
        self.percent = percent
        self.io_at_cancel: int | None = None
        self.feedback.progressChanged.connect(self._on_progress)

    def _on_progress(self, progress: float) -> None:
        if progress >= self.percent and self.io_at_cancel is None:
            self.io_at_cancel = bytes_read_and_written()
            self.feedback.cancel()

    def io_since_cancel(self) -> int:
        """Bytes read and written since the cancel (which must have happened)."""
        assert self.io_at_cancel is not None, "progress never reached the cancel point"
        return bytes_read_and_written() - self.io_at_cancel


def warnings_feedback() -> tuple[Any, list[str]]:
    """A feedback whose log warnings (``pushWarning``) are collected in the returned list."""
    from qgis.core import QgsProcessingFeedback

    warned: list[str] = []

    class Recording(QgsProcessingFeedback):
        def pushWarning(self, warning: str) -> None:  # noqa: N802 (QGIS's name)
            warned.append(warning)
            super().pushWarning(warning)

    return Recording(), warned


def run(algorithm_id: str, parameters: dict[str, Any], feedback: Any = None) -> dict[str, Any]:
    """Run an algorithm in-process (raises QgsProcessingException on failure)."""
    import processing
    from qgis.core import QgsProcessingFeedback

    return processing.run(algorithm_id, parameters, feedback=feedback or QgsProcessingFeedback())


def assert_run(
    algorithm_id: str, parameters: dict[str, Any], feedback: Any = None
) -> dict[str, Any]:
    """Run, then check that every output the algorithm declares is in the results (what the
    graphical modeler relies on), optional files not asked for included (as ``None``), and
    that every file output asked for exists."""
    from qgis.core import QgsApplication, QgsProcessingParameterDefinition

    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    assert algorithm is not None, algorithm_id
    results = run(algorithm_id, parameters, feedback)
    declared = {o.name() for o in algorithm.outputDefinitions()}
    missing = declared - set(results)
    assert not missing, f"{algorithm_id} did not return {sorted(missing)}"
    for output in algorithm.outputDefinitions():
        if output.type() not in FILE_OUTPUTS:
            continue
        value = results[output.name()]
        destination = algorithm.parameterDefinition(output.name())
        skipped = (
            value is None
            and destination is not None
            and destination.flags() & QgsProcessingParameterDefinition.FlagOptional
            and not parameters.get(output.name())
        )
        assert skipped or (value and os.path.isfile(value)), f"{output.name()}: {value!r}"
    return results


def leftovers(folder: Path) -> list[str]:
    """Files in ``folder`` (temporary outputs included)."""
    return sorted(p.name for p in folder.iterdir())


def child_python_path(*first: Path | str) -> str:
    """``PYTHONPATH`` for a child Python that starts QGIS and imports the plugin as these tests
    do: ``first`` (ahead of site-packages, so it can shadow an installed package), the plugins
    folder, QGIS's own Python plugins (``processing``), then any ``PYTHONPATH`` inherited."""
    from qgis.core import QgsApplication

    qgis_plugins = os.path.join(QgsApplication.pkgDataPath(), "python", "plugins")
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([*map(str, first), str(PLUGINS), qgis_plugins, *inherited])


_CHILD = r"""
import json, resource, sys
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback

app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing

Processing.initialize()
package, algorithm, parameters, headroom = json.loads(sys.argv[1])
plugin = __import__(package).classFactory(None)  # kept: it owns the provider
plugin.initProcessing()
import processing, asciigrid._native  # everything loaded before the limit

with open("/proc/self/status") as status:
    vm = next(int(l.split()[1]) << 10 for l in status if l.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + headroom, resource.RLIM_INFINITY))
try:
    out = {"results": processing.run(algorithm, parameters, feedback=QgsProcessingFeedback())}
except QgsProcessingException as err:
    out = {"error": str(err)}
print(json.dumps(out, default=str))
"""


def run_in_child(
    plugin_package: str, algorithm_id: str, parameters: dict[str, Any], headroom: int
) -> dict[str, Any]:
    """Run an algorithm in a fresh QGIS process whose address space may grow by only
    ``headroom`` bytes once QGIS, the plugin and the engine are loaded: a run that needs
    more fails (``MemoryError`` or a crash) instead of swapping the machine. Returns
    ``{"results": ...}`` or ``{"error": message}``; a crash fails the calling test."""
    import json
    import subprocess

    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "MALLOC_ARENA_MAX": "2",
        "PYTHONPATH": child_python_path(),
    }
    args = json.dumps([plugin_package, algorithm_id, parameters, headroom])
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, args], capture_output=True, text=True, env=env, timeout=120
    )
    assert child.returncode == 0, f"the QGIS process died ({child.returncode}): {child.stderr}"
    return json.loads(child.stdout.strip().splitlines()[-1])
