"""The OS Terrain 50 style delivery of scripts/corpus.py (the benchmark's and the memory
test's input): its layout, read with Python's zipfile, and its tiles, read by GDAL through
nested ``/vsizip/`` paths as a GDAL user would."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import corpus
import numpy as np
import pytest
from osgeo import gdal, osr

TILES = 6
OUTER_NAME = re.compile(r"data/([a-z]{2})/(\1[0-9]{2})_OST50GRID_([0-9]{8})\.zip")


@pytest.fixture(scope="module")
def terr50_delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("delivery") / "terr50_gagg_gb.zip"
    return corpus.write_delivery(out, tiles=TILES, level=1)


def inner_zips(delivery: Path) -> dict[str, zipfile.ZipFile]:
    """Outer member name -> its inner zip, opened from memory."""
    with zipfile.ZipFile(delivery) as outer:
        return {n: zipfile.ZipFile(io.BytesIO(outer.read(n))) for n in outer.namelist()}


def tile_of(member: str) -> str:
    """``data/nt/nt00_OST50GRID_20230501.zip`` -> ``NT00``."""
    match = OUTER_NAME.fullmatch(member)
    assert match, member
    return match.group(2).upper()


def test_outer_zip_holds_one_zip_per_tile_under_its_square(terr50_delivery: Path) -> None:
    with zipfile.ZipFile(terr50_delivery) as outer:
        names = outer.namelist()
    assert len(names) == TILES
    assert names == sorted(names)
    for name in names:
        match = OUTER_NAME.fullmatch(name)
        assert match, name
        assert match.group(3) == corpus.DELIVERY_DATE


def test_inner_zip_holds_the_grid_its_prj_and_members_to_skip(terr50_delivery: Path) -> None:
    for member, inner in inner_zips(terr50_delivery).items():
        tile = tile_of(member)
        assert sorted(inner.namelist()) == sorted(
            f"{tile}.{ext}" for ext in ("asc", "prj", "gml", "xml")
        )


def test_grid_has_five_header_lines_no_nodata_and_one_decimal_heights(
    terr50_delivery: Path,
) -> None:
    for member, inner in inner_zips(terr50_delivery).items():
        tile = tile_of(member)
        lines = inner.read(f"{tile}.asc").decode("ascii").splitlines()
        keys = [line.split()[0] for line in lines[:5]]
        assert keys == ["ncols", "nrows", "xllcorner", "yllcorner", "cellsize"]
        header = {line.split()[0]: line.split()[1] for line in lines[:5]}
        assert (header["ncols"], header["nrows"], header["cellsize"]) == ("200", "200", "50")
        # the lower-left corner is the corner of the 10 km square the tile is named after
        assert corpus.os_tile_name(float(header["xllcorner"]), float(header["yllcorner"])) == tile
        rows = lines[5:]
        assert len(rows) == 200
        values = [v for row in rows for v in row.split()]
        assert len(values) == 200 * 200
        assert all(re.fullmatch(r"0|[1-9][0-9]*\.[0-9]|0\.[1-9]", v) for v in values)


@pytest.mark.parametrize(
    "spelling",
    [
        "/vsizip/{{/vsizip/{outer}/{member}}}/{tile}.asc",  # GDAL's documented form
        "/vsizip//vsizip/{outer}/{member}/{tile}.asc",  # plain chaining (GDAL 3.6 too)
    ],
)
def test_gdal_reads_a_tile_through_nested_vsizip(terr50_delivery: Path, spelling: str) -> None:
    member, inner = next(iter(inner_zips(terr50_delivery).items()))
    tile = tile_of(member)
    text = inner.read(f"{tile}.asc").decode("ascii")
    expected = np.loadtxt(io.StringIO(text), skiprows=5, dtype=np.float32)  # GDAL's type
    xll, yll = (float(line.split()[1]) for line in text.splitlines()[2:4])

    ds = gdal.Open(spelling.format(outer=terr50_delivery, member=member, tile=tile))
    assert ds is not None, gdal.GetLastErrorMsg()
    band = ds.GetRasterBand(1)
    assert band.GetNoDataValue() is None
    assert ds.GetGeoTransform() == (xll, 50.0, 0.0, yll + 10_000.0, 0.0, -50.0)
    np.testing.assert_array_equal(band.ReadAsArray(), expected)
    bng = osr.SpatialReference()
    bng.ImportFromEPSG(27700)
    assert osr.SpatialReference(wkt=ds.GetProjection()).IsSame(bng)


def test_the_same_arguments_give_the_same_bytes_in_any_number_of_processes(
    tmp_path: Path,
) -> None:
    one = corpus.write_delivery(tmp_path / "one.zip", tiles=10, level=1, processes=1)
    two = corpus.write_delivery(tmp_path / "two.zip", tiles=10, level=1, processes=2)
    assert one.read_bytes() == two.read_bytes()


@pytest.mark.parametrize(
    ("easting", "northing", "name"),
    [
        (0, 0, "SV00"),
        (320_000, 510_000, "NY21"),
        (300_000, 600_000, "NT00"),
        (651_000, 310_000, "TG51"),
        (459_999, 1_159_999, "HU55"),
    ],
)
def test_tiles_are_named_by_the_national_grid(easting: int, northing: int, name: str) -> None:
    assert corpus.os_tile_name(easting, northing) == name


@pytest.mark.parametrize(
    ("tiles", "squares"),
    [
        (corpus.DELIVERY_TILES, (70, 125)),  # the real product's extent, 0-700 km E, 0-1250 km N
        (2 * corpus.DELIVERY_TILES, (70, 200)),  # as wide, further north
        (4 * corpus.DELIVERY_TILES, (70, 200)),  # as wide, denser
    ],
)
def test_larger_deliveries_keep_the_width_and_fit_the_national_grid(
    tiles: int, squares: tuple[int, int]
) -> None:
    assert corpus._delivery_squares(tiles) == squares


def test_tiles_leave_sea_between_them() -> None:
    _, corners = corpus._delivery_plan(corpus.DELIVERY_TILES, seed=0)
    assert len(set(corners)) == corpus.DELIVERY_TILES
    width, height = corpus._delivery_squares(corpus.DELIVERY_TILES)
    assert len(corners) < 0.5 * width * height
