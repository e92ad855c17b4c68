"""Where asciigrid is stricter than GDAL (docs/FORMAT.md), and how it says so.

Every case is an ``asciigrid.ParseError`` (a ``ValueError``) naming the path it was given, the
1-based line and the 1-based byte column of the offending token's first byte, with a message
that says what is wrong. Never a panic, never a MemoryError, never a silent guess.

In the case texts, ``@@`` marks the offending token and is removed before writing the file.
"""

from __future__ import annotations

import gzip
import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from gdal_reference import gdal_read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from measure_work import assert_bounded, counted

MARK = "@@"
K = asciigrid.ErrorKind


def locate(text: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, byte column) of ``offset``."""
    line = text.count(b"\n", 0, offset) + 1
    line_start = text.rfind(b"\n", 0, offset) + 1
    return line, offset - line_start + 1


def strip_mark(marked: str) -> tuple[bytes, tuple[int, int]]:
    raw = marked.encode()
    offset = raw.index(MARK.encode())
    text = raw.replace(MARK.encode(), b"", 1)
    return text, locate(text, offset)


def short_positions(text: bytes, header_lines: int) -> set[tuple[int, int]]:
    """Where an error about missing values may point: the end of the file, the end of its
    last token, or (when the file is too small to hold the grid at all) the body's start."""
    positions = {locate(text, len(text)), locate(text, len(text.rstrip()))}
    body_start = 0
    for _ in range(header_lines):
        body_start = text.index(b"\n", body_start) + 1
    positions.add(locate(text, body_start))
    return positions


@dataclass
class Case:
    """A file asciigrid must refuse."""

    marked: str
    """The file text, ``@@`` before the offending token."""
    kind: asciigrid.ErrorKind
    """What the error must say is wrong."""
    words: tuple[str, ...] = ()
    """The message must contain at least one of these (case-insensitive), if any: a few
    cases check that it says what to do."""
    also: Iterable[tuple[int, int]] = field(default_factory=tuple)
    """Other acceptable positions (for errors about something absent)."""

    def text(self) -> bytes:
        return strip_mark(self.marked)[0]

    def positions(self) -> set[tuple[int, int]]:
        return {strip_mark(self.marked)[1], *self.also}


H = "ncols 4\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
ROWS = "1 2 3 4\n5 6 7 8\n9 10 11 12\n"


def header_with(line: str, replaces: str | None = None) -> str:
    """``H`` with one line replaced (or added before the data when ``replaces`` is None)."""
    if replaces is None:
        return H + line
    return H.replace(replaces, line)


