#!/usr/bin/env bash
# What of the release can be checked on this machine (the workflows themselves only run on
# GitHub):
#   1. zizmor --offline finds nothing in .github/ (workflows and dependabot.yml);
#   2. every workflow validates against the GitHub workflow schema (check-jsonschema);
#   3. the versions agree (Cargo, asciigrid.__version__, metadata.txt, CHANGELOG);
#   4. a manylinux2014 x86_64 abi3 wheel built with `maturin build --release --zig` has the
#      expected tags, links nothing newer than glibc 2.17, and imports and reads a grid in a
#      clean virtual environment (no system site-packages; numpy from PyPI);
#   5. the plugin zip built from that wheel (scripts/package_plugin.py --wheel) installs into
#      a fresh QGIS profile and runs asciigrid:stats with qgis_process.
#
#   ./scripts/check_release.sh
#
# The tools (zizmor, check-jsonschema, maturin, ziglang; pinned) live in their own virtual
# environment, $ASCIIGRID_RELEASE_TOOLS (default ~/.cache/asciigrid-release-tools), created on
# first use. Needs python3 with venv, Rust (cargo) and QGIS (qgis_process); run
# ./scripts/install.sh once on a fresh machine. Takes about two minutes once the tools are in.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS="${ASCIIGRID_RELEASE_TOOLS:-$HOME/.cache/asciigrid-release-tools}"
WHEEL_DIR="$ROOT/dist/wheels"
PLUGIN_DIR="$ROOT/dist/release-check"
SYSTEM_PYTHON=/usr/bin/python3
# Keep these in step with .github/workflows/ci.yml and release.yml.
TOOL_PINS=(zizmor==1.32.0 check-jsonschema==0.39.0 maturin==1.16.0 ziglang==0.17.1)
TARGET=x86_64-unknown-linux-gnu

