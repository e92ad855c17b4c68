"""Every real-world grid in ``../shared/realworld/grids`` (public projects' ESRI and GRASS
ASCII grids, listed with their sources in ``../shared/realworld/SOURCES.md``; never copied
into this repository) is read equal to GDAL, cell for cell, or refused with a located
error where the file is broken. The refused ones are listed below by name, with why, so a
new refusal (or a file that starts to read) fails its test."""

from __future__ import annotations

import warnings
from pathlib import Path

import asciigrid
import pytest
from gdal_reference import assert_same_values, gdal_read, gdal_read_grass, same_nodata

GRIDS = Path(__file__).resolve().parents[1].parent / "shared" / "realworld" / "grids"

pytestmark = pytest.mark.skipif(
    not GRIDS.is_dir(),
    reason=f"the real-world grids are not here: {GRIDS} (a checkout of the shared data "
    "next to this repository's clone, as in CI)",
)

# Broken files: the place of the error (line, column) and why the file is refused.
REFUSED: dict[str, tuple[int, int, str]] = {
    "Deltares__pyflwdir__tests__data__flwdir.asc": (
        1,
        1,
        "no header at all (a bare matrix); GDAL does not open it either",
    ),
    "GeoscienceAustralia__anuga_core__anuga__lib__tests__test1_bad_num_lines.asc": (
        16,
        28,
        "43 values for 4 × 11 cells: truncated, or nrows is wrong (a fixture meant to fail)",
    ),
    "GeoscienceAustralia__anuga_core__anuga__lib__tests__test1_header_differs.asc": (
        16,
        21,
        "rows of 5 values in a grid of ncols 4, and 47 values for 40 cells: ragged rows with "
        "values left over, so the header is wrong and GDAL shifts rows (a fixture meant to "
        "fail)",
    ),
    "avaframe__AvaFrame__avaframe__tests__data__testReadAsc.asc": (
        3,
        12,
        "half an origin (xllcorner without yllcorner): GDAL puts the grid at y = 0",
    ),
    "laijackylai__asc2tiles__test.asc": (
        1,
        1,
        "placeholder header keywords a..f: not a grid; GDAL does not open it either",
    ),
}

# Read with a warning (trailing content after a complete grid), as GDAL reads them.
WARNED = {
    "qgis__QGIS__tests__testdata__checker360by180.asc": "20:1: 2 lines after the grid",
    "qgis__QGIS__tests__testdata__tenbytenraster.asc": "18:1: 2 lines after the grid",
    "TheHortonMachine__hortonmachine__hmachine__src__test__resources__Output__krigings__"
    "RasterCase__krigings.asc": "29:1: 9 values after the grid's 22 complete rows",
}

# Files where GDAL 3.6 (the reference here) and current GDAL differ, and asciigrid follows
# current GDAL (see docs/FORMAT.md): only that asciigrid reads them is checked.
NEWER_GDAL = {
    "avaframe__AvaFrame__avaframe__tests__data__avaTestRelTh__Inputs__SECREL__testSecRel2.asc": (
        "data lines starting with 'nan': GDAL 3.6 refuses the file (GDAL #9666)"
    ),
    "qgis__QGIS__tests__testdata__zonalstatistics__edge_problem.asc": (
        "NODATA_value nan with an integer body: Int32 in GDAL 3.6, Float32 in current GDAL"
    ),
}


def _grids() -> list[str]:
    if not GRIDS.is_dir():
        return []
    return sorted(p.name for p in GRIDS.iterdir() if p.suffix.lower() != ".prj")


def _driver(path: Path) -> str:
    start = path.read_bytes()[:64].lstrip().lower()
    grass = (b"north:", b"south:", b"east:", b"west:", b"rows:", b"cols:")
    return "GRASSASCIIGrid" if start.startswith(grass) else "AAIGrid"


@pytest.mark.parametrize("name", _grids())
def test_real_world_grid_reads_as_gdal_or_is_refused_where_broken(name: str) -> None:
    path = GRIDS / name
    if name in REFUSED:
        line, column, why = REFUSED[name]
        with pytest.raises(asciigrid.ParseError) as err:
            asciigrid.read(path)
        assert (err.value.line, err.value.column) == (line, column), f"{err.value} ({why})"
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grid = asciigrid.read(path)
    messages = [str(w.message) for w in caught if w.category is asciigrid.AsciiGridWarning]
    if name in WARNED:
        assert len(messages) == 1 and WARNED[name] in messages[0], messages
    else:
        assert messages == []
    if name in NEWER_GDAL:
        return
    # GRASS '*' null cells are nodata where GDAL 3.6 reads 0 (docs/FORMAT.md): OSGeo's
    # r.in.ascii testsuite input_ascii.txt holds three.
    driver = _driver(path)
    ref = gdal_read_grass(path) if driver == "GRASSASCIIGrid" else gdal_read(path, driver=driver)
    assert grid.data.dtype == ref.dtype
    assert tuple(grid.geotransform) == ref.geotransform
    assert same_nodata(grid.nodata, ref.nodata), (grid.nodata, ref.nodata)
    assert_same_values(grid.data, ref.array, f"{name}: values differ from GDAL\n")


@pytest.mark.parametrize("name", sorted(WARNED))
def test_real_world_trailing_content_is_refused_when_strict(name: str) -> None:
    if not (GRIDS / name).is_file():
        pytest.skip(f"{name} is not among the real-world grids")
    with pytest.raises(asciigrid.ParseError) as err:
        asciigrid.read(GRIDS / name, strict=True)
    assert f"{err.value.line}:{err.value.column}:" in WARNED[name]
