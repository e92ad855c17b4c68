"""Hostile input (issue #5): every file a user or an attacker can hand us gives exact values
or a located :class:`asciigrid.ParseError`, in bounded time and memory, through every way in.

- ``tests/data/bad/``: one small file per way a grid can be wrong (every "stricter than GDAL"
  rule of docs/FORMAT.md, encodings, bytes, numbers, broken gzip). :data:`BAD` says where each
  error must point; docs/ROBUSTNESS.md says what GDAL makes of each.
- Generated at test time (too big to commit): a 100 MB line, a 100 MB token, gzip bombs.
- Truncation at every byte of a small grid, plain and gzipped.
- Many threads reading at once get what one thread gets.

"Bounded" is counted, never timed: the memory a call holds and the bytes it reads
(tests/measure_work.py).

(test_errors.py checks the message and position of each rule in depth; here each file goes
through every reader: path, bytes, gzip, read_header, stats, mosaic.)
"""

from __future__ import annotations

import gzip
import io
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import asciigrid
import numpy as np
import pytest
from measure_work import MB, CountingReader, assert_bounded, counted

BAD_DIR = Path(__file__).resolve().parent / "data" / "bad"
K = asciigrid.ErrorKind


class Bad(NamedTuple):
    line: int
    column: int
    kind: asciigrid.ErrorKind
    """What the error must say is wrong."""
    in_header: bool = False
    """The problem is in the header, so read_header reports it too."""
    words: str = ""
    """A fragment the message must contain (case-insensitive): a few files check that the
    message says what and where."""


