"""Issue #10's mosaic findings: extreme origins (4), what a mosaic must not merge (12:
nodata collisions, int32 values float32 would round, different CRSs) and tiles whose header
lies about their size, and the all-bad message (17)."""

from __future__ import annotations

import gzip
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from asciigrid import MosaicError, NamedBytes, ParseError
from gdal_reference import esri_wkt, ogc_wkt
from osgeo import gdal, osr

gdal.UseExceptions()


def tile_text(values: str, x: str = "0", y: str = "0", nodata: str | None = "-9999") -> str:
    """A 2 × 2 tile with cell size 1 and lower-left corner ``(x, y)``."""
    lines = ["ncols 2", "nrows 2", f"xllcorner {x}", f"yllcorner {y}", "cellsize 1"]
    if nodata is not None:
        lines.append(f"NODATA_value {nodata}")
    return "\n".join([*lines, values]) + "\n"


def write_tile(path: Path, values: str, **kw: str | None) -> Path:
    path.write_text(tile_text(values, **kw))
    return path


def same_crs(wkt: str | None, epsg: int) -> bool:
    assert wkt is not None
    a, b = osr.SpatialReference(), osr.SpatialReference()
    a.ImportFromWkt(wkt)
    b.ImportFromEPSG(epsg)
    return bool(a.IsSame(b))


# --- 4: extreme origins ---------------------------------------------------------------------


@pytest.mark.parametrize(("x", "y"), [("1e17", "0"), ("0", "1e17"), ("-1e17", "-1e17")])
def test_extreme_origin_is_a_mosaic_error_naming_the_tile(tmp_path: Path, x: str, y: str) -> None:
    far = write_tile(tmp_path / "far.asc", "1 2 3 4", x=x, y=y)
    with pytest.raises(MosaicError) as err:
        asciigrid.mosaic([far])
    assert err.value.path == str(far)
    assert "double precision" in err.value.message


def test_extreme_origin_tile_is_skipped_and_named(tmp_path: Path) -> None:
    good = write_tile(tmp_path / "good.asc", "1 2 3 4")
    far = write_tile(tmp_path / "far.asc", "5 6 7 8", x="1e17")
    layout = asciigrid.mosaic_layout([good, far], skip_errors=True)
    assert [t[0] for t in layout.tiles] == [str(good)]
    assert [(name, type(e)) for name, e in layout.skipped] == [(str(far), MosaicError)]
    strips = list(asciigrid.iter_mosaic_strips(layout, skip_errors=True))
    np.testing.assert_array_equal(np.vstack([s for _, s, _ in strips]), [[1, 2], [3, 4]])


# --- 12a: nodata collisions -----------------------------------------------------------------


def test_each_tiles_nodata_becomes_the_mosaics(tmp_path: Path) -> None:
    a = write_tile(tmp_path / "a.asc", "1 -9999 3 4", nodata="-9999")
    b = write_tile(tmp_path / "b.asc", "-1 6 7 8", x="2", nodata="-1")
    grid = asciigrid.mosaic([a, b])
    assert grid.nodata == -9999
    np.testing.assert_array_equal(grid.data, [[1, -9999, -9999, 6], [3, 4, 7, 8]])
    # GDAL agrees on which cells are nodata (each tile's own nodata is its source nodata).
    vrt = gdal.BuildVRT("", [str(a), str(b)], VRTNodata=-9999)
    np.testing.assert_array_equal(vrt.ReadAsArray(), grid.data)


@pytest.mark.parametrize(
    ("tiles", "nodata"),
    [
        # The first tile's nodata (-9999) is a real value of the second (nodata -1).
        ([("1 2 3 4", "-9999"), ("-1 -9999 7 8", "-1")], None),
        # The caller's nodata is a real value of the second tile.
        ([("1 2 3 4", "-1"), ("5 -1 7 8", "-1")], 5.0),
        # A tile without nodata holds the mosaic's nodata.
        ([("1 2 3 4", "-9999"), ("5 6 -9999 8", None)], None),
    ],
)
def test_real_value_equal_to_the_mosaic_nodata_is_refused(
    tmp_path: Path, tiles: list[tuple[str, str | None]], nodata: float | None
) -> None:
    paths = [
        write_tile(tmp_path / f"t{i}.asc", values, x=str(2 * i), nodata=nd)
        for i, (values, nd) in enumerate(tiles)
    ]
    with pytest.raises(MosaicError) as err:
        asciigrid.mosaic(paths, nodata=nodata)
    assert err.value.path == str(paths[1])
    assert "holds" in err.value.message and "nodata" in err.value.message
    assert "  " not in err.value.message


def test_nodata_collision_with_skip_errors_fails_only_that_tile(tmp_path: Path) -> None:
    a = write_tile(tmp_path / "a.asc", "1 2 3 4", nodata="-9999")
    b = write_tile(tmp_path / "b.asc", "-9999 6 7 8", x="2", nodata="-1")
    strips = list(asciigrid.iter_mosaic_strips([a, b], skip_errors=True))
    assert [[(name, type(e)) for name, e in failed] for _, _, failed in strips] == [
        [(str(b), MosaicError)]
    ]
    np.testing.assert_array_equal(strips[0][1], [[1, 2, -9999, -9999], [3, 4, -9999, -9999]])


# --- 12b: int32 values float32 would round --------------------------------------------------


