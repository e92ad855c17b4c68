"""The Processing dialogs as the Toolbox builds them (``processing.createAlgorithmDialog``,
real QGIS widgets, offscreen): what choosing files does, the file pickers, labels, help,
Advanced parameters, the Toolbox search and tooltips, layer names (issue #12)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from plugin_helpers import ALGORITHMS, PROVIDER, leftovers

MANY = ("asciigrid:batchimport", "asciigrid:stats")
GRID = "ncols 2\nnrows 2\nxllcorner {x}\nyllcorner 0\ncellsize 1\nNODATA_value -9999\n1 2\n3 4\n"
PRJ = 'PROJCS["ETRS89 / UTM zone 32N",GEOGCS["ETRS89",DATUM["D_ETRS_1989"]]]\n'


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """A folder as users get it: tiles with their sidecars, a zip, a readme, hidden files."""
    folder = tmp_path / "delivery"
    (folder / "sub").mkdir(parents=True)
    (folder / "tile_a.asc").write_text(GRID.format(x=0))
    (folder / "tile_a.prj").write_text(PRJ)
    (folder / "sub" / "tile_b.asc").write_text(GRID.format(x=2))
    (folder / "sub" / "tile_b.asc.aux.xml").write_text("<PAMDataset/>\n")
    (folder / ".tile_c.asc").write_text("not a grid\n")
    (folder / "readme.txt").write_text("Delivered tiles\n")
    with zipfile.ZipFile(folder / "more.zip", "w") as archive:
        archive.writestr("tile_d.asc", GRID.format(x=4))
    return folder


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
def _no_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialogs as a standalone PyQGIS application builds them: without QGIS desktop's
    ``iface`` (pytest-qgis puts a stand-in there whose browser model is not a real one)."""
    import processing.gui.BatchPanel
    import processing.gui.ParametersPanel
    import processing.modeler.ModelerParametersDialog

    monkeypatch.setattr(processing.gui.ParametersPanel, "iface", None)
    monkeypatch.setattr(processing.gui.BatchPanel, "iface", None)
    monkeypatch.setattr(processing.modeler.ModelerParametersDialog, "iface", None)


def _dialog(algorithm: str, parameters: dict[str, Any]) -> Any:
    """The Toolbox's dialog (``processing.createAlgorithmDialog`` without a main window)."""
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from qgis.core import QgsApplication

    dialog = AlgorithmDialog(QgsApplication.processingRegistry().createAlgorithmById(algorithm))
    dialog.setParameters(parameters)
    QgsApplication.processEvents()
    return dialog


def _wrapper(dialog: Any, name: str) -> Any:
    return dialog.mainWidget().wrappers[name]


@pytest.fixture
def log_messages() -> Iterator[list[str]]:
    """Every message QGIS logs (Log Messages panel) while the test runs."""
    from qgis.core import QgsApplication

    messages: list[str] = []

    def keep(message: str, tag: str, level: Any) -> None:
        messages.append(f"[{tag}] {message}")

    QgsApplication.messageLog().messageReceived.connect(keep)
    yield messages
    QgsApplication.messageLog().messageReceived.disconnect(keep)


def _on_modal(action: Callable[[Any], Any]) -> list[Any]:
    """Run ``action`` on the next modal dialog (a QFileDialog) as soon as it is shown;
    returns a list that receives what ``action`` returns (or raises)."""
    from qgis.PyQt.QtCore import QTimer
    from qgis.PyQt.QtWidgets import QApplication

    seen: list[Any] = []

    def poll() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            QTimer.singleShot(10, poll)
            return
        try:
            seen.append(action(modal))
        except Exception as err:  # an exception in a Qt slot would abort the process
            seen.append(err)
            modal.reject()

    QTimer.singleShot(0, poll)
    return seen


@pytest.mark.parametrize("algorithm", MANY)
def test_choosing_files_writes_nothing_beside_them(
    provider, user_folder: Path, algorithm: str
) -> None:
    """QGIS's own widget opened every chosen file through GDAL, which wrote ``.aux.xml``
    beside the user's grids even when the dialog was closed without running."""
    before = _files(user_folder)
    dialog = _dialog(algorithm, {"INPUT": [str(p) for p in before]})
    dialog.close()
    dialog.deleteLater()
    from qgis.core import QgsApplication

    QgsApplication.processEvents()
    assert _files(user_folder) == before


@pytest.mark.parametrize("algorithm", MANY)
def test_choosing_files_opens_none_of_them(
    provider, user_folder: Path, algorithm: str, log_messages: list[str]
) -> None:
    """No ``[OGR] Cannot open ...``: no provider is asked to open the files."""
    _dialog(algorithm, {"INPUT": [str(p) for p in _files(user_folder)]}).close()
    assert [m for m in log_messages if str(user_folder) in m] == []


