"""The xarray backend (``engine="asciigrid"``) and ``asciigrid.open_mosaic`` on dask, checked
against ``asciigrid.read``/``asciigrid.mosaic``, rioxarray's GDAL-based ``engine="rasterio"``,
and a real ``dask.distributed`` cluster of worker processes."""

from __future__ import annotations

import gzip
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import asciigrid
import numpy as np
import pytest

xr = pytest.importorskip("xarray")

from asciigrid.xarray_backend import AsciiGridBackendEntrypoint  # noqa: E402

SAMPLES = [
    "byte.tif.grd",
    "float64.asc",
    "nodata_float.asc",
    "nodata_int.asc",
    "pixel_per_line.asc",
    "case_sensitive.ASC",
]


def expected_masked(path: Path) -> np.ndarray:
    grid = asciigrid.read(path)
    return grid.masked().astype(np.float64).filled(np.nan)


@pytest.mark.parametrize("name", SAMPLES)
def test_values_equal_read_with_nodata_masked(aaigrid_data: Path, name: str) -> None:
    ds = xr.open_dataset(aaigrid_data / name, engine="asciigrid")
    np.testing.assert_array_equal(ds["band_data"].values, expected_masked(aaigrid_data / name))


@pytest.mark.parametrize("name", SAMPLES)
def test_raw_values_keep_type_and_fill_value(aaigrid_data: Path, name: str) -> None:
    grid = asciigrid.read(aaigrid_data / name)
    ds = xr.open_dataset(aaigrid_data / name, engine="asciigrid", mask_and_scale=False)
    band = ds["band_data"]
    assert band.dtype == grid.data.dtype
    np.testing.assert_array_equal(band.values, grid.data)
    if grid.nodata is None:
        assert "_FillValue" not in band.attrs
    else:
        assert band.attrs["_FillValue"] == grid.data.dtype.type(grid.nodata)


def test_forced_dtype(aaigrid_data: Path) -> None:
    ds = xr.open_dataset(
        aaigrid_data / "nodata_int.asc", engine="asciigrid", dtype="float64", mask_and_scale=False
    )
    assert ds["band_data"].dtype == np.float64


@pytest.mark.parametrize("name", ["pixel_per_line.asc", "case_sensitive.ASC", "float64.asc"])
def test_coordinates_and_crs_equal_rioxarray(aaigrid_data: Path, name: str) -> None:
    pytest.importorskip("rioxarray")
    ours = xr.open_dataset(aaigrid_data / name, engine="asciigrid")
    gdal_side = xr.open_dataset(aaigrid_data / name, engine="rasterio")
    np.testing.assert_array_equal(ours.x.values, gdal_side.x.values)
    np.testing.assert_array_equal(ours.y.values, gdal_side.y.values)
    assert ours.rio.transform() == gdal_side.rio.transform()
    assert ours.rio.crs == gdal_side.rio.crs
    np.testing.assert_array_equal(
        ours["band_data"].values, gdal_side["band_data"].isel(band=0).values
    )


def test_gzip_and_grass(tmp_path: Path, aaigrid_data: Path, grass_data: Path) -> None:
    packed = tmp_path / "g.asc.gz"
    packed.write_bytes(gzip.compress((aaigrid_data / "nodata_float.asc").read_bytes()))
    ds = xr.open_dataset(packed, engine="asciigrid")
    np.testing.assert_array_equal(
        ds["band_data"].values, expected_masked(aaigrid_data / "nodata_float.asc")
    )
    grass = grass_data / "grassascii.txt"
    ds = xr.open_dataset(grass, engine="asciigrid")
    np.testing.assert_array_equal(ds["band_data"].values, expected_masked(grass))


