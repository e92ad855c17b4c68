"""asciigrid:batchimport: parameters, outputs, mosaic equal to GDAL reading the tiles (zips
and zips in zips included), bad tiles stopped or skipped and reported, cancel."""

from __future__ import annotations

import re
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from measure_work import counted
from osgeo import gdal, osr
from plugin_helpers import assert_run, gdal_open, leftovers, run, run_in_child

ALG = "asciigrid:batchimport"
NODATA = -9999


def _gdal_grids(folder: Path) -> dict[str, tuple[np.ndarray, tuple]]:
    """Every tile under ``folder`` read by GDAL itself (zips through /vsizip/, nested too),
    keyed by the name asciigrid uses in messages."""
    grids: dict[str, tuple[np.ndarray, tuple]] = {}

    def read(vsi: str, name: str) -> None:
        ds = gdal_open(vsi)
        grids[name] = (ds.GetRasterBand(1).ReadAsArray().astype(np.float64), ds.GetGeoTransform())

    def walk_zip(vsi_zip: str, name: str) -> None:
        for member in sorted(gdal.ReadDirRecursive(vsi_zip) or []):
            if member.endswith(".asc"):
                read(f"{vsi_zip}/{member}", f"{name}/{member}")
            elif member.endswith(".zip"):
                walk_zip(f"/vsizip/{{{vsi_zip}/{member}}}", f"{name}/{member}")

    for path in sorted(folder.rglob("*")):
        if path.suffix == ".asc":
            read(str(path), str(path))
        elif path.suffix == ".zip":
            walk_zip(f"/vsizip/{path}", str(path))
    return grids


def _gdal_mosaic(grids: dict[str, tuple[np.ndarray, tuple]]) -> tuple[np.ndarray, tuple]:
    """Place each GDAL-read tile at its geotransform's offset in the union grid."""
    dx = next(iter(grids.values()))[1][1]
    west = min(gt[0] for _, gt in grids.values())
    north = max(gt[3] for _, gt in grids.values())
    east = max(gt[0] + a.shape[1] * gt[1] for a, gt in grids.values())
    south = min(gt[3] + a.shape[0] * gt[5] for a, gt in grids.values())
    ncols, nrows = round((east - west) / dx), round((north - south) / dx)
    out = np.full((nrows, ncols), float(NODATA))
    for array, gt in grids.values():
        row, col = round((north - gt[3]) / dx), round((gt[0] - west) / dx)
        out[row : row + array.shape[0], col : col + array.shape[1]] = array
    return out, (west, dx, 0.0, north, 0.0, -dx)


def _read(path: str | Path) -> tuple[np.ndarray, tuple, float | None, str]:
    ds = gdal.Open(str(path))
    band = ds.GetRasterBand(1)
    return (
        band.ReadAsArray().astype(np.float64),
        ds.GetGeoTransform(),
        band.GetNoDataValue(),
        ds.GetProjection(),
    )


def _bng(wkt: str) -> bool:
    srs = osr.SpatialReference()
    return bool(wkt) and srs.ImportFromWkt(wkt) == 0 and "British" in srs.GetName()


def test_parameters(provider) -> None:
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().algorithmById(ALG)
    params = {p.name(): p for p in algorithm.parameterDefinitions()}
    assert list(params) == [
        "INPUT",
        "FOLDER",
        "PATTERN",
        "CRS",
        "DATA_TYPE",
        "STRICT",
        "ON_ERROR",
        "BUILD_OVERVIEWS",
        "COMPRESSION",
        "COG",
        "OUTPUT",
        "REPORT",
    ]
    for optional in ("INPUT", "FOLDER", "CRS"):
        assert params[optional].flags() & params[optional].FlagOptional, optional
    assert params["PATTERN"].defaultValue() == "*.asc"
    assert params["ON_ERROR"].defaultValue() == 0
    assert len(params["ON_ERROR"].options()) == 2
    assert params["OUTPUT"].type() == "rasterDestination"
    assert params["REPORT"].type() == "fileDestination"
    assert params["REPORT"].defaultValue() == "TEMPORARY_OUTPUT"
    outputs = {o.name() for o in algorithm.outputDefinitions()}
    assert outputs == {"OUTPUT", "REPORT", "TILE_COUNT", "SKIPPED_COUNT"}


