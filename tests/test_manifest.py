"""GDAL's own AAIGrid test files: what GDAL's autotest asserts (MANIFEST.txt), asciigrid meets.

Files GDAL 3.6 reads are also compared cell by cell with GDAL. ``nodata_nan.asc`` and
``starting_with_nan.asc`` are refused by GDAL 3.6 (it predates those rules); for them the
MANIFEST's values are the reference, plus GDAL 3.6's reading of the same bytes after a
one-space nudge that lets 3.6 find the first data line.
"""

from __future__ import annotations

import math
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from gdal_reference import (
    assert_same_values,
    checksum,
    gdal_read,
    gdal_read_grass,
    same_crs,
    same_nodata,
)
from measure_work import assert_bounded, counted
from osgeo import osr

FLT_MAX = float(np.finfo(np.float32).max)
DBL_MAX = float(np.finfo(np.float64).max)

# Expected values asserted by GDAL's autotest/gdrivers/aaigrid.py (see MANIFEST.txt).
PIXEL_PER_LINE_GT = (100000.0, 50.0, 0.0, 650600.0, 0.0, -50.0)

GDAL_READABLE = [
    "pixel_per_line.asc",
    "pixel_per_line_comma.asc",
    "case_sensitive.ASC",
    "nodata_float.asc",
    "nodata_int.asc",
    "float64.asc",
    "byte.tif.grd",
]


def read(path: Path, **kwargs: object) -> asciigrid.Grid:
    return asciigrid.read(str(path), **kwargs)  # type: ignore[arg-type]


# --- every file GDAL 3.6 reads: identical to GDAL ------------------------------------------


@pytest.mark.parametrize("name", GDAL_READABLE)
def test_file_agrees_with_gdal(aaigrid_data: Path, name: str) -> None:
    path = aaigrid_data / name
    grid = read(path)
    ref = gdal_read(path)
    assert grid.data.dtype == ref.dtype
    assert grid.header.dtype == ref.dtype
    assert grid.geotransform == ref.geotransform
    assert same_nodata(grid.nodata, ref.nodata), (grid.nodata, ref.nodata)
    assert_same_values(grid.data, ref.array)
    assert checksum(grid.data) == checksum(ref.array)


# Files whose cells are all integers (a decimal nodata is fine): an int32 override is defined.
INTEGER_BODIES = ["nodata_float.asc", "nodata_int.asc", "byte.tif.grd"]


@pytest.mark.parametrize(
    ("name", "dtype"),
    [(n, d) for n in GDAL_READABLE for d in ("float32", "float64")]
    + [(n, "int32") for n in INTEGER_BODIES],
)
def test_file_with_dtype_override_agrees_with_gdal(
    aaigrid_data: Path, name: str, dtype: str
) -> None:
    path = aaigrid_data / name
    grid = read(path, dtype=dtype)
    ref = gdal_read(path, dtype=dtype)
    assert grid.data.dtype == np.dtype(dtype) == ref.dtype
    assert grid.geotransform == ref.geotransform
    assert same_nodata(grid.nodata, ref.nodata), (grid.nodata, ref.nodata)
    assert_same_values(grid.data, ref.array)


# --- pixel_per_line.asc (test_aaigrid_1, _2, _4) ---------------------------------------------


def test_pixel_per_line_checksums(aaigrid_data: Path) -> None:
    grid = read(aaigrid_data / "pixel_per_line.asc")
    assert grid.shape == (12, 15)
    assert checksum(grid.data) == 1123
    assert checksum(grid.data, (5, 5, 5, 5)) == 187


def test_pixel_per_line_georeferencing(aaigrid_data: Path) -> None:
    grid = read(aaigrid_data / "pixel_per_line.asc")
    assert grid.geotransform == PIXEL_PER_LINE_GT
    assert grid.nodata == -99999
    assert grid.data.dtype == np.float32
    assert grid.header.dtype == np.float32


def assert_albers_nad83(wkt: str | None) -> None:
    """The CRS GDAL's test_aaigrid_2 expects from the old-style Arc/Info ``.prj``."""
    assert wkt, "no CRS read from the .prj"
    assert "Albers" in wkt
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    assert srs.IsProjected()
    assert "NAD83" in (srs.GetAttrValue("GEOGCS") or "") or "1983" in wkt
    assert srs.GetProjParm("latitude_of_center") == pytest.approx(59)
    assert srs.GetProjParm("longitude_of_center") == pytest.approx(-132.5)
    assert srs.GetProjParm("standard_parallel_1") == pytest.approx(61.6666666666667)
    assert srs.GetProjParm("standard_parallel_2") == pytest.approx(68)
    assert srs.GetProjParm("false_easting") == pytest.approx(500000)
    assert srs.GetProjParm("false_northing") == pytest.approx(500000)
    assert srs.GetLinearUnits() == pytest.approx(1.0)


