"""File names and sidecars (issue #10, findings 18 and 19): an unreadable ``.prj`` costs the
CRS, not the grid (as in GDAL), and a file name that is not valid UTF-8 reads like any other."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Callable

import asciigrid
import pytest
from unprivileged import as_unprivileged_user

GRID = b"ncols 3\nnrows 2\nxllcorner 10\nyllcorner 20\ncellsize 5\n1 2 3\n4 5 6\n"
WKT = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]]'
)


UNREADABLE_PRJ_CHECK = """
import sys, warnings
import asciigrid
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    grid = asciigrid.read(sys.argv[1])
assert grid.crs_wkt is None, grid.crs_wkt
assert grid.data.tolist() == [[1, 2, 3], [4, 5, 6]], grid.data
assert len(caught) == 1 and caught[0].category is asciigrid.AsciiGridWarning, caught
print(caught[0].message)
"""


def test_unreadable_prj_reads_the_grid_without_crs() -> None:
    if sys.platform == "win32":
        pytest.skip("POSIX file modes")
    # A folder every user can enter (pytest's own tmp folders are private to root).
    folder = Path(tempfile.mkdtemp(prefix="asciigrid-prj-"))
    try:
        folder.chmod(0o755)
        grid = folder / "locked.asc"
        grid.write_bytes(GRID)
        grid.chmod(0o644)
        prj = folder / "locked.prj"
        prj.write_text(WKT)
        prj.chmod(0)
        done = subprocess.run(
            [sys.executable, "-c", UNREADABLE_PRJ_CHECK, str(grid)],
            capture_output=True,
            text=True,
            timeout=60,
            **as_unprivileged_user(),
        )
    finally:
        shutil.rmtree(folder)
    assert done.returncode == 0, done.stderr
    assert "locked.prj" in done.stdout and "without a CRS" in done.stdout, done.stdout


def test_readable_prj_gives_no_warning(tmp_path: Path) -> None:
    grid = tmp_path / "ok.asc"
    grid.write_bytes(GRID)
    (tmp_path / "ok.prj").write_text(WKT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert asciigrid.read(grid).crs_wkt is not None


# A Latin-1 'é' on its own is not UTF-8: os.fsdecode keeps it as the surrogate '\udce9'.
RAW_NAME = b"h\xe9ight.asc"


@pytest.fixture
def non_utf8_grid(tmp_path: Path) -> Path:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("the file system insists on valid Unicode names")
    raw = os.path.join(os.fsencode(tmp_path), RAW_NAME)
    with open(raw, "wb") as f:
        f.write(GRID)
    return Path(os.fsdecode(raw))


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda p: int(asciigrid.read(p).data.sum()), 21),
        (lambda p: asciigrid.read_header(p).ncols, 3),
        (lambda p: asciigrid.stats(p).count, 6),
        (lambda p: int(asciigrid.mosaic([p]).data.sum()), 21),
    ],
    ids=["read", "read_header", "stats", "mosaic"],
)
def test_non_utf8_file_name_is_read(
    non_utf8_grid: Path, call: Callable[[Path], int], expected: int
) -> None:
    assert call(non_utf8_grid) == expected


def test_non_utf8_file_name_in_an_error(non_utf8_grid: Path) -> None:
    non_utf8_grid.write_bytes(GRID.replace(b"4 5", b"4 x"))
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read(non_utf8_grid)
    # The undecodable byte shows as U+FFFD; the rest of the name and the place are exact.
    assert info.value.path.endswith("h\ufffdight.asc")
    assert (info.value.line, info.value.column) == (7, 3)
