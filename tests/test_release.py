"""Release engineering: the plugin repository's ``plugins.xml`` and the workflows' hardening.

``scripts/release_plugins_xml.py`` writes the ``plugins.xml`` QGIS users point their plugin
repository at; these tests parse it the way QGIS's plugin installer does. The workflow tests
restate, in pytest, the rules zizmor and actionlint enforce in CI (``scripts/check_release.sh``
runs zizmor and the schema check here): every action pinned to a full commit SHA with its
version in a comment, no default permissions, no persisted git credentials, no ``${{ }}`` in
scripts, trusted publishing without secrets.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


px = _load_script("release_plugins_xml")
rv = _load_script("release_version")

DOWNLOAD = "https://github.com/asciigrid/asciigrid/releases/download/v{v}/asciigrid_qgis-{v}.zip"


def _fake_plugin_zip(path: Path, engines: list[str], metadata: str | None = None) -> Path:
    meta = metadata if metadata is not None else (ROOT / "metadata.txt").read_text("utf-8")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("asciigrid_qgis/__init__.py", "")
        archive.writestr("asciigrid_qgis/metadata.txt", meta)
        for engine in engines:
            base = f"asciigrid_qgis/engines/{engine}/asciigrid/"
            archive.writestr(base + "__init__.py", "")
            suffix = ".pyd" if engine.startswith("windows") else ".abi3.so"
            archive.writestr(base + "_native" + suffix, b"\0")
    return path


def _qgis_view(xml_path: Path) -> list[dict[str, str]]:
    """What QGIS's plugin installer (pyplugin_installer/installer_data.py) reads."""
    plugins = []
    for node in ET.parse(xml_path).getroot().iter("pyqgis_plugin"):
        file_name = (node.findtext("file_name") or "").strip()
        download_url = (node.findtext("download_url") or "").strip()
        if not file_name:
            file_name = download_url.split("?")[0].rsplit("/", 1)[-1]
        plugins.append(
            {
                "id": file_name.partition(".")[0],
                "name": node.get("name", ""),
                "version": node.get("version", ""),
                "download_url": download_url,
                **{child.tag: (child.text or "").strip() for child in node},
            }
        )
    return plugins


def test_plugins_xml_from_a_release_zip(tmp_path: Path) -> None:
    version = rv.metadata_version(ROOT)
    plugin_zip = _fake_plugin_zip(
        tmp_path / f"asciigrid_qgis-{version}.zip", list(px.RELEASE_PLATFORMS)
    )
    out = tmp_path / "plugins.xml"
    base = "https://github.com/asciigrid/asciigrid/releases/download/v" + version
    args = ["--zip", str(plugin_zip), "--base-url", base, "--require-engines", "release"]
    assert px.main([*args, "--output", str(out)]) == 0

    assert out.read_text("utf-8").startswith("<?xml version='1.0' encoding='UTF-8'?>")
    (plugin,) = _qgis_view(out)
    meta = rv.read_metadata(rv.metadata_path(ROOT))
    # The id QGIS derives from file_name must be the plugin folder, or an installed copy is
    # not recognised as this plugin and never offered its upgrades.
    assert plugin["id"] == "asciigrid_qgis"
    assert plugin["name"] == meta["name"]
    assert plugin["version"] == plugin["version"] == version
    assert plugin["download_url"] == DOWNLOAD.format(v=version)
    assert plugin["qgis_minimum_version"] == meta["qgisMinimumVersion"]
    assert plugin["qgis_maximum_version"] == meta.get("qgisMaximumVersion", "3.99.0")
    assert plugin["description"] == meta["description"]
    assert plugin["experimental"] == "False" and plugin["deprecated"] == "False"
    assert rv.normalized_lines(plugin["changelog"]) == rv.normalized_lines(meta["changelog"])
    dt.datetime.strptime(plugin["update_date"], "%Y-%m-%dT%H:%M:%S.%fZ")


def test_plugins_xml_escapes_and_defaults(tmp_path: Path) -> None:
    metadata = (
        "[general]\nname=A & B <test>\nqgisMinimumVersion=3.28\ndescription=x < y & z\n"
        "version=2.0.0\nauthor=Ann & Bob\nexperimental=True\n"
    )
    plugin_zip = _fake_plugin_zip(tmp_path / "p.zip", [], metadata)
    out = tmp_path / "plugins.xml"
    url = "https://example.org/p.zip?x=1&y=2"
    assert px.main(["--zip", str(plugin_zip), "--download-url", url, "--output", str(out)]) == 0
    (plugin,) = _qgis_view(out)
    assert plugin["name"] == "A & B <test>"
    assert plugin["description"] == "x < y & z"
    assert plugin["download_url"] == url
    assert plugin["qgis_maximum_version"] == "3.99.0"
    assert plugin["experimental"] == "True"
    assert plugin["id"] == "asciigrid_qgis"


def test_plugins_xml_is_reproducible_with_source_date_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    plugin_zip = _fake_plugin_zip(tmp_path / "p.zip", [])
    outputs = []
    for name in ("a.xml", "b.xml"):
        out = tmp_path / name
        px.main(["--zip", str(plugin_zip), "--base-url", "https://x/y", "--output", str(out)])
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert b"2023-11-14T22:13:20.000000Z" in outputs[0]