BAD: dict[str, Bad] = {
    # --- every "stricter than GDAL" rule of docs/FORMAT.md ---
    "garbage_token.asc": Bad(7, 3, K.BAD_VALUE),
    "too_few_values.asc": Bad(9, 1, K.TOO_FEW_VALUES, words="ends after 11 values"),
    "extra_values.asc": Bad(9, 1, K.TRAILING_CONTENT),
    "no_origin.asc": Bad(4, 1, K.HEADER_KEYWORD_MISSING, True),
    "half_origin.asc": Bad(3, 11, K.HEADER_KEYWORD_MISSING, True, words="'yllcorner' is missing"),
    "mixed_origin.asc": Bad(4, 11, K.HEADER_KEYWORD_CONFLICT, True),
    "cellsize_zero.asc": Bad(5, 10, K.HEADER_VALUE_INVALID, True),
    "cellsize_negative.asc": Bad(5, 10, K.HEADER_VALUE_INVALID, True),
    "cellsize_nan.asc": Bad(5, 10, K.HEADER_VALUE_INVALID, True),
    "cellsize_inf.asc": Bad(5, 10, K.HEADER_VALUE_INVALID, True),
    "dy_zero.asc": Bad(6, 4, K.HEADER_VALUE_INVALID, True),
    "ncols_decimal.asc": Bad(1, 7, K.HEADER_VALUE_INVALID, True),
    "nrows_zero.asc": Bad(2, 7, K.HEADER_VALUE_INVALID, True),
    "nrows_negative.asc": Bad(2, 7, K.HEADER_VALUE_INVALID, True),
    "duplicate_keyword.asc": Bad(6, 1, K.HEADER_KEYWORD_DUPLICATE, True),
    "unknown_keyword.asc": Bad(
        6, 1, K.HEADER_KEYWORD_UNKNOWN, True, words="unknown header keyword 'units'"
    ),
    "keyword_without_value.asc": Bad(6, 13, K.HEADER_VALUE_MISSING, True),
    "text_after_value.asc": Bad(5, 12, K.HEADER_SYNTAX, True),
    "int32_overflow.asc": Bad(7, 3, K.DTYPE_TOO_NARROW, words="outside the int32 range"),
    "int32_underflow.asc": Bad(8, 9, K.DTYPE_TOO_NARROW),
    "dimensions_past_int32.asc": Bad(1, 7, K.HEADER_VALUE_INVALID, True),
    "dimensions_too_big_for_file.asc": Bad(
        6, 1, K.TOO_FEW_VALUES, words="4000000000000000000 values"
    ),
    "empty.asc": Bad(1, 1, K.EMPTY, True),
    "whitespace_only.asc": Bad(1, 1, K.HEADER_KEYWORD_MISSING, True),
    "header_only.asc": Bad(6, 1, K.TOO_FEW_VALUES),
    "truncated_header.asc": Bad(3, 1, K.HEADER_KEYWORD_UNKNOWN, True),
    # --- bytes and encodings ---
    "nul_bytes.asc": Bad(1, 1, K.NOT_TEXT, True),
    "nul_in_body.asc": Bad(7, 3, K.NOT_TEXT),
    "latin1_in_body.asc": Bad(8, 9, K.BAD_VALUE),
    "latin1_in_header.asc": Bad(5, 1, K.HEADER_KEYWORD_UNKNOWN, True),
    "utf8_bom.asc": Bad(1, 1, K.NOT_TEXT, True),
    "utf16le_bom.asc": Bad(1, 1, K.NOT_TEXT, True),
    "utf16be_bom.asc": Bad(1, 1, K.NOT_TEXT, True),
    "utf16le_no_bom.asc": Bad(1, 1, K.HEADER_KEYWORD_UNKNOWN, True),
    "utf16be_no_bom.asc": Bad(1, 1, K.NOT_TEXT, True),
    "html_error_page.asc": Bad(1, 1, K.HEADER_KEYWORD_MISSING, True),
    "mixed_line_endings.asc": Bad(8, 6, K.BAD_VALUE),
    # A lone CR ends a header line (as for GDAL): 9 9 9 is the body, 1 5 3 is left over.
    # (Before the fix the line ran on to the LF, and 1 5 3 was read instead: R1.)
    "cr_hides_a_row.asc": Bad(7, 1, K.TRAILING_CONTENT),
    # --- numbers ---
    "exponent_overflow.asc": Bad(7, 5, K.BAD_VALUE),
    "exponent_overflow_negative.asc": Bad(8, 9, K.BAD_VALUE),
    "exponent_overflow_in_header.asc": Bad(3, 11, K.HEADER_VALUE_NOT_A_NUMBER, True),
    "hex_number.asc": Bad(7, 5, K.BAD_VALUE),
    "token_of_500_digits.asc": Bad(7, 5, K.DTYPE_TOO_NARROW),
    "fortran_d_exponent.asc": Bad(7, 5, K.BAD_VALUE),
    "null_in_int32_grid.asc": Bad(7, 5, K.DTYPE_TOO_NARROW),
    # --- broken gzip (GDAL reads the bad CRC one without a word) ---
    "gzip_truncated.asc.gz": Bad(1, 5, K.CORRUPT_COMPRESSED),
    "gzip_bad_crc.asc.gz": Bad(9, 1, K.CORRUPT_COMPRESSED, words="checksum"),
    "gzip_of_bad_grid.asc.gz": Bad(7, 3, K.BAD_VALUE),
}

# Errors only in the type GDAL's rule picks (Int32): read as floats, these are fine grids.
FINE_AS_FLOAT = {"int32_overflow.asc", "int32_underflow.asc", "null_in_int32_grid.asc"}

# read refuses these before parsing (the body cannot hold what the header promises); the
# streaming readers find the end of the text (or a bad value) instead.
TOO_SHORT_FOR_HEADER = {"dimensions_too_big_for_file.asc", "header_only.asc"}

# The memory one small bad file may take through one reader: next to nothing, whatever its
# header promises (a reader that allocated for the promise first would take gigabytes).
SMALL_FILE_MEGABYTES = 16


def test_the_corpus_is_what_the_table_says() -> None:
    on_disk = {p.name for p in BAD_DIR.iterdir()}
    assert on_disk == set(BAD), (sorted(on_disk - set(BAD)), sorted(set(BAD) - on_disk))
    assert max(p.stat().st_size for p in BAD_DIR.iterdir()) < 4096


