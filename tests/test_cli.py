"""The ``asciigrid`` command line: each command's output and exit status on good and bad
files; ``--json`` output parses and agrees with the Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from asciigrid.cli import main

REPO = Path(__file__).resolve().parents[1]
BAD = REPO / "tests" / "data" / "bad"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("asciigrid")
    if not script.exists():
        pytest.skip("asciigrid is not installed as a package here (no console script)")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"asciigrid {asciigrid.__version__}"


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["info"])
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_info_json(capsys: pytest.CaptureFixture[str], aaigrid_data: Path) -> None:
    path = aaigrid_data / "pixel_per_line.asc"
    code, out, _ = run(capsys, "info", "--json", path)
    assert code == 0
    (record,) = json.loads(out)
    header = asciigrid.read_header(path)
    grid = asciigrid.read(path)
    assert (record["ncols"], record["nrows"]) == (header.ncols, header.nrows)
    assert record["geotransform"] == list(header.geotransform)
    assert record["dtype"] == grid.data.dtype.name
    assert "decimal" in record["dtype_reason"]
    assert record["crs_wkt"] == grid.crs_wkt


@pytest.mark.parametrize(
    ("name", "reason"),
    [("nodata_float.asc", "nodata"), ("nodata_int.asc", "whole number")],
)
def test_info_says_why_the_type(
    capsys: pytest.CaptureFixture[str], aaigrid_data: Path, name: str, reason: str
) -> None:
    code, out, _ = run(capsys, "info", aaigrid_data / name)
    assert code == 0
    type_line = next(line for line in out.splitlines() if "data type:" in line)
    assert asciigrid.read(aaigrid_data / name).data.dtype.name in type_line
    assert reason in type_line


def test_info_of_a_bad_file_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "info", BAD / "no_origin.asc")
    assert code == 1
    assert err.startswith(f"{BAD / 'no_origin.asc'}:")


def test_stats_json_equals_the_api(capsys: pytest.CaptureFixture[str], aaigrid_data: Path) -> None:
    files = [aaigrid_data / "pixel_per_line.asc", aaigrid_data / "nodata_nan.asc"]
    code, out, _ = run(capsys, "stats", "--json", "--each", *files)
    assert code == 0
    records = json.loads(out)
    expected = asciigrid.stats(files, per_source=True)
    assert isinstance(expected, list)
    assert len(records) == len(expected)
    for got, want in zip(records, expected):
        assert got["count"] == want.count and got["nodata_count"] == want.nodata_count
        assert got["min"] == want.min and got["max"] == want.max
        assert got["mean"] == pytest.approx(want.mean)


def test_check_prints_every_error_and_exits_1(
    capsys: pytest.CaptureFixture[str], aaigrid_data: Path
) -> None:
    bad = [BAD / "garbage_token.asc", BAD / "too_few_values.asc"]
    code, out, err = run(capsys, "check", aaigrid_data / "float64.asc", *bad)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 2
    for path, line in zip(bad, lines):
        with pytest.raises(asciigrid.ParseError) as info:
            asciigrid.read(path)
        assert line == str(info.value)  # file:line:column: message
    assert "1 of 3 files are valid grids" in out


def test_check_json(capsys: pytest.CaptureFixture[str], aaigrid_data: Path) -> None:
    code, out, _ = run(
        capsys, "check", "--json", aaigrid_data / "float64.asc", BAD / "hex_number.asc"
    )
    assert code == 1
    document = json.loads(out)
    assert (document["files"], document["invalid"]) == (2, 1)
    bad = document["results"][1]
    assert bad["error"] == "ParseError" and bad["line"] >= 1 and bad["column"] >= 1


def test_check_of_good_files_exits_0(
    capsys: pytest.CaptureFixture[str], aaigrid_data: Path
) -> None:
    code, out, err = run(capsys, "check", *sorted(aaigrid_data.glob("*.asc")))
    assert code == 0, err
    assert err == ""


def test_a_missing_file_is_reported_with_its_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.asc"
    code, _, err = run(capsys, "check", missing)
    assert code == 1
    assert str(missing) in err


def test_progress_bars_stay_off_when_not_a_terminal(tmp_path: Path) -> None:
    """Output captured by a script has no bar characters in it."""
    grid = tmp_path / "g.asc"
    asciigrid.write(
        grid, np.arange(6, dtype=np.int32).reshape(2, 3), geotransform=(0, 1, 0, 2, 0, -1)
    )
    done = subprocess.run(
        [sys.executable, "-m", "asciigrid.cli", "stats", str(grid)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == 0
    assert done.stderr == ""
    assert "it/s" not in done.stdout and "B/s" not in done.stdout


def assert_geotiff_equals(path: Path, grid: asciigrid.Grid) -> None:
    """GDAL reads ``path`` back as ``grid``: the same cells where they are, and no others."""
    from osgeo import gdal

    ds = gdal.Open(str(path))
    np.testing.assert_array_equal(ds.GetRasterBand(1).ReadAsArray(), grid.data)
    assert ds.GetGeoTransform() == grid.geotransform


def test_convert_writes_what_gdal_reads_back(
    capsys: pytest.CaptureFixture[str], aaigrid_data: Path, tmp_path: Path
) -> None:
    source, out = aaigrid_data / "pixel_per_line.asc", tmp_path / "out.tif"
    code, output, err = run(capsys, "convert", "--json", source, out)
    assert code == 0, err
    assert json.loads(output)["output"] == str(out)
    assert_geotiff_equals(out, asciigrid.read(source))


def test_convert_of_a_bad_file_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out.tif"
    code, _, err = run(capsys, "convert", BAD / "garbage_token.asc", out)
    assert code == 1
    assert err.startswith(f"{BAD / 'garbage_token.asc'}:7:3:")
    assert list(tmp_path.iterdir()) == []


def _tiles(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(3):
        data = np.arange(12, dtype=np.int32).reshape(3, 4) + 100 * i
        path = folder / f"t{i}.asc"
        asciigrid.write(path, data, geotransform=(4.0 * i, 1.0, 0.0, 3.0, 0.0, -1.0), nodata=-1)
        paths.append(path)
    return paths


def test_mosaic_of_a_folder_equals_the_api(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tiles = _tiles(tmp_path / "tiles")
    out = tmp_path / "m.tif"
    code, output, err = run(capsys, "mosaic", tmp_path / "tiles", "-o", out, "--json")
    assert code == 0, err
    assert json.loads(output)["tiles"] == 3
    assert_geotiff_equals(out, asciigrid.mosaic(tiles))


def test_mosaic_skipping_a_bad_tile_exits_1_and_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tiles = _tiles(tmp_path / "tiles")
    tiles[1].write_text(tiles[1].read_text().replace(" 105 ", " x5 "))
    out = tmp_path / "m.tif"
    code, output, err = run(capsys, "mosaic", *tiles, "-o", out, "--skip-errors", "--json")
    assert code == 1
    document = json.loads(output)
    assert document["tiles"] == 2
    assert [s["file"] for s in document["skipped"]] == [str(tiles[1])]
    assert f"skipped {tiles[1]}:" in err
    assert out.exists()


def test_mosaic_of_a_zip_of_tiles(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import zipfile

    tiles = _tiles(tmp_path / "tiles")
    archive = tmp_path / "tiles.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for t in tiles:
            z.write(t, f"data/{t.name}")
    out = tmp_path / "m.tif"
    code, output, err = run(capsys, "mosaic", archive, "-o", out, "--json")
    assert code == 0, err
    assert json.loads(output)["tiles"] == 3
    assert_geotiff_equals(out, asciigrid.mosaic(tiles))
