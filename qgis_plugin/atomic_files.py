"""Outputs replaced all or nothing, on the engine's one mechanism for it
(``asciigrid._atomic``): a writer gets a hidden temporary name in the target's folder; only
when its file is complete is it moved over the target, its sidecars first. On any error or
cancel the temporary files are removed, so a failed or cancelled run never leaves a
(partial) output behind, and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence

from .engine import load_engine
from .exceptions import OutputError

__all__ = ["OutputError", "atomic_output", "make_folder_for", "write_text"]


def make_folder_for(target: str) -> None:
    """Create the folder an output goes to, as Processing users expect of every output."""
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)


@contextlib.contextmanager
def atomic_output(
    target: str, *, keep_extension: bool = False, extension_sidecars: Sequence[str] = ()
) -> Iterator[str]:
    """Yield a free temporary path (hidden, in ``target``'s folder, created by the writer)
    to write ``target`` to.

    It ends in ``.tmp``, not the output's extension, so a leftover of a killed run is never
    listed (or opened by extension) as an output; ``keep_extension`` keeps it for the
    drivers that go by the extension (OGR's CSV driver makes a folder of a path without
    ``.csv``). ``extension_sidecars`` are sidecars that replace the extension (``.csvt``).

    On success it and its sidecars replace ``target``; on failure, the renames included,
    they are deleted, ``target`` is untouched, and :class:`OutputError` names ``target``.
    """
    load_engine()  # puts the engine (bundled or installed) on the path
    from asciigrid._atomic import GDAL_SIDECARS, AtomicFiles

    target = os.path.abspath(target)
    make_folder_for(target)
    files = AtomicFiles()
    try:
        tmp = files.new_path(
            target,
            keep_extension=keep_extension,
            sidecars=GDAL_SIDECARS,
            extension_sidecars=extension_sidecars,
        )
    except OSError as err:
        raise OutputError(f"{target}: cannot be written: {err.strerror or err}") from err
    try:
        yield tmp
        if not os.path.exists(tmp):
            raise OutputError(f"{target}: nothing was written")
        if os.path.isdir(target):
            raise OutputError(f"{target}: is a folder; give a file name; nothing was written")
    except BaseException:
        files.discard()
        raise
    try:
        files.commit()
    except OSError as err:
        raise OutputError(
            f"{target}: could not put the new file in place: {err.strerror or err}; "
            "nothing was written"
        ) from err


def write_text(target: str, text: str) -> None:
    """Write a small text file (e.g. a report) with the same all-or-nothing rule."""
    with atomic_output(target) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
