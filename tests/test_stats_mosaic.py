"""``stats`` equals numpy on GDAL's array; ``mosaic`` of cut tiles gives back the grid."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import asciigrid
import numpy as np
import pytest
from gdal_reference import assert_same_values, gdal_read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- writing test grids (independently of asciigrid.write) --------------------------------------


def token(v: Any, kind: str) -> str:
    if kind == "i":
        return str(int(v))
    return repr(float(v))  # the exact double of the value: reads back to the same float32


def grid_text(
    data: np.ndarray,
    x0: float,
    y0: float,
    dx: float,
    dy: float | None = None,
    nodata: float | None = None,
) -> str:
    """ESRI ASCII grid text with west edge ``x0`` and north edge ``y0``."""
    dy = dx if dy is None else dy
    nrows, ncols = data.shape
    lines = [
        f"ncols {ncols}",
        f"nrows {nrows}",
        f"xllcorner {x0!r}",
        f"yllcorner {y0 - nrows * dy!r}",
    ]
    lines += [f"cellsize {dx!r}"] if dx == dy else [f"dx {dx!r}", f"dy {dy!r}"]
    if nodata is not None:
        lines.append(f"NODATA_value {token(nodata, data.dtype.kind)}")
    kind = data.dtype.kind
    lines += [" ".join(token(v, kind) for v in row) for row in data]
    return "\n".join(lines) + "\n"


def write_grid(path: Path, data: np.ndarray, x0: float, y0: float, dx: float, **kw: Any) -> Path:
    path.write_text(grid_text(data, x0, y0, dx, **kw))
    return path


# --- the numpy reference -----------------------------------------------------------------------


def valid_values(array: np.ndarray, nodata: float | None) -> np.ndarray:
    """Cells that are neither nodata nor NaN, as float64 (numpy's view of the statistics)."""
    values = array.ravel()
    keep = np.ones(values.shape, bool)
    if values.dtype.kind == "f":
        keep &= ~np.isnan(values)
    if nodata is not None and not np.isnan(nodata):
        keep &= values != values.dtype.type(nodata)
    return values[keep].astype(np.float64)


def assert_stats_equal_numpy(s: asciigrid.Stats, valid: np.ndarray, total: int) -> None:
    assert s.count == valid.size
    assert s.nodata_count == total - valid.size
    if valid.size == 0:
        assert s.min is None and s.max is None and s.mean is None and s.std is None
        assert s.sum == 0
        return
    assert s.min == valid.min()
    assert s.max == valid.max()
    assert s.range == valid.max() - valid.min()
    mean = valid.mean()
    assert s.sum == pytest.approx(valid.sum(), rel=1e-12, abs=1e-9)
    assert s.mean == pytest.approx(mean, rel=1e-12, abs=1e-12)
    assert s.std == pytest.approx(valid.std(), rel=1e-9, abs=1e-12)
    assert s.sum_of_squares == pytest.approx(((valid - mean) ** 2).sum(), rel=1e-9, abs=1e-9)


def stats_of_file(path: Path, dtype: str | None = None) -> tuple[np.ndarray, int]:
    ref = gdal_read(path, dtype=dtype)
    return valid_values(ref.array, ref.nodata), ref.array.size


# --- stats: single sources ----------------------------------------------------------------------

GDAL_READABLE = [
    "pixel_per_line.asc",
    "pixel_per_line_comma.asc",
    "nodata_float.asc",
    "nodata_int.asc",
    "float64.asc",
    "byte.tif.grd",
]


@pytest.mark.parametrize("name", GDAL_READABLE)
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_stats_of_gdal_files(aaigrid_data: Path, name: str, dtype: str | None) -> None:
    path = aaigrid_data / name
    s = asciigrid.stats(str(path), dtype=dtype)
    assert isinstance(s, asciigrid.Stats)
    assert_stats_equal_numpy(s, *stats_of_file(path, dtype))


def test_stats_with_nan_and_nodata(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    data = (rng.standard_normal((40, 30)) * 100).astype(np.float32)
    data[rng.random(data.shape) < 0.1] = -9999.0
    data[rng.random(data.shape) < 0.05] = np.nan
    data[0, 0] = 1.5  # GDAL 3.6 cannot read a first data line starting with nan
    path = write_grid(tmp_path / "g.asc", data, 0.0, 40.0, 1.0, nodata=-9999.0)
    s = asciigrid.stats(str(path))
    assert_stats_equal_numpy(s, *stats_of_file(path))
    assert s.count + s.nodata_count == data.size


def test_stats_of_int_grid_sums_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(-(2**31), 2**31 - 1, (50, 70), dtype=np.int64).astype(np.int32)
    data[3, 4] = -9999
    path = write_grid(tmp_path / "i.asc", data, 0.0, 50.0, 1.0, nodata=-9999)
    s = asciigrid.stats(str(path))
    valid, total = stats_of_file(path)
    assert_stats_equal_numpy(s, valid, total)
    assert s.min == data[data != -9999].min() and s.max == data[data != -9999].max()


def test_stats_of_all_nodata(tmp_path: Path) -> None:
    data = np.full((3, 4), -1, np.int32)
    path = write_grid(tmp_path / "empty.asc", data, 0.0, 3.0, 1.0, nodata=-1)
    s = asciigrid.stats(str(path))
    assert_stats_equal_numpy(s, np.array([]), 12)
    assert s.range is None


def test_stats_without_nodata_counts_every_cell(aaigrid_data: Path) -> None:
    s = asciigrid.stats(str(aaigrid_data / "byte.tif.grd"))
    assert (s.count, s.nodata_count) == (400, 0)


def test_stats_of_a_big_grid(big_grid: Path) -> None:
    """Parallel chunks, no grid in memory: still numpy's numbers."""
    s = asciigrid.stats(str(big_grid))
    valid, total = stats_of_file(big_grid)
    assert_stats_equal_numpy(s, valid, total)


@st.composite
def small_grids(draw: st.DrawFn) -> tuple[np.ndarray, float | None]:
    kind = draw(st.sampled_from(["int32", "float32"]))
    shape = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    if kind == "int32":
        elements = st.integers(-(10**6), 10**6)
    else:
        elements = st.one_of(
            st.floats(-1e6, 1e6, width=32),
            st.just(float("nan")),
            st.sampled_from([0.0, -0.0, 0.5]),
        )
    values = draw(st.lists(elements, min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))
    data = np.array(values, dtype=kind).reshape(shape)
    if kind == "float32" and np.isnan(data[0, 0]):
        data[0, 0] = 1.0
    nodata = draw(st.sampled_from([None, -9999, 0]))
    for i in draw(st.lists(st.integers(0, data.size - 1), max_size=data.size)):
        if nodata is not None and i > 0:
            data.ravel()[i] = nodata
    return data, nodata


@SETTINGS
@given(grid=small_grids(), bins=st.integers(1, 12))
def test_generated_stats_and_histogram_equal_numpy(
    tmp_path: Path, grid: tuple[np.ndarray, float | None], bins: int
) -> None:
    data, nodata = grid
    path = write_grid(tmp_path / "h.asc", data, 0.0, 10.0, 1.0, nodata=nodata)
    valid, total = stats_of_file(path)
    s = asciigrid.stats(str(path), histogram_bins=bins)
    assert isinstance(s, asciigrid.Stats)
    assert_stats_equal_numpy(s, valid, total)
    if valid.size:
        counts, edges = np.histogram(valid, bins=bins)
        assert s.histogram is not None
        assert list(s.histogram[0]) == counts.tolist()
        np.testing.assert_allclose(s.histogram[1], edges, rtol=1e-12, atol=0)


# --- stats: several sources -------------------------------------------------------------------


def three_grids(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(2)
    paths = []
    for i in range(3):
        data = (rng.standard_normal((20 + i, 15)) * (i + 1) * 10).astype(np.float32)
        data[rng.random(data.shape) < 0.1] = -9999.0
        data[0, 0] = 1.0
        paths.append(write_grid(tmp_path / f"t{i}.asc", data, 0.0, 100.0, 1.0, nodata=-9999.0))
    return paths


def test_stats_of_several_sources(tmp_path: Path) -> None:
    paths = three_grids(tmp_path)
    s = asciigrid.stats([str(p) for p in paths])
    assert isinstance(s, asciigrid.Stats)
    parts = [stats_of_file(p) for p in paths]
    valid = np.concatenate([v for v, _ in parts])
    assert_stats_equal_numpy(s, valid, sum(t for _, t in parts))


def test_stats_per_source(tmp_path: Path) -> None:
    paths = three_grids(tmp_path)
    result = asciigrid.stats([str(p) for p in paths], per_source=True)
    assert isinstance(result, list) and len(result) == len(paths) + 1
    parts = [stats_of_file(p) for p in paths]
    for s, path, (valid, total) in zip(result, paths, parts):
        assert s.path == str(path)
        assert_stats_equal_numpy(s, valid, total)
    combined = result[-1]
    assert combined.path is None
    assert_stats_equal_numpy(
        combined, np.concatenate([v for v, _ in parts]), sum(t for _, t in parts)
    )


def test_stats_of_mixed_source_kinds(tmp_path: Path) -> None:
    paths = three_grids(tmp_path)
    sources = [
        str(paths[0]),
        paths[1].read_bytes(),
        asciigrid.NamedBytes("zip/t2.asc", paths[2].read_bytes()),
    ]
    result = asciigrid.stats(sources, per_source=True)
    assert isinstance(result, list)
    assert [s.path for s in result] == [str(paths[0]), "<bytes>", "zip/t2.asc", None]
    for s, path in zip(result, paths):
        assert_stats_equal_numpy(s, *stats_of_file(path))


def test_stats_names_the_failing_source(tmp_path: Path) -> None:
    paths = three_grids(tmp_path)
    bad = tmp_path / "bad.asc"
    bad.write_text("ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 x4\n")
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.stats([str(paths[0]), str(bad), str(paths[1])])
    assert info.value.path == str(bad)
    assert (info.value.line, info.value.column) == (6, 3)


# --- histogram --------------------------------------------------------------------------------


def test_histogram_with_range_and_values_on_edges(tmp_path: Path) -> None:
    data = np.arange(0, 110, dtype=np.int32).reshape(10, 11)  # 0..109, 10 and 100 on edges
    path = write_grid(tmp_path / "e.asc", data, 0.0, 10.0, 1.0)
    s = asciigrid.stats(str(path), histogram_bins=10, histogram_range=(0.0, 100.0))
    assert isinstance(s, asciigrid.Stats) and s.histogram is not None
    counts, edges = np.histogram(data.astype(np.float64), bins=10, range=(0.0, 100.0))
    assert list(s.histogram[0]) == counts.tolist()
    np.testing.assert_allclose(s.histogram[1], edges, rtol=1e-12)
    assert s.count == 110  # values outside the range still count in the statistics


def test_histogram_default_range_is_min_max(aaigrid_data: Path) -> None:
    path = aaigrid_data / "byte.tif.grd"
    s = asciigrid.stats(str(path), histogram_bins=7)
    assert isinstance(s, asciigrid.Stats) and s.histogram is not None
    valid, _ = stats_of_file(path)
    counts, edges = np.histogram(valid, bins=7)
    assert list(s.histogram[0]) == counts.tolist()
    np.testing.assert_allclose(s.histogram[1], edges, rtol=1e-12)


def test_histogram_float32_values_and_combined_sources(tmp_path: Path) -> None:
    paths = three_grids(tmp_path)
    result = asciigrid.stats(
        [str(p) for p in paths], histogram_bins=16, histogram_range=(-30.0, 30.0), per_source=True
    )
    assert isinstance(result, list)
    parts = [stats_of_file(p)[0] for p in paths]
    for s, valid in zip(result, parts + [np.concatenate(parts)]):
        assert s.histogram is not None
        counts, edges = np.histogram(valid, bins=16, range=(-30.0, 30.0))
        assert list(s.histogram[0]) == counts.tolist()
        np.testing.assert_allclose(s.histogram[1], edges, rtol=1e-12)


def test_no_histogram_unless_asked(aaigrid_data: Path) -> None:
    s = asciigrid.stats(str(aaigrid_data / "byte.tif.grd"))
    assert isinstance(s, asciigrid.Stats)
    assert s.histogram is None


# --- mosaic -------------------------------------------------------------------------------------

X0, Y0, DX = 1000.0, 5000.0, 25.0


def original_grid(nrows: int = 37, ncols: int = 53, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.integers(-500, 500, (nrows, ncols), dtype=np.int32)
    data[rng.random(data.shape) < 0.05] = -9999
    return data


def cut(
    tmp_path: Path,
    data: np.ndarray,
    row_cuts: list[int],
    col_cuts: list[int],
    nodata: float | None = -9999,
) -> list[tuple[Path, int, int, int, int]]:
    """Write the tiles of ``data``; returns (path, row_off, col_off, nrows, ncols) each."""
    tiles = []
    for r0, r1 in zip(row_cuts, row_cuts[1:]):
        for c0, c1 in zip(col_cuts, col_cuts[1:]):
            path = tmp_path / f"tile_{r0}_{c0}.asc"
            write_grid(path, data[r0:r1, c0:c1], X0 + c0 * DX, Y0 - r0 * DX, DX, nodata=nodata)
            tiles.append((path, r0, c0, r1 - r0, c1 - c0))
    return tiles


GT = (X0, DX, 0.0, Y0, 0.0, -DX)
ROW_CUTS = [0, 10, 25, 37]
COL_CUTS = [0, 20, 41, 53]


def test_mosaic_reassembles_the_grid(tmp_path: Path) -> None:
    data = original_grid()
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS)
    grid = asciigrid.mosaic([str(t[0]) for t in tiles])
    assert isinstance(grid, asciigrid.Grid)
    assert grid.data.dtype == np.int32
    assert grid.geotransform == GT
    assert grid.nodata == -9999
    assert_same_values(grid.data, data)


def test_mosaic_order_does_not_matter(tmp_path: Path) -> None:
    data = original_grid(seed=1)
    tiles = [str(t[0]) for t in cut(tmp_path, data, ROW_CUTS, COL_CUTS)]
    random.Random(4).shuffle(tiles)
    grid = asciigrid.mosaic(tiles)
    assert grid.geotransform == GT
    assert_same_values(grid.data, data)


def test_mosaic_layout(tmp_path: Path) -> None:
    data = original_grid()
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS)
    layout = asciigrid.mosaic_layout([str(t[0]) for t in tiles])
    assert layout.header.shape == data.shape
    assert layout.header.geotransform == GT
    assert layout.tiles == [(str(p), r, c, h, w) for p, r, c, h, w in tiles]
    assert layout.skipped == []
    starts = [b[0] for b in layout.bands]
    assert starts[0] == 0
    assert sum(b[1] for b in layout.bands) == data.shape[0]
    for (s0, n0), (s1, _) in zip(layout.bands, layout.bands[1:]):
        assert s0 + n0 == s1
    for _, r, _, h, _ in layout.tiles:
        assert any(s <= r and r + h <= s + n for s, n in layout.bands), "tile split by strips"


def test_mosaic_fills_gaps_with_nodata(tmp_path: Path) -> None:
    data = original_grid(seed=2)
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS)
    _, r, c, h, w = tiles.pop(4)  # the middle tile
    grid = asciigrid.mosaic([str(t[0]) for t in tiles])
    expected = data.copy()
    expected[r : r + h, c : c + w] = -9999
    assert grid.geotransform == GT
    assert_same_values(grid.data, expected)


def test_mosaic_gap_with_explicit_nodata(tmp_path: Path) -> None:
    data = original_grid(seed=3)
    # A real -1 would collide with the nodata asked for (the mosaic refuses that).
    data[(data == -9999) | (data == -1)] = 0
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS, nodata=None)
    _, r, c, h, w = tiles.pop(0)  # the north-west corner: the extent still spans it
    tiles_paths = [str(t[0]) for t in tiles]
    grid = asciigrid.mosaic(tiles_paths + [str(cut_corner(tmp_path, data))], nodata=-1)
    expected = data.copy()
    expected[r : r + h, c : c + w] = -1
    expected[0, 0] = data[0, 0]
    assert grid.nodata == -1
    assert grid.geotransform == GT
    assert_same_values(grid.data, expected)


