"""``asciigrid.write``: round trips exactly, GDAL reads the result identically, atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import asciigrid
import numpy as np
import pytest
from gdal_reference import (
    assert_same_values,
    gdal_read,
    same_crs,
    same_nodata,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from osgeo import osr

FLT_MAX = float(np.finfo(np.float32).max)
FLT_MIN = float(np.finfo(np.float32).tiny)
F32_TRUE_MIN = float(np.nextafter(np.float32(0), np.float32(1)))  # the smallest subnormal
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fresh_dir(tmp_path: Path) -> Path:
    """A new empty folder per hypothesis example (so stray files can be counted)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def read_dtype(dtype: np.dtype) -> str | None:
    """The dtype to ask for on reading back: float64 grids read as Float32 by GDAL's rule."""
    return "float64" if dtype == np.float64 else None


# --- strategies ----------------------------------------------------------------------------

SHAPES = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8)

ELEMENTS = {
    "int32": st.integers(-(2**31), 2**31 - 1),
    "float32": st.one_of(
        st.floats(width=32, allow_nan=True, allow_infinity=False),
        # (values exactly representable in float32)
        st.sampled_from([FLT_MAX, -FLT_MAX, FLT_MIN, F32_TRUE_MIN, -F32_TRUE_MIN, -0.0, 0.0]),
        st.sampled_from([16777216.0, 16777218.0, 0.10000000149011612, -9999.0]),
    ),
    "float64": st.one_of(
        st.floats(width=64, allow_nan=True, allow_infinity=False),
        st.sampled_from([1.7976931348623157e308, -5e-324, 2.2250738585072014e-308, -0.0, 0.1]),
    ),
}


def nodata_values(dtype: str) -> st.SearchStrategy[float | None]:
    common: list[Any] = [None, -9999, 0]
    if dtype == "int32":
        return st.one_of(
            st.sampled_from(common + [-(2**31), 2**31 - 1]), st.integers(-(2**31), 2**31 - 1)
        )
    if dtype == "float32":
        normal_f32 = st.floats(width=32, allow_nan=False, allow_infinity=False).filter(
            # A finite nodata below FLT_MIN (other than 0) makes GDAL pick Float64: no float32
            # grid can declare one, so it is not a round-trip case.
            lambda v: v == 0 or abs(v) >= FLT_MIN
        )
        return st.one_of(
            st.sampled_from(common + [-FLT_MAX, FLT_MAX, -3.4e38, float("nan"), -9999.5, 0.0]),
            normal_f32,
        )
    return st.one_of(
        st.sampled_from(common + [float("nan"), -1.7976931348623157e308, 1e-300, 0.0]),
        st.floats(allow_nan=False, allow_infinity=False),
    )


@st.composite
def grids(draw: st.DrawFn) -> tuple[np.ndarray, float | None]:
    dtype = draw(st.sampled_from(["int32", "float32", "float64"]))
    data = draw(hnp.arrays(np.dtype(dtype), SHAPES, elements=ELEMENTS[dtype]))
    nodata = draw(nodata_values(dtype))
    if nodata is not None and draw(st.booleans()):
        data.ravel()[: draw(st.integers(0, data.size))] = nodata
    # A float grid with no number in it cannot say it is a float grid (GDAL's type rule looks
    # for '.', ',', 'e', 'E'): that case has its own test below.
    assume(data.dtype.kind != "f" or not np.isnan(data).all())
    return data, nodata


NICE_GT = st.tuples(
    st.integers(-1_000_000, 1_000_000).map(float),
    st.sampled_from([0.25, 0.5, 1.0, 2.5, 25.0, 30.0, 100.0]),
    st.integers(-1_000_000, 1_000_000).map(float),
    st.sampled_from([0.25, 0.5, 1.0, 2.5, 25.0, 30.0, 100.0]),
).map(lambda t: (t[0], t[1], 0.0, t[2], 0.0, -t[3]))


# --- round trips ---------------------------------------------------------------------------


