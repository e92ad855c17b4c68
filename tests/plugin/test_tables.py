"""The plugin's table and text outputs (qgis_plugin/tables.py, atomic_files.py), replaced
all or nothing by the engine's one mechanism (asciigrid/_atomic.py); its GeoTIFFs are
written by asciigrid.geotiff (tests/test_geotiff.py)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from plugin_helpers import leftovers


@pytest.fixture(scope="module")
def tables(plugin_package: str):
    return importlib.import_module(f"{plugin_package}.tables")


@pytest.fixture(scope="module")
def atomic_files(plugin_package: str):
    return importlib.import_module(f"{plugin_package}.atomic_files")


@pytest.mark.parametrize("ext", [".csv", ".gpkg"])
def test_table(tables, tmp_path, ext) -> None:
    from osgeo import ogr

    target = tmp_path / f"t{ext}"
    fields = [("file", str), ("count", int), ("mean", float)]
    tables.write_table(str(target), fields, [("a.asc", 3, 1.5), ("b.asc", 0, None)])
    ds = ogr.Open(str(target))
    rows = [f.items() for f in ds.GetLayer(0)]
    ds = None
    assert rows == [
        {"file": "a.asc", "count": 3, "mean": 1.5},
        {"file": "b.asc", "count": 0, "mean": None},
    ]
    expected = ["t.csv", "t.csvt"] if ext == ".csv" else ["t.gpkg"]
    assert leftovers(tmp_path) == expected


def test_a_table_replaces_an_older_one_and_its_csvt(tables, tmp_path) -> None:
    target = tmp_path / "t.csv"
    target.write_text("old\n")
    (tmp_path / "t.csvt").write_text('"String"\n')
    tables.write_table(str(target), [("file", str), ("count", int)], [("a.asc", 7)])
    assert target.read_text().splitlines()[0] == "file,count"
    assert (tmp_path / "t.csvt").read_text().strip() == "String,Integer64"
    assert leftovers(tmp_path) == ["t.csv", "t.csvt"]


def test_a_failed_table_leaves_the_old_one(tables, tmp_path) -> None:
    target = tmp_path / "t.csv"
    target.write_text("old\n")
    with pytest.raises(TypeError):
        tables.write_table(str(target), [("file", str), ("count", int)], [("a", object())])
    assert target.read_text() == "old\n"
    assert leftovers(tmp_path) == ["t.csv"]


def test_text_and_gdal_sidecars(atomic_files, tmp_path) -> None:
    """A GDAL writer's sidecars go along with its file; a stale one of the older target is
    removed (old statistics must not describe the new file)."""
    target = tmp_path / "m.tif"
    target.write_text("old")
    (tmp_path / "m.tif.aux.xml").write_text("old statistics")
    (tmp_path / "m.tif.ovr").write_text("old overviews")
    with atomic_files.atomic_output(str(target)) as tmp:
        assert Path(tmp).parent == tmp_path and Path(tmp).name.startswith(".m.tif.")
        assert not Path(tmp).exists()  # the writer (GDAL) creates it
        Path(tmp).write_text("new")
        Path(f"{tmp}.aux.xml").write_text("new statistics")
    assert target.read_text() == "new"
    assert (tmp_path / "m.tif.aux.xml").read_text() == "new statistics"
    assert leftovers(tmp_path) == ["m.tif", "m.tif.aux.xml"]
    atomic_files.write_text(str(tmp_path / "r.html"), "<p>report</p>\n")
    assert (tmp_path / "r.html").read_text() == "<p>report</p>\n"
    assert leftovers(tmp_path) == ["m.tif", "m.tif.aux.xml", "r.html"]


def test_nothing_written_is_an_error(atomic_files, tmp_path) -> None:
    target = tmp_path / "m.tif"
    with pytest.raises(atomic_files.OutputError, match="nothing was written"):
        with atomic_files.atomic_output(str(target)):
            pass
    assert leftovers(tmp_path) == []
