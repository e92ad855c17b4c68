"""Property (issue #5): a grid written by GDAL's AAIGrid ``CreateCopy`` (any creation options)
or by hand in any dialect the format allows reads back identically: asciigrid and GDAL give
the same values (bit for bit, same dtype), geotransform and nodata, and when the writer wrote
every digit, those are the values written. Random shapes, dtypes, nodata values, dialects.

(Grids written by ``asciigrid.write`` round-trip through asciigrid and GDAL in
test_write.py's property tests.)
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import asciigrid
import numpy as np
from gdal_reference import assert_same_values, gdal_read, same_nodata
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from osgeo import gdal

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SHAPES = st.tuples(st.integers(1, 9), st.integers(1, 9))
DTYPES = st.sampled_from(["int32", "float32", "float64"])
GDAL_TYPES = {"int32": gdal.GDT_Int32, "float32": gdal.GDT_Float32, "float64": gdal.GDT_Float64}


def elements(dtype: str) -> st.SearchStrategy[Any]:
    """Every finite value of the type: extremes, subnormals, -0.0. (GDAL 3.6 refuses a body
    line that starts with `nan`, so NaN is left to test_write.py's tests.)"""
    if dtype == "int32":
        return st.integers(-(2**31), 2**31 - 1)
    width = 32 if dtype == "float32" else 64
    return st.floats(allow_nan=False, allow_infinity=False, width=width)


@st.composite
def grids(draw: st.DrawFn) -> tuple[np.ndarray, float | None]:
    dtype = draw(DTYPES)
    data = draw(hnp.arrays(np.dtype(dtype), draw(SHAPES), elements=elements(dtype)))
    nodata = draw(st.none() | st.sampled_from([-9999, 0, 255]) | elements(dtype).map(float))
    if nodata is not None and dtype != "int32" and draw(st.booleans()):
        # Put the nodata value in some cells.
        data.ravel()[:: draw(st.integers(1, 5))] = nodata
    return data, nodata


def fresh(tmp_path: Path, name: str) -> Path:
    """A path no earlier example used (hypothesis reuses tmp_path across examples)."""
    n = len(list(tmp_path.iterdir()))
    return tmp_path / f"{n}_{name}"


def assert_agree(path: Path) -> asciigrid.Grid:
    """asciigrid and GDAL read ``path`` to the same grid; return asciigrid's."""
    ours = asciigrid.read(path)
    ref = gdal_read(path)
    text = path.read_bytes()[:400]
    assert ours.data.dtype == ref.dtype, f"{ours.data.dtype} vs GDAL {ref.dtype}\n{text!r}"
    assert_same_values(ours.data, ref.array, f"{text!r}\n")
    assert ours.geotransform == ref.geotransform, text
    assert same_nodata(ours.nodata, ref.nodata), f"{ours.nodata!r} vs {ref.nodata!r}\n{text!r}"
    for dtype in ("float32", "float64"):
        forced = asciigrid.read(path, dtype=dtype)
        assert_same_values(forced.data, gdal_read(path, dtype=dtype).array, f"{dtype} {text!r}")
    return ours


@SETTINGS
@given(
    grid=grids(),
    origin=st.tuples(st.floats(-1e7, 1e7), st.floats(-1e7, 1e7)),
    cells=st.tuples(st.floats(1e-6, 1e4), st.floats(1e-6, 1e4)),
    square=st.booleans(),
    options=st.sampled_from(
        [
            [],
            ["FORCE_CELLSIZE=YES"],
            ["DECIMAL_PRECISION=3"],
            ["DECIMAL_PRECISION=0"],
            ["SIGNIFICANT_DIGITS=4"],
            ["SIGNIFICANT_DIGITS=17"],
        ]
    ),
)
def test_gdal_createcopy_reads_back_identically(
    tmp_path: Path,
    grid: tuple[np.ndarray, float | None],
    origin: tuple[float, float],
    cells: tuple[float, float],
    square: bool,
    options: list[str],
) -> None:
    data, nodata = grid
    dx, dy = (cells[0], cells[0]) if square else cells
    mem = gdal.GetDriverByName("MEM").Create(
        "", data.shape[1], data.shape[0], 1, GDAL_TYPES[data.dtype.name]
    )
    mem.SetGeoTransform((origin[0], dx, 0.0, origin[1], 0.0, -dy))
    band = mem.GetRasterBand(1)
    band.WriteArray(data)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    path = fresh(tmp_path, "gdal.asc")
    gdal.GetDriverByName("AAIGrid").CreateCopy(str(path), mem, options=options)
    mem = None
    try:
        ours = assert_agree(path)
    except asciigrid.ParseError as err:
        # Rounded to a few digits, a value near DBL_MAX can become one past it (`1.798e+308`):
        # GDAL reads that as infinity (clamped to FLT_MAX in a Float32 grid); we refuse it,
        # as every out-of-range number (docs/ROBUSTNESS.md).
        kinds = {asciigrid.ErrorKind.BAD_VALUE, asciigrid.ErrorKind.HEADER_VALUE_NOT_A_NUMBER}
        assert err.kind in kinds and "out of range" in err.message, str(err)
        assert any(o.startswith("SIGNIFICANT") or o.startswith("DECIMAL") for o in options)
        # The rounded number is a cell, or the header's nodata value.
        ref = gdal_read(path).array.astype(np.float64)
        huge = np.finfo(np.float32).max
        assert (np.abs(ref) >= huge).any() or (nodata is not None and abs(nodata) >= huge)
        return
    if data.dtype.name == "int32" or not options or options == ["SIGNIFICANT_DIGITS=17"]:
        # GDAL wrote every digit: the values are the ones written.
        if data.dtype.name == "float64":
            ours = asciigrid.read(path, dtype="float64")
        if ours.data.dtype == data.dtype:
            assert_same_values(ours.data, data)


KEYWORD_CASES = [str.lower, str.upper, lambda k: k[:1].upper() + k[1:].lower()]


@st.composite
def dialects(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "case": draw(st.sampled_from(KEYWORD_CASES)),
        "order": draw(st.permutations(range(6))),
        "sep": draw(st.sampled_from([" ", "\t", "   ", " \t "])),
        "eol": draw(st.sampled_from(["\n", "\r\n"])),
        "center": draw(st.booleans()),
        "dxdy": draw(st.booleans()),
        "nodata_key": draw(st.sampled_from(["NODATA_value", "nodata_value", "NODATA_VALUE"])),
        # values per line: a row per line, one per line, or wrapped every k values
        "wrap": draw(st.sampled_from(["row", "one", 3, 7, "all"])),
        "indent": draw(st.sampled_from(["", " ", "  "])),
        "final_eol": draw(st.booleans()),
        "blank_lines": draw(st.booleans()),
    }


def render(data: np.ndarray, nodata: float | None, gt: tuple[float, ...], d: dict[str, Any]) -> str:
    """The grid as text, in dialect ``d``; every value written exactly."""
    nrows, ncols = data.shape
    x0, dx, _, y0, _, ndy = gt
    dy = -ndy
    ysouth = y0 - nrows * dy
    corner = "center" if d["center"] else "corner"
    xo, yo = (x0 + dx / 2, ysouth + dy / 2) if d["center"] else (x0, ysouth)
    lines = [("ncols", str(ncols)), ("nrows", str(nrows))]
    lines += [(f"xll{corner}", repr(xo)), (f"yll{corner}", repr(yo))]
    lines += [("dx", repr(dx)), ("dy", repr(dy))] if d["dxdy"] else [("cellsize", repr(dx))]
    order = [i for i in d["order"] if i < len(lines)]
    head = [lines[i] for i in order]
    if nodata is not None:
        nd = str(int(nodata)) if data.dtype.kind == "i" else repr(float(nodata))
        head.append((d["nodata_key"], nd))
    text = "".join(f"{d['case'](k)}{d['sep']}{v}{d['eol']}" for k, v in head)
    if d["blank_lines"]:
        text += d["eol"]
    values = [str(int(v)) if data.dtype.kind == "i" else repr(float(v)) for v in data.ravel()]
    wrap = {"row": ncols, "one": 1, "all": len(values)}.get(d["wrap"], d["wrap"])
    body = [d["indent"] + " ".join(values[i : i + wrap]) for i in range(0, len(values), wrap)]
    return text + d["eol"].join(body) + (d["eol"] if d["final_eol"] else "")


@SETTINGS
@given(grid=grids(), dialect=dialects(), x0=st.floats(-1e6, 1e6), y0=st.floats(-1e6, 1e6))
def test_any_dialect_reads_back_identically(
    tmp_path: Path,
    grid: tuple[np.ndarray, float | None],
    dialect: dict[str, Any],
    x0: float,
    y0: float,
) -> None:
    data, nodata = grid
    if not dialect["dxdy"]:
        gt: tuple[float, ...] = (x0, 0.5, 0.0, y0, 0.0, -0.5)
    else:
        gt = (x0, 0.25, 0.0, y0, 0.0, -2.0)
    path = fresh(tmp_path, "hand.asc")
    path.write_bytes(render(data, nodata, gt, dialect).encode())
    ours = assert_agree(path)
    back = asciigrid.read(path, dtype=data.dtype)
    assert_same_values(back.data, data)
    # The same text gzipped, and as bytes, reads the same.
    gz = asciigrid.read(asciigrid.NamedBytes("x.asc.gz", gzip.compress(path.read_bytes())))
    assert_same_values(gz.data, ours.data)
    assert gz.geotransform == ours.geotransform


# Exponent-form and long-mantissa values (issue #12): what numpy's savetxt (`%.18e`), Fortran
# and C writers and `repr` produce. These leave the engine's short-token path; they must still
# be GDAL's values bit for bit, as float32 (GDAL's double rounded to float) and as float64.
LONG_FORMATS = ["%.18e", "%.18E", "%.12E", "%.8e", "%.17g", "%.9g", "%r", "%.10f", "%.15f"]


@st.composite
def long_form_grids(draw: st.DrawFn) -> tuple[np.ndarray, str]:
    fmt = draw(st.sampled_from(LONG_FORMATS))
    width = draw(st.sampled_from([32, 64]))
    # Fixed-point formats write every integer digit: keep those values short enough to stay
    # tokens of a few dozen bytes.
    bound = 2.0**40 if fmt.endswith("f") else None
    values = st.floats(
        min_value=-bound if bound else None,
        max_value=bound,
        allow_nan=False,
        allow_infinity=False,
        width=width,
    )
    data = draw(hnp.arrays(np.float64, draw(SHAPES), elements=values))
    return data, fmt


@SETTINGS
@given(grid=long_form_grids(), nodata=st.none() | st.just(-9999.0))
def test_long_form_values_read_as_gdal_reads_them(
    tmp_path: Path, grid: tuple[np.ndarray, str], nodata: float | None
) -> None:
    data, fmt = grid
    nrows, ncols = data.shape
    head = f"ncols {ncols}\nnrows {nrows}\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
    if nodata is not None:
        head += f"NODATA_value {fmt % nodata}\n"
    body = "\n".join(" ".join(fmt % v for v in row) for row in data)
    # `%g` writes integral values as integers: a body of integers only is an Int32 grid, one
    # whose values beyond Int32 we refuse where GDAL overflows (tested elsewhere).
    assume(any(c in body for c in ".eE"))
    path = fresh(tmp_path, "long.asc")
    path.write_text(head + body + "\n")
    assert_agree(path)  # the file's own type, and forced float32 and float64
    if fmt in ("%.18e", "%.18E", "%.17g", "%r"):
        # Every digit written: float64 reads back the values themselves.
        assert_same_values(asciigrid.read(path, dtype="float64").data, data)
