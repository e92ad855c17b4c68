"""asciigrid reads every dialect GDAL reads, with GDAL's exact values.

Each case is written to a temporary file and read twice: by ``asciigrid.read`` and by
``osgeo.gdal`` (AAIGrid driver, exceptions on). Data type, shape, geotransform (exact), nodata
and every cell value (NaN-aware, sign of zero included) must be identical.

The generated files stay inside what docs/FORMAT.md says both readers accept: no case here is in
its 'stricter than GDAL' list, and none uses what GDAL 3.6 (the reference here) reads
differently from current GDAL (a first data line starting with ``nan``, a NaN nodata).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from gdal_reference import (
    assert_same_values,
    gdal_read,
    gdal_read_grass,
    same_nodata,
)
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

FLT_MAX = float(np.finfo(np.float32).max)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- the comparison -----------------------------------------------------------------------


def assert_agrees(path: Path, dtype: str | None = None, driver: str = "AAIGrid") -> asciigrid.Grid:
    """Read ``path`` with asciigrid and GDAL; assert they agree on everything GDAL reports
    (GRASS ``*`` cells as nodata, where GDAL 3.6 reads 0: see :func:`gdal_read_grass`)."""
    if driver == "GRASSASCIIGrid":
        ref = gdal_read_grass(path, dtype=dtype)
    else:
        ref = gdal_read(path, dtype=dtype, driver=driver)
    grid = asciigrid.read(path, dtype=dtype) if dtype else asciigrid.read(path)
    text = path.read_bytes()[:400]
    assert grid.data.dtype == ref.dtype, f"dtype {grid.data.dtype} != GDAL {ref.dtype}\n{text!r}"
    if dtype is None:
        assert grid.header.dtype == ref.dtype, f"header.dtype != GDAL {ref.dtype}\n{text!r}"
    assert grid.shape == ref.array.shape == grid.data.shape
    assert tuple(grid.geotransform) == ref.geotransform, (
        f"geotransform {tuple(grid.geotransform)} != GDAL {ref.geotransform}\n{text!r}"
    )
    assert same_nodata(grid.nodata, ref.nodata), (
        f"nodata {grid.nodata!r} != GDAL {ref.nodata!r}\n{text!r}"
    )
    assert_same_values(grid.data, ref.array, f"values differ from GDAL\n{text!r}\n")
    return grid


def write_case(tmp_dir: Path, text: str | bytes, name: str = "case.asc") -> Path:
    path = tmp_dir / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# --- number spellings ---------------------------------------------------------------------


def fortran(x: float, digits: int = 6) -> str:
    """``0.123456E+03``: mantissa in [0.1, 1), as old Fortran writers print."""
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return f"{sign}0.{'0' * digits}E+00"
    mantissa, exp = f"{abs(x):.{digits - 1}e}".split("e")  # "d.ddddd", "+XX"
    return f"{sign}0.{mantissa.replace('.', '')}E{int(exp) + 1:+03d}"


def strip_leading_zero(token: str) -> str:
    """``0.5`` -> ``.5``, ``-0.5`` -> ``-.5`` (left alone when there is no such zero)."""
    if token.startswith("0.") or token.startswith("0,"):
        return token[1:]
    if token.startswith("-0.") or token.startswith("-0,"):
        return "-" + token[2:]
    return token


FLOAT_FORMS = (
    "repr",
    "fixed",
    "exp_lower",
    "exp_upper",
    "fortran",
    "leading_dot",
    "plus",
    "comma",
    "trailing_dot",
)


def spell_float(x: float, form: str, precision: int) -> str:
    """A token GDAL's CPLAtofM and docs/FORMAT.md both read as a number (value need not be ``x``).

    Rounding to ``precision`` digits can push a value near DBL_MAX past it (``2e+308``):
    a literal that overflows double is refused by asciigrid (tests/test_errors.py), so such
    spellings fall back to ``repr``."""
    token = _spell_float(x, form, precision)
    if math.isinf(float(token.replace(",", "."))):
        return repr(x)
    return token


def _spell_float(x: float, form: str, precision: int) -> str:
    if form == "repr":
        return repr(x)
    if form == "fixed":
        return f"{x:.{precision}f}"
    if form == "exp_lower":
        return f"{x:.{precision}e}"
    if form == "exp_upper":
        return f"{x:.{precision}E}"
    if form == "fortran":
        return fortran(x, max(precision, 1))
    if form == "leading_dot":
        return strip_leading_zero(f"{x:.{max(precision, 1)}f}")
    if form == "plus":
        token = repr(x)
        return token if token.startswith("-") else "+" + token
    if form == "comma":
        return repr(x).replace(".", ",")
    if form == "trailing_dot":
        return f"{x:.0f}."
    raise AssertionError(form)


def is_float_like(token: str) -> bool:
    """What makes GDAL pick Float32 for the body: any of ``. , e E``."""
    return any(c in token for c in ".,eE")


@st.composite
def float_tokens(draw: st.DrawFn, n: int, wide: bool = True) -> list[str]:
    values = st.floats(allow_nan=False, allow_infinity=False, width=64)
    if not wide:
        values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=64)
    mixed = st.one_of(
        values,
        st.integers(-1000, 1000).map(float),
        st.sampled_from([0.0, -0.0, 0.5, -0.5, 1e-45, 1.4e-45, 3e-39, FLT_MAX, -FLT_MAX]),
        st.sampled_from([3.4028235e38, -3.4028235e38, 1e39, -1e39, 1e300, 1e-300]),
    )
    tokens = []
    for _ in range(n):
        x = draw(mixed)
        form = draw(st.sampled_from(FLOAT_FORMS))
        precision = draw(st.integers(0, 12))
        if form in ("fixed", "leading_dot", "trailing_dot") and abs(x) > 1e20:
            form = "repr"  # keep tokens short; the exponent forms cover large values
        tokens.append(spell_float(x, form, precision))
    if not any(is_float_like(t) for t in tokens):
        tokens[0] = repr(float(tokens[0]))
    return tokens


@st.composite
def int_tokens(draw: st.DrawFn, n: int) -> list[str]:
    ints = st.one_of(
        st.integers(-(2**31), 2**31 - 1),
        st.integers(-100, 100),
        st.sampled_from([0, -(2**31), 2**31 - 1, -9999, 1]),
    )
    tokens = []
    for _ in range(n):
        v = draw(ints)
        plus = v >= 0 and draw(st.booleans())
        tokens.append(("+" if plus else "") + str(v))
    return tokens


# --- header and body dialects --------------------------------------------------------------


def recase(keyword: str, style: int, mask: list[bool]) -> str:
    if style == 0:
        return keyword.lower()
    if style == 1:
        return keyword.upper()
    if style == 2:
        return keyword.capitalize()
    return "".join(c.upper() if m else c.lower() for c, m in zip(keyword, mask * 20))


@dataclass
class Case:
    text: str
    ncols: int
    nrows: int
    int_only: bool = False
    """Every token (nodata included) is an Int32 integer: an int32 override is meaningful."""


WHITE = st.text(alphabet=" \t", min_size=1, max_size=4)
OPT_WHITE = st.text(alphabet=" \t", max_size=3)


@st.composite
def header_lines(
    draw: st.DrawFn, ncols: int, nrows: int, nodata: str | None
) -> list[tuple[str, str]]:
    """``(keyword, value)`` pairs of a valid header, in GDAL's accepted variety."""
    header_value = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False, width=64)
    cell_value = st.one_of(
        st.floats(min_value=1e-6, max_value=1e5, allow_nan=False, width=64),
        st.sampled_from([1.0, 0.5, 25.0, 30.0, 0.1, 1 / 3, 0.000833333333333]),
    )

    def number(x: float) -> str:
        form = draw(st.sampled_from(FLOAT_FORMS + ("int",)))
        if form == "int":
            return str(int(x))
        if form == "trailing_dot" or (form in ("fixed", "leading_dot") and abs(x) > 1e15):
            form = "repr"
        return spell_float(x, form, draw(st.integers(1, 15)))

    pairs = [("ncols", str(ncols)), ("nrows", str(nrows))]
    if draw(st.booleans()):
        cell = draw(cell_value)
        cell_token = number(cell)
        assume_positive(cell_token)
        pairs.append(("cellsize", cell_token))
    else:
        for key in ("dx", "dy"):
            token = number(draw(cell_value))
            assume_positive(token)
            pairs.append((key, token))
    origin = draw(st.sampled_from(["corner", "center"]))
    for axis in ("x", "y"):
        pairs.append((f"{axis}ll{origin}", number(draw(header_value))))
    if nodata is not None:
        pairs.append(("NODATA_value", nodata))
    order = draw(st.permutations(pairs))
    if order[0][0] == "NODATA_value":
        # GDAL only recognises a file that starts with one of the geometry keywords.
        order[0], order[1] = order[1], order[0]
    return order