def expect(err: asciigrid.ParseError, path: str, bad: Bad) -> None:
    assert isinstance(err, ValueError)
    assert err.path == path
    assert (err.line, err.column) == (bad.line, bad.column), str(err)
    assert err.kind is bad.kind, str(err)
    assert bad.words.lower() in err.message.lower(), str(err)
    assert str(err) == f"{path}:{bad.line}:{bad.column}: {err.message}"


@contextmanager
def small(what: str) -> Iterator[None]:
    """The block (one small bad file through one reader) holds next to no memory."""
    with counted() as work:
        yield
    extra = work[0].extra_bytes
    assert extra is None or extra < SMALL_FILE_MEGABYTES * MB, f"{what} used {extra / MB:.0f} MB"


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_by_path(name: str) -> None:
    # Strict: extra_values.asc and cr_hides_a_row.asc (complete rows, then values left over)
    # are otherwise read with a warning, as GDAL reads them (docs/FORMAT.md).
    path = str(BAD_DIR / name)
    with small("read"), pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read(path, strict=True)
    expect(info.value, path, BAD[name])
    if name in FINE_AS_FLOAT:
        assert asciigrid.read(path, dtype="float64").data.dtype == np.float64
        return
    for dtype in ("int32", "float32", "float64"):
        # Otherwise a forced type changes which values parse, never whether it is broken.
        with pytest.raises(asciigrid.ParseError):
            asciigrid.read(path, dtype=dtype, strict=True)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_every_way_in(name: str) -> None:
    bad = BAD[name]
    raw = (BAD_DIR / name).read_bytes()
    with small("bytes"), pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read(raw, strict=True)
    expect(info.value, "<bytes>", bad)
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read(asciigrid.NamedBytes("tiles.zip/" + name, raw), strict=True)
    expect(info.value, "tiles.zip/" + name, bad)
    if not name.endswith(".gz"):
        # Gzipped, the same error at the same place of the decompressed text.
        with small("gzip"), pytest.raises(asciigrid.ParseError) as info:
            asciigrid.read(asciigrid.NamedBytes(name + ".gz", gzip.compress(raw)), strict=True)
        expect(info.value, name + ".gz", bad)
    if bad.in_header:
        with small("read_header"), pytest.raises(asciigrid.ParseError) as info:
            asciigrid.read_header(raw)
        expect(info.value, "<bytes>", bad)
    elif not name.startswith("gzip_"):
        asciigrid.read_header(raw)
    # The streaming readers refuse it too (a body too short for its header is found where
    # the text ends, or at a bad value before that, instead of before parsing).
    with small("stats"), pytest.raises(asciigrid.ParseError) as info:
        asciigrid.stats(raw, strict=True)
    if name not in TOO_SHORT_FOR_HEADER:
        expect(info.value, "<bytes>", bad)


@pytest.mark.parametrize("name", ["garbage_token.asc", "utf16le_bom.asc", "gzip_truncated.asc.gz"])
def test_bad_tile_in_a_mosaic_is_named(tmp_path: Path, name: str) -> None:
    good = tmp_path / "good.asc"
    good.write_bytes(b"ncols 4\nnrows 3\nxllcorner 4\nyllcorner 0\ncellsize 1\n" + b"1 " * 12)
    path = str(BAD_DIR / name)
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.mosaic([str(good), path])
    assert info.value.path == path
    # Streaming with skip_errors keeps the good tile and names the bad one (if the bad one's
    # header is readable; otherwise it is listed as skipped).
    layout = asciigrid.mosaic_layout([str(good), path], skip_errors=True)
    failed = [n for n, _ in layout.skipped]
    for _, strip, bad_tiles in asciigrid.iter_mosaic_strips([str(good), path], skip_errors=True):
        failed += [n for n, _ in bad_tiles]
        assert (strip == 1).any()
    assert failed == [path]


