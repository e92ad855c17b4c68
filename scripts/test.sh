#!/usr/bin/env bash
# THE test command: Rust format, lints and tests, build asciigrid into .venv, Python lints,
# then the whole pytest suite (API, GDAL agreement, QGIS plugin, qgis_process, modeler).
#
#   ./scripts/test.sh          # from anywhere; run ./scripts/install.sh once before
#
# Every step runs even when an earlier one fails (except pytest, which needs the build), and
# a summary lists the failures; the exit status is non-zero when any step failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"

if [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "test.sh: $VENV is missing: run ./scripts/install.sh first" >&2
    exit 1
fi
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
if [ -f "$VENV/constraints.txt" ]; then
    export PIP_CONSTRAINT="$VENV/constraints.txt"
fi

failed=()
step() {
    local name="$1"
    shift
    printf '\n==> %s\n' "$name"
    if "$@"; then
        return 0
    fi
    failed+=("$name")
    return 1
}

run_pytest() {
    local rc=0
    QT_QPA_PLATFORM=offscreen "$VENV/bin/python" -m pytest -q tests || rc=$?
    if [ "$rc" -eq 5 ]; then
        echo "test.sh: pytest collected no tests; there must be tests" >&2
    fi
    return "$rc"
}

step "cargo fmt" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
# The benchmark examples need the core's `internals` feature, so the step above skips them.
step "cargo clippy (internals)" cargo clippy -p asciigrid-core --all-targets --features internals -- -D warnings
step "cargo test" cargo test --workspace
# The fuzz targets live outside the workspace (they need libFuzzer): at least keep them compiling.
step "cargo check (fuzz targets)" cargo check --manifest-path native/core/fuzz/Cargo.toml --all-targets
built=0
step "maturin develop --release" "$VENV/bin/maturin" develop --release && built=1
step "ruff check" "$VENV/bin/ruff" check "$ROOT"
step "ruff format --check" "$VENV/bin/ruff" format --check "$ROOT"
if [ "$built" -eq 1 ]; then
    step "pytest" run_pytest
else
    printf '\n==> pytest: not run, the build failed\n'
    failed+=("pytest (not run)")
fi

echo
if [ "${#failed[@]}" -gt 0 ]; then
    echo "test.sh: FAILED:"
    printf '  - %s\n' "${failed[@]}"
    exit 1
fi
echo "test.sh: all checks passed"