def cut_corner(tmp_path: Path, data: np.ndarray) -> Path:
    """A 1x1 tile holding the north-west cell, so the mosaic extent is the original one."""
    return write_grid(tmp_path / "corner.asc", data[:1, :1], X0, Y0, DX)


def test_mosaic_later_tiles_win_overlaps(tmp_path: Path) -> None:
    first = np.full((4, 4), 1, np.int32)
    second = np.full((4, 4), 2, np.int32)
    a = write_grid(tmp_path / "a.asc", first, 0.0, 4.0, 1.0, nodata=-9999)
    b = write_grid(tmp_path / "b.asc", second, 2.0, 2.0, 1.0, nodata=-9999)  # offset by (2, 2)
    grid = asciigrid.mosaic([str(a), str(b)])
    assert grid.geotransform == (0.0, 1.0, 0.0, 4.0, 0.0, -1.0)
    expected = np.full((6, 6), -9999, np.int32)
    expected[0:4, 0:4] = 1
    expected[2:6, 2:6] = 2
    assert_same_values(grid.data, expected)
    reverse = asciigrid.mosaic([str(b), str(a)])
    expected[0:4, 0:4] = 1
    assert_same_values(reverse.data, expected)


def test_mosaic_of_float_tiles_and_dtype(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    data = (rng.standard_normal((30, 40)) * 50).astype(np.float32)
    data[rng.random(data.shape) < 0.05] = np.nan
    tiles = [str(t[0]) for t in cut(tmp_path, data, [0, 13, 30], [0, 7, 40])]
    grid = asciigrid.mosaic(tiles)
    assert grid.data.dtype == np.float32
    assert_same_values(grid.data, data)
    as_f64 = asciigrid.mosaic(tiles, dtype="float64")
    assert as_f64.data.dtype == np.float64
    assert_same_values(as_f64.data, data.astype(np.float64))


def test_mosaic_of_one_tile_is_the_tile(aaigrid_data: Path) -> None:
    path = aaigrid_data / "byte.tif.grd"
    grid = asciigrid.mosaic([str(path)])
    ref = gdal_read(path)
    assert grid.geotransform == ref.geotransform
    assert_same_values(grid.data, ref.array)


def test_mosaic_of_in_memory_tiles(tmp_path: Path) -> None:
    data = original_grid(seed=4)
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS)
    sources = [asciigrid.NamedBytes(f"zip/{t[0].name}", t[0].read_bytes()) for t in tiles]
    grid = asciigrid.mosaic(sources)
    assert_same_values(grid.data, data)
    layout = asciigrid.mosaic_layout(sources)
    assert [t[0] for t in layout.tiles] == [s.name for s in sources]


