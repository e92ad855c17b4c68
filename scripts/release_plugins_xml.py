#!/usr/bin/env python3
"""Write the ``plugins.xml`` of the project's own QGIS plugin repository.

plugins.qgis.org refuses plugins that carry binaries, so each GitHub release carries the
plugin zip and a ``plugins.xml`` that points at it. QGIS users add the repository once
(Plugins > Manage and Install Plugins > Settings > Add...) with the URL

    https://github.com/<owner>/<repo>/releases/latest/download/plugins.xml

which GitHub redirects to the newest release's asset (QGIS follows redirects), so QGIS offers
each new release as an upgrade.

The metadata comes from the ``metadata.txt`` inside the zip (what users really get), or from
``--metadata``. With ``--require-engines`` the zip must carry the native engine of each named
platform folder (``asciigrid_qgis/engines/<folder>/asciigrid/_native.*``).

    python scripts/release_plugins_xml.py --zip dist/asciigrid_qgis-1.2.3.zip \\
        --download-url https://github.com/o/r/releases/download/v1.2.3/asciigrid_qgis-1.2.3.zip \\
        --require-engines linux_x86_64,linux_aarch64,macos_x86_64,macos_arm64,windows_x64 \\
        --output dist/plugins.xml
"""

from __future__ import annotations

import argparse
import configparser
import datetime as dt
import os
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

PLUGIN_FOLDER = "asciigrid_qgis"
RELEASE_PLATFORMS = ("linux_x86_64", "linux_aarch64", "macos_x86_64", "macos_arm64", "windows_x64")
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")


def parse_metadata(text: str) -> dict[str, str]:
    """The ``[general]`` section of a ``metadata.txt`` (keys keep their case)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return {key: value.strip() for key, value in parser["general"].items()}


def zip_members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def metadata_from_zip(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return parse_metadata(archive.read(f"{PLUGIN_FOLDER}/metadata.txt").decode("utf-8"))


def check_zip(path: Path, engines: Iterable[str]) -> list[str]:
    """Problems of a plugin zip: its layout, and the engine folders it must carry."""
    names = zip_members(path)
    problems: list[str] = []
    tops = {PurePosixPath(name).parts[0] for name in names if name.strip("/")}
    if tops != {PLUGIN_FOLDER}:
        problems.append(f"top-level entries {sorted(tops)} (only {PLUGIN_FOLDER}/ is allowed)")
    if f"{PLUGIN_FOLDER}/metadata.txt" not in names:
        problems.append(f"no {PLUGIN_FOLDER}/metadata.txt")
    if f"{PLUGIN_FOLDER}/__init__.py" not in names:
        problems.append(f"no {PLUGIN_FOLDER}/__init__.py")
    for engine in engines:
        prefix = f"{PLUGIN_FOLDER}/engines/{engine}/asciigrid/"
        native = [
            n for n in names if n.startswith(prefix + "_native") and n.endswith(NATIVE_SUFFIXES)
        ]
        if not native:
            problems.append(f"no native engine for {engine} ({prefix}_native.*)")
        if prefix + "__init__.py" not in names:
            problems.append(f"no {prefix}__init__.py")
    return problems


def _bool(value: str | None) -> str:
    return "True" if (value or "").strip().lower() in ("true", "yes", "1") else "False"


def default_max_version(minimum: str) -> str:
    return f"{minimum.split('.')[0] or '3'}.99.0"


def build_plugins_xml(
    meta: Mapping[str, str], download_url: str, when: dt.datetime | None = None
) -> ET.ElementTree:
    """The repository document for one plugin release."""
    for key in ("name", "version", "qgisMinimumVersion", "description", "author"):
        if not meta.get(key):
            raise ValueError(f"metadata.txt lacks {key}=")
    when = when or dt.datetime.now(dt.timezone.utc)
    stamp = when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    version = meta["version"]
    root = ET.Element("plugins")
    plugin = ET.SubElement(root, "pyqgis_plugin", name=meta["name"], version=version)
    fields: list[tuple[str, str]] = [
        ("description", meta["description"]),
        ("about", meta.get("about", "")),
        ("version", version),
        ("trusted", "False"),
        ("qgis_minimum_version", meta["qgisMinimumVersion"]),
        (
            "qgis_maximum_version",
            meta.get("qgisMaximumVersion") or default_max_version(meta["qgisMinimumVersion"]),
        ),
        ("homepage", meta.get("homepage", "")),
        # QGIS takes the plugin id from file_name up to its first dot, so it must read
        # "<folder>.<version>.zip" whatever the asset is called, else an installed copy is
        # not recognised as this plugin (and never offered an upgrade).
        ("file_name", f"{PLUGIN_FOLDER}.{version}.zip"),
        ("author_name", meta["author"]),
        ("download_url", download_url),
        ("uploaded_by", meta["author"]),
        ("create_date", stamp),
        ("update_date", stamp),
        ("experimental", _bool(meta.get("experimental"))),
        ("deprecated", _bool(meta.get("deprecated"))),
        ("tracker", meta.get("tracker", "")),
        ("repository", meta.get("repository", "")),
        ("tags", meta.get("tags", "")),
        ("changelog", meta.get("changelog", "")),
        ("server", _bool(meta.get("server"))),
    ]
    for tag, text in fields:
        ET.SubElement(plugin, tag).text = text
    ET.indent(root, space="  ")
    return ET.ElementTree(root)


def write_plugins_xml(tree: ET.ElementTree, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    tree.write(output, encoding="UTF-8", xml_declaration=True)
    with open(output, "a", encoding="utf-8") as handle:
        handle.write("\n")


def _release_time() -> dt.datetime | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--zip", type=Path, help="the plugin zip (metadata is read from it)")
    source.add_argument("--metadata", type=Path, help="a metadata.txt (when there is no zip)")
    url = parser.add_mutually_exclusive_group(required=True)
    url.add_argument("--download-url", help="the zip's full download URL")
    url.add_argument("--base-url", help="the release's download URL; the zip's name is added")
    parser.add_argument(
        "--require-engines",
        default="",
        help=f"comma-separated engine folders the zip must carry ('release' = "
        f"{','.join(RELEASE_PLATFORMS)})",
    )
    parser.add_argument("--output", type=Path, default=Path("plugins.xml"))
    args = parser.parse_args(argv)

    if args.zip:
        engines = [e for e in args.require_engines.split(",") if e]
        if engines == ["release"]:
            engines = list(RELEASE_PLATFORMS)
        problems = check_zip(args.zip, engines)
        if problems:
            for problem in problems:
                print(f"{args.zip}: {problem}", file=sys.stderr)
            return 1
        meta = metadata_from_zip(args.zip)
        asset = args.zip.name
    else:
        if args.require_engines:
            parser.error("--require-engines needs --zip")
        meta = parse_metadata(args.metadata.read_text(encoding="utf-8"))
        asset = f"{PLUGIN_FOLDER}-{meta.get('version', '')}.zip"
    download_url = args.download_url or f"{args.base_url.rstrip('/')}/{asset}"
    write_plugins_xml(build_plugins_xml(meta, download_url, _release_time()), args.output)
    print(f"wrote {args.output} for {meta['name']} {meta['version']} -> {download_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