CHILD_MOSAICS_FAR_APART_TILES = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import asciigrid
tile = "ncols 2\\nnrows 2\\nxllcorner {}\\nyllcorner {}\\ncellsize 1\\n1 2 3 4\\n"
far = asciigrid.NamedBytes("far.asc", tile.format(*sys.argv[1:]).encode())
near = asciigrid.NamedBytes("near.asc", tile.format(0, 0).encode())
try:
    asciigrid.mosaic([near, far])
    print("read")
except asciigrid.AsciiGridError as err:
    print(type(err).__name__, err)
"""


@pytest.mark.parametrize(
    "origin",
    [
        ("1e15", "0"),
        ("100000", "100000"),
        ("3000000000", "0"),
    ],
)
def test_tiles_far_apart_are_refused_not_a_crash(origin: tuple[str, str]) -> None:
    """Two 2 x 2 tiles, one with a typo in its origin: the union grid would have 10^10 to
    2 x 10^15 cells. The mosaic must be refused with an error naming the tile; it aborted
    the whole process (and QGIS with it) on `memory allocation of … bytes failed`.
    (Run in a child limited to 2 GiB of address space.)"""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", CHILD_MOSAICS_FAR_APART_TILES, *origin],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-300:]
    assert out.stdout.startswith("MosaicError") and "far.asc" in out.stdout, out.stdout


CHILD_ASKS_FOR_A_HUGE_HISTOGRAM = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import asciigrid
try:
    asciigrid.stats(b"ncols 2\\nnrows 1\\nxllcorner 0\\nyllcorner 0\\ncellsize 1\\n1 2\\n",
                    histogram_bins=10**12)
    print("computed")
except (ValueError, MemoryError) as err:
    print(type(err).__name__, err)
"""


def test_a_huge_histogram_is_an_error_not_a_crash() -> None:
    """`histogram_bins=10**12` (a typo, or a Processing parameter) must be refused; it
    aborted the process allocating 8 TB. (Run in a child limited to 2 GiB.)"""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", CHILD_ASKS_FOR_A_HUGE_HISTOGRAM],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout.startswith("ValueError"), out.stderr[-300:]


# --- truncation at every byte ---------------------------------------------------------------

SMALL = (
    b"NCOLS 3\r\nnrows 2\nxllcenter 100.5\nyllcenter -20.25\ncellsize 0.5\n"
    b"NODATA_value -9999\n 1.5 -9999 2.25e1\n-3 4,5 .5\n"
)


def last_token_span(text: bytes) -> tuple[int, int]:
    end = len(text.rstrip())
    return text.rfind(b" ", 0, end) + 1, end


@pytest.mark.parametrize("gzipped", [False, True])
def test_truncation_at_every_byte(gzipped: bool) -> None:
    """Every cut either fails with a located error, or (cut inside the last value or in the
    trailing blank) reads the grid with only that value shortened: the format has no length
    or checksum, so `12` cut to `1` cannot be told from a grid whose last value is 1."""
    full = asciigrid.read(SMALL)
    packed = gzip.compress(SMALL)
    start, end = last_token_span(SMALL)
    source = packed if gzipped else SMALL
    for cut in range(len(source)):
        try:
            got = asciigrid.read(source[:cut])
        except asciigrid.ParseError as err:
            assert err.path == "<bytes>" and err.line >= 1 and err.column >= 1
            if not gzipped:
                # The error points inside what is there (or just past it).
                lines = re.split(rb"\r\n|\r|\n", SMALL[:cut])
                assert err.line <= len(lines), (cut, str(err))
            continue
        assert not gzipped, f"a gzip stream cut at {cut} of {len(packed)} was read"
        assert cut > start, f"cut at {cut} read as a grid"
        assert got.geotransform == full.geotransform and got.nodata == full.nodata
        np.testing.assert_array_equal(got.data.ravel()[:-1], full.data.ravel()[:-1])
        want_last = np.float32(float(SMALL[start:cut].replace(b",", b".")))
        assert got.data.ravel()[-1] == want_last


# --- big and explosive inputs, generated here --------------------------------------------

HEADER_4x3 = b"ncols 4\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
ROWS_4x3 = b"1 2 3 4\n5 6 7 8\n9 10 11 12\n"