@pytest.mark.parametrize("algorithm", MANY)
def test_chosen_files_reach_the_algorithm_unchanged(
    provider, user_folder: Path, algorithm: str
) -> None:
    """QGIS's own widget turned a zip into ``/vsizip/...`` and dropped files no provider
    opens; the algorithm decides what it reads."""
    chosen = [str(p) for p in _files(user_folder)]
    dialog = _dialog(algorithm, {"INPUT": chosen})
    assert dialog.createProcessingParameters()["INPUT"] == chosen


def test_add_files_offers_esri_ascii_grids(provider) -> None:
    panel = _wrapper(_dialog("asciigrid:batchimport", {}), "INPUT").widget
    dialog = type_of_files_dialog(panel)

    def filters(modal: Any) -> list[str]:
        names = modal.nameFilters()
        modal.reject()
        return names

    shown = _on_modal(filters)
    dialog.add_files_button.click()
    assert shown and not isinstance(shown[0], Exception), shown
    assert shown[0][0] == "ESRI ASCII grids (*.asc *.asc.gz *.txt *.zip)", shown


def test_add_directory_adds_only_what_would_be_read(provider, user_folder: Path) -> None:
    """Tiles matching the file name pattern and zips; no sidecar, hidden file or readme."""
    from qgis.core import QgsSettings
    from qgis.PyQt.QtWidgets import QDialogButtonBox

    panel = _wrapper(_dialog("asciigrid:stats", {}), "INPUT").widget
    dialog = type_of_files_dialog(panel)

    def choose(modal: Any) -> list[str]:
        modal.selectFile(str(user_folder))
        chosen = modal.selectedFiles()
        # QFileDialog.accept() is protected: press its Choose button, as a user does.
        modal.findChild(QDialogButtonBox).button(QDialogButtonBox.Open).click()
        if modal.isVisible():  # not accepted: fail the test rather than wait forever
            modal.reject()
        return chosen

    # The picker opens where the last one was left (a test folder of an earlier run).
    QgsSettings().setValue("/Processing/LastInputPath", str(user_folder.parent))
    chosen = _on_modal(choose)
    dialog.add_folder_button.click()
    assert chosen == [[str(user_folder)]]
    assert dialog.paths() == [
        str(user_folder / "more.zip"),
        str(user_folder / "sub" / "tile_b.asc"),
        str(user_folder / "tile_a.asc"),
    ]


def type_of_files_dialog(panel: Any) -> Any:
    """The list dialog the INPUT panel's "…" button opens (built, not shown modally)."""
    import importlib

    widgets = importlib.import_module(f"{type(panel).__module__}")
    return widgets.GridFilesDialog(panel.paths(), panel.file_filter, panel.pattern, panel)


def test_batch_mode_uses_the_same_input_widget(provider, user_folder: Path) -> None:
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("asciigrid:stats")
    dialog = BatchAlgorithmDialog(algorithm)
    panel = dialog.mainWidget()
    column = panel.parameter_to_column["INPUT"]
    assert type(panel.wrappers[0][column]).__name__ == "GridFilesWidgetWrapper"


def test_modeler_keeps_qgis_input_widget(provider) -> None:
    """In a model, INPUT takes model inputs and other algorithms' outputs (the batchimport ->
    stats chain of tests/data): QGIS's own modeler widget, not the file picker."""
    from plugin_helpers import REPO_ROOT
    from processing.modeler.ModelerParametersDialog import ModelerParametersDialog
    from qgis.core import QgsApplication, QgsProcessingModelAlgorithm
    from qgis.gui import QgsProcessingModelerParameterWidget

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(REPO_ROOT / "tests" / "data" / "batch_then_stats.model3"))
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("asciigrid:stats")
    dialog = ModelerParametersDialog(algorithm, model, "stats")
    wrapper = dialog.widget.widget.wrappers["INPUT"]
    assert isinstance(wrapper, QgsProcessingModelerParameterWidget)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_labels_fit_the_default_dialog(provider, algorithm: str) -> None:
    """Every label is shown whole in the parameter column at the size QGIS opens it."""
    from qgis.PyQt.QtWidgets import QLabel

    dialog = _dialog(f"{PROVIDER}:{algorithm}", {})
    dialog.show()
    from qgis.core import QgsApplication

    QgsApplication.processEvents()
    panel = dialog.mainWidget()
    width = panel.width()
    too_wide = [
        label.text()
        for label in panel.findChildren(QLabel)
        if label.fontMetrics().horizontalAdvance(label.text()) > width
    ]
    dialog.close()
    assert width > 0
    assert too_wide == []