CASES: dict[str, Case] = {
    # a garbage token: GDAL reads 0 (or the numeric prefix)
    "garbage_token": Case(H + "1 2 3 4\n5 @@x4 7 8\n9 10 11 12\n", K.BAD_VALUE, words=("x4",)),
    # A line starting with a letter is a header line (GDAL's rule).
    "garbage_token_first_cell": Case(
        H + "@@x4 2 3 4\n5 6 7 8\n9 10 11 12\n", K.HEADER_KEYWORD_UNKNOWN
    ),
    "garbage_token_last_cell": Case(H + "1 2 3 4\n5 6 7 8\n9 10 11 @@x4\n", K.BAD_VALUE),
    "garbage_suffix": Case(H + "1 2 3 4\n5 6 @@4x 8\n9 10 11 12\n", K.BAD_VALUE),
    "garbage_in_float_grid": Case(H + "1.5 2 3 4\n5 6 7 8\n9 10 @@abc 12\n", K.BAD_VALUE),
    "double_dot": Case(H + "1.5 2 3 4\n5 6 7 8\n9 10 @@1.5.5 12\n", K.BAD_VALUE),
    # Not an integer at all: the message must not blame the Int32 range (or suggest float64).
    "double_minus": Case(
        H + "1 2 3 4\n5 6 7 8\n9 10 @@--5 12\n", K.BAD_VALUE, words=("expected", "not a number")
    ),
    "plus_minus": Case(
        H + "1 2 3 4\n5 6 7 8\n9 10 @@+-5 12\n", K.BAD_VALUE, words=("expected", "not a number")
    ),
    "hex_number": Case(H + "1.5 2 3 4\n5 6 7 8\n9 10 @@0x10 12\n", K.BAD_VALUE),
    "fortran_d_exponent": Case(H + "1.5 2 3 4\n5 6 7 8\n9 10 @@1.5D+02 12\n", K.BAD_VALUE),
    "garbage_after_tab": Case(H + "1\t2\t3\t4\n5\t6\t7\t8\n9\t@@x4\t11\t12\n", K.BAD_VALUE),
    "garbage_crlf": Case(
        H.replace("\n", "\r\n") + "1 2 3 4\r\n5 6 7 8\r\n9 @@x4 11 12\r\n", K.BAD_VALUE
    ),
    "garbage_one_value_per_line": Case(
        H + "\n".join(str(i) for i in range(1, 7)) + "\n@@x4\n" + "8\n9\n10\n11\n12\n", K.BAD_VALUE
    ),
    "garbage_non_ascii": Case(H + "1 2 3 4\n5 6 7 8\n9 10 @@\u00fc 12\n", K.BAD_VALUE),
    "garbage_header_value": Case(
        header_with("cellsize @@abc\n", "cellsize 1\n") + ROWS, K.HEADER_VALUE_NOT_A_NUMBER
    ),
    "garbage_header_suffix": Case(
        header_with("xllcorner @@12abc\n", "xllcorner 0\n") + ROWS, K.HEADER_VALUE_NOT_A_NUMBER
    ),
    # values left over after ncols*nrows: GDAL ignores them
    "one_value_too_many": Case(
        H + "1 2 3 4\n5 6 7 8\n9 10 11 12 @@13\n", K.TOO_MANY_VALUES, words=("more values",)
    ),
    "row_too_many": Case(H + ROWS + "@@13 14 15 16\n", K.TRAILING_CONTENT),
    "trailing_garbage_line": Case(H + ROWS + "@@end\n", K.TRAILING_CONTENT),
    # integers outside Int32 in an Int32 grid: GDAL overflows
    "int_overflow": Case(
        H + "1 2 3 4\n5 @@2147483648 7 8\n9 10 11 12\n", K.DTYPE_TOO_NARROW, words=("float64",)
    ),
    "int_underflow": Case(H + "1 2 3 4\n5 @@-2147483649 7 8\n9 10 11 12\n", K.DTYPE_TOO_NARROW),
    "int_huge": Case(
        H + "1 2 3 4\n5 6 7 8\n9 10 @@99999999999999999999999 12\n", K.DTYPE_TOO_NARROW
    ),
    # a literal beyond double range: GDAL's strtod gives inf (then FLT_MAX); we refuse it
    "number_overflows_double": Case(H + "1.5 2 3 4\n5 @@1e400 7 8\n9 10 11 12\n", K.BAD_VALUE),
    # a missing or half origin: GDAL puts the grid at (0, 0)
    "corner_center_mix": Case(
        "ncols 4\nnrows 3\nxllcorner 0\n@@yllcenter 0\ncellsize 1\n" + ROWS,
        K.HEADER_KEYWORD_CONFLICT,
        also=[(3, 1), (3, 11), (4, 11)],
    ),
    "center_corner_mix": Case(
        "ncols 4\nnrows 3\n@@xllcenter 0\nyllcorner 0\ncellsize 1\n" + ROWS,
        K.HEADER_KEYWORD_CONFLICT,
        also=[(4, 1), (3, 11), (4, 11)],
    ),
    # zero, negative or non-finite cell size: GDAL accepts
    "cellsize_zero": Case(
        header_with("cellsize @@0\n", "cellsize 1\n") + ROWS, K.HEADER_VALUE_INVALID
    ),
    "cellsize_zero_float": Case(
        header_with("cellsize @@0.0\n", "cellsize 1\n") + ROWS, K.HEADER_VALUE_INVALID
    ),
    "cellsize_negative": Case(
        header_with("cellsize @@-1\n", "cellsize 1\n") + ROWS, K.HEADER_VALUE_INVALID
    ),
    "cellsize_nan": Case(
        header_with("cellsize @@nan\n", "cellsize 1\n") + ROWS, K.HEADER_VALUE_INVALID
    ),
    "cellsize_inf": Case(
        header_with("cellsize @@inf\n", "cellsize 1\n") + ROWS, K.HEADER_VALUE_INVALID
    ),
    "cellsize_overflows_to_inf": Case(
        header_with("cellsize @@1e400\n", "cellsize 1\n") + ROWS, K.HEADER_VALUE_NOT_A_NUMBER
    ),
    "dx_zero": Case(header_with("dx @@0\ndy 1\n", "cellsize 1\n") + ROWS, K.HEADER_VALUE_INVALID),
    "dy_negative": Case(
        header_with("dx 1\ndy @@-0.5\n", "cellsize 1\n") + ROWS, K.HEADER_VALUE_INVALID
    ),
    # ncols 5.7: GDAL reads 5
    "ncols_decimal": Case(
        "ncols @@5.7\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n" + ROWS,
        K.HEADER_VALUE_INVALID,
    ),
    "ncols_exponent": Case(
        "ncols @@4e0\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n" + ROWS,
        K.HEADER_VALUE_INVALID,
    ),
    "nrows_zero": Case(
        "ncols 4\nnrows @@0\nxllcorner 0\nyllcorner 0\ncellsize 1\n" + ROWS, K.HEADER_VALUE_INVALID
    ),
    "ncols_negative": Case(
        "ncols @@-4\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n" + ROWS, K.HEADER_VALUE_INVALID
    ),
    "ncols_garbage": Case(
        "ncols @@four\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n" + ROWS,
        K.HEADER_VALUE_NOT_A_NUMBER,
    ),
    # a duplicated or unknown header keyword, a keyword without a value
    "duplicate_keyword": Case(H + "@@cellsize 2\n" + ROWS, K.HEADER_KEYWORD_DUPLICATE),
    "duplicate_keyword_other_case": Case(H + "@@NCOLS 4\n" + ROWS, K.HEADER_KEYWORD_DUPLICATE),
    "duplicate_nodata": Case(
        H + "NODATA_value -9999\n@@nodata_value -1\n" + ROWS, K.HEADER_KEYWORD_DUPLICATE
    ),
    "unknown_keyword": Case(H + "@@projection utm\n" + ROWS, K.HEADER_KEYWORD_UNKNOWN),
    "misspelt_keyword": Case(
        "ncols 4\nnrows 3\nxllcorner 0\nyllcorner 0\n@@cellsise 1\n" + ROWS,
        K.HEADER_KEYWORD_UNKNOWN,
    ),
    "nodata_without_value": Case(
        H + "@@NODATA_value\n" + ROWS, K.HEADER_VALUE_MISSING, also=[(6, 13)]
    ),
    "nodata_without_value_trailing_space": Case(
        H + "@@NODATA_value   \n" + ROWS, K.HEADER_VALUE_MISSING, also=[(6, 13), (6, 16)]
    ),
    "nodata_garbage": Case(H + "NODATA_value @@none\n" + ROWS, K.HEADER_VALUE_NOT_A_NUMBER),
}


