"""Work counted, never timed: how many bytes this process read and wrote (as the kernel counts
them in ``/proc/self/io``: every read and write call, page cache included, by every thread),
and how far its resident memory peaked above where it started. A busy machine makes a call
slower, never make it read, write or hold more, so a bound on these does not flake; a call
that goes on working when it should have stopped still exceeds it.

Shared by the engine suite and the plugin suite (``tests/`` is on pytest's ``pythonpath``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple

import pytest

MB = 1 << 20

needs_proc_io = pytest.mark.skipif(
    not Path("/proc/self/io").exists(), reason="counts bytes read with Linux's /proc/self/io"
)


def _io(field: str) -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/io")


def bytes_read() -> int:
    """Bytes this process has read so far (read and pread calls, page cache included)."""
    return _io("rchar")


def bytes_read_and_written() -> int:
    """Bytes this process has read and written so far (all read and write calls)."""
    return _io("rchar") + _io("wchar")


class Work(NamedTuple):
    """What a block of code cost."""

    bytes_read: int
    extra_bytes: int | None
    """How far the process's resident memory rose above where it started (Linux only)."""


def _status(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    assert match is not None
    return int(match.group(1)) * 1024


@contextmanager
def counted() -> Iterator[list[Work]]:
    """The bytes read and the peak memory of the block, appended to the yielded list when the
    block ends (``clear_refs`` resets the peak, Linux >= 4.0)."""
    out: list[Work] = []
    try:
        Path("/proc/self/clear_refs").write_text("5")
        base: int | None = _status("VmRSS")
    except OSError:
        base = None
    before = bytes_read()
    yield out
    read = bytes_read() - before
    out.append(Work(read, None if base is None else _status("VmHWM") - base))


def assert_bounded(work: Work, megabytes: float, read_megabytes: float | None = None) -> None:
    """At most ``megabytes`` of extra memory and, if given, ``read_megabytes`` read."""
    if work.extra_bytes is not None:
        assert work.extra_bytes < megabytes * MB, f"used {work.extra_bytes / MB:.0f} MB"
    if read_megabytes is not None:
        assert work.bytes_read < read_megabytes * MB, f"read {work.bytes_read / MB:.1f} MB"


class CountingReader:
    """A file object handing over what ``inner.read`` gives, counting the bytes it handed
    over: for a decompressing file object (``gzip.open``, ``ZipFile.open``) the text it
    inflated for the caller, which ``/proc/self/io`` does not see."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.handed_over = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.handed_over += len(data)
        return data