def test_folder_with_zips_equals_gdal_mosaic(provider, tiles: Path, tmp_path: Path) -> None:
    out = tmp_path / "mosaic.tif"
    results = assert_run(
        ALG, {"FOLDER": str(tiles), "OUTPUT": str(out), "REPORT": str(tmp_path / "r.txt")}
    )
    assert results["TILE_COUNT"] == 60
    assert results["SKIPPED_COUNT"] == 0
    grids = _gdal_grids(tiles)
    assert len(grids) == 60
    assert any(name.count(".zip/") == 2 for name in grids), "the nested zip is read"
    expected, expected_gt = _gdal_mosaic(grids)
    data, gt, nodata, wkt = _read(out)
    assert gt == expected_gt
    assert nodata == NODATA
    np.testing.assert_array_equal(data, expected)
    assert _bng(wkt)
    assert "tiles skipped: 0" in (tmp_path / "r.txt").read_text()
    assert sorted(leftovers(tmp_path)) == ["mosaic.tif", "r.txt"]


def test_a_cloud_optimized_mosaic_with_the_chosen_compression(
    provider, tiles: Path, tmp_path: Path
) -> None:
    validate = pytest.importorskip("osgeo_utils.samples.validate_cloud_optimized_geotiff")
    out = tmp_path / "cog.tif"
    parameters = {"FOLDER": str(tiles), "BUILD_OVERVIEWS": True, "COMPRESSION": 2, "COG": True}
    assert_run(ALG, {**parameters, "OUTPUT": str(out), "REPORT": str(tmp_path / "r.txt")})
    errors, warnings, _ = validate.validate(str(out), full_check=True)
    assert (errors, warnings) == ([], [])
    ds = gdal.Open(str(out))
    assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE"
    assert ds.GetRasterBand(1).GetOverviewCount() >= 1
    np.testing.assert_array_equal(_read(out)[0], _gdal_mosaic(_gdal_grids(tiles))[0])
    assert sorted(leftovers(tmp_path)) == ["cog.tif", "r.txt"]


def test_input_zips_only_crs_from_prj_inside_zip(provider, tiles: Path, tmp_path: Path) -> None:
    zips = sorted(str(p) for p in tiles.glob("*.zip"))
    out = tmp_path / "zipped.tif"
    results = assert_run(ALG, {"INPUT": zips, "OUTPUT": str(out)})
    assert results["TILE_COUNT"] == 20
    assert _bng(_read(out)[3])
    grids = {k: v for k, v in _gdal_grids(tiles).items() if ".zip/" in k}
    expected, expected_gt = _gdal_mosaic(grids)
    data, gt, _, _ = _read(out)
    assert gt == expected_gt
    np.testing.assert_array_equal(data, expected)


def test_input_files_pattern_and_crs_parameter(provider, tiles: Path, tmp_path: Path) -> None:
    loose = sorted(tiles.glob("*.asc"))[:3]
    out = tmp_path / "three.tif"
    results = assert_run(
        ALG,
        {
            "INPUT": [str(p) for p in loose],
            "CRS": "EPSG:3035",
            "DATA_TYPE": 3,
            "OUTPUT": str(out),
        },
    )
    assert results["TILE_COUNT"] == 3
    ds = gdal.Open(str(out))
    assert ds.GetRasterBand(1).DataType == gdal.GDT_Float64
    srs = osr.SpatialReference()
    srs.ImportFromWkt(ds.GetProjection())
    assert srs.GetAuthorityCode(None) == "3035"


