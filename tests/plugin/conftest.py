"""Fixtures of the QGIS plugin tests: real QGIS (pytest-qgis), real GDAL, real engine.

The plugin is imported the way QGIS imports it: as the package ``asciigrid_qgis`` from a
plugins folder (``tests/plugin/plugins``, on the tests' path through ``pythonpath`` in
pyproject.toml, whose ``asciigrid_qgis`` is a link to ``qgis_plugin/``), and registered
through its own ``classFactory(None).initProcessing()``, exactly what ``qgis_process`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from plugin_helpers import PROVIDER, CancelAt

# The plugins folder is the plugin itself (a link), not tests.
collect_ignore = ["plugins"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs qgis_process in a subprocess (slower)")


@pytest.fixture(scope="session")
def plugin_package() -> str:
    """The plugin's package name, ``asciigrid_qgis``, imported."""
    import asciigrid_qgis

    return asciigrid_qgis.__name__


@pytest.fixture(scope="session")
def provider(qgis_processing: None, plugin_package: str) -> Iterator[Any]:
    """The provider, registered by the plugin object as QGIS does."""
    import importlib

    from qgis.core import QgsApplication

    module = importlib.import_module(plugin_package)
    plugin = module.classFactory(None)
    plugin.initProcessing()
    registered = QgsApplication.processingRegistry().providerById(PROVIDER)
    assert registered is not None
    yield registered
    plugin.unload()


@pytest.fixture(scope="session")
def tiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 tiles of 50x50: 40 loose, 20 in zips, one zip nested in a zip."""
    from corpus import write_tiles

    folder = tmp_path_factory.mktemp("tiles")
    write_tiles(folder, count=60, size=50, zipped=20, nested_zip=True, seed=1)
    return folder


@pytest.fixture(scope="session")
def corpus_big_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3000 x 3000 float grid (~80 MB) from scripts/corpus.py, with nodata cells and a
    ``.prj``: long enough to cancel in the middle. (Not the engine suite's ``big_grid``.)"""
    from corpus import write_big_grid

    return write_big_grid(tmp_path_factory.mktemp("big") / "big.asc", nrows=3000, ncols=3000)


@pytest.fixture(autouse=True)
def _restore_aaigrid_datatype() -> Iterator[None]:
    """QGIS's GDAL provider sets the global GDAL option ``AAIGRID_DATATYPE=Float64`` whenever
    it opens a raster (so QGIS reads every .asc as Float64). Undo it after each test so GDAL
    reads .asc files with its own type rule in the other tests of the session."""
    from osgeo import gdal

    before = gdal.GetConfigOption("AAIGRID_DATATYPE")
    yield
    gdal.SetConfigOption("AAIGRID_DATATYPE", before)


@pytest.fixture
def small_grid(tmp_path: Path) -> Path:
    path = tmp_path / "small.asc"
    path.write_text(
        "ncols 4\nnrows 3\nxllcorner 1000\nyllcorner 2000\ncellsize 10\nNODATA_value -9999\n"
        "1.5 2 3 4\n5 -9999 7 8.25\n9 10 11 12\n"
    )
    return path


@pytest.fixture
def cancel_at() -> Callable[[float], CancelAt]:
    return CancelAt