def test_opening_reads_no_cells(tmp_path: Path) -> None:
    """The cells are read when used: a file rewritten after opening (same header) shows its
    new values, so opening cannot have read them."""
    header = "ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -1\n"
    path = tmp_path / "lazy.asc"
    path.write_text(header + "1 2 3\n4 5 6\n")
    ds = xr.open_dataset(path, engine="asciigrid", mask_and_scale=False)
    path.write_text(header + "7 8 9\n1 2 -1\n")
    np.testing.assert_array_equal(ds["band_data"].values, [[7, 8, 9], [1, 2, -1]])


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("ncols 2\nnrows 3\n", r"\(3, 2\) cells now, \(2, 3\) when it was opened"),
        ("ncols 3\nnrows 2\n", r"NODATA_value is -2.0 now, -1.0 when it was opened"),
    ],
)
def test_a_grid_changed_since_it_was_opened_is_refused(
    tmp_path: Path, header: str, why: str
) -> None:
    """Cells read after the file was rewritten with another shape, or another nodata (whose
    cells would not be NaN although ``_FillValue`` says they are), are refused by name."""
    rest = "xllcorner 0\nyllcorner 0\ncellsize 1\n"
    path = tmp_path / "changed.asc"
    path.write_text("ncols 3\nnrows 2\n" + rest + "NODATA_value -1\n1.5 2 3\n4 5 -1\n")
    ds = xr.open_dataset(path, engine="asciigrid")
    path.write_text(header + rest + "NODATA_value -2\n1.5 2 3\n4 5 -2\n")
    with pytest.raises(OSError, match=why):
        ds["band_data"].load()


def test_preferred_chunks_cover_the_grid(aaigrid_data: Path) -> None:
    ds = xr.open_dataset(aaigrid_data / "float64.asc", engine="asciigrid")
    band = ds["band_data"]
    assert band.encoding["preferred_chunks"] == {"y": band.shape[0], "x": band.shape[1]}


CHILD = """
import pickle, sys
ds = pickle.loads(sys.stdin.buffer.read())
sys.stdout.buffer.write(pickle.dumps(ds["band_data"].values))
"""


def test_a_pickled_lazy_dataset_reads_in_another_process(aaigrid_data: Path) -> None:
    ds = xr.open_dataset(aaigrid_data / "nodata_float.asc", engine="asciigrid")
    done = subprocess.run(
        [sys.executable, "-c", CHILD], input=pickle.dumps(ds), capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    np.testing.assert_array_equal(
        pickle.loads(done.stdout), expected_masked(aaigrid_data / "nodata_float.asc")
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.asc", True),
        ("a.ASC.gz", True),
        ("delivery.zip/inner.zip/T.asc", True),
        ("/vsizip/delivery.zip/T.asc", True),
        ("a.tif", False),
        ("a.nc", False),
    ],
)
def test_guess_can_open_by_name(name: str, expected: bool) -> None:
    assert AsciiGridBackendEntrypoint().guess_can_open(name) is expected


def test_guess_can_open_by_content(tmp_path: Path, grass_data: Path) -> None:
    grass = tmp_path / "elevation.txt"
    shutil.copy(grass_data / "grassascii.txt", grass)
    other = tmp_path / "notes.txt"
    other.write_text("just some notes\n")
    entry = AsciiGridBackendEntrypoint()
    assert entry.guess_can_open(grass)
    assert not entry.guess_can_open(other)


# --- tile sets ---------------------------------------------------------------------------


def write_tiles(folder: Path, *, gaps: bool) -> list[Path]:
    """A 4 x 3 set of 5 x 4 tiles (with two tiles missing when ``gaps``), each with its own
    nodata value, some of whose cells are nodata."""
    folder.mkdir()
    rng = np.random.default_rng(7)
    paths = []
    for tr in range(3):
        for tc in range(4):
            if gaps and (tr, tc) in ((0, 1), (2, 3)):
                continue
            nodata = -9999.0 if (tr + tc) % 2 else -1.0
            data = rng.uniform(0, 500, size=(4, 5)).round(1).astype(np.float32)
            data[rng.random((4, 5)) < 0.1] = nodata
            path = folder / f"t_{tr}_{tc}.asc"
            asciigrid.write(
                path,
                data,
                geotransform=(1000.0 + 5 * 10 * tc, 10.0, 0.0, 9000.0 - 4 * 10 * tr, 0.0, -10.0),
                nodata=nodata,
            )
            paths.append(path)
    return paths


