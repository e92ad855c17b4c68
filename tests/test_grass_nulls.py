"""GRASS ASCII grids mark null cells with ``*``: asciigrid reads them as nodata (the ``null:``
value, else -2147483648) through every reader, where GDAL 3.6 reads 0. Each expectation is
GDAL's own reading with only the ``*`` cells corrected (``gdal_read_grass``); see
docs/FORMAT.md, "GRASS ``*`` null cells"."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from asciigrid.cli import main
from gdal_reference import (
    GRASS_NULL,
    assert_same_values,
    gdal_read,
    gdal_read_grass,
    same_nodata,
)

HEADER = "north: 20\nsouth: 0\neast: 40\nwest: 0\nrows: 2\ncols: 4\n"

CASES = {
    "int": HEADER + "1 * 3 4\n5 6 * 8\n",
    "float": HEADER + "1.5 * 3 4\n5 6 * 8\n",
    "null_int": HEADER + "null: -9999\n1 * 3 4\n5 6 -9999 8\n",
    "null_float": HEADER + "null: -9999.5\n1 * 3 4\n5 6 * 8\n",
}


def tile(west: int, north: int, body: str, null: str = "") -> str:
    """A 2 x 2 GRASS tile of 10 x 10 cells whose north-west corner is (west, north)."""
    return (
        f"north: {north}\nsouth: {north - 20}\neast: {west + 20}\nwest: {west}\n"
        f"rows: 2\ncols: 2\n{null}{body}"
    )


def assert_reads_as_gdal(grid: asciigrid.Grid, text: str) -> None:
    ref = gdal_read_grass(text.encode())
    assert grid.data.dtype == ref.dtype
    assert tuple(grid.geotransform) == ref.geotransform
    assert same_nodata(grid.nodata, ref.nodata), (grid.nodata, ref.nodata)
    assert_same_values(grid.data, ref.array)


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_header_reports_the_nodata_and_type_read_gives(tmp_path: Path, name: str) -> None:
    path = tmp_path / "g.txt"
    path.write_text(CASES[name])
    header = asciigrid.read_header(path)
    grid = asciigrid.read(path)
    assert same_nodata(header.nodata, grid.nodata), (header.nodata, grid.nodata)
    assert header.dtype in (None, grid.data.dtype)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gzip_reads_as_gdal_with_star_cells_as_nodata(tmp_path: Path, name: str) -> None:
    path = tmp_path / "g.txt.gz"
    path.write_bytes(gzip.compress(CASES[name].encode()))
    assert_reads_as_gdal(asciigrid.read(path), CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_zip_member_reads_as_gdal_with_star_cells_as_nodata(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "delivery.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("grids/g.txt", CASES[name])
    assert_reads_as_gdal(asciigrid.read(f"{archive}/grids/g.txt"), CASES[name])


def test_a_file_read_window_by_window_reads_as_gdal(tmp_path: Path) -> None:
    ncols, nrows = 1000, 900
    cells = np.arange(ncols * nrows).reshape(nrows, ncols) % 997
    tokens = np.where(cells % 11 == 3, "*", (cells / 4).astype(str))
    body = "\n".join(" ".join(row) for row in tokens) + "\n"
    text = f"north: {nrows}\nsouth: 0\neast: {ncols}\nwest: 0\nrows: {nrows}\ncols: {ncols}\n"
    text += body
    assert len(text) >= 4 << 20, "large enough to be read window by window"
    path = tmp_path / "big.txt"
    path.write_text(text)
    assert_reads_as_gdal(asciigrid.read(path), text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_stats_count_star_cells_as_nodata(tmp_path: Path, name: str) -> None:
    path = tmp_path / "g.txt"
    path.write_text(CASES[name])
    ref = gdal_read_grass(path)
    valid = ref.array[ref.array != ref.array.dtype.type(ref.nodata)].astype(np.float64)
    s = asciigrid.stats(path)
    assert (s.count, s.nodata_count) == (valid.size, ref.array.size - valid.size)
    assert (s.min, s.max) == (valid.min(), valid.max())
    assert s.mean == pytest.approx(valid.mean(), rel=1e-12)


Tile = tuple[Path, str, int, int]
"""A tile's path, text, and its first row and column in the 4 x 4 mosaic."""


def grass_tiles(tmp_path: Path) -> list[Tile]:
    """Four tiles covering (0, 40)-(40, 0): the first names a null value, the others do not;
    one is a float tile."""
    texts = [
        (tile(0, 40, "1 *\n3 4\n", null="null: -9999\n"), 0, 0),
        (tile(20, 40, "* 6\n7 8\n"), 0, 2),
        (tile(0, 20, "9.5 10\n* 12\n"), 2, 0),
        (tile(20, 20, "13 14\n15 *\n"), 2, 2),
    ]
    out = []
    for i, (text, row, col) in enumerate(texts):
        path = tmp_path / f"t{i}.txt"
        path.write_text(text)
        out.append((path, text, row, col))
    return out


