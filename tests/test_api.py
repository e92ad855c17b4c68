"""The public Python API: sources, dtypes, headers, Grid helpers, CRS, progress, threads."""

from __future__ import annotations

import dataclasses
import gzip
import io
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import asciigrid
import numpy as np
import pytest
from gdal_reference import assert_same_values, esri_wkt, gdal_read, same_crs, same_nodata
from measure_work import bytes_read, counted, needs_proc_io
from osgeo import osr

SAMPLES = ["pixel_per_line.asc", "nodata_int.asc", "float64.asc", "byte.tif.grd"]


def assert_same_grid(got: asciigrid.Grid, expected: asciigrid.Grid) -> None:
    assert_same_values(got.data, expected.data)
    assert got.header == expected.header
    assert same_nodata(got.nodata, expected.nodata)


def assert_matches_gdal(grid: asciigrid.Grid, path: Path, dtype: Any = None) -> None:
    ref = gdal_read(path, dtype=dtype)
    assert grid.data.dtype == ref.dtype
    assert grid.geotransform == ref.geotransform
    assert same_nodata(grid.nodata, ref.nodata)
    assert_same_values(grid.data, ref.array)


# --- sources --------------------------------------------------------------------------------


SOURCES: dict[str, Callable[[Path], Any]] = {
    "str": lambda p: str(p),
    "pathlib": lambda p: p,
    "bytes": lambda p: p.read_bytes(),
    "bytearray": lambda p: bytearray(p.read_bytes()),
    "memoryview": lambda p: memoryview(p.read_bytes()),
    "bytesio": lambda p: io.BytesIO(p.read_bytes()),
    "named_bytes": lambda p: asciigrid.NamedBytes("zip/member.asc", p.read_bytes()),
}


@pytest.mark.parametrize("kind", sorted(SOURCES))
@pytest.mark.parametrize("name", SAMPLES)
def test_every_source_kind_reads_like_gdal(aaigrid_data: Path, name: str, kind: str) -> None:
    path = aaigrid_data / name
    grid = asciigrid.read(SOURCES[kind](path))
    assert_matches_gdal(grid, path)


@pytest.mark.parametrize("name", SAMPLES)
def test_binary_file_object(aaigrid_data: Path, name: str) -> None:
    path = aaigrid_data / name
    with open(path, "rb") as f:
        grid = asciigrid.read(f)
    assert_matches_gdal(grid, path)


def test_path_sources_keep_the_path(aaigrid_data: Path) -> None:
    path = aaigrid_data / "nodata_int.asc"
    assert asciigrid.read(str(path)).path == str(path)
    assert asciigrid.read(path).path == str(path)
    assert asciigrid.read(path.read_bytes()).path is None


def test_unsupported_source_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        asciigrid.read(12345)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", SAMPLES)
def test_gzip_file(tmp_path: Path, aaigrid_data: Path, name: str) -> None:
    original = aaigrid_data / name
    packed = tmp_path / (name + ".gz")
    packed.write_bytes(gzip.compress(original.read_bytes()))
    assert_same_grid(asciigrid.read(str(packed)), asciigrid.read(str(original)))
    assert_same_grid(asciigrid.read(packed), asciigrid.read(original))
    assert asciigrid.read_header(str(packed)) == asciigrid.read_header(str(original))


def test_gzip_file_finds_its_prj(tmp_path: Path, aaigrid_data: Path) -> None:
    packed = tmp_path / "dem.asc.gz"
    packed.write_bytes(gzip.compress((aaigrid_data / "pixel_per_line.asc").read_bytes()))
    shutil.copy(aaigrid_data / "pixel_per_line.prj", tmp_path / "dem.prj")
    grid = asciigrid.read(str(packed))
    assert grid.prj is not None
    assert same_crs(grid.crs_wkt, gdal_read(aaigrid_data / "pixel_per_line.asc").wkt)


def test_gzip_large_multi_member(tmp_path: Path, big_grid: Path) -> None:
    """A .gz written in several members (as `cat a.gz b.gz` makes) is the whole text."""
    raw = big_grid.read_bytes()
    half = len(raw) // 2
    packed = tmp_path / "big.asc.gz"
    packed.write_bytes(gzip.compress(raw[:half], 1) + gzip.compress(raw[half:], 1))
    assert_same_grid(asciigrid.read(packed), asciigrid.read(big_grid))