def test_a_zip_missing_a_platform_is_refused(tmp_path: Path) -> None:
    engines = [e for e in px.RELEASE_PLATFORMS if e != "macos_arm64"]
    plugin_zip = _fake_plugin_zip(tmp_path / "p.zip", engines)
    out = tmp_path / "plugins.xml"
    args = ["--zip", str(plugin_zip), "--base-url", "https://x/y", "--output", str(out)]
    assert px.main([*args, "--require-engines", "release"]) == 1
    assert not out.exists()
    assert px.check_zip(plugin_zip, ["macos_arm64"]) == [
        "no native engine for macos_arm64 (asciigrid_qgis/engines/macos_arm64/asciigrid/_native.*)",
        "no asciigrid_qgis/engines/macos_arm64/asciigrid/__init__.py",
    ]


def test_release_platforms_are_the_plugins_folder_names() -> None:
    spec = importlib.util.spec_from_file_location(
        "_platforms", ROOT / "qgis_plugin" / "platforms.py"
    )
    assert spec is not None and spec.loader is not None
    platforms = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(platforms)
    wheel_tags = [  # the platform tags of the five wheels release.yml builds
        "manylinux_2_17_x86_64.manylinux2014_x86_64",
        "manylinux_2_17_aarch64.manylinux2014_aarch64",
        "macosx_10_12_x86_64",
        "macosx_11_0_arm64",
        "win_amd64",
    ]
    assert sorted(platforms.folder_for_wheel_tag(t) for t in wheel_tags) == sorted(
        px.RELEASE_PLATFORMS
    )


# --- workflows -------------------------------------------------------------------------------

yaml = pytest.importorskip("yaml")

FULL_SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"@[0-9a-f]{40}\s+#\s*v\d+(\.\d+)*\s*$")


def _workflows() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
        found[path.name] = data
    return found


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])
    ]


def test_the_workflows_exist() -> None:
    assert {"ci.yml", "release.yml"} <= set(_workflows())


def test_every_action_is_pinned_to_a_full_sha_with_its_version() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)", line)
            if not match or match.group(1).startswith("./"):
                continue
            where = f"{path.name}:{number}: {line.strip()}"
            assert FULL_SHA_PIN.match(match.group(1)), where
            assert VERSION_COMMENT.search(line), where


def test_no_default_permissions_and_every_job_declares_its_own() -> None:
    for name, workflow in _workflows().items():
        assert workflow.get("permissions") == {}, name
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_id} declares no permissions"


def test_checkouts_do_not_keep_credentials() -> None:
    for name, workflow in _workflows().items():
        for job_id, step in _steps(workflow):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, (name, job_id)


def test_no_expressions_inside_scripts() -> None:
    # Values reach scripts through env: (or the runner's own GITHUB_* variables) only.
    for name, workflow in _workflows().items():
        for job_id, step in _steps(workflow):
            assert "${{" not in str(step.get("run", "")), (name, job_id, step.get("name"))


def test_no_secrets_anywhere() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text("utf-8")
        assert "secrets." not in text, path.name
        assert "password:" not in text, path.name


def test_release_publishes_with_trusted_publishing_and_attestations() -> None:
    release = _workflows()["release.yml"]
    assert set(release["on"]) == {"push"} and set(release["on"]["push"]) == {"tags"}
    jobs = release["jobs"]
    writers = {
        job_id: perms
        for job_id, job in jobs.items()
        for perms in [job.get("permissions", {})]
        if any(v == "write" for v in perms.values())
    }
    assert writers == {
        "attest": {"id-token": "write", "attestations": "write"},
        "pypi": {"id-token": "write"},
        "github-release": {"contents": "write"},
    }
    publish = [s for s in jobs["pypi"]["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert len(publish) == 1 and "password" not in publish[0].get("with", {})
    assert jobs["pypi"]["environment"]["name"] == "pypi"
    assert {"ci", "attest", "plugin-smoke"} <= set(jobs["pypi"]["needs"])
    targets = {p["target"] for p in jobs["wheels"]["strategy"]["matrix"]["platform"]}
    assert targets == {
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    }
    attested = next(
        s for s in jobs["attest"]["steps"] if "attest-build-provenance" in s.get("uses", "")
    )["with"]["subject-path"]
    for subject in ("dist/*.whl", "dist/*.tar.gz", "plugin/asciigrid_qgis-*.zip"):
        assert subject in attested


def test_ci_runs_the_qgis_tests_in_the_official_images() -> None:
    ci = _workflows()["ci.yml"]
    assert {"push", "pull_request"} <= set(ci["on"])
    qgis = ci["jobs"]["qgis"]
    assert qgis["container"]["image"].startswith("qgis/qgis:")
    assert set(qgis["strategy"]["matrix"]["qgis"]) == {"ltr", "stable"}
    runs = " ".join(str(s.get("run", "")) for _, s in _steps(ci))
    for command in ("cargo fmt", "cargo clippy", "cargo test", "pytest", "actionlint", "zizmor"):
        assert command in runs, command
