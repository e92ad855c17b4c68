"""Zip archives as sources: a delivery of zips in a zip reads as the tiles it holds.

Archives are made in each test, small; GDAL's ``/vsizip/`` reading of the same members is the
reference.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from asciigrid import MosaicError, ParseError
from gdal_reference import assert_same_values, gdal_read, same_crs

BNG_PRJ = (
    'PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",'
    'SPHEROID["Airy_1849",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",-100000.0],'
    'PARAMETER["Central_Meridian",-2.0],PARAMETER["Scale_Factor",0.9996012717],'
    'PARAMETER["Latitude_Of_Origin",49.0],UNIT["Meter",1.0]]'
)
SIZE = 4


def tile_text(i: int) -> str:
    """Tile ``i`` of a 3-wide row of OS-Terrain-like tiles (one-decimal heights, sea 0)."""
    col, row = i % 3, i // 3
    values = np.arange(SIZE * SIZE, dtype=float).reshape(SIZE, SIZE) / 10 + i
    values[0, 0] = 0
    body = "\n".join(" ".join(f"{v:.1f}" for v in r) for r in values)
    return (
        f"ncols {SIZE}\nnrows {SIZE}\nxllcorner {col * SIZE * 50}\n"
        f"yllcorner {row * SIZE * 50}\ncellsize 50\n{body}\n"
    )


def inner_zip(name: str, text: str | bytes, extras: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}.asc", text)
        if extras:
            z.writestr(f"{name}.prj", BNG_PRJ)
            z.writestr(f"{name}.gml", "<gml/>")
            z.writestr(f"{name}.xml", "<xml/>")
    return buf.getvalue()


def delivery(tmp_path: Path, count: int = 5, broken: dict[int, bytes] | None = None) -> Path:
    """``delivery.zip`` laid out like OS Terrain 50: ``data/<square>/<tile>_OST50GRID.zip``."""
    path = tmp_path / "delivery.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as outer:
        outer.writestr("readme.txt", "not a tile")
        for i in range(count):
            text = (broken or {}).get(i, tile_text(i).encode())
            outer.writestr(
                f"data/NT/NT{i:02d}_OST50GRID_20230501.zip", inner_zip(f"NT{i:02d}", text)
            )
    return path


def unzipped(tmp_path: Path, count: int = 5) -> list[Path]:
    folder = tmp_path / "loose"
    folder.mkdir()
    paths = []
    for i in range(count):
        p = folder / f"NT{i:02d}.asc"
        p.write_text(tile_text(i))
        p.with_suffix(".prj").write_text(BNG_PRJ)
        paths.append(p)
    return paths


def test_nested_zip_mosaic_equals_the_unzipped_tiles(tmp_path: Path) -> None:
    got = asciigrid.mosaic(delivery(tmp_path))
    want = asciigrid.mosaic(unzipped(tmp_path))
    assert_same_values(got.data, want.data)
    assert got.data.dtype == want.data.dtype
    assert got.geotransform == want.geotransform
    assert got.nodata == want.nodata
    assert same_crs(got.crs_wkt, want.crs_wkt)


def test_strips_name_members_and_layout_lists_them(tmp_path: Path) -> None:
    layout = asciigrid.mosaic_layout(delivery(tmp_path, count=2))
    names = [t[0] for t in layout.tiles]
    assert names == [
        f"{tmp_path / 'delivery.zip'}/data/NT/NT{i:02d}_OST50GRID_20230501.zip/NT{i:02d}.asc"
        for i in range(2)
    ]


MEMBER = "data/NT/NT01_OST50GRID_20230501.zip/NT01.asc"


@pytest.mark.parametrize(
    "spelling",
    [
        "{zip}/" + MEMBER,
        "/vsizip/{zip}/" + MEMBER,
        "/vsizip/{{/vsizip/{zip}/data/NT/NT01_OST50GRID_20230501.zip}}/NT01.asc",
    ],
)
def test_read_of_a_member_equals_gdal(tmp_path: Path, spelling: str) -> None:
    archive = delivery(tmp_path)
    path = spelling.format(zip=archive)
    reference = gdal_read(f"/vsizip/{{/vsizip/{archive}/{MEMBER.rsplit('/', 1)[0]}}}/NT01.asc")
    grid = asciigrid.read(path)
    assert_same_values(grid.data, reference.array)
    assert grid.data.dtype == reference.dtype
    assert grid.geotransform == reference.geotransform
    assert same_crs(grid.crs_wkt, reference.wkt)
    header = asciigrid.read_header(path)
    assert header.geotransform == reference.geotransform
    assert header.shape == reference.array.shape


def test_a_member_that_is_missing_is_file_not_found(tmp_path: Path) -> None:
    archive = delivery(tmp_path)
    with pytest.raises(FileNotFoundError, match="NOPE.asc"):
        asciigrid.read(f"{archive}/data/NT/NT01_OST50GRID_20230501.zip/NOPE.asc")


def test_reading_the_archive_itself_says_how_to_name_a_member(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="zip archive"):
        asciigrid.read(delivery(tmp_path))


BAD_VALUE = tile_text(1).replace("1.5", "1.5x", 1)


def bomb() -> bytes:
    """A tile's header (16 values promised), then 8 MiB of blanks: deflate makes them tiny."""
    header = "".join(tile_text(1).splitlines(keepends=True)[:5])
    return header.encode() + b" " * (8 << 20)