def _corrupt(folder: Path) -> tuple[Path, Path]:
    """Break one loose tile's body (line 9, column 1) and one zipped tile's header."""
    loose = sorted(folder.glob("*.asc"))[5]
    lines = loose.read_text().splitlines(keepends=True)
    lines[8] = "oops " + lines[8]  # header is 6 lines: line 9 is the third data row
    loose.write_text("".join(lines))
    archive = sorted(folder.glob("*.zip"))[-1]
    with zipfile.ZipFile(archive) as zin:
        members = [(i, zin.read(i)) for i in zin.infolist()]
    victim = next(i.filename for i, _ in members if i.filename.endswith(".asc"))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in members:
            if info.filename == victim:
                data = data.replace(b"cellsize", b"cellsize -50", 1)
            zout.writestr(info, data)
    return loose, Path(f"{archive}/{victim}")


def test_bad_tiles_skipped_and_reported(provider, tiles: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tiles"
    shutil.copytree(tiles, folder)
    bad_body, bad_header = _corrupt(folder)
    broken_zip = folder / "sub" / "broken.zip"
    broken_zip.parent.mkdir()
    broken_zip.write_bytes(b"PK\x03\x04 this is not a zip archive")
    out, report = tmp_path / "kept.tif", tmp_path / "report.txt"
    results = assert_run(
        ALG, {"FOLDER": str(folder), "ON_ERROR": 1, "OUTPUT": str(out), "REPORT": str(report)}
    )
    assert results["SKIPPED_COUNT"] == 3
    assert results["TILE_COUNT"] == 58
    text = report.read_text()
    assert f"{bad_body}:9:1:" in text
    assert str(bad_header) in text
    assert str(broken_zip) in text
    # every other tile is in the mosaic with GDAL's values; the bad ones are nodata
    grids = _gdal_grids(tiles)
    good_ref, gt_ref = _gdal_mosaic(grids)
    data, gt, _, _ = _read(out)
    assert gt == gt_ref
    for name, (array, tile_gt) in grids.items():
        row = round((gt_ref[3] - tile_gt[3]) / gt_ref[1])
        col = round((tile_gt[0] - gt_ref[0]) / gt_ref[1])
        got = data[row : row + array.shape[0], col : col + array.shape[1]]
        is_bad = name.replace(str(tiles), str(folder)) in (str(bad_body), str(bad_header))
        if is_bad:
            assert (got == NODATA).all(), name
        else:
            np.testing.assert_array_equal(got, array, err_msg=name)
    del good_ref


def test_bad_tile_stops_by_default(provider, tiles: Path, tmp_path: Path) -> None:
    from qgis.core import QgsProcessingException

    folder = tmp_path / "tiles"
    shutil.copytree(tiles, folder)
    bad_body, _ = _corrupt(folder)
    out = tmp_path / "out"
    with pytest.raises(QgsProcessingException) as err:
        run(ALG, {"FOLDER": str(folder), "OUTPUT": str(out / "m.tif")})
    message = str(err.value)
    assert ".asc" in message and ":" in message
    assert not out.exists() or leftovers(out) == []


def test_misaligned_tile_is_a_clear_error(provider, tiles: Path, tmp_path: Path) -> None:
    from qgis.core import QgsProcessingException

    loose = sorted(tiles.glob("*.asc"))[:2]
    shifted = tmp_path / "shifted.asc"
    text = loose[1].read_text()
    key = next(line for line in text.splitlines() if line.lower().startswith("xllcorner"))
    x = float(key.split()[1])
    shifted.write_text(text.replace(key, f"xllcorner     {x + 7}"))
    out = tmp_path / "m.tif"
    with pytest.raises(QgsProcessingException) as err:
        run(ALG, {"INPUT": [str(loose[0]), str(shifted)], "OUTPUT": str(out)})
    assert "shifted.asc" in str(err.value)
    assert not out.exists()


def test_nothing_to_import_is_an_error(provider, tmp_path: Path) -> None:
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="INPUT"):
        run(ALG, {"OUTPUT": str(tmp_path / "m.tif")})
    with pytest.raises(QgsProcessingException, match="No tiles"):
        run(ALG, {"FOLDER": str(tmp_path), "OUTPUT": str(tmp_path / "m.tif")})


