"""``asciigrid:stats``: streaming statistics of one or many grids, named like QGIS's own."""

from __future__ import annotations

import functools
import math
import os
import struct
from dataclasses import dataclass
from html import escape
from types import ModuleType
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterVectorDestination,
    QgsRasterBandStats,
    QgsRasterBlockFeedback,
    QgsRasterLayer,
    QgsRectangle,
)
from qgis.PyQt.QtCore import Qt

from ..exceptions import Cancelled
from ..sources import GRID_FILES_FILTER, Tile, collect_tiles
from .base import STRICT_HELP, AsciiGridAlgorithm, Progress, report_ignored

# Outputs named (and labelled) as native:rasterlayerstatistics names them, then ours.
OUTPUT_LABELS = {
    "MIN": "Minimum value",
    "MAX": "Maximum value",
    "RANGE": "Range",
    "SUM": "Sum",
    "MEAN": "Mean value",
    "STD_DEV": "Standard deviation",
    "SUM_OF_SQUARES": "Sum of the squares",
    "COUNT": "Valid cells",
    "NODATA_COUNT": "Nodata cells",
}
QGIS_OUTPUTS = ("MIN", "MAX", "RANGE", "SUM", "MEAN", "STD_DEV", "SUM_OF_SQUARES")
OUTPUTS = (*QGIS_OUTPUTS, "COUNT", "NODATA_COUNT")

# Extensions always read by the engine; any other file that GDAL identifies as another
# raster format (e.g. a GeoTIFF made by batchimport) gets QGIS's own statistics.
_GRID_EXTENSIONS = (".asc", ".gz", ".txt", ".grd", ".agr", ".aig")
_ASCII_DRIVERS = ("AAIGrid", "GRASSASCIIGrid")


@dataclass(frozen=True)
class Summary:
    """What one file (or all files together) contributes: the engine's statistics
    (``asciigrid.Stats``), whoever computed them, under the name the outputs give."""

    name: str
    stats: Any
    """An ``asciigrid.Stats`` (the engine's class: the plugin's engine is found at run
    time)."""

    @property
    def std_dev(self) -> float | None:
        """STD_DEV as this QGIS's native:rasterlayerstatistics defines it: in QGIS 3.22 the
        sample standard deviation, sqrt(M2 / (COUNT - 1)) (None below 2 cells)."""
        sample, _ = qgis_conventions()
        divisor = self.stats.count - 1 if sample else self.stats.count
        if divisor < 1:
            return None
        return math.sqrt(self.stats.sum_of_squared_deviations / divisor)

    @property
    def qgis_sum_of_squares(self) -> float:
        """SUM_OF_SQUARES as this QGIS defines it: in QGIS 3.22 the sum of squared
        deviations from the mean (M2), in others the sum of squared values."""
        _, deviations = qgis_conventions()
        s = self.stats
        if deviations or s.mean is None:
            return float(s.sum_of_squared_deviations)
        return float(s.sum_of_squared_deviations + s.count * s.mean * s.mean)

    def outputs(self) -> dict[str, Any]:
        s = self.stats
        return {
            "MIN": s.min,
            "MAX": s.max,
            "RANGE": s.range,
            "SUM": float(s.sum),
            "MEAN": s.mean,
            "STD_DEV": self.std_dev,
            "SUM_OF_SQUARES": self.qgis_sum_of_squares,
            "COUNT": int(s.count),
            "NODATA_COUNT": int(s.nodata_count),
        }

    def row(self) -> list[Any]:
        return [self.name, *self.outputs().values()]


@functools.cache
def qgis_conventions() -> tuple[bool, bool]:
    """How this QGIS defines STD_DEV and SUM_OF_SQUARES in its raster statistics:
    ``(std_dev is the sample one, sum_of_squares is of deviations from the mean)``. QGIS's
    definitions, not ours: the engine's statistics say what they hold
    (``Stats.sum_of_squared_deviations``, population ``std``), and the outputs are derived
    from them as this QGIS derives its own.

    Measured once, by asking QGIS's own statistics of a 3-cell raster [1, 2, 3] (sample
    std 1 vs population 0.816; M2 2 vs sum of squares 14), so the outputs equal
    native:rasterlayerstatistics in any QGIS version. QGIS 3.22: (True, True).
    """
    from osgeo import gdal

    path = f"/vsimem/asciigrid_conventions_{os.getpid()}.tif"
    try:
        ds = gdal.GetDriverByName("GTiff").Create(path, 3, 1, 1, gdal.GDT_Float64)
        # A georeferenced raster: without a geotransform QGIS's provider fails to compute
        # one and GDAL prints "ERROR 1: Unable to compute a transformation" on stderr.
        ds.SetGeoTransform((0.0, 1.0, 0.0, 1.0, 0.0, -1.0))
        ds.GetRasterBand(1).WriteRaster(0, 0, 3, 1, struct.pack("<3d", 1.0, 2.0, 3.0))
        ds = None
        layer = QgsRasterLayer(path, "conventions", "gdal")
        stats = layer.dataProvider().bandStatistics(1, QgsRasterBandStats.All, QgsRectangle(), 0)
        return abs(stats.stdDev - 1.0) < 1e-9, abs(stats.sumOfSquares - 2.0) < 1e-9
    except Exception:  # never fail a run over this: fall back to QGIS 3.22's definitions
        return True, True
    finally:
        gdal.Unlink(path)