def test_pixel_per_line_crs_from_old_style_prj(aaigrid_data: Path) -> None:
    path = aaigrid_data / "pixel_per_line.asc"
    grid = read(path)
    raw = (aaigrid_data / "pixel_per_line.prj").read_bytes().decode()
    assert grid.prj is not None
    assert grid.prj.replace("\r\n", "\n") == raw.replace("\r\n", "\n")
    assert_albers_nad83(grid.crs_wkt)
    assert same_crs(grid.crs_wkt, gdal_read(path).wkt)


# --- pixel_per_line_comma.asc (test_aaigrid_comma) ------------------------------------------


def test_decimal_comma(aaigrid_data: Path) -> None:
    grid = read(aaigrid_data / "pixel_per_line_comma.asc")
    assert grid.geotransform == PIXEL_PER_LINE_GT
    assert checksum(grid.data) == 1123
    assert grid.nodata == -99999
    assert grid.data.dtype == np.float32
    assert grid.prj is None
    assert grid.crs_wkt is None


def test_decimal_comma_equals_decimal_point(aaigrid_data: Path) -> None:
    comma = read(aaigrid_data / "pixel_per_line_comma.asc")
    point = read(aaigrid_data / "pixel_per_line.asc")
    assert_same_values(comma.data, point.data)
    assert comma.header == point.header


# --- case_sensitive.ASC / .PRJ (test_aaigrid_5) ---------------------------------------------


def test_upper_case_prj_sidecar(aaigrid_data: Path) -> None:
    path = aaigrid_data / "case_sensitive.ASC"
    grid = read(path)
    assert checksum(grid.data) == 1123
    assert grid.prj is not None
    assert_albers_nad83(grid.crs_wkt)
    assert same_crs(grid.crs_wkt, gdal_read(path).wkt)


# --- nodata_float.asc / nodata_int.asc (test_aaigrid_6, _6bis) ------------------------------


def test_nodata_with_trailing_dot_makes_float32(aaigrid_data: Path) -> None:
    grid = read(aaigrid_data / "nodata_float.asc")
    assert grid.nodata == -99999
    assert grid.data.dtype == np.float32
    assert grid.header.dtype == np.float32


def test_integer_nodata_keeps_int32(aaigrid_data: Path) -> None:
    grid = read(aaigrid_data / "nodata_int.asc")
    assert grid.nodata == -99999
    assert grid.data.dtype == np.int32
    assert grid.header.dtype == np.int32


def test_nodata_float_and_int_hold_the_same_cells(aaigrid_data: Path) -> None:
    as_float = read(aaigrid_data / "nodata_float.asc")
    as_int = read(aaigrid_data / "nodata_int.asc")
    np.testing.assert_array_equal(as_float.data, as_int.data.astype(np.float32))
    assert checksum(as_float.data) == checksum(as_int.data)


# --- float64.asc (test_aaigrid_10) -----------------------------------------------------------


def test_float64_file_defaults_to_float32(aaigrid_data: Path) -> None:
    grid = read(aaigrid_data / "float64.asc")
    assert grid.data.dtype == np.float32


@pytest.mark.parametrize("dtype", ["float64", np.float64, np.dtype("float64")])
def test_float64_override(aaigrid_data: Path, dtype: object) -> None:
    grid = read(aaigrid_data / "float64.asc", dtype=dtype)
    assert grid.data.dtype == np.float64
    assert grid.nodata == pytest.approx(-1.234567890123, abs=1e-16)
    valid = grid.data[grid.data != grid.nodata]
    assert valid.size > 0
    assert valid.min() == pytest.approx(1.234567890123, abs=1e-16)
    assert valid.max() == pytest.approx(1.234567890123, abs=1e-16)
    masked = grid.masked()
    assert masked.min() == valid.min()
    assert masked.max() == valid.max()


# --- nodata_nan.asc (test_aaigrid_nodata_nan; GDAL 3.6 refuses it) -------------------------


def nudged(path: Path, first_data_line: int) -> bytes:
    """The file's bytes with one space before its first data line.

    GDAL 3.6 ends the header at the first line that does not begin with a letter, so the
    space lets it read files whose data starts with ``nan``; the values are unchanged.
    """
    lines = path.read_bytes().splitlines(keepends=True)
    lines[first_data_line] = b" " + lines[first_data_line]
    return b"".join(lines)


