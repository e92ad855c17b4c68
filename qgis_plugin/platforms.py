"""Names of the per-platform engine folders (``engines/<name>/asciigrid``).

Pure Python, no QGIS import: ``scripts/package_plugin.py`` uses the same names when it
turns wheel platform tags into folders, and the plugin uses them at load time to pick its
own folder. One abi3 build serves every Python of a platform, so the name is the platform
only (operating system, C library, CPU).
"""

from __future__ import annotations

import platform
import re
import sys

__all__ = ["current_platform_folders", "folder_for_wheel_tag"]

_ARCH_ALIASES = {
    "amd64": "x86_64",
    "x86_64": "x86_64",
    "x64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "armv8": "aarch64",
    "i386": "x86",
    "i686": "x86",
    "x86": "x86",
}


def _arch(machine: str) -> str:
    return _ARCH_ALIASES.get(machine.lower(), machine.lower())


def _folder(system: str, arch: str) -> str:
    """The canonical folder name: linux_x86_64, linux_aarch64, macos_x86_64, macos_arm64,
    windows_x64, ... (Apple and Microsoft spell their CPUs their own way; so do we)."""
    if system == "macos":
        return f"macos_{'arm64' if arch == 'aarch64' else arch}"
    if system == "windows":
        return "windows_" + {"x86_64": "x64", "aarch64": "arm64"}.get(arch, arch)
    return f"{system}_{arch}"


def folder_for_wheel_tag(platform_tag: str) -> str:
    """The engine folder for a wheel's platform tag.

    >>> folder_for_wheel_tag("manylinux_2_17_x86_64.manylinux2014_x86_64")
    'linux_x86_64'
    >>> folder_for_wheel_tag("macosx_11_0_arm64")
    'macos_arm64'
    >>> folder_for_wheel_tag("win_amd64")
    'windows_x64'
    """
    tag = platform_tag.split(".")[0].lower()
    match = re.fullmatch(r"(?:many|musl)?linux(?:\d+)?(?:_\d+_\d+)?_(\w+)", tag)
    if match:
        system = "linux_musl" if tag.startswith("musllinux") else "linux"
        return _folder(system, _arch(match.group(1)))
    match = re.fullmatch(r"macosx_\d+_\d+_(\w+)", tag)
    if match:
        arch = match.group(1)
        return "macos_universal2" if arch == "universal2" else _folder("macos", _arch(arch))
    if tag == "win32":
        return _folder("windows", "x86")
    match = re.fullmatch(r"win_(\w+)", tag)
    if match:
        return _folder("windows", _arch(match.group(1)))
    raise ValueError(f"unknown wheel platform tag {platform_tag!r}")


def current_platform_folders() -> list[str]:
    """Engine folders that can run here, best first."""
    arch = _arch(platform.machine() or "")
    if sys.platform.startswith("linux"):
        libc = platform.libc_ver()[0]
        return [_folder("linux_musl" if libc and libc != "glibc" else "linux", arch)]
    if sys.platform == "darwin":
        return [_folder("macos", arch), "macos_universal2"]
    if sys.platform in ("win32", "cygwin"):
        return [_folder("windows", arch)]
    return [f"{sys.platform}_{arch}"]
