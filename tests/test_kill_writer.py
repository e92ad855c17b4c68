"""Nothing lost (issue #5): a writer killed with SIGKILL in the middle of ``asciigrid.write``
leaves the old file or no file, never a partial one.

``write`` writes to a hidden temporary file in the target's folder and renames it over the
target only once it is complete and flushed; a rename is atomic, so at every instant the
target is the old grid or the new one. A killed process cannot clean up, so its temporary
file stays behind: hidden (``.name.<random>.tmp``), never taken for a grid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asciigrid
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

SHAPE = (1500, 2000)
GEOTRANSFORM = (1000.0, 0.5, 0.0, 2000.0, 0.0, -0.5)

CHILD = f"""
import sys
import numpy as np
import asciigrid

path, version = sys.argv[1], float(sys.argv[2])
data = version + np.arange({SHAPE[0] * SHAPE[1]}, dtype=np.float64).reshape({SHAPE}) * 1e-3
while True:
    asciigrid.write(path, data, geotransform={GEOTRANSFORM}, nodata=-9999.0)
    print("wrote", flush=True)
"""


def version_data(version: float) -> np.ndarray:
    return version + np.arange(SHAPE[0] * SHAPE[1], dtype=np.float64).reshape(SHAPE) * 1e-3


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def kill_while_writing(
    child: subprocess.Popen[bytes], folder: Path, before: set[str], delay: float
) -> None:
    """SIGKILL ``child`` ``delay`` seconds after a new temporary file shows up in ``folder``
    (so the kill lands while it writes)."""
    try:
        deadline = time.monotonic() + 60
        while not set(temp_files(folder)) - before:
            assert child.poll() is None, "the writer died on its own"
            assert time.monotonic() < deadline, "no temporary file appeared"
            time.sleep(0.002)
        time.sleep(delay)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()


def kill_mid_write(target: Path, version: float, delay: float) -> None:
    """Start a process rewriting ``target`` in a loop; SIGKILL it ``delay`` s after its
    temporary file appears (that is, mid-write)."""
    before = set(temp_files(target.parent))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target), str(version)],
        stdout=subprocess.DEVNULL,
    )
    kill_while_writing(child, target.parent, before, delay)
    assert child.returncode == -signal.SIGKILL


def read_whole(target: Path) -> np.ndarray:
    grid = asciigrid.read(target, dtype="float64")
    assert grid.geotransform == GEOTRANSFORM
    assert grid.nodata == -9999.0
    return grid.data


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.05, 0.15])
def test_killed_rewrite_leaves_the_old_or_the_new_file(tmp_path: Path, delay: float) -> None:
    target = tmp_path / "dem.asc"
    old = version_data(1.0)
    asciigrid.write(target, old, geotransform=GEOTRANSFORM, nodata=-9999.0)
    kill_mid_write(target, 2.0, delay)
    data = read_whole(target)
    assert np.array_equal(data, old) or np.array_equal(data, version_data(2.0))
    # Only the target looks like a grid; the killed writer's leftover is a hidden temp file.
    assert sorted(p.name for p in tmp_path.glob("*.asc")) == ["dem.asc"]
    leftovers = temp_files(tmp_path)
    assert all(n.startswith(".dem.asc.") and n.endswith(".tmp") for n in leftovers)
    if delay == 0.0:
        # Killed within milliseconds of starting a ~20 MB write: the kill really was
        # mid-write, and the partial text never reached the target.
        assert len(leftovers) == 1
        assert (tmp_path / leftovers[0]).stat().st_size < target.stat().st_size


def test_killed_first_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "new.asc"
    kill_mid_write(target, 3.0, 0.01)
    # Killed before its first rename: no grid, or (if that write just finished) a whole one.
    if target.exists():
        assert np.array_equal(read_whole(target), version_data(3.0))
    assert [p.name for p in tmp_path.glob("*.asc")] in ([], ["new.asc"])


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    """An error mid-way (here: no such folder; a value that cannot be written) leaves no
    file and no temporary file, and an old file untouched."""
    with pytest.raises(OSError):
        asciigrid.write(tmp_path / "missing" / "x.asc", np.ones((2, 2)), geotransform=GEOTRANSFORM)
    target = tmp_path / "x.asc"
    asciigrid.write(target, np.ones((2, 2)), geotransform=GEOTRANSFORM)
    before = target.read_bytes()
    with pytest.raises(ValueError):
        asciigrid.write(target, np.ones((2, 2)), geotransform=(0, 0, 0, 0, 0, -1))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.asc"]


# --- GeoTIFF outputs (asciigrid.geotiff, which the plugin writes through) ----------------

GEOTIFF_CHILD = """
import sys
import numpy as np
from asciigrid.geotiff import write_geotiff