def parse_error_of(call: Any, *args: Any, **kwargs: Any) -> asciigrid.ParseError:
    with pytest.raises(asciigrid.ParseError) as info:
        call(*args, **kwargs)
    return info.value


@pytest.fixture
def big_file(tmp_path: Path) -> Iterator[Path]:
    """A path for a file of ~100 MB, deleted afterwards (pytest keeps old tmp folders)."""
    path = tmp_path / "big.asc"
    yield path
    path.unlink(missing_ok=True)


def test_a_large_read_needs_memory_for_its_cells_not_its_text(big_file: Path) -> None:
    """Files of 4 MiB and more are read window by window: a read's memory is its cells (plus
    a window per thread), statistics need next to nothing, whatever the size of the text; each
    reads the text twice at most (the survey, then the parse)."""
    rows, cols = 3000, 3000
    row = b" ".join(b"%d.%02d" % (100 + (c * 7) % 900, c % 100) for c in range(cols)) + b"\n"
    header = b"ncols %d\nnrows %d\nxllcorner 0\nyllcorner 0\ncellsize 1\n" % (cols, rows)
    big_file.write_bytes(header + row * rows)
    text_bytes = big_file.stat().st_size
    cells_bytes = rows * cols * 4
    assert text_bytes > 60 * MB
    with counted() as m:
        grid = asciigrid.read(big_file)
    assert grid.shape == (rows, cols) and grid.data.dtype == np.float32
    assert grid.data[-1, -1] == np.float32(float(row.split()[-1]))
    assert_bounded(m[0], (cells_bytes >> 20) + 16, read_megabytes=2 * text_bytes / MB + 4)
    del grid
    with counted() as m2:
        stats = asciigrid.stats(big_file)
    assert stats.count == rows * cols
    assert_bounded(m2[0], 16, read_megabytes=2 * text_bytes / MB + 4)


# The part of a 100 MB file a reader may read before it reports a problem found at its start:
# a reader that went through the rest first (to find line ends, say) reads it all.
EARLY = 25


def test_a_100mb_line_without_a_newline(big_file: Path) -> None:
    path = big_file
    path.write_bytes(HEADER_4x3 + b"1 " * (50 * MB))
    with counted() as m:
        err = parse_error_of(asciigrid.read, str(path))
    assert (err.line, err.column) == (6, 25) and err.kind is K.TOO_MANY_VALUES
    assert_bounded(m[0], 400, read_megabytes=EARLY)
    with counted() as m:
        err = parse_error_of(asciigrid.stats, str(path))
    assert (err.line, err.column) == (6, 25)
    assert_bounded(m[0], 100, read_megabytes=EARLY)
    assert asciigrid.read_header(str(path)).ncols == 4


def test_a_100mb_token(big_file: Path) -> None:
    path = big_file
    path.write_bytes(HEADER_4x3 + b"1 2 3 4 5 6 7 8 9 10 11 " + b"7" * (100 * MB))
    with counted() as m:
        err = parse_error_of(asciigrid.read, str(path))
    assert (err.line, err.column) == (6, 25) and err.kind is K.DTYPE_TOO_NARROW
    assert len(err.message) < 300
    assert_bounded(m[0], 400, read_megabytes=EARLY)


def test_a_100mb_header_line(big_file: Path) -> None:
    path = big_file
    path.write_bytes(b"ncols 4 " + b"x" * (100 * MB))
    with counted() as m:
        err = parse_error_of(asciigrid.read, str(path))
    assert (err.line, err.column) == (1, 9)
    assert_bounded(m[0], 400, read_megabytes=EARLY)
    with counted() as m:
        err = parse_error_of(asciigrid.read_header, str(path))
    assert err.line == 1
    assert_bounded(m[0], 100, read_megabytes=EARLY)


