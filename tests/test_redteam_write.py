"""Issue #10, writing grids: findings 7, 8, 9, 11, 14 and the writer's part of 19.

Each test failed on the code before the fix (see the finding's number in its docstring).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asciigrid
import numpy as np
import pytest
from gdal_reference import assert_same_values, gdal_read, ogc_wkt, same_crs
from unprivileged import as_unprivileged_user

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file semantics")

GT = (0.0, 1.0, 0.0, 2.0, 0.0, -1.0)


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# --- 7: the temporary files ----------------------------------------------------------------

PLANT_AND_WRITE = """
import os, sys
import numpy as np
import asciigrid

folder, victim, crs = sys.argv[1], sys.argv[2], sys.argv[3]
# The names the writer used to take: predictable from the pid and a counter that starts at 0
# in a new process (and '.g.prj.<pid>.tmp' for the .prj).
for n in range(8):
    os.symlink(victim, os.path.join(folder, f".g.asc.{os.getpid()}.{n}.tmp"))
os.symlink(victim, os.path.join(folder, f".g.prj.{os.getpid()}.tmp"))
asciigrid.write(os.path.join(folder, "g.asc"), np.ones((2, 2), np.int32),
                geotransform=(0, 1, 0, 2, 0, -1), crs_wkt=crs)
"""


def test_links_planted_at_temporary_names_are_not_followed(tmp_path: Path) -> None:
    """7: someone who can write in the folder plants symlinks where the temporary files go:
    the victim was overwritten with grid text and the output became a link to it."""
    folder = tmp_path / "shared"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    subprocess.run(
        [sys.executable, "-c", PLANT_AND_WRITE, str(folder), str(victim), ogc_wkt(4326)], check=True
    )
    assert victim.read_text() == "precious\n"
    for name in ("g.asc", "g.prj"):
        assert stat.S_ISREG(os.lstat(folder / name).st_mode), f"{name} is not a regular file"
    assert_same_values(asciigrid.read(folder / "g.asc").data, np.ones((2, 2), np.int32))


def test_a_link_at_the_chosen_temporary_name_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """7: even a link planted at exactly the name the .prj writer picks is not followed: the
    file is created exclusively, and another name is drawn."""
    import secrets

    tokens = iter(["planted", "fresh"])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(tokens))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / ".g.prj.planted.tmp").symlink_to(victim)
    asciigrid.crs.write_prj(tmp_path / "g.asc", ogc_wkt(4326))
    assert victim.read_text() == "precious\n"
    assert stat.S_ISREG(os.lstat(tmp_path / "g.prj").st_mode)
    assert same_crs(asciigrid.crs.esri_to_wkt((tmp_path / "g.prj").read_text()), ogc_wkt(4326))


# --- 8: permissions --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444, 0o604])
@pytest.mark.parametrize("which", ["g.asc", "g.prj"])
def test_rewrite_keeps_the_mode(tmp_path: Path, mode: int, which: str) -> None:
    """8: a 0600 grid became 0644 after `write()` (its .prj likewise). Root writes 0444 files
    too (as `open(path, "w")` does for root); see the next test for everyone else."""
    grid = tmp_path / "g.asc"
    asciigrid.write(grid, np.ones((2, 2), np.int32), geotransform=GT, crs_wkt=ogc_wkt(4326))
    (tmp_path / which).chmod(mode)
    if not os.access(tmp_path / which, os.W_OK):
        pytest.skip("an unprivileged user cannot write a read-only file")
    asciigrid.write(grid, np.zeros((3, 3), np.int32), geotransform=GT, crs_wkt=ogc_wkt(32633))
    assert stat.S_IMODE(os.stat(tmp_path / which).st_mode) == mode
    assert asciigrid.read(grid).shape == (3, 3)
    assert listing(tmp_path) == ["g.asc", "g.prj"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_grid_gets_the_umask_mode(tmp_path: Path, umask: int) -> None:
    """8: new files get what `open(path, "w")` gives them (0666 & ~umask), .prj included."""
    old = os.umask(umask)
    try:
        asciigrid.write(
            tmp_path / "n.asc", np.ones((1, 1), np.int32), geotransform=GT, crs_wkt=ogc_wkt(4326)
        )
        with open(tmp_path / "reference", "w"):
            pass
    finally:
        os.umask(old)
    expected = stat.S_IMODE(os.stat(tmp_path / "reference").st_mode)
    assert expected == 0o666 & ~umask
    for name in ("n.asc", "n.prj"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == expected


READ_ONLY_CHILD = """
import json, os, sys
import numpy as np
try:
    import asciigrid
