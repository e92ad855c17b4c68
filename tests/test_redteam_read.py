"""Issue #10, the engine's read path: inputs an adversarial pass found to abort the process,
to take quadratic time, or to be read without a budget (see docs/ROBUSTNESS.md).

Large inputs are sparse files (``truncate`` makes runs of NUL bytes that take no disk) or
streams that count what they hand over; work is counted (bytes read, as the kernel counts
them in ``/proc/self/io``, or bytes a writer got rid of), never timed.
"""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import asciigrid
import pytest
from measure_work import MB, bytes_read, needs_proc_io

HEADER_2x2 = b"ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
# Reads of 4 MiB and more go window by window (WINDOWED_MIN in native/core/src/window.rs).
WINDOWED = 4 * MB


def error_and_bytes_read(call: Callable[[], Any]) -> tuple[Exception, int]:
    before = bytes_read()
    with pytest.raises(Exception) as info:
        call()
    return info.value, bytes_read() - before


# --- Finding 2: long tokens and NUL runs ----------------------------------------------------


@needs_proc_io
@pytest.mark.parametrize("reader", [asciigrid.read, asciigrid.stats])
def test_a_nul_run_after_a_grid_is_refused_after_a_few_windows(
    tmp_path: Path, reader: Callable[[str], Any]
) -> None:
    """A valid 2 x 2 grid followed by 64 MiB of NUL bytes (sparse: no disk). The windowed
    reader grew its window 16-fold per chunk over the run, re-reading it from every chunk:
    quadratic (300 MB took 39 s, 8 GB aborted). Now the first chunk without a separator ends
    the survey: a few MiB are read, and the NUL is named where it starts."""
    path = tmp_path / "nul.asc"
    with path.open("wb") as f:
        f.write(HEADER_2x2 + b"1 2 3 4 ")
        f.truncate(64 * MB)
    err, read = error_and_bytes_read(lambda: reader(str(path)))
    assert isinstance(err, asciigrid.ParseError), err
    assert (err.line, err.column) == (6, 9) and err.kind is asciigrid.ErrorKind.NOT_TEXT
    assert read < 16 * MB, read


@needs_proc_io
def test_a_long_token_is_refused_after_reading_little_more_than_it_needs(
    tmp_path: Path,
) -> None:
    """One 24 MiB token: every windowed chunk inside it re-read the token to its end."""
    path = tmp_path / "token.asc"
    path.write_bytes(HEADER_2x2 + b"1 2 3 " + b"7" * (24 * MB) + b"\n")
    err, read = error_and_bytes_read(lambda: asciigrid.read(str(path), dtype="float32"))
    assert isinstance(err, asciigrid.ParseError), err
    assert (err.line, err.column) == (6, 7)
    assert read < 16 * MB, read


@pytest.mark.parametrize("length", [401, 5 * MB, 24 * MB])
def test_a_token_longer_than_any_number_gets_one_message_from_every_reader(
    tmp_path: Path, length: int
) -> None:
    """The message was made from the whole token ("a token of 25165824 bytes"), and each
    reader saw a different part of it (stats an 8 MiB block). Now it is made from the first
    401 bytes, the most a number can need, and every way in says the same."""
    text = HEADER_2x2 + b"1 2 3 " + b"7" * length + b"\n"
    path = tmp_path / "token.asc"
    path.write_bytes(text)
    messages = set()
    for source in (str(path), asciigrid.NamedBytes(str(path), text)):
        for reader in (asciigrid.read, asciigrid.stats):
            with pytest.raises(asciigrid.ParseError) as info:
                reader(source, dtype="float32")
            messages.add(str(info.value))
    assert messages == {f"{path}:6:7: expected a number, found a token of more than 400 bytes"}


# --- Finding 5: FIFOs, pipes and devices ------------------------------------------------------


