"""asciigrid.geotiff: the streaming GeoTIFF writer, checked against GDAL reading the files
back (values, sparse blocks, overviews against GDAL's own AVERAGE, statistics against
GDAL's ComputeStatistics, COG validity) and for what it leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

gdal = pytest.importorskip("osgeo.gdal")

import asciigrid  # noqa: E402
from asciigrid import geotiff  # noqa: E402

GT = (1000.0, 2.0, 0.0, 5000.0, 0.0, -2.0)


def grid(shape: tuple[int, int], dtype: str, nodata: float | None, seed: int = 0) -> np.ndarray:
    """Smooth heights with noise, nodata speckles, a nodata corner block (sparse tiles) and
    NaN cells in float grids."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    data = 300 + 200 * np.sin(x / 97.0) * np.cos(y / 61.0) + rng.random(shape) * 10
    data = data.astype(dtype)
    if nodata is not None:
        data[rng.random(shape) < 0.1] = nodata
        data[: min(300, shape[0]), : min(520, shape[1])] = nodata
    if dtype != "int32":
        data[rng.random(shape) < 0.02] = np.nan
    return data


def strips_of(data: np.ndarray, sizes: list[int]) -> list[tuple[int, np.ndarray]]:
    out, row = [], 0
    for size in sizes:
        out.append((row, data[row : row + size]))
        row += size
    assert row == len(data)
    return out


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def reference_overviews(tmp_path: Path, data: np.ndarray, nodata: float | None) -> list:
    """GDAL's own ``AVERAGE`` overviews (``gdaladdo -r average``) of the same grid."""
    path = str(tmp_path / "reference.tif")
    kind = {"int32": gdal.GDT_Int32, "float32": gdal.GDT_Float32, "float64": gdal.GDT_Float64}
    ds = gdal.GetDriverByName("GTiff").Create(
        path, data.shape[1], data.shape[0], 1, kind[data.dtype.name], ["TILED=YES"]
    )
    band = ds.GetRasterBand(1)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    band.WriteArray(data)
    ds.BuildOverviews("AVERAGE", geotiff.overview_factors(*data.shape))
    levels = [band.GetOverview(i).ReadAsArray() for i in range(band.GetOverviewCount())]
    band = ds = None
    os.remove(path)
    return levels


def read_back(path: Path) -> tuple[np.ndarray, list, Any]:
    ds = gdal.Open(str(path))
    band = ds.GetRasterBand(1)
    data = band.ReadAsArray()
    levels = [band.GetOverview(i).ReadAsArray() for i in range(band.GetOverviewCount())]
    return data, levels, ds


@pytest.mark.parametrize("sizes", [[300, 300, 400], [100] * 10, [1000], [256, 1, 255, 488]])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float64"])
def test_strips_read_back_as_written(tmp_path: Path, sizes: list[int], dtype: str) -> None:
    data = grid((1000, 333), dtype, -9999)
    target = tmp_path / "out.tif"
    with geotiff.GeoTiffWriter(
        target, shape=data.shape, dtype=dtype, geotransform=GT, nodata=-9999, crs_wkt=None
    ) as tif:
        for row, strip in strips_of(data, sizes):
            tif.write(row, strip)
    back, _, ds = read_back(target)
    np.testing.assert_array_equal(back, data)
    assert ds.GetGeoTransform() == GT
    assert ds.GetRasterBand(1).GetNoDataValue() == -9999
    assert ds.GetRasterBand(1).DataType == gdal.GetDataTypeByName(dtype.capitalize())
    assert files(tmp_path) == ["out.tif"]


def test_a_grid_keeps_its_crs_and_georeferencing(tmp_path: Path) -> None:
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(27700)
    g = asciigrid.read(
        b"ncols 3\nnrows 2\nxllcorner 10\nyllcorner 20\ncellsize 5\nNODATA_value -1\n"
        b"1 2 3\n4 -1 6\n"
    )
    geotiff.write_geotiff(tmp_path / "g.tif", g, crs_wkt=srs.ExportToWkt())
    back, _, ds = read_back(tmp_path / "g.tif")
    np.testing.assert_array_equal(back, g.data)
    assert ds.GetGeoTransform() == g.geotransform
    assert ds.GetRasterBand(1).GetNoDataValue() == -1
    assert osr.SpatialReference(ds.GetProjection()).GetAuthorityCode(None) == "27700"


