#!/usr/bin/env bash
# The QGIS part of the demo: build the plugin zip, install it into a throw-away QGIS profile,
# make a sample tile set (a few hundred tiles, some zipped, one zip inside a zip), then run
# asciigrid:batchimport and asciigrid:stats through `qgis_process --json`, printing the
# output, the statistics and the timings. With a grid, also asciigrid:fastload.
#
#   ./scripts/demo_qgis.sh [GRID.asc] [UNUSED_TILE_DIR] [PYTHON]
#
# (scripts/demo.sh calls it with its sample grid, its tile folder and the venv's python; the
# QGIS demo makes its own tile set, with zips.) Everything goes to sample-data/qgis/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GRID="${1:-}"
PY="${3:-$ROOT/.venv/bin/python}"
OUT="$ROOT/sample-data/qgis"
TILES="$OUT/tiles"
PROFILE="$OUT/qgis-profile"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/runtime-$(id -u)}"

now() { "$PY" -c 'import time; print(time.perf_counter())'; }
elapsed() { "$PY" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$1" "$2"; }
show() {  # print selected results of a qgis_process --json run
    "$PY" -c '
import json, sys
payload = json.load(open(sys.argv[1]))
for key, value in payload["results"].items():
    if isinstance(value, float):
        value = f"{value:.6g}"
    print(f"    {key:15} {value}")
' "$1"
}

printf -- '--> plugin zip\n'
ZIP="$("$PY" "$ROOT/scripts/package_plugin.py" | tail -n 1)"
echo "    $ZIP"

printf -- '--> install into a fresh QGIS profile (%s)\n' "$PROFILE"
rm -rf "$PROFILE"
"$PY" "$ROOT/scripts/qgis_tools.py" install "$ZIP" "$PROFILE" >/dev/null
QGIS_PROCESS="$("$PY" "$ROOT/scripts/qgis_tools.py" command)"
export QGIS_CUSTOM_CONFIG_PATH="$PROFILE"
echo "    qgis_process: $QGIS_PROCESS"
"$QGIS_PROCESS" list 2>/dev/null | grep 'asciigrid:' | sed 's/^/   /'

if [ ! -f "$TILES/.complete" ]; then
    printf -- '--> sample tiles (300 tiles of 100x100, 100 of them in zips, one nested zip)\n'
    rm -rf "$TILES"
    "$PY" "$ROOT/scripts/corpus.py" tiles "$TILES" --count 300 --size 100 --zipped 100 --nested-zip \
        | sed 's/^/    /'
    touch "$TILES/.complete"
fi
echo "    $(find "$TILES" -name '*.asc' | wc -l) loose .asc files, $(find "$TILES" -name '*.zip' | wc -l) zips in $TILES"

printf -- '\n--> asciigrid:batchimport (FOLDER, zips read in place)\n'
start="$(now)"
"$QGIS_PROCESS" --json run asciigrid:batchimport -- FOLDER="$TILES" ON_ERROR=1 \
    OUTPUT="$OUT/mosaic.tif" REPORT="$OUT/mosaic_report.txt" >"$OUT/batchimport.json" 2>"$OUT/batchimport.log" \
    || { cat "$OUT/batchimport.log" >&2; exit 1; }
end="$(now)"
show "$OUT/batchimport.json"
echo "    time            $(elapsed "$start" "$end") (qgis_process start-up included)"
gdalinfo "$OUT/mosaic.tif" 2>/dev/null | grep -E '^Size is|Pixel Size|COMPRESSION|NoData|STATISTICS_(MIN|MAX)' | sed 's/^ */    /' || true

printf -- '\n--> asciigrid:stats (all tiles, one row per file)\n'
start="$(now)"
"$QGIS_PROCESS" --json run asciigrid:stats -- FOLDER="$TILES" OUTPUT_TABLE="$OUT/tile_stats.csv" \
    >"$OUT/stats.json" 2>"$OUT/stats.log" || { cat "$OUT/stats.log" >&2; exit 1; }
end="$(now)"
show "$OUT/stats.json"
echo "    time            $(elapsed "$start" "$end") (qgis_process start-up included)"

printf -- '\n--> asciigrid:stats of the mosaic (QGIS statistics of the GeoTIFF: same cells, same numbers)\n'
"$QGIS_PROCESS" --json run asciigrid:stats -- INPUT="$OUT/mosaic.tif" >"$OUT/stats_mosaic.json" 2>/dev/null
show "$OUT/stats_mosaic.json" | grep -E 'COUNT|MEAN|STD_DEV'

if [ -n "$GRID" ] && [ -f "$GRID" ]; then
    printf -- '\n--> asciigrid:fastload %s\n' "$(basename "$GRID")"
    start="$(now)"
    "$QGIS_PROCESS" --json run asciigrid:fastload -- INPUT="$GRID" OUTPUT="$OUT/fastload.tif" \
        >"$OUT/fastload.json" 2>"$OUT/fastload.log" || { cat "$OUT/fastload.log" >&2; exit 1; }
    end="$(now)"
    show "$OUT/fastload.json"
    echo "    time            $(elapsed "$start" "$end") (qgis_process start-up included)"
fi
printf -- '\nQGIS demo done: outputs in %s\n' "$OUT"