START=$SECONDS
say() { printf '\n==> %s\n' "$*"; }
fail() {
    echo "check_release.sh: FAILED: $*" >&2
    exit 1
}
if [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1

# --- 0. tools ------------------------------------------------------------------------------
say "release tools in $TOOLS"
if [ ! -x "$TOOLS/bin/python" ]; then
    "$SYSTEM_PYTHON" -m venv "$TOOLS"
fi
PINS="$(printf '%s\n' "${TOOL_PINS[@]}")"
if [ "$(cat "$TOOLS/.pins" 2>/dev/null || true)" != "$PINS" ]; then
    "$TOOLS/bin/python" -m pip install -q "${TOOL_PINS[@]}"
    printf '%s\n' "$PINS" >"$TOOLS/.pins"
fi
for tool in zizmor check-jsonschema maturin; do
    printf '  %s\n' "$("$TOOLS/bin/$tool" --version 2>&1 | head -n1)"
done
printf '  zig %s\n' "$("$TOOLS/bin/python" -m ziglang version)"

# --- 1. zizmor -----------------------------------------------------------------------------
say "zizmor --offline .github"
"$TOOLS/bin/zizmor" --offline --no-progress .github || fail "zizmor reported findings"

# --- 2. workflow schema ----------------------------------------------------------------------
say "check-jsonschema (GitHub workflow and Dependabot schemas)"
"$TOOLS/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml \
    || fail "a workflow does not validate against the GitHub workflow schema"
"$TOOLS/bin/check-jsonschema" --builtin-schema vendor.dependabot .github/dependabot.yml \
    || fail "dependabot.yml does not validate"

# --- 3. one version ----------------------------------------------------------------------------
say "versions agree"
"$SYSTEM_PYTHON" scripts/release_version.py --check || fail "versions disagree"
VERSION="$("$SYSTEM_PYTHON" scripts/release_version.py)"
PY_VERSION="$("$SYSTEM_PYTHON" scripts/release_version.py --python)"

# --- 4. the manylinux2014 wheel ---------------------------------------------------------------
say "maturin build --release --zig --compatibility manylinux2014 ($TARGET)"
rm -rf "$WHEEL_DIR"
locked=()
if [ -f Cargo.lock ]; then
    locked=(--locked)
fi
# maturin finds zig through `python3 -m ziglang`: the tools' python must come first on PATH.
PATH="$TOOLS/bin:$PATH" "$TOOLS/bin/maturin" build --release "${locked[@]}" --zig \
    --compatibility manylinux2014 --target "$TARGET" --out "$WHEEL_DIR" \
    || fail "maturin build --zig failed"
wheels=("$WHEEL_DIR"/*.whl)
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $WHEEL_DIR, found ${#wheels[@]}"
WHEEL="${wheels[0]}"
echo "wheel: $(basename "$WHEEL")"

say "wheel tags, glibc symbols and linked libraries"
"$SYSTEM_PYTHON" - "$WHEEL" "$VERSION" <<'PY' || fail "the wheel's tags or linking are wrong"
import re, subprocess, sys, tempfile, zipfile
from pathlib import Path

wheel, version = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, "scripts")
from release_version import pep440

name, ver, python, abi, platforms = wheel.name[: -len(".whl")].split("-")
assert name == "asciigrid" and ver == pep440(version), wheel.name
assert (python, abi) == ("cp39", "abi3"), f"{python}-{abi}: not an abi3 wheel for Python >= 3.9"
assert set(platforms.split(".")) == {"manylinux_2_17_x86_64", "manylinux2014_x86_64"}, platforms
with zipfile.ZipFile(wheel) as archive:
    info = next(n for n in archive.namelist() if n.endswith(".dist-info/WHEEL"))
    tags = {line.split(": ", 1)[1] for line in archive.read(info).decode().splitlines()
            if line.startswith("Tag: ")}
    assert tags == {f"cp39-abi3-{p}" for p in platforms.split(".")}, tags
    natives = [n for n in archive.namelist() if re.fullmatch(r"asciigrid/_native\.abi3\.so", n)]
    assert len(natives) == 1, archive.namelist()
    with tempfile.TemporaryDirectory() as tmp:
        so = archive.extract(natives[0], tmp)
        symbols = subprocess.run(["objdump", "-T", so], capture_output=True, text=True, check=True).stdout
        dynamic = subprocess.run(["readelf", "-d", so], capture_output=True, text=True, check=True).stdout
glibc = sorted({tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_([0-9.]+)", symbols)})
assert glibc and glibc[-1] <= (2, 17), f"needs glibc {glibc[-1]} > 2.17"
needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))
allowed = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
           "libgcc_s.so.1", "ld-linux-x86-64.so.2", "libutil.so.1"}  # PEP 599
assert needed <= allowed, f"links {sorted(needed - allowed)} (not allowed by manylinux2014)"
print(f"tags: {sorted(tags)}")
print(f"newest glibc symbol: GLIBC_{'.'.join(map(str, glibc[-1]))}; links {sorted(needed)}")
PY

say "the wheel in a clean virtual environment (no system site-packages)"
CLEAN="$(mktemp -d /tmp/asciigrid-clean-venv.XXXXXX)"
trap 'rm -rf "$CLEAN"' EXIT
"$SYSTEM_PYTHON" -m venv "$CLEAN/venv"
"$CLEAN/venv/bin/python" -m pip install -q "$WHEEL" || fail "pip install of the wheel failed"
(
    cd "$CLEAN" # away from the source tree, so only the installed wheel can be imported
    "$CLEAN/venv/bin/python" - "$VERSION" "$PY_VERSION" <<'PY'
import importlib.metadata
import sys

import asciigrid

version, python_version = sys.argv[1:3]  # Cargo's spelling and PEP 440's
assert asciigrid.__file__.startswith(sys.prefix), f"imported from {asciigrid.__file__}"
assert asciigrid.__version__ in (version, python_version), (asciigrid.__version__, version)
assert importlib.metadata.version("asciigrid") == python_version
grid = asciigrid.read(
    b"ncols 3\nnrows 2\nxllcorner 100\nyllcorner 200\ncellsize 10\nNODATA_value -9999\n"
    b"1 2 3\n4 -9999 6\n"
)
assert grid.shape == (2, 3) and grid.data.tolist() == [[1, 2, 3], [4, -9999, 6]], grid.data
assert grid.nodata == -9999 and grid.geotransform == (100, 10, 0, 220, 0, -10), grid.geotransform
assert int(grid.masked().count()) == 5
import numpy
print(f"asciigrid {asciigrid.__version__} (numpy {numpy.__version__}) from {asciigrid.__file__}")
print(f"read a 2x3 grid: {grid.data.tolist()}, geotransform {grid.geotransform}")
PY
) || fail "the wheel does not import or read a grid in a clean venv"

# --- 5. the plugin zip from that wheel, in a fresh QGIS profile ------------------------------
say "plugin zip from the wheel (scripts/package_plugin.py --wheel)"
[ -f scripts/package_plugin.py ] || fail "scripts/package_plugin.py is missing"
rm -rf "$PLUGIN_DIR"
"$SYSTEM_PYTHON" scripts/package_plugin.py --wheel "$WHEEL" --out-dir "$PLUGIN_DIR" \
    || fail "package_plugin.py --wheel failed"
PLUGIN_ZIP="$PLUGIN_DIR/asciigrid_qgis-$VERSION.zip"
[ -f "$PLUGIN_ZIP" ] || fail "$PLUGIN_ZIP was not written"
"$SYSTEM_PYTHON" scripts/release_plugins_xml.py --zip "$PLUGIN_ZIP" \
    --require-engines linux_x86_64 \
    --base-url "https://github.com/asciigrid/asciigrid/releases/download/v$VERSION" \
    --output "$PLUGIN_DIR/plugins.xml" || fail "plugins.xml"

say "install into a fresh QGIS profile and run asciigrid:stats with qgis_process"
if "$SYSTEM_PYTHON" -c 'import asciigrid' 2>/dev/null; then
    echo "note: QGIS's Python also has an asciigrid installed; the bundled engine may not be the one used"
fi
# QGIS's embedded Python must find the system python3 first (not e.g. a pyenv shim).
PATH="/usr/local/bin:/usr/bin:/bin:$PATH" "$SYSTEM_PYTHON" scripts/release_qgis_smoke.py \
    "$PLUGIN_ZIP" || fail "the plugin zip does not run in QGIS"

echo
echo "check_release.sh: all release checks passed ($((SECONDS - START)) s)"
