"""Turn the user's INPUT files / FOLDER / PATTERN into the tiles the engine reads.

``.zip`` archives (given or found) are handed to the engine (``asciigrid.archive_tiles``),
which lists the members matching PATTERN, zips nested in zips included, and decompresses
each one in Rust, within its decompression budget, only when the strip that needs it is
read. Messages name a member ``delivery.zip/inner.zip/tile.asc``. Nothing is extracted to
disk. No QGIS import.

What counts as a grid is one rule for INPUT, FOLDER and the dialog's "Add Directory…"
(:func:`find_in_folder`): a name matching PATTERN, or a zip; never a hidden file or a
sidecar (``.prj``, ``.aux.xml``, ...), which a user who picks a whole folder adds by
accident and which would otherwise fail as bad tiles.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

__all__ = [
    "Collected",
    "Tile",
    "collect_tiles",
    "find_in_folder",
    "is_candidate",
    "not_a_regular_file",
    "split_patterns",
]

DEFAULT_PATTERN = "*.asc"
GRID_FILES_FILTER = "ESRI ASCII grids (*.asc *.asc.gz *.txt *.zip)"
"""What the dialogs' "Add File(s)…" offers for INPUT (Qt file dialog filter)."""

# Files GIS tools write beside a grid: never grids themselves, whatever PATTERN says.
SIDECAR_SUFFIXES = (
    ".aux.xml",
    ".prj",
    ".xml",
    ".ovr",
    ".msk",
    ".aux",
    ".stx",
    ".hdr",
    ".tfw",
    ".wld",
    ".qml",
    ".sld",
    ".csvt",
    ".md5",
)


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
    """One grid: a file on disk (``path``) or a zip member (``member``)."""

    name: str
    """What messages call it: the path, or ``archive.zip/inner.zip/member.asc``."""
    path: str | None = None
    member: Any = None
    """For zip members: the engine's ``asciigrid.ArchiveTile`` (position and ``.prj`` text)."""

    def source(self) -> Any:
        """What :mod:`asciigrid` reads: the path, or the member."""
        return self.path if self.path is not None else self.member

    def size(self) -> int:
        """Bytes of text to read (for progress)."""
        if self.member is not None:
            return int(self.member.member.size)
        try:
            return os.path.getsize(self.path or "")
        except OSError:
            return 0


@dataclass
class Collected:
    tiles: list[Tile]
    problems: list[tuple[str, str]]
    """``(name, reason)`` for inputs that could not even be opened (missing file, bad zip)."""
    ignored: list[str] = field(default_factory=list)
    """INPUT files left out: hidden, sidecars, or not matching PATTERN (not zips)."""


def split_patterns(pattern: str) -> list[str]:
    """``"*.asc; *.txt"`` → ``["*.asc", "*.txt"]`` (empty → the default ``*.asc``)."""
    parts = [p.strip() for p in (pattern or "").split(";")]
    return [p for p in parts if p] or [DEFAULT_PATTERN]


def _matches(name: str, patterns: list[str]) -> bool:
    base = posixpath.basename(name.replace("\\", "/")).lower()
    return any(fnmatch.fnmatchcase(base, p.lower()) for p in patterns)


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def _is_hidden_or_sidecar(base: str) -> bool:
    return base.startswith(".") or base.lower().endswith(SIDECAR_SUFFIXES)


def is_candidate(name: str, patterns: list[str]) -> bool:
    """True when the file ``name`` is read as a grid or an archive: a zip or a name matching
    one of ``patterns``, and neither hidden nor a sidecar."""
    base = posixpath.basename(name.replace("\\", "/"))
    if _is_hidden_or_sidecar(base) and not _is_zip_name(base):
        return False
    return _is_zip_name(base) or _matches(base, patterns)


def find_in_folder(
    folder: str, patterns: list[str], cancelled: Callable[[], bool] = lambda: False
) -> list[str]:
    """The grids and zips under ``folder`` (recursively, hidden folders left out), sorted by
    path: what FOLDER reads and what the dialog's "Add Directory…" adds to INPUT."""
    found: list[str] = []
    for root, dirs, files in os.walk(folder):
        if cancelled():
            break
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, f) for f in files if is_candidate(f, patterns))
    return sorted(found)


def _add_zip(path: str, patterns: list[str], out: Collected, engine: ModuleType) -> None:
    try:
        members = engine.archive_tiles(path, pattern=patterns)
    except (ValueError, OSError) as err:
        reason = str(err) if isinstance(err, ValueError) else (err.strerror or str(err))
        out.problems.append((path, f"cannot open this zip archive: {reason}"))
        return
    out.tiles.extend(Tile(name=m.name, member=m) for m in members)


def collect_tiles(
    inputs: Iterable[str],
    folder: str | None,
    pattern: str = DEFAULT_PATTERN,
    cancelled: Callable[[], bool] = lambda: False,
    *,
    engine: ModuleType,
    also: Callable[[str], bool] | None = None,
) -> Collected:
    """Every tile, in a stable order: INPUT in the order given, then FOLDER (searched
    recursively, sorted by path). INPUT keeps what :func:`is_candidate` accepts (or ``also``,
    e.g. stats' other rasters, when the file is neither hidden nor a sidecar); the rest is
    listed in ``ignored``. A path that is not a regular file is a problem either way: the
    user named it. Zips (given or found) contribute the members that match ``pattern``, in
    archive order, as the engine lists them (read by the engine when their strip is read).
    Duplicates are dropped.
    """
    patterns = split_patterns(pattern)
    out = Collected(tiles=[], problems=[])
    paths: list[str] = []
    for item in inputs:
        if not item:
            continue
        path = str(item)
        if not_a_regular_file(path) is None and not is_candidate(path, patterns):
            base = os.path.basename(path)
            if _is_hidden_or_sidecar(base) or also is None or not also(path):
                out.ignored.append(path)
                continue
        paths.append(path)
    if folder:
        if not os.path.isdir(folder):
            out.problems.append((folder, "not a folder"))
        else:
            paths.extend(find_in_folder(folder, patterns, cancelled))
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
            _add_zip(path, patterns, out, engine)
        else:
            out.tiles.append(Tile(name=path, path=path))
    return out
