"""Ctrl-C (issue #10, finding 3): a read is interrupted promptly, whatever it reads from and
whether or not a progress callback is given, and the interrupt surfaces as the
``KeyboardInterrupt`` Python raises for SIGINT, never as a panic.

The reads here come from a FIFO that a writer thread feeds one row at a time, so how far the
read got when the interrupt landed is counted in rows, not measured in seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")

NCOLS = 1000
NROWS = 100_000
ROW = (" ".join(f"{c}.5" for c in range(NCOLS)) + "\n").encode()
HEADER = f"ncols {NCOLS}\nnrows {NROWS}\nxllcorner 0\nyllcorner 0\ncellsize 1\n".encode()
# A row every 5 ms: the whole grid would take over 8 minutes to arrive.
ROW_PAUSE = 0.005
# Rows written after the signal before the reader must have given up: 100 rows = 0.5 s at
# full speed, and fewer when the machine is busy (the writer slows down with it).
ROWS_ALLOWED_AFTER_SIGNAL = 100

READER = """
import sys
import asciigrid
print("reading", flush=True)
try:
    asciigrid.{call}
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(3)
except BaseException as err:
    print(type(err).__module__, type(err).__qualname__, err, flush=True)
    sys.exit(4)
print("finished", flush=True)
"""


def start_reader(call: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", READER.format(call=call)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "reading"
    return proc


class RowFeeder(threading.Thread):
    """Writes the header, then rows slowly, until told to stop or the reader goes away."""

    def __init__(self, fifo: Path) -> None:
        super().__init__(daemon=True)
        self.fifo = fifo
        self.rows = 0
        self.started = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with open(self.fifo, "wb", buffering=0) as out:  # blocks until the reader opens
                out.write(HEADER)
                while not self.stop.is_set() and self.rows < NROWS:
                    out.write(ROW)
                    self.rows += 1
                    if self.rows == 20:
                        self.started.set()
                    self.stop.wait(ROW_PAUSE)
        except BrokenPipeError:
            pass
        finally:
            self.started.set()


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the reader did not stop after SIGINT (stdout {out!r}, stderr {err!r})")
    assert "PanicException" not in err, err
    return proc.returncode, out + err


@pytest.mark.parametrize(
    "call",
    [
        "read({fifo!r})",
        "read({fifo!r}, progress=lambda done, total: True)",
        "stats({fifo!r})",
    ],
    ids=["read", "read-with-progress", "stats"],
)
def test_sigint_stops_a_read_fed_slowly(tmp_path: Path, call: str) -> None:
    fifo = tmp_path / "grid.asc"
    os.mkfifo(fifo)
    proc = start_reader(call.format(fifo=str(fifo)))
    feeder = RowFeeder(fifo)
    feeder.start()
    assert feeder.started.wait(60)
    rows_at_signal = feeder.rows
    proc.send_signal(signal.SIGINT)
    code, output = finish(proc)
    rows_after = feeder.rows - rows_at_signal
    feeder.stop.set()
    feeder.join(10)
    assert code == 3, output
    assert rows_after <= ROWS_ALLOWED_AFTER_SIGNAL, (rows_after, output)


def test_sigint_stops_a_read_waiting_for_a_writer(tmp_path: Path) -> None:
    """Opening a FIFO nobody writes to waits in ``open``; Ctrl-C must still get through."""
    fifo = tmp_path / "nobody_writes.asc"
    os.mkfifo(fifo)
    proc = start_reader(f"read({str(fifo)!r})")
    # Let it reach the open before the signal (if it is not there yet, the interrupt lands in
    # Python code just before it, which is just as good a KeyboardInterrupt).
    threading.Event().wait(0.3)
    proc.send_signal(signal.SIGINT)
    code, output = finish(proc)
    assert code == 3, output
