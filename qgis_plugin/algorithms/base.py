"""What the three algorithms share: engine access, progress/cancel, error messages."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
    QgsProperty,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..engine import EngineUnavailable, load_engine
from ..exceptions import Cancelled, OutputError
from ..sources import DEFAULT_PATTERN, GRID_FILES_FILTER

HELP_URL = "https://github.com/asciigrid/asciigrid/blob/main/docs/PLUGIN.md"
ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "icon.svg")

# The package QGIS imports the plugin as (``asciigrid_qgis`` when installed), for the
# dotted path of INPUT's widget.
PACKAGE = __name__.rsplit(".algorithms.", 1)[0]

DATA_TYPES: tuple[tuple[str, str | None], ...] = (
    ("Automatic (as GDAL reads the file)", None),
    ("Int32", "int32"),
    ("Float32", "float32"),
    ("Float64", "float64"),
)

COMPRESSIONS: tuple[tuple[str, str], ...] = (
    ("ZSTD with predictor", "ZSTD+PREDICTOR"),
    ("ZSTD", "ZSTD"),
    ("DEFLATE with predictor", "DEFLATE+PREDICTOR"),
    ("DEFLATE", "DEFLATE"),
    ("LZW", "LZW"),
    ("None", "NONE"),
)
"""COMPRESSION's choices: label, and the key of ``asciigrid.geotiff.CODECS`` (the first is
the engine's default)."""

WRITING_HELP = (
    "Compression: ZSTD with predictor (the default) is the fastest that keeps the file "
    "compact; DEFLATE or LZW for software built without ZSTD (GDAL before 2.3); None for "
    "the fastest write and the largest file.\n"
    "Cloud Optimized GeoTIFF: lay the file out for the cloud (headers first, each level's "
    "tiles together, valid by GDAL's rules), so web clients and object stores read only "
    "the parts they show; it takes longer, as the file is copied once more.\n"
)
"""The help prose of COMPRESSION and COG (see :meth:`AsciiGridAlgorithm.add_writing_parameters`)."""

CANCELLED = "Cancelled: nothing was written."

STRICT_HELP = (
    "Refuse text after the grid: by default a grid followed by lines of text (PROJECTION ..., "
    "NOTES ...) or by values left over after its last complete row is read as GDAL reads it, "
    "with a warning naming the file and line; checked, such a grid is an error.\n"
)
"""The help prose of STRICT (see :meth:`AsciiGridAlgorithm.add_reading_parameters`)."""

# What the writers (asciigrid.geotiff, tables.py) can produce, by destination type (the
# provider offers the same lists to QGIS's file dialogs).
RASTER_EXTENSIONS = ("tif", "tiff")
TABLE_EXTENSIONS = ("csv", "gpkg", "xlsx", "ods")
_FORMATS = {
    "rasterDestination": ("GeoTIFF", RASTER_EXTENSIONS),
    "vectorDestination": ("tables", TABLE_EXTENSIONS),
}


def destination_problem(definition: QgsProcessingParameterDefinition, path: str) -> str | None:
    """Why ``path`` cannot receive the output of ``definition`` (``None`` if it can).

    Checked before any work: GDAL would otherwise write a GeoTIFF under any name (``x.asc``
    that no reader then opens as a grid), and a folder is only found out at the final rename.
    """
    name = definition.name()
    if os.path.isdir(path):
        return f"{name}: {path} is a folder; give a file name, e.g. {os.path.join(path, name)}"
    fmt = _FORMATS.get(definition.type())
    if fmt is None:
        return None
    kind, extensions = fmt
    suffix = os.path.splitext(path)[1].lower()
    if suffix[1:] in extensions:
        return None
    allowed = " or ".join(f".{e}" for e in extensions)
    given = f"'{suffix}'" if suffix else "no extension"
    return (
        f"{name}: {path}: asciigrid writes {kind} only, a name ending in {allowed} "
        f"(this one has {given})"
    )


