"""End to end, as a user would: build the plugin zip with scripts/package_plugin.py, install
it into a fresh QGIS profile, enable it with ``qgis_process plugins enable``, run all three
algorithms and the batchimport → stats model with ``qgis_process --json``."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import qgis_tools
from plugin_helpers import REPO_ROOT

pytestmark = pytest.mark.e2e
MODEL = REPO_ROOT / "tests" / "data" / "batch_then_stats.model3"


def _package(out_dir: Path, *extra: str) -> Path:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "package_plugin.py"),
            "--out-dir",
            str(out_dir),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh QGIS config folder with the packaged plugin (engine included) installed."""
    plugin_zip = _package(tmp_path_factory.mktemp("dist"))
    with zipfile.ZipFile(plugin_zip) as archive:
        names = archive.namelist()
    assert all(n.startswith("asciigrid_qgis/") for n in names)
    assert "asciigrid_qgis/metadata.txt" in names
    assert any(n.startswith("asciigrid_qgis/engines/linux_x86_64/asciigrid/_native") for n in names)
    config = tmp_path_factory.mktemp("qgis-config")
    qgis_tools.install_plugin(plugin_zip, config)
    return config


def test_plugin_is_listed_and_loaded(profile: Path) -> None:
    listing = qgis_tools.run_qgis_process(["plugins"], profile)
    assert "* asciigrid_qgis" in listing.stdout, listing.stdout
    algorithms = qgis_tools.run_qgis_process(["list"], profile).stdout
    for name in ("fastload", "batchimport", "stats"):
        assert f"asciigrid:{name}" in algorithms


def test_fastload(profile: Path, small_grid: Path, tmp_path: Path) -> None:
    from osgeo import gdal

    out = tmp_path / "small.tif"
    payload = qgis_tools.run_json(
        "asciigrid:fastload", [f"INPUT={small_grid}", f"OUTPUT={out}"], profile
    )
    assert payload["results"]["OUTPUT"] == str(out)
    data = gdal.Open(str(out)).ReadAsArray()
    assert data.tolist() == [[1.5, 2, 3, 4], [5, -9999, 7, 8.25], [9, 10, 11, 12]]


def test_batchimport_and_stats(profile: Path, tiles: Path, tmp_path: Path) -> None:
    from osgeo import gdal

    out, report = tmp_path / "mosaic.tif", tmp_path / "report.txt"
    payload = qgis_tools.run_json(
        "asciigrid:batchimport",
        [f"FOLDER={tiles}", "ON_ERROR=1", f"OUTPUT={out}", f"REPORT={report}"],
        profile,
    )
    results = payload["results"]
    assert results["TILE_COUNT"] == 60 and results["SKIPPED_COUNT"] == 0
    assert results["OUTPUT"] == str(out) and results["REPORT"] == str(report)
    assert gdal.Open(str(out)).RasterXSize == 8 * 50

    table = tmp_path / "stats.csv"
    stats = qgis_tools.run_json(
        "asciigrid:stats", [f"FOLDER={tiles}", f"OUTPUT_TABLE={table}"], profile
    )["results"]
    for name in ("MIN", "MAX", "RANGE", "SUM", "MEAN", "STD_DEV", "SUM_OF_SQUARES", "COUNT"):
        assert isinstance(stats[name], (int, float)), name
    on_mosaic = qgis_tools.run_json("asciigrid:stats", [f"INPUT={out}"], profile)["results"]
    assert on_mosaic["COUNT"] == stats["COUNT"]
    assert on_mosaic["MEAN"] == pytest.approx(stats["MEAN"], rel=1e-9)
    with open(table, newline="") as f:
        assert len(list(csv.DictReader(f))) == 60


def test_error_names_file_line_column(profile: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.asc"
    bad.write_text("ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 x\n")
    with pytest.raises(RuntimeError) as err:
        qgis_tools.run_json(
            "asciigrid:fastload", [f"INPUT={bad}", f"OUTPUT={tmp_path / 'o.tif'}"], profile
        )
    assert f"{bad}:6:3" in str(err.value)
    assert not (tmp_path / "o.tif").exists()


def test_model_batchimport_then_stats(profile: Path, tiles: Path, tmp_path: Path) -> None:
    mosaic, table = tmp_path / "model_mosaic.tif", tmp_path / "model_stats.csv"
    payload = qgis_tools.run_json(
        str(MODEL),
        [
            f"FOLDER={tiles}",
            "PATTERN=*.asc",
            # QGIS 3.22 names a model's outputs "<child id>:<output name>"
            f"batchimport:MOSAIC={mosaic}",
            f"batchimport:REPORT={tmp_path / 'model_report.txt'}",
            f"stats:STATISTICS={table}",
        ],
        profile,
    )
    results = payload["results"]
    assert Path(results["batchimport:MOSAIC"]) == mosaic and mosaic.is_file()
    assert Path(results["stats:STATISTICS"]) == table
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [Path(r["file"]) for r in rows] == [mosaic]
    direct = qgis_tools.run_json("asciigrid:stats", [f"FOLDER={tiles}"], profile)["results"]
    assert int(rows[0]["count"]) == direct["COUNT"]
    assert float(rows[0]["mean"]) == pytest.approx(direct["MEAN"], rel=1e-9)


def test_without_engine_other_providers_still_work(tmp_path: Path, small_grid: Path) -> None:
    plugin_zip = _package(tmp_path / "dist", "--no-engine")
    config = tmp_path / "config"
    qgis_tools.install_plugin(plugin_zip, config)
    listing = qgis_tools.run_qgis_process(["list"], config).stdout
    assert "asciigrid:fastload" in listing
    with pytest.raises(RuntimeError) as err:
        qgis_tools.run_json("asciigrid:stats", [f"INPUT={small_grid}"], config)
    assert "pip install asciigrid" in str(err.value)
    native = qgis_tools.run_json(
        "native:rasterlayerstatistics", [f"INPUT={small_grid}", "BAND=1"], config
    )
    assert native["results"]["MAX"] == 12


@pytest.mark.parametrize("algorithm", ["fastload", "batchimport"])
def test_an_output_that_is_not_a_geotiff_is_refused(
    profile: Path, small_grid: Path, tmp_path: Path, algorithm: str
) -> None:
    """Issue #10, finding 15: ``OUTPUT=x.asc`` received a GeoTIFF."""
    out = tmp_path / "x.asc"
    with pytest.raises(RuntimeError) as err:
        qgis_tools.run_json(
            f"asciigrid:{algorithm}", [f"INPUT={small_grid}", f"OUTPUT={out}"], profile
        )
    assert f"OUTPUT: {out}: asciigrid writes GeoTIFF only" in str(err.value)
    assert not out.exists()


def test_stats_prints_no_error_on_stderr(profile: Path, small_grid: Path) -> None:
    """The first stats run of a process asks QGIS's statistics which conventions it uses
    (a probe raster); that used to print "ERROR 1: Unable to compute a transformation"."""
    result = qgis_tools.run_qgis_process(
        ["--json", "run", "asciigrid:stats", "--", f"INPUT={small_grid}"], profile
    )
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if "ERROR" in line] == []


def test_batchimport_of_one_zip(profile: Path, small_grid: Path, tmp_path: Path) -> None:
    archive, out = tmp_path / "a.zip", tmp_path / "a.tif"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(small_grid, "small.asc")
    payload = qgis_tools.run_json(
        "asciigrid:batchimport", [f"INPUT={archive}", f"OUTPUT={out}"], profile
    )
    assert payload["results"]["TILE_COUNT"] == 1 and out.is_file()