def test_cancel_leaves_no_file(provider, tiles: Path, tmp_path: Path, cancel_at) -> None:
    from qgis.core import QgsProcessingException

    out = tmp_path / "out"
    out.mkdir()
    canceller = cancel_at(10.0)
    with pytest.raises(QgsProcessingException, match="Cancel"):
        run(ALG, {"FOLDER": str(tiles), "OUTPUT": str(out / "m.tif")}, canceller.feedback)
    # The tiles are read by then; a run that went on would write the mosaic (about 300 KB).
    assert canceller.io_since_cancel() < 64 << 10
    assert leftovers(out) == []


def test_a_zip_bomb_member_is_a_skipped_tile(provider, tiles: Path, tmp_path: Path) -> None:
    """A member that inflates to 1 GiB of blanks after a 2 x 2 grid is refused after little
    more than its header allows (the engine's decompression budget), reported by name, and
    the other tiles go on."""
    folder = tmp_path / "tiles"
    folder.mkdir()
    for loose in sorted(tiles.glob("*.asc"))[:2]:
        shutil.copy(loose, folder)
    header = gdal_open(folder / sorted(p.name for p in folder.glob("*.asc"))[0])
    gt = header.GetGeoTransform()
    bomb = folder / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.asc", "w", force_zip64=True) as member:
            member.write(
                b"ncols 2\nnrows 2\nxllcorner %r\nyllcorner %r\ncellsize %r\n1 2\n3 4\n"
                % (gt[0], gt[3] + 2 * gt[5], gt[1])
            )
            blanks = b" " * (4 << 20)
            for _ in range(256):
                member.write(blanks)
    assert bomb.stat().st_size < 8 << 20
    out, report = tmp_path / "out.tif", tmp_path / "report.txt"
    with counted() as work:
        results = assert_run(
            ALG, {"FOLDER": str(folder), "ON_ERROR": 1, "OUTPUT": str(out), "REPORT": str(report)}
        )
    # Inflated to its budget, not to its end: the member is not read through.
    assert work[0].bytes_read < bomb.stat().st_size, work[0]
    assert results["TILE_COUNT"] == 2
    assert results["SKIPPED_COUNT"] == 1
    text = report.read_text()
    assert f"{bomb}/bomb.asc" in text and "decompression bomb" in text


# --- issue #10 -------------------------------------------------------------------------------

GRID_2X2 = "ncols 2\nnrows 2\nxllcorner {x}\nyllcorner 0\ncellsize 1\n1 2\n3 4\n"


def _write_tiles(folder: Path, texts: dict[str, str]) -> list[str]:
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text)
    return [str(folder / name) for name in texts]


# Two bad tiles, bad in each way a batch can meet them: the file cannot be opened, the header
# cannot be planned, or the body cannot be read (found only while writing the mosaic).
ALL_BAD = {
    "missing": {},
    "header": {"a.asc": "ncols 2\nnrows x\n", "b.asc": "hello\n"},
    "body": {
        "a.asc": GRID_2X2.format(x=0).replace("3 4", "3 x4"),
        "b.asc": GRID_2X2.format(x=2).replace("1 2", "1 2 5"),
    },
}


@pytest.mark.parametrize("kind", sorted(ALL_BAD))
def test_an_all_bad_batch_names_every_tile_and_writes_the_report(
    provider, tmp_path: Path, kind: str
) -> None:
    """Finding 17: not "none of the 2 tiles could be read", but each tile and its reason, in
    the error and in the log, and REPORT written all the same; no mosaic."""
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    inputs = _write_tiles(tmp_path / "in", ALL_BAD[kind])
    if kind == "missing":
        inputs = [str(tmp_path / "in" / "a.asc"), str(tmp_path / "in" / "b.asc")]
    out, report = tmp_path / "out" / "m.tif", tmp_path / "out" / "report.txt"
    feedback = QgsProcessingFeedback()
    with pytest.raises(QgsProcessingException) as err:
        run(
            ALG,
            {"INPUT": inputs, "ON_ERROR": 1, "OUTPUT": str(out), "REPORT": str(report)},
            feedback,
        )
    message, log = str(err.value), feedback.textLog()
    lines = report.read_text().splitlines()
    assert "# tiles skipped: 2" in lines
    for name in inputs:
        reason = next(line for line in lines if line.startswith(f"{name}:"))
        assert len(reason) > len(name) + 5, reason  # a reason, not just the name
        assert reason in message
        assert reason in log
    assert leftovers(out.parent) == ["report.txt"]


