"""``asciigrid.open_strips``: one grid read strip by strip equals :func:`asciigrid.read`
(values, type, nodata, CRS, warnings, errors), whatever the strip height, for large files
parsed strip by strip and for everything read whole; and ``write_geotiff`` of it equals the
GeoTIFF of the whole grid."""

from __future__ import annotations

import gzip
import warnings
import zipfile
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from asciigrid import geotiff

HEADER = "ncols {c}\nnrows {r}\nxllcorner 10\nyllcorner 20\ncellsize 5\nNODATA_value -9999\n"


def joined(grid: asciigrid.GridStrips, rows: int | None = None, buffers: int = 0) -> np.ndarray:
    """The strips stacked (copied: with buffers they are overwritten)."""
    parts = []
    expected_start = 0
    for start, strip in grid.strips(rows, buffers=buffers):
        assert start == expected_start
        expected_start += strip.shape[0]
        parts.append(strip.copy())
    assert expected_start == grid.header.nrows
    return np.vstack(parts)


def int_grid(path: Path, ncols: int = 900, nrows: int = 1300, after: str = "") -> Path:
    """An int32 grid of more than 4 MiB (read window by window), every cell different."""
    cells = (np.arange(ncols * nrows, dtype=np.int64) * 7919 % 100003 - 50000).reshape(nrows, -1)
    cells[5, 7] = -9999
    body = "\n".join(" ".join(map(str, row)) for row in cells)
    path.write_text(HEADER.format(c=ncols, r=nrows) + body + "\n" + after)
    assert path.stat().st_size > 4 << 20
    return path


@pytest.mark.parametrize("rows", [None, 1, 13, 256, 5000])
def test_strips_of_a_large_file_equal_the_whole_read(big_grid: Path, rows: int | None) -> None:
    whole = asciigrid.read(big_grid)
    grid = asciigrid.open_strips(big_grid)
    assert grid.header == whole.header
    assert grid.header.dtype == whole.data.dtype
    assert grid.prj == whole.prj and grid.path == whole.path
    np.testing.assert_array_equal(joined(grid, rows, buffers=2), whole.data)


def test_int32_forced_types_and_nodata(tmp_path: Path) -> None:
    path = int_grid(tmp_path / "i.asc")
    for dtype in (None, "float64"):
        whole = asciigrid.read(path, dtype=dtype)
        grid = asciigrid.open_strips(path, dtype=dtype)
        assert grid.header.dtype == whole.data.dtype
        assert grid.header.nodata == whole.nodata
        np.testing.assert_array_equal(joined(grid, 100), whole.data)


@pytest.mark.parametrize("kind", ["small", "gzip", "bytes", "zip member"])
def test_what_is_read_whole_is_handed_out_in_strips(tmp_path: Path, kind: str) -> None:
    text = (HEADER.format(c=3, r=4) + "1 2 3\n4.5 -9999 6\n7 8 9\n10 11 12\n").encode()
    source: object
    if kind == "small":
        source = tmp_path / "s.asc"
        source.write_bytes(text)
    elif kind == "gzip":
        source = tmp_path / "s.asc.gz"
        source.write_bytes(gzip.compress(text))
    elif kind == "zip member":
        with zipfile.ZipFile(tmp_path / "tiles.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("in/s.asc", text)
        source = str(tmp_path / "tiles.zip" / "in" / "s.asc")
    else:
        source = text
    whole = asciigrid.read(source)  # type: ignore[arg-type]
    grid = asciigrid.open_strips(source)  # type: ignore[arg-type]
    np.testing.assert_array_equal(joined(grid, 3), whole.data)
    assert grid.header.nodata == whole.nodata == -9999
    assert (grid.prj, grid.path) == (whole.prj, whole.path)


def test_text_after_the_grid_warns_as_read_does_and_strict_refuses(tmp_path: Path) -> None:
    path = int_grid(tmp_path / "t.asc", after="7 7 7\n")
    with pytest.warns(asciigrid.AsciiGridWarning) as by_read:
        whole = asciigrid.read(path)
    with pytest.warns(asciigrid.AsciiGridWarning) as by_strips:
        grid = asciigrid.open_strips(path)
    assert [str(w.message) for w in by_strips] == [str(w.message) for w in by_read]
    np.testing.assert_array_equal(joined(grid, 500), whole.data)
    with pytest.raises(asciigrid.ParseError):
        asciigrid.open_strips(path, strict=True)


def test_a_bad_value_is_read_s_error_from_the_strip_holding_it(tmp_path: Path) -> None:
    path = int_grid(tmp_path / "b.asc")
    lines = path.read_text().split("\n")
    lines[6 + 1000] = "x4 " + lines[6 + 1000].split(" ", 1)[1]  # row 1000's first value
    path.write_text("\n".join(lines))
    with pytest.raises(asciigrid.ParseError) as by_read:
        asciigrid.read(path)
    grid = asciigrid.open_strips(path)  # the first pass counts values; it does not parse
    strips = grid.strips(400)
    assert next(strips)[0] == 0 and next(strips)[0] == 400  # rows before the bad one
    with pytest.raises(asciigrid.ParseError) as by_strips:
        next(strips)
    assert str(by_strips.value) == str(by_read.value)
    assert ":1007:1:" in str(by_strips.value)


def test_a_false_progress_cancels(big_grid: Path) -> None:
    grid = asciigrid.open_strips(big_grid)
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        seen.append((done, total))
        return done == 0

    with pytest.raises(asciigrid.Cancelled):
        list(grid.strips(1000, progress=progress))
    assert seen[0] == (0, grid.header.nrows)


def test_write_geotiff_of_strips_equals_the_grid_s(big_grid: Path, tmp_path: Path) -> None:
    gdal = pytest.importorskip("osgeo.gdal")
    geotiff.write_geotiff(tmp_path / "whole.tif", asciigrid.read(big_grid), crs_wkt=None)
    geotiff.write_geotiff(tmp_path / "strips.tif", asciigrid.open_strips(big_grid))
    a, b = (gdal.Open(str(tmp_path / n)) for n in ("whole.tif", "strips.tif"))
    np.testing.assert_array_equal(a.ReadAsArray(), b.ReadAsArray())
    assert a.GetGeoTransform() == b.GetGeoTransform()
    band_a, band_b = a.GetRasterBand(1), b.GetRasterBand(1)
    assert band_a.GetNoDataValue() == band_b.GetNoDataValue() == -9999
    assert band_a.GetOverviewCount() == band_b.GetOverviewCount() > 0
    np.testing.assert_array_equal(
        band_a.GetOverview(0).ReadAsArray(), band_b.GetOverview(0).ReadAsArray()
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["strips.tif", "whole.tif"]


def test_rows_must_be_positive(big_grid: Path) -> None:
    with pytest.raises(ValueError, match="rows"):
        next(asciigrid.open_strips(big_grid).strips(0))


def test_no_warning_when_the_grid_is_clean(big_grid: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        joined(asciigrid.open_strips(big_grid))
