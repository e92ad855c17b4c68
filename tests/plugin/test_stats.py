"""asciigrid:stats: parameters, outputs, values equal to QGIS's own
native:rasterlayerstatistics (run in-process on the same data), tables, cancel."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from plugin_helpers import assert_run, gdal_open, leftovers, run

ALG = "asciigrid:stats"
QGIS_NAMES = ("MIN", "MAX", "RANGE", "SUM", "MEAN", "STD_DEV", "SUM_OF_SQUARES")


def native_stats(path: Path | str) -> dict[str, float]:
    return run("native:rasterlayerstatistics", {"INPUT": str(path), "BAND": 1})


def assert_same_as_qgis(ours: dict, qgis: dict) -> None:
    for name in QGIS_NAMES:
        assert ours[name] == pytest.approx(qgis[name], rel=1e-9, abs=1e-9), name


def test_parameters(provider) -> None:
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().algorithmById(ALG)
    params = {p.name(): p for p in algorithm.parameterDefinitions()}
    assert list(params) == [
        "INPUT",
        "FOLDER",
        "PATTERN",
        "DATA_TYPE",
        "STRICT",
        "OUTPUT_TABLE",
        "OUTPUT_HTML_FILE",
    ]
    for optional in ("INPUT", "FOLDER", "OUTPUT_TABLE", "OUTPUT_HTML_FILE"):
        assert params[optional].flags() & params[optional].FlagOptional, optional
    assert params["PATTERN"].defaultValue() == "*.asc"
    outputs = {o.name() for o in algorithm.outputDefinitions()}
    assert outputs == {*QGIS_NAMES, "COUNT", "NODATA_COUNT", "OUTPUT_TABLE", "OUTPUT_HTML_FILE"}


def test_one_grid_equals_native_on_its_geotiff(provider, corpus_big_grid: Path, tmp_path) -> None:
    """Automatic type (GDAL's rule: Float32 here): the statistics QGIS computes on the
    Float32 GeoTIFF of the grid, written by GDAL itself."""
    from osgeo import gdal

    tif = tmp_path / "gdal.tif"
    gdal.Translate(str(tif), gdal_open(corpus_big_grid), format="GTiff")
    assert gdal.Open(str(tif)).GetRasterBand(1).DataType == gdal.GDT_Float32
    ours = assert_run(ALG, {"INPUT": [str(corpus_big_grid)], "OUTPUT_TABLE": "TEMPORARY_OUTPUT"})
    assert_same_as_qgis(ours, native_stats(tif))
    assert ours["COUNT"] + ours["NODATA_COUNT"] == 3000 * 3000
    assert ours["NODATA_COUNT"] > 0


def test_float64_equals_native_on_the_asc(provider, corpus_big_grid: Path) -> None:
    """QGIS opens .asc files as Float64 (it sets GDAL's AAIGRID_DATATYPE=Float64):
    DATA_TYPE=Float64 gives exactly its statistics of the .asc itself."""
    ours = run(ALG, {"INPUT": [str(corpus_big_grid)], "DATA_TYPE": 3})
    assert_same_as_qgis(ours, native_stats(corpus_big_grid))


def test_small_grid_definitions(provider, small_grid: Path) -> None:
    """STD_DEV and SUM_OF_SQUARES are defined as this QGIS defines them (QGIS 3.22: sample
    standard deviation and the sum of squared deviations), checked against numpy."""
    from qgis.core import Qgis

    ours = run(ALG, {"INPUT": [str(small_grid)]})
    values = np.array([1.5, 2, 3, 4, 5, 7, 8.25, 9, 10, 11, 12], dtype=np.float32).astype(float)
    assert ours["COUNT"] == 11 and ours["NODATA_COUNT"] == 1
    assert ours["SUM"] == pytest.approx(values.sum())
    assert ours["MEAN"] == pytest.approx(values.mean())
    assert ours["RANGE"] == 10.5
    deviations = ((values - values.mean()) ** 2).sum()
    assert ours["STD_DEV"] in (
        pytest.approx(values.std(ddof=1)),
        pytest.approx(values.std(ddof=0)),
    )
    assert ours["SUM_OF_SQUARES"] in (pytest.approx(deviations), pytest.approx((values**2).sum()))
    if Qgis.QGIS_VERSION_INT < 32400:  # measured on QGIS 3.22
        assert ours["STD_DEV"] == pytest.approx(values.std(ddof=1))
        assert ours["SUM_OF_SQUARES"] == pytest.approx(deviations)
    assert_same_as_qgis(ours, native_stats(small_grid))


def test_folder_with_zips_and_table(provider, tiles: Path, tmp_path: Path) -> None:
    table = tmp_path / "per_file.csv"
    ours = assert_run(ALG, {"FOLDER": str(tiles), "OUTPUT_TABLE": str(table)})
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 60
    assert sum(int(r["count"]) for r in rows) == ours["COUNT"]
    assert any(r["file"].count(".zip/") == 2 for r in rows)
    # with Float64 (how QGIS reads an .asc), each row equals QGIS's statistics of that file
    table64 = tmp_path / "per_file64.gpkg"
    run(ALG, {"FOLDER": str(tiles), "DATA_TYPE": 3, "OUTPUT_TABLE": str(table64)})
    from osgeo import ogr

    dataset = ogr.Open(str(table64))
    rows64 = {f["file"]: f.items() for f in dataset.GetLayer(0)}
    assert len(rows64) == 60
    for name in [r["file"] for r in rows if ".zip" not in r["file"]][:3]:
        qgis = native_stats(name)
        assert rows64[name]["mean"] == pytest.approx(qgis["MEAN"], rel=1e-9)
        assert rows64[name]["std_dev"] == pytest.approx(qgis["STD_DEV"], rel=1e-9)
        assert rows64[name]["sum_of_squares"] == pytest.approx(qgis["SUM_OF_SQUARES"], rel=1e-9)
    dataset = None
    # all files together equal QGIS's statistics of the GDAL mosaic of the same tiles
    mosaic = tmp_path / "mosaic.tif"
    run("asciigrid:batchimport", {"FOLDER": str(tiles), "OUTPUT": str(mosaic)})
    assert_same_as_qgis(ours, native_stats(mosaic))
    assert sorted(leftovers(tmp_path)) == [
        "mosaic.tif",
        "per_file.csv",
        "per_file.csvt",
        "per_file64.gpkg",
    ]


def test_geotiff_input_uses_qgis_statistics(provider, tiles: Path, tmp_path: Path) -> None:
    """What the batchimport → stats model relies on."""
    mosaic = tmp_path / "mosaic.tif"
    run("asciigrid:batchimport", {"FOLDER": str(tiles), "OUTPUT": str(mosaic)})
    ours = assert_run(ALG, {"INPUT": [str(mosaic)], "OUTPUT_TABLE": "TEMPORARY_OUTPUT"})
    assert_same_as_qgis(ours, native_stats(mosaic))
    tile = sorted(tiles.glob("*.asc"))[0]
    both = run(ALG, {"INPUT": [str(mosaic), str(tile)]})
    assert both["COUNT"] == ours["COUNT"] + run(ALG, {"INPUT": [str(tile)]})["COUNT"]


def test_bad_grid_names_file_line_column(provider, tmp_path: Path) -> None:
    from qgis.core import QgsProcessingException

    bad = tmp_path / "bad.asc"
    bad.write_text("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n3\n")
    with pytest.raises(QgsProcessingException) as err:
        run(ALG, {"INPUT": [str(bad)]})
    assert str(err.value).startswith(f"{bad}:")
    assert str(err.value).split(":")[1].isdigit()


def test_cancel(provider, corpus_big_grid: Path, tmp_path: Path, cancel_at) -> None:
    from qgis.core import QgsProcessingException

    canceller = cancel_at(5.0)
    table = tmp_path / "t.csv"
    with pytest.raises(QgsProcessingException, match="Cancel"):
        run(ALG, {"INPUT": [str(corpus_big_grid)], "OUTPUT_TABLE": str(table)}, canceller.feedback)
    # Each engine thread finishes at most the 1 MiB window it is in; a run that went on would
    # read the rest of the grid (twice).
    assert canceller.io_since_cancel() < corpus_big_grid.stat().st_size / 4
    assert leftovers(tmp_path) == []


def test_html_report_has_the_results(provider, small_grid: Path, tmp_path: Path) -> None:
    """The Statistics output, as native:rasterlayerstatistics writes one (Results Viewer)."""
    html = tmp_path / "stats.html"
    ours = assert_run(ALG, {"INPUT": [str(small_grid)], "OUTPUT_HTML_FILE": str(html)})
    assert ours["OUTPUT_HTML_FILE"] == str(html)
    text = html.read_text(encoding="utf-8")
    assert f"<th>Mean value</th><td>{ours['MEAN']}</td>" in text
    assert f"<td>{small_grid}</td>" in text


def test_every_output_is_returned_when_none_is_asked_for(provider, small_grid: Path) -> None:
    results = assert_run(ALG, {"INPUT": [str(small_grid)]})
    assert results["OUTPUT_TABLE"] is None and results["OUTPUT_HTML_FILE"] is None


def test_input_sidecars_and_hidden_files_are_ignored(provider, tiles: Path, tmp_path) -> None:
    """What "Add Directory…" of QGIS's own widget added: not grids, and not errors."""
    grid = sorted(tiles.glob("*.asc"))[0]
    sidecars = [tmp_path / f"{grid.name}.aux.xml", tmp_path / "tile.prj", tmp_path / ".hidden.asc"]
    for path in sidecars:
        path.write_text("not a grid\n")
    ours = run(ALG, {"INPUT": [str(grid), *map(str, sidecars)]})
    assert ours["COUNT"] == run(ALG, {"INPUT": [str(grid)]})["COUNT"]


def test_a_geotiff_and_grids_together_merge_as_the_grids_do(
    provider, tiles: Path, tmp_path
) -> None:
    """A GeoTIFF's statistics come from QGIS, the grids' from the engine; all of them
    together are merged by the engine's one merge (``asciigrid.Stats.combine``), so they
    equal the engine's own statistics of the same values read from grids alone."""
    from osgeo import gdal

    first, *rest = sorted(tiles.glob("*.asc"))[:3]
    tif = tmp_path / "first.tif"
    gdal.Translate(str(tif), gdal_open(first), format="GTiff")
    mixed = run(ALG, {"INPUT": [str(tif), *map(str, rest)]})
    grids = run(ALG, {"INPUT": [str(first), *map(str, rest)]})
    assert (mixed["COUNT"], mixed["NODATA_COUNT"]) == (grids["COUNT"], grids["NODATA_COUNT"])
    assert_same_as_qgis(mixed, grids)
