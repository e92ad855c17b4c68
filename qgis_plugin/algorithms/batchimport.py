"""``asciigrid:batchimport``: many aligned tiles (loose, zipped, zips in zips) → one GeoTIFF."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingUtils,
)

from ..sources import Tile, collect_tiles
from .base import (
    STRICT_HELP,
    WRITING_HELP,
    AsciiGridAlgorithm,
    Progress,
    describe_error,
    mosaic_name,
    name_layer,
    report_ignored,
)

ON_ERROR_STOP, ON_ERROR_SKIP = 0, 1

# Share of the progress bar for collecting the tiles; reading and writing them (at the same
# time) take the rest.
_COLLECT = 5.0


class BatchImportAlgorithm(AsciiGridAlgorithm):
    NAME = "batchimport"
    DISPLAY_NAME = "Batch import ESRI ASCII tiles to one mosaic"
    SHORT_DESCRIPTION = (
        "Merges many ESRI ASCII grid tiles (loose, in zips, in zips in zips) into one "
        "GeoTIFF mosaic, memory bounded; bad tiles stop the run or are skipped and reported."
    )
    TAGS = (
        "merge",
        "mosaic",
        "tiles",
        "import",
        "DEM",
        "elevation",
        "zip",
        "ESRI",
        "ASCII",
        "asc",
        "AAIGrid",
        "GeoTIFF",
    )
    HELP = (
        "Merges many ESRI ASCII grid tiles into one tiled, compressed GeoTIFF, strip by "
        "strip, so memory does not grow with the mosaic. The mosaic covers the union of the "
        "tiles; gaps are nodata; where tiles overlap the later one wins. Tiles must share "
        "cell size and alignment; one that does not is an error naming it.\n"
        "Tiles: tile files and .zip archives, read in this order. Add Directory adds the "
        "tiles and zips of a folder (hidden files and sidecars such as .prj and .aux.xml "
        "left out); files that do not match the file name pattern are ignored.\n"
        "Folder: searched recursively for tiles matching the file name pattern and for .zip "
        "archives, read after Tiles, sorted by path. Give Tiles, a Folder, or both.\n"
        "Zips, zips nested in zips too, are read in place, never extracted.\n"
        "Override CRS: the CRS to assign; left empty, the CRS of the tiles' .prj (looked up "
        "inside zips too).\n"
        "On a bad tile: stop at the first bad tile (nothing is written), or skip it: it "
        "stays nodata and is listed (file:line:column: reason) in the log and in the "
        "skipped tiles report. When no tile is usable the run fails, listing every tile "
        "and why.\n"
        "Build overviews: internal overviews for fast display at small scales.\n"
        "Mosaic: the GeoTIFF, a name ending in .tif or .tiff. The new layer is named after "
        "the folder or the archive read.\n"
        "Skipped tiles report: a text file listing the skipped tiles (always written).\n"
        "Advanced: File name pattern, the tiles to read (default *.asc, case-insensitive; "
        "several separated by ';', e.g. *.asc;*.txt), in the folder, in zips and among "
        "Tiles. Data type: Automatic follows GDAL's rule (the widest type of the tiles), or "
        "force Int32, Float32 or Float64.\n"
        + STRICT_HELP
        + WRITING_HELP
        + "Results: the mosaic, the number of tiles in it, the number skipped, the report."
    )

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_source_parameters("Tiles")
        self.add_crs_parameter()
        self.add_reading_parameters()
        self.addParameter(
            QgsProcessingParameterEnum(
                "ON_ERROR",
                self.tr("On a bad tile"),
                options=[
                    self.tr("Stop"),
                    self.tr("Skip and report"),
                ],
                defaultValue=ON_ERROR_STOP,
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                "BUILD_OVERVIEWS", self.tr("Build overviews"), defaultValue=False
            )
        )
        self.add_writing_parameters()
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Mosaic")))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "REPORT",
                self.tr("Skipped tiles report"),
                fileFilter="Text files (*.txt)",
                defaultValue=QgsProcessing.TEMPORARY_OUTPUT,
                optional=True,
                createByDefault=True,
            )
        )
        self.addOutput(QgsProcessingOutputNumber("TILE_COUNT", self.tr("Tiles in the mosaic")))
        self.addOutput(QgsProcessingOutputNumber("SKIPPED_COUNT", self.tr("Tiles skipped")))

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        engine = self.engine()
        from ..atomic_files import make_folder_for, write_text

        geotiff = self.geotiff()

        inputs, folder, pattern = self.source_parameters(parameters, context)
        reading_options = self.reading_options(parameters, context)
        crs_wkt = self.crs_wkt(parameters, context)
        skip = self.parameterAsEnum(parameters, "ON_ERROR", context) == ON_ERROR_SKIP
        overviews = self.parameterAsBoolean(parameters, "BUILD_OVERVIEWS", context)
        writing_options = self.writing_options(parameters, context)
        output = self.check_destination(
            "OUTPUT", self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        )
        # The report is always written (a temporary file when REPORT is not given), so the
        # output is there for the modeler and for scripts.
        report_path = self.parameterAsFileOutput(
            parameters, "REPORT", context
        ) or QgsProcessingUtils.generateTempFilename("batchimport_report.txt")
        self.check_destination("REPORT", report_path)
        if not inputs and not folder:
            raise QgsProcessingException("No tiles: give Tiles (INPUT) or a Folder (FOLDER).")

        skipped: list[str] = []

        def skip_tile(name: str, reason: str) -> None:
            line = reason if reason.startswith(name) else f"{name}: {reason}"
            if not skip:
                raise QgsProcessingException(line)
            skipped.append(line)
            feedback.reportError(f"Skipped {line}", fatalError=False)

        def all_skipped() -> QgsProcessingException:
            """Every tile was bad: the report still lists them, and so does the error."""
            write_text(report_path, _report(0, skipped))
            return QgsProcessingException(
                f"None of the {len(skipped)} tiles could be read; no mosaic was written. "
                f"Each tile and why (also in {report_path}):\n" + "\n".join(skipped)
            )

        with self.errors(engine, feedback):
            collected = collect_tiles(inputs, folder, pattern, feedback.isCanceled, engine=engine)
            report_ignored(feedback, collected.ignored, pattern)
            Progress(feedback, 0, _COLLECT).check()
            for name, reason in collected.problems:
                skip_tile(name, reason)
            tiles = collected.tiles
            if not tiles:
                if skipped:
                    raise all_skipped()
                where = f" in {folder}" if folder else ""
                raise QgsProcessingException(f"No tiles matching {pattern!r} found{where}.")
            feedback.pushInfo(f"{len(tiles)} tiles")
            feedback.setProgress(_COLLECT)

            sources = [t.source() for t in tiles]
            try:
                layout = engine.mosaic_layout(sources, skip_errors=skip, **reading_options)
            except ValueError:
                reasons = _tile_errors(engine, tiles, sources, reading_options) if skip else None
                if not reasons:
                    raise
                layout = None  # every tile is bad: each one's reason, for REPORT
                for name, reason in reasons:
                    skip_tile(name, reason)
            if layout is not None:
                for name, err in layout.skipped:
                    skip_tile(name, describe_error(err))
            if layout is None or not layout.tiles:
                raise all_skipped()
            # The plan holds what the strips need; the tiles as found (names, .prj texts and
            # the start of each one's text) would stay in memory through the whole write.
            del collected, tiles, sources
            header = layout.header
            if crs_wkt is None:
                # The tiles' CRS: the engine refuses (or skips) a tile in another one.
                crs_wkt = layout.crs_wkt
                if crs_wkt is None:
                    feedback.pushWarning("The tiles have no usable .prj; no CRS set.")
            feedback.pushInfo(
                f"Mosaic: {header.ncols} x {header.nrows} {header.dtype.name}, "
                f"nodata {header.nodata}, geotransform {header.geotransform}"
            )

            body_failures = 0
            reading = _StripProgress(feedback, _COLLECT, 100, layout.bands, header.nrows)
            make_folder_for(output)
            # Strips are written (overviews and statistics included) by the writer's thread
            # while the engine parses the next one; the file is complete when the block ends.
            # The writer is done with a strip once it takes the next, so two arrays, used in
            # turn, hold every strip.
            with geotiff.GeoTiffWriter(
                output,
                shape=(header.nrows, header.ncols),
                dtype=header.dtype,
                geotransform=header.geotransform,
                crs_wkt=crs_wkt,
                nodata=header.nodata,
                overviews=overviews,
                progress=reading.written,
                **writing_options,
            ) as tif:
                strips = engine.iter_mosaic_strips(
                    layout, skip_errors=skip, progress=reading, buffers=2
                )
                for row_start, strip, failed in strips:
                    reading.strip_done(strip.shape[0])
                    reading.check()
                    tif.write(row_start, strip)
                    for name, err in failed:
                        body_failures += 1
                        skip_tile(name, describe_error(err))
                if body_failures == len(layout.tiles):
                    raise all_skipped()  # an all-nodata mosaic is not a result
            tile_count = len(layout.tiles) - body_failures
            write_text(report_path, _report(tile_count, skipped))

        name_layer(context, output, mosaic_name(inputs, folder))
        results: dict[str, Any] = {
            "OUTPUT": output,
            "TILE_COUNT": tile_count,
            "SKIPPED_COUNT": len(skipped),
            "REPORT": report_path,
        }
        if skipped:
            feedback.pushWarning(f"{len(skipped)} tile(s) skipped; listed in {report_path}")
        return results


class _StripProgress(Progress):
    """One bar for reading and writing the mosaic: the engine reports progress per strip
    (``done``/``total`` of the strip being read), placed within the whole mosaic, and the
    GeoTIFF writer the share it has written (data, overviews, statistics); the bar shows
    their mean, so it only moves forward and never waits at 100% for the writer."""

    def __init__(
        self,
        feedback: QgsProcessingFeedback,
        start: float,
        end: float,
        bands: list[tuple[int, int]],
        nrows: int,
    ) -> None:
        super().__init__(feedback, start, end)
        self.bands = bands
        self.nrows = max(1, nrows)
        self.rows_done = 0
        self.index = 0
        self.read = 0.0
        self.wrote = 0.0

    def __call__(self, done: int, total: int) -> bool:
        rows = self.bands[self.index][1] if self.index < len(self.bands) else 0
        within = done / total if total > 0 else 0.0
        self.read = (self.rows_done + rows * min(1.0, within)) / self.nrows
        return self.fraction((self.read + self.wrote) / 2)

    def strip_done(self, rows: int) -> None:
        self.rows_done += rows
        self.index += 1
        self.read = self.rows_done / self.nrows
        self.fraction((self.read + self.wrote) / 2)

    def written(self, fraction: float) -> bool:
        """The GeoTIFF writer's progress (0..1); False when cancelled."""
        self.wrote = fraction
        return self.fraction((self.read + self.wrote) / 2)


def _tile_errors(
    engine: Any, tiles: list[Tile], sources: list[Any], reading_options: dict[str, Any]
) -> list[tuple[str, str]] | None:
    """``(name, reason)`` of every tile when each one alone fails to plan (the engine's
    "none of the N tiles could be used" error says so in one text; REPORT lists them one
    per line), else ``None``: the failure was about the tiles together (extent, cell size),
    and the engine's error says which."""
    reasons: list[tuple[str, str]] = []
    for tile, source in zip(tiles, sources):
        try:
            engine.mosaic_layout([source], **reading_options)
        except ValueError as err:
            reasons.append((tile.name, describe_error(err)))
        else:
            return None
    return reasons


def _report(tile_count: int, skipped: list[str]) -> str:
    lines = [
        "# asciigrid:batchimport report",
        f"# tiles in the mosaic: {tile_count}",
        f"# tiles skipped: {len(skipped)}",
        *skipped,
    ]
    return "\n".join(lines) + "\n"
