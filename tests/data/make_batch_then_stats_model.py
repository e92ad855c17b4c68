"""Regenerate ``batch_then_stats.model3``: asciigrid:batchimport → asciigrid:stats.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/data/make_batch_then_stats_model.py

Model inputs: FOLDER, PATTERN. Model outputs: MOSAIC (the GeoTIFF), REPORT (skipped tiles),
STATISTICS (table with the mosaic's statistics, one row). The stats step reads the mosaic
that batchimport wrote, so the two are chained through the modeler.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def main() -> None:
    from qgis.core import (
        QgsApplication,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFile,
        QgsProcessingParameterString,
    )
    from qgis.PyQt.QtCore import QPointF

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    plugins = Path(tempfile.mkdtemp())
    (plugins / "asciigrid_qgis").symlink_to(REPO / "qgis_plugin", target_is_directory=True)
    sys.path.insert(0, str(plugins))
    import asciigrid_qgis

    plugin = asciigrid_qgis.classFactory(None)
    plugin.initProcessing()

    model = QgsProcessingModelAlgorithm("batch_then_stats", "asciigrid")
    model.setHelpContent(
        {
            "ALG_DESC": "Mosaic every ESRI ASCII tile of a folder (zips included) with "
            "asciigrid:batchimport, then compute the mosaic's statistics with asciigrid:stats."
        }
    )
    folder = QgsProcessingParameterFile(
        "FOLDER", "Folder of tiles", behavior=QgsProcessingParameterFile.Folder
    )
    pattern = QgsProcessingParameterString("PATTERN", "File name pattern", defaultValue="*.asc")
    for i, param in enumerate((folder, pattern)):
        component = QgsProcessingModelParameter(param.name())
        component.setPosition(QPointF(120, 60 + 60 * i))
        model.addModelParameter(param, component)

    batch = QgsProcessingModelChildAlgorithm("asciigrid:batchimport")
    batch.setChildId("batchimport")
    batch.setDescription("Mosaic the tiles")
    batch.setPosition(QPointF(360, 120))
    batch.addParameterSources(
        "FOLDER", [QgsProcessingModelChildParameterSource.fromModelParameter("FOLDER")]
    )
    batch.addParameterSources(
        "PATTERN", [QgsProcessingModelChildParameterSource.fromModelParameter("PATTERN")]
    )
    batch.addParameterSources(
        "ON_ERROR", [QgsProcessingModelChildParameterSource.fromStaticValue(1)]
    )
    outputs = {}
    for name, description in (("OUTPUT", "MOSAIC"), ("REPORT", "REPORT")):
        out = QgsProcessingModelOutput(description, description)
        out.setChildOutputName(name)
        out.setChildId("batchimport")
        outputs[description] = out
    batch.setModelOutputs(outputs)
    model.addChildAlgorithm(batch)

    stats = QgsProcessingModelChildAlgorithm("asciigrid:stats")
    stats.setChildId("stats")
    stats.setDescription("Statistics of the mosaic")
    stats.setPosition(QPointF(600, 120))
    stats.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("batchimport", "OUTPUT")]
    )
    table = QgsProcessingModelOutput("STATISTICS", "STATISTICS")
    table.setChildOutputName("OUTPUT_TABLE")
    table.setChildId("stats")
    stats.setModelOutputs({"STATISTICS": table})
    model.addChildAlgorithm(stats)

    target = HERE / "batch_then_stats.model3"
    if not model.toFile(str(target)):
        raise SystemExit(f"could not write {target}")
    print(target)
    plugin.unload()


if __name__ == "__main__":
    main()