def _value_bomb(path: Path, member: str, header: bytes, chunk: bytes, count: int) -> None:
    """A zip whose deflated ``member`` is ``header`` then ``chunk`` ``count`` times, written
    without inflating it: every chunk is compressed once after a full flush (so its bytes
    repeat), and the CRC is that of the whole text, as a real archiver writes it."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(header) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush()
    crc = zlib.crc32(header)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    sizes = (crc, len(head) + len(block) * count + len(tail), len(header) + len(chunk) * count)
    name = member.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, *sizes, len(name), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, *sizes, len(name), 0, 0, 0, 0, 0, 0
    )
    with open(path, "wb") as f:
        f.write(local + name + head)
        for _ in range(count):
            f.write(block)
        f.write(tail)
        offset = f.tell()
        f.write(central + name)
        end = (0x06054B50, 0, 0, 1, 1, len(central) + len(name), offset, 0)
        f.write(struct.pack("<IHHHHIIH", *end))


@pytest.mark.parametrize("on_error", [0, 1])
def test_a_value_bomb_member_is_refused_in_bounded_memory(
    plugin_package: str, tmp_path: Path, on_error: int
) -> None:
    """Finding 6: a 0.6 MB zip member whose header claims 2147483647² cells, followed by
    640 MiB of real values (which the decompression budget lets through, value by value):
    QGIS took 6.4 GB for one like it. Now it is refused from its compressed size, in a QGIS
    process allowed 256 MiB more than it starts with: a skipped, named tile (ON_ERROR=1) or
    an error at its line and column (ON_ERROR=0)."""
    folder = tmp_path / "in"
    good = _write_tiles(folder, {"good.asc": GRID_2X2.format(x=0)})
    bomb = folder / "bomb.zip"
    header = b"ncols 2147483647\nnrows 2147483647\nxllcorner 2\nyllcorner 0\ncellsize 1\n"
    _value_bomb(bomb, "bomb.asc", header, b"1 " * (2 << 20), 160)
    assert bomb.stat().st_size < 1 << 20
    out, report = tmp_path / "m.tif", tmp_path / "report.txt"
    params = {
        "INPUT": [*good, str(bomb)],
        "ON_ERROR": on_error,
        "OUTPUT": str(out),
        "REPORT": str(report),
    }
    answer = run_in_child(plugin_package, ALG, params, headroom=256 << 20)
    if on_error:
        assert answer["results"]["SKIPPED_COUNT"] == 1, answer
        line = next(x for x in report.read_text().splitlines() if x.startswith(f"{bomb}/"))
        assert line.startswith(f"{bomb}/bomb.asc:")
        assert "not enough memory" not in line  # refused, not stopped by the limit
    else:
        assert re.match(rf"{re.escape(str(bomb))}/bomb\.asc:\d+:\d+: ", answer["error"]), answer
        assert not out.exists()


def _prj(epsg: int) -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.MorphToESRI()
    return srs.ExportToWkt()


@pytest.mark.parametrize("on_error", [0, 1])
def test_zipped_tiles_in_different_crs_are_not_merged(
    provider, tmp_path: Path, on_error: int
) -> None:
    """Finding 12: a WGS84 tile and a UTM tile (each with its .prj, in one zip) were merged
    under the first one's CRS. The plugin hands each member's .prj to the engine, which
    refuses the second tile (ON_ERROR=0) or skips it (ON_ERROR=1), and the mosaic takes the
    engine's CRS."""
    from qgis.core import QgsProcessingException

    archive = tmp_path / "tiles.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for stem, x, epsg in (("wgs84", 0, 4326), ("utm", 2, 32633)):
            z.writestr(f"{stem}.asc", GRID_2X2.format(x=x))
            z.writestr(f"{stem}.prj", _prj(epsg))
    out = tmp_path / "m.tif"
    params = {"INPUT": [str(archive)], "ON_ERROR": on_error, "OUTPUT": str(out)}
    if not on_error:
        with pytest.raises(QgsProcessingException) as err:
            run(ALG, params)
        assert f"{archive}/utm.asc" in str(err.value)
        assert f"{archive}/wgs84.asc" in str(err.value)
        assert not out.exists()
        return
    results = assert_run(ALG, params)
    assert (results["TILE_COUNT"], results["SKIPPED_COUNT"]) == (1, 1)
    # Whichever tile comes first sets the CRS; the other is the one skipped.
    report = Path(results["REPORT"]).read_text()
    skipped = [stem for stem in ("wgs84", "utm") if f"{archive}/{stem}.asc:" in report]
    assert len(skipped) == 1, report
    kept_epsg = {"wgs84": "32633", "utm": "4326"}[skipped[0]]
    srs = osr.SpatialReference()
    srs.ImportFromWkt(_read(out)[3])
    assert srs.GetAuthorityCode(None) == kept_epsg


