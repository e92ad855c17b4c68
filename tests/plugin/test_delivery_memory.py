"""Peak memory of ``asciigrid:batchimport`` on an OS Terrain 50 style delivery (zips in a zip)
must not grow with the number of tiles: members are inflated when the strip that needs them
is built, and a strip is at most 8 M cells, so three times the tiles (a mosaic three times as
tall, of the same width and density) needs about the same memory (issue #11; see GROWTH).

Each run is a fresh QGIS process (the plugin registered as QGIS does) whose peak resident
memory (``VmHWM``) is read at the end.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import qgis_tools
from plugin_helpers import child_python_path

pytestmark = pytest.mark.e2e

TILE = 100  # cells a side
ACROSS = 30  # tiles: 3000 columns, so a strip holds about 27 rows of tiles
# Rows of tiles: 3240 tiles (4 strips of 2700 rows), then 9720 (12 strips). Two strips are
# held at most (one being written, the next being parsed, a few of its tiles at a time), so
# the first delivery already reaches that steady state: what grows after it grows with the
# tile count.
ROWS = (108, 324)
# The issue asks for the same peak within 10%. The strips are read into two arrays used in
# turn, so they hold the same memory whatever the tile count; what is kept per tile (the
# plan, the tile list, the report) grows a little: 321 -> 334 MB (+4%, three runs alike),
# where strips allocated afresh measured 321-353 -> 364-394 MB (+12-13%). Holding every
# member's text, the failure this guards against, adds over 30% here (6480 more tiles of
# 20 KB each).
GROWTH = 0.10

_RUN = """
import json, sys
from qgis.core import QgsApplication
app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import asciigrid_qgis
plugin = asciigrid_qgis.classFactory(None)
plugin.initProcessing()
import processing
result = processing.run(
    "asciigrid:batchimport",
    {"INPUT": [sys.argv[1]], "BUILD_OVERVIEWS": False, "OUTPUT": sys.argv[2]},
)
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print("RESULT " + json.dumps({"tiles": result["TILE_COUNT"], "peak_kb": peak}))
"""


def _delivery(out: Path, rows: int) -> int:
    """A delivery of ``rows`` x ``ACROSS`` tiles, one zip per tile in ``out``; the number of
    tiles. Every tile holds the same small integers, so writing it costs little."""
    rng = __import__("numpy").random.default_rng(5)
    body = "\n".join(
        " ".join(str(v) for v in row) for row in rng.integers(0, 10, size=(TILE, TILE))
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as outer:
        for r in range(rows):
            for c in range(ACROSS):
                name = f"T{r:03d}{c:02d}"
                header = (
                    f"ncols {TILE}\nnrows {TILE}\nxllcorner {c * TILE}\n"
                    f"yllcorner {(rows - r - 1) * TILE}\ncellsize 1\n"
                )
                packed = io.BytesIO()
                with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
                    z.writestr(f"{name}.asc", header + body + "\n")
                outer.writestr(f"data/{name.lower()}.zip", packed.getvalue())
    return rows * ACROSS


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, int]]:
    """``(delivery, tiles)``: the same width and density, growing height."""
    folder = tmp_path_factory.mktemp("deliveries")
    return [(folder / f"rows_{n}.zip", _delivery(folder / f"rows_{n}.zip", n)) for n in ROWS]


def _peak_kb(delivery: Path, out: Path) -> tuple[int, int]:
    result = subprocess.run(
        [sys.executable, "-c", _RUN, str(delivery), str(out)],
        capture_output=True,
        text=True,
        env={**qgis_tools.environment(None), "PYTHONPATH": child_python_path()},
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    measured = json.loads(lines[-1][len("RESULT ") :])
    out.unlink()
    return measured["tiles"], measured["peak_kb"]


def test_peak_memory_does_not_grow_with_the_tile_count(
    deliveries: list[tuple[Path, int]], tmp_path: Path
) -> None:
    runs = [(*_peak_kb(d, tmp_path / "mosaic.tif"), tiles) for d, tiles in deliveries]
    assert [tiles for tiles, _, _ in runs] == [n for _, n in deliveries]
    (_, first_kb, _), (_, last_kb, _) = runs
    peaks = ", ".join(f"{tiles} tiles: {kb / 1024:.0f} MB" for tiles, kb, _ in runs)
    assert last_kb <= first_kb * (1 + GROWTH), f"peak memory grew ({peaks})"