@pytest.mark.parametrize(
    ("broken", "kind", "line"),
    [
        (BAD_VALUE.encode(), asciigrid.ErrorKind.BAD_VALUE, 7),
        (bomb(), asciigrid.ErrorKind.BUDGET_EXCEEDED, None),
    ],
    ids=["bad-value", "bomb"],
)
def test_a_broken_member_of_an_inner_zip_is_located(
    tmp_path: Path, broken: bytes, kind: asciigrid.ErrorKind, line: int | None
) -> None:
    archive = delivery(tmp_path, count=3, broken={1: broken})
    label = f"{archive}/data/NT/NT01_OST50GRID_20230501.zip/NT01.asc"
    with pytest.raises(ParseError) as info:
        asciigrid.mosaic(archive)
    assert info.value.kind is kind, info.value
    assert info.value.path == label
    if line is not None:
        assert info.value.line == line
    assert str(info.value).startswith(f"{label}:{info.value.line}:{info.value.column}: ")


@pytest.mark.parametrize("broken", [BAD_VALUE.encode(), bomb()], ids=["bad-value", "bomb"])
def test_a_broken_member_is_a_skipped_named_tile(tmp_path: Path, broken: bytes) -> None:
    archive = delivery(tmp_path, count=3, broken={1: broken})
    label = f"{archive}/data/NT/NT01_OST50GRID_20230501.zip/NT01.asc"
    layout = asciigrid.mosaic_layout(archive, skip_errors=True)
    failed = [
        name
        for _, _, bad in asciigrid.iter_mosaic_strips(layout, skip_errors=True)
        for name, _ in bad
    ]
    skipped = [name for name, _ in layout.skipped]
    assert skipped + failed == [label]


def test_a_corrupt_inner_zip_is_a_skipped_named_tile(tmp_path: Path) -> None:
    path = tmp_path / "delivery.zip"
    with zipfile.ZipFile(path, "w") as outer:
        outer.writestr("a/T0.zip", inner_zip("T0", tile_text(0)))
        outer.writestr("a/T1.zip", b"PK\x03\x04 this is no zip")
    layout = asciigrid.mosaic_layout(path, skip_errors=True)
    assert [name for name, _ in layout.skipped] == [f"{path}/a/T1.zip"]
    assert len(layout.tiles) == 1


@pytest.mark.parametrize(
    ("pattern", "want"),
    [
        ("*.asc", ["A1.asc", "b2.ASC", "sub/A3.asc"]),
        ("a*", ["A1.asc", "sub/A3.asc"]),
        (["b?.asc", "*.txt"], ["b2.ASC", "grid.txt"]),
        ("sub/*", ["sub/A3.asc"]),
    ],
)
def test_pattern_selects_members_ignoring_case(
    tmp_path: Path, pattern: str | list[str], want: list[str]
) -> None:
    path = tmp_path / "tiles.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i, name in enumerate(["A1.asc", "b2.ASC", "grid.txt"]):
            z.writestr(name, tile_text(i))
        z.writestr("inner.zip", inner_zip("sub/A3", tile_text(3), extras=False))
    layout = asciigrid.mosaic_layout(path, pattern=pattern)
    got = [t[0].split(f"{path}/", 1)[1].removeprefix("inner.zip/") for t in layout.tiles]
    assert got == want


def test_sidecars_and_hidden_entries_never_count(tmp_path: Path) -> None:
    path = tmp_path / "tiles.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("T.asc", tile_text(0))
        for junk in ["T.prj", "T.asc.aux.xml", "T.gml", "T.xml", "__MACOSX/._T.asc", ".hidden.asc"]:
            z.writestr(junk, "junk")
    layout = asciigrid.mosaic_layout(path, pattern="*")
    assert [t[0] for t in layout.tiles] == [f"{path}/T.asc"]


def test_tiles_of_another_crs_in_an_archive_are_named(tmp_path: Path) -> None:
    path = tmp_path / "tiles.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a/T0.asc", tile_text(0))
        z.writestr("a/T0.prj", BNG_PRJ)
        z.writestr("a/T1.asc", tile_text(1))
        z.writestr("a/T1.PRJ", BNG_PRJ.replace("400000.0", "500000.0"))
    with pytest.raises(MosaicError, match="CRS") as info:
        asciigrid.mosaic(path)
    assert info.value.path == f"{path}/a/T1.asc"


def test_stats_of_an_archive_equal_those_of_its_tiles(tmp_path: Path) -> None:
    got = asciigrid.stats(delivery(tmp_path), per_source=True)
    want = asciigrid.stats(unzipped(tmp_path), per_source=True)
    assert [s.sum for s in got] == [s.sum for s in want]
    assert [s.count for s in got] == [s.count for s in want]
    assert got[0].path is not None and got[0].path.endswith("NT00.asc")


def test_the_plan_decompresses_a_member_only_up_to_its_first_float_marker(
    tmp_path: Path,
) -> None:
    """A one-decimal tile shows GDAL's float marker in its first value: planning stops there,
    so a bomb after it is met only when its strip is read (and refused there, by name)."""
    header = "".join(tile_text(1).splitlines(keepends=True)[:5])
    bomb = header.encode() + b"1.5 " + b" " * (16 << 20)
    archive = delivery(tmp_path, count=3, broken={1: bomb})
    layout = asciigrid.mosaic_layout(archive)
    assert [t[0].rsplit("/", 1)[1] for t in layout.tiles] == ["NT00.asc", "NT01.asc", "NT02.asc"]
    assert layout.header.dtype == np.float32
    with pytest.raises(ParseError) as info:
        list(asciigrid.iter_mosaic_strips(layout))
    assert info.value.kind is asciigrid.ErrorKind.BUDGET_EXCEEDED
    assert info.value.path.endswith("NT01_OST50GRID_20230501.zip/NT01.asc")