def _algorithm(name: str) -> Any:
    from qgis.core import QgsApplication

    return QgsApplication.processingRegistry().algorithmById(f"{PROVIDER}:{name}")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_help_speaks_in_labels_not_ids(provider, algorithm: str) -> None:
    import re

    alg = _algorithm(algorithm)
    help_text = alg.shortHelpString()
    labels = {p.description() for p in alg.parameterDefinitions()}
    # "CRS" is also a word of the label "Override CRS".
    ids = {p.name() for p in alg.parameterDefinitions()} - {"CRS"}
    assert [i for i in ids if re.search(rf"\b{i}\b", help_text)] == []
    assert [label for label in labels if label not in help_text] == []


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_reading_and_writing_options_are_advanced(provider, algorithm: str) -> None:
    from qgis.core import QgsProcessingParameterDefinition

    advanced = {
        p.name()
        for p in _algorithm(algorithm).parameterDefinitions()
        if p.flags() & QgsProcessingParameterDefinition.FlagAdvanced
    }
    reading = {"DATA_TYPE", "STRICT"}
    writing = {"COMPRESSION", "COG"} if algorithm in ("fastload", "batchimport") else set()
    sources = set() if algorithm == "fastload" else {"PATTERN"}
    assert advanced == sources | reading | writing


def _toolbox(filter_text: str) -> list[str]:
    """The algorithm ids the Processing Toolbox shows when ``filter_text`` is searched."""
    from qgis.core import QgsApplication
    from qgis.gui import QgsProcessingToolboxModel, QgsProcessingToolboxProxyModel

    model = QgsProcessingToolboxProxyModel(None, QgsApplication.processingRegistry())
    model.setFilterString(filter_text)
    found: list[str] = []

    def walk(parent: Any) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            alg = model.toolboxModel().algorithmForIndex(model.mapToSource(index))
            if alg is not None:
                found.append(alg.id())
            walk(index)

    walk(model.index(-1, -1))
    assert isinstance(model.toolboxModel(), QgsProcessingToolboxModel)
    return found


@pytest.mark.parametrize("word", ["merge", "mosaic", "dem", "tiles", "import"])
def test_toolbox_search_finds_batchimport(provider, word: str) -> None:
    assert "asciigrid:batchimport" in _toolbox(word)


def test_toolbox_search_finds_stats_by_statistics(provider) -> None:
    assert "asciigrid:stats" in _toolbox("statistics")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_toolbox_tooltip_describes_the_algorithm(provider, algorithm: str) -> None:
    from qgis.core import QgsApplication
    from qgis.gui import QgsProcessingToolboxModel
    from qgis.PyQt.QtCore import Qt

    alg = _algorithm(algorithm)
    model = QgsProcessingToolboxModel(None, QgsApplication.processingRegistry())
    index = model.indexForProvider(PROVIDER)
    rows = [model.index(r, 0, index) for r in range(model.rowCount(index))]
    tip = next(
        model.data(i, Qt.ToolTipRole) for i in rows if model.algorithmForIndex(i).id() == alg.id()
    )
    assert alg.shortDescription() and alg.shortDescription() in tip


def _loaded_layer_names(algorithm: str, parameters: dict[str, Any]) -> list[str]:
    """Run as the Toolbox does with results loaded into the project; the new layers' names."""
    import processing
    from qgis.core import QgsProject

    project = QgsProject.instance()
    before = set(project.mapLayers())
    processing.runAndLoadResults(algorithm, {**parameters, "OUTPUT": "TEMPORARY_OUTPUT"})
    added = [project.mapLayer(i) for i in set(project.mapLayers()) - before]
    names = sorted(layer.name() for layer in added)
    project.removeMapLayers([layer.id() for layer in added])
    return names


def test_fastload_layer_is_named_after_the_grid(provider, user_folder: Path) -> None:
    names = _loaded_layer_names("asciigrid:fastload", {"INPUT": str(user_folder / "tile_a.asc")})
    assert names == ["tile_a"]


def test_mosaic_layer_is_named_after_the_folder(provider, user_folder: Path) -> None:
    names = _loaded_layer_names("asciigrid:batchimport", {"FOLDER": str(user_folder)})
    assert names == ["delivery"]


def test_mosaic_layer_is_named_after_the_archive(provider, user_folder: Path) -> None:
    names = _loaded_layer_names("asciigrid:batchimport", {"INPUT": [str(user_folder / "more.zip")]})
    assert names == ["more"]


def test_dialog_leaves_the_folder_as_it_was_after_a_run(provider, user_folder: Path) -> None:
    """Running (not only choosing) reads the files without GDAL sidecars either."""
    import processing

    before = leftovers(user_folder)
    processing.run("asciigrid:stats", {"INPUT": [str(p) for p in _files(user_folder)]})
    assert leftovers(user_folder) == before


def test_compression_choices_are_the_writers_codecs(provider, plugin_package: str) -> None:
    import importlib

    from asciigrid import geotiff

    base = importlib.import_module(f"{plugin_package}.algorithms.base")
    values = [value for _, value in base.COMPRESSIONS]
    assert sorted(values) == sorted(geotiff.CODECS)
    assert values[0] == geotiff.DEFAULT_CODEC  # the form's default is the writer's
