"""Running a test's child process as a user without root's rights to files."""

from __future__ import annotations

import os
from typing import Any


def as_unprivileged_user() -> dict[str, Any]:
    """``subprocess`` arguments that run the child as ``nobody`` when the tests run as root
    (root reads and writes any file, so only another user meets a file it may not read or
    write); no arguments otherwise."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return {}
    import pwd

    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