def test_open_mfdataset_over_tiles_equals_the_mosaic(tmp_path: Path) -> None:
    pytest.importorskip("dask")
    tiles = write_tiles(tmp_path / "tiles", gaps=False)
    ds = xr.open_mfdataset(tiles, engine="asciigrid", combine="by_coords", mask_and_scale=False)
    mosaic = asciigrid.mosaic(tiles)
    # Each tile keeps its own nodata here; mask both sides the same way to compare.
    ours = asciigrid.mosaic(tiles).masked().filled(np.nan)
    theirs = xr.open_mfdataset(tiles, engine="asciigrid", combine="by_coords")["band_data"]
    np.testing.assert_array_equal(theirs.values, ours)
    assert ds["band_data"].shape == mosaic.data.shape


@pytest.fixture(scope="module")
def cluster_client():  # noqa: ANN201
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.parametrize("chunks", [None, (3, 7), 6])
def test_open_mosaic_on_a_cluster_equals_the_mosaic(
    tmp_path: Path, cluster_client: object, chunks: object
) -> None:
    tiles = write_tiles(tmp_path / "tiles", gaps=True)
    lazy = asciigrid.open_mosaic(tiles, chunks=chunks)
    single = asciigrid.mosaic(tiles)
    computed = lazy.compute()  # on the cluster's worker processes
    np.testing.assert_array_equal(computed.values, single.data)
    assert computed.dtype == single.data.dtype
    assert lazy.attrs["_FillValue"] == single.data.dtype.type(single.nodata)
    x0, dx, _, y0, _, ndy = single.geotransform
    np.testing.assert_allclose(
        lazy.x.values[[0, -1]], [x0 + dx / 2, x0 + dx * (lazy.shape[1] - 0.5)]
    )
    np.testing.assert_allclose(
        lazy.y.values[[0, -1]], [y0 + ndy / 2, y0 + ndy * (lazy.shape[0] - 0.5)]
    )


def test_default_chunks_are_whole_strips_grouped_up_to_dasks_chunk_size() -> None:
    from asciigrid.dask_mosaic import _chunk_edges

    strips = [(0, 300), (300, 300), (600, 300), (900, 50)]  # 6 M cells each at 20000 wide
    whole = [0, 20000]
    assert _chunk_edges(None, strips, 950, 20000, 13_000_000) == ([0, 600, 950], whole)
    assert _chunk_edges(None, strips, 950, 20000, 12_000_000) == ([0, 600, 950], whole)
    assert _chunk_edges(None, strips, 950, 20000, 11_999_999) == ([0, 300, 600, 950], whole)
    assert _chunk_edges(None, strips, 950, 20000, 1) == ([0, 300, 600, 900, 950], whole)
    assert _chunk_edges(None, strips, 950, 20000, 10**9) == ([0, 950], whole)


def test_open_mosaic_carries_the_crs(tmp_path: Path) -> None:
    pytest.importorskip("dask")
    rioxarray = pytest.importorskip("rioxarray")
    osr = pytest.importorskip("osgeo.osr")
    tiles = write_tiles(tmp_path / "tiles", gaps=True)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(25832)
    for t in tiles:
        t.with_suffix(".prj").write_text(srs.ExportToWkt())
    lazy = asciigrid.open_mosaic(tiles)
    assert rioxarray is not None and lazy.rio.crs.to_epsg() == 25832
    assert lazy.rio.nodata == lazy.attrs["_FillValue"]


def test_open_mosaic_reads_nothing_until_computed(tmp_path: Path) -> None:
    pytest.importorskip("dask")
    tiles = write_tiles(tmp_path / "tiles", gaps=False)
    lazy = asciigrid.open_mosaic(tiles, chunks=(4, 5))
    # A tile's body broken after planning surfaces only when its chunk is computed.
    text = tiles[-1].read_text().splitlines()
    text[-1] = text[-1].replace(text[-1].split()[0], "x", 1)
    tiles[-1].write_text("\n".join(text) + "\n")
    np.testing.assert_array_equal(lazy[:4, :5].values, asciigrid.mosaic(tiles[:1]).data)
    with pytest.raises(asciigrid.ParseError):
        lazy[-4:, -5:].compute()