@pytest.mark.parametrize("nodata", [-9999.0, None])
def test_all_nodata_blocks_are_not_written_and_read_back_as_nodata(
    tmp_path: Path, nodata: float | None
) -> None:
    fill = 0.0 if nodata is None else nodata  # without nodata, GDAL's empty block is zeros
    data = np.full((600, 700), fill, np.float32)
    data[300:, 300:] = 7.5  # only blocks (1..2, 1..2) hold data
    geotiff.write_geotiff(tmp_path / "s.tif", data, geotransform=GT, nodata=nodata)
    back, _, ds = read_back(tmp_path / "s.tif")
    band = ds.GetRasterBand(1)
    np.testing.assert_array_equal(back, data)
    written = {
        (x, y)
        for y in range(3)
        for x in range(3)
        if band.GetMetadataItem(f"BLOCK_OFFSET_{x}_{y}", "TIFF") is not None
    }
    assert written == {(x, y) for x in (1, 2) for y in (1, 2)}


OVERVIEW_CASES = [
    ((1024, 1536), "float32", -9999.0),  # halving all the way
    ((1000, 777), "float32", -9999.0),  # odd widths: GDAL's area weights at every level
    ((517, 1031), "int32", -1.0),  # odd both ways, GDAL's float32 work type and rounding
    ((600, 1030), "int32", None),
    ((301, 700), "float64", float("nan")),
    ((513, 259), "float32", None),  # only NaN missing
    ((1029, 300), "float32", -9999.0),  # odd rows, even columns
    ((1029, 300), "float32", None),  # ... without nodata: GDAL's 2 x 2 fast path at the edges
    ((301, 700), "float64", None),
]