def _given_path(value: Any, context: QgsProcessingContext) -> str | None:
    """The file a destination parameter's raw value names, without resolving it (resolving
    a temporary output would create a name and queue a layer to load)."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink
    if isinstance(value, QgsProperty):
        value = value.valueAsString(context.expressionContext(), "")
        value = value[0] if isinstance(value, tuple) else value
    if not isinstance(value, str) or not value or value == QgsProcessing.TEMPORARY_OUTPUT:
        return None
    return value


class Progress:
    """Maps a step's progress onto ``[start, end]`` percent of the feedback's bar.

    Called as the engine's ``progress(done, total)`` callback (bytes processed) it returns
    ``False`` once the user cancels, which makes the engine stop and write nothing.
    """

    def __init__(self, feedback: QgsProcessingFeedback, start: float, end: float) -> None:
        self.feedback = feedback
        self.start = start
        self.end = end
        self.done = 0.0

    def __call__(self, done: int, total: int) -> bool:
        if total > 0:
            self.fraction(done / total)
        return not self.feedback.isCanceled()

    def fraction(self, fraction: float) -> bool:
        """``fraction`` of this step is done (0..1); False when cancelled."""
        fraction = min(1.0, max(self.done, fraction))  # never backwards, never past the end
        if fraction > self.done or fraction == 0.0:
            self.done = fraction
            self.feedback.setProgress(self.start + (self.end - self.start) * fraction)
        return not self.feedback.isCanceled()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the user pressed Cancel."""
        if self.feedback.isCanceled():
            raise Cancelled()


