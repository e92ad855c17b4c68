#!/usr/bin/env python3
"""Screenshot of an asciigrid algorithm's Toolbox dialog, taken headless.

    xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python scripts/screenshot_dialog.py \\
        [--algorithm asciigrid:batchimport] [--out docs/batchimport-dialog.png]

Starts QGIS with a GUI (on Xvfb's display), loads the plugin from ``qgis_plugin/`` as
``asciigrid_qgis``, opens the algorithm's dialog the way the Toolbox does
(``processing.createAlgorithmDialog``), fills in example parameters, and grabs the widget.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EXAMPLES = {
    "asciigrid:batchimport": {
        "FOLDER": "/data/delivery",
        "PATTERN": "*.asc",
        "ON_ERROR": 1,
        "OUTPUT": "/data/mosaic.tif",
        "REPORT": "/data/mosaic_report.txt",
    },
    "asciigrid:fastload": {"INPUT": "/data/dem.asc", "OUTPUT": "/data/dem.tif"},
    "asciigrid:stats": {"FOLDER": "/data/delivery", "OUTPUT_TABLE": "/data/per_tile.csv"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algorithm", default="asciigrid:batchimport")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "batchimport-dialog.png")
    parser.add_argument("--width", type=int, default=900)
    parser.add_argument("--height", type=int, default=760)
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
    dialog = processing.createAlgorithmDialog(args.algorithm, EXAMPLES.get(args.algorithm, {}))
    if dialog is None:
        print(f"no algorithm {args.algorithm}", file=sys.stderr)
        return 1
    dialog.resize(args.width, args.height)
    dialog.show()
    for _ in range(20):
        app.processEvents()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not dialog.grab().save(str(args.out), "PNG"):
        print(f"could not save {args.out}", file=sys.stderr)
        return 1
    print(args.out, flush=True)
    dialog.close()
    plugin.unload()
    # QGIS 3.22 may crash while tearing down a GUI application started from a script;
    # the picture is saved, so leave without the teardown.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
