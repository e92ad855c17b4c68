"""``asciigrid._atomic``, the one mechanism replacing files in the package and the plugin:
files a writer creates itself (GDAL's drivers) and the sidecars it puts beside them."""

from __future__ import annotations

from pathlib import Path

import pytest
from asciigrid._atomic import AtomicFiles, atomic_files


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_sidecars_go_along_and_stale_ones_go_away(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    for name, text in [("t.csv", "old"), ("t.csv.aux.xml", "old"), ("t.csvt", "old")]:
        (tmp_path / name).write_text(text)
    with atomic_files() as files:
        temp = files.new_path(
            target, keep_extension=True, sidecars=[".aux.xml"], extension_sidecars=[".csvt"]
        )
        assert temp.endswith(".tmp.csv") and Path(temp).name.startswith(".t.")
        assert not Path(temp).exists()
        Path(temp).write_text("new")
        Path(temp[: -len(".csv")] + ".csvt").write_text("new types")
    assert target.read_text() == "new"
    assert (tmp_path / "t.csvt").read_text() == "new types"
    assert names(tmp_path) == ["t.csv", "t.csvt"]  # the stale .aux.xml went with the old file


def test_an_extension_sidecar_not_written_is_left_alone(tmp_path: Path) -> None:
    """``t.prj`` may belong to ``t.asc``: a new ``t.csv`` without one must not remove it."""
    (tmp_path / "t.prj").write_text("a CRS")
    with atomic_files() as files:
        fd, temp = files.new_temp(tmp_path / "t.csv", extension_sidecars=[".prj"])
        with open(fd, "w") as f:
            f.write("new")
    assert names(tmp_path) == ["t.csv", "t.prj"]


def test_a_failure_removes_the_sidecars_too(tmp_path: Path) -> None:
    target = tmp_path / "m.tif"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_files() as files:
            fd, temp = files.new_temp(target, sidecars=[".aux.xml", ".ovr"])
            with open(fd, "w") as f:
                f.write("new")
            Path(temp + ".ovr").write_text("overviews")
            raise RuntimeError("cancelled")
    assert names(tmp_path) == ["m.tif"] and target.read_text() == "old"


def test_a_folder_in_the_way_of_a_sidecar_fails_the_commit_and_undoes_it(
    tmp_path: Path,
) -> None:
    """A folder is never moved aside (it would be lost): the commit fails naming it, the
    old files come back and no temporary file is left."""
    target = tmp_path / "m.tif"
    target.write_text("old")
    (tmp_path / "m.tif.ovr").write_text("old overviews")
    (tmp_path / "m.tif.aux.xml").mkdir()
    files = AtomicFiles()
    fd, temp = files.new_temp(target, sidecars=[".ovr", ".aux.xml"])
    with open(fd, "w") as f:
        f.write("new")
    Path(temp + ".ovr").write_text("new overviews")
    Path(temp + ".aux.xml").write_text("new statistics")
    with pytest.raises(IsADirectoryError) as err:
        files.commit()
    assert err.value.filename == str(tmp_path / "m.tif.aux.xml")
    assert target.read_text() == "old"
    assert (tmp_path / "m.tif.ovr").read_text() == "old overviews"
    assert names(tmp_path) == ["m.tif", "m.tif.aux.xml", "m.tif.ovr"]


def test_new_path_refuses_a_target_that_cannot_be_written(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as err:
        AtomicFiles().new_path(tmp_path / "missing" / "t.csv")
    assert err.value.filename == str(tmp_path / "missing" / "t.csv")