@pytest.mark.parametrize(
    "shift",
    [(DX / 2, 0.0), (0.0, DX / 3), (DX / 100, 0.0)],
    ids=["half_cell_x", "third_cell_y", "hundredth_cell_x"],
)
def test_misaligned_tile_names_the_tile(tmp_path: Path, shift: tuple[float, float]) -> None:
    data = original_grid()
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS)
    path, r, c, h, w = tiles[5]
    write_grid(path, data[r : r + h, c : c + w], X0 + c * DX + shift[0], Y0 - r * DX + shift[1], DX)
    with pytest.raises(asciigrid.MosaicError) as info:
        asciigrid.mosaic([str(t[0]) for t in tiles])
    assert info.value.path == str(path)
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value)
    with pytest.raises(asciigrid.MosaicError):
        asciigrid.mosaic_layout([str(t[0]) for t in tiles])


def test_other_cell_size_names_the_tile(tmp_path: Path) -> None:
    data = original_grid()
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS)
    odd = write_grid(tmp_path / "odd.asc", np.ones((2, 2), np.int32), X0, Y0, DX * 2)
    with pytest.raises(asciigrid.MosaicError) as info:
        asciigrid.mosaic([str(t[0]) for t in tiles[:3]] + [str(odd)] + [str(tiles[3][0])])
    assert info.value.path == str(odd)