except ImportError:
    sys.exit(3)
target, other = sys.argv[1], sys.argv[2]
try:
    open(other, "a").close()
    refused_by_open = False
except PermissionError:
    refused_by_open = True
try:
    asciigrid.write(target, np.zeros((3, 3), np.int32), geotransform=(0, 1, 0, 3, 0, -1),
                    crs_wkt=sys.argv[3])
    print(json.dumps({"refused_by_open": refused_by_open, "error": None}))
except OSError as e:
    print(json.dumps({"refused_by_open": refused_by_open, "error": type(e).__name__,
                      "filename": e.filename}))
"""


@pytest.fixture
def unprivileged_folder() -> Iterator[tuple[Path, dict[str, Any]]]:
    """A folder the test's writer owns, and `subprocess` arguments that run a child as that
    writer: the test's own user, or `nobody` when the tests run as root (root may write
    read-only files; the rule under test is about users who may not)."""
    folder = Path(tempfile.mkdtemp(prefix="ro-"))
    kwargs = as_unprivileged_user()
    if kwargs:
        os.chown(folder, kwargs["user"], kwargs["group"])
    try:
        yield folder, kwargs
    finally:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


@pytest.mark.parametrize("read_only", ["g.asc", "g.prj"])
def test_a_read_only_target_is_refused_like_open(
    unprivileged_folder: tuple[Path, dict[str, Any]], read_only: str
) -> None:
    """8: a 0444 grid (or its .prj) was silently replaced: `open(path, "w")` refuses it, so
    `write()` must too, naming it, and leave both files as they were."""
    folder, as_user = unprivileged_folder
    grid = folder / "g.asc"
    asciigrid.write(grid, np.ones((2, 2), np.int32), geotransform=GT, crs_wkt=ogc_wkt(4326))
    if as_user:
        for name in ("g.asc", "g.prj"):
            os.chown(folder / name, as_user["user"], as_user["group"])
    (folder / read_only).chmod(0o444)
    before = {name: (folder / name).read_bytes() for name in ("g.asc", "g.prj")}
    try:
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                READ_ONLY_CHILD,
                str(grid),
                str(folder / read_only),
                ogc_wkt(32633),
            ],
            capture_output=True,
            text=True,
            **as_user,
        )
    except PermissionError:
        pytest.skip("the unprivileged user cannot run this Python")
    if child.returncode == 3:
        pytest.skip("the unprivileged user cannot import this checkout's asciigrid")
    assert child.returncode == 0, child.stderr
    outcome = json.loads(child.stdout)
    assert outcome["refused_by_open"], "the child can write a 0444 file: not unprivileged"
    assert outcome["error"] == "PermissionError"
    assert outcome["filename"] == str(folder / read_only)
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert listing(folder) == ["g.asc", "g.prj"]


# --- 9: grid and .prj together, or not at all ------------------------------------------------

FULL_DISK_CHILD = """
import json, resource, signal, sys
import numpy as np
import asciigrid

target, limit, rows, crs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] or None
data = np.arange(rows * 100, dtype=np.float64).reshape(rows, 100) * 0.1
# A file may not grow past `limit` bytes: a write beyond fails (EFBIG) as on a full disk.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    asciigrid.write(target, data, geotransform=(0, 1, 0, rows, 0, -1), crs_wkt=crs)
    print(json.dumps(None))
except OSError as e:
    print(json.dumps({"errno": e.errno, "filename": e.filename, "text": str(e)}))