def assume_positive(token: str) -> None:
    value = float(token.replace(",", "."))
    assume(math.isfinite(value) and value > 0)


@st.composite
def render_header(draw: st.DrawFn, pairs: list[tuple[str, str]], eol: str) -> str:
    lines = []
    for key, value in pairs:
        style = draw(st.integers(0, 3))
        mask = draw(st.lists(st.booleans(), min_size=1, max_size=12))
        lines.append(recase(key, style, mask) + draw(WHITE) + value + draw(OPT_WHITE) + eol)
    return "".join(lines)


@st.composite
def render_body(draw: st.DrawFn, tokens: list[str], ncols: int, eol: str) -> str:
    layout = draw(st.sampled_from(["rows", "one_per_line", "single_line", "wrapped", "random"]))
    sep = draw(WHITE)
    lead = draw(OPT_WHITE)
    trail = draw(OPT_WHITE)
    if layout == "rows":
        lines = [tokens[i : i + ncols] for i in range(0, len(tokens), ncols)]
    elif layout == "one_per_line":
        lines = [[t] for t in tokens]
    elif layout == "single_line":
        lines = [tokens]
    elif layout == "wrapped":
        width = draw(st.integers(1, max(1, len(tokens))))
        lines = [tokens[i : i + width] for i in range(0, len(tokens), width)]
    else:
        breaks = draw(st.lists(st.booleans(), min_size=len(tokens), max_size=len(tokens)))
        lines, current = [], []
        for token, brk in zip(tokens, breaks):
            current.append(token)
            if brk:
                lines.append(current)
                current = []
        if current:
            lines.append(current)
    blank_lines = draw(st.booleans())
    rendered = []
    for i, line in enumerate(lines):
        # The first data line starts with a number: GDAL 3.6 ends the header at the first
        # line that does not begin with a letter (and 'nan'/'inf' begin with one).
        rendered.append(lead + sep.join(line) + trail)
        if blank_lines and i % 2 == 1:
            rendered.append(draw(OPT_WHITE))
    body = eol.join(rendered)
    ending = draw(st.sampled_from(["eol", "none", "eol_and_blank"]))
    if ending == "eol":
        body += eol
    elif ending == "eol_and_blank":
        body += eol + draw(OPT_WHITE) + eol
    return body