def test_open_mosaic_refuses_a_tile_changed_since_it_was_planned(tmp_path: Path) -> None:
    """A chunk reads its tiles where the plan put them: a tile moved since, or one that now
    holds the mosaic's nodata as data, is a MosaicError naming it, with the plan's words."""
    pytest.importorskip("dask")
    tiles = write_tiles(tmp_path / "tiles", gaps=False)
    lazy = asciigrid.open_mosaic(tiles, chunks=(4, 5))
    first = asciigrid.read(tiles[0])
    assert first.nodata == -1.0  # the mosaic's nodata: the first tile's
    moved, clashing = asciigrid.read(tiles[-1]), asciigrid.read(tiles[1])
    x0, dx, _, y0, _, ndy = moved.geotransform
    asciigrid.write(tiles[-1], moved.data, geotransform=(x0 + dx, dx, 0, y0, 0, ndy), nodata=-1.0)
    data = clashing.data.copy()
    data[0, 0] = -1.0  # data now, but the mosaic's nodata
    asciigrid.write(tiles[1], data, geotransform=clashing.geotransform, nodata=clashing.nodata)
    with pytest.raises(asciigrid.MosaicError, match="t_2_3.asc.*changed since the mosaic"):
        lazy[-4:, -5:].compute()
    with pytest.raises(asciigrid.MosaicError, match="t_0_1.asc.*NODATA_value of .*t_0_0.asc"):
        lazy[:4, 5:10].compute()


WRITE_LAZY_MOSAIC = """
import sys
import asciigrid
from asciigrid import geotiff

def peak() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")

out, listing = sys.argv[1], sys.argv[2]
lazy = asciigrid.open_mosaic(open(listing).read().split("\\n"), chunks=(128, 2000))
# Imports, GDAL's and dask's first allocations: paid by a small write before the baseline.
geotiff.write_geotiff(out + ".warm.tif", lazy[:128, :512])
base = peak()
geotiff.write_geotiff(out, lazy)
print(base, peak(), lazy.nbytes)
"""


MEMORY_BUDGET = 64 << 20
"""What writing a lazy mosaic may add to the process's peak memory, whatever its size."""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's VmHWM")
def test_a_lazy_mosaic_larger_than_memory_is_written_strip_by_strip(tmp_path: Path) -> None:
    """A 25600 x 2000 int32 mosaic (205 MB, over 3 x the budget) written within the budget."""
    pytest.importorskip("dask")
    gdal = pytest.importorskip("osgeo.gdal")
    folder = tmp_path / "tiles"
    folder.mkdir()
    tiles = []
    rng = np.random.default_rng(3)
    # Small numbers keep the text (and the test) short: 100 MB for 51 M cells.
    block = rng.integers(0, 10, size=(128, 1000), dtype=np.int32)
    for tr in range(200):
        for tc in range(2):
            path = folder / f"t_{tr:03d}_{tc}.asc"
            asciigrid.write(
                path,
                np.roll(block, tr + tc, axis=1),
                geotransform=(1000.0 * tc, 1.0, 0.0, 30000.0 - 128.0 * tr, 0.0, -1.0),
                nodata=-9999,
            )
            tiles.append(path)
    listing = tmp_path / "tiles.txt"
    listing.write_text("\n".join(map(str, tiles)))
    out = tmp_path / "mosaic.tif"
    done = subprocess.run(
        [sys.executable, "-c", WRITE_LAZY_MOSAIC, str(out), str(listing)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    base, peak, size = (int(v) for v in done.stdout.split())
    assert size > 3 * MEMORY_BUDGET
    assert peak - base < MEMORY_BUDGET, f"grew {(peak - base) / 1e6:.1f} MB"
    dataset = gdal.Open(str(out))  # kept: a band outlives no dataset in GDAL's bindings
    written = dataset.GetRasterBand(1).ReadAsArray()
    np.testing.assert_array_equal(written, asciigrid.mosaic(tiles).data)


def test_open_mosaic_of_a_zip_equals_the_loose_tiles(tmp_path: Path) -> None:
    pytest.importorskip("dask")
    import zipfile

    tiles = write_tiles(tmp_path / "tiles", gaps=True)
    archive = tmp_path / "tiles.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for t in tiles:
            z.write(t, t.name)
    lazy = asciigrid.open_mosaic(archive, chunks=(3, 7))
    np.testing.assert_array_equal(lazy.compute().values, asciigrid.mosaic(tiles).data)