class Feeder(threading.Thread):
    """Writes a 1 x 2 header and then up to 64 MiB of values into a FIFO (or an open pipe),
    counting what the reader took (the write that fails once the reader is gone is not
    counted)."""

    def __init__(self, fifo: Path | None = None, pipe: Any = None) -> None:
        super().__init__(daemon=True)
        self.fifo = fifo
        self.pipe = pipe
        self.written = 0

    def run(self) -> None:
        block = b"1 " * (MB // 2)
        try:
            with self.pipe if self.fifo is None else self.fifo.open("wb") as f:
                f.write(b"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n")
                for _ in range(64):
                    f.write(block)
                    self.written += len(block)
        except (BrokenPipeError, ValueError):
            pass


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("reader", [asciigrid.read, asciigrid.stats])
def test_a_fifo_is_read_within_the_budget(tmp_path: Path, reader: Callable[[str], Any]) -> None:
    """A FIFO fed a 1 x 2 header and endless values: its size (0) sent it to a read of
    everything (`stats` took 512 MiB before failing). Now a file that is not a regular file
    is a stream with the gzip budget: the third value is refused, a few MiB in."""
    fifo = tmp_path / "grid.fifo"
    os.mkfifo(fifo)
    feeder = Feeder(fifo)
    feeder.start()
    with pytest.raises(asciigrid.ParseError) as info:
        reader(str(fifo))
    feeder.join(timeout=30)
    assert not feeder.is_alive()
    assert (info.value.line, info.value.column) == (6, 5), info.value
    assert info.value.kind is asciigrid.ErrorKind.TOO_MANY_VALUES
    assert feeder.written < 16 * MB, feeder.written


CHILD_READS_STDIN = """
import sys
import asciigrid
try:
    getattr(asciigrid, sys.argv[1])("/dev/stdin")
    print("read")
except Exception as err:
    print(type(err).__name__, err)
sys.stdout.flush()
"""


@pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="needs /dev/stdin")
@pytest.mark.parametrize("reader", ["read", "stats"])
def test_dev_stdin_is_read_within_the_budget(reader: str) -> None:
    """`/dev/stdin` fed through a pipe, as in `producer | python script.py`."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_READS_STDIN, reader],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=False,
    )
    assert child.stdout is not None
    feeder = Feeder(pipe=child.stdin)
    feeder.start()
    out = child.stdout.read()
    child.wait(timeout=60)
    feeder.join(timeout=30)
    assert out.decode().startswith("ParseError /dev/stdin:6:5: more values than"), out
    assert feeder.written < 16 * MB, feeder.written


CHILD_READS_DEV_ZERO = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import asciigrid
reader = getattr(asciigrid, sys.argv[1])
try:
    reader("/dev/zero")
    print("read")
except Exception as err:
    print(type(err).__name__, err)
"""


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("reader", ["read", "read_header", "stats"])
def test_dev_zero_is_a_located_nul_byte(reader: str) -> None:
    """`/dev/zero` (size 0) was read to the end of memory. Now it is a stream, refused at
    its first byte. (Run in a child limited to 2 GiB of address space.)"""
    out = subprocess.run(
        [sys.executable, "-c", CHILD_READS_DEV_ZERO, reader],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-300:]
    assert out.stdout.startswith("ParseError /dev/zero:1:1: found a NUL byte"), out.stdout


# --- Finding 6: value bombs ---------------------------------------------------------------------


HUGE_HEADER = b"ncols 2147483647\nnrows 2147483647\nxllcorner 0\nyllcorner 0\ncellsize 1\n"


class CountingReader(io.RawIOBase):
    """A file object serving `head` and then up to `limit` bytes of `value` repeated,
    counting what it served."""

    def __init__(self, head: bytes, limit: int, value: bytes = b"1 ") -> None:
        self.head = head
        self.limit = limit
        self.value = value
        self.served = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        total = len(self.head) + self.limit
        n = min(n if n >= 0 else total, total - self.served, MB)
        out = bytearray()
        while len(out) < n:
            at = self.served + len(out)
            if at < len(self.head):
                out += self.head[at : at + n - len(out)]
            else:
                skip = (at - len(self.head)) % len(self.value)
                out += self.value[skip:][: n - len(out)]
        self.served += len(out)
        return bytes(out)


@pytest.fixture(scope="module")
def value_bomb() -> bytes:
    """A header claiming 2147483647² cells, then 64 MiB of real values: 64 KiB gzipped."""
    return gzip.compress(HUGE_HEADER + b"1 " * (32 * MB), compresslevel=9)


@pytest.mark.parametrize("reader", [asciigrid.read, asciigrid.stats])
def test_a_value_bomb_is_refused_after_its_header(
    tmp_path: Path, value_bomb: bytes, reader: Callable[[str], Any]
) -> None:
    """The bomb's values pass the per-value budget: `read` decompressed them (2 GB in the
    report) before finding the cells could not be allocated, `stats` streamed them all. Now
    the header alone is refused: its compressed size cannot hold that many values."""
    path = tmp_path / "bomb.asc.gz"
    path.write_bytes(value_bomb)
    with pytest.raises(asciigrid.ParseError) as info:
        reader(str(path))
    assert (info.value.line, info.value.column) == (6, 1), info.value
    assert info.value.kind is asciigrid.ErrorKind.TOO_FEW_VALUES
    # The message says why the header cannot be right.
    assert "deflate expands at most 1032-fold" in info.value.message