@pytest.mark.parametrize(
    ("int_values", "dtype"),
    [
        ("16777217 1 2 3", np.float64),
        ("1 2 3 -16777219", np.float64),
        ("16777216 1 2 -16777216", np.float32),
        ("1 2 3 4", np.float32),
    ],
)
def test_int_tile_beside_float_tile_widens_only_when_float32_would_round(
    tmp_path: Path, int_values: str, dtype: type
) -> None:
    ints = write_tile(tmp_path / "ints.asc", int_values)
    floats = write_tile(tmp_path / "floats.asc", "0.5 1.5 2.5 3.5", x="2")
    grid = asciigrid.mosaic([ints, floats])
    assert grid.data.dtype == dtype
    want = np.array([int(v) for v in int_values.split()], dtype=np.float64).reshape(2, 2)
    np.testing.assert_array_equal(grid.data[:, :2].astype(np.float64), want)
    assert asciigrid.mosaic_layout([ints, floats]).header.dtype == dtype


# --- 12c: CRS -------------------------------------------------------------------------------


def tiles_with_crs(tmp_path: Path, prjs: list[str | None]) -> list[Path]:
    paths = []
    for i, prj in enumerate(prjs):
        path = write_tile(tmp_path / f"t{i}.asc", "1 2 3 4", x=str(2 * i))
        if prj is not None:
            path.with_suffix(".prj").write_text(prj)
        paths.append(path)
    return paths


@pytest.mark.parametrize("kind", ["path", "NamedBytes"])
def test_tiles_in_different_crs_are_a_mosaic_error_naming_both(tmp_path: Path, kind: str) -> None:
    paths = tiles_with_crs(tmp_path, [esri_wkt(4326), esri_wkt(32633)])
    sources: list[Path] | list[NamedBytes] = paths
    if kind == "NamedBytes":
        sources = [
            NamedBytes(p.name, p.read_bytes(), p.with_suffix(".prj").read_text()) for p in paths
        ]
    names = [str(p) if kind == "path" else p.name for p in paths]
    with pytest.raises(MosaicError) as err:
        asciigrid.mosaic(sources)
    assert err.value.path == names[1]
    assert names[0] in err.value.message and "CRS" in err.value.message


def test_tile_in_other_crs_is_skipped_and_named(tmp_path: Path) -> None:
    paths = tiles_with_crs(tmp_path, [esri_wkt(32633), esri_wkt(4326), esri_wkt(32633)])
    layout = asciigrid.mosaic_layout(paths, skip_errors=True)
    assert [t[0] for t in layout.tiles] == [str(paths[0]), str(paths[2])]
    assert [name for name, _ in layout.skipped] == [str(paths[1])]
    assert same_crs(layout.crs_wkt, 32633)


@pytest.mark.parametrize(
    "prjs",
    [
        [esri_wkt(4326), esri_wkt(4326)],
        # The same CRS written two ways.
        [esri_wkt(4326), ogc_wkt(4326)],
        # A tile without a .prj takes the others' CRS.
        [None, esri_wkt(4326)],
    ],
)
def test_mosaic_carries_the_tiles_crs(tmp_path: Path, prjs: list[str | None]) -> None:
    paths = tiles_with_crs(tmp_path, prjs)
    assert same_crs(asciigrid.mosaic_layout(paths).crs_wkt, 4326)
    assert same_crs(asciigrid.mosaic(paths).crs_wkt, 4326)


# --- 17: headers that lie about their size; nothing left --------------------------------------


def lying_tile(path: Path, compress: bool) -> Path:
    text = b"ncols 100000\nnrows 100000\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n"
    path.write_bytes(gzip.compress(text) if compress else text)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_tile_promising_more_values_than_its_bytes_is_refused_when_planning(
    tmp_path: Path, compress: bool
) -> None:
    good = write_tile(tmp_path / "good.asc", "1 2 3 4", y="100000")
    liar = lying_tile(tmp_path / ("liar.asc.gz" if compress else "liar.asc"), compress)
    with pytest.raises(ParseError) as err:
        asciigrid.mosaic_layout([good, liar])
    assert err.value.path == str(liar)
    layout = asciigrid.mosaic_layout([good, liar], skip_errors=True)
    assert [name for name, _ in layout.skipped] == [str(liar)]
    # No strip is larger than the good tile.
    assert layout.bands == [(0, 2)]


def test_tile_promising_more_values_in_memory_is_refused_when_planning(tmp_path: Path) -> None:
    liar = lying_tile(tmp_path / "liar.asc", False)
    good = NamedBytes("good.asc", tile_text("1 2 3 4").encode())
    layout = asciigrid.mosaic_layout(
        [good, NamedBytes("liar.asc", liar.read_bytes())], skip_errors=True
    )
    assert [name for name, _ in layout.skipped] == ["liar.asc"]


def test_all_bad_tiles_error_lists_each_tile_and_why(tmp_path: Path) -> None:
    bad = write_tile(tmp_path / "bad.asc", "1 2 3 4", x="x")
    liar = lying_tile(tmp_path / "liar.asc", False)
    with pytest.raises(ValueError, match="none of the 2 tiles") as err:
        asciigrid.mosaic_layout([bad, liar], skip_errors=True)
    lines = str(err.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == [str(bad), str(liar)]
    assert "xllcorner" in lines[0] and "100000" in lines[1]


def test_all_bad_error_of_many_tiles_stays_short(tmp_path: Path) -> None:
    tiles = [NamedBytes(f"t{i}.asc", b"ncols x\n") for i in range(25)]
    with pytest.raises(ValueError, match="none of the 25 tiles") as err:
        asciigrid.mosaic_layout(tiles, skip_errors=True)
    lines = str(err.value).splitlines()
    assert [line.split(":")[0].strip() for line in lines[1:21]] == [f"t{i}.asc" for i in range(20)]
    assert lines[21:] == ["  and 5 more"]