# Errors about something absent have no token of their own; they may point at the line where
# the header ended (the first data line), or at a partner keyword (or its value) when there is
# one.
MISSING: dict[str, tuple[str, tuple[str, ...], list[tuple[int, int]]]] = {
    "no_yllcorner": (
        "ncols 4\nnrows 3\nxllcorner 0\ncellsize 1\n" + ROWS,
        ("yllcorner",),
        [(3, 1), (3, 11), (5, 1), (1, 1)],
    ),
    "no_xllcenter": (
        "ncols 4\nnrows 3\nyllcenter 0\ncellsize 1\n" + ROWS,
        ("xllcenter",),
        [(3, 1), (3, 11), (5, 1), (1, 1)],
    ),
    "no_origin": (
        "ncols 4\nnrows 3\ncellsize 1\n" + ROWS,
        ("xllcorner",),
        [(4, 1), (1, 1)],
    ),
    "no_cellsize": (
        "ncols 4\nnrows 3\nxllcorner 0\nyllcorner 0\n" + ROWS,
        ("cellsize",),
        [(5, 1), (1, 1)],
    ),
    "dx_without_dy": (
        "ncols 4\nnrows 3\nxllcorner 0\nyllcorner 0\ndx 1\n" + ROWS,
        ("dy",),
        [(5, 1), (5, 4), (6, 1), (1, 1)],
    ),
    "no_nrows": (
        "ncols 4\nxllcorner 0\nyllcorner 0\ncellsize 1\n" + ROWS,
        ("nrows",),
        [(5, 1), (1, 1)],
    ),
    "no_ncols": (
        "nrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n" + ROWS,
        ("ncols",),
        [(5, 1), (1, 1)],
    ),
}


