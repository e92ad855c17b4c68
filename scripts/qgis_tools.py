#!/usr/bin/env python3
"""Run ``qgis_process`` with the plugin installed in a throw-away QGIS profile.

Used by the plugin's end-to-end tests, ``scripts/demo_qgis.sh`` and ``scripts/bench_qgis.py``.

* :func:`qgis_process_command` finds a working ``qgis_process``: ``$QGIS_PROCESS`` if set,
  else ``qgis_process`` — except on Debian/Ubuntu's QGIS 3.22 packages, whose wrapper script
  passes ``--noversioncheck`` (meant for the desktop app) and fails with
  "Command --noversioncheck not known!" (qgis/QGIS#57683); there the real binary
  ``qgis_process.bin`` beside it is used.
* :func:`install_plugin` unzips a plugin zip into ``<config>/profiles/default/python/plugins``
  and enables it with ``qgis_process plugins enable``; :func:`environment` points QGIS at that
  config folder (``QGIS_CUSTOM_CONFIG_PATH``) so the user's own profile is never touched.

Command line: ``python scripts/qgis_tools.py command`` prints the qgis_process to use;
``python scripts/qgis_tools.py install ZIP CONFIG_DIR`` installs and enables the plugin.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

PLUGIN_FOLDER = "asciigrid_qgis"


@functools.cache
def qgis_process_command() -> tuple[str, ...]:
    override = os.environ.get("QGIS_PROCESS")
    if override:
        return (override,)
    found = shutil.which("qgis_process")
    if found is None:
        raise FileNotFoundError("qgis_process not found (install QGIS or set QGIS_PROCESS)")
    binary = Path(found).with_name("qgis_process.bin")
    if binary.is_file():
        probe = subprocess.run(
            [found, "--version"],
            capture_output=True,
            text=True,
            env=environment(None),
            timeout=120,
        )
        if "--noversioncheck" in probe.stdout + probe.stderr:
            return (str(binary),)
    return (found,)


def environment(config_dir: Path | str | None) -> dict[str, str]:
    """The environment for a headless qgis_process using ``config_dir`` as its profile root."""
    env = dict(os.environ)
    # QGIS's embedded Python must be QGIS's own: an active virtualenv first on PATH would
    # lend it the venv's packages (an installed asciigrid included), which a user's QGIS
    # does not have.
    venv = env.pop("VIRTUAL_ENV", None)
    if venv:
        kept = [p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(venv)]
        env["PATH"] = os.pathsep.join(kept)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}" if os.name == "posix" else "")
    if config_dir is not None:
        env["QGIS_CUSTOM_CONFIG_PATH"] = str(config_dir)
    return env


def plugins_dir(config_dir: Path | str) -> Path:
    return Path(config_dir) / "profiles" / "default" / "python" / "plugins"


def install_plugin(plugin_zip: Path | str, config_dir: Path | str) -> Path:
    """Unzip the plugin into a fresh profile (as the Plugin Manager's 'Install from ZIP'
    does) and enable it for qgis_process. Returns the installed plugin folder."""
    target = plugins_dir(config_dir)
    target.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target / PLUGIN_FOLDER, ignore_errors=True)
    with zipfile.ZipFile(plugin_zip) as archive:
        archive.extractall(target)
        for info in archive.infolist():  # zipfile drops permission bits
            mode = info.external_attr >> 16
            if mode:
                os.chmod(target / info.filename, mode)
    result = run_qgis_process(["plugins", "enable", PLUGIN_FOLDER], config_dir)
    if result.returncode != 0 and "already enabled" not in result.stdout + result.stderr:
        raise RuntimeError(f"qgis_process plugins enable failed:\n{result.stderr}")
    return target / PLUGIN_FOLDER


def run_qgis_process(
    args: list[str], config_dir: Path | str | None, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*qgis_process_command(), *args],
        capture_output=True,
        text=True,
        env=environment(config_dir),
        timeout=timeout,
    )


def run_json(
    algorithm: str, parameters: list[str], config_dir: Path | str | None, timeout: float = 1800
) -> dict[str, Any]:
    """``qgis_process --json run ALGORITHM -- PARAM=VALUE ...``; the parsed JSON, or
    RuntimeError with qgis_process's messages."""
    result = run_qgis_process(["--json", "run", algorithm, "--", *parameters], config_dir, timeout)
    try:
        payload = json.loads(result.stdout[result.stdout.index("{") :])
    except ValueError:
        payload = None
    if result.returncode != 0 or payload is None:
        raise RuntimeError(
            f"qgis_process run {algorithm} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return payload


def main(argv: list[str]) -> int:
    if argv[:1] == ["command"]:
        print(" ".join(qgis_process_command()))
        return 0
    if argv[:1] == ["install"] and len(argv) == 3:
        print(install_plugin(argv[1], argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