"""

# A CRS whose .prj text is longer than the limit (osr keeps the name).
LONG_NAMED_CRS = ogc_wkt(4326).replace('"WGS 84"', '"' + "W" * 100_000 + '"', 1)


@pytest.mark.parametrize(
    ("rows", "crs", "fails"),
    [
        (1000, ogc_wkt(4326), "g.asc"),  # the grid does not fit
        (1000, "", "g.asc"),  # the grid does not fit, no .prj involved
        (2, LONG_NAMED_CRS, "g.prj"),  # the grid fits, its .prj does not
    ],
    ids=["grid-with-crs", "grid-alone", "prj"],
)
def test_full_disk_leaves_the_old_pair(tmp_path: Path, rows: int, crs: str, fails: str) -> None:
    """9: on a full disk the new grid stayed in place beside a 0-byte .prj temporary file, and
    the error named no file (19: or the hidden temporary file)."""
    grid = tmp_path / "g.asc"
    asciigrid.write(grid, np.ones((2, 2), np.int32), geotransform=GT, crs_wkt=ogc_wkt(3035))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK_CHILD, str(grid), str(64 * 1024), str(rows), crs],
        capture_output=True,
        text=True,
        check=True,
    )
    outcome = json.loads(child.stdout)
    assert outcome is not None, "the write did not fail: the limit did not bite"
    assert outcome["errno"] == errno.EFBIG
    assert outcome["filename"] == str(tmp_path / fails), outcome["text"]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_threads_rewriting_one_grid(tmp_path: Path) -> None:
    """9: 16 threads x 10 rewrites of one grid with a CRS gave 83 FileNotFoundErrors and left
    63 temporary files. Now: no error, no leftover, and the grid and .prj left behind come
    from the same call."""
    grid = tmp_path / "g.asc"
    crss = [ogc_wkt(e) for e in (4326, 32633, 2154, 3035)]
    errors: list[BaseException] = []

    def rewrite(i: int) -> None:
        try:
            for _ in range(10):
                asciigrid.write(
                    grid, np.full((4, 4), i, np.int32), geotransform=GT, crs_wkt=crss[i % 4]
                )
        except BaseException as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=rewrite, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert listing(tmp_path) == ["g.asc", "g.prj"]
    back = asciigrid.read(grid)
    writer = int(back.data[0, 0])
    assert (back.data == writer).all()
    assert same_crs(back.crs_wkt, crss[writer % 4])


def test_failed_prj_commit_restores_the_old_pair(tmp_path: Path) -> None:
    """9: when a rename of the commit fails (here the grid's target is a folder), the .prj
    already moved into place is put back: the old pair stays, nothing is left over."""
    (tmp_path / "g.asc").mkdir()
    (tmp_path / "g.prj").write_text("old\n")
    with pytest.raises(OSError) as raised:
        asciigrid.write(tmp_path / "g.asc", np.ones((2, 2)), geotransform=GT, crs_wkt=ogc_wkt(4326))
    assert raised.value.filename == str(tmp_path / "g.asc")
    assert (tmp_path / "g.prj").read_text() == "old\n"
    assert listing(tmp_path) == ["g.asc", "g.prj"]


# --- 11: what does not read back is refused ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kwargs", "problem"),
    [
        (np.array([[1, 16777217]], np.int32), {"nodata": -9999.5}, "not an int32 value"),
        (np.array([[1, 16777217]], np.int32), {"nodata": float("nan")}, "not an int32 value"),
        (np.array([[1, 16777217]], np.int32), {"nodata": 1e10}, "not an int32 value"),
        (np.array([[1.5, np.inf]], np.float32), {}, "is inf"),
        (np.array([[-np.inf, 1.5]], np.float32), {"nodata": -9999.0}, "is -inf"),
        (np.array([[1.0, 3e9]]), {"precision": 0}, "Int32 grid"),
        (np.array([[1.0, np.nan]]), {"precision": 0}, "Int32 grid"),
        (np.ones((4, 1)), {"geotransform": (0, 1, 0, -1.7e308, 0, -1e308)}, "overflows"),
        (np.ones((1, 4)), {"geotransform": (1.7e308, 1e308, 0, 1, 0, -1)}, "overflows"),
    ],
    ids=[
        "int-frac-nodata",
        "int-nan-nodata",
        "int-huge-nodata",
        "f32-inf",
        "f32-neg-inf",
        "precision0-3e9",
        "precision0-nan",
        "south-overflow",
        "east-overflow",
    ],
)
def test_what_would_not_read_back_is_refused(
    tmp_path: Path, data: np.ndarray, kwargs: dict[str, Any], problem: str
) -> None:
    """11: these were written and read back as other values (16777217 as 16777216, inf as
    3.4e38), or not at all (3e9 in an Int32 grid, `yllcorner -inf`)."""
    kwargs = {"geotransform": (0, 1, 0, 1, 0, -1), **kwargs}
    with pytest.raises(ValueError, match=problem):
        asciigrid.write(tmp_path / "x.asc", data, **kwargs)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64", "int16"])
def test_masked_cells_are_written_as_nodata(tmp_path: Path, dtype: str) -> None:
    """11: a masked array's mask was dropped: the hidden values were written as data."""
    data = np.ma.array(
        np.arange(6, dtype=dtype).reshape(2, 3), mask=[[0, 1, 0], [1, 0, 0]], dtype=dtype
    )
    path = tmp_path / "m.asc"
    asciigrid.write(path, data, geotransform=GT, nodata=-9999)
    back = asciigrid.read(path, dtype="float64" if dtype == "float64" else None)
    np.testing.assert_array_equal(back.masked().mask, data.mask)
    np.testing.assert_array_equal(back.masked().compressed(), data.compressed())
    ref = gdal_read(path)
    np.testing.assert_array_equal(ref.array == ref.nodata, data.mask)


@pytest.mark.parametrize(
    ("nodata", "problem"),
    [(None, "pass nodata"), (1, "not masked but holds the nodata"), (0.5, "cannot be stored")],
)
def test_masked_cells_without_a_usable_nodata_are_refused(
    tmp_path: Path, nodata: float | None, problem: str
) -> None:
    """11: masked cells need a nodata value that no valid cell holds and the type can store."""
    data = np.ma.array([[1, 2]], mask=[[0, 1]], dtype=np.int32)
    with pytest.raises(ValueError, match=problem):
        asciigrid.write(tmp_path / "m.asc", data, geotransform=GT, nodata=nodata)
    assert listing(tmp_path) == []


# --- 14: no stale .prj -----------------------------------------------------------------------


@pytest.mark.parametrize("old_prj", ["g.prj", "g.PRJ"])
@pytest.mark.parametrize("new_crs", [None, 32633])
def test_rewrite_leaves_no_stale_prj(tmp_path: Path, old_prj: str, new_crs: int | None) -> None:
    """14: rewriting a grid without `crs_wkt` kept its .prj: the new grid read back in the old
    CRS (and a `name.PRJ` stayed beside a new `name.prj`)."""
    grid = tmp_path / "g.asc"
    asciigrid.write(grid, np.ones((2, 2), np.int32), geotransform=GT)
    (tmp_path / old_prj).write_text(ogc_wkt(4326))
    asciigrid.write(
        grid,
        np.ones((2, 2), np.int32),
        geotransform=GT,
        crs_wkt=None if new_crs is None else ogc_wkt(new_crs),
    )
    back = asciigrid.read(grid)
    if new_crs is None:
        assert listing(tmp_path) == ["g.asc"]
        assert back.prj is None
        assert gdal_read(grid).wkt == ""
    else:
        assert listing(tmp_path) == ["g.asc", "g.prj"]
        assert same_crs(back.crs_wkt, ogc_wkt(new_crs))


# --- 19: names and arguments ------------------------------------------------------------------


@pytest.mark.parametrize("length", [245, 255])
def test_long_names_can_be_written(tmp_path: Path, length: int) -> None:
    """19: the temporary name (`.name.<pid>.<n>.tmp`) passed 255 bytes for names of 240+."""
    path = tmp_path / ("x" * (length - 4) + ".asc")
    asciigrid.write(path, np.ones((2, 2), np.int32), geotransform=GT, crs_wkt=ogc_wkt(4326))
    assert_same_values(asciigrid.read(path).data, np.ones((2, 2), np.int32))
    assert listing(tmp_path) == sorted([path.name, path.with_suffix(".prj").name])


def test_non_utf8_names_still_work(tmp_path: Path) -> None:
    """19: `write` to a name that is not UTF-8 worked; it must keep working."""
    name = os.fsdecode(b"gr\xffd.asc")
    asciigrid.write(
        tmp_path / name, np.ones((2, 2), np.int32), geotransform=GT, crs_wkt=ogc_wkt(4326)
    )
    assert sorted(os.listdir(os.fsencode(tmp_path))) == [b"gr\xffd.asc", b"gr\xffd.prj"]


@pytest.mark.parametrize(
    ("path", "kwargs", "problem"),
    [
        ("", {}, "path is empty"),
        ("x.asc", {"precision": -1}, "precision must be"),
    ],
)
def test_bad_arguments_are_value_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, kwargs: dict[str, Any], problem: str
) -> None:
    """19: `write('')` said "Device or resource busy: '.'"; `precision=-1` raised
    OverflowError."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=problem):
        asciigrid.write(path, np.ones((2, 2)), geotransform=GT, **kwargs)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("dtype", [">i4", ">f4", ">f8", ">i2"])
def test_big_endian_arrays_are_written(tmp_path: Path, dtype: str) -> None:
    """19: a big-endian array was refused as "not C-contiguous"."""
    data = (np.arange(6).reshape(2, 3) * 3).astype(dtype)
    path = tmp_path / "be.asc"
    asciigrid.write(path, data, geotransform=GT)
    back = asciigrid.read(path, dtype="float64" if dtype == ">f8" else None)
    np.testing.assert_array_equal(back.data, data)