@pytest.mark.parametrize("suffix", [".grd", ".txt", ".ASC", ".dat", ""])
def test_any_extension(tmp_path: Path, aaigrid_data: Path, suffix: str) -> None:
    original = aaigrid_data / "nodata_int.asc"
    copy = tmp_path / f"grid{suffix}"
    shutil.copy(original, copy)
    assert_matches_gdal(asciigrid.read(str(copy)), original)


# --- dtype override ---------------------------------------------------------------------------

DTYPES = [
    ("int32", "int32"),
    (np.int32, "int32"),
    (np.dtype("int32"), "int32"),
    ("float32", "float32"),
    (np.float32, "float32"),
    ("f4", "float32"),
    ("float64", "float64"),
    (np.float64, "float64"),
    (np.dtype("float64"), "float64"),
    (float, "float64"),
]


@pytest.mark.parametrize(("dtype", "name"), DTYPES, ids=[repr(d) for d, _ in DTYPES])
def test_dtype_override_forms(aaigrid_data: Path, dtype: Any, name: str) -> None:
    path = aaigrid_data / "nodata_int.asc"
    grid = asciigrid.read(str(path), dtype=dtype)
    assert grid.data.dtype == np.dtype(name)
    assert_matches_gdal(grid, path, dtype=name)


@pytest.mark.parametrize("dtype", ["uint8", "int64", np.int16, "complex64", "U4"])
def test_unsupported_dtype_is_a_value_error(aaigrid_data: Path, dtype: Any) -> None:
    with pytest.raises(ValueError) as info:
        asciigrid.read(str(aaigrid_data / "nodata_int.asc"), dtype=dtype)
    assert not isinstance(info.value, asciigrid.ParseError)


def test_float64_override_keeps_full_precision(tmp_path: Path) -> None:
    path = tmp_path / "precise.asc"
    path.write_text(
        "ncols 3\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
        "0.1 1.234567890123456 -9.87654321e-300\n"
    )
    grid = asciigrid.read(path, dtype="float64")
    assert grid.data.tolist() == [[0.1, 1.234567890123456, -9.87654321e-300]]
    assert_matches_gdal(grid, path, dtype="float64")
    as_f32 = asciigrid.read(path)
    assert as_f32.data.dtype == np.float32
    assert as_f32.data.tolist() == np.array([[0.1, 1.234567890123456, -0.0]], np.float32).tolist()


# --- read_header --------------------------------------------------------------------------------


def nodata_forces_float(text: bytes) -> bool:
    """docs/FORMAT.md's data type rule 1: the header alone makes the grid a float grid."""
    match = re.search(rb"(?im)^nodata_value[ \t]+(\S+)", text)
    if match is None:
        return False
    token = match.group(1).decode()
    if token == "null" or "." in token or "," in token:
        return True
    value = float(token)
    return math.isnan(value) or not -(2**31) <= value <= 2**31 - 1


def assert_header_of(header: asciigrid.Header, full: asciigrid.Header, text: bytes) -> None:
    """``read_header`` says what ``read`` says; its dtype is None when only the body decides."""
    assert dataclasses.replace(header, dtype=full.dtype) == full
    if nodata_forces_float(text):
        assert header.dtype == full.dtype
    else:
        assert header.dtype is None, f"read_header cannot know the dtype, yet says {header.dtype}"


HEADER_FILES = {
    "corner": "ncols 4\nnrows 2\nxllcorner 100.5\nyllcorner -20.25\ncellsize 0.25\n"
    "NODATA_value -9999\n1 2 3 4\n5 6 7 -9999\n",
    "center": "NCOLS 4\nNROWS 2\nXLLCENTER 100.5\nYLLCENTER -20.25\nCELLSIZE 0.25\n"
    "1.5 2 3 4\n5 6 7 8\n",
    "dxdy": "ncols 4\nnrows 2\nxllcorner 0\nyllcorner 0\ndx 2\ndy 3\nNODATA_value -1.5\n"
    "1 2 3 4\n5 6 7 8\n",
}


@pytest.mark.parametrize("name", sorted(HEADER_FILES))
def test_read_header_values(tmp_path: Path, name: str) -> None:
    text = HEADER_FILES[name]
    path = tmp_path / f"{name}.asc"
    path.write_text(text)
    header = asciigrid.read_header(str(path))
    ref = gdal_read(path)
    full = asciigrid.read(str(path)).header
    assert full.dtype == ref.dtype
    assert_header_of(header, full, text.encode())
    assert header == asciigrid.read_header(text.encode())
    assert header.shape == (2, 4) == (header.nrows, header.ncols)
    assert header.geotransform == ref.geotransform
    assert same_nodata(header.nodata, ref.nodata)
    assert header.dx == ref.geotransform[1]
    assert header.dy == -ref.geotransform[5]
    assert header.cellsize == (header.dx if name != "dxdy" else None)
    assert header.origin == ("center" if name == "center" else "corner")
    if name != "dxdy":
        assert (header.x_origin, header.y_origin) == (100.5, -20.25)
    assert header.header_lines == text.count("\n") - 2
    x0, dx, _, y0, _, ndy = ref.geotransform
    assert header.bounds == (x0, y0 + ndy * 2, x0 + dx * 4, y0)


