"""The Python API's statistics: named for what they hold, and merged by the engine."""

from __future__ import annotations

import math
from pathlib import Path

import asciigrid
import numpy as np
import pytest


def write_grids(tmp_path: Path) -> tuple[list[Path], np.ndarray]:
    rng = np.random.default_rng(14)
    paths, values = [], []
    for i, (rows, cols) in enumerate([(30, 40), (7, 5), (50, 3)]):
        cells = np.round(rng.normal(100 * i, 10 + i, (rows, cols)), 2)
        cells[rng.random((rows, cols)) < 0.1] = -9999
        path = tmp_path / f"t{i}.asc"
        asciigrid.write(path, cells, geotransform=(0, 1, 0, rows, 0, -1), nodata=-9999)
        paths.append(path)
        values.append(cells[cells != -9999].astype(np.float32).astype(np.float64))
    return paths, np.concatenate(values)


def test_sum_of_squared_deviations_and_its_old_name(tmp_path: Path) -> None:
    paths, values = write_grids(tmp_path)
    s = asciigrid.stats(paths)
    expected = ((values - values.mean()) ** 2).sum()
    assert s.sum_of_squared_deviations == pytest.approx(expected, rel=1e-9)
    assert s.sum_of_squares == s.sum_of_squared_deviations  # the documented alias
    assert s.std == pytest.approx(math.sqrt(s.sum_of_squared_deviations / s.count), rel=1e-12)


def test_combine_merges_per_file_statistics_as_stats_does(tmp_path: Path) -> None:
    paths, values = write_grids(tmp_path)
    *per, together = asciigrid.stats(
        paths, per_source=True, histogram_bins=7, histogram_range=(-50, 250)
    )
    combined = asciigrid.Stats.combine(per)
    assert (combined.count, combined.nodata_count) == (together.count, together.nodata_count)
    assert (combined.min, combined.max) == (together.min, together.max)
    assert combined.histogram == together.histogram
    for name in ("sum", "mean", "std", "sum_of_squared_deviations"):
        assert getattr(combined, name) == pytest.approx(getattr(together, name), rel=1e-12)
    assert combined.mean == pytest.approx(values.mean(), rel=1e-12)
    assert combined.std == pytest.approx(values.std(), rel=1e-9)
    # Statistics made elsewhere (QGIS's, say) merge the same way.
    rebuilt = [
        asciigrid.Stats(
            count=p.count,
            nodata_count=p.nodata_count,
            min=p.min,
            max=p.max,
            sum=p.sum,
            mean=p.mean,
            std=None,
            sum_of_squared_deviations=p.sum_of_squared_deviations,
        )
        for p in per
    ]
    assert asciigrid.Stats.combine(rebuilt).std == pytest.approx(together.std, rel=1e-12)


def test_combine_of_nothing_and_of_empty_parts() -> None:
    empty = asciigrid.Stats(0, 5, None, None, 0.0, None, None, 0.0)
    for parts in ([], [empty, empty]):
        s = asciigrid.Stats.combine(parts)
        assert (s.count, s.min, s.max, s.mean, s.std) == (0, None, None, None, None)
    assert asciigrid.Stats.combine([empty, empty]).nodata_count == 10


def test_combine_refuses_what_cannot_be_merged(tmp_path: Path) -> None:
    paths, _ = write_grids(tmp_path)
    a = asciigrid.stats(paths[0], histogram_bins=4)
    b = asciigrid.stats(paths[1], histogram_bins=4)  # other edges: its own min and max
    with pytest.raises(ValueError, match="same bin edges"):
        asciigrid.Stats.combine([a, b])
    with pytest.raises(ValueError, match="same bin edges"):
        asciigrid.Stats.combine([a, asciigrid.stats(paths[1])])
    broken = asciigrid.Stats(3, 0, None, 2.0, 3.0, 1.0, 0.5, 1.0)  # valid cells, no min
    with pytest.raises(ValueError, match="min <= max and a mean"):
        asciigrid.Stats.combine([broken])
    negative = asciigrid.Stats(3, 0, 1.0, 2.0, 3.0, 1.0, 0.5, -1.0)
    with pytest.raises(ValueError, match="at least 0"):
        asciigrid.Stats.combine([negative])