TABLE_FIELDS: list[tuple[str, type]] = [
    ("file", str),
    ("min", float),
    ("max", float),
    ("range", float),
    ("sum", float),
    ("mean", float),
    ("std_dev", float),
    ("sum_of_squares", float),
    ("count", int),
    ("nodata_count", int),
]


class StatsAlgorithm(AsciiGridAlgorithm):
    NAME = "stats"
    DISPLAY_NAME = "ESRI ASCII grid statistics"
    SHORT_DESCRIPTION = (
        "Statistics of one or many ESRI ASCII grids (loose or in zips), streamed without "
        "loading them; the same outputs as Raster layer statistics."
    )
    TAGS = (
        "statistics",
        "stats",
        "summary",
        "mean",
        "minimum",
        "maximum",
        "DEM",
        "tiles",
        "zip",
        "ESRI",
        "ASCII",
        "asc",
        "AAIGrid",
    )
    HELP = (
        "Statistics of one or many ESRI ASCII grids, streamed by the asciigrid engine "
        "without loading the grids into memory, over all grids together. Nodata and NaN "
        "cells are left out.\n"
        "Grids: grid files and .zip archives. Add Directory adds the grids and zips of a "
        "folder (hidden files and sidecars such as .prj and .aux.xml left out); files that "
        "do not match the file name pattern are ignored, except other rasters (such as the "
        "GeoTIFF of Batch import), which get QGIS's own statistics, so a model can chain "
        "the two.\n"
        "Folder: searched recursively for grids matching the file name pattern and for "
        ".zip archives.\n"
        "Statistics: an HTML report (all grids together, then one row per file), shown in "
        "the Results Viewer.\n"
        "Statistics per file: optionally, a table with one row per file (.csv, .gpkg, "
        ".xlsx, .ods).\n"
        "Advanced: File name pattern (default *.asc; several separated by ';'). Data type: "
        "the type the values are taken in. Automatic takes each grid as GDAL types it "
        "(Float32 for grids with decimals), as in the GeoTIFFs Fast load and Batch import "
        "write; Float64 gives exactly the statistics QGIS computes on the .asc itself "
        "(QGIS opens .asc files as Float64).\n"
        + STRICT_HELP
        + "Results are named and defined as in QGIS's Raster layer statistics: minimum, "
        "maximum, range, sum, mean, standard deviation and sum of squares as this QGIS "
        "defines them (QGIS 3.22: the sample standard deviation, and the sum of squared "
        "deviations from the mean), plus the count of valid cells and of nodata cells."
    )

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_source_parameters("Grids", f"{GRID_FILES_FILTER};;GeoTIFF (*.tif *.tiff)")
        self.add_reading_parameters()
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                "OUTPUT_TABLE",
                self.tr("Statistics per file"),
                type=QgsProcessing.TypeVector,
                optional=True,
                createByDefault=False,
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "OUTPUT_HTML_FILE",
                self.tr("Statistics"),
                self.tr("HTML files (*.html *.HTML)"),
                optional=True,
            )
        )
        for name in OUTPUTS:
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(OUTPUT_LABELS[name])))

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        engine = self.engine()
        from ..atomic_files import write_text
        from ..tables import write_table  # GDAL: only when running

        inputs, folder, pattern = self.source_parameters(parameters, context)
        reading_options = self.reading_options(parameters, context)
        table = self.parameterAsOutputLayer(parameters, "OUTPUT_TABLE", context)
        self.check_destination("OUTPUT_TABLE", table)
        html = self.parameterAsFileOutput(parameters, "OUTPUT_HTML_FILE", context)
        if not inputs and not folder:
            raise QgsProcessingException("No grids: give Grids (INPUT) or a Folder (FOLDER).")

        with self.errors(engine, feedback):
            collected = collect_tiles(
                inputs, folder, pattern, feedback.isCanceled, engine=engine, also=_other_raster_file
            )
            report_ignored(feedback, collected.ignored, pattern)
            for name, reason in collected.problems:
                raise QgsProcessingException(f"{name}: {reason}")
            if not collected.tiles:
                raise QgsProcessingException(f"No grids matching {pattern!r} found.")
            other = {id(t) for t in collected.tiles if _other_raster(t)}
            grids = [t for t in collected.tiles if id(t) not in other]
            others = [t for t in collected.tiles if id(t) in other]
            size = {id(t): max(1, t.size()) for t in collected.tiles}
            total = sum(size.values())
            grid_share = 100.0 * sum(size[id(t)] for t in grids) / total

            per_file: dict[int, Summary] = {}
            combined: Summary | None = None
            if grids:
                results = engine.stats(
                    [t.source() for t in grids],
                    **reading_options,
                    per_source=True,
                    progress=Progress(feedback, 0, grid_share),
                )
                for tile, stats in zip(grids, results[:-1]):
                    per_file[id(tile)] = Summary(tile.name, stats)
                combined = Summary("(all)", results[-1])
            done = grid_share
            for tile in others:
                share = 100.0 * size[id(tile)] / total
                per_file[id(tile)] = _qgis_stats(
                    engine, tile, feedback, Progress(feedback, done, done + share)
                )
                done += share
            if others:
                # The engine's merge, whoever computed each file's statistics.
                parts = [per_file[id(t)].stats for t in collected.tiles]
                combined = Summary("(all)", engine.Stats.combine(parts))
            assert combined is not None

        results_out: dict[str, Any] = combined.outputs()
        summary = ", ".join(f"{k} {v}" for k, v in results_out.items())
        feedback.pushInfo(f"{len(collected.tiles)} file(s): {summary}")
        rows = [per_file[id(t)] for t in collected.tiles]
        with self.errors(engine, feedback):
            if table:
                write_table(table, TABLE_FIELDS, [r.row() for r in rows])
            if html:
                write_text(html, html_report(combined, rows))
        # Every declared output, also the ones not asked for (the modeler relies on it).
        results_out["OUTPUT_TABLE"] = table or None
        results_out["OUTPUT_HTML_FILE"] = html or None
        return results_out