@pytest.mark.parametrize(
    "name", SAMPLES + ["pixel_per_line_comma.asc", "nodata_float.asc", "case_sensitive.ASC"]
)
def test_read_header_equals_read(aaigrid_data: Path, name: str) -> None:
    path = aaigrid_data / name
    full = asciigrid.read(str(path)).header
    assert_header_of(asciigrid.read_header(str(path)), full, path.read_bytes())
    assert_header_of(asciigrid.read_header(path.read_bytes()), full, path.read_bytes())


@needs_proc_io
def test_read_header_reads_only_the_header_of_a_big_file(big_grid: Path) -> None:
    with counted() as full:
        grid = asciigrid.read(big_grid)
    with counted() as head:
        header = asciigrid.read_header(big_grid)
    assert_header_of(header, grid.header, big_grid.read_bytes()[:300])
    # read_header reads 64 KiB at a time until the body starts (here: once); read reads the
    # whole text, twice.
    assert head[0].bytes_read < 128 << 10, head[0].bytes_read
    assert head[0].bytes_read < full[0].bytes_read / 100, (head[0], full[0])


def test_big_grid_matches_gdal(big_grid: Path) -> None:
    assert_matches_gdal(asciigrid.read(big_grid), big_grid)


# --- Grid helpers ------------------------------------------------------------------------------


def test_masked(tmp_path: Path) -> None:
    path = tmp_path / "m.asc"
    path.write_text(
        "ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -9999\n"
        "1.5 -9999 nan\n-9999.0 2 3\n"
    )
    grid = asciigrid.read(path)
    masked = grid.masked()
    assert isinstance(masked, np.ma.MaskedArray)
    np.testing.assert_array_equal(
        np.ma.getmaskarray(masked), [[False, True, True], [True, False, False]]
    )
    assert masked.compressed().tolist() == [1.5, 2.0, 3.0]
    assert masked.data is grid.data or np.shares_memory(masked.data, grid.data)


def test_masked_without_nodata_masks_nothing(aaigrid_data: Path) -> None:
    grid = asciigrid.read(aaigrid_data / "byte.tif.grd")
    assert grid.nodata is None
    assert not np.ma.getmaskarray(grid.masked()).any()


def test_shape_bounds_and_row_order(tmp_path: Path) -> None:
    path = tmp_path / "rows.asc"
    path.write_text("ncols 3\nnrows 2\nxllcorner 10\nyllcorner 20\ncellsize 5\n1 2 3\n4 5 6\n")
    grid = asciigrid.read(path)
    assert grid.shape == (2, 3) == grid.data.shape
    assert grid.bounds == (10.0, 20.0, 25.0, 30.0)  # (west, south, east, north)
    assert grid.data[0].tolist() == [1, 2, 3]  # row 0 is the northernmost
    assert grid.data.flags.c_contiguous
    assert_matches_gdal(grid, path)


# --- CRS sidecars ---------------------------------------------------------------------------


@pytest.mark.parametrize("prj_name", ["dem.prj", "dem.PRJ"])
@pytest.mark.parametrize("epsg", [32633, 4326, 3035])
def test_esri_wkt_prj(tmp_path: Path, aaigrid_data: Path, prj_name: str, epsg: int) -> None:
    grid_path = tmp_path / "dem.asc"
    shutil.copy(aaigrid_data / "nodata_int.asc", grid_path)
    text = esri_wkt(epsg)
    (tmp_path / prj_name).write_text(text)
    grid = asciigrid.read(grid_path)
    assert grid.prj == text
    assert grid.crs_wkt is not None
    ref = gdal_read(grid_path)
    assert same_crs(grid.crs_wkt, ref.wkt)
    expected = osr.SpatialReference()
    expected.ImportFromEPSG(epsg)
    assert same_crs(grid.crs_wkt, expected.ExportToWkt())