def assert_parse_error(
    source: object,
    expected_path: str,
    positions: set[tuple[int, int]],
    kind: asciigrid.ErrorKind,
    words: Iterable[str] = (),
    **read_kwargs: object,
) -> asciigrid.ParseError:
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read(source, **read_kwargs)  # type: ignore[arg-type]
    err = info.value
    assert isinstance(err, ValueError)
    assert err.path == expected_path
    assert (err.line, err.column) in positions, (
        f"error at {err.line}:{err.column}, expected one of {sorted(positions)}: {err}"
    )
    assert str(err) == f"{err.path}:{err.line}:{err.column}: {err.message}"
    assert err.kind is kind, f"{err.kind} instead of {kind}: {err}"
    words = tuple(words)
    message = err.message.lower()
    assert not words or any(w.lower() in message for w in words), (
        f"message {err.message!r} mentions none of {words}"
    )
    return err


@pytest.mark.parametrize("name", sorted(CASES))
def test_stricter_than_gdal(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    path = tmp_path / f"{name}.asc"
    path.write_bytes(case.text())
    # Strict: rows complete and then values or word lines left over (row_too_many,
    # trailing_garbage_line) are otherwise read with a warning (tests/test_trailing.py).
    assert_parse_error(str(path), str(path), case.positions(), case.kind, case.words, strict=True)


@pytest.mark.parametrize("name", sorted(MISSING))
def test_missing_header_keyword(tmp_path: Path, name: str) -> None:
    text, words, positions = MISSING[name]
    path = tmp_path / f"{name}.asc"
    path.write_text(text)
    # The message names the keyword to add.
    kind = asciigrid.ErrorKind.HEADER_KEYWORD_MISSING
    assert_parse_error(str(path), str(path), set(positions), kind, words)


@pytest.mark.parametrize(
    "name", ["garbage_token", "one_value_too_many", "int_overflow", "cellsize_zero"]
)
def test_gdal_silently_reads_what_we_refuse(tmp_path: Path, name: str) -> None:
    """The point of being stricter: GDAL 3.6 opens these files without any error."""
    data = CASES[name].text()
    gdal_read(data)  # no exception: GDAL invents data
    with pytest.raises(asciigrid.ParseError):
        asciigrid.read(data)


# --- too few values --------------------------------------------------------------------------

SHORT = {
    "one_value_short": H + "1 2 3 4\n5 6 7 8\n9 10 11\n",
    "one_value_short_no_newline": H + "1 2 3 4\n5 6 7 8\n9 10 11",
    "row_short": H + "1 2 3 4\n5 6 7 8\n",
    "header_only": H,
    "short_crlf": (H + "1 2 3 4\n5 6 7 8\n9 10 11\n").replace("\n", "\r\n"),
    "short_trailing_blank_lines": H + "1 2 3 4\n5 6 7 8\n9 10 11\n\n  \n",
}


@pytest.mark.parametrize("name", sorted(SHORT))
def test_too_few_values(tmp_path: Path, name: str) -> None:
    """GDAL 3.6 even reads a grid one value short as if the last cell were 0."""
    text = SHORT[name].encode()
    path = tmp_path / "short.asc"
    path.write_bytes(text)
    assert_parse_error(
        str(path), str(path), short_positions(text, header_lines=5), K.TOO_FEW_VALUES
    )


def test_gdal_pads_a_one_value_short_grid_with_zero() -> None:
    """Documents the GDAL 3.6 behaviour the strictness guards against."""
    ref = gdal_read(SHORT["one_value_short"].encode())
    assert ref.array[2, 3] == 0


# --- dimensions the file cannot hold -------------------------------------------------------

HUGE = {
    "4e9_by_4e9": "ncols 4000000000\nnrows 4000000000\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
    "1 2 3\n",
    "ncols_4e9": "ncols 4000000000\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n",
    "nrows_4e9": "ncols 1\nnrows 4000000000\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n",
    "ncols_beyond_u64": "ncols 99999999999999999999999\nnrows 1\nxllcorner 0\n"
    "yllcorner 0\ncellsize 1\n1 2 3\n",
    "product_overflows_u64": "ncols 4294967296\nnrows 4294967296\nxllcorner 0\n"
    "yllcorner 0\ncellsize 1\n1 2 3\n",
    "1e7_by_1e7_float": "ncols 10000000\nnrows 10000000\nxllcorner 0\nyllcorner 0\n"
    "cellsize 1\n1.5 2 3\n",
    "gdal_large_dimension_small_file": "ncols 10000001\nnrows 1\nxllcorner 0\nyllcorner 0\n"
    "cellsize 1\n0 0\n",
}
# Dimensions within GDAL's limit (i32::MAX) that the file is far too small for; the others
# are beyond the limit.
HUGE_BUT_VALID = {"1e7_by_1e7_float", "gdal_large_dimension_small_file"}


# The memory refusing a header the file cannot hold may take: next to nothing (allocating for
# what the header promises first would take from 40 MB to far more than the machine has).
HUGE_MEGABYTES = 16


@pytest.mark.parametrize("name", sorted(HUGE))
@pytest.mark.parametrize("as_bytes", [False, True], ids=["path", "bytes"])
def test_huge_dimensions_fail_instantly(tmp_path: Path, name: str, as_bytes: bool) -> None:
    text = HUGE[name].encode()
    path = tmp_path / "huge.asc"
    path.write_bytes(text)
    source: object = text if as_bytes else str(path)
    with counted() as work, pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read(source)  # type: ignore[arg-type]
    assert_bounded(work[0], HUGE_MEGABYTES)  # allocated before checking the file size?
    err = info.value
    assert err.path == ("<bytes>" if as_bytes else str(path))
    assert 1 <= err.line <= 6
    assert err.column >= 1
    expected = K.TOO_FEW_VALUES if name in HUGE_BUT_VALID else K.HEADER_VALUE_INVALID
    assert err.kind is expected, err


def test_huge_dimensions_in_stats_and_mosaic_fail_instantly(tmp_path: Path) -> None:
    path = tmp_path / "huge.asc"
    path.write_text(HUGE["4e9_by_4e9"])
    with counted() as work:
        with pytest.raises(asciigrid.ParseError):
            asciigrid.stats(str(path))
        with pytest.raises(asciigrid.ParseError):
            asciigrid.mosaic([str(path)])
    assert_bounded(work[0], HUGE_MEGABYTES)


# --- empty and binary files ----------------------------------------------------------------

BINARY: dict[str, tuple[bytes, set[asciigrid.ErrorKind]]] = {
    "empty": (b"", {K.EMPTY}),
    "whitespace_only": (b"  \n\n\t\n", {K.HEADER_KEYWORD_MISSING}),
    "nul_bytes": (b"\x00" * 64, {K.NOT_TEXT}),
    # Either refused as a value of a header without keywords, or as binary.
    "png_signature": (
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        {K.HEADER_KEYWORD_MISSING, K.NOT_TEXT},
    ),
    "random_bytes": (
        bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8)),
        set(K),
    ),
    "utf16_grid": (("\ufeff" + H + ROWS).encode("utf-16-le"), {K.NOT_TEXT}),
    "nul_in_body": ((H + "1 2 3 4\n5 6\x00 7 8\n9 10 11 12\n").encode(), {K.NOT_TEXT}),
    "gzip_of_garbage": (
        gzip.compress(b"this is not a grid at all\n" * 10),
        {K.HEADER_KEYWORD_UNKNOWN},
    ),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_empty_and_binary_files(tmp_path: Path, name: str) -> None:
    data, kinds = BINARY[name]
    path = tmp_path / f"{name}.asc"
    path.write_bytes(data)
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read(str(path))
    err = info.value
    assert err.path == str(path)
    assert err.line >= 1 and err.column >= 1
    assert err.message.strip()
    assert err.kind in kinds, err