def test_nodata_nan(aaigrid_data: Path) -> None:
    path = aaigrid_data / "nodata_nan.asc"
    grid = read(path)
    assert grid.data.dtype == np.float32  # the NaN nodata forces float
    assert grid.header.dtype == np.float32
    assert grid.nodata is not None and math.isnan(grid.nodata)
    assert grid.geotransform == (0.0, 1.0, 0.0, 2.0, 0.0, -1.0)
    ref = gdal_read(nudged(path, 6), dtype="float32")
    assert_same_values(grid.data, ref.array)
    mask = grid.masked().mask
    np.testing.assert_array_equal(mask, np.isnan(ref.array))


# --- starting_with_nan.asc (test_aaigrid_starting_with_nan; GDAL 3.6 refuses it) -----------


def test_data_starting_with_nan(aaigrid_data: Path) -> None:
    path = aaigrid_data / "starting_with_nan.asc"
    grid = read(path)
    assert grid.data.dtype == np.float32
    assert grid.shape == (5, 5)
    assert checksum(grid.data) == 65300
    assert grid.nodata is None
    ref = gdal_read(nudged(path, 5))
    assert ref.dtype == np.float32
    assert grid.geotransform == ref.geotransform
    assert_same_values(grid.data, ref.array)


# --- byte.tif.grd (test_aaigrid_read_byte_tif_grd) ------------------------------------------


def test_extension_does_not_matter(aaigrid_data: Path) -> None:
    grid = read(aaigrid_data / "byte.tif.grd")
    assert checksum(grid.data) == 4672
    assert grid.shape == (20, 20)


# --- GRASS ASCII grid (optional variant) ----------------------------------------------------


def test_grass_ascii_grid(grass_data: Path) -> None:
    path = grass_data / "grassascii.txt"
    try:
        grid = read(path)
    except asciigrid.ParseError as err:
        pytest.skip(f"GRASS ASCII grids are an optional variant the engine does not read: {err}")
    assert checksum(grid.data) == 212
    assert grid.geotransform == (-100.0, 62.5, 0.0, 250.0, 0.0, -41.666666666666664)
    ref = gdal_read_grass(path)
    assert grid.data.dtype == ref.dtype
    assert same_nodata(grid.nodata, ref.nodata)
    assert_same_values(grid.data, ref.array)


# --- in-memory cases of aaigrid.py ----------------------------------------------------------

AAIGRID_15 = b"""ncols        4
nrows        1
xllcorner    0
yllcorner    -1
cellsize     1
NODATA_value  2.2250738585072014e-308
 2.2250738585072014e-308 0 1 2.3e-308
"""

AAIGRID_NULL = b"""ncols        4
nrows        1
xllcorner    0
yllcorner    -1
cellsize     1
NODATA_value  null
null 1.5 null 3.5
"""


def test_aaigrid_15_dbl_min_nodata_makes_float64() -> None:
    grid = asciigrid.read(AAIGRID_15)
    assert grid.data.dtype == np.float64
    assert grid.nodata == 2.2250738585072014e-308
    ref = gdal_read(AAIGRID_15)
    assert ref.dtype == np.float64
    assert grid.geotransform == ref.geotransform
    assert_same_values(grid.data, ref.array)


def test_aaigrid_null() -> None:
    grid = asciigrid.read(AAIGRID_NULL)
    assert grid.data.dtype == np.float32
    assert grid.nodata is not None and grid.nodata < -1e38
    masked = grid.masked()
    assert (float(masked.min()), float(masked.max())) == (1.5, 3.5)
    ref = gdal_read(AAIGRID_NULL)
    assert same_nodata(grid.nodata, ref.nodata)
    assert grid.nodata == -FLT_MAX
    assert_same_values(grid.data, ref.array)


def test_aaigrid_null_float64() -> None:
    grid = asciigrid.read(AAIGRID_NULL, dtype="float64")
    assert grid.data.dtype == np.float64
    assert grid.nodata is not None and grid.nodata < -1e308
    masked = grid.masked()
    assert (float(masked.min()), float(masked.max())) == (1.5, 3.5)
    ref = gdal_read(AAIGRID_NULL, dtype="float64")
    assert grid.nodata == ref.nodata == -DBL_MAX
    assert_same_values(grid.data, ref.array)


def test_large_dimension_but_small_file_is_an_instant_error() -> None:
    text = b"ncols 10000001\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n0 0\n"
    with counted() as work, pytest.raises(asciigrid.ParseError):
        asciigrid.read(text)
    # Refused before the 10000001 cells are allocated and filled (40 MB).
    assert_bounded(work[0], 16)