def expected_mosaic(tiles: list[Tile], dtype: np.dtype, nodata: float) -> np.ndarray:
    """GDAL's reading of each tile (``*`` cells as nodata) pasted in place, each tile's own
    nodata cells showing the mosaic's nodata (the mosaic's rows and columns all covered)."""
    out = np.full((4, 4), nodata, dtype=dtype)
    for _, text, r, c in tiles:
        ref = gdal_read_grass(text.encode(), dtype=dtype)
        own = ref.array == ref.array.dtype.type(ref.nodata)
        out[r : r + 2, c : c + 2] = np.where(own, dtype.type(nodata), ref.array)
    return out


def test_a_mosaic_of_grass_tiles_has_their_star_cells_as_nodata(tmp_path: Path) -> None:
    tiles = grass_tiles(tmp_path)
    grid = asciigrid.mosaic([t[0] for t in tiles])
    assert grid.data.dtype == np.float32
    assert grid.nodata == -9999
    assert_same_values(grid.data, expected_mosaic(tiles, np.dtype("float32"), -9999))


def test_mosaic_strips_of_grass_tiles_equal_the_mosaic(tmp_path: Path) -> None:
    tiles = grass_tiles(tmp_path)
    whole = asciigrid.mosaic([t[0] for t in tiles])
    strips = [s for _, s, _ in asciigrid.iter_mosaic_strips([t[0] for t in tiles])]
    assert_same_values(np.vstack(strips), whole.data)


def test_a_mosaic_of_tiles_without_null_lines_has_the_reserved_nodata(tmp_path: Path) -> None:
    tiles = grass_tiles(tmp_path)[1:]
    grid = asciigrid.mosaic([t[0] for t in tiles])
    assert grid.nodata == GRASS_NULL
    # The first tile's place is a gap: nodata too.
    expected = expected_mosaic(tiles, np.dtype("float32"), GRASS_NULL)
    assert_same_values(grid.data, expected)


def test_cli_info_reports_the_nodata_of_star_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "g.txt"
    path.write_text(CASES["float"])
    assert main(["info", "--json", str(path)]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["nodata"] == GRASS_NULL
    assert record["dtype"] == "float32"


@pytest.mark.parametrize("value", ["-2147483648", "-2147483648.0", "-2.147483648e9"])
def test_a_cell_holding_the_reserved_nodata_is_a_located_error(value: str) -> None:
    with pytest.raises(asciigrid.ParseError) as err:
        asciigrid.read(f"{HEADER}1 * 3 4\n5 {value} 7 8\n".encode())
    assert (err.value.line, err.value.column) == (8, 3)
    assert err.value.kind is asciigrid.ErrorKind.NODATA_COLLISION
    # The message says what to do: name the null value in a 'null:' line.
    assert "null:" in str(err.value)


def test_a_star_in_an_esri_grid_stays_a_located_error() -> None:
    text = b"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 *\n"
    with pytest.raises(asciigrid.ParseError) as err:
        asciigrid.read(text)
    assert (err.value.line, err.value.column) == (6, 3)
    assert err.value.kind is asciigrid.ErrorKind.BAD_VALUE


def test_a_tile_holding_the_reserved_nodata_as_data_is_named(tmp_path: Path) -> None:
    grass = tmp_path / "a.txt"
    grass.write_text(tile(0, 20, "1 *\n3 4\n"))
    esri = tmp_path / "b.asc"
    esri.write_text(
        "ncols 2\nnrows 2\nxllcorner 20\nyllcorner 0\ncellsize 10\n1 2\n3 -2147483648\n"
    )
    with pytest.raises(asciigrid.MosaicError) as err:
        asciigrid.mosaic([grass, esri])
    assert "b.asc" in str(err.value)
    assert "'*' null cells of" in str(err.value)


LINE_ENDS = {"lf": ["\n"], "crlf": ["\r\n"], "cr": ["\r"], "mixed": ["\n", "\r\n", "\r"]}


@pytest.mark.parametrize("ending", sorted(LINE_ENDS))
@pytest.mark.parametrize("fmt", ["grass", "esri"])
def test_every_line_ending_reads_as_gdal_reads_it_in_both_formats(fmt: str, ending: str) -> None:
    """Both header parsers share one line splitter: a CR-only GRASS header (refused before)
    reads like the same ESRI layout, and both as GDAL reads them."""
    header = (
        ["north: 30", "south: 0", "east: 20", "west: 0", "rows: 3", "cols: 2", "null: -9"]
        if fmt == "grass"
        else ["ncols 2", "nrows 3", "xllcorner 0", "yllcorner 0", "cellsize 10", "nodata_value -9"]
    )
    ends = LINE_ENDS[ending]
    lines = [*header, "1 2", "-9 4.5", "5 6"]
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines)).encode()
    grid = asciigrid.read(text)
    ref = gdal_read_grass(text) if fmt == "grass" else gdal_read(text)
    assert_same_values(grid.data, ref.array)
    assert grid.geotransform == ref.geotransform
    assert same_nodata(grid.nodata, ref.nodata)
    assert asciigrid.read_header(text).header_lines == len(header)