def assert_round_trip(
    folder: Path,
    data: np.ndarray,
    gt: tuple[float, ...],
    nodata: float | None,
    exact_gt: bool = True,
) -> None:
    path = folder / "out.asc"
    asciigrid.write(path, data, geotransform=gt, nodata=nodata)
    expected_nodata = nodata
    if nodata is not None and data.dtype == np.float32:
        # A Float32 grid's nodata is reported as a float32 value (GDAL's MapNoDataToFloat).
        expected_nodata = float(np.float32(nodata))
    assert sorted(os.listdir(folder)) == ["out.asc"], "stray files left beside the grid"
    back = asciigrid.read(path, dtype=read_dtype(data.dtype))
    text = path.read_bytes()[:300]
    assert back.data.dtype == data.dtype, f"read back as {back.data.dtype}\n{text!r}"
    assert_same_values(back.data, data, f"{text!r}\n")
    if exact_gt:
        assert back.geotransform == tuple(gt)
    else:
        np.testing.assert_allclose(back.geotransform, gt, rtol=1e-12, atol=1e-9)
    assert same_nodata(back.nodata, expected_nodata), (
        f"nodata {back.nodata!r} != {expected_nodata!r}\n{text!r}"
    )
    if nodata is None:
        assert back.nodata is None

    # GDAL reads the same file to exactly the same grid.
    ref = gdal_read(path, dtype=read_dtype(data.dtype))
    assert ref.dtype == data.dtype, f"GDAL reads it as {ref.dtype}\n{text!r}"
    assert_same_values(ref.array, data, f"GDAL: {text!r}\n")
    assert ref.geotransform == back.geotransform
    assert same_nodata(ref.nodata, expected_nodata), f"GDAL nodata {ref.nodata!r}\n{text!r}"


@SETTINGS
@given(grid=grids(), gt=NICE_GT)
def test_round_trip(tmp_path: Path, grid: tuple[np.ndarray, float | None], gt: Any) -> None:
    data, nodata = grid
    assert_round_trip(fresh_dir(tmp_path), data, gt, nodata)


@settings(SETTINGS, max_examples=60)
@given(
    data=hnp.arrays(np.float32, SHAPES, elements=ELEMENTS["float32"]),
    x0=st.floats(-1e7, 1e7),
    y0=st.floats(-1e7, 1e7),
    dx=st.floats(1e-6, 1e4),
    dy=st.floats(1e-6, 1e4),
)
def test_round_trip_any_geotransform(
    tmp_path: Path, data: np.ndarray, x0: float, y0: float, dx: float, dy: float
) -> None:
    """Arbitrary origins and cell sizes come back within rounding, and GDAL agrees exactly."""
    # A grid of NaN only, without a nodata, is refused by design (test_all_nan_grid), as in
    # grids(): left in, hypothesis finds it now and then and the test fails at random.
    assume(not np.isnan(data).all())
    assert_round_trip(fresh_dir(tmp_path), data, (x0, dx, 0.0, y0, 0.0, -dy), None, exact_gt=False)


@pytest.mark.parametrize(
    ("dtype", "values", "nodata"),
    [
        ("float32", [FLT_MAX, -FLT_MAX, 1e-45, -0.0], -FLT_MAX),
        ("float32", [0.1, 1 / 3, 16777216.0, 2.5], 0.0),
        ("float32", [1.0, 2.0, 3.0, 4.0], None),  # integral floats stay a float grid
        ("float32", [np.nan, 1.0, 2.0, np.nan], None),  # first cell NaN (GDAL 3.6 must cope)
        ("float32", [np.nan, np.nan, 1.5, 2.0], float("nan")),
        ("float32", [-9999.0, 1.0, 2.0, 3.0], -9999.0),
        ("float64", [0.1, 1.234567890123456, 5e-324, -1.7976931348623157e308], None),
        ("float64", [np.nan, 0.1, 0.2, 0.3], -9999.0),
        ("int32", [-(2**31), 2**31 - 1, 0, -1], -(2**31)),
        ("int32", [1, 2, 3, 4], None),
    ],
)
def test_round_trip_examples(
    tmp_path: Path, dtype: str, values: list[float], nodata: float | None
) -> None:
    data = np.array(values, dtype=dtype).reshape(2, 2)
    assert_round_trip(tmp_path, data, (500000.0, 30.0, 0.0, 4100000.0, 0.0, -30.0), nodata)


@pytest.mark.parametrize("nodata", [None, float("nan"), -9999.0])
def test_all_nan_grid(tmp_path: Path, nodata: float | None) -> None:
    """Nothing in the body marks it as a float grid: write must not make a file that reads back
    differently (or not at all); refusing to write it is acceptable only without a nodata."""
    data = np.full((2, 3), np.nan, np.float32)
    path = tmp_path / "nan.asc"
    try:
        asciigrid.write(path, data, geotransform=(0, 1, 0, 2, 0, -1), nodata=nodata)
    except ValueError:
        assert nodata is None, "a float nodata makes this grid writable"
        assert not path.exists()
        return
    back = asciigrid.read(path)
    assert_same_values(back.data, data)
    assert same_nodata(back.nodata, nodata)
    if nodata is not None and not np.isnan(nodata):
        # (GDAL 3.6 predates the NaN-nodata rule: it reads a NaN-nodata file as Int32.)
        assert_same_values(gdal_read(path).array, data)


