#!/usr/bin/env python3
"""Smoke-test a plugin zip as a QGIS user gets it: install it into a fresh QGIS profile,
enable it, and run ``asciigrid:stats`` on a tiny grid with ``qgis_process``.

    python3 scripts/release_qgis_smoke.py dist/asciigrid_qgis-1.2.3.zip

Run it with the Python QGIS uses (the system ``python3``). The profile is a throw-away folder
(``QGIS_CUSTOM_CONFIG_PATH``), so the user's own QGIS settings are never touched. Installing
and running go through ``scripts/qgis_tools.py``, the same code the plugin's end-to-end tests
use. Used by ``scripts/check_release.sh`` and by the release workflow, in the qgis/qgis images.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qgis_tools  # noqa: E402

GRID = (
    "ncols 4\nnrows 3\nxllcorner 1000\nyllcorner 2000\ncellsize 10\nNODATA_value -9999\n"
    "1.5 2 3 4\n5 -9999 7 8.25\n9 10 11 12\n"
)
VALUES = [1.5, 2, 3, 4, 5, 7, 8.25, 9, 10, 11, 12]


def engines_in(plugin_zip: Path) -> list[str]:
    with zipfile.ZipFile(plugin_zip) as archive:
        return sorted(
            {
                name.split("/")[2]
                for name in archive.namelist()
                if name.startswith("asciigrid_qgis/engines/") and "/_native" in name
            }
        )


def smoke(plugin_zip: Path, work: Path) -> None:
    print(f"plugin zip: {plugin_zip} (engines: {', '.join(engines_in(plugin_zip)) or 'none'})")
    config = work / "qgis-config"
    started = time.monotonic()
    installed = qgis_tools.install_plugin(plugin_zip, config)
    print(f"installed into a fresh profile: {installed}")
    listing = qgis_tools.run_qgis_process(["plugins"], config)
    if "* asciigrid_qgis" not in listing.stdout:
        raise RuntimeError(f"asciigrid_qgis is not enabled:\n{listing.stdout}\n{listing.stderr}")
    grid = work / "tiny.asc"
    grid.write_text(GRID, encoding="utf-8")
    results = qgis_tools.run_json("asciigrid:stats", [f"INPUT={grid}"], config)["results"]
    expected = {
        "COUNT": len(VALUES),
        "MIN": min(VALUES),
        "MAX": max(VALUES),
        "SUM": sum(VALUES),
        "MEAN": sum(VALUES) / len(VALUES),
    }
    for name, value in expected.items():
        got = results.get(name)
        if not isinstance(got, (int, float)) or not math.isclose(got, value, rel_tol=1e-12):
            raise RuntimeError(f"asciigrid:stats {name} = {got!r}, expected {value}: {results}")
    elapsed = time.monotonic() - started
    print(
        f"qgis_process run asciigrid:stats: COUNT={results['COUNT']} MIN={results['MIN']} "
        f"MAX={results['MAX']} MEAN={results['MEAN']:.6f} ({elapsed:.1f} s) - OK"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("zip", type=Path, help="the plugin zip")
    args = parser.parse_args(argv)
    if not args.zip.is_file():
        print(f"release_qgis_smoke: {args.zip} not found", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="asciigrid-smoke-") as tmp:
        try:
            smoke(args.zip.resolve(), Path(tmp))
        except (RuntimeError, OSError, KeyError) as err:
            print(f"release_qgis_smoke: FAILED: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
