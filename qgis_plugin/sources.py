"""Turn the user's INPUT files / FOLDER / PATTERN into the tiles the engine reads.

``.zip`` archives (given or found) are read in place, zips nested in zips included: members
are handed to the engine as ``asciigrid.NamedBytes`` named ``delivery.zip/inner.zip/tile.asc``
so every message points at the member. Nothing is extracted to disk. A member's text is
pulled through ``load`` (the plugin passes the engine's budgeted loader, so a zip bomb is a
reported tile, not a ``MemoryError``). Pure Python (zipfile, io), no QGIS import.
"""

from __future__ import annotations

import fnmatch
import inspect
import io
import os
import posixpath
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import IO, Any, Callable

__all__ = [
    "Collected",
    "Tile",
    "collect_tiles",
    "not_a_regular_file",
    "split_patterns",
    "zip_member_loader",
]

DEFAULT_PATTERN = "*.asc"

Load = Callable[[IO[bytes], str, int], bytes]
"""``load(member_file, name, compressed_size)``: the text of an open zip member (raises
``ValueError`` for one that cannot be a grid, e.g. a decompression bomb)."""


def _read_whole(member: IO[bytes], name: str, compressed_size: int) -> bytes:
    return member.read()


def _accepts_keyword(function: Callable[..., Any], keyword: str) -> bool:
    try:
        return keyword in inspect.signature(function).parameters
    except (TypeError, ValueError):  # no signature to inspect: assume the older form
        return False


def zip_member_loader(engine: ModuleType) -> Load:
    """The engine's budgeted loader (``asciigrid.NamedBytes.from_file``) as a ``Load``.

    Engines that take the member's ``compressed_size`` refuse a member whose header claims
    more than its compressed bytes can hold before inflating it (a 3 MB member claiming
    2147483647² cells); older engines only get the name.
    """
    from_file = getattr(engine.NamedBytes, "from_file", None)
    if from_file is None:  # an engine older than the loader
        return _read_whole
    if not _accepts_keyword(from_file, "compressed_size"):
        return lambda member, name, compressed_size: bytes(from_file(member, name).data)

    def load(member: IO[bytes], name: str, compressed_size: int) -> bytes:
        return bytes(from_file(member, name, compressed_size=compressed_size).data)

    return load


