#!/usr/bin/env python3
"""One version for everything: Cargo, the Python package, the plugin and the CHANGELOG.

The Cargo workspace version (``[workspace.package] version`` in ``Cargo.toml``) is the
single source: maturin gives it to the wheel (``asciigrid.__version__``), ``metadata.txt``
repeats it for QGIS, and the newest ``CHANGELOG.md`` entry must carry it. This module reads
all of them (standard library only, Python 3.9+), renders the CHANGELOG into the plugin's
``changelog=`` text and the release notes, and checks that everything agrees.

    python scripts/release_version.py                    # print the version
    python scripts/release_version.py --python           # ... as Python spells it (PEP 440)
    python scripts/release_version.py --check            # all sources agree (exit 1 if not)
    python scripts/release_version.py --check --tag v1.2.3 --release
                                                         # ... and the tag matches, dated entry
    python scripts/release_version.py --notes            # release notes (markdown) of it
    python scripts/release_version.py --plugin-changelog # metadata.txt changelog= text
    python scripts/release_version.py --sync-metadata    # write that text into metadata.txt
"""

from __future__ import annotations

import argparse
import configparser
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_FOLDER = "asciigrid_qgis"
# How many releases the plugin's changelog= shows (QGIS shows the text in its Plugin Manager).
PLUGIN_CHANGELOG_ENTRIES = 5

_HEADING = re.compile(r"^##\s+\[?([^\]\s]+)\]?(?:\s+-\s+(.*?))?\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SEMVER_PRE = re.compile(
    r"^(\d+(?:\.\d+)*)[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d*)$", re.IGNORECASE
)
_PRE_NAMES = {
    "alpha": "a",
    "a": "a",
    "beta": "b",
    "b": "b",
    "c": "rc",
    "rc": "rc",
    "pre": "rc",
    "preview": "rc",
}


@dataclass(frozen=True)
class ChangelogEntry:
    """One released version's section of ``CHANGELOG.md``."""

    version: str
    date: str | None  # "YYYY-MM-DD", or None while "Unreleased"
    body: str  # markdown below the heading, stripped

    def items(self) -> list[tuple[str | None, str]]:
        """The bullet points as (subsection or None, text on one line)."""
        found: list[tuple[str | None, str]] = []
        section: str | None = None
        for raw in self.body.splitlines():
            line = raw.strip()
            if line.startswith("### "):
                section = line[4:].strip()
            elif line.startswith(("- ", "* ")):
                found.append((section, line[2:].strip()))
            elif line and found and raw.startswith((" ", "\t")):  # continuation of a bullet
                sec, text = found[-1]
                found[-1] = (sec, f"{text} {line}")
        return found


def pep440(version: str) -> str:
    """The Python (PEP 440) spelling of a Cargo (semver) version, as maturin writes it.

    >>> pep440("1.2.3"), pep440("1.2.3-alpha.1"), pep440("1.2.3-rc.2")
    ('1.2.3', '1.2.3a1', '1.2.3rc2')
    """
    version = version.strip().lstrip("vV")
    match = _SEMVER_PRE.match(version)
    if match:
        release, name, number = match.groups()
        return f"{release}{_PRE_NAMES[name.lower()]}{number or 0}"
    return version


def cargo_version(root: Path = ROOT) -> str:
    """``[workspace.package] version`` of ``Cargo.toml`` (or ``[package]``)."""
    text = (root / "Cargo.toml").read_text(encoding="utf-8")
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
        tomllib = None  # type: ignore[assignment]
    if tomllib is not None:
        data = tomllib.loads(text)
        for table in (data.get("workspace", {}).get("package", {}), data.get("package", {})):
            if isinstance(table.get("version"), str):
                return table["version"]
        raise ValueError("Cargo.toml has no [workspace.package] or [package] version")
    section = ""
    for line in text.splitlines():  # minimal TOML reading for old Pythons
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        match = re.match(r'version\s*=\s*"([^"]+)"', stripped)
        if match and section in ("[workspace.package]", "[package]"):
            return match.group(1)
    raise ValueError("Cargo.toml has no [workspace.package] or [package] version")


def read_metadata(path: Path) -> configparser.SectionProxy:
    """The ``[general]`` section of a QGIS plugin ``metadata.txt``."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep key case
    with open(path, encoding="utf-8") as handle:
        parser.read_file(handle)
    return parser["general"]


def metadata_path(root: Path = ROOT) -> Path:
    return root / "metadata.txt"


def metadata_version(root: Path = ROOT) -> str:
    return read_metadata(metadata_path(root))["version"].strip()


def changelog_entries(root: Path = ROOT) -> list[ChangelogEntry]:
    """Released entries of ``CHANGELOG.md``, newest first (``Unreleased`` is skipped)."""
    text = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    entries: list[ChangelogEntry] = []
    current: tuple[str, str | None] | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            entries.append(ChangelogEntry(current[0], current[1], "\n".join(body).strip()))

    for line in text.splitlines():
        match = _HEADING.match(line) if line.startswith("## ") else None
        if match:
            close()
            version, when = match.group(1), (match.group(2) or "").strip()
            body = []
            if version.lower() == "unreleased":
                current = None
                continue
            current = (version, when if _DATE.match(when) else None)
        elif current is not None:
            body.append(line)
    close()
    return entries


def plugin_changelog(entries: list[ChangelogEntry], limit: int = PLUGIN_CHANGELOG_ENTRIES) -> str:
    """The plugin's ``changelog=`` text: the newest releases, one line per bullet."""
    lines: list[str] = []
    for entry in entries[:limit]:
        lines.append(f"{entry.version} ({entry.date or 'unreleased'})")
        section: str | None = None
        for sec, text in entry.items():
            if sec and sec != section:
                lines.append(f"{sec}:")
                section = sec
            lines.append(f"- {text}")
    return "\n".join(lines)


