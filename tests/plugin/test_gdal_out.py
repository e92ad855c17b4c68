"""The single atomic GDAL writer every algorithm uses (qgis_plugin/gdal_out.py)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from plugin_helpers import leftovers


@pytest.fixture(scope="module")
def gdal_out(plugin_package: str):
    return importlib.import_module(f"{plugin_package}.gdal_out")


def _stats(path: Path) -> tuple[list[float], list[float]]:
    """(statistics stored in the file, statistics GDAL computes from scratch)."""
    ds = gdal.Open(str(path))
    band = ds.GetRasterBand(1)
    keys = ("MINIMUM", "MAXIMUM", "MEAN", "STDDEV")
    stored = [float(band.GetMetadataItem(f"STATISTICS_{k}")) for k in keys]
    ds = None
    gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")
    try:
        ds = gdal.Open(str(path))
        fresh = ds.GetRasterBand(1).ComputeStatistics(False)
    finally:
        gdal.SetConfigOption("GDAL_PAM_ENABLED", None)
    return stored, fresh


@pytest.mark.parametrize("strips", [[300, 300, 400], [100] * 10, [1000], [256, 1, 255, 488]])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float64"])
def test_streamed_strips_values_and_statistics(gdal_out, tmp_path, strips, dtype) -> None:
    rng = np.random.default_rng(len(strips))
    data = (rng.random((1000, 333)) * 1000).astype(dtype)
    data[rng.random(data.shape) < 0.1] = -9999
    data[300:520] = -9999  # strips without any valid cell
    if dtype != "int32":
        data[rng.random(data.shape) < 0.05] = np.nan
    target = tmp_path / "out.tif"
    with gdal_out.geotiff_output(
        str(target),
        nrows=1000,
        ncols=333,
        dtype=dtype,
        geotransform=(10.0, 2.0, 0.0, 50.0, 0.0, -2.0),
        crs_wkt=None,
        nodata=-9999,
    ) as tif:
        row = 0
        for count in strips:
            tif.write_rows(row, data[row : row + count])
            row += count
        tif.finish(overviews=True)
    ds = gdal.Open(str(target))
    np.testing.assert_array_equal(ds.ReadAsArray(), data)
    assert ds.GetGeoTransform() == (10.0, 2.0, 0.0, 50.0, 0.0, -2.0)
    assert ds.GetRasterBand(1).GetOverviewCount() == 2
    ds = None
    stored, fresh = _stats(target)
    assert stored == pytest.approx(fresh, rel=1e-12)
    assert leftovers(tmp_path) == ["out.tif"]


def test_array_copy_has_statistics(gdal_out, tmp_path) -> None:
    data = np.arange(600 * 700, dtype=np.float32).reshape(600, 700)
    data[0, :10] = -1
    target = tmp_path / "copy.tif"
    gdal_out.write_geotiff(
        str(target),
        data,
        geotransform=(0, 1, 0, 0, 0, -1),
        crs_wkt=None,
        nodata=-1,
        overviews=True,
    )
    np.testing.assert_array_equal(gdal.Open(str(target)).ReadAsArray(), data)
    stored, fresh = _stats(target)
    assert stored == pytest.approx(fresh, rel=1e-12)


def test_failure_leaves_nothing_and_keeps_the_old_target(gdal_out, tmp_path) -> None:
    target = tmp_path / "kept.tif"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with gdal_out.geotiff_output(
            str(target),
            nrows=10,
            ncols=10,
            dtype="float32",
            geotransform=(0, 1, 0, 0, 0, -1),
            crs_wkt=None,
            nodata=None,
        ) as tif:
            tif.write_rows(0, np.zeros((5, 10), np.float32))
            raise KeyboardInterrupt
    assert leftovers(tmp_path) == ["kept.tif"]
    assert target.read_bytes() == b"old"


def test_stale_sidecar_removed_on_replace(gdal_out, tmp_path) -> None:
    target = tmp_path / "r.tif"
    (tmp_path / "r.tif.aux.xml").write_text("<PAMDataset>stale statistics</PAMDataset>")
    gdal_out.write_geotiff(
        str(target),
        np.ones((3, 3), np.int32),
        geotransform=(0, 1, 0, 0, 0, -1),
        crs_wkt=None,
        nodata=None,
        overviews=False,
    )
    assert leftovers(tmp_path) == ["r.tif"]


@pytest.mark.parametrize("ext", [".csv", ".gpkg"])
def test_table(gdal_out, tmp_path, ext) -> None:
    from osgeo import ogr

    target = tmp_path / f"t{ext}"
    fields = [("file", str), ("count", int), ("mean", float)]
    gdal_out.write_table(str(target), fields, [("a.asc", 3, 1.5), ("b.asc", 0, None)])
    ds = ogr.Open(str(target))
    rows = [f.items() for f in ds.GetLayer(0)]
    ds = None
    assert rows == [
        {"file": "a.asc", "count": 3, "mean": 1.5},
        {"file": "b.asc", "count": 0, "mean": None},
    ]
    expected = ["t.csv", "t.csvt"] if ext == ".csv" else ["t.gpkg"]
    assert leftovers(tmp_path) == expected
