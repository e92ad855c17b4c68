#!/usr/bin/env bash
# The main job, on a fresh Debian/Ubuntu machine: install everything (scripts/install.sh),
# make sample data, read it with asciigrid (header, timing, statistics, GDAL check), then
# run the QGIS part of the demo when scripts/demo_qgis.sh exists.
#
#   ./scripts/demo.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
DATA="$ROOT/sample-data"
GRID="$DATA/sample_2000x2000.asc"
TILES="$DATA/tiles"

bash "$ROOT/scripts/install.sh"

printf '\n==> sample data in %s\n' "$DATA"
mkdir -p "$DATA"
if [ ! -f "$GRID" ]; then
    "$PY" "$ROOT/scripts/corpus.py" big "$GRID" --rows 2000 --cols 2000
fi
if [ ! -f "$TILES/.complete" ]; then
    "$PY" "$ROOT/scripts/corpus.py" tiles "$TILES" --count 36 --size 200
    touch "$TILES/.complete"
fi

printf '\n==> asciigrid\n'
"$PY" "$ROOT/scripts/demo.py" "$GRID" --tiles "$TILES"

# --- QGIS demo hook -----------------------------------------------------------------------
# scripts/demo_qgis.sh (owned by the QGIS plugin) runs the Processing algorithms on the same
# data. It is called with: the sample grid, the tile folder, the venv's python.
if [ -f "$ROOT/scripts/demo_qgis.sh" ]; then
    printf '\n==> QGIS plugin\n'
    bash "$ROOT/scripts/demo_qgis.sh" "$GRID" "$TILES" "$PY"
else
    printf '\n(scripts/demo_qgis.sh not present: QGIS part of the demo skipped)\n'
fi
printf '\ndemo finished\n'