def test_iter_mosaic_strips_reassembles(tmp_path: Path) -> None:
    data = original_grid(nrows=61, ncols=29, seed=6)
    tiles = [str(t[0]) for t in cut(tmp_path, data, [0, 5, 17, 40, 61], [0, 11, 29])]
    strips = list(asciigrid.iter_mosaic_strips(tiles))
    assert strips
    row = 0
    for row_start, strip, failed in strips:
        assert row_start == row
        assert strip.shape[1] == data.shape[1]
        assert strip.dtype == np.int32
        assert failed == []
        row += strip.shape[0]
    assert row == data.shape[0]
    assert_same_values(np.concatenate([s for _, s, _ in strips]), data)
    assert_same_values(asciigrid.mosaic(tiles).data, data)


def three_strip_tiles(tmp_path: Path) -> tuple[list[str], np.ndarray]:
    """Three 300-row tiles stacked, and a far tile that widens the mosaic to 20000 columns,
    so that no two of them share a strip (a strip holds at most 8 Mi cells): three strips."""
    data = np.full((900, 20000), -9999, np.int32)
    tiles = []
    for k in range(3):
        cells = original_grid(nrows=300, ncols=7, seed=10 + k)
        data[300 * k : 300 * (k + 1), :7] = cells
        tiles.append(
            write_grid(tmp_path / f"s{k}.asc", cells, X0, Y0 - 300 * k * DX, DX, nodata=-9999)
        )
    far = original_grid(nrows=1, ncols=3, seed=20)
    data[:1, 19997:] = far
    tiles.append(write_grid(tmp_path / "far.asc", far, X0 + 19997 * DX, Y0, DX, nodata=-9999))
    return [str(t) for t in tiles], data


