#!/usr/bin/env bash
# Fuzz the engine's parsers with cargo-fuzz (libFuzzer): scripts/fuzz.sh [MINUTES] [TARGET...]
#
#   MINUTES   how long to run each target (default 5); 0 only replays the seeds and every
#             input that ever found a bug (native/core/fuzz/regressions/), a quick check
#   TARGET    header, body, read, mosaic (default: all four)
#
# Environment:
#   FUZZ_PARALLEL=1     run the targets at the same time instead of one after another
#   FUZZ_CPU=N          pin every fuzzer to CPU N (with FUZZ_PARALLEL=1 they share that core)
#   FUZZ_TOOLCHAIN=...  rustup toolchain (default: stable, with RUSTC_BOOTSTRAP=1 so that the
#                       -Z flags cargo-fuzz passes work on stable; "nightly" works too)
#   FUZZ_SANITIZER=...  address (default) or none (faster, no AddressSanitizer)
#
# Seeds come from tests/data/gdal (GDAL's AAIGrid and GRASS test files; ../shared/testdata too
# when present), tests/data/bad (the hostile-input corpus) and native/core/fuzz/regressions.
# Corpora grow in native/core/fuzz/corpus/<target>, crashes land in
# native/core/fuzz/artifacts/<target>/, logs in native/core/fuzz/artifacts/<target>.log (all
# git-ignored). A crash becomes a file in native/core/fuzz/regressions/ (named <target>-*)
# and a test in native/core/tests/ or tests/. See docs/ROBUSTNESS.md.
set -euo pipefail

minutes="${1:-5}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(header body read mosaic)
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz="$repo/native/core/fuzz"
shared="$repo/../shared/testdata"
toolchain="${FUZZ_TOOLCHAIN:-stable}"
sanitizer="${FUZZ_SANITIZER:-address}"
seconds=$((minutes * 60))

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 1
fi
if [ "$toolchain" != "nightly" ]; then
    export RUSTC_BOOTSTRAP=1
fi
# Leak reports from rayon's long-lived worker threads are noise here.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"

cd "$fuzz"
for t in "${targets[@]}"; do
    cargo "+$toolchain" fuzz build -s "$sanitizer" "$t"
done
bin_dir="target/$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')/release"

# Seed corpora. The header target takes a file as it is; body and read take one selector
# byte first (cell type, chunk size, which ways in), so each seed goes in with a few.
seed_files() {
    find "$shared" "$repo/tests/data/gdal" "$repo/tests/data/bad" -type f \
        \( -name '*.asc' -o -name '*.ASC' -o -name '*.grd' -o -name '*.txt' -o -name '*.gz' \) \
        -size -64k 2>/dev/null | sort
}
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    while IFS= read -r f; do
        base="$(basename "$f")"
        case "$t" in
            header) cp "$f" "corpus/$t/seed-$base" ;;
            *)
                for sel in 00 01 1e 3b; do
                    { printf "\\x$sel"; cat "$f"; } >"corpus/$t/seed-$sel-$base"
                done
                ;;
        esac
    done < <(seed_files)
    for f in regressions/"$t"-*; do
        if [ -e "$f" ]; then cp "$f" "corpus/$t/regression-$(basename "$f")"; fi
    done
done

run() {
    local t="$1"
    local pin=()
    if [ -n "${FUZZ_CPU:-}" ]; then
        pin=(taskset -c "$FUZZ_CPU")
    fi
    local found=()
    for f in regressions/"$t"-*; do
        [ -e "$f" ] && found+=("$f")
    done
    if [ "$minutes" -eq 0 ]; then
        echo "== $t: replaying corpus/$t and ${#found[@]} regression inputs"
        local log="artifacts/$t.replay.log"
        "${pin[@]}" "$bin_dir/$t" -runs=0 -artifact_prefix="artifacts/$t/" "corpus/$t" \
            >"$log" 2>&1 &&
            { [ ${#found[@]} -eq 0 ] || "${pin[@]}" "$bin_dir/$t" "${found[@]}" >>"$log" 2>&1; } &&
            status=0 || status=$?
    else
        echo "== $t: ${minutes} min, log artifacts/$t.log"
        # -max_len: grids that exercise every rule fit in 64 KiB; longer inputs only slow it.
        "${pin[@]}" nice -n 19 "$bin_dir/$t" "corpus/$t" \
            -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"artifacts/$t.log" 2>&1 &&
            status=0 || status=$?
    fi
    local shown="artifacts/$t.log"
    if [ "$minutes" -eq 0 ]; then
        shown="artifacts/$t.replay.log"
    fi
    grep -aE '^#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb' "$shown" |
        sed "s/^/   $t: /" || true
    if [ "$status" -ne 0 ]; then
        echo "   $t: FAILED (exit $status): see artifacts/$t/ and $shown"
    fi
    return "$status"
}

failed=0
if [ "${FUZZ_PARALLEL:-0}" = "1" ]; then
    pids=()
    for t in "${targets[@]}"; do
        run "$t" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do
        wait "$p" || failed=1
    done
else
    for t in "${targets[@]}"; do
        run "$t" || failed=1
    done
fi
exit "$failed"