def test_non_square_cells(tmp_path: Path) -> None:
    data = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert_round_trip(tmp_path, data, (10.0, 2.0, 0.0, 50.0, 0.0, -5.0), None)


def test_large_grid_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = (rng.standard_normal((1500, 1100)) * 1000).astype(np.float32)
    data[rng.random(data.shape) < 0.05] = -9999.0
    assert_round_trip(tmp_path, data, (0.0, 5.0, 0.0, 7500.0, 0.0, -5.0), -9999.0)


_KINDS_BASE = np.arange(24, dtype=np.int16).reshape(4, 6)
# What is written, then what must be read back.
INPUT_ARRAY_KINDS: dict[str, tuple[Any, Any]] = {
    "int16": (_KINDS_BASE, _KINDS_BASE.astype(np.int32)),
    "uint8": (_KINDS_BASE.astype(np.uint8), _KINDS_BASE.astype(np.int32)),
    "transposed": (_KINDS_BASE.astype(np.int32).T, _KINDS_BASE.astype(np.int32).T.copy()),
    "strided": (
        _KINDS_BASE.astype(np.int32)[::2, ::3],
        _KINDS_BASE.astype(np.int32)[::2, ::3].copy(),
    ),
    "list": (_KINDS_BASE.tolist(), _KINDS_BASE.astype(np.int32)),
    "float16": (
        _KINDS_BASE.astype(np.float16) / 4,
        (_KINDS_BASE.astype(np.float16) / 4).astype(np.float64),
    ),
}


@pytest.mark.parametrize("name", sorted(INPUT_ARRAY_KINDS))
def test_input_array_kinds(tmp_path: Path, name: str) -> None:
    """Other numeric dtypes become int32/float64; views and slices are written as seen."""
    given_data, expected = INPUT_ARRAY_KINDS[name]
    path = tmp_path / f"{name}.asc"
    asciigrid.write(path, given_data, geotransform=(0.0, 1.0, 0.0, 3.0, 0.0, -1.0))
    back = asciigrid.read(path, dtype=read_dtype(expected.dtype))
    assert_same_values(back.data, expected, name)


@pytest.mark.parametrize("precision", [1, 2, 5])
def test_precision(tmp_path: Path, precision: int) -> None:
    data = np.array([[1.23456, -2.5], [1000.0001, 0.004]], dtype=np.float64)
    path = tmp_path / "p.asc"
    asciigrid.write(path, data, geotransform=(0, 1, 0, 2, 0, -1), precision=precision)
    back = asciigrid.read(path, dtype="float64")
    expected = np.array([[float(f"{v:.{precision}f}") for v in row] for row in data])
    np.testing.assert_array_equal(back.data, expected)
    assert_same_values(gdal_read(path, dtype="float64").array, back.data)
    assert asciigrid.read(path).data.dtype == np.float32  # still a float grid


# --- what the file looks like ----------------------------------------------------------------


def test_written_header_is_plain_aaigrid(tmp_path: Path) -> None:
    path = tmp_path / "h.asc"
    data = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    asciigrid.write(path, data, geotransform=(100.0, 10.0, 0.0, 220.0, 0.0, -10.0), nodata=-9999)
    text = path.read_text()
    assert text.lower().startswith("ncols")  # what GDAL's Identify() needs
    assert text.endswith("\n")
    header = asciigrid.read_header(path)
    assert header.origin == "corner"
    assert (header.x_origin, header.y_origin) == (100.0, 200.0)
    assert header.cellsize == 10.0
    assert header.nodata == -9999


def test_no_nodata_line_without_nodata(tmp_path: Path) -> None:
    path = tmp_path / "n.asc"
    asciigrid.write(path, np.ones((2, 2), np.int32), geotransform=(0, 1, 0, 2, 0, -1))
    assert "nodata" not in path.read_text().lower()
    assert gdal_read(path).nodata is None


# --- atomic writes ---------------------------------------------------------------------------


def test_overwrite_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "g.asc"
    path.write_text("old content that is not a grid\n" * 1000)
    data = np.arange(6, dtype=np.int32).reshape(2, 3)
    asciigrid.write(path, data, geotransform=(0, 1, 0, 2, 0, -1))
    assert_same_values(asciigrid.read(path).data, data)
    assert sorted(os.listdir(tmp_path)) == ["g.asc"]
    smaller = np.array([[7]], dtype=np.int32)
    asciigrid.write(str(path), smaller, geotransform=(0, 1, 0, 1, 0, -1))
    assert_same_values(asciigrid.read(path).data, smaller)
    assert sorted(os.listdir(tmp_path)) == ["g.asc"]


