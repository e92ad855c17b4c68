#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for asciigrid, and build it. Safe to run again:
# every step is skipped when already done.
#
#   ./scripts/install.sh              # system packages, Rust check, .venv, build asciigrid
#   ./scripts/install.sh --bench      # also the peers scripts/bench.py compares with
#
# Needs root, or sudo for the apt step. Installs:
#   - Debian packages: QGIS 3 with its Python bindings, GDAL (tools and Python), Xvfb,
#     a C toolchain (Rust links through cc) and python3-venv;
#   - .venv at the repository root (python3 -m venv --system-site-packages, so QGIS's and
#     GDAL's Python bindings stay visible), with the dev tools;
#   - asciigrid itself into .venv (maturin develop --release).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
WITH_BENCH=0
for arg in "$@"; do
    case "$arg" in
        --bench) WITH_BENCH=1 ;;
        -h | --help)
            sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "install.sh: unknown option $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

say() { printf '\n==> %s\n' "$*"; }

# --- 1. Debian packages ------------------------------------------------------------------
APT_PACKAGES=(
    qgis python3-qgis qgis-providers gdal-bin python3-gdal xvfb xauth
    python3-venv gcc libc6-dev ca-certificates
)
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    fi
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    say "Debian packages: all present"
else
    if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
        echo "install.sh: missing packages (${missing[*]}); run as root or install sudo" >&2
        exit 1
    fi
    say "Debian packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- 2. Rust toolchain -------------------------------------------------------------------
# Debian's own cargo (1.63 in bookworm) is too old for this workspace's rust-version, so
# a missing or old toolchain means rustup.
if [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
need_rust="$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n1)"
need_rust="${need_rust:-1.85}"
rust_help() {
    cat >&2 <<EOF
install.sh: $1
asciigrid needs Rust >= $need_rust (cargo, rustfmt, clippy). Install it with rustup:
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y
    . "\$HOME/.cargo/env"
(or, where your distribution packages rustup: apt-get install rustup && rustup default stable)
then run this script again.
EOF
    exit 1
}
if ! command -v cargo >/dev/null 2>&1; then
    rust_help "cargo was not found"
fi
have_rust="$(rustc --version | awk '{print $2}')"
if [ "$(printf '%s\n%s\n' "$need_rust" "$have_rust" | sort -V | head -n1)" != "$need_rust" ]; then
    if command -v rustup >/dev/null 2>&1; then
        say "Rust $have_rust is older than $need_rust: rustup update stable"
        rustup update stable
        have_rust="$(rustc --version | awk '{print $2}')"
    else
        rust_help "Rust $have_rust is older than $need_rust"
    fi
fi
if command -v rustup >/dev/null 2>&1; then
    for component in rustfmt clippy; do
        if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
            say "rustup component add $component"
            rustup component add "$component"
        fi
    done
fi
say "Rust: $(cargo --version)"

# --- 3. Python virtual environment -------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV (with system site-packages, for QGIS and GDAL)"
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
else
    say "virtual environment: $VENV"
fi
# Never let pip shadow the system numpy that python3-gdal and QGIS were built against.
CONSTRAINTS="$VENV/constraints.txt"
sys_numpy="$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)' 2>/dev/null || true)"
if [ -n "$sys_numpy" ]; then
    echo "numpy==$sys_numpy" >"$CONSTRAINTS"
else
    : >"$CONSTRAINTS"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip_install() { "$VENV/bin/python" -m pip install -q -c "$CONSTRAINTS" "$@"; }
say "dev tools: maturin, pytest, hypothesis, ruff, pytest-qgis"
pip_install "maturin>=1.7,<2" "pytest>=7" "hypothesis>=6" "ruff>=0.17,<0.18" "pytest-qgis>=5,<6"
# The optional interfaces' dependencies (asciigrid[xarray], asciigrid[dask]), and rioxarray as
# the GDAL-based reference the xarray backend is tested against. affine 3.0 breaks on this
# Python (its cached properties need a __dict__ its slots leave out).
say "optional interfaces: xarray, dask, distributed, rioxarray"
pip_install "xarray>=2023.1" "dask[array]>=2023.1" distributed rioxarray "affine<3"
if [ "$WITH_BENCH" -eq 1 ]; then
    say "benchmark peers: pandas, polars, rasterio, ascii-grid-parser-rs"
    pip_install pandas polars rasterio ascii-grid-parser-rs
fi

# --- 4. Build asciigrid into the venv ----------------------------------------------------
say "building asciigrid (maturin develop --release)"
cd "$ROOT"
VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" PIP_CONSTRAINT="$CONSTRAINTS" \
    "$VENV/bin/maturin" develop --release
"$VENV/bin/python" -c 'import asciigrid; print("asciigrid", asciigrid.__version__, "installed")'