@pytest.mark.parametrize(("shape", "dtype", "nodata"), OVERVIEW_CASES)
def test_overviews_equal_gdal_average(
    tmp_path: Path, shape: tuple[int, int], dtype: str, nodata: float | None
) -> None:
    data = grid(shape, dtype, -1 if dtype == "int32" and nodata is not None else nodata)
    if nodata is not None and not np.isnan(nodata) and dtype != "int32":
        data[np.isnan(data)] = nodata
    geotiff.write_geotiff(
        tmp_path / "o.tif",
        strips_of(data, [233] * (shape[0] // 233) + [shape[0] % 233]),
        shape=shape,
        geotransform=GT,
        nodata=nodata,
    )
    _, levels, _ = read_back(tmp_path / "o.tif")
    expected = reference_overviews(tmp_path, data, nodata)
    assert [a.shape for a in levels] == [e.shape for e in expected]
    assert len(levels) >= 2
    for got, want in zip(levels, expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, equal_nan=True)


@pytest.mark.parametrize(("shape", "dtype", "nodata"), OVERVIEW_CASES)
def test_statistics_equal_gdal_compute_statistics(
    tmp_path: Path, shape: tuple[int, int], dtype: str, nodata: float | None
) -> None:
    data = grid(shape, dtype, nodata if dtype != "int32" or nodata is None else -1)
    stats = geotiff.write_geotiff(tmp_path / "st.tif", data, geotransform=GT, nodata=nodata)
    ds = gdal.Open(str(tmp_path / "st.tif"))
    stored = [
        float(ds.GetRasterBand(1).GetMetadataItem(f"STATISTICS_{k}"))
        for k in ("MINIMUM", "MAXIMUM", "MEAN", "STDDEV")
    ]
    ds = None
    gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")
    try:
        ds = gdal.Open(str(tmp_path / "st.tif"))
        fresh = ds.GetRasterBand(1).ComputeStatistics(False)
        valid = float(ds.GetRasterBand(1).GetMetadataItem("STATISTICS_VALID_PERCENT"))
    finally:
        ds = None
        gdal.SetConfigOption("GDAL_PAM_ENABLED", None)
    assert stored == pytest.approx(fresh, rel=1e-9)
    assert stats is not None
    assert [stats.minimum, stats.maximum, stats.mean, stats.std] == pytest.approx(fresh, rel=1e-12)
    assert 100 * stats.count / data.size == pytest.approx(valid, rel=1e-3)


def test_no_valid_cell_means_no_statistics(tmp_path: Path) -> None:
    data = np.full((40, 50), -9999, np.int32)
    assert geotiff.write_geotiff(tmp_path / "e.tif", data, geotransform=GT, nodata=-9999) is None
    ds = gdal.Open(str(tmp_path / "e.tif"))
    assert ds.GetRasterBand(1).GetMetadataItem("STATISTICS_MEAN") is None


def test_cog_is_valid_by_gdal_rules(tmp_path: Path) -> None:
    validate = pytest.importorskip("osgeo_utils.samples.validate_cloud_optimized_geotiff")
    data = grid((1100, 900), "float32", -9999)
    geotiff.write_geotiff(tmp_path / "c.tif", data, geotransform=GT, nodata=-9999, cog=True)
    errors, warnings, _ = validate.validate(str(tmp_path / "c.tif"), full_check=True)
    assert (errors, warnings) == ([], [])
    back, levels, ds = read_back(tmp_path / "c.tif")
    assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    np.testing.assert_array_equal(back, data)
    assert len(levels) == 3
    assert ds.GetRasterBand(1).GetMetadataItem("STATISTICS_MEAN") is not None
    assert files(tmp_path) == ["c.tif"]


@pytest.mark.parametrize(
    ("codec", "compression", "predictor"),
    [
        ("ZSTD", "ZSTD", None),
        ("ZSTD+PREDICTOR", "ZSTD", "2"),
        ("DEFLATE", "DEFLATE", None),
        ("DEFLATE+PREDICTOR", "DEFLATE", "2"),
    ],
)
def test_codecs(tmp_path: Path, codec: str, compression: str, predictor: str | None) -> None:
    data = grid((300, 300), "int32", -9999)
    geotiff.write_geotiff(tmp_path / "z.tif", data, geotransform=GT, nodata=-9999, codec=codec)
    back, _, ds = read_back(tmp_path / "z.tif")
    np.testing.assert_array_equal(back, data)
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == compression
    assert ds.GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE") == predictor


@pytest.mark.parametrize(("dtype", "predictor"), [("int32", "2"), ("float64", "3")])
def test_default_codec_is_zstd_with_a_predictor(tmp_path: Path, dtype: str, predictor: str) -> None:
    geotiff.write_geotiff(tmp_path / "d.tif", np.ones((3, 3), dtype), geotransform=GT)
    ds = gdal.Open(str(tmp_path / "d.tif"))
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "ZSTD"
    assert ds.GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE") == predictor
    assert ds.GetRasterBand(1).GetBlockSize() == [256, 256]


def heights(shape: tuple[int, int], decimals: int | None) -> np.ndarray:
    """Float32 terrain: rounded to ``decimals`` (as elevation products store heights), or
    noisy at full precision."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    data = 300 + 200 * np.sin(x / 97.0) * np.cos(y / 61.0)
    if decimals is None:
        return (data + rng.random(shape) * 10).astype(np.float32)
    return np.round(data + rng.random(shape) * 3, decimals).astype(np.float32)


def size_with_predictor(data: np.ndarray, codec: str, predictor: str) -> int:
    """Bytes of ``data`` written by GDAL alone with ``codec`` and ``predictor``."""
    options = [
        f"PREDICTOR={predictor}" if o.startswith("PREDICTOR=") else o
        for o in geotiff.creation_options(data.dtype, codec)
    ]
    name = "/vsimem/test_predictor.tif"
    ds = gdal.GetDriverByName("GTiff").Create(
        name, data.shape[1], data.shape[0], 1, gdal.GDT_Float32, options
    )
    ds.GetRasterBand(1).WriteArray(data)
    ds = None
    size = gdal.VSIStatL(name).size
    gdal.Unlink(name)
    return size


@pytest.mark.parametrize("codec", ["ZSTD+PREDICTOR", "DEFLATE+PREDICTOR"])
@pytest.mark.parametrize(("decimals", "smaller"), [(1, "2"), (None, "3")])
def test_a_float32_file_gets_the_predictor_that_compresses_it_smaller(
    tmp_path: Path, codec: str, decimals: int | None, smaller: str
) -> None:
    data = heights((512, 1024), decimals)
    sizes = {p: size_with_predictor(data, codec, p) for p in ("2", "3")}
    assert min(sizes, key=lambda p: sizes[p]) == smaller  # the data is as intended
    geotiff.write_geotiff(tmp_path / "p.tif", data, geotransform=GT, codec=codec)
    back, levels, ds = read_back(tmp_path / "p.tif")
    np.testing.assert_array_equal(back, data)
    assert ds.GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE") == smaller
    for got, want in zip(levels, reference_overviews(tmp_path, data, None)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


@pytest.mark.parametrize("nodata", [-9999.0, float("nan")])
def test_overviews_of_a_float32_grid_that_begins_with_nodata_rows(
    tmp_path: Path, nodata: float
) -> None:
    # The file is created only when the first data arrives (its predictor is chosen from
    # it); the overviews must still average the rows of nodata before it.
    data = heights((1100, 700), 1)
    data[:600] = nodata
    data[900:950, 100:300] = nodata
    geotiff.write_geotiff(
        tmp_path / "n.tif",
        strips_of(data, [233] * 4 + [168]),
        shape=data.shape,
        geotransform=GT,
        nodata=nodata,
    )
    back, levels, _ = read_back(tmp_path / "n.tif")
    np.testing.assert_array_equal(back, data)
    expected = reference_overviews(tmp_path, data, nodata)
    assert [a.shape for a in levels] == [e.shape for e in expected]
    for got, want in zip(levels, expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, equal_nan=True)


def test_a_float32_grid_of_only_nodata_is_written(tmp_path: Path) -> None:
    data = np.full((600, 300), -9999.0, np.float32)
    stats = geotiff.write_geotiff(tmp_path / "e.tif", data, geotransform=GT, nodata=-9999)
    assert stats is None
    back, levels, ds = read_back(tmp_path / "e.tif")
    np.testing.assert_array_equal(back, data)
    assert [np.unique(level).tolist() for level in levels] == [[-9999.0]] * len(levels)
    assert ds.GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE") is not None


class CancelAt:
    """A progress callback that says stop at its ``n``-th call (negative: counted from the
    last call of an uncancelled run) and records every fraction it is given."""

    def __init__(self, n: int | None = None) -> None:
        self.n = n
        self.seen: list[float] = []

    def __call__(self, fraction: float) -> bool:
        self.seen.append(fraction)
        return self.n is None or len(self.seen) < self.n


def calls_of(tmp_path: Path, data: np.ndarray, cog: bool) -> list[float]:
    progress = CancelAt()
    geotiff.write_geotiff(
        tmp_path / "full.tif", data, geotransform=GT, nodata=-9999, cog=cog, progress=progress
    )
    os.remove(tmp_path / "full.tif")
    return progress.seen


def test_progress_moves_forward_from_0_to_1(tmp_path: Path) -> None:
    seen = calls_of(tmp_path, grid((2100, 700), "float32", -9999), cog=True)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)
    assert len({round(f, 2) for f in seen}) > 5  # it moves, not 0 then 1


@pytest.mark.parametrize(
    ("where", "cog"),
    [
        ("first strip", False),
        ("compressing", False),
        ("last rows and overviews", False),
        ("COG copy", True),
    ],
)
def test_cancel_leaves_nothing_and_keeps_the_old_target(
    tmp_path: Path, where: str, cog: bool
) -> None:
    data = grid((2100, 700), "float32", -9999)
    seen = calls_of(tmp_path, data, cog)
    # the call to cancel at: the first, one in the middle of the data, the last one before
    # the file is complete (its last rows, overview rows and statistics are being
    # written), or one during the COG copy
    at = {
        "first strip": 1,
        "compressing": len(seen) // 2,
        "last rows and overviews": len(seen) - 1,
        "COG copy": next(i for i, f in enumerate(seen) if f > 0.75) + 1,
    }[where]
    target = tmp_path / "kept.tif"
    target.write_bytes(b"old")
    progress = CancelAt(at)
    with pytest.raises(asciigrid.Cancelled):
        geotiff.write_geotiff(
            target, data, geotransform=GT, nodata=-9999, cog=cog, progress=progress
        )
    assert len(progress.seen) == at  # stopped at once: not asked again
    assert files(tmp_path) == ["kept.tif"]
    assert target.read_bytes() == b"old"


def test_an_error_in_the_caller_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with geotiff.GeoTiffWriter(
            tmp_path / "x.tif", shape=(600, 10), dtype="float32", geotransform=GT
        ) as tif:
            tif.write(0, np.zeros((300, 10), np.float32))
            raise KeyboardInterrupt
    assert files(tmp_path) == []


def test_strips_out_of_order_are_refused(tmp_path: Path) -> None:
    with (
        pytest.raises(ValueError, match="expected row 0, got 10"),
        geotiff.GeoTiffWriter(
            tmp_path / "x.tif", shape=(20, 10), dtype="int32", geotransform=GT
        ) as tif,
    ):
        tif.write(10, np.zeros((10, 10), np.int32))
    assert files(tmp_path) == []


def test_a_stale_sidecar_of_the_target_is_removed(tmp_path: Path) -> None:
    (tmp_path / "r.tif").write_bytes(b"old")
    (tmp_path / "r.tif.aux.xml").write_text("<PAMDataset>stale statistics</PAMDataset>")
    geotiff.write_geotiff(tmp_path / "r.tif", np.ones((3, 3), np.int32), geotransform=GT)
    assert files(tmp_path) == ["r.tif"]


def test_gdal_failure_is_a_geotiff_error_naming_the_target(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.tif"
    with pytest.raises(OSError, match="x.tif"):
        geotiff.write_geotiff(target, np.ones((3, 3), np.int32), geotransform=GT)
    assert files(tmp_path) == []


def test_the_package_imports_without_gdal() -> None:
    code = (
        "import sys; sys.modules['osgeo'] = None\n"
        "import asciigrid, asciigrid.geotiff as g, numpy as np\n"
        "try:\n"
        "    g.write_geotiff('x.tif', np.ones((2, 2)), geotransform=(0, 1, 0, 0, 0, -1))\n"
        "except ImportError as err:\n"
        "    print('ImportError', err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("ImportError asciigrid.geotiff needs GDAL")