def format_metadata_changelog(text: str) -> str:
    """``changelog=`` followed by indented continuation lines (configparser's syntax)."""
    return "changelog=\n" + "".join(f"    {line}\n" for line in text.splitlines())


def normalized_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


def sync_metadata(root: Path = ROOT) -> bool:
    """Rewrite ``changelog=`` of ``metadata.txt`` from the CHANGELOG; True if it changed."""
    path = metadata_path(root)
    old = path.read_text(encoding="utf-8")
    block = format_metadata_changelog(plugin_changelog(changelog_entries(root)))
    lines = old.splitlines(keepends=True)
    out: list[str] = []
    i, replaced = 0, False
    while i < len(lines):
        if re.match(r"changelog\s*[=:]", lines[i]):
            i += 1
            while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
                i += 1
            out.append(block)
            replaced = True
            continue
        out.append(lines[i])
        i += 1
    if not replaced:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(block)
    new = "".join(out)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


def release_notes(entry: ChangelogEntry) -> str:
    return entry.body + "\n"


def tag_version(tag: str) -> str:
    """``v1.2.3`` or ``refs/tags/v1.2.3`` -> ``1.2.3``."""
    return tag.rsplit("/", 1)[-1].lstrip("vV")


def check(root: Path = ROOT, tag: str | None = None, release: bool = False) -> list[str]:
    """Everything that disagrees, as messages (empty when all is well)."""
    problems: list[str] = []
    version = cargo_version(root)
    wanted = pep440(version)
    if tag is not None and pep440(tag_version(tag)) != wanted:
        problems.append(f"tag {tag!r} does not match the Cargo version {version}")
    if not metadata_path(root).is_file():
        problems.append("metadata.txt is missing")
    else:
        meta = read_metadata(metadata_path(root))
        if pep440(meta.get("version", "")) != wanted:
            problems.append(f"metadata.txt version {meta.get('version')!r} != Cargo {version}")
        expected = normalized_lines(plugin_changelog(changelog_entries(root)))
        if normalized_lines(meta.get("changelog", "")) != expected:
            problems.append(
                "metadata.txt changelog= differs from CHANGELOG.md "
                "(run: python scripts/release_version.py --sync-metadata)"
            )
    entries = changelog_entries(root)
    if "%" in plugin_changelog(entries):
        # QGIS reads metadata.txt with configparser's interpolation, where '%' is an error.
        problems.append("CHANGELOG.md: write 'percent' instead of '%' (QGIS rejects it)")
    if not entries:
        problems.append("CHANGELOG.md has no released entry")
    elif pep440(entries[0].version) != wanted:
        problems.append(
            f"the newest CHANGELOG.md entry is {entries[0].version}, the Cargo version {version}"
        )
    elif release and entries[0].date is None:
        problems.append(
            f"CHANGELOG.md entry {version} has no release date (## [x.y.z] - YYYY-MM-DD)"
        )
    elif release and not entries[0].items():
        problems.append(f"CHANGELOG.md entry {version} lists no change")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    parser.add_argument("--check", action="store_true", help="check that all versions agree")
    parser.add_argument("--tag", help="also check this git tag (v1.2.3 or refs/tags/v1.2.3)")
    parser.add_argument(
        "--release", action="store_true", help="also require a dated, non-empty CHANGELOG entry"
    )
    parser.add_argument("--notes", action="store_true", help="print the release notes")
    parser.add_argument(
        "--python", action="store_true", help="print the version as Python spells it (PEP 440)"
    )
    parser.add_argument(
        "--plugin-changelog", action="store_true", help="print the plugin's changelog= text"
    )
    parser.add_argument(
        "--sync-metadata", action="store_true", help="write changelog= into metadata.txt"
    )
    args = parser.parse_args(argv)
    root: Path = args.root
    if args.sync_metadata:
        changed = sync_metadata(root)
        print(f"metadata.txt changelog {'updated' if changed else 'already up to date'}")
    if args.check or args.tag:
        problems = check(root, tag=args.tag, release=args.release)
        for problem in problems:
            print(f"version check: {problem}", file=sys.stderr)
        if problems:
            return 1
        print(f"version check: {cargo_version(root)} everywhere")
    if args.notes:
        entries = changelog_entries(root)
        version = pep440(cargo_version(root))
        entry = next((e for e in entries if pep440(e.version) == version), None)
        if entry is None:
            print(f"CHANGELOG.md has no entry for {version}", file=sys.stderr)
            return 1
        sys.stdout.write(release_notes(entry))
    if args.plugin_changelog:
        print(plugin_changelog(changelog_entries(root)))
    if args.python:
        print(pep440(cargo_version(root)))
    quiet = args.check or args.tag or args.notes or args.plugin_changelog or args.sync_metadata
    if not (quiet or args.python):
        print(cargo_version(root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