def gzip_bomb(head: bytes, block: bytes, copies: int) -> bytes:
    """``head`` then ``copies`` × ``block``, gzipped in a moment: gzip members concatenate,
    so one compressed block is repeated (4 GiB of text in about 4 MB)."""
    member = gzip.compress(block, 9)
    return gzip.compress(head, 9) + member * copies


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    made = {
        # 12 values, then 4 GiB of blanks.
        "blanks": gzip_bomb(HEADER_4x3 + ROWS_4x3, b" " * (4 * MB), 1024),
        # 4 GiB of values for a grid of 12.
        "values": gzip_bomb(HEADER_4x3, b"0 " * (2 * MB), 1024),
        # A header that claims 10^8 values, then 4 GiB of blanks. (A claim of more values
        # than the compressed size can hold is refused before the body: test_redteam_read.py.)
        "claims": gzip_bomb(
            HEADER_4x3.replace(b"4", b"10000").replace(b"3", b"10000"), b" " * (4 * MB), 1024
        ),
        # A header that never ends: 4 GiB of blank lines.
        "header": gzip_bomb(b"ncols 4\n", b"\n" * (4 * MB), 1024),
    }
    paths = {}
    for name, data in made.items():
        assert len(data) < 8 * MB
        paths[name] = folder / f"{name}.asc.gz"
        paths[name].write_bytes(data)
    return paths


@pytest.mark.parametrize(
    ("bomb", "where", "kind"),
    [
        ("blanks", (9, 12 * 512 + MB - len(ROWS_4x3) + 1), K.BUDGET_EXCEEDED),
        ("values", (6, 25), K.TOO_MANY_VALUES),
        ("claims", (6, 1 + MB), K.BUDGET_EXCEEDED),
        ("header", (16 * MB - 7 + 1, 1), K.HEADER_TOO_LONG),
    ],
)
def test_gzip_bomb_is_refused_after_reading_what_the_header_needs(
    bombs: dict[str, Path], bomb: str, where: tuple[int, int], kind: asciigrid.ErrorKind
) -> None:
    path = str(bombs[bomb])
    half = bombs[bomb].stat().st_size / 2 / MB
    for call in (asciigrid.read, asciigrid.stats, lambda p: asciigrid.mosaic([p])):
        with counted() as m:
            err = parse_error_of(call, path)
        assert err.path == path
        assert err.kind is kind, str(err)
        if call is asciigrid.read or bomb != "header":
            assert (err.line, err.column) == where, str(err)
        else:
            # (stats and mosaics read the header with read_header: see R4 in ROBUSTNESS.md)
            assert "header" in err.message, str(err)
        # What read and mosaic inflate they hold (the memory bounds it); stats streams the
        # text, and stopping where the budget ends, it reads part of the compressed file.
        assert_bounded(m[0], 200, read_megabytes=half if call is asciigrid.stats else None)


def test_gzip_bomb_as_bytes_and_file_object(bombs: dict[str, Path]) -> None:
    data = bombs["blanks"].read_bytes()
    with counted() as m:
        err = parse_error_of(asciigrid.read, data)
    assert err.kind is K.BUDGET_EXCEEDED and "decompression bomb" in err.message
    with open(bombs["blanks"], "rb") as f, counted() as m2:
        err = parse_error_of(asciigrid.read, f)
    assert err.path == str(bombs["blanks"])
    assert_bounded(m[0], 200)
    assert_bounded(m2[0], 200, read_megabytes=bombs["blanks"].stat().st_size / 2 / MB)


CHILD_READS_A_FILE_OBJECT = """
import gzip, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (640 << 20, 640 << 20))
import asciigrid
try:
    asciigrid.read(gzip.open(sys.argv[1]))
except asciigrid.ParseError as err:
    print("ParseError", err.line, err.column)
except MemoryError:
    print("MemoryError")
"""


def test_a_decompressing_file_object_is_read_within_the_budget(bombs: dict[str, Path]) -> None:
    """R8: a file object that decompresses (gzip.open, ZipFile.open) hands over the bomb's
    text, not its bytes: the engine pulls it in pieces, within the same budget, instead of
    `read()`-ing 4 GiB first. (Run in a child limited to 640 MiB of address space.)"""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", CHILD_READS_A_FILE_OBJECT, str(bombs["blanks"])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.split()[:1] == ["ParseError"], out.stdout + out.stderr[-500:]