def test_strips_read_into_reused_buffers_equal_new_ones(tmp_path: Path) -> None:
    tiles, data = three_strip_tiles(tmp_path)
    fresh = [(r, s.copy()) for r, s, _ in asciigrid.iter_mosaic_strips(tiles)]
    assert len(fresh) == 3
    reused = []
    for (row, strip, failed), (row_fresh, want) in zip(
        asciigrid.iter_mosaic_strips(tiles, buffers=2), fresh
    ):
        assert (row, failed) == (row_fresh, [])
        assert_same_values(strip, want)  # checked before the buffer is used again
        reused.append(strip)
    assert np.shares_memory(reused[0], reused[2])
    assert not np.shares_memory(reused[0], reused[1])
    assert_same_values(np.concatenate([s for _, s in fresh]), data)


def test_rows_read_into_a_buffer_overwrite_every_cell(tmp_path: Path) -> None:
    data = original_grid()
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS)
    missing = next(t for t in tiles if t[1:3] == (25, 20))  # a gap inside the extent
    plan = asciigrid.mosaic_layout([str(t[0]) for t in tiles if t != missing])._native_plan
    out = np.full((12, 53), 12345, np.int32)  # not a value of the mosaic
    got, failed = plan.read_rows(20, 12, out=out)
    assert got is out and failed == []
    expected = data[20:32].copy()
    expected[5:, 20:41] = -9999
    assert_same_values(out, expected)