def test_a_zip_member_of_known_compressed_size_is_refused_after_its_header() -> None:
    """`NamedBytes.from_file(..., compressed_size=ZipInfo.compress_size)`: the member's
    compressed size bounds its text, so a header claiming more is refused unread."""
    member = CountingReader(HUGE_HEADER, 64 * MB)
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.NamedBytes.from_file(member, "a.zip/m.asc", compressed_size=70_000)
    assert (info.value.line, info.value.column) == (6, 1), info.value
    assert info.value.kind is asciigrid.ErrorKind.TOO_FEW_VALUES
    assert member.served < MB, member.served


def test_a_file_object_longer_than_its_compressed_size_allows_is_refused() -> None:
    """A stream that hands over more text than its stated compressed size can inflate to
    (2000 bytes: about 2 MiB), here values padded to 10 bytes each."""
    head = b"ncols 1000\nnrows 1000\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
    member = CountingReader(head, 16 * MB, b"1" + b" " * 9)
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.NamedBytes.from_file(member, "m.asc", compressed_size=2000)
    assert info.value.kind is asciigrid.ErrorKind.BUDGET_EXCEEDED
    assert member.served < 8 * MB


def test_a_file_object_whose_cells_memory_cannot_hold_is_refused_after_its_header() -> None:
    """Without a compressed size, the cells decide: 2147483647² cannot be allocated, so
    the body is not read (it was, then the allocation failed)."""
    member = CountingReader(HUGE_HEADER, 64 * MB)
    with pytest.raises(ValueError, match="do not fit in memory"):
        asciigrid.NamedBytes.from_file(member, "m.asc")
    assert member.served < MB, member.served


def test_compressed_size_keeps_a_real_grid_readable() -> None:
    """The bound refuses only what deflate cannot produce: a maximally compressible grid
    (all zeros) reads with its real compressed size."""
    text = b"ncols 1000\nnrows 1000\nxllcorner 0\nyllcorner 0\ncellsize 1\n" + b"0 " * 10**6
    packed = gzip.compress(text, compresslevel=9)
    got = asciigrid.NamedBytes.from_file(
        gzip.GzipFile(fileobj=io.BytesIO(packed)), "m.asc", compressed_size=len(packed) - 18
    )
    assert asciigrid.read(got).data.sum() == 0


# --- Finding 16: overflowing headers and histogram ranges ------------------------------------


@pytest.mark.parametrize(
    ("header", "where"),
    [
        (b"ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1e308\n", (3, 11)),
        (
            b"ncols 2\nnrows 2\nxllcenter 1.7976931348623157e308\nyllcenter 0\ncellsize 1e300\n",
            (3, 11),
        ),
        (b"ncols 2\nnrows 2\nxllcorner 0\nyllcorner 1.7e308\ncellsize 1e308\n", (3, 11)),
        (b"north: 1e308\nsouth: -1e308\neast: 1\nwest: 0\nrows: 2\ncols: 2\n", (1, 8)),
        (b"north: 1\nsouth: 0\neast: 1.7e308\nwest: -1.7e308\nrows: 2\ncols: 2\n", (3, 7)),
    ],
)
def test_a_header_whose_extent_overflows_is_a_located_error(
    header: bytes, where: tuple[int, int]
) -> None:
    """`cellsize 1e308` and the like gave a geotransform with inf and NaN bounds."""
    with pytest.raises(asciigrid.ParseError) as info:
        asciigrid.read_header(header + b"1 2 3 4\n")
    assert (info.value.line, info.value.column) == where, info.value
    assert info.value.kind is asciigrid.ErrorKind.HEADER_VALUE_INVALID
    assert "extent is not a finite number" in info.value.message


def test_a_histogram_range_wider_than_a_float64_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="wider than a float64"):
        asciigrid.stats(
            HEADER_2x2 + b"1 2 3 4\n", histogram_bins=4, histogram_range=(-1.7e308, 1.7e308)
        )


@pytest.mark.parametrize("bins", [0, -1, -(2**70)])
def test_histogram_bins_below_one_is_a_value_error(bins: int) -> None:
    """`histogram_bins=-1` raised OverflowError (finding 19)."""
    with pytest.raises(ValueError, match="histogram_bins must be at least 1"):
        asciigrid.stats(HEADER_2x2 + b"1 2 3 4\n", histogram_bins=bins)