def test_a_tile_claiming_an_absurd_size_is_a_skipped_tile(provider, tmp_path: Path) -> None:
    """Finding 17: a 60-byte tile claiming 100000 × 100000 cells forced one 40 GB strip, and
    the whole ON_ERROR=1 batch failed. It is a skipped tile, named in REPORT."""
    huge = "ncols 100000\nnrows 100000\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n"
    inputs = _write_tiles(tmp_path / "in", {"good.asc": GRID_2X2.format(x=0), "huge.asc": huge})
    out, report = tmp_path / "m.tif", tmp_path / "report.txt"
    results = assert_run(
        ALG, {"INPUT": inputs, "ON_ERROR": 1, "OUTPUT": str(out), "REPORT": str(report)}
    )
    assert (results["TILE_COUNT"], results["SKIPPED_COUNT"]) == (1, 1)
    assert any(line.startswith(f"{inputs[1]}:") for line in report.read_text().splitlines())
    assert gdal.Open(str(out)).RasterXSize == 2


# --- issue #11: zips are an engine source ---------------------------------------------------


def _delivery(tmp_path: Path, broken: bytes | None) -> tuple[Path, str]:
    """``delivery.zip`` holding ``data/T<i>.zip`` tile zips (2 x 2 grids side by side, each
    with a .prj and .xml to skip); tile 1's text is ``broken`` when given. Returns the zip
    and the name of tile 1."""
    path = tmp_path / "delivery.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as outer:
        for i in range(3):
            inner = tmp_path / f"T{i}.zip"
            text = GRID_2X2.format(x=2 * i).encode() if i != 1 or broken is None else broken
            with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr(f"T{i}.asc", text)
                z.writestr(f"T{i}.xml", "<xml/>")
            outer.write(inner, f"data/T{i}.zip")
            inner.unlink()
    return path, f"{path}/data/T1.zip/T1.asc"


BROKEN_MEMBERS = {
    "bad-value": (GRID_2X2.format(x=2).replace("3 4", "3 x4").encode(), ":7:3:"),
    "bomb": (GRID_2X2.format(x=2).encode()[:-8] + b" " * (8 << 20), "decompression bomb"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_MEMBERS))
def test_a_broken_member_of_a_nested_zip_is_skipped_by_name(
    provider, tmp_path: Path, kind: str
) -> None:
    broken, why = BROKEN_MEMBERS[kind]
    archive, name = _delivery(tmp_path, broken)
    out, report = tmp_path / "out.tif", tmp_path / "report.txt"
    results = assert_run(
        ALG, {"INPUT": [str(archive)], "ON_ERROR": 1, "OUTPUT": str(out), "REPORT": str(report)}
    )
    assert (results["TILE_COUNT"], results["SKIPPED_COUNT"]) == (2, 1)
    line = next(line for line in report.read_text().splitlines() if name in line)
    assert why in line


