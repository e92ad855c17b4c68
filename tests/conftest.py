"""Shared fixtures of the engine test suite.

Nothing here imports ``asciigrid`` or GDAL at import time, so test modules that check how
things behave without the native engine (e.g. the plugin's) are not affected.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# GDAL's own test files (MIT; see tests/data/gdal/gdal-aaigrid/MANIFEST.txt), shipped with the
# repository so that any checkout, GitHub's CI included, can run the suite.
GDAL_DATA = REPO_ROOT / "tests" / "data" / "gdal"
AAIGRID_DATA = GDAL_DATA / "gdal-aaigrid"
GRASS_DATA = GDAL_DATA / "gdal-grassascii"

# A grid large enough that reading it takes a measurable time (progress callbacks,
# cancellation, concurrent reads, read_header speed), small enough to keep the suite quick.
BIG_NCOLS = 2000
BIG_NROWS = 3000


@pytest.fixture(scope="session")
def aaigrid_data() -> Path:
    """``shared/testdata/gdal-aaigrid`` (GDAL's own AAIGrid test files)."""
    if not AAIGRID_DATA.is_dir():
        pytest.fail(f"GDAL test data not found at {AAIGRID_DATA}")
    return AAIGRID_DATA


@pytest.fixture(scope="session")
def grass_data() -> Path:
    """``shared/testdata/gdal-grassascii``."""
    if not GRASS_DATA.is_dir():
        pytest.fail(f"GRASS test data not found at {GRASS_DATA}")
    return GRASS_DATA


def big_grid_bytes(ncols: int = BIG_NCOLS, nrows: int = BIG_NROWS) -> bytes:
    """A float grid whose rows all differ (row r holds ``r + c/1000`` in cell c)."""
    header = (
        f"ncols {ncols}\nnrows {nrows}\nxllcorner 1000.5\nyllcorner -2000.25\n"
        f"cellsize 0.5\nNODATA_value -9999\n"
    ).encode()
    fractions = [f"{c / 1000:.3f}"[1:] for c in range(ncols)]  # ".000", ".001", ...
    rows = []
    for r in range(nrows):
        prefix = str(r)
        rows.append(" ".join(prefix + f for f in fractions))
    return header + "\n".join(rows).encode() + b"\n"


def slow_grid_bytes(ncols: int = 2500, nrows: int = 10000) -> bytes:
    """A ~250 MB float grid (one row repeated): long enough to read that progress callbacks,
    which the engine makes about every 0.1 s, are called several times before the end."""
    header = (
        f"ncols {ncols}\nnrows {nrows}\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -9999\n"
    ).encode()
    row = " ".join(f"{c}.{c % 997:03d}" for c in range(ncols)).encode() + b"\n"
    return header + row * nrows


@pytest.fixture(scope="session")
def slow_grid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The :func:`slow_grid_bytes` grid on disk (session-wide; written once)."""
    path = tmp_path_factory.mktemp("slow") / "slow.asc"
    path.write_bytes(slow_grid_bytes())
    yield path
    path.unlink()


@pytest.fixture(scope="session")
def big_grid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A ~40 MB float grid on disk (session-wide; written once)."""
    path = tmp_path_factory.mktemp("big") / "big.asc"
    path.write_bytes(big_grid_bytes())
    yield path
    path.unlink()