def test_empty_file_points_at_its_start(tmp_path: Path) -> None:
    path = tmp_path / "empty.asc"
    path.write_bytes(b"")
    assert_parse_error(str(path), str(path), {(1, 1)}, K.EMPTY, ("empty",))


def test_nul_in_body_points_at_the_nul(tmp_path: Path) -> None:
    text = (H + "1 2 3 4\n5 6\x00 7 8\n9 10 11 12\n").encode()
    path = tmp_path / "nul.asc"
    path.write_bytes(text)
    nul = text.index(b"\x00")
    # Either the NUL itself, or the token it is glued to ('6\x00').
    positions = {locate(text, nul), locate(text, nul - 1)}
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read(str(path))
    assert (info.value.line, info.value.column) in positions
    assert info.value.kind is K.NOT_TEXT


# --- how errors name their source -------------------------------------------------------------

BAD = CASES["garbage_token"]


def test_error_names_a_str_path(tmp_path: Path) -> None:
    path = tmp_path / "tile_07.asc"
    path.write_bytes(BAD.text())
    err = assert_parse_error(str(path), str(path), BAD.positions(), BAD.kind, BAD.words)
    assert str(err).startswith(f"{path}:")


def test_error_names_a_pathlib_path(tmp_path: Path) -> None:
    path = tmp_path / "tile_07.asc"
    path.write_bytes(BAD.text())
    assert_parse_error(path, str(path), BAD.positions(), BAD.kind, BAD.words)