path, version = sys.argv[1], float(sys.argv[2])
data = (version + np.arange(1500 * 1500, dtype=np.float32) * 1e-3).reshape(1500, 1500)
while True:
    write_geotiff(path, data, geotransform=(0.0, 1.0, 0.0, 0.0, 0.0, -1.0), nodata=-9999.0)
"""


def geotiff_data(version: float) -> np.ndarray:
    return (version + np.arange(1500 * 1500, dtype=np.float32) * 1e-3).reshape(1500, 1500)


@pytest.mark.parametrize("delay", [0.0, 0.1])
def test_killed_geotiff_output_is_the_old_or_the_new_geotiff(tmp_path: Path, delay: float) -> None:
    """A GeoTIFF (data, overviews, statistics) is written to a hidden temporary file and
    moved over the target when complete: a kill leaves a whole file."""
    from asciigrid.geotiff import write_geotiff
    from osgeo import gdal

    target = tmp_path / "mosaic.tif"
    gt = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    write_geotiff(target, geotiff_data(1.0), geotransform=gt, nodata=-9999.0)
    before = set(temp_files(tmp_path))
    child = subprocess.Popen([sys.executable, "-c", GEOTIFF_CHILD, str(target), "2.0"])
    kill_while_writing(child, tmp_path, before, delay)
    ds = gdal.Open(str(target))
    band = ds.GetRasterBand(1)
    data = band.ReadAsArray()
    assert np.array_equal(data, geotiff_data(1.0)) or np.array_equal(data, geotiff_data(2.0))
    assert band.GetOverviewCount() > 0
    assert band.GetNoDataValue() == -9999.0
    band = ds = None
    leftovers = set(temp_files(tmp_path)) - before
    assert all(n.startswith(".mosaic.tif.") and n.endswith(".tmp") for n in leftovers)


def test_killed_geotiff_leftover_does_not_look_like_an_output(tmp_path: Path) -> None:
    """A killed run's hidden leftover is named `.mosaic.tif.<id>.tmp`: pathlib's
    `glob("*.tif")` (and any tool that lists by extension, hidden files included) would take
    a name ending in `.tif` for a GeoTIFF, and GDAL opens the truncated file."""
    target = tmp_path / "mosaic.tif"
    child = subprocess.Popen([sys.executable, "-c", GEOTIFF_CHILD, str(target), "2.0"])
    try:
        deadline = time.monotonic() + 60
        while not temp_files(tmp_path):
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.002)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert [p.name for p in tmp_path.glob("*.tif")] in ([], ["mosaic.tif"])


def test_an_absurd_precision_is_a_value_error_and_leaves_nothing(tmp_path: Path) -> None:
    """`precision=100000` made the writer panic in Rust's formatter (a PanicException, which
    `except Exception` does not catch) and, unwinding past the clean-up, leave its
    temporary file behind."""
    try:
        asciigrid.write(
            tmp_path / "p.asc", np.ones((2, 2)), geotransform=GEOTRANSFORM, precision=100000
        )
    except ValueError:
        pass
    finally:
        assert list(tmp_path.iterdir()) == []
