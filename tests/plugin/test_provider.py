"""The plugin loads like QGIS loads it, registers its provider and three algorithms, and
never lets a missing engine break QGIS."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from plugin_helpers import ALGORITHMS, PROVIDER, REPO_ROOT, child_python_path


def test_provider_and_algorithms_register(provider) -> None:
    from qgis.core import QgsApplication

    assert provider.id() == PROVIDER
    ids = sorted(a.id() for a in provider.algorithms())
    assert ids == sorted(f"{PROVIDER}:{name}" for name in ALGORITHMS)
    for name in ALGORITHMS:
        algorithm = QgsApplication.processingRegistry().algorithmById(f"{PROVIDER}:{name}")
        assert algorithm is not None
        assert algorithm.shortHelpString()
        assert algorithm.helpUrl().endswith(f"#{name}")
        assert algorithm.flags() & algorithm.FlagCanCancel
    assert provider.supportedOutputRasterLayerExtensions() == ["tif", "tiff"]


def test_plugin_accepts_no_iface_and_unloads(qgis_processing, plugin_package) -> None:
    import importlib

    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    module = importlib.import_module(plugin_package)
    plugin = module.classFactory(None)
    before = registry.providerById(PROVIDER)
    if before is None:  # registered by this test only
        plugin.initProcessing()
        plugin.initProcessing()  # twice is harmless
        assert registry.providerById(PROVIDER) is not None
        plugin.unload()
        assert registry.providerById(PROVIDER) is None
    else:
        assert plugin.provider is None


def test_metadata_matches_the_issue() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    meta = parser["general"]
    assert meta["hasProcessingProvider"] == "yes"
    assert meta["qgisMinimumVersion"] == "3.22"
    assert meta["qgisMaximumVersion"] == "4.99"
    assert meta["category"] == "Raster"
    for key in ("tracker", "repository", "homepage", "about", "tags", "description", "author"):
        assert meta[key].strip(), key
    cargo = (REPO_ROOT / "Cargo.toml").read_text()
    workspace = cargo.split("[workspace.package]", 1)[1]
    version = re.search(r'^version\s*=\s*"([^"]+)"', workspace, re.M)
    assert version and meta["version"] == version.group(1)


def test_no_engine_gives_a_clear_message_and_loads(tmp_path: Path) -> None:
    """With no engine anywhere the provider still loads and each algorithm explains how to
    install the engine (checked in a clean interpreter where ``asciigrid`` cannot import)."""
    blocker = tmp_path / "block"
    (blocker / "asciigrid").mkdir(parents=True)
    (blocker / "asciigrid" / "__init__.py").write_text("raise ImportError('no engine here')\n")
    script = textwrap.dedent(
        """
        from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback
        app = QgsApplication([], False); app.initQgis()
        from processing.core.Processing import Processing; Processing.initialize()
        import processing, asciigrid_qgis
        plugin = asciigrid_qgis.classFactory(None)  # kept, as QGIS keeps it
        plugin.initProcessing()
        reg = QgsApplication.processingRegistry()
        assert reg.providerById('asciigrid') is not None
        assert len(reg.providerById('asciigrid').algorithms()) == 3
        for alg, params in [('fastload', {'INPUT': 'x.asc', 'OUTPUT': 'TEMPORARY_OUTPUT'}),
                            ('stats', {'INPUT': ['x.asc']}),
                            ('batchimport', {'INPUT': ['x.asc'], 'OUTPUT': 'TEMPORARY_OUTPUT'})]:
            try:
                processing.run('asciigrid:' + alg, params, feedback=QgsProcessingFeedback())
            except QgsProcessingException as err:
                print('ERROR', alg, err)
        print('native', processing.run('native:createconstantrasterlayer', {
            'EXTENT': '0,1,0,1 [EPSG:4326]', 'TARGET_CRS': 'EPSG:4326', 'PIXEL_SIZE': 0.5,
            'NUMBER': 1, 'OUTPUT': 'TEMPORARY_OUTPUT'})['OUTPUT'] is not None)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            # The blocker first: it shadows the asciigrid installed in site-packages.
            "PYTHONPATH": child_python_path(blocker),
        },
    )
    assert result.returncode == 0, result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 3, result.stdout
    for line in errors:
        assert "asciigrid engine is not available" in line
        assert "pip install asciigrid" in line
        assert "no engine here" in line
    assert "native True" in result.stdout