def test_error_names_bytes() -> None:
    assert_parse_error(BAD.text(), "<bytes>", BAD.positions(), BAD.kind, BAD.words)


def test_error_names_named_bytes() -> None:
    source = asciigrid.NamedBytes("tiles.zip/tile_07.asc", BAD.text())
    assert_parse_error(source, "tiles.zip/tile_07.asc", BAD.positions(), BAD.kind, BAD.words)


def test_error_names_a_file_object(tmp_path: Path) -> None:
    path = tmp_path / "tile_07.asc"
    path.write_bytes(BAD.text())
    with open(path, "rb") as f:
        assert_parse_error(f, str(path), BAD.positions(), BAD.kind, BAD.words)


def test_error_in_gzip_file_points_into_the_decompressed_text(tmp_path: Path) -> None:
    path = tmp_path / "tile_07.asc.gz"
    path.write_bytes(gzip.compress(BAD.text()))
    assert_parse_error(str(path), str(path), BAD.positions(), BAD.kind, BAD.words)


def test_read_header_reports_header_errors(tmp_path: Path) -> None:
    case = CASES["ncols_decimal"]
    path = tmp_path / "bad.asc"
    path.write_bytes(case.text())
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read_header(str(path))
    assert info.value.path == str(path)
    assert (info.value.line, info.value.column) in case.positions()
    assert info.value.kind is case.kind


def test_stats_reports_body_errors_with_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.asc"
    path.write_bytes(BAD.text())
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.stats(str(path))
    assert info.value.path == str(path)
    assert (info.value.line, info.value.column) in BAD.positions()
    assert info.value.kind is BAD.kind


def test_parse_error_is_a_value_error_and_pickles() -> None:
    assert issubclass(asciigrid.ParseError, ValueError)
    assert issubclass(asciigrid.ParseError, asciigrid.AsciiGridError)
    with pytest.raises(ValueError) as info:
        asciigrid.read(BAD.text())
    err = info.value
    assert isinstance(err, asciigrid.ParseError)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is asciigrid.ParseError
    assert (again.path, again.line, again.column, again.message, again.kind) == (
        err.path,
        err.line,
        err.column,
        err.message,
        K.BAD_VALUE,
    )


# --- files that are not there --------------------------------------------------------------


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    path = tmp_path / "does_not_exist.asc"
    with pytest.raises(OSError) as info:
        asciigrid.read(str(path))
    assert not isinstance(info.value, asciigrid.ParseError)
    assert isinstance(info.value, FileNotFoundError)
    assert "does_not_exist.asc" in str(info.value)


def test_missing_file_in_read_header_and_stats(tmp_path: Path) -> None:
    path = str(tmp_path / "does_not_exist.asc")
    with pytest.raises(FileNotFoundError):
        asciigrid.read_header(path)
    with pytest.raises(FileNotFoundError):
        asciigrid.stats(path)


def test_directory_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError) as info:
        asciigrid.read(str(tmp_path))
    assert not isinstance(info.value, asciigrid.ParseError)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_unreadable_file_is_an_os_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.asc"
    path.write_text(H + ROWS)
    path.chmod(0)
    with pytest.raises(PermissionError):
        asciigrid.read(str(path))


# --- generated: any garbage token is found where it is ----------------------------------------

