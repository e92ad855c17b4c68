#!/usr/bin/env python3
"""Benchmark the QGIS plugin against what QGIS users do today (a report, not a test).

    .venv/bin/python scripts/bench_qgis.py [--tiles 2858] [--size 100] [--big 4000]
                                           [--runs 3] [--baseline-runs 1] [--write-docs]

Data (generated once with scripts/corpus.py, cached in ``bench-data/qgis/``): ``--tiles``
loose tiles of ``--size`` x ``--size`` cells, and one ``--big`` x ``--big`` float grid.
The plugin zip is built with scripts/package_plugin.py and installed into a throw-away QGIS
profile. Every measurement runs in a fresh process; the best of the runs is reported.

1. Mosaic: ``asciigrid:batchimport`` vs ``gdal:merge`` (QGIS's Merge), both through
   ``qgis_process --json run`` (QGIS start-up included for both), outputs compared cell by cell.
2. Statistics, in-process (``processing.run`` in one QGIS session, start-up excluded):
   ``asciigrid:stats`` vs ``native:rasterlayerstatistics`` on the big grid, and on all tiles
   (native through a GDAL VRT of the tiles). Values compared.
3. Time to first picture of the big grid: ``asciigrid:fastload`` + load the GeoTIFF + render
   it, vs load the .asc directly + render (QgsMapRendererSequentialJob, 1000 x 1000 px, default
   styling; GDAL_PAM_ENABLED=NO so no .aux.xml from an earlier run helps either side).

``--write-docs`` replaces the "## QGIS" section of docs/BENCHMARKS.md with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
import qgis_tools  # noqa: E402
from bench import cpu_name  # noqa: E402

DOCS = ROOT / "docs" / "BENCHMARKS.md"
SECTION = "## QGIS"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- workers (run in a fresh python with QGIS) ---------------------------------------------


def _start_qgis(plugin_dir: str | None) -> Any:
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    if plugin_dir:
        sys.path.insert(0, plugin_dir)
        import asciigrid_qgis

        plugin = asciigrid_qgis.classFactory(None)
        plugin.initProcessing()
        app._asciigrid_plugin = plugin  # keep it alive
    return app


def worker_stats(args: dict[str, Any]) -> dict[str, Any]:
    """In one QGIS session: asciigrid:stats vs native:rasterlayerstatistics."""
    _app = _start_qgis(args["plugin_dir"])
    import processing
    from osgeo import gdal

    def timed(alg: str, params: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        best, result = float("inf"), {}
        for _ in range(args["runs"]):
            t0 = time.perf_counter()
            result = processing.run(alg, params)
            best = min(best, time.perf_counter() - t0)
        return best, result

    out: dict[str, Any] = {}
    big = args["big"]
    # QGIS opens an .asc as Float64, so compare with asciigrid in Float64 (DATA_TYPE=3)
    out["big_ours"], ours = timed("asciigrid:stats", {"INPUT": [big], "DATA_TYPE": 3})
    out["big_native"], native = timed("native:rasterlayerstatistics", {"INPUT": big, "BAND": 1})
    out["big_values"] = {k: [ours[k], native[k]] for k in ("MIN", "MAX", "MEAN", "STD_DEV")}
    vrt = os.path.join(args["tmp"], "tiles.vrt")
    gdal.SetConfigOption("AAIGRID_DATATYPE", "Float64")  # as QGIS opens .asc files
    gdal.BuildVRT(vrt, args["tiles"], srcNodata=-9999, VRTNodata=-9999)
    out["tiles_ours"], ours = timed("asciigrid:stats", {"FOLDER": args["tile_dir"], "DATA_TYPE": 3})
    out["tiles_native"], native = timed("native:rasterlayerstatistics", {"INPUT": vrt, "BAND": 1})
    out["tiles_values"] = {k: [ours[k], native[k]] for k in ("MIN", "MAX", "MEAN", "STD_DEV")}
    return out


def worker_render(args: dict[str, Any]) -> dict[str, Any]:
    """Time to the first rendered picture of the big grid (one way, in a fresh process)."""
    t0 = time.perf_counter()
    _app = _start_qgis(args["plugin_dir"] if args["way"] == "fastload" else None)
    from qgis.core import (
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsRasterLayer,
    )
    from qgis.PyQt.QtCore import QSize

    started = time.perf_counter()
    tif = os.path.join(args["tmp"], "fastload.tif")
    if args["way"] == "fastload":
        import processing

        processing.run("asciigrid:fastload", {"INPUT": args["big"], "OUTPUT": tif})
        layer = QgsRasterLayer(tif, "fastload", "gdal")
    elif args["way"] == "reopen":  # the GeoTIFF fastload wrote, opened again later
        layer = QgsRasterLayer(tif, "reopen", "gdal")
    else:
        layer = QgsRasterLayer(args["big"], "direct", "gdal")
    assert layer.isValid()
    loaded = time.perf_counter()
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(1000, 1000))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    done = time.perf_counter()
    image.save(args["picture"])
    return {
        "startup": started - t0,
        "load": loaded - started,
        "render": done - loaded,
        "total": done - started,
    }


WORKERS = {"stats": worker_stats, "render": worker_render}


def run_worker(name: str, args: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(args, f)  # thousands of tile paths do not fit on a command line
    try:
        return _run_worker(name, f.name, env)
    finally:
        os.unlink(f.name)


def _run_worker(name: str, args_file: str, env: dict[str, str] | None) -> Any:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", name, args_file],
        capture_output=True,
        text=True,
        env={**qgis_tools.environment(None), **(env or {})},
        timeout=3600,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(
            f"worker {name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )
    return json.loads(lines[-1][len("RESULT ") :])


# --- measurements ---------------------------------------------------------------------------


_MEASURE = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:])\n"
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(r.returncode)\n"
)


def qgis_process_timed(
    algorithm: str, params: list[str], config: Path, runs: int
) -> tuple[float, float, dict[str, Any]]:
    """Best wall time and peak RSS (MB) of ``qgis_process --json run`` (each run in a fresh
    process; the peak is measured for that process alone)."""
    best, peak, payload = float("inf"), 0.0, {}
    command = [*qgis_tools.qgis_process_command(), "--json", "run", algorithm, "--", *params]
    for _ in range(runs):
        t0 = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", _MEASURE, *command],
            capture_output=True,
            text=True,
            env=qgis_tools.environment(config),
            timeout=7200,
        )
        elapsed = time.perf_counter() - t0
        if result.returncode != 0:
            raise RuntimeError(
                f"{algorithm} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            )
        payload = json.loads(result.stdout[result.stdout.index("{") :])
        rss = [line for line in result.stderr.splitlines() if line.startswith("MAXRSS ")]
        peak = max(peak, int(rss[-1].split()[1]) / 1024 if rss else 0.0)
        best = min(best, elapsed)
    return best, peak, payload


def gdal_open(path: str) -> Any:
    from osgeo import gdal

    return gdal.Open(path)


def compare_rasters(a: str, b: str) -> str:
    import numpy as np
    from osgeo import gdal

    ds_a, ds_b = gdal.Open(a), gdal.Open(b)
    if ds_a.GetGeoTransform() != ds_b.GetGeoTransform():
        return f"geotransforms differ: {ds_a.GetGeoTransform()} vs {ds_b.GetGeoTransform()}"
    arr_a = ds_a.GetRasterBand(1).ReadAsArray().astype(np.float64)
    arr_b = ds_b.GetRasterBand(1).ReadAsArray().astype(np.float64)
    if arr_a.shape != arr_b.shape:
        return f"shapes differ: {arr_a.shape} vs {arr_b.shape}"
    differ = int(np.count_nonzero(arr_a != arr_b))
    return "identical" if differ == 0 else f"{differ} cells differ"


def prepare_data(data: Path, tiles: int, size: int, big: int) -> tuple[Path, list[str], Path]:
    tile_dir = data / f"tiles_{tiles}x{size}"
    if not (tile_dir / ".complete").is_file():
        log(f"writing {tiles} tiles of {size}x{size} to {tile_dir}")
        shutil.rmtree(tile_dir, ignore_errors=True)
        corpus.write_tiles(tile_dir, count=tiles, size=size)
        (tile_dir / ".complete").touch()
    big_path = data / f"big_{big}x{big}.asc"
    if not big_path.is_file():
        log(f"writing {big_path}")
        corpus.write_big_grid(big_path, nrows=big, ncols=big)
    tile_paths = sorted(str(p) for p in tile_dir.glob("*.asc"))
    return tile_dir, tile_paths, big_path


def machine() -> str:
    cpu = cpu_name()
    qgis = qgis_tools.run_qgis_process(["--version"], None).stdout
    qgis_line = next((x for x in qgis.splitlines() if x.startswith("QGIS ")), "QGIS ?")
    gdal_line = next((x for x in qgis.splitlines() if x.startswith("GDAL")), "GDAL ?")
    return f"{cpu}, {os.cpu_count()} cores; {qgis_line}; {gdal_line}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", type=int, default=2858)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--big", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each asciigrid measure")
    parser.add_argument("--baseline-runs", type=int, default=1, help="runs of gdal:merge")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data" / "qgis")
    parser.add_argument(
        "--memory-tiles",
        default="2500x200",
        help="COUNTxSIZE tiles for the peak-memory check of a larger mosaic ('' to skip)",
    )
    parser.add_argument("--write-docs", action="store_true", help=f"update {DOCS}")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = WORKERS[args.worker[0]](json.loads(Path(args.worker[1]).read_text()))
        print("RESULT " + json.dumps(result), flush=True)
        return 0

    load_before = os.getloadavg()[0]
    tile_dir, tile_paths, big = prepare_data(args.data, args.tiles, args.size, args.big)
    tiles_mb = sum(os.path.getsize(p) for p in tile_paths) / 1e6
    big_mb = big.stat().st_size / 1e6
    with tempfile.TemporaryDirectory(prefix="bench_qgis_") as tmp_name:
        tmp = Path(tmp_name)
        log("packaging and installing the plugin")
        packaged = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "package_plugin.py"), "--out-dir", str(tmp)],
            capture_output=True,
            text=True,
            check=True,
        )
        plugin_zip = Path(packaged.stdout.strip().splitlines()[-1])
        config = tmp / "qgis-config"
        plugin_dir = qgis_tools.install_plugin(plugin_zip, config).parent

        log(f"batchimport: {len(tile_paths)} tiles ({tiles_mb:.0f} MB)")
        ours_tif = tmp / "batchimport.tif"
        t_ours, rss_ours, payload = qgis_process_timed(
            "asciigrid:batchimport",
            [f"FOLDER={tile_dir}", f"OUTPUT={ours_tif}"],
            config,
            args.runs,
        )
        assert payload["results"]["TILE_COUNT"] == len(tile_paths)
        log(f"  asciigrid:batchimport {t_ours:.2f} s; gdal:merge (slow) ...")
        merge_tif = tmp / "merge.tif"
        t_merge, rss_merge, _ = qgis_process_timed(
            "gdal:merge",
            [f"INPUT={p}" for p in tile_paths]
            + ["DATA_TYPE=5", "NODATA_INPUT=-9999", "NODATA_OUTPUT=-9999", f"OUTPUT={merge_tif}"],
            config,
            args.baseline_runs,
        )
        same = compare_rasters(str(ours_tif), str(merge_tif))
        log(f"  gdal:merge {t_merge:.2f} s; outputs: {same}")

        memory: tuple[str, float, float] | None = None
        if args.memory_tiles:
            count, size = (int(v) for v in args.memory_tiles.split("x"))
            mem_dir, mem_paths, _ = prepare_data(args.data, count, size, args.big)
            log(f"memory: batchimport of {count} tiles of {size}x{size}")
            mem_tif = tmp / "memory.tif"
            t_mem, rss_mem, _ = qgis_process_timed(
                "asciigrid:batchimport", [f"FOLDER={mem_dir}", f"OUTPUT={mem_tif}"], config, 1
            )
            ds = gdal_open(str(mem_tif))
            mosaic_mb = ds.RasterXSize * ds.RasterYSize * 4 / 1e6
            shape = f"{ds.RasterXSize}x{ds.RasterYSize}"
            ds = None
            memory = (f"{count} tiles of {size}x{size}: {shape} mosaic", mosaic_mb, rss_mem)
            log(f"  {memory}, {t_mem:.2f} s")

        log("statistics (in-process)")
        stats = run_worker(
            "stats",
            {
                "plugin_dir": str(plugin_dir),
                "big": str(big),
                "tiles": tile_paths,
                "tile_dir": str(tile_dir),
                "tmp": str(tmp),
                "runs": args.runs,
            },
        )
        log(f"  {stats}")

        log("time to first picture")
        render: dict[str, dict[str, float]] = {}
        for way in ("fastload", "reopen", "direct"):
            best: dict[str, float] | None = None
            for _ in range(args.runs):
                measured = run_worker(
                    "render",
                    {
                        "plugin_dir": str(plugin_dir),
                        "big": str(big),
                        "tmp": str(tmp),
                        "way": way,
                        "picture": str(args.data / f"first_picture_{way}.png"),
                    },
                    env={"GDAL_PAM_ENABLED": "NO"},
                )
                if best is None or measured["total"] < best["total"]:
                    best = measured
            assert best is not None
            render[way] = best
            log(f"  {way}: {best}")

    load = max(load_before, os.getloadavg()[0])
    report = markdown(
        load,
        args,
        len(tile_paths),
        tiles_mb,
        big_mb,
        (t_ours, rss_ours, t_merge, rss_merge, same),
        stats,
        render,
        memory,
    )
    print(report)
    if args.write_docs:
        write_section(report)
        log(f"updated {DOCS}")
    return 0


def markdown(
    load: float,
    args: argparse.Namespace,
    ntiles: int,
    tiles_mb: float,
    big_mb: float,
    merge: tuple[float, float, float, float, str],
    stats: dict[str, Any],
    render: dict[str, dict[str, float]],
    memory: tuple[str, float, float] | None,
) -> str:
    t_ours, rss_ours, t_merge, rss_merge, same = merge
    _, cols = corpus.tile_layout(ntiles)
    rows = -(-ntiles // cols)
    ntiles_mosaic_mb = rows * cols * args.size * args.size * 4 / 1e6
    fl, reopen, direct = render["fastload"], render["reopen"], render["direct"]

    def ratio(a: float, b: float) -> str:
        return f"**{b / a:.1f}x**"

    command = (
        f".venv/bin/python scripts/bench_qgis.py --tiles {args.tiles} --size {args.size} "
        f"--big {args.big} --runs {args.runs} --baseline-runs {args.baseline_runs} "
        f"--memory-tiles '{args.memory_tiles}'"
    )
    big_name = f"{args.big}x{args.big} float grid ({big_mb:.0f} MB)"
    tiles_name = f"{ntiles} tiles of {args.size}x{args.size} ({tiles_mb:.0f} MB)"
    lines = [
        SECTION,
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}. Best of {args.runs} runs "
        f"(gdal:merge: {args.baseline_runs}); every run in a fresh process. "
        f"1-minute load average around the run: {load:.1f}"
        + (
            f" — other jobs were using the {os.cpu_count()} cores, so absolute times are "
            "inflated for both sides."
            if load > 0.75 * (os.cpu_count() or 1)
            else "."
        ),
        "",
        "| task | asciigrid | QGIS today | speed-up |",
        "|---|---|---|---|",
        f"| mosaic {tiles_name}, `qgis_process` (start-up included) | "
        f"`asciigrid:batchimport` {t_ours:.2f} s, peak {rss_ours:.0f} MB | "
        f"`gdal:merge` {t_merge:.2f} s, peak {rss_merge:.0f} MB | {ratio(t_ours, t_merge)} |",
        f"| statistics of the {big_name}, in-process | `asciigrid:stats` "
        f"{stats['big_ours']:.3f} s | `native:rasterlayerstatistics` "
        f"{stats['big_native']:.3f} s | {ratio(stats['big_ours'], stats['big_native'])} |",
        f"| statistics of the {ntiles} tiles, in-process | `asciigrid:stats` (FOLDER) "
        f"{stats['tiles_ours']:.3f} s | `native:rasterlayerstatistics` on a VRT of the tiles "
        f"{stats['tiles_native']:.3f} s | {ratio(stats['tiles_ours'], stats['tiles_native'])} |",
        f"| first picture of the {big_name} (load + render 1000x1000 px) | "
        f"`asciigrid:fastload` + render {fl['total']:.2f} s "
        f"(fastload+load {fl['load']:.2f}, render {fl['render']:.2f}) | open the .asc + render "
        f"{direct['total']:.2f} s (load {direct['load']:.2f}, render {direct['render']:.2f}) | "
        f"{ratio(fl['total'], direct['total'])} |",
        f"| every later look at it (open + render) | the GeoTIFF: {reopen['total']:.2f} s | "
        f"the .asc again: {direct['total']:.2f} s | {ratio(reopen['total'], direct['total'])} |",
        "",
        *(
            [
                f"Memory: batchimport writes the mosaic strip by strip; peak memory of the "
                f"whole `qgis_process` (QGIS itself included) was {rss_ours:.0f} MB for the "
                f"{ntiles}-tile mosaic ({ntiles_mosaic_mb:.0f} MB as Float32) and "
                f"{memory[2]:.0f} MB for {memory[0]} ({memory[1]:.0f} MB as Float32).",
                "",
            ]
            if memory
            else []
        ),
        f"The two mosaics are compared cell by cell: {same}. Statistics agree "
        "(QGIS reads .asc files as Float64, so asciigrid:stats ran with DATA_TYPE=Float64): "
        + "; ".join(f"{k} {v[0]:.6f} vs {v[1]:.6f}" for k, v in stats["big_values"].items())
        + f". The two rendered pictures are saved as {args.data.name}/first_picture_*.png "
        "for a visual check.",
        "",
        "Reproduce:",
        "",
        "```sh",
        "QT_QPA_PLATFORM=offscreen " + command + " --write-docs",
        "```",
        "",
    ]
    return "\n".join(lines)


def write_section(report: str) -> None:
    """Replace (or append) the "## QGIS" section of docs/BENCHMARKS.md, nothing else."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\s*$.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: report + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + report
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    tmp = DOCS.with_name(f".{DOCS.name}.tmp")
    tmp.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    os.replace(tmp, DOCS)


if __name__ == "__main__":
    sys.exit(main())
