#!/usr/bin/env python3
"""Build the QGIS plugin zip: ``dist/asciigrid_qgis-<version>.zip``.

The zip holds one folder, ``asciigrid_qgis/``: the plugin (``qgis_plugin/``), the top-level
``metadata.txt``, and the native engine in one folder per platform::

    asciigrid_qgis/engines/linux_x86_64/asciigrid/{__init__.py, _native.abi3.so, ...}

Where the engines come from:

* ``--wheel PATH`` (repeatable): from already-built wheels (the release workflow passes the
  wheels of every platform); the folder name comes from each wheel's platform tag
  (``manylinux_2_17_x86_64`` → ``linux_x86_64``, ``macosx_11_0_arm64`` → ``macos_arm64``,
  ``win_amd64`` → ``windows_x64``).
* otherwise the engine built on this machine: the ``asciigrid`` importable by this Python
  (e.g. after ``maturin develop --release``), or, with ``--build`` or when there is none, a
  wheel built now with ``maturin build --release``.
* ``--no-engine``: a plugin without engine (it then uses ``pip install asciigrid``).

The archive is reproducible (sorted entries, fixed timestamps) and its version must equal the
Cargo workspace version, metadata.txt's and every wheel's.

    python scripts/package_plugin.py
    python scripts/package_plugin.py --wheel dist/wheels/*.whl --out-dir dist
"""

from __future__ import annotations

import argparse
import configparser
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_SRC = ROOT / "qgis_plugin"
PLUGIN_FOLDER = "asciigrid_qgis"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SKIP_DIRS = {"__pycache__", "engines", ".pytest_cache", ".ruff_cache"}
SKIP_SUFFIXES = (".pyc", ".pyo")
ENGINE_SUFFIXES = (".py", ".pyi", ".typed", ".so", ".pyd", ".dylib", ".dll")
WHEEL_RE = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?"
    r"-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)


def _platforms_module():
    """qgis_plugin/platforms.py: the single definition of the folder names."""
    spec = importlib.util.spec_from_file_location("_plugin_platforms", PLUGIN_SRC / "platforms.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PLATFORMS = _platforms_module()


class PackagingError(Exception):
    pass


def cargo_version() -> str:
    text = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    section = re.search(r"^\[workspace\.package\](.*?)(?=^\[|\Z)", text, re.S | re.M)
    match = section and re.search(r'^version\s*=\s*"([^"]+)"', section.group(1), re.M)
    if not match:
        raise PackagingError("no [workspace.package] version in Cargo.toml")
    return match.group(1)


def metadata_version() -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "metadata.txt", encoding="utf-8")
    return parser["general"]["version"].strip()


def _normal(version: str) -> str:
    """PEP 440-ish comparison key: ``0.1.0-rc.1`` (Cargo) and ``0.1.0rc1`` (wheel) agree."""
    return (
        re.sub(r"[-_.]?(a|b|rc|alpha|beta|dev|post)[-_.]?", r"\1", version.lower())
        .replace("alpha", "a")
        .replace("beta", "b")
    )


# --- engines ---------------------------------------------------------------------------------


def engine_from_wheel(wheel: Path, version: str) -> tuple[str, dict[str, bytes]]:
    """``(platform folder, {relative path: bytes})`` of the importable packages in a wheel."""
    match = WHEEL_RE.match(wheel.name)
    if not match:
        raise PackagingError(f"{wheel}: not a wheel file name")
    if match["name"].lower().replace("-", "_") != "asciigrid":
        raise PackagingError(f"{wheel}: not an asciigrid wheel")
    if _normal(match["version"]) != _normal(version):
        raise PackagingError(f"{wheel}: version {match['version']} but the plugin is {version}")
    if match["abi"] != "abi3":
        print(
            f"warning: {wheel.name} is not abi3 ({match['abi']}): it only serves one Python",
            file=sys.stderr,
        )
    folders = {PLATFORMS.folder_for_wheel_tag(tag) for tag in match["platform"].split(".")}
    if len(folders) != 1:
        raise PackagingError(f"{wheel}: platform tags map to several folders {sorted(folders)}")
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            top = PurePosixPath(info.filename).parts[0]
            if info.is_dir() or top.endswith((".dist-info", ".data")):
                continue
            files[info.filename] = archive.read(info)
    if not any(n.startswith("asciigrid/_native") for n in files):
        raise PackagingError(f"{wheel}: no asciigrid/_native module inside")
    return folders.pop(), files