def test_no_prj_means_no_crs(aaigrid_data: Path) -> None:
    grid = asciigrid.read(aaigrid_data / "nodata_int.asc")
    assert grid.prj is None
    assert grid.crs_wkt is None
    assert gdal_read(aaigrid_data / "nodata_int.asc").wkt == ""


def test_bytes_have_no_crs(aaigrid_data: Path) -> None:
    grid = asciigrid.read((aaigrid_data / "pixel_per_line.asc").read_bytes())
    assert grid.prj is None and grid.crs_wkt is None


def test_named_bytes_and_archive_tiles_carry_their_prj(tmp_path: Path, aaigrid_data: Path) -> None:
    """A source that brings its own .prj text (NamedBytes.prj, an ArchiveTile's sibling) has
    that CRS when read alone, as it has in a mosaic and as its path into the zip has."""
    text = (aaigrid_data / "pixel_per_line.asc").read_bytes()
    prj = (aaigrid_data / "pixel_per_line.prj").read_text()
    expected = gdal_read(aaigrid_data / "pixel_per_line.asc").wkt
    archive = tmp_path / "tiles.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("dem.asc", text)
        z.writestr("dem.prj", prj)
    (tile,) = asciigrid.archive_tiles(archive)
    sources = {
        "NamedBytes": asciigrid.NamedBytes("dem.asc", text, prj=prj),
        "ArchiveTile": tile,
        "path into the zip": f"{archive}/dem.asc",
    }
    for kind, source in sources.items():
        for opened in (asciigrid.read(source), asciigrid.open_strips(source)):
            assert opened.prj == prj, kind
            assert same_crs(opened.crs_wkt, expected), kind
        assert same_crs(asciigrid.mosaic([source]).crs_wkt, expected), kind
    assert asciigrid.read(tile).path == tile.name == f"{archive}/dem.asc"
    assert asciigrid.read(sources["NamedBytes"]).path is None


# --- progress and cancel -------------------------------------------------------------------
# The engine reports progress about every 0.1 s, so these use ``slow_grid`` (~200 MB, read in
# about a second): long enough for several calls before the end.


def test_progress_is_called(slow_grid: Path) -> None:
    calls: list[tuple[int, int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total, threading.get_ident()))

    grid = asciigrid.read(slow_grid, progress=progress)
    assert len(calls) >= 2, f"progress called {len(calls)} times during a long read"
    for done, total, thread in calls:
        assert isinstance(done, int) and isinstance(total, int)
        assert total > 0, f"progress({done}, {total}): a callback computing done/total fails"
        assert 0 <= done <= total
        assert thread == threading.get_ident(), "progress must run on the calling thread"
    dones = [c[0] for c in calls]
    assert dones == sorted(dones)
    assert grid.shape == (10000, 2500)


def test_progress_counts_bytes(slow_grid: Path) -> None:
    """``progress(done, total)``: "the bytes processed so far and the total" (Progress doc)."""
    calls: list[tuple[int, int]] = []
    asciigrid.read(slow_grid, progress=lambda d, t: calls.append((d, t)))
    size = slow_grid.stat().st_size
    body = size - len(b"".join(slow_grid.read_bytes()[:200].splitlines(keepends=True)[:6]))
    totals = {t for _, t in calls if t}
    assert totals and totals <= {size, body}, f"totals {sorted(totals)}, file has {size} bytes"


@needs_proc_io
def test_progress_returning_false_cancels(slow_grid: Path) -> None:
    calls = []
    read_when_stopped = []

    def stop(done: int, total: int) -> bool:
        calls.append(done)
        read_when_stopped.append(bytes_read())
        return False

    with pytest.raises(asciigrid.Cancelled):
        asciigrid.read(slow_grid, progress=stop)
    read_after = bytes_read() - read_when_stopped[0]
    assert len(calls) == 1, "the read went on after the callback said stop"
    assert not issubclass(asciigrid.Cancelled, ValueError)
    # Each thread finishes at most the 1 MiB window it is in; a read that went on would read
    # the rest of the text (it reads the text twice: 400 MB here).
    assert read_after < slow_grid.stat().st_size / 4, f"read {read_after} bytes after stop"


def test_progress_returning_true_or_none_continues(slow_grid: Path) -> None:
    a = asciigrid.read(slow_grid, progress=lambda done, total: True)
    b = asciigrid.read(slow_grid, progress=lambda done, total: None)
    assert_same_grid(a, b)


def test_exception_in_progress_propagates(slow_grid: Path) -> None:
    class Boom(Exception):
        pass

    def explode(done: int, total: int) -> None:
        raise Boom("from the callback")

    with pytest.raises(Boom):
        asciigrid.read(slow_grid, progress=explode)


