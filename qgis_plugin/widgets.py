"""The INPUT widget of batchimport and stats in QGIS's dialogs (Toolbox and batch mode).

INPUT is a ``QgsProcessingParameterMultipleLayers`` of files (models and ``qgis_process``
rely on that type), but QGIS 3.22's own widget for it treats every file as a layer: setting
a value opens each one with OGR, GDAL, MDAL and the point cloud providers (``[OGR] Cannot
open ...`` in the log, a stall that grows with the file, ``.aux.xml`` written beside the
user's grid), replaces a zip by ``/vsizip/...`` and drops files no provider opens. Its
"Add File(s)…" offers only "All files" and its "Add Directory…" adds every file of the
folder. This widget keeps paths as paths: nothing is opened, "Add File(s)…" offers ESRI
ASCII grids, and "Add Directory…" adds what the algorithm would read from that folder
(:func:`sources.find_in_folder` with the dialog's file name pattern).

Imported only by the dialogs, through the parameter's ``widget_wrapper`` metadata; the
graphical modeler keeps QGIS's own widget (it also offers model inputs and child outputs).
"""

from __future__ import annotations

import os
from typing import Any, Callable

from processing.gui.wrappers import WidgetWrapper
from qgis.core import NULL, QgsSettings
from qgis.gui import QgsGui
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .sources import DEFAULT_PATTERN, GRID_FILES_FILTER, find_in_folder, split_patterns

__all__ = ["GridFilesDialog", "GridFilesPanel", "GridFilesWidgetWrapper"]

_LAST_PATH = "/Processing/LastInputPath"  # where QGIS's own file pickers start


def _as_paths(value: Any) -> list[str]:
    if value is None or value == NULL or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and v != NULL and str(v)]
    return [str(value)]


class GridFilesDialog(QDialog):
    """The list of INPUT files, with "Add File(s)…", "Add Directory…", "Remove", "Clear"."""

    def __init__(
        self,
        paths: list[str],
        file_filter: str,
        pattern: Callable[[], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Input files"))
        self.file_filter = file_filter
        self.pattern = pattern
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.setDragDropMode(QAbstractItemView.InternalMove)
        self.list.addItems(paths)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.add_files_button = QPushButton(self.tr("Add File(s)…"))
        self.add_folder_button = QPushButton(self.tr("Add Directory…"))
        remove = QPushButton(self.tr("Remove"))
        clear = QPushButton(self.tr("Clear"))
        for button in (self.add_files_button, self.add_folder_button, remove, clear):
            buttons.addButton(button, QDialogButtonBox.ActionRole)
        self.add_files_button.clicked.connect(self.add_files)
        self.add_folder_button.clicked.connect(self.add_folder)
        remove.clicked.connect(self.remove_selected)
        clear.clicked.connect(self.list.clear)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def paths(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def add(self, paths: list[str]) -> None:
        have = set(self.paths())
        self.list.addItems([p for p in paths if p not in have])

    def add_files(self) -> None:
        settings = QgsSettings()
        start = settings.value(_LAST_PATH, os.path.expanduser("~"))
        names, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Select File(s)"), start, self.file_filter
        )
        if names:
            settings.setValue(_LAST_PATH, os.path.dirname(names[0]))
            self.add(names)

    def add_folder(self) -> None:
        settings = QgsSettings()
        start = settings.value(_LAST_PATH, os.path.expanduser("~"))
        folder = QFileDialog.getExistingDirectory(self, self.tr("Select Directory"), start)
        if folder:
            settings.setValue(_LAST_PATH, folder)
            self.add(find_in_folder(folder, split_patterns(self.pattern())))

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))


class GridFilesPanel(QWidget):
    """A summary line ("3 files selected", or the one path) and a "…" button."""

    changed = pyqtSignal()

    def __init__(self, file_filter: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.file_filter = file_filter
        self.pattern: Callable[[], str] = lambda: DEFAULT_PATTERN
        self._paths: list[str] = []
        self.line = QLineEdit()
        self.line.setReadOnly(True)
        self.line.setPlaceholderText(self.tr("Grids and .zip archives"))
        self.button = QToolButton()
        self.button.setText("…")
        self.button.clicked.connect(self.choose)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line, 1)
        layout.addWidget(self.button)

    def paths(self) -> list[str]:
        return list(self._paths)

    def set_paths(self, paths: list[str]) -> None:
        self._paths = list(paths)
        if len(paths) == 1:
            self.line.setText(paths[0])
        else:
            self.line.setText(self.tr("{} files selected").format(len(paths)) if paths else "")
        self.line.setToolTip("\n".join(paths))
        self.changed.emit()

    def choose(self) -> None:
        dialog = GridFilesDialog(self._paths, self.file_filter, self.pattern, self)
        if dialog.exec_() == QDialog.Accepted:
            self.set_paths(dialog.paths())


class GridFilesWidgetWrapper(WidgetWrapper):
    """The Python widget wrapper QGIS creates for INPUT from its ``widget_wrapper`` metadata
    in the Toolbox and batch dialogs; in the modeler, QGIS's own modeler widget."""

    def __new__(cls, param: Any, dialog: Any, row: int = 0, col: int = 0, **kwargs: Any) -> Any:
        # The modeler's widget offers model inputs and child outputs (the batchimport ->
        # stats chain); a path picker there would lose them. Same call as QGIS's factory.
        if type(dialog).__name__ == "ModelerParametersDialog":
            return QgsGui.processingGuiRegistry().createModelerParameterWidget(
                dialog.model, dialog.childId, param, dialog.context
            )
        return super().__new__(cls)

    def createWidget(self, file_filter: str = GRID_FILES_FILTER, **kwargs: Any) -> QWidget:  # noqa: N802
        panel = GridFilesPanel(f"{file_filter};;{self.tr('All files (*)')}")
        panel.changed.connect(lambda: self.widgetValueHasChanged.emit(self))
        return panel

    def postInitialize(self, wrappers: list[Any]) -> None:  # noqa: N802
        """Link "Add Directory…" to this dialog's (or batch row's) file name pattern."""
        for wrapper in wrappers:
            if wrapper.parameterDefinition().name() == "PATTERN":
                self.widget.pattern = lambda w=wrapper: str(w.parameterValue() or DEFAULT_PATTERN)

    def setValue(self, value: Any) -> None:  # noqa: N802
        self.widget.set_paths(_as_paths(value))

    def value(self) -> list[str] | None:
        return self.widget.paths() or None