def engine_from_installed(version: str) -> tuple[str, dict[str, bytes]] | None:
    """The ``asciigrid`` this Python imports (e.g. ``maturin develop``), if any."""
    try:
        import asciigrid
    except ImportError as err:
        print(f"no importable asciigrid ({err}); building a wheel", file=sys.stderr)
        return None
    installed = getattr(asciigrid, "__version__", "?")
    if _normal(installed) != _normal(version):
        raise PackagingError(
            f"the installed asciigrid is {installed} but the plugin is {version}: rebuild it "
            "(maturin develop --release) or pass --build"
        )
    package = Path(asciigrid.__file__).resolve().parent
    files: dict[str, bytes] = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if (
            path.is_file()
            and not (set(rel.parts) & SKIP_DIRS)
            and path.name.endswith(ENGINE_SUFFIXES)
        ):
            files[f"asciigrid/{rel.as_posix()}"] = path.read_bytes()
    if not any(n.startswith("asciigrid/_native") for n in files):
        raise PackagingError(f"{package}: asciigrid has no built _native module")
    print(f"engine: {package} (asciigrid {installed})", file=sys.stderr)
    return PLATFORMS.current_platform_folders()[0], files


def build_wheel(version: str) -> tuple[str, dict[str, bytes]]:
    maturin = shutil.which("maturin") or str(Path(sys.executable).with_name("maturin"))
    with tempfile.TemporaryDirectory() as tmp:
        command = [maturin, "build", "--release", "--out", tmp]
        print("$ " + " ".join(command), file=sys.stderr)
        subprocess.run(command, cwd=ROOT, check=True)
        wheels = sorted(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise PackagingError(f"maturin built {len(wheels)} wheels, expected one")
        return engine_from_wheel(wheels[0], version)


# --- zip ---------------------------------------------------------------------------------------


def plugin_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(PLUGIN_SRC.rglob("*")):
        rel = path.relative_to(PLUGIN_SRC)
        if (
            path.is_file()
            and not (set(rel.parts) & SKIP_DIRS)
            and not path.name.endswith(SKIP_SUFFIXES)
        ):
            files[rel.as_posix()] = path.read_bytes()
    files["metadata.txt"] = (ROOT / "metadata.txt").read_bytes()
    for extra in ("LICENSE", "LICENSE.txt", "LICENSE.md"):
        if (ROOT / extra).is_file():
            files[extra] = (ROOT / extra).read_bytes()
    return files


def write_zip(target: Path, files: dict[str, bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for name in sorted(files):
                info = zipfile.ZipInfo(f"{PLUGIN_FOLDER}/{name}", date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                executable = name.endswith((".so", ".pyd", ".dylib", ".dll"))
                info.external_attr = (0o755 if executable else 0o644) << 16
                info.create_system = 3  # unix, so the permission bits are honoured
                archive.writestr(info, files[name])
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def package(
    wheels: list[Path], out_dir: Path, build: bool = False, no_engine: bool = False
) -> Path:
    version = cargo_version()
    if metadata_version() != version:
        raise PackagingError(
            f"metadata.txt says version {metadata_version()} but Cargo.toml says {version}"
        )
    files = plugin_files()
    engines: dict[str, dict[str, bytes]] = {}
    if wheels:
        for wheel in wheels:
            folder, content = engine_from_wheel(wheel, version)
            if folder in engines:
                raise PackagingError(f"{wheel}: a second engine for {folder}")
            engines[folder] = content
    elif not no_engine:
        found = None if build else engine_from_installed(version)
        folder, content = found or build_wheel(version)
        engines[folder] = content
    for folder, content in engines.items():
        for name, data in content.items():
            files[f"engines/{folder}/{name}"] = data
    target = out_dir / f"{PLUGIN_FOLDER}-{version}.zip"
    write_zip(target, files)
    print(f"engines: {', '.join(sorted(engines)) or 'none'}", file=sys.stderr)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--wheel",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="take an engine from this wheel (repeat for each platform)",
    )
    parser.add_argument("--out-dir", type=Path, default=ROOT / "dist", help="default: dist/")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--build", action="store_true", help="build a fresh wheel with maturin")
    group.add_argument("--no-engine", action="store_true", help="package without an engine")
    args = parser.parse_args(argv)
    if args.wheel and (args.build or args.no_engine):
        parser.error("--wheel cannot be combined with --build or --no-engine")
    try:
        target = package(args.wheel, args.out_dir, args.build, args.no_engine)
    except (PackagingError, subprocess.CalledProcessError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