def test_cancel_stats(slow_grid: Path) -> None:
    calls = []
    with pytest.raises(asciigrid.Cancelled):
        asciigrid.stats(str(slow_grid), progress=lambda d, t: calls.append(d) or False)
    assert len(calls) == 1


def test_cancel_mosaic(slow_grid: Path) -> None:
    calls = []
    with pytest.raises(asciigrid.Cancelled):
        asciigrid.mosaic([str(slow_grid)], progress=lambda d, t: calls.append(d) or False)
    assert len(calls) == 1


def test_cancel_mosaic_strips(slow_grid: Path) -> None:
    calls = []
    with pytest.raises(asciigrid.Cancelled):
        for _ in asciigrid.iter_mosaic_strips(
            [str(slow_grid)], progress=lambda d, t: calls.append(d) or False
        ):
            pass
    assert len(calls) == 1


def test_mosaic_progress_is_called(slow_grid: Path) -> None:
    calls: list[tuple[int, int]] = []
    grid = asciigrid.mosaic([str(slow_grid)], progress=lambda d, t: calls.append((d, t)))
    assert len(calls) >= 2, f"progress called {len(calls)} times during a long mosaic"
    assert all(0 <= d <= t and t > 0 for d, t in calls), calls[:5]
    assert max(d for d, _ in calls) > 0, f"progress never moved: {calls[:5]}"
    dones = [d for d, _ in calls]
    assert dones == sorted(dones)
    assert grid.shape == (10000, 2500)


def test_progress_on_gzip(tmp_path: Path, slow_grid: Path) -> None:
    packed = tmp_path / "slow.asc.gz"
    packed.write_bytes(gzip.compress(slow_grid.read_bytes(), 1))
    calls: list[tuple[int, int]] = []
    asciigrid.read(packed, progress=lambda d, t: calls.append((d, t)))
    assert calls
    assert all(0 <= d <= t and t > 0 for d, t in calls), calls[:5]
    with pytest.raises(asciigrid.Cancelled):
        asciigrid.read(packed, progress=lambda d, t: False)


# --- threads ---------------------------------------------------------------------------------


def test_concurrent_reads_are_identical(aaigrid_data: Path, big_grid: Path) -> None:
    paths = [big_grid] + [aaigrid_data / n for n in SAMPLES]
    expected = {p: asciigrid.read(p) for p in paths}
    jobs = paths * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(asciigrid.read, jobs))
    for path, grid in zip(jobs, results):
        assert_same_grid(grid, expected[path])


def test_concurrent_reads_of_bytes_and_headers(aaigrid_data: Path) -> None:
    blobs = [(aaigrid_data / n).read_bytes() for n in SAMPLES]
    expected = [asciigrid.read(b) for b in blobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        grids = list(pool.map(asciigrid.read, blobs * 10))
        headers = list(pool.map(asciigrid.read_header, blobs * 10))
    for i, grid in enumerate(grids):
        assert_same_grid(grid, expected[i % len(blobs)])
    for i, header in enumerate(headers):
        assert_header_of(header, expected[i % len(blobs)].header, blobs[i % len(blobs)])


# A thread reads a FIFO that the main thread feeds, in Python, while the read runs: the read
# can end only if Python code in another thread keeps running while the engine works.
FED_BY_ANOTHER_THREAD = """
import sys, threading
import asciigrid
import numpy as np

fifo, source = sys.argv[1:]
got = []
reader = threading.Thread(target=lambda: got.append(asciigrid.read(fifo)))
reader.start()
fed = 0
with open(source, "rb") as text, open(fifo, "wb") as out:
    while chunk := text.read(1 << 16):
        out.write(chunk)
        fed += len(chunk)
reader.join()
same = bool(got) and np.array_equal(got[0].data, asciigrid.read(source).data)
print(fed, same)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_read_releases_the_gil(big_grid: Path, tmp_path: Path) -> None:
    """While one thread reads, Python code in another keeps running.

    A read holding the GIL while it waits for the FIFO would wait for ever (the feeding
    thread could not run): the child is given a minute, far more than it needs, then killed.
    """
    fifo = tmp_path / "fed.asc"
    os.mkfifo(fifo)
    child = subprocess.run(
        [sys.executable, "-c", FED_BY_ANOTHER_THREAD, str(fifo), str(big_grid)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.split() == [str(big_grid.stat().st_size), "True"], child.stdout