@pytest.mark.parametrize(
    "out",
    [np.empty((12, 53), np.float32), np.empty((12, 52), np.int32), np.empty((53, 12), np.int32)],
)
def test_a_buffer_of_the_wrong_type_or_shape_is_refused(tmp_path: Path, out: np.ndarray) -> None:
    tiles = [str(t[0]) for t in cut(tmp_path, original_grid(), ROW_CUTS, COL_CUTS)]
    plan = asciigrid.mosaic_layout(tiles)._native_plan
    with pytest.raises(ValueError, match="12 rows of 53"):
        plan.read_rows(20, 12, out=out)
    with pytest.raises(ValueError, match="buffers"):
        next(asciigrid.iter_mosaic_strips(tiles, buffers=-1))


@settings(SETTINGS, max_examples=30)
@given(
    shape=st.tuples(st.integers(1, 30), st.integers(1, 30)),
    data=st.data(),
)
def test_generated_cuts_reassemble(tmp_path: Path, shape: tuple[int, int], data: Any) -> None:
    nrows, ncols = shape
    rows = sorted(
        set(data.draw(st.lists(st.integers(1, nrows - 1), max_size=4)) if nrows > 1 else [])
    )
    cols = sorted(
        set(data.draw(st.lists(st.integers(1, ncols - 1), max_size=4)) if ncols > 1 else [])
    )
    grid = original_grid(nrows, ncols, seed=nrows * 31 + ncols)
    folder = tmp_path / f"g{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    tiles = [str(t[0]) for t in cut(folder, grid, [0, *rows, nrows], [0, *cols, ncols])]
    data.draw(st.randoms()).shuffle(tiles)
    result = asciigrid.mosaic(tiles)
    assert result.geotransform == GT
    assert_same_values(result.data, grid)
    strips = list(asciigrid.iter_mosaic_strips(tiles))
    assert_same_values(np.concatenate([s for _, s, _ in strips]), grid)


