"""Forked children (multiprocessing's default start method on Linux, dask's ``processes``
scheduler) read with the engine too, after the parent has: its thread pool is per process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")

SCRIPT = """
import multiprocessing, sys
import asciigrid

path = sys.argv[1]
parent = asciigrid.stats(path).sum  # the parent's threads exist now
with multiprocessing.get_context("fork").Pool(2) as pool:
    sums = pool.map(asciigrid.stats, [path] * 4)
print(parent, *(s.sum for s in sums))
"""


def test_forked_children_read_after_the_parent(tmp_path: Path) -> None:
    # Large enough that the read is parallel (windowed) in parent and children alike.
    path = tmp_path / "g.asc"
    ncols, nrows = 1000, 1500
    row = " ".join(f"{c % 97}.5" for c in range(ncols))
    header = f"ncols {ncols}\nnrows {nrows}\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
    path.write_text(header + "\n".join([row] * nrows) + "\n")
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a forked child waited for ever on the parent's engine threads")
    assert done.returncode == 0, done.stderr
    values = [float(v) for v in done.stdout.split()]
    assert len(values) == 5 and len(set(values)) == 1, values
