"""Replacing files all or nothing: a grid and its ``.prj`` change together, or not at all.

Every new file is first written to a hidden temporary file beside its target, created
exclusively under an unpredictable name (a link planted in the folder is never followed),
with the replaced file's permissions (a new file gets ``0666 & ~umask``, as
``open(path, "w")`` would give it). :meth:`AtomicFiles.commit` then renames them into place
(the rename of the last one is the commit point; if anything fails before it, what was already
done is undone). On any failure no temporary file is left behind, and the error names the
target, not the temporary file.

The engine writes a grid's temporary file itself (``_native.write(..., stage=True)``, with
the same rules); it is handed over here with :meth:`AtomicFiles.adopt`. GDAL's drivers
create their files themselves (and some refuse a file that exists): they are given a name
with :meth:`AtomicFiles.new_path`. Sidecars a writer may put beside its file (GDAL's
``.aux.xml``, ``.ovr``, OGR's ``.csvt``) go along with it: moved over the target's in the
same commit (a stale ``.aux.xml`` of an older target is removed, so old statistics never
shadow new ones), removed with it on failure.

This is the one mechanism for replacing files in the package and in the QGIS plugin.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["GDAL_SIDECARS", "AtomicFiles", "atomic_files"]

GDAL_SIDECARS = (".aux.xml", ".ovr", ".msk")
"""Sidecars GDAL may write beside any file it writes, and an older target may have (stale
statistics, external overviews, masks that would shadow what the new file holds): the new
file's go with it, an older target's are removed, in the same commit."""

_KEEP = 100
"""How many bytes of the target's name a temporary name keeps (as the engine's writer):
the whole name stays far below the 255 bytes most file systems allow."""

_CREATE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

# Commits of this process go one at a time: threads rewriting the same grid then never
# interleave their renames, so the grid and the .prj left behind come from the same call.
_COMMIT_LOCK = threading.Lock()


def _temp_name(target: str, keep_extension: bool = False) -> str:
    """A new hidden name ``.name.<random>.tmp`` beside ``target`` (``.stem.<random>.tmp.ext``
    with ``keep_extension``). It never ends in the target's own extension unless asked to,
    so a leftover of a killed process is not taken for an output."""
    folder, name = os.path.split(target)
    stem, ext = os.path.splitext(name) if keep_extension else (name, "")
    while len(os.fsencode(stem)) > _KEEP:
        stem = stem[:-1]
    return os.path.join(folder, f".{stem}.{secrets.token_hex(6)}.tmp{ext}")


def _create_temp(target: str, keep_extension: bool = False) -> tuple[int, str]:
    """Create a new temporary file beside ``target`` (see :func:`_temp_name`): ``(fd, path)``."""
    for _ in range(100):
        temp = _temp_name(target, keep_extension)
        try:
            return os.open(temp, _CREATE, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(17, "no free temporary name", target)


@dataclass(frozen=True)
class _Sidecars:
    """The sidecars a writer may put beside a temporary file, taken along with it."""

    appended: Sequence[str]
    """Suffixes added to the whole name (``.aux.xml``): the new file's, or none at all (a
    stale one of an older target would describe the old file)."""
    replacing: Sequence[str]
    """Suffixes replacing the extension (``.csvt``): moved when written, never removed (a
    file of that name may belong to another file of the same stem)."""

    def pairs(self, temp: str, target: str) -> list[tuple[str, str, bool]]:
        """``(temporary sidecar, target's sidecar, whether a stale one is removed)``."""
        temp_stem, target_stem = os.path.splitext(temp)[0], os.path.splitext(target)[0]
        return [(temp + s, target + s, True) for s in self.appended] + [
            (temp_stem + s, target_stem + s, False) for s in self.replacing
        ]


def _naming(error: OSError, target: str) -> OSError:
    """``error`` as the same exception type, naming ``target`` (not a temporary file)."""
    if error.errno is None:
        return error
    named = type(error)(error.errno, error.strerror, os.fspath(target))
    named.__cause__ = error
    return named


def _replaced(target: str) -> os.stat_result | None:
    """The status of the file ``target`` names, once it is known that ``open(target, "w")``
    could write it (so replacing a file one may not write fails the same way)."""
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(status.st_mode):
        # Opened without truncating: the kernel's own check (modes, ACLs, root's override).
        try:
            os.close(os.open(target, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)))
        except FileNotFoundError:  # removed meanwhile (another writer's commit)
            return None
    return status