# --- bad tiles ------------------------------------------------------------------------------------


def test_bad_header_tile_raises_or_is_skipped(tmp_path: Path) -> None:
    data = original_grid()
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS)
    bad, r, c, h, w = tiles[7]
    bad.write_text(bad.read_text().replace(f"ncols {w}", f"ncols {w}.5", 1))
    names = [str(t[0]) for t in tiles]
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.mosaic_layout(names)
    assert info.value.path == str(bad)
    layout = asciigrid.mosaic_layout(names, skip_errors=True)
    assert [name for name, _ in layout.skipped] == [str(bad)]
    assert isinstance(layout.skipped[0][1], asciigrid.ParseError)
    assert str(bad) not in [t[0] for t in layout.tiles]
    assert len(layout.tiles) == len(tiles) - 1
    strips = list(asciigrid.iter_mosaic_strips(names, skip_errors=True))
    got = np.concatenate([s for _, s, _ in strips])
    expected = data.copy()
    expected[r : r + h, c : c + w] = -9999
    assert_same_values(got, expected)


def test_bad_body_tile_raises_or_is_reported(tmp_path: Path) -> None:
    data = original_grid()
    tiles = cut(tmp_path, data, ROW_CUTS, COL_CUTS)
    bad, r, c, h, w = tiles[4]
    lines = bad.read_text().splitlines()
    header_lines = 6
    cells = lines[header_lines + 1].split()
    cells[2] = "x4"
    lines[header_lines + 1] = " ".join(cells)
    bad.write_text("\n".join(lines) + "\n")
    names = [str(t[0]) for t in tiles]

    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.mosaic(names)
    assert info.value.path == str(bad)
    assert info.value.line == header_lines + 2
    with pytest.raises(asciigrid.ParseError):
        list(asciigrid.iter_mosaic_strips(names))

    failed_tiles: list[tuple[str, Exception]] = []
    rows = []
    for _, strip, failed in asciigrid.iter_mosaic_strips(names, skip_errors=True):
        failed_tiles += failed
        rows.append(strip)
    assert [name for name, _ in failed_tiles] == [str(bad)]
    assert isinstance(failed_tiles[0][1], asciigrid.ParseError)
    got = np.concatenate(rows)
    outside = np.ones(data.shape, bool)
    outside[r : r + h, c : c + w] = False
    assert_same_values(got[outside], data[outside])