class AsciiGridAlgorithm(QgsProcessingAlgorithm):
    """Base class: names, help, icon, and helpers for parameters and errors."""

    NAME = ""
    DISPLAY_NAME = ""
    SHORT_DESCRIPTION = ""
    """The Toolbox tooltip (and the modeler's)."""
    TAGS: tuple[str, ...] = ()
    """Words the Toolbox search finds the algorithm by, beside its name."""
    HELP = ""
    """The help panel's prose; it names parameters by their labels, as the form shows them."""

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:
        return self.tr(self.DISPLAY_NAME)

    def shortDescription(self) -> str:
        return self.tr(self.SHORT_DESCRIPTION)

    def tags(self) -> list[str]:
        return [self.tr(tag) for tag in self.TAGS]

    def shortHelpString(self) -> str:
        return self.tr(self.HELP)

    def helpUrl(self) -> str:
        return f"{HELP_URL}#{self.NAME}"

    def icon(self) -> QIcon:
        return QIcon(ICON)

    def svgIconPath(self) -> str:
        return ICON

    def tr(self, text: str) -> str:
        return QCoreApplication.translate("asciigrid", text)

    def createInstance(self) -> QgsProcessingAlgorithm:
        return type(self)()

    def checkParameterValues(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[bool, str]:
        """QGIS's checks, then the destinations (run by the dialog, processing.run and
        qgis_process before the algorithm starts)."""
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        for definition in self.destinationParameterDefinitions():
            path = _given_path(parameters.get(definition.name()), context)
            problem = destination_problem(definition, path) if path else None
            if problem:
                return False, problem
        return True, ""

    def check_destination(self, name: str, path: str) -> str:
        """``path`` (resolved from parameter ``name``), or a QgsProcessingException saying
        why it cannot be written; for callers that skip checkParameterValues (models)."""
        definition = self.parameterDefinition(name)
        problem = destination_problem(definition, path) if definition and path else None
        if problem:
            raise QgsProcessingException(problem)
        return path

    # --- shared parameters -----------------------------------------------------------------

    def add_advanced(self, parameter: QgsProcessingParameterDefinition) -> None:
        """Add ``parameter`` to the form's collapsed Advanced Parameters section."""
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)

    def add_crs_parameter(self) -> None:
        self.addParameter(QgsProcessingParameterCrs("CRS", self.tr("Override CRS"), optional=True))

    def add_source_parameters(self, input_label: str, file_filter: str = GRID_FILES_FILTER) -> None:
        """INPUT (files and zips), FOLDER (searched recursively) and PATTERN (Advanced):
        where the grids come from, for the algorithms that take many."""
        files = QgsProcessingParameterMultipleLayers(
            "INPUT", self.tr(input_label), layerType=QgsProcessing.TypeFile, optional=True
        )
        # QGIS's own widget for this type opens every file as a layer (see widgets.py).
        wrapper = {"class": f"{PACKAGE}.widgets.GridFilesWidgetWrapper", "file_filter": file_filter}
        files.setMetadata({**files.metadata(), "widget_wrapper": wrapper})
        self.addParameter(files)
        self.addParameter(
            QgsProcessingParameterFile(
                "FOLDER",
                self.tr("Folder"),
                behavior=QgsProcessingParameterFile.Folder,
                optional=True,
            )
        )
        self.add_advanced(
            QgsProcessingParameterString(
                "PATTERN", self.tr("File name pattern"), defaultValue=DEFAULT_PATTERN
            )
        )

    def add_reading_parameters(self) -> None:
        """How grids are read, under Advanced: DATA_TYPE and STRICT (see
        :meth:`reading_options`)."""
        self.add_advanced(
            QgsProcessingParameterEnum(
                "DATA_TYPE",
                self.tr("Data type"),
                options=[self.tr(label) for label, _ in DATA_TYPES],
                defaultValue=0,
            )
        )
        self.add_advanced(
            QgsProcessingParameterBoolean(
                "STRICT", self.tr("Refuse text after the grid"), defaultValue=False
            )
        )

    def add_writing_parameters(self) -> None:
        """How the GeoTIFF is written, under Advanced: COMPRESSION and COG (see
        :meth:`writing_options`)."""
        self.add_advanced(
            QgsProcessingParameterEnum(
                "COMPRESSION",
                self.tr("Compression"),
                options=[self.tr(label) for label, _ in COMPRESSIONS],
                defaultValue=0,
            )
        )
        self.add_advanced(
            QgsProcessingParameterBoolean(
                "COG", self.tr("Cloud Optimized GeoTIFF"), defaultValue=False
            )
        )

    def writing_options(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> dict[str, Any]:
        """The GeoTIFF writer's keyword arguments for :meth:`add_writing_parameters`:
        ``codec`` and ``cog``."""
        index = self.parameterAsEnum(parameters, "COMPRESSION", context)
        if not 0 <= index < len(COMPRESSIONS):
            raise QgsProcessingException(f"COMPRESSION must be 0..{len(COMPRESSIONS) - 1}")
        return {
            "codec": COMPRESSIONS[index][1],
            "cog": self.parameterAsBoolean(parameters, "COG", context),
        }

    def reading_options(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> dict[str, Any]:
        """The engine's keyword arguments for :meth:`add_reading_parameters`: ``dtype`` and
        ``strict``."""
        return {
            "dtype": self.data_type(parameters, context),
            "strict": self.parameterAsBoolean(parameters, "STRICT", context),
        }

    def source_parameters(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[list[str], str, str]:
        """The values of :meth:`add_source_parameters`' INPUT, FOLDER and PATTERN."""
        inputs = [p for p in self.parameterAsFileList(parameters, "INPUT", context) if p]
        folder = self.parameterAsFile(parameters, "FOLDER", context)
        pattern = self.parameterAsString(parameters, "PATTERN", context)
        return inputs, folder, pattern

    def crs_wkt(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str | None:
        """The CRS parameter as WKT, or None when not given."""
        crs: QgsCoordinateReferenceSystem = self.parameterAsCrs(parameters, "CRS", context)
        if not crs.isValid():
            return None
        return crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED_GDAL)

    def data_type(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str | None:
        index = self.parameterAsEnum(parameters, "DATA_TYPE", context)
        if not 0 <= index < len(DATA_TYPES):
            raise QgsProcessingException(f"DATA_TYPE must be 0..{len(DATA_TYPES) - 1}")
        return DATA_TYPES[index][1]

    # --- engine and errors ------------------------------------------------------------------

    @staticmethod
    def engine() -> ModuleType:
        """The ``asciigrid`` module, or a QgsProcessingException saying how to install it."""
        try:
            return load_engine()
        except EngineUnavailable as err:
            raise QgsProcessingException(str(err)) from None

    @classmethod
    def geotiff(cls) -> ModuleType:
        """The engine's GeoTIFF writer (``asciigrid.geotiff``); it imports GDAL, so only
        when an algorithm runs."""
        cls.engine()
        from asciigrid import geotiff

        return geotiff

    @staticmethod
    @contextlib.contextmanager
    def errors(engine: ModuleType, feedback: QgsProcessingFeedback) -> Iterator[None]:
        """Turn every failure into a QgsProcessingException whose message names the file
        (and line and column for parse errors: ``tile.asc:12:31: expected a number``)."""
        try:
            with _warnings_to(feedback, engine):
                yield
            if feedback.isCanceled():
                raise Cancelled()
        except QgsProcessingException:
            raise
        except (Cancelled, engine.Cancelled):
            raise QgsProcessingException(CANCELLED) from None
        except (engine.AsciiGridError, OutputError) as err:
            raise QgsProcessingException(str(err)) from None
        except OSError as err:
            where = err.filename or "file"
            raise QgsProcessingException(f"{where}: {err.strerror or err}") from None
        except MemoryError:
            raise QgsProcessingException("Not enough memory for this input.") from None
        except Exception as err:  # never a bare traceback in the Processing log
            raise QgsProcessingException(f"{type(err).__name__}: {err}") from err


@contextlib.contextmanager
def _warnings_to(feedback: QgsProcessingFeedback, engine: ModuleType) -> Iterator[None]:
    """Show the engine's warnings (a grid read as GDAL reads it, with text after it ignored:
    ``tile.asc:12:1: ...``) in the Processing log as they happen, each one every time."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", engine.AsciiGridWarning)
        shown = warnings.showwarning

        def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if issubclass(category, engine.AsciiGridWarning):
                feedback.pushWarning(str(message))
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


def describe_error(err: BaseException) -> str:
    """``path:line:column: reason`` for parse errors, ``path: reason`` otherwise."""
    return str(err) if str(err) else type(err).__name__


def layer_name(path: str) -> str:
    """What a layer read from ``path`` is called: the file or folder name without its
    extension (``dem.asc.gz`` -> ``dem``, ``delivery.zip`` -> ``delivery``)."""
    base = os.path.basename(os.path.normpath(path))
    if base.lower().endswith(".gz"):
        base = base[:-3]
    return os.path.splitext(base)[0] or base


def mosaic_name(inputs: list[str], folder: str | None) -> str:
    """The mosaic's layer name: the folder searched, else the one file or archive given,
    else the folder the given files share."""
    if folder:
        return layer_name(folder)
    if len(inputs) == 1:
        return layer_name(inputs[0])
    parents = {os.path.dirname(os.path.abspath(p)) for p in inputs}
    return layer_name(parents.pop()) if len(parents) == 1 else ""


def name_layer(context: QgsProcessingContext, output: str, name: str) -> None:
    """Name the layer QGIS loads from ``output`` when the run ends (when it loads one);
    QGIS's "prefer file name as layer name" setting still wins for named files."""
    if name and context.willLoadLayerOnCompletion(output):
        context.layerToLoadOnCompletionDetails(output).name = name


def report_ignored(feedback: QgsProcessingFeedback, ignored: list[str], pattern: str) -> None:
    """One log line for the INPUT files left out (hidden files, sidecars, other names): not
    skipped tiles, but the user may have meant one of them."""
    if not ignored:
        return
    shown = ", ".join(os.path.basename(p) for p in ignored[:5])
    more = f" and {len(ignored) - 5} more" if len(ignored) > 5 else ""
    feedback.pushWarning(
        f"Ignored {len(ignored)} file(s) that are not grids matching the file name pattern "
        f"{pattern!r} (hidden files, sidecars such as .prj, other names): {shown}{more}"
    )
