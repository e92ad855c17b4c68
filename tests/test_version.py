"""One version for everything: Cargo, ``asciigrid.__version__``, ``metadata.txt``, CHANGELOG.

The Cargo workspace version is the source; maturin gives it to the wheel, ``metadata.txt``
repeats it for QGIS, and the newest CHANGELOG entry (whose bullets are the plugin's
``changelog=``) must carry it. ``scripts/release_version.py`` does the reading; the release
workflow runs the same check against the tag before it builds anything.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need their module registered
    spec.loader.exec_module(module)
    return module


rv = _load_script("release_version")


@pytest.fixture(scope="module")
def cargo_version() -> str:
    return rv.cargo_version(ROOT)


def test_cargo_version_is_semver(cargo_version: str) -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", cargo_version), cargo_version


def test_every_crate_takes_the_workspace_version() -> None:
    for manifest in sorted((ROOT / "native").glob("*/Cargo.toml")):
        text = manifest.read_text(encoding="utf-8")
        package = re.search(r"^\[package\](.*?)(?=^\[|\Z)", text, re.S | re.M)
        assert package, manifest
        assert re.search(r"^version\.workspace\s*=\s*true", package.group(1), re.M), (
            f"{manifest.relative_to(ROOT)}: use version.workspace = true"
        )


def test_pyproject_takes_the_version_from_cargo() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^dynamic\s*=\s*\[[^\]]*\"version\"", text, re.M)
    project = re.search(r"^\[project\](.*?)(?=^\[|\Z)", text, re.S | re.M)
    assert project and not re.search(r"^version\s*=", project.group(1), re.M)


def test_python_package_version_matches_cargo(cargo_version: str) -> None:
    import asciigrid

    assert rv.pep440(asciigrid.__version__) == rv.pep440(cargo_version)
    # The installed distribution (what pip and PyPI see) agrees as well.
    assert importlib.metadata.version("asciigrid") == rv.pep440(cargo_version)


def test_metadata_txt_version_matches_cargo(cargo_version: str) -> None:
    assert rv.metadata_version(ROOT) == cargo_version


def test_newest_changelog_entry_is_this_version(cargo_version: str) -> None:
    entries = rv.changelog_entries(ROOT)
    assert entries, "CHANGELOG.md has no version entry"
    assert entries[0].version == cargo_version
    assert entries[0].items(), "the newest CHANGELOG entry lists no change"
    versions = [entry.version for entry in entries]
    assert len(versions) == len(set(versions)), f"duplicate CHANGELOG entries: {versions}"


def test_metadata_changelog_is_the_changelog() -> None:
    meta = rv.read_metadata(rv.metadata_path(ROOT))
    expected = rv.plugin_changelog(rv.changelog_entries(ROOT))
    assert rv.normalized_lines(meta.get("changelog", "")) == rv.normalized_lines(expected), (
        "metadata.txt changelog= is stale: python scripts/release_version.py --sync-metadata"
    )


def test_release_version_check_passes() -> None:
    assert rv.check(ROOT) == []


@pytest.mark.parametrize(
    ("cargo", "python"),
    [
        ("1.2.3", "1.2.3"),
        ("1.2.3-alpha.1", "1.2.3a1"),
        ("1.2.3-beta.2", "1.2.3b2"),
        ("1.2.3-rc.1", "1.2.3rc1"),
        ("1.2.3-rc1", "1.2.3rc1"),
        ("v1.2.3", "1.2.3"),
    ],
)
def test_pep440_spelling(cargo: str, python: str) -> None:
    assert rv.pep440(cargo) == python


# --- the check itself catches disagreement -------------------------------------------------


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    for name in ("Cargo.toml", "metadata.txt", "CHANGELOG.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _set_cargo_version(root: Path, version: str) -> None:
    path = root / "Cargo.toml"
    text = re.sub(
        r'^(version\s*=\s*)"[^"]+"', rf'\g<1>"{version}"', path.read_text(), count=1, flags=re.M
    )
    path.write_text(text)
    assert rv.cargo_version(root) == version


def test_check_reports_a_bumped_cargo_version(repo_copy: Path) -> None:
    _set_cargo_version(repo_copy, "9.9.9")
    problems = rv.check(repo_copy)
    assert any("metadata.txt version" in p for p in problems)
    assert any("newest CHANGELOG.md entry" in p for p in problems)


def test_check_reports_a_wrong_tag(repo_copy: Path, cargo_version: str) -> None:
    assert rv.check(repo_copy, tag=f"v{cargo_version}") == []
    assert rv.check(repo_copy, tag=f"refs/tags/v{cargo_version}") == []
    assert any("tag" in p for p in rv.check(repo_copy, tag="v9.9.9"))


def test_release_needs_a_dated_entry(repo_copy: Path, cargo_version: str) -> None:
    changelog = repo_copy / "CHANGELOG.md"
    text = re.sub(
        rf"^## \[{re.escape(cargo_version)}\].*$",
        f"## [{cargo_version}] - Unreleased",
        changelog.read_text(),
        count=1,
        flags=re.M,
    )
    changelog.write_text(text)
    rv.sync_metadata(repo_copy)
    assert rv.check(repo_copy) == []
    assert any("release date" in p for p in rv.check(repo_copy, release=True))
    changelog.write_text(
        text.replace(f"[{cargo_version}] - Unreleased", f"[{cargo_version}] - 2030-01-31")
    )
    rv.sync_metadata(repo_copy)
    assert rv.check(repo_copy, tag=f"v{cargo_version}", release=True) == []
    assert "(2030-01-31)" in rv.read_metadata(rv.metadata_path(repo_copy))["changelog"]


def test_unreleased_section_is_skipped_and_sync_is_idempotent(repo_copy: Path) -> None:
    changelog = repo_copy / "CHANGELOG.md"
    text = changelog.read_text()
    first = text.index("\n## ")
    changelog.write_text(text[:first] + "\n## [Unreleased]\n\n- Work in progress.\n" + text[first:])
    assert rv.changelog_entries(repo_copy)[0].version == rv.cargo_version(repo_copy)
    rv.sync_metadata(repo_copy)
    assert rv.sync_metadata(repo_copy) is False  # second run changes nothing
    assert rv.check(repo_copy) == []
    assert "Work in progress" not in (repo_copy / "metadata.txt").read_text()


def test_percent_in_changelog_is_reported(repo_copy: Path) -> None:
    changelog = repo_copy / "CHANGELOG.md"
    text = changelog.read_text()
    first_bullet = text.index("\n- ") + 3
    changelog.write_text(text[:first_bullet] + "10% faster; " + text[first_bullet:])
    rv.sync_metadata(repo_copy)
    assert any("percent" in p for p in rv.check(repo_copy))