def _take_over(fd: int, replaced: os.stat_result) -> None:
    """Give the new file the replaced one's permission bits and, where allowed (as root, or
    a group the user is in), its owner and group."""
    mine = os.fstat(fd)
    if hasattr(os, "fchown") and (replaced.st_uid, replaced.st_gid) != (mine.st_uid, mine.st_gid):
        with contextlib.suppress(OSError):  # an ordinary user cannot give a file away
            os.fchown(fd, replaced.st_uid, replaced.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(replaced.st_mode) & 0o777)


def _set_aside(target: str) -> str | None:
    """Keep the old ``target`` under a hidden name (a second link, so that ``target`` itself
    never goes missing while it is replaced), so that a failed commit can put it back.
    ``None`` when there is no old ``target``."""
    if os.path.isdir(target) and not os.path.islink(target):
        # Moved aside, a folder would be replaced by a file, and then lost.
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), target)
    aside = _temp_name(target)
    try:
        os.link(target, aside, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError:  # a file system without hard links: move it aside instead
        try:
            os.rename(target, aside)
        except FileNotFoundError:
            return None
    return aside


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


class AtomicFiles:
    """Files staged beside their targets, replaced (or removed) together by :meth:`commit`.

    Operations are applied in the order they were added; the last one is the commit point
    (add the main file last). Use :func:`atomic_files` to commit on success and clean up on
    any exception.
    """

    def __init__(self) -> None:
        self._ops: list[tuple[str | None, str]] = []
        """``(temporary file or None to remove the target, target)``."""
        self._sidecars: dict[str, _Sidecars] = {}
        """The sidecars that go along with a temporary file."""

    def new_temp(
        self,
        target: str | os.PathLike[str],
        *,
        sidecars: Sequence[str] = (),
        extension_sidecars: Sequence[str] = (),
    ) -> tuple[int, str]:
        """Create the temporary file that will replace ``target``: ``(open fd, path)``.

        The caller writes through the fd and closes it. Raises like ``open(target, "w")``
        when ``target`` cannot be written. ``sidecars`` (suffixes of the whole name, as
        ``.aux.xml``) and ``extension_sidecars`` (suffixes replacing the extension, as
        ``.csvt``) are files a writer may put beside the temporary file: see
        :meth:`new_path`."""
        target = os.fspath(target)
        try:
            replaced = _replaced(target)
            fd, temp = _create_temp(target)
        except OSError as e:
            raise _naming(e, target) from e
        self._add(temp, target, sidecars, extension_sidecars)
        try:
            if replaced is not None:
                _take_over(fd, replaced)
        except OSError as e:
            os.close(fd)
            raise _naming(e, target) from e
        return fd, temp

    def new_path(
        self,
        target: str | os.PathLike[str],
        *,
        keep_extension: bool = False,
        sidecars: Sequence[str] = (),
        extension_sidecars: Sequence[str] = (),
    ) -> str:
        """A free hidden name beside ``target`` for a writer that creates the file itself
        (GDAL's and OGR's drivers: some refuse, or read differently, a file that exists).
        ``keep_extension`` ends it in ``target``'s extension, for drivers that go by it.

        On commit, each sidecar the writer put beside it replaces ``target``'s, and a stale
        one of ``target`` named in ``sidecars`` (suffixes of the whole name, as ``.aux.xml``)
        is removed; ``extension_sidecars`` (suffixes replacing the extension, as ``.csvt``)
        are moved when written and otherwise left alone. Raises like ``open(target, "w")``
        when ``target`` cannot be written."""
        target = os.fspath(target)
        try:
            _replaced(target)
            # Created and removed: the folder's own answer to whether it can be written (a
            # missing folder, a read-only one), as open() would give it.
            fd, temp = _create_temp(target, keep_extension)
            os.close(fd)
            os.remove(temp)
        except OSError as e:
            raise _naming(e, target) from e
        self._add(temp, target, sidecars, extension_sidecars)
        return temp

    def _add(
        self, temp: str, target: str, appended: Sequence[str], replacing: Sequence[str]
    ) -> None:
        self._ops.append((temp, target))
        if appended or replacing:
            self._sidecars[temp] = _Sidecars(tuple(appended), tuple(replacing))

    def write_bytes(self, target: str | os.PathLike[str], data: bytes) -> None:
        """Stage ``data`` (flushed to disk) as the new content of ``target``."""
        fd, _ = self.new_temp(target)
        try:
            with open(fd, "wb", closefd=True) as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise _naming(e, os.fspath(target)) from e

    def adopt(self, temp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        """Take over a temporary file written by someone else (the engine) for ``target``."""
        self._ops.append((os.fspath(temp), os.fspath(target)))

    def remove(self, target: str | os.PathLike[str]) -> None:
        """Remove ``target`` (if it exists) in the same commit."""
        self._ops.append((None, os.fspath(target)))

    def discard(self) -> None:
        """Remove every temporary file (and their sidecars); no target is touched."""
        for temp, target in self._ops:
            if temp is not None:
                _remove_quietly(temp)
                sidecars = self._sidecars.get(temp)
                for made, _, _ in sidecars.pairs(temp, target) if sidecars else ():
                    _remove_quietly(made)
        self._ops.clear()
        self._sidecars.clear()

    def _steps(self) -> list[tuple[str | None, str]]:
        """The operations with each file's sidecars just before it (so the file itself stays
        the commit point): the ones written moved, stale ones removed."""
        steps: list[tuple[str | None, str]] = []
        for temp, target in self._ops:
            sidecars = self._sidecars.get(temp) if temp is not None else None
            if temp is not None and sidecars is not None:
                for made, final, stale in sidecars.pairs(temp, target):
                    if os.path.lexists(made):
                        steps.append((made, final))
                    elif stale:
                        steps.append((None, final))
            steps.append((temp, target))
        return steps

    def commit(self) -> None:
        """Move everything into place. If a step fails, the steps already done are undone
        (the old targets come back), the temporary files are removed, and the error names the
        target of the failed step."""
        undo: list[tuple[str, str | None]] = []
        """``(target, where the old target was set aside, or None)``."""
        with _COMMIT_LOCK:
            try:
                steps = self._steps()
                for i, (temp, target) in enumerate(steps):
                    try:
                        if i == len(steps) - 1:
                            if temp is None:
                                with contextlib.suppress(FileNotFoundError):
                                    os.remove(target)
                            else:
                                os.replace(temp, target)
                        else:
                            aside = _set_aside(target)
                            if aside is not None or temp is not None:
                                undo.append((target, aside))
                            if temp is not None:
                                os.replace(temp, target)
                            elif aside is not None:
                                with contextlib.suppress(FileNotFoundError):
                                    os.remove(target)
                    except OSError as e:
                        raise _naming(e, target) from e
            except BaseException:
                for target, aside in reversed(undo):
                    if aside is not None:
                        with contextlib.suppress(OSError):
                            os.replace(aside, target)
                    else:
                        _remove_quietly(target)
                self.discard()
                raise
        for _, aside in undo:
            if aside is not None:
                _remove_quietly(aside)
        self._ops.clear()
        self._sidecars.clear()


@contextlib.contextmanager
def atomic_files() -> Iterator[AtomicFiles]:
    """An :class:`AtomicFiles` committed when the block ends, discarded on any exception."""
    files = AtomicFiles()
    try:
        yield files
    except BaseException:
        files.discard()
        raise
    files.commit()