def not_a_regular_file(path: str) -> str | None:
    """Why ``path`` cannot be read as a grid or an archive (``None`` for a regular file):
    "file not found", "is a folder", "is a character device (not a regular file)"..."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "is a broken symbolic link" if os.path.islink(path) else "file not found"
    except OSError as err:
        return err.strerror or str(err)
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    kinds = (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    return f"is {kind}, not a regular file"


@dataclass(frozen=True)
class Tile:
    """One grid: a file on disk (``path``) or a zip member (``data``)."""

    name: str
    """What messages call it: the path, or ``archive.zip/inner.zip/member.asc``."""
    path: str | None = None
    data: bytes | None = None
    prj_text: str | None = None
    """For zip members: the text of the sibling ``.prj`` member, if any."""

    def source(self, engine: ModuleType) -> str | Any:
        """What :mod:`asciigrid` reads: the path, or ``NamedBytes(name, data)`` (with the
        ``.prj`` text too when the engine's ``NamedBytes`` has a ``prj`` field, so it can
        compare the tiles' CRSs)."""
        if self.path is not None:
            return self.path
        if "prj" in getattr(engine.NamedBytes, "_fields", ()):
            return engine.NamedBytes(self.name, self.data, self.prj_text)
        return engine.NamedBytes(self.name, self.data)

    def prj(self, engine: ModuleType) -> str | None:
        """The raw text of the tile's ``.prj`` sidecar (beside it on disk or in its zip)."""
        if self.path is not None:
            return engine.crs.read_prj(self.path)
        return self.prj_text

    def size(self) -> int:
        """Bytes to read (for progress)."""
        if self.data is not None:
            return len(self.data)
        try:
            return os.path.getsize(self.path or "")
        except OSError:
            return 0


@dataclass
class Collected:
    tiles: list[Tile]
    problems: list[tuple[str, str]]
    """``(name, reason)`` for inputs that could not even be opened (missing file, bad zip)."""


def split_patterns(pattern: str) -> list[str]:
    """``"*.asc; *.txt"`` → ``["*.asc", "*.txt"]`` (empty → the default ``*.asc``)."""
    parts = [p.strip() for p in (pattern or "").split(";")]
    return [p for p in parts if p] or [DEFAULT_PATTERN]


def _matches(name: str, patterns: list[str]) -> bool:
    base = posixpath.basename(name.replace("\\", "/")).lower()
    return any(fnmatch.fnmatchcase(base, p.lower()) for p in patterns)


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def _sibling_prj(names: dict[str, str], member: str) -> str | None:
    """The member name of ``member``'s ``.prj`` (same folder and stem), any case."""
    stem = posixpath.splitext(member[:-3] if member.lower().endswith(".gz") else member)[0]
    return names.get(f"{stem}.prj".lower())


def _walk_zip(
    archive: zipfile.ZipFile,
    label: str,
    patterns: list[str],
    out: Collected,
    cancelled: Callable[[], bool],
    load: Load,
) -> None:
    members = [i for i in archive.infolist() if not i.is_dir()]
    lower_names = {i.filename.lower(): i.filename for i in members}
    for info in sorted(members, key=lambda i: i.filename):
        if cancelled():
            return
        name = f"{label}/{info.filename}"
        try:
            if _is_zip_name(info.filename):
                inner = io.BytesIO(archive.read(info))
                with zipfile.ZipFile(inner) as nested:
                    _walk_zip(nested, name, patterns, out, cancelled, load)
            elif _matches(info.filename, patterns):
                prj_member = _sibling_prj(lower_names, info.filename)
                prj = (
                    archive.read(prj_member).decode("utf-8", errors="replace")
                    if prj_member
                    else None
                )
                with archive.open(info) as member:
                    data = load(member, name, info.compress_size)
                out.tiles.append(Tile(name=name, data=data, prj_text=prj))
        except ValueError as err:
            # From `load`: not a grid that can be read (a decompression bomb, a bad header).
            out.problems.append((name, str(err)))
        except MemoryError:
            out.problems.append((name, "not enough memory to read this zip member"))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError) as err:
            # RuntimeError: encrypted member; OSError/BadZipFile: damaged archive.
            out.problems.append((name, f"cannot read this zip member: {err}"))


def _add_zip(
    path: str, patterns: list[str], out: Collected, cancelled: Callable[[], bool], load: Load
) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            _walk_zip(archive, path, patterns, out, cancelled, load)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as err:
        out.problems.append((path, f"cannot open this zip archive: {err}"))


def collect_tiles(
    inputs: Iterable[str],
    folder: str | None,
    pattern: str = DEFAULT_PATTERN,
    cancelled: Callable[[], bool] = lambda: False,
    load: Load = _read_whole,
) -> Collected:
    """Every tile, in a stable order: INPUT in the order given, then FOLDER (searched
    recursively, sorted by path). A file given in INPUT is taken whatever its name; zips
    (given or found) contribute the members that match ``pattern``, their text pulled
    through ``load``. Duplicates are dropped.
    """
    patterns = split_patterns(pattern)
    out = Collected(tiles=[], problems=[])
    paths: list[str] = []
    for item in inputs:
        if item:
            paths.append(str(item))
    if folder:
        if not os.path.isdir(folder):
            out.problems.append((folder, "FOLDER is not a folder"))
        else:
            found: list[str] = []
            for root, dirs, files in os.walk(folder):
                dirs.sort()
                found.extend(
                    os.path.join(root, f) for f in files if _is_zip_name(f) or _matches(f, patterns)
                )
            paths.extend(sorted(found))
    seen: set[str] = set()
    for path in paths:
        if cancelled():
            break
        key = os.path.normcase(os.path.abspath(path))
        if key in seen:
            continue
        seen.add(key)
        problem = not_a_regular_file(path)
        if problem is not None:
            out.problems.append((path, problem))
        elif _is_zip_name(path):
            _add_zip(path, patterns, out, cancelled, load)
        else:
            out.tiles.append(Tile(name=path, path=path))
    return out
