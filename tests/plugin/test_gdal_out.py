"""The plugin's atomic table and text outputs (qgis_plugin/gdal_out.py); its GeoTIFFs are
written by asciigrid.geotiff (tests/test_geotiff.py)."""

from __future__ import annotations

import importlib

import pytest
from plugin_helpers import leftovers


@pytest.fixture(scope="module")
def gdal_out(plugin_package: str):
    return importlib.import_module(f"{plugin_package}.gdal_out")


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
