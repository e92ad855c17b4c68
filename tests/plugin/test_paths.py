"""Paths the algorithms are given that they cannot use: an OUTPUT that is a folder or not a
GeoTIFF name, an input that is not a regular file (issue #10, findings 10, 15 and 19)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from plugin_helpers import assert_run, leftovers, run

ALGORITHMS = ("asciigrid:fastload", "asciigrid:batchimport")


def _inputs(algorithm: str, grid: Path) -> dict[str, object]:
    """INPUT: one file for fastload, a list of them for batchimport and stats."""
    return {"INPUT": str(grid)} if algorithm.endswith("fastload") else {"INPUT": [str(grid)]}


@pytest.mark.parametrize(
    ("algorithm", "parameter"),
    [
        ("asciigrid:fastload", "OUTPUT"),
        ("asciigrid:batchimport", "OUTPUT"),
        ("asciigrid:batchimport", "REPORT"),
        ("asciigrid:stats", "OUTPUT_TABLE"),
    ],
)
def test_an_output_that_is_a_folder_is_refused_before_any_work(
    provider, small_grid: Path, tmp_path: Path, algorithm: str, parameter: str
) -> None:
    """Finding 10: the finished GeoTIFF failed to be renamed onto the folder ("Is a
    directory", naming the hidden temporary file) and stayed behind as ``.…partial``."""
    from qgis.core import QgsProcessingException

    folder = tmp_path / "out"
    folder.mkdir()
    outputs = {parameter: str(folder)}
    if parameter != "OUTPUT" and algorithm != "asciigrid:stats":
        outputs["OUTPUT"] = str(tmp_path / "m.tif")
    with pytest.raises(QgsProcessingException) as err:
        run(algorithm, {**_inputs(algorithm, small_grid), **outputs})
    assert f"{parameter}: {folder} is a folder" in str(err.value)
    assert leftovers(tmp_path) == ["out", "small.asc"]
    assert leftovers(folder) == []


@pytest.mark.parametrize("where", ["target", "sidecar"])
def test_a_failed_rename_leaves_nothing_behind(
    plugin_package: str, tmp_path: Path, where: str
) -> None:
    """Finding 10, the clean-up itself: whichever rename fails (the output's or a sidecar's,
    here because a folder holds that name), the error names the target and no temporary
    file survives."""
    atomic_files = importlib.import_module(f"{plugin_package}.atomic_files")
    target = tmp_path / "m.tif"
    blocker = target if where == "target" else tmp_path / "m.tif.aux.xml"
    with pytest.raises(atomic_files.OutputError, match=f"^{target}: .*nothing was written"):
        with atomic_files.atomic_output(str(target)) as tmp:
            Path(tmp).write_text("data")
            Path(f"{tmp}.aux.xml").write_text("statistics")
            blocker.mkdir()  # appears while the output is written
    assert leftovers(tmp_path) == [blocker.name]
    assert leftovers(blocker) == []


@pytest.mark.parametrize("name", ["x.asc", "x.vrt", "x.nc", "x.tif.gz", "x"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_an_output_name_that_is_not_a_geotiff_is_refused(
    provider, small_grid: Path, tmp_path: Path, algorithm: str, name: str
) -> None:
    """Finding 15: any OUTPUT name received a GeoTIFF (``x.asc`` then refused by stats)."""
    from qgis.core import QgsProcessingException

    out = tmp_path / "out" / name
    with pytest.raises(QgsProcessingException) as err:
        run(algorithm, {**_inputs(algorithm, small_grid), "OUTPUT": str(out)})
    assert f"OUTPUT: {out}: asciigrid writes GeoTIFF only" in str(err.value)
    assert ".tif or .tiff" in str(err.value)
    assert not out.parent.exists()


@pytest.mark.parametrize("name", ["x.tif", "x.TIFF", "my.mosaic.tif"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_geotiff_output_names_are_accepted(
    provider, small_grid: Path, tmp_path: Path, algorithm: str, name: str
) -> None:
    out = tmp_path / name
    results = assert_run(algorithm, {**_inputs(algorithm, small_grid), "OUTPUT": str(out)})
    assert results["OUTPUT"] == str(out)


def _fifo(tmp_path: Path) -> str:
    path = tmp_path / "pipe.asc"
    os.mkfifo(path)
    return str(path)


def _folder(tmp_path: Path) -> str:
    path = tmp_path / "folder.asc"
    path.mkdir()
    return str(path)


NOT_FILES = {
    "/dev/zero": (lambda tmp_path: "/dev/zero", "is a character device, not a regular file"),
    "fifo": (_fifo, "is a named pipe (FIFO), not a regular file"),
    "folder": (_folder, "is a folder, not a file"),
    "missing": (lambda tmp_path: str(tmp_path / "missing.asc"), "file not found"),
}


@pytest.mark.parametrize("kind", sorted(NOT_FILES))
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_an_input_that_is_not_a_regular_file_is_named_for_what_it_is(
    provider, tmp_path: Path, algorithm: str, kind: str
) -> None:
    """Finding 19: ``/dev/zero``, a FIFO and a folder were all "file not found"."""
    from qgis.core import QgsProcessingException

    make, reason = NOT_FILES[kind]
    path = Path(make(tmp_path))
    with pytest.raises(QgsProcessingException) as err:
        run(algorithm, {**_inputs(algorithm, path), "OUTPUT": str(tmp_path / "o.tif")})
    assert str(err.value).startswith(f"{path}: {reason}")
    assert not (tmp_path / "o.tif").exists()
