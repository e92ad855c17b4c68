#!/usr/bin/env python3
"""Screenshots of the asciigrid algorithms' Toolbox dialogs, taken headless.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_dialog.py \\
        [--algorithm asciigrid:batchimport ...] [--out-dir docs]

(or under ``xvfb-run -a``). Starts QGIS with a GUI, loads the plugin from ``qgis_plugin/`` as
``asciigrid_qgis``, opens each algorithm's dialog the way the Toolbox does
(``processing.createAlgorithmDialog``) at the size QGIS gives a new dialog, fills in example
parameters, and saves ``<out-dir>/<algorithm>-dialog.png``. Default: all three algorithms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EXAMPLES = {
    "asciigrid:fastload": {"INPUT": "/data/dem.asc", "OUTPUT": "/data/dem.tif"},
    "asciigrid:batchimport": {
        "FOLDER": "/data/delivery",
        "ON_ERROR": 1,
        "OUTPUT": "/data/mosaic.tif",
        "REPORT": "/data/mosaic_report.txt",
    },
    "asciigrid:stats": {
        "INPUT": ["/data/delivery/tile_000.asc", "/data/delivery/more_tiles.zip"],
        "OUTPUT_TABLE": "/data/per_tile.csv",
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algorithm", action="append", choices=sorted(EXAMPLES))
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    args = parser.parse_args()

    os.environ.setdefault("QGIS_CUSTOM_CONFIG_PATH", tempfile.mkdtemp(prefix="qgis-shot-"))
    from qgis.core import QgsApplication
    from qgis.gui import QgisInterface  # noqa: F401 - loads the GUI bindings
    from qgis.PyQt.QtWidgets import QMainWindow

    app = QgsApplication([], True)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")

    # The Toolbox parents its dialogs to iface.mainWindow(); outside QGIS desktop give it
    # a main window through a minimal iface.
    import qgis.utils

    class _Iface:
        def __init__(self) -> None:
            self.window = QMainWindow()

        def mainWindow(self) -> QMainWindow:  # noqa: N802 - QGIS API
            return self.window

        def __getattr__(self, name: str) -> object:
            return lambda *a, **k: None

    qgis.utils.iface = _Iface()
    from processing.core.Processing import Processing

    Processing.initialize()
    plugins = Path(tempfile.mkdtemp(prefix="plugins-"))
    (plugins / "asciigrid_qgis").symlink_to(ROOT / "qgis_plugin", target_is_directory=True)
    sys.path.insert(0, str(plugins))
    import asciigrid_qgis
    import processing

    plugin = asciigrid_qgis.classFactory(qgis.utils.iface)
    plugin.initProcessing()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for algorithm in args.algorithm or list(EXAMPLES):
        dialog = processing.createAlgorithmDialog(algorithm, EXAMPLES[algorithm])
        if dialog is None:
            print(f"no algorithm {algorithm}", file=sys.stderr)
            return 1
        dialog.show()  # at the size QGIS opens a new dialog with (fresh profile)
        for _ in range(20):
            app.processEvents()
        out = args.out_dir / f"{algorithm.split(':')[1]}-dialog.png"
        if not dialog.grab().save(str(out), "PNG"):
            print(f"could not save {out}", file=sys.stderr)
            return 1
        print(f"{out} ({dialog.width()} x {dialog.height()})", flush=True)
        dialog.close()
    plugin.unload()
    # QGIS 3.22 may crash while tearing down a GUI application started from a script;
    # the picture is saved, so leave without the teardown.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
