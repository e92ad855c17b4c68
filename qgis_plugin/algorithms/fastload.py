"""``asciigrid:fastload``: one ESRI ASCII grid → a styled-at-once GeoTIFF."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
)

from ..sources import not_a_regular_file
from .base import (
    STRICT_HELP,
    WRITING_HELP,
    AsciiGridAlgorithm,
    Progress,
    layer_name,
    name_layer,
)

GRID_FILTER = "ESRI ASCII grids (*.asc *.ASC *.asc.gz *.txt *.grd *.gz);;All files (*)"

# Share of the progress bar: opening the grid (a large file's first pass, counting its
# values; a small one is read whole), then parsing strip by strip while the GeoTIFF is
# written (compression, overviews and statistics in one pass).
_OPEN = 15.0


class FastLoadAlgorithm(AsciiGridAlgorithm):
    NAME = "fastload"
    DISPLAY_NAME = "Fast load ESRI ASCII grid"
    SHORT_DESCRIPTION = (
        "Converts one ESRI ASCII grid (.asc, .asc.gz) to a compressed GeoTIFF with "
        "overviews and statistics, much faster than GDAL, with GDAL's values."
    )
    TAGS = ("import", "convert", "DEM", "elevation", "ESRI", "ASCII", "asc", "AAIGrid", "GeoTIFF")
    HELP = (
        "Reads one ESRI ASCII grid with the asciigrid engine — an order of magnitude faster "
        "than GDAL, with exactly GDAL's values — and writes it as a tiled, compressed GeoTIFF "
        "with nodata, internal overviews and band statistics, so QGIS displays and styles it "
        "at once. The new layer is named after the grid.\n\n"
        "ESRI ASCII grid: the .asc file; any extension (.txt, .grd, …) and "
        "gzip-compressed grids (.asc.gz) are read too.\n"
        "Override CRS: the CRS to assign; left empty, the CRS of the .prj beside the "
        "grid, else none.\n"
        "Build overviews: internal overviews for fast display at small scales.\n"
        "GeoTIFF: the output, a name ending in .tif or .tiff.\n\n"
        "Advanced: Data type. Automatic follows GDAL's rule (Int32 unless the file "
        "has decimals, then Float32); or force Int32, Float32 or Float64. QGIS itself opens "
        ".asc files as Float64.\n"
        + STRICT_HELP
        + WRITING_HELP
        + "\nA grid GDAL would misread (a garbage value, too few or too many values, a bad "
        "header) is an error naming file, line and column; nothing is written."
    )

    def initAlgorithm(self, config: Any = None) -> None:
        self.addParameter(
            QgsProcessingParameterFile(
                "INPUT",
                self.tr("ESRI ASCII grid"),
                behavior=QgsProcessingParameterFile.File,
                fileFilter=GRID_FILTER,
            )
        )
        self.add_crs_parameter()
        self.add_reading_parameters()
        self.addParameter(
            QgsProcessingParameterBoolean(
                "BUILD_OVERVIEWS", self.tr("Build overviews"), defaultValue=True
            )
        )
        self.add_writing_parameters()
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("GeoTIFF")))

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        engine = self.engine()
        geotiff = self.geotiff()
        from ..atomic_files import make_folder_for

        path = self.parameterAsFile(parameters, "INPUT", context)
        reading_options = self.reading_options(parameters, context)
        crs_wkt = self.crs_wkt(parameters, context)
        overviews = self.parameterAsBoolean(parameters, "BUILD_OVERVIEWS", context)
        writing_options = self.writing_options(parameters, context)
        output = self.check_destination(
            "OUTPUT", self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        )

        with self.errors(engine, feedback):
            problem = not_a_regular_file(path)
            if problem is not None:
                raise QgsProcessingException(f"{path}: {problem}")
            grid = engine.open_strips(
                path, progress=Progress(feedback, 0, _OPEN), **reading_options
            )
            header = grid.header
            feedback.pushInfo(
                f"{path}: {header.ncols} x {header.nrows} {header.dtype.name}, "
                f"nodata {header.nodata}"
            )
            if crs_wkt is None:
                crs_wkt = grid.crs_wkt
                if crs_wkt is None:
                    feedback.pushWarning(f"{path}: no usable .prj beside the grid; no CRS set")
            make_folder_for(output)
            # Each strip is parsed while the writer compresses the one before.
            geotiff.write_geotiff(
                output,
                grid,
                crs_wkt=crs_wkt,
                overviews=overviews,
                progress=Progress(feedback, _OPEN, 100).fraction,
                **writing_options,
            )

        name_layer(context, output, layer_name(path))
        return {"OUTPUT": output}