NODATA_TOKENS = st.one_of(
    st.none(),
    st.sampled_from(["-9999", "-99999", "0", "-1", "255", "-2147483648", "2147483647"]),
    st.integers(-(2**31), 2**31 - 1).map(str),
    st.sampled_from(["-9999.0", "-9999.", "-99999,0", "-1.5", "3.25", ".5", "-3.4028235e+38"]),
    st.sampled_from(["2147483648", "-2147483649", "10000000000", "-1.0e10"]),
    # Float64 by GDAL's rule: |v| < FLT_MIN (0.0 included) or > FLT_MAX with a '.'
    st.sampled_from(["0.0", "1.0e-40", "-1.0e39", "2.2250738585072014e-308", "1.5e300"]),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda v: f"{v:.3f}"),
)


@st.composite
def grids(draw: st.DrawFn, kind: str | None = None) -> Case:
    ncols = draw(st.integers(1, 7))
    nrows = draw(st.integers(1, 7))
    n = ncols * nrows
    kind = kind or draw(st.sampled_from(["int", "float"]))
    nodata = draw(NODATA_TOKENS)
    if kind == "int" and nodata is not None and is_float_like(nodata):
        kind = "float"  # the nodata makes it a float grid anyway; the tokens may be anything
    if kind == "int" and nodata is not None and not -(2**31) <= int(nodata) < 2**31:
        kind = "float"
    tokens = draw(int_tokens(n)) if kind == "int" else draw(float_tokens(n))
    if nodata is not None and draw(st.booleans()):
        # Some cells hold the nodata value itself, spelled exactly as in the header.
        for i in draw(st.lists(st.integers(0, n - 1), max_size=n)):
            tokens[i] = nodata
        if (
            kind == "float"
            and not any(is_float_like(t) for t in tokens)
            and not (is_float_like(nodata))
        ):
            tokens[0] = repr(float(tokens[0]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    pairs = draw(header_lines(ncols, nrows, nodata))
    text = draw(render_header(pairs, eol)) + draw(render_body(tokens, ncols, eol))
    assert len(text) >= 40  # GDAL only identifies files of 40 bytes and more
    int_only = kind == "int" and (nodata is None or not is_float_like(nodata))
    return Case(text=text, ncols=ncols, nrows=nrows, int_only=int_only)


# --- generated dialects ---------------------------------------------------------------------


@SETTINGS
@given(case=grids())
def test_generated_dialects_agree_with_gdal(tmp_path: Path, case: Case) -> None:
    assert_agrees(write_case(tmp_path, case.text))


@settings(SETTINGS, max_examples=60)
@given(case=grids(kind="int"))
def test_generated_int_grids_agree_with_gdal(tmp_path: Path, case: Case) -> None:
    grid = assert_agrees(write_case(tmp_path, case.text))
    assert grid.shape == (case.nrows, case.ncols)


@settings(SETTINGS, max_examples=60)
@given(case=grids(kind="float"), dtype=st.sampled_from(["float32", "float64"]))
def test_generated_dtype_override_agrees_with_gdal(tmp_path: Path, case: Case, dtype: str) -> None:
    """``read(dtype=...)`` equals GDAL's ``DATATYPE`` open option."""
    assert_agrees(write_case(tmp_path, case.text), dtype=dtype)


@settings(SETTINGS, max_examples=40)
@given(case=grids(kind="int"), dtype=st.sampled_from(["int32", "float32", "float64"]))
def test_generated_int_grid_dtype_override_agrees_with_gdal(
    tmp_path: Path, case: Case, dtype: str
) -> None:
    # An int32 override of decimals (or of a fractional nodata) is not specified; skip those.
    assume(case.int_only)
    assert_agrees(write_case(tmp_path, case.text), dtype=dtype)


@st.composite
def special_token_grids(draw: st.DrawFn) -> tuple[str, str]:
    """Float grids whose cells include nan / NaN / inf / -inf (never as the first token)."""
    ncols = draw(st.integers(2, 6))
    nrows = draw(st.integers(1, 4))
    n = ncols * nrows
    tokens = draw(float_tokens(n, wide=False))
    specials = st.sampled_from(["nan", "NaN", "inf", "-inf"])
    for i in draw(st.lists(st.integers(1, n - 1), min_size=1, max_size=n)):
        tokens[i] = draw(specials)
    if not is_float_like(tokens[0]) and not any(is_float_like(t) for t in tokens):
        tokens[0] = tokens[0] + ".0"
    nodata = draw(st.sampled_from([None, "-9999", "-9999.0", "0.0"]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    pairs = draw(header_lines(ncols, nrows, nodata))
    text = draw(render_header(pairs, eol)) + draw(render_body(tokens, ncols, eol))
    dtype = draw(st.sampled_from(["default", "float32", "float64"]))
    return text, dtype


@settings(SETTINGS, max_examples=60)
@given(case=special_token_grids())
def test_generated_nan_and_inf_agree_with_gdal(tmp_path: Path, case: tuple[str, str]) -> None:
    """NaN stays NaN; inf becomes +-FLT_MAX in Float32 (GDAL clamps) and stays inf in Float64."""
    text, dtype = case
    assert_agrees(write_case(tmp_path, text), dtype=None if dtype == "default" else dtype)


@settings(SETTINGS, max_examples=40)
@given(
    values=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30),
    nulls=st.lists(st.booleans(), min_size=30, max_size=30),
    dtype=st.sampled_from(["default", "float64"]),
)
def test_generated_null_nodata_agrees_with_gdal(
    tmp_path: Path, values: list[float], nulls: list[bool], dtype: str
) -> None:
    """``NODATA_value null`` and ``null`` cells (D12 software): -FLT_MAX / -DBL_MAX."""
    tokens = [repr(values[0])] + [
        "null" if nulls[i] else repr(v) for i, v in enumerate(values[1:], start=1)
    ]
    text = (
        f"ncols {len(tokens)}\nnrows 1\nxllcorner 0\nyllcorner -1\ncellsize 1\n"
        f"NODATA_value null\n{' '.join(tokens)}\n"
    )
    assert_agrees(write_case(tmp_path, text), dtype=None if dtype == "default" else dtype)


@settings(SETTINGS, max_examples=50)
@given(case=grids())
@example(case=Case("ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n", 2, 1))
def test_bytes_source_equals_path_source(tmp_path: Path, case: Case) -> None:
    """The same text read from bytes, a file object and a path gives the same grid."""
    path = write_case(tmp_path, case.text)
    from_path = asciigrid.read(path)
    from_bytes = asciigrid.read(case.text.encode())
    with open(path, "rb") as f:
        from_file = asciigrid.read(f)
    for other in (from_bytes, from_file):
        assert_same_values(other.data, from_path.data)
        assert other.geotransform == from_path.geotransform
        assert same_nodata(other.nodata, from_path.nodata)


# --- explicit regressions -------------------------------------------------------------------

H4 = "ncols 4\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
GLOBAL_ROW = " ".join(["1"] * 360)

REGRESSIONS = {
    "keywords_upper": "NCOLS 4\nNROWS 1\nXLLCORNER 10\nYLLCORNER 20\nCELLSIZE 5\n1 2 3 4\n",
    "keywords_mixed_order": "cellsize 5\nyllcorner 20\nnrows 1\nNODATA_value -1\n"
    "xllcorner 10\nncols 4\n1 -1 3 4\n",
    "tabs_everywhere": "ncols\t4\nnrows\t\t1\nxllcorner \t 0\nyllcorner 0   \ncellsize 1\t\n"
    "\t1\t2\t3\t4\t\n",
    "crlf": H4.replace("\n", "\r\n") + "1 2 3 4\r\n",
    "crlf_no_final_newline": H4.replace("\n", "\r\n") + "1 2 3 4",
    "no_final_newline": H4 + "1 2 3 4",
    "trailing_space_no_newline": H4 + "1 2 3 4  ",
    "trailing_blank_lines": H4 + "1 2 3 4\n\n   \n\n",
    "blank_lines_between_values": H4 + "\n1 2\n\n\n3\n \n4\n",
    "one_value_per_line": H4 + "1\n2\n3\n4\n",
    "leading_whitespace_data": H4 + "    1    2\n    3    4\n",
    "corner": "ncols 4\nnrows 2\nxllcorner 100.5\nyllcorner -20.25\ncellsize 0.25\n"
    "1 2 3 4\n5 6 7 8\n",
    "center": "ncols 4\nnrows 2\nxllcenter 100.5\nyllcenter -20.25\ncellsize 0.3\n"
    "1 2 3 4\n5 6 7 8\n",
    "dx_dy_nonsquare": "ncols 4\nnrows 1\nxllcorner 0\nyllcorner 0\ndx 1.5\ndy 2.5\n1 2 3 4\n",
    "dx_dy_center": "ncols 4\nnrows 1\nxllcenter 0\nyllcenter 0\ndx 0.1\ndy 0.7\n1 2 3 4\n",
    "fortran_header": "ncols 4\nnrows 1\nxllcorner  0.100000E+06\nyllcorner  0.650000E+06\n"
    "cellsize     .500E+02\n1 2 3 4\n",
    "comma_header": "ncols 4\nnrows 1\nxllcorner 0,5\nyllcorner 1,25\ncellsize 0,25\n1 2 3 4\n",
    "plus_header": "ncols 4\nnrows 1\nxllcorner +0,5\nyllcorner +1.25\ncellsize +.25\n1 2 3 4\n",
    "global_snap_corner": f"ncols 360\nnrows 1\nxllcorner -180\nyllcorner 0\n"
    f"cellsize 1.0000000001\n{GLOBAL_ROW}\n",
    "global_snap_near_minus_180": f"ncols 360\nnrows 1\nxllcorner -180.0000000000001\n"
    f"yllcorner 0\ncellsize 1.0000000001\n{GLOBAL_ROW}\n",
    "global_snap_dx_dy_equal": f"ncols 360\nnrows 1\nxllcorner -180\nyllcorner 0\n"
    f"dx 1.0000000001\ndy 1.0000000001\n{GLOBAL_ROW}\n",
    "global_no_snap_dx_dy_differ": f"ncols 360\nnrows 1\nxllcorner -180\nyllcorner 0\n"
    f"dx 1.0000000001\ndy 1.0000000002\n{GLOBAL_ROW}\n",
    "global_no_snap_center": f"ncols 360\nnrows 1\nxllcenter -180\nyllcenter 0\n"
    f"cellsize 1.0000000001\n{GLOBAL_ROW}\n",
    "global_no_snap_far_from_360": f"ncols 360\nnrows 1\nxllcorner -180\nyllcorner 0\n"
    f"cellsize 1.00001\n{GLOBAL_ROW}\n",
    "int_extremes": H4 + "-2147483648 2147483647 0 -0\n",
    "int_leading_plus": H4 + "+5 +0 -5 7\n",
    "int_leading_zeros": H4 + "007 -007 0 00\n",
    "float_body_int_tokens": H4 + "1 2 3 4.5\n",
    "exponent_makes_float": H4 + "1e5 2 3 4\n",
    "big_int_in_float_grid": H4 + "99999999999 1.5 -99999999999 4\n",
    "leading_dot": H4 + ".5 -.5 +.5 .25E+01\n",
    "trailing_dot": H4 + "5. -5. 0. 1.\n",
    "exponents": H4 + "1.5e+02 1.5E-02 1E5 1.e5\n",
    "fortran_body": H4 + ".000E+00 0.150000E+03 -.25E-01 0.1E+01\n",
    "comma_body": H4 + "1,5 -,5 2,25E+01 0,1\n",
    "float32_rounding": H4 + "0.1 0.2 16777217 3.14159265358979\n",
    "double_rounding_via_f64": H4 + "1.000000059604644775390625000001 1 2. 3\n",
    "float32_overflow_clamped": H4 + "1e39 -1e39 3.4028235e+38 1e300\n",
    "float32_inf_clamped": H4 + "1.5 inf -inf 2\n",
    "float32_underflow": H4 + "1e-50 -1e-50 1e-400 1.\n",
    "float32_subnormal": H4 + "1.4e-45 -1.4e-45 1e-40 1.\n",
    "negative_zero": H4 + "-0.0 0.0 -0 -0.\n",
    "nan_in_body": H4 + "1.5 nan NaN 2\n",
    "nodata_int": "ncols 4\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
    "NODATA_value -9999\n1 -9999 3 4\n",
    "nodata_float_trailing_dot": H4 + "NODATA_value -9999.\n1 -9999 3 4\n",
    "nodata_lowercase": H4 + "nodata_value -1\n1 -1 3 4\n",
    "nodata_upper": H4 + "NODATA_VALUE -1\n1 -1 3 4\n",
    "nodata_exponent_int_range": H4 + "NODATA_value 1e5\n1 100000 3 4\n",
    "nodata_int_out_of_range": H4 + "NODATA_value 2147483648\n1 2 3 4\n",
    "nodata_int_min": H4 + "NODATA_value -2147483648\n1 -2147483648 3 4\n",
    "nodata_plus": H4 + "NODATA_value +5\n+5 -5 5 1\n",
    "nodata_not_float32_with_float_body": H4 + "NODATA_value 16777217\n1 2 3 0.5\n",
    "nodata_zero_point_zero_float64": H4 + "NODATA_value 0.0\n1 0 3 0.1\n",
    "nodata_tiny_float64": H4 + "NODATA_value 1.0e-40\n1 2 3 0.1\n",
    "nodata_huge_float64": H4 + "NODATA_value -1.0e39\n1 2 3 0.1\n",
    "nodata_above_flt_max_float64": H4 + "NODATA_value -3.4028235e+38\n1 2 3 0.1\n",
    "nodata_flt_max_float32": H4 + "NODATA_value -3.4028234663852886e+38\n1 2 3 0.1\n",
    "nodata_minus_inf": H4 + "NODATA_value -inf\n1 2 3 0.1\n",
    "nodata_comma": H4 + "NODATA_value -9999,5\n1 -9999,5 3 4\n",
    "nodata_null": H4 + "NODATA_value null\nnull 1.5 null 3.5\n",
    "float64_body_inf": H4 + "NODATA_value 0.0\n1 inf -inf 1e39\n",
    "float64_body_precision": H4 + "NODATA_value 1.0e-40\n0.1 1.234567890123 1e-310 -0.0\n",
    "long_header_whitespace": "ncols" + " " * 50 + "4\nnrows 1\nxllcorner 0\n"
    "yllcorner 0\ncellsize 1\n1 2 3 4\n",
    "blank_line_in_header": "ncols 4\nnrows 1\n\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3 4\n",
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression_examples_agree_with_gdal(tmp_path: Path, name: str) -> None:
    assert_agrees(write_case(tmp_path, REGRESSIONS[name]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression_examples_with_dtype_override_agree_with_gdal(
    tmp_path: Path, name: str, dtype: str
) -> None:
    assert_agrees(write_case(tmp_path, REGRESSIONS[name]), dtype=dtype)


@pytest.mark.parametrize(
    "name", ["int_extremes", "int_leading_plus", "nodata_int", "keywords_mixed_order", "crlf"]
)
def test_int_regression_examples_with_int32_override_agree_with_gdal(
    tmp_path: Path, name: str
) -> None:
    assert_agrees(write_case(tmp_path, REGRESSIONS[name]), dtype="int32")


def test_float32_inf_is_clamped_like_gdal(tmp_path: Path) -> None:
    """Spelled out, as the clamp is easy to miss: ``inf`` reads as FLT_MAX in a Float32 grid."""
    grid = asciigrid.read(write_case(tmp_path, REGRESSIONS["float32_inf_clamped"]))
    assert grid.data.dtype == np.float32
    assert grid.data[0, 1] == np.float32(FLT_MAX)
    assert grid.data[0, 2] == -np.float32(FLT_MAX)


def test_double_rounding_goes_through_float64(tmp_path: Path) -> None:
    """A decimal just above a float32 tie rounds to the tie in f64, then to even in f32."""
    grid = asciigrid.read(write_case(tmp_path, REGRESSIONS["double_rounding_via_f64"]))
    tie = 1.0 + 2.0**-24
    assert float("1.000000059604644775390625000001") == tie
    assert grid.data[0, 0] == np.float32(1.0)
    assert struct.pack("<f", grid.data[0, 0]) == struct.pack("<f", 1.0)


# --- GRASS ASCII grids (an optional variant: skipped when the engine does not read them) ----

GRASS_HEADER = "north: 250\nsouth: 0\neast: 150\nwest: -100\nrows: 2\ncols: 4\n"
GRASS = {
    "basic": GRASS_HEADER + "1 2 3 4\n5 6 7 8\n",
    "null_int": GRASS_HEADER + "null: -9999\n1 -9999 3 4\n5 6 7 8\n",
    "null_float": GRASS_HEADER + "null: -9999.0\n1 -9999 3 4\n5 6 7 8\n",
    "type_float": GRASS_HEADER + "type: float\n1 2 3 4\n5 6 7 8.5\n",
    "type_double": GRASS_HEADER + "type: double\n1 2 3 4\n5 6 7 0.1\n",
    "type_int": GRASS_HEADER + "type: int\n1 2 3 4\n5 6 7 8\n",
    "order_and_case": "cols: 4\nrows: 2\nWEST: -100\nEast: 150\nsouth: 0.5\nnorth: 250.25\n"
    "1 2 3 4\n5 6 7 8.5\n",
    "no_space_after_colon": "north:250\nsouth:0\neast:150\nwest:-100\nrows:2\ncols:4\n"
    "1 2 3 4\n5 6 7 8\n",
    "thirds": "north: 1\nsouth: 0\neast: 1\nwest: 0\nrows: 3\ncols: 3\n1.5 2 3\n4 5 6\n7 8 9e1\n",
    "crlf": GRASS_HEADER.replace("\n", "\r\n") + "1 2 3 4\r\n5 6 7 8\r\n",
    # `*` null cells (GDAL 3.6 reads 0): the null: value, else -2147483648, as nodata.
    "star_int": GRASS_HEADER + "1 * 3 4\n* 6 7 8\n",
    "star_float": GRASS_HEADER + "1.5 * 3 4\n5 6 7 *\n",
    "star_null_int": GRASS_HEADER + "null: -9999\n1 * 3 -9999\n5 6 7 8\n",
    "star_null_float": GRASS_HEADER + "null: -9999.5\n1 * 3 4\n5 6 7 8\n",
    "star_null_line_star": GRASS_HEADER + "null: *\n1 * 3 4\n5 6 7 0\n",
    "star_type_double": GRASS_HEADER + "type: double\n1 * 3 4\n5 6 7 0.1\n",
    "star_every_cell": GRASS_HEADER + "* * * *\n* * * *\n",
}


@pytest.mark.parametrize("name", sorted(GRASS))
def test_grass_examples_agree_with_gdal(tmp_path: Path, name: str) -> None:
    try:
        asciigrid.read(GRASS["basic"].encode())
    except asciigrid.ParseError as err:
        pytest.skip(f"the engine does not read GRASS ASCII grids (optional): {err}")
    assert_agrees(write_case(tmp_path, GRASS[name], "grass.txt"), driver="GRASSASCIIGrid")


# --- damaged files: refused, or read exactly as GDAL reads them ------------------------------
# Never a third outcome: a file asciigrid reads must give GDAL's numbers (when GDAL 3.6 reads it
# at all). Anything else is asciigrid guessing differently from GDAL: it must refuse instead.


def assert_refused_or_like_gdal(path: Path) -> None:
    try:
        grid = asciigrid.read(path)
    except asciigrid.ParseError:
        return
    try:
        ref = gdal_read(path)
    except RuntimeError:
        return  # GDAL 3.6 refuses it (or reads past its end): nothing to compare with
    if grid.nodata is not None and math.isnan(grid.nodata):
        return  # GDAL 3.6 predates the NaN-nodata rule (docs/FORMAT.md)
    text = path.read_bytes()[:400]
    assert grid.data.dtype == ref.dtype, f"dtype {grid.data.dtype} != GDAL {ref.dtype}\n{text!r}"
    assert tuple(grid.geotransform) == ref.geotransform, (
        f"geotransform {grid.geotransform} != GDAL {ref.geotransform}\n{text!r}"
    )
    assert same_nodata(grid.nodata, ref.nodata), (
        f"nodata {grid.nodata!r} != GDAL {ref.nodata!r}\n{text!r}"
    )
    assert_same_values(grid.data, ref.array, f"{text!r}\n")


TRICKY = {
    # A lone CR (old Mac line end) before a header line: GDAL splits on it.
    "bare_cr_before_nodata": "ncols 4\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1 \r"
    "NODATA_value -1.5\n1 2 3 4\n",
    "bare_cr_before_dy": "ncols 4\nnrows 1\nxllcorner 0\nyllcorner 0\ndx 1\rdy 2\n1 2 3 4\n",
    "bare_cr_inside_nodata": "ncols 1\nnrows 5\ndx 1.0\ndy 1.0\nxllcorner 0.0\nyllcorner 0.0\n"
    "nodata_value -9\r999\n0\n0\n0\n0\n0\n",
    "bare_cr_line_endings": "ncols 4\rnrows 1\rxllcorner 0\ryllcorner 0\rcellsize 1\r1 2 3 4\r",
    "stray_token_after_cr": "ncols 4\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
    "NODATA_value -9999.0\r-\n1 2 3 4\n",
    # GDAL sees no 'yllcorner' keyword here (and puts the grid at y = 0).
    "keyword_glued_to_value": "ncols 4\nnrows 1\nxllcorner 0\nyllcorner-10\ncellsize 1\n1 2 3 4\n",
    "keyword_glued_to_plus": "ncols 4\nnrows 1\nxllcorner+5\nyllcorner 0\ncellsize 1\n1 2 3 4\n",
    "leading_blank_line": "\nncols 4\nnrows 1\nxllcorner 0\nyllcorner 10\ncellsize 1\n1 2 3 4\n",
    "vertical_tab_separator": H4 + "1\x0b2 3 4\n",
    "form_feed_separator": H4 + "1\x0c2 3 4\n",
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_files_are_refused_or_read_like_gdal(tmp_path: Path, name: str) -> None:
    assert_refused_or_like_gdal(write_case(tmp_path, TRICKY[name]))


EDIT_BYTES = list(b"0123456789 \t\n\r.,+-eEnaifNAIx")


@settings(SETTINGS, max_examples=300)
@given(
    case=grids(),
    edits=st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.sampled_from(EDIT_BYTES),
            st.sampled_from(["insert", "delete", "replace"]),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_damaged_files_are_refused_or_read_like_gdal(
    tmp_path: Path, case: Case, edits: list[tuple[int, int, str]]
) -> None:
    damaged = bytearray(case.text.encode())
    for position, byte, op in edits:
        p = position % (len(damaged) + 1)
        if op == "insert":
            damaged[p:p] = bytes([byte])
        elif p < len(damaged):
            if op == "delete":
                del damaged[p]
            else:
                damaged[p] = byte
    assert_refused_or_like_gdal(write_case(tmp_path, bytes(damaged)))


# --- large files: read window by window (4 MiB and more), not whole ------------------------


def _big_text(rng: np.random.Generator, rows: int, cols: int, floats: bool) -> str:
    """A grid of about 5 MB whose values take every shape the fast and slow paths handle."""
    values = rng.normal(300.0, 400.0, size=(rows, cols))
    shapes = rng.integers(0, 6, size=(rows, cols))
    out = [
        f"ncols {cols}\r\nnrows {rows}\r\nxllcorner 1000.5\r\nyllcorner 2000\r\n"
        "cellsize 2.5\r\nNODATA_value -9999\r\n"
    ]
    for r in range(rows):
        cells = []
        for v, shape in zip(values[r], shapes[r]):
            if not floats or shape == 0:
                cells.append(str(int(v)))
            elif shape == 1:
                cells.append("-9999")
            elif shape == 2:
                cells.append(f"{v:.2f}")
            elif shape == 3:
                cells.append(f"{v:.6E}")
            elif shape == 4:
                cells.append(f"{v:.12f}")
            else:
                cells.append(f"{v:.1f}")
        out.append(" ".join(cells) + ("\r\n" if r % 2 else "\n"))
    return "".join(out)


@pytest.mark.parametrize("floats", [True, False], ids=["float", "int"])
def test_large_files_read_in_windows_agree_with_gdal(tmp_path: Path, floats: bool) -> None:
    rows = 700 if floats else 1500
    text = _big_text(np.random.default_rng(7), rows=rows, cols=1000, floats=floats)
    path = write_case(tmp_path, text)
    assert path.stat().st_size >= 4 << 20, "too small to be read window by window"
    grid = assert_agrees(path)
    assert grid.data.dtype == (np.float32 if floats else np.int32)
    assert_agrees(path, dtype="float64")
