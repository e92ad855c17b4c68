"""The plugin's own metadata.txt (beside this package once installed; at the repository
root in a source checkout)."""

from __future__ import annotations

import configparser
import functools
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@functools.cache
def plugin_metadata() -> dict[str, str]:
    for candidate in (_HERE / "metadata.txt", _HERE.parent / "metadata.txt"):
        if candidate.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            parser.read(candidate, encoding="utf-8")
            return dict(parser["general"])
    return {}


def plugin_version() -> str:
    return plugin_metadata().get("version", "unknown")