def html_report(combined: Summary, rows: list[Summary]) -> str:
    """The Statistics output: the results as Raster layer statistics labels them, then one
    row per file, as an HTML page for the Results Viewer."""

    def cell(value: Any) -> str:
        return "" if value is None else escape(str(value))

    summary = "".join(
        f"<tr><th>{escape(OUTPUT_LABELS[name])}</th><td>{cell(value)}</td></tr>"
        for name, value in combined.outputs().items()
    )
    head = "".join(f"<th>{escape(name)}</th>" for name, _ in TABLE_FIELDS)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row.row()) + "</tr>" for row in rows
    )
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>'
        "<title>asciigrid statistics</title></head><body>"
        f"<h2>Statistics of {len(rows)} file(s)</h2><table>{summary}</table>"
        f'<h2>Per file</h2><table border="1"><tr>{head}</tr>{body}</table>'
        "</body></html>\n"
    )


def _other_raster_file(path: str) -> bool:
    """True for files GDAL identifies as a raster format other than an ASCII grid."""
    if path.lower().endswith(_GRID_EXTENSIONS):
        return False
    from osgeo import gdal

    driver = gdal.IdentifyDriver(path)
    return driver is not None and driver.ShortName not in _ASCII_DRIVERS


def _other_raster(tile: Tile) -> bool:
    return tile.path is not None and _other_raster_file(tile.path)


def _qgis_stats(
    engine: ModuleType, tile: Tile, feedback: QgsProcessingFeedback, progress: Progress
) -> Summary:
    """Band 1 statistics exactly as native:rasterlayerstatistics computes them, as the
    engine's ``Stats`` (so that they merge with the engine's)."""
    layer = QgsRasterLayer(tile.path or "", os.path.basename(tile.path or ""), "gdal")
    if not layer.isValid():
        raise QgsProcessingException(f"{tile.path}: QGIS cannot open this raster")
    provider = layer.dataProvider()

    relay = QgsRasterBlockFeedback()
    relay.progressChanged.connect(lambda p: progress.fraction(p / 100.0), Qt.DirectConnection)
    # Direct: the algorithm runs in a worker thread without an event loop.
    feedback.canceled.connect(relay.cancel, Qt.DirectConnection)
    if feedback.isCanceled():
        raise Cancelled()
    try:
        stats = provider.bandStatistics(1, QgsRasterBandStats.All, QgsRectangle(), 0, relay)
    finally:
        feedback.canceled.disconnect(relay.cancel)
    if feedback.isCanceled():
        raise Cancelled()
    count = int(stats.elementCount)
    cells = provider.xSize() * provider.ySize()
    deviations = float(stats.sumOfSquares)
    if count and not qgis_conventions()[1]:  # this QGIS reports squared values
        deviations -= count * stats.mean * stats.mean
    deviations = max(deviations, 0.0)  # the subtraction may round below 0
    return Summary(
        tile.name,
        engine.Stats(
            count=count,
            nodata_count=cells - count,
            min=stats.minimumValue if count else None,
            max=stats.maximumValue if count else None,
            sum=float(stats.sum),
            mean=stats.mean if count else None,
            std=math.sqrt(deviations / count) if count else None,
            sum_of_squared_deviations=deviations,
        ),
    )
