"""Trailing content after a complete grid (docs/FORMAT.md, "Trailing content"): read as GDAL
reads it, with one ``AsciiGridWarning`` naming file and line, through every way in; refused
with ``strict=True``; ragged rows with values left over stay an error."""

from __future__ import annotations

import gzip
import warnings
import zipfile
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from gdal_reference import assert_same_values, gdal_read

HEADER = "ncols 2\nnrows 2\nxllcorner {x}\nyllcorner 0\ncellsize 1\nNODATA_value -9999\n"
TRAILER = HEADER.format(x=0) + "1 2\n3 4\nPROJECTION UTM\nNOTES\n"
LEFTOVER = HEADER.format(x=0) + "1 2\n3 4\n5.5 6\n7"


def _warnings_of(call):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if w.category is asciigrid.AsciiGridWarning]


@pytest.mark.parametrize(
    ("text", "where"),
    [(TRAILER, "2 lines after the grid's last value"), (LEFTOVER, "3 values after the grid's")],
)
def test_trailing_content_reads_as_gdal_with_one_warning(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "t.asc"
    path.write_text(text)
    grid, messages = _warnings_of(lambda: asciigrid.read(path))
    ref = gdal_read(path)
    # GDAL's type scan reads the whole file: the E of PROJECTION, the . of 5.5.
    assert grid.data.dtype == ref.dtype == np.float32
    assert_same_values(grid.data, ref.array)
    assert len(messages) == 1 and messages[0].startswith(f"{path}:9:1: {where}"), messages


def test_strict_refuses_trailing_content_with_the_located_error(tmp_path: Path) -> None:
    path = tmp_path / "t.asc"
    path.write_text(TRAILER)
    with pytest.raises(asciigrid.ParseError) as err:
        asciigrid.read(path, strict=True)
    assert (err.value.line, err.value.column) == (9, 1)
    assert err.value.kind is asciigrid.ErrorKind.TRAILING_CONTENT
    with pytest.raises(asciigrid.ParseError) as err:
        asciigrid.stats(path, strict=True)
    assert err.value.kind is asciigrid.ErrorKind.TRAILING_CONTENT


def test_ragged_rows_with_values_left_over_stay_an_error(tmp_path: Path) -> None:
    path = tmp_path / "t.asc"
    path.write_text(HEADER.format(x=0) + "1 2 3\n4\n5 6\n")
    with pytest.raises(asciigrid.ParseError) as err:
        asciigrid.read(path)
    assert err.value.kind is asciigrid.ErrorKind.TOO_MANY_VALUES
    # Also when strict: this is no trailing content a lenient read would accept.
    with pytest.raises(asciigrid.ParseError) as err:
        asciigrid.read(path, strict=True)
    assert err.value.kind is asciigrid.ErrorKind.TOO_MANY_VALUES


def test_every_way_in_warns_naming_the_source(tmp_path: Path) -> None:
    plain = tmp_path / "t.asc"
    plain.write_text(TRAILER)
    gz = tmp_path / "t.asc.gz"
    gz.write_bytes(gzip.compress(TRAILER.encode()))
    archive = tmp_path / "d.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("T.asc", TRAILER)
    for source, name in [
        (gz, str(gz)),
        (str(archive / "T.asc"), "d.zip/T.asc"),
        (asciigrid.NamedBytes("mem.asc", TRAILER.encode()), "mem.asc"),
    ]:
        grid, messages = _warnings_of(lambda s=source: asciigrid.read(s))
        assert grid.data.tolist() == [[1, 2], [3, 4]]
        assert len(messages) == 1 and name in messages[0] and ":9:1:" in messages[0], messages
    stats, messages = _warnings_of(lambda: asciigrid.stats(plain))
    assert (stats.count, stats.mean) == (4, 2.5)
    assert len(messages) == 1 and str(plain) in messages[0]


def test_a_mosaic_warns_once_per_tile_naming_it(tmp_path: Path) -> None:
    tiles = []
    for i in range(2):
        t = tmp_path / f"tile{i}.asc"
        t.write_text(HEADER.format(x=2 * i) + "1 2\n3 4\nNOTES\n")
        tiles.append(t)
    grid, messages = _warnings_of(lambda: asciigrid.mosaic(tiles))
    assert grid.data.tolist() == [[1, 2, 1, 2], [3, 4, 3, 4]]
    assert sorted(m.split(":", 1)[0] for m in messages) == sorted(str(t) for t in tiles)
    with pytest.raises(asciigrid.ParseError):
        asciigrid.mosaic(tiles, strict=True)