@pytest.mark.parametrize("kind", sorted(BROKEN_MEMBERS))
def test_a_broken_member_of_a_nested_zip_stops_with_its_location(
    provider, tmp_path: Path, kind: str
) -> None:
    from qgis.core import QgsProcessingException

    broken, why = BROKEN_MEMBERS[kind]
    archive, name = _delivery(tmp_path, broken)
    out = tmp_path / "out"
    with pytest.raises(QgsProcessingException) as err:
        run(ALG, {"INPUT": [str(archive)], "OUTPUT": str(out / "m.tif")})
    assert re.search(re.escape(name) + r":\d+:\d+: ", str(err.value)), str(err.value)
    assert why in str(err.value)
    assert not out.exists() or leftovers(out) == []


def test_a_folder_of_zips_is_read_by_the_engine_with_the_pattern(provider, tmp_path: Path) -> None:
    archive, _ = _delivery(tmp_path, None)
    folder = tmp_path / "in"
    folder.mkdir()
    archive.rename(folder / archive.name)
    out = tmp_path / "out.tif"
    results = assert_run(ALG, {"FOLDER": str(folder), "PATTERN": "T[02].asc", "OUTPUT": str(out)})
    assert results["TILE_COUNT"] == 2
    data, gt, _, _ = _read(out)
    assert data.tolist() == [[1, 2, NODATA, NODATA, 1, 2], [3, 4, NODATA, NODATA, 3, 4]]


def test_input_files_not_matching_the_pattern_are_ignored_not_skipped(
    provider, tmp_path: Path
) -> None:
    """A folder's every file in INPUT (sidecars, a readme, hidden files): the tiles are
    read, the rest is left out and not reported as skipped tiles, even with "Stop"."""
    from qgis.core import QgsProcessingFeedback

    inputs = _write_tiles(tmp_path / "in", {"a.asc": GRID_2X2.format(x=0)})
    for name in ("a.prj", "a.asc.aux.xml", "readme.txt", ".b.asc"):
        (tmp_path / "in" / name).write_text("PROJCS[...]\n")
        inputs.append(str(tmp_path / "in" / name))
    feedback = QgsProcessingFeedback()
    results = assert_run(
        ALG, {"INPUT": inputs, "ON_ERROR": 0, "OUTPUT": str(tmp_path / "m.tif")}, feedback
    )
    assert (results["TILE_COUNT"], results["SKIPPED_COUNT"]) == (1, 0)
    assert "Ignored 4 file(s)" in feedback.textLog()


def _zip_with_trailing_text(tmp_path: Path) -> Path:
    """Two tiles side by side in one zip; the second is followed by a text line."""
    archive = tmp_path / "tiles.zip"
    header = "ncols 2\nnrows 1\nxllcorner {x}\nyllcorner 0\ncellsize 1\n"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.asc", header.format(x=0) + "1 2\n")
        z.writestr("b.asc", header.format(x=2) + "3 4\nNOTES made by hand\n")
    return archive


def test_a_tile_with_text_after_it_is_read_with_a_warning_naming_it(provider, tmp_path: Path):
    from plugin_helpers import warnings_feedback

    archive = _zip_with_trailing_text(tmp_path)
    feedback, warned = warnings_feedback()
    out = tmp_path / "mosaic.tif"
    assert_run(ALG, {"INPUT": [str(archive)], "OUTPUT": str(out)}, feedback)
    np.testing.assert_array_equal(gdal_open(out).ReadAsArray(), [[1, 2, 3, 4]])
    assert [w for w in warned if w.startswith(f"{archive}/b.asc:7:")], warned


def test_strict_stops_at_a_tile_with_text_after_it(provider, tmp_path: Path):
    from qgis.core import QgsProcessingException

    archive = _zip_with_trailing_text(tmp_path)
    out = tmp_path / "out" / "mosaic.tif"
    with pytest.raises(QgsProcessingException) as err:
        run(ALG, {"INPUT": [str(archive)], "STRICT": True, "OUTPUT": str(out)})
    assert f"{archive}/b.asc:7:1:" in str(err.value)
    assert not out.exists()