GARBAGE = st.sampled_from(["x4", "abc", "4x", "1.2.3", "--1", "1e", "+-3", "#", "1,2,3", "N/A"])


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ncols=st.integers(1, 9),
    nrows=st.integers(1, 9),
    data=st.data(),
    eol=st.sampled_from(["\n", "\r\n"]),
    per_line=st.integers(1, 12),
)
def test_generated_garbage_is_located(
    tmp_path: Path, ncols: int, nrows: int, data: st.DataObject, eol: str, per_line: int
) -> None:
    n = ncols * nrows
    tokens = [str(v) for v in data.draw(st.lists(st.integers(-999, 999), min_size=n, max_size=n))]
    where = data.draw(st.integers(0, n - 1))
    garbage = data.draw(GARBAGE)
    tokens[where] = MARK + garbage
    lines = [" ".join(tokens[i : i + per_line]) for i in range(0, n, per_line)]
    header = f"ncols {ncols}{eol}nrows {nrows}{eol}xllcorner 0{eol}yllcorner 0{eol}cellsize 1{eol}"
    text, position = strip_mark(header + eol.join(lines) + eol)
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read(text)
    assert (info.value.line, info.value.column) == position, str(info.value)
    # A first body line starting with a letter is a header line (GDAL's rule).
    starts_a_header_line = where == 0 and garbage[0].isalpha()
    expected = K.HEADER_KEYWORD_UNKNOWN if starts_a_header_line else K.BAD_VALUE
    assert info.value.kind is expected, str(info.value)


@settings(max_examples=200, deadline=None)
@given(
    junk=st.binary(max_size=300),
    cut=st.integers(0, 120),
)
def test_arbitrary_bytes_never_crash(junk: bytes, cut: int) -> None:
    """Truncated or corrupted files: a grid or a ParseError, never a panic or another error."""
    text = (H + ROWS).encode()
    for source in (junk, text[:cut] + junk, text + junk):
        try:
            grid = asciigrid.read(source)
        except asciigrid.ParseError as err:
            assert err.line >= 1 and err.column >= 1
            assert isinstance(err.kind, asciigrid.ErrorKind)
        except OSError:
            # Only a (corrupt) gzip stream may fail as I/O rather than as a parse error.
            assert source.startswith(b"\x1f\x8b")
        else:
            assert grid.data.shape == grid.shape


# --- kinds ---------------------------------------------------------------------------------


def test_error_kinds_are_the_engines() -> None:
    """Every kind the engine reports is a member of ``asciigrid.ErrorKind`` and back, with
    its stable lowercase value."""
    from asciigrid import _native

    assert sorted(_native.error_kinds()) == sorted(k.value for k in asciigrid.ErrorKind)
    for kind in asciigrid.ErrorKind:
        assert kind.value == kind.name.lower()
        assert asciigrid.ErrorKind(kind.value) is kind


def test_a_caller_branches_on_the_kind() -> None:
    """The example of ``ParseError``'s documentation: a value too wide for Int32 is read
    again as float64, any other error is not."""
    text = (H + "1 2 3 4\n5 2147483648 7 8\n9 10 11 12\n").encode()

    def read_widening(data: bytes) -> asciigrid.Grid:
        try:
            return asciigrid.read(data)
        except asciigrid.ParseError as err:
            if err.kind is not asciigrid.ErrorKind.DTYPE_TOO_NARROW:
                raise
            return asciigrid.read(data, dtype="float64")

    assert read_widening(text).data[1, 1] == 2147483648.0
    with pytest.raises(asciigrid.ParseError) as info:
        read_widening(CASES["garbage_token"].text())
    assert info.value.kind is K.BAD_VALUE


def test_a_parse_error_built_by_hand() -> None:
    """The four-argument form still works (kind ``None``); a kind is taken by value too."""
    err = asciigrid.ParseError("bad", "a.asc", 1, 2)
    assert err.kind is None and str(err) == "a.asc:1:2: bad"
    assert asciigrid.ParseError("bad", "a.asc", 1, 2, "too_few_values").kind is K.TOO_FEW_VALUES
    assert pickle.loads(pickle.dumps(err)).kind is None
    with pytest.raises(ValueError):
        asciigrid.ParseError("bad", "a.asc", 1, 2, "no_such_kind")