def test_overwrite_keeps_inode_semantics_of_rename(tmp_path: Path) -> None:
    """A reader holding the old file open keeps seeing the old, complete content."""
    path = tmp_path / "g.asc"
    first = np.full((3, 3), 1, np.int32)
    asciigrid.write(path, first, geotransform=(0, 1, 0, 3, 0, -1))
    with open(path, "rb") as held:
        asciigrid.write(path, np.full((50, 50), 2, np.int32), geotransform=(0, 1, 0, 50, 0, -1))
        old = held.read()
    assert_same_values(asciigrid.read(old).data, first)
    assert asciigrid.read(path).shape == (50, 50)


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "g.asc"
    data = np.arange(4, dtype=np.int32).reshape(2, 2)
    asciigrid.write(path, data, geotransform=(0, 1, 0, 2, 0, -1))
    before = path.read_bytes()
    with pytest.raises(ValueError):
        asciigrid.write(path, np.zeros((2, 2, 2)), geotransform=(0, 1, 0, 2, 0, -1))
    with pytest.raises(ValueError):
        asciigrid.write(path, np.zeros((2, 2)), geotransform=(0, 1, 0.5, 2, 0, -1))
    with pytest.raises(ValueError):
        asciigrid.write(path, np.zeros((2, 2)), geotransform=(0, 1, 0, 2, 0, 1))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["g.asc"]


def test_write_into_missing_folder_is_an_os_error(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "g.asc"
    with pytest.raises(OSError):
        asciigrid.write(target, np.ones((2, 2)), geotransform=(0, 1, 0, 2, 0, -1))
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_write_into_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError):
            asciigrid.write(folder / "g.asc", np.ones((2, 2)), geotransform=(0, 1, 0, 2, 0, -1))
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o755)


# --- .prj ------------------------------------------------------------------------------------


@pytest.mark.parametrize("epsg", [32633, 4326, 2154, 3035])
def test_prj_written_and_read_back_by_gdal(tmp_path: Path, epsg: int) -> None:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    wkt = srs.ExportToWkt()
    path = tmp_path / "crs.asc"
    asciigrid.write(
        path,
        np.ones((2, 2), np.float32),
        geotransform=(500000.0, 10.0, 0.0, 4000020.0, 0.0, -10.0),
        crs_wkt=wkt,
    )
    assert sorted(os.listdir(tmp_path)) == ["crs.asc", "crs.prj"]
    assert same_crs(gdal_read(path).wkt, wkt)
    grid = asciigrid.read(path)
    assert grid.prj is not None
    assert same_crs(grid.crs_wkt, wkt)


def test_no_prj_without_crs(tmp_path: Path) -> None:
    path = tmp_path / "plain.asc"
    asciigrid.write(path, np.ones((2, 2), np.float32), geotransform=(0, 1, 0, 2, 0, -1))
    assert sorted(os.listdir(tmp_path)) == ["plain.asc"]
    assert gdal_read(path).wkt == ""


def test_rewrite_with_crs_replaces_prj(tmp_path: Path) -> None:
    path = tmp_path / "g.asc"
    for epsg in (4326, 32633):
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        asciigrid.write(
            path,
            np.ones((2, 2), np.int32),
            geotransform=(0, 1, 0, 2, 0, -1),
            crs_wkt=srs.ExportToWkt(),
        )
        assert same_crs(asciigrid.read(path).crs_wkt, srs.ExportToWkt())
    assert sorted(os.listdir(tmp_path)) == ["g.asc", "g.prj"]


# --- a written grid is the same grid for stats ---------------------------------------------------


@settings(SETTINGS, max_examples=40)
@given(grid=grids(), gt=NICE_GT)
def test_written_file_stats_match_numpy(
    tmp_path: Path, grid: tuple[np.ndarray, float | None], gt: Any
) -> None:
    data, nodata = grid
    assume(data.dtype != np.float64)
    folder = fresh_dir(tmp_path)
    path = folder / "s.asc"
    asciigrid.write(path, data, geotransform=gt, nodata=nodata)
    s = asciigrid.stats(str(path))
    valid = data.astype(np.float64).ravel()
    if data.dtype.kind == "f":
        valid = valid[~np.isnan(valid)]
    if nodata is not None and not np.isnan(nodata):
        valid = valid[valid != data.dtype.type(nodata)]
    assert s.count == valid.size