def test_a_zip_member_bomb_is_refused_within_the_budget(tmp_path: Path) -> None:
    """R8 again, through ``ZipFile.open``: 12 values, then 1 GiB of blanks, deflated."""
    import zipfile

    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("tile.asc", "w", force_zip64=True) as member:
            member.write(HEADER_4x3 + ROWS_4x3)
            blanks = b" " * (4 * MB)
            for _ in range(256):
                member.write(blanks)
    assert path.stat().st_size < 8 * MB
    with zipfile.ZipFile(path) as archive, archive.open("tile.asc") as member, counted() as m:
        inflated = CountingReader(member)
        err = parse_error_of(asciigrid.read, inflated)
    assert err.kind is K.BUDGET_EXCEEDED
    assert_bounded(m[0], 200)
    # Pulled in pieces up to the budget, never the whole GiB.
    assert inflated.handed_over < 64 * MB, inflated.handed_over


class _Chunky:
    """A file object that ignores the size asked for and hands over `step` bytes a call."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def read(self, n: int = -1) -> bytes:
        piece = self.data[self.at : self.at + self.step]
        self.at += len(piece)
        return piece


@pytest.mark.parametrize("step", [1, 7, 100_000])
def test_file_objects_that_answer_any_size_read_like_the_bytes(step: int) -> None:
    text = HEADER_4x3 + ROWS_4x3
    want = asciigrid.read(text)
    got = asciigrid.read(_Chunky(text, step))
    assert np.array_equal(got.data, want.data) and got.header == want.header
    packed = gzip.compress(text)
    assert np.array_equal(asciigrid.read(_Chunky(packed, step)).data, want.data)


def test_an_exception_from_a_file_object_is_raised_as_it_is() -> None:
    class Failing:
        def read(self, n: int = -1) -> bytes:
            raise ConnectionResetError("the stream broke")

    with pytest.raises(ConnectionResetError, match="the stream broke"):
        asciigrid.read(Failing())
    # What gzip itself raises on a corrupt stream reaches the caller unchanged.
    corrupt = gzip.compress(HEADER_4x3 + ROWS_4x3)[:-12] + b"\xff" * 12

    def opened() -> gzip.GzipFile:
        return gzip.GzipFile(fileobj=io.BytesIO(corrupt))

    with pytest.raises(Exception) as direct:
        opened().read()
    with pytest.raises(type(direct.value)) as through:
        asciigrid.read(opened())
    assert type(through.value) is type(direct.value)


def test_read_header_of_a_bomb_reads_only_the_header(bombs: dict[str, Path]) -> None:
    with counted() as m:
        header = asciigrid.read_header(str(bombs["blanks"]))
    assert header.shape == (3, 4)
    assert_bounded(m[0], 50, read_megabytes=1)


# --- many threads ---------------------------------------------------------------------------


def outcome(source: Any, how: str) -> Any:
    """What one call gives, in a comparable form."""
    try:
        if how == "read":
            g = asciigrid.read(source)
            return ("grid", g.data.dtype.str, g.data.tobytes(), g.geotransform, repr(g.nodata))
        if how == "header":
            return ("header", repr(asciigrid.read_header(source)))
        return ("stats", repr(asciigrid.stats(source)))
    except asciigrid.ParseError as err:
        return ("error", err.path, err.line, err.column, err.message)


def test_many_threads_get_what_one_thread_gets(aaigrid_data: Path, big_grid: Path) -> None:
    sources: list[Any] = [str(p) for p in sorted(aaigrid_data.glob("*.asc"))]
    sources += [str(BAD_DIR / n) for n in sorted(BAD)]
    sources += [str(big_grid), gzip.compress(SMALL), SMALL]
    jobs = [(s, how) for s in sources for how in ("read", "header", "stats")]
    expected = [outcome(s, how) for s, how in jobs]
    errors = sum(e[0] == "error" for e in expected)
    assert 0 < errors < len(expected)
    barrier = threading.Barrier(8)

    def run(offset: int) -> list[Any]:
        barrier.wait()
        order = jobs[offset:] + jobs[:offset]
        got = [outcome(s, how) for s, how in order]
        return got[len(jobs) - offset :] + got[: len(jobs) - offset]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, [i * len(jobs) // 8 for i in range(8)]))
    for got in results:
        assert got == expected


# --- line ends GDAL accepts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        b"ncols 3\rnrows 1\rxllcorner 0\ryllcorner 0\rcellsize 1\r1 5 3\r",
        b"ncols 3\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\rNODATA_value 5\n1 5 3\n",
        b"ncols 3\r\nnrows 1\nxllcorner 0\r\nyllcorner 0\rcellsize 1\n\r\n1\r5\n3",
    ],
    ids=["cr_only", "cr_before_nodata", "all_mixed"],
)
def test_lone_cr_line_ends_read_like_gdal(tmp_path: Path, text: bytes) -> None:
    """A lone CR ends a line, as for GDAL: nothing after it is skipped (R1)."""
    from gdal_reference import gdal_read

    path = tmp_path / "cr.asc"
    path.write_bytes(text)
    ours, ref = asciigrid.read(path), gdal_read(path)
    np.testing.assert_array_equal(ours.data, ref.array)
    assert ours.data.dtype == ref.dtype
    assert ours.geotransform == ref.geotransform
    assert ours.nodata == ref.nodata


# --- what masked() calls nodata --------------------------------------------------------------


def test_forced_int32_with_a_fractional_nodata_masks_nothing() -> None:
    """nodata -9999.5 in a grid read as int32: no cell can equal it (GDAL: none is nodata),
    and stats agree; masked() cast it to -9999 and hid real data."""
    text = HEADER_4x3.replace(b"ncols 4", b"ncols 3").replace(b"nrows 3", b"nrows 1")
    text += b"NODATA_value -9999.5\n-9999 1 2\n"
    grid = asciigrid.read(text, dtype="int32")
    stats = asciigrid.stats(text, dtype="int32")
    assert isinstance(stats, asciigrid.Stats) and stats.nodata_count == 0
    assert grid.masked().count() == 3


# --- values that do not fit the output type ----------------------------------------------------


def test_write_refuses_integers_past_int32(tmp_path: Path) -> None:
    """An int64 array holding 2**40 was cast to int32 and written as 0, silently."""
    path = tmp_path / "w.asc"
    data = np.array([[2**40, 5]], dtype=np.int64)
    try:
        asciigrid.write(path, data, geotransform=(0, 1, 0, 0, 0, -1))
    except ValueError:
        assert not path.exists()
        return
    assert asciigrid.read(path, dtype="float64").data.tolist() == [[2.0**40, 5.0]]


GAPPED = [
    b"ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n7\n",
    b"ncols 1\nnrows 1\nxllcorner 2\nyllcorner 0\ncellsize 1\n8\n",
]


@pytest.mark.parametrize(
    ("dtype", "nodata"),
    [(None, float("nan")), (None, 1e20), (None, -9999.5), ("float32", 1e40)],
)
def test_mosaic_gaps_are_nodata_whatever_nodata_is_asked_for(
    dtype: str | None, nodata: float
) -> None:
    """The gap between two tiles must read as nodata. With a nodata the mosaic's type cannot
    hold (NaN, 1e20 or -9999.5 in an int32 mosaic, 1e40 in a float32 one), the gap was
    filled with 0, 2147483647, -9999 or FLT_MAX while `nodata` said otherwise: the gap read
    as real values. (Refusing such a nodata with ValueError is a fix too.)"""
    try:
        grid = asciigrid.mosaic(GAPPED, dtype=dtype, nodata=nodata)
    except ValueError:
        return
    gap = float(grid.data[0, 1])
    assert gap == grid.nodata or (np.isnan(gap) and np.isnan(float(grid.nodata)))
    assert grid.masked().mask.tolist() == [[False, True, False]]
