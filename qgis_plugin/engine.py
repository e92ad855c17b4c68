"""Find the native engine (the ``asciigrid`` package) without ever breaking QGIS.

Order: the plugin's own ``engines/<platform>/`` folder (shipped in the plugin zip), then an
``asciigrid`` installed in QGIS's Python (``pip install asciigrid``). Nothing is imported
until an algorithm runs, and every failure is caught and turned into a message, so a
missing or broken engine never breaks QGIS start-up, the provider, or other providers'
``qgis_process`` runs.
"""

from __future__ import annotations

import importlib
import sys
import threading
from pathlib import Path
from types import ModuleType

from .platforms import current_platform_folders

__all__ = ["ENGINES_DIR", "EngineUnavailable", "engine_status", "load_engine"]

ENGINES_DIR = Path(__file__).resolve().parent / "engines"
RELEASES_URL = "https://github.com/asciigrid/asciigrid/releases"

_lock = threading.Lock()
_engine: ModuleType | None = None
_problem: str | None = None


class EngineUnavailable(RuntimeError):
    """The engine could not be loaded; the message says how to install it."""


def _forget_asciigrid() -> None:
    for name in [m for m in sys.modules if m == "asciigrid" or m.startswith("asciigrid.")]:
        del sys.modules[name]


def _try_import() -> ModuleType:
    module = importlib.import_module("asciigrid")
    # Touch the native module: a wheel for another platform imports its Python part fine
    # and only fails here.
    importlib.import_module("asciigrid._native")
    return module


def _load() -> tuple[ModuleType | None, str | None]:
    problems: list[str] = []
    if "asciigrid" in sys.modules:  # already imported (e.g. by the user or by tests)
        try:
            return _try_import(), None
        except Exception as err:  # any failure means "not usable"
            problems.append(f"the already imported asciigrid fails: {err}")
            _forget_asciigrid()
    folders = current_platform_folders()
    for folder in folders:
        path = ENGINES_DIR / folder
        if not (path / "asciigrid").is_dir():
            continue
        sys.path.insert(0, str(path))
        try:
            return _try_import(), None
        except Exception as err:
            problems.append(f"the bundled engine {folder} fails to load: {err}")
            sys.path.remove(str(path))
            _forget_asciigrid()
    try:
        return _try_import(), None
    except Exception as err:
        _forget_asciigrid()
        if not isinstance(err, ModuleNotFoundError) or err.name != "asciigrid":
            problems.append(f"the installed asciigrid fails to load: {err}")
    bundled = sorted(p.name for p in ENGINES_DIR.iterdir()) if ENGINES_DIR.is_dir() else []
    where = (
        f"this plugin carries engines for {', '.join(bundled)}, not for {folders[0]}"
        if bundled
        else "this copy of the plugin carries no engine"
    )
    detail = "; ".join(problems)
    message = (
        f"The asciigrid engine is not available: {where}"
        + (f" ({detail})" if detail else "")
        + ". Install it into QGIS's Python with `python3 -m pip install asciigrid` "
        "(on Windows from the OSGeo4W Shell), or install the plugin zip for your platform "
        f"from {RELEASES_URL}, then restart QGIS."
    )
    return None, message


def load_engine() -> ModuleType:
    """The ``asciigrid`` module, or :class:`EngineUnavailable` saying how to install it."""
    global _engine, _problem
    with _lock:
        if _engine is None and _problem is None:
            _engine, _problem = _load()
        if _engine is None:
            raise EngineUnavailable(_problem)
        return _engine


def engine_status() -> str:
    """One line for logs and the provider's version info; never raises."""
    try:
        module = load_engine()
    except EngineUnavailable as err:
        return str(err)
    return f"asciigrid engine {getattr(module, '__version__', '?')} from {module.__file__}"
