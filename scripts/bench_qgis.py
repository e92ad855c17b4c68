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

``--delivery`` runs the issue #11 workload instead, on an OS Terrain 50 style download made by
``scripts/corpus.py delivery`` (zips in a zip; ``--delivery-tiles``, cached in ``--data``),
side by side, and ``--write-docs`` then replaces the "## Delivery (issue #11)" section:

    .venv/bin/python scripts/bench_qgis.py --delivery [--delivery-tiles 2858] [--scales 1,2,4]
                                           [--runs 1] [--gdal-runs 1] [--big 4000] [--stages]

4. ``qgis_process run asciigrid:batchimport INPUT=delivery.zip BUILD_OVERVIEWS=true`` (and
   ``false``): wall time, QGIS start-up included, and peak memory; once more (one run each)
   with every ``--scales`` multiple of the tiles, for the memory-flatness target.
5. The GDAL path: ``gdalbuildvrt`` over the nested ``/vsizip/{...}`` path of every tile,
   ``gdal_translate`` with the plugin's creation options, ``gdaladdo -r average`` with the
   plugin's levels; each step's time and peak memory (``--gdal-runs``, about a minute each).
   Its GeoTIFF is compared cell by cell with batchimport's.
6. ``asciigrid.mosaic("delivery.zip")`` in a fresh Python (time and peak memory), or "not
   supported by this build" when the engine does not take archives.
7. Time to first picture as in 3.
8. ``--stages``: where the time goes, each piece of batchimport's pipeline timed in-process
   (plan, inflate and parse in the engine, the GeoTIFF writer without and with overviews)
   plus QGIS start-up (``qgis_process help``).
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


def worker_mosaic(args: dict[str, Any]) -> dict[str, Any]:
    """``asciigrid.mosaic(delivery.zip)`` in a fresh Python (its peak memory is measured by
    the caller); an engine that does not take archives says so instead."""
    import asciigrid

    t0 = time.perf_counter()
    try:
        grid = asciigrid.mosaic(args["delivery"])
    except (ValueError, OSError, TypeError) as err:  # not an archive source in this build
        # the message quotes the zip's first bytes: binary, so only the error's type is kept
        return {"supported": False, "reason": f"it raises {type(err).__name__} on a .zip"}
    seconds = time.perf_counter() - t0
    return {
        "supported": True,
        "seconds": seconds,
        "shape": list(grid.data.shape),
        "cells_mb": grid.data.nbytes / 1e6,
    }


def worker_stages(args: dict[str, Any]) -> dict[str, Any]:
    """batchimport's pipeline in pieces, timed in-process on the delivery: plan
    (``mosaic_layout`` of the zip: central directories, headers), inflate and parse every
    strip in the engine, then the GeoTIFF writer fed those strips (held in memory, so only
    the writer is timed) without and with overviews."""
    import asciigrid
    from asciigrid import geotiff

    out: dict[str, float] = {}
    clock = time.perf_counter
    t0 = clock()
    layout = asciigrid.mosaic_layout(args["delivery"])
    out["layout"] = clock() - t0
    header = layout.header
    t0 = clock()
    strips = [(row, strip) for row, strip, _ in asciigrid.iter_mosaic_strips(layout)]
    out["strips"] = clock() - t0
    out["cells_mb"] = sum(s.nbytes for _, s in strips) / 1e6
    tif = os.path.join(args["tmp"], "stages.tif")

    def write(**options: Any) -> float:
        t0 = clock()
        geotiff.write_geotiff(
            tif,
            iter(strips),
            shape=(header.nrows, header.ncols),
            geotransform=header.geotransform,
            nodata=header.nodata,
            crs_wkt=layout.crs_wkt,
            **options,
        )
        return clock() - t0

    out["write_plain"] = write(overviews=False)
    out["tif_mb"] = os.path.getsize(tif) / 1e6
    out["write_overviews"] = write(overviews=True)
    os.remove(tif)
    return out


WORKERS = {
    "stats": worker_stats,
    "render": worker_render,
    "mosaic": worker_mosaic,
    "stages": worker_stages,
}


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


def timed_command(
    command: list[str], env: dict[str, str] | None, runs: int, what: str = ""
) -> tuple[float, float, str]:
    """Best wall time (s) and peak RSS (MB) of ``command`` and the last run's stdout. Each
    run is a fresh process; the peak is the largest ``ru_maxrss`` among the processes it
    waited for (``qgis_process``, the GDAL utilities and ``python`` are one process each)."""
    best, peak, stdout = float("inf"), 0.0, ""
    for _ in range(runs):
        t0 = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", _MEASURE, *command],
            capture_output=True,
            text=True,
            env=env,
            timeout=7200,
        )
        elapsed = time.perf_counter() - t0
        if result.returncode != 0:
            raise RuntimeError(
                f"{what or command[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            )
        rss = [line for line in result.stderr.splitlines() if line.startswith("MAXRSS ")]
        peak = max(peak, int(rss[-1].split()[1]) / 1024 if rss else 0.0)
        best = min(best, elapsed)
        stdout = result.stdout
    return best, peak, stdout


def qgis_process_timed(
    algorithm: str, params: list[str], config: Path, runs: int
) -> tuple[float, float, dict[str, Any]]:
    """Best wall time and peak RSS (MB) of ``qgis_process --json run`` (each run in a fresh
    process, QGIS start-up included; the peak is measured for that process alone)."""
    command = [*qgis_tools.qgis_process_command(), "--json", "run", algorithm, "--", *params]
    best, peak, stdout = timed_command(command, qgis_tools.environment(config), runs, algorithm)
    return best, peak, json.loads(stdout[stdout.index("{") :])


def gdal_open(path: str) -> Any:
    from osgeo import gdal

    return gdal.Open(path)


def compare_rasters(a: str, b: str) -> str:
    import numpy as np
    from osgeo import gdal

    ds_a, ds_b = gdal.Open(a), gdal.Open(b)
    if ds_a.GetGeoTransform() != ds_b.GetGeoTransform():
        return f"geotransforms differ: {ds_a.GetGeoTransform()} vs {ds_b.GetGeoTransform()}"
    shape_a = (ds_a.RasterYSize, ds_a.RasterXSize)
    shape_b = (ds_b.RasterYSize, ds_b.RasterXSize)
    if shape_a != shape_b:
        return f"shapes differ: {shape_a} vs {shape_b}"
    band_a, band_b = ds_a.GetRasterBand(1), ds_b.GetRasterBand(1)
    differ = 0
    step = max(1, 2**24 // max(1, shape_a[1]))  # rows at a time: mosaics can exceed memory
    for row in range(0, shape_a[0], step):
        rows = min(step, shape_a[0] - row)
        arr_a = band_a.ReadAsArray(0, row, shape_a[1], rows).astype(np.float64)
        arr_b = band_b.ReadAsArray(0, row, shape_a[1], rows).astype(np.float64)
        differ += int(np.count_nonzero(arr_a != arr_b))
    return "identical" if differ == 0 else f"{differ} cells differ"


def prepare_data(data: Path, tiles: int, size: int, big: int) -> tuple[Path, list[str], Path]:
    tile_dir = data / f"tiles_{tiles}x{size}"
    if not (tile_dir / ".complete").is_file():
        log(f"writing {tiles} tiles of {size}x{size} to {tile_dir}")
        shutil.rmtree(tile_dir, ignore_errors=True)
        corpus.write_tiles(tile_dir, count=tiles, size=size)
        (tile_dir / ".complete").touch()
    tile_paths = sorted(str(p) for p in tile_dir.glob("*.asc"))
    return tile_dir, tile_paths, prepare_big(data, big)


def prepare_big(data: Path, big: int) -> Path:
    big_path = data / f"big_{big}x{big}.asc"
    if not big_path.is_file():
        log(f"writing {big_path}")
        corpus.write_big_grid(big_path, nrows=big, ncols=big)
    return big_path


def install_packaged_plugin(tmp: Path) -> tuple[Path, Path]:
    """Build the plugin zip and install it into a throw-away profile in ``tmp``:
    ``(config folder, plugins folder)``."""
    log("packaging and installing the plugin")
    packaged = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "package_plugin.py"), "--out-dir", str(tmp)],
        capture_output=True,
        text=True,
        check=True,
    )
    plugin_zip = Path(packaged.stdout.strip().splitlines()[-1])
    config = tmp / "qgis-config"
    return config, qgis_tools.install_plugin(plugin_zip, config).parent


def first_picture(
    plugin_dir: Path, big: Path, tmp: Path, runs: int, pictures: Path
) -> dict[str, dict[str, float]]:
    """Best of ``runs`` times to the first picture of ``big``: ``fastload`` (+ load + render),
    ``reopen`` (its GeoTIFF again) and ``direct`` (the .asc opened by QGIS)."""
    log("time to first picture")
    render: dict[str, dict[str, float]] = {}
    for way in ("fastload", "reopen", "direct"):
        best: dict[str, float] | None = None
        for _ in range(runs):
            measured = run_worker(
                "render",
                {
                    "plugin_dir": str(plugin_dir),
                    "big": str(big),
                    "tmp": str(tmp),
                    "way": way,
                    "picture": str(pictures / f"first_picture_{way}.png"),
                },
                env={"GDAL_PAM_ENABLED": "NO"},
            )
            if best is None or measured["total"] < best["total"]:
                best = measured
        assert best is not None
        render[way] = best
        log(f"  {way}: {best}")
    return render


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
    delivery = parser.add_argument_group("the delivery workload (issue #11)")
    delivery.add_argument(
        "--delivery", action="store_true", help="run it instead of the tiles workload"
    )
    delivery.add_argument("--delivery-tiles", type=int, default=corpus.DELIVERY_TILES)
    delivery.add_argument(
        "--scales",
        type=lambda v: sorted({1, *(int(k) for k in v.split(",") if k)}),
        default=[1, 2, 4],
        help="tile-count multiples for the memory-flatness runs (default 1,2,4)",
    )
    delivery.add_argument("--gdal-runs", type=int, default=1, help="GDAL path runs (0: skip)")
    delivery.add_argument("--stages", action="store_true", help="time each stage in-process")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = WORKERS[args.worker[0]](json.loads(Path(args.worker[1]).read_text()))
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    if args.delivery:
        return delivery_main(args)

    load_before = os.getloadavg()[0]
    tile_dir, tile_paths, big = prepare_data(args.data, args.tiles, args.size, args.big)
    tiles_mb = sum(os.path.getsize(p) for p in tile_paths) / 1e6
    big_mb = big.stat().st_size / 1e6
    with tempfile.TemporaryDirectory(prefix="bench_qgis_") as tmp_name:
        tmp = Path(tmp_name)
        config, plugin_dir = install_packaged_plugin(tmp)

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

        render = first_picture(plugin_dir, big, tmp, args.runs, args.data)

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


def write_section(report: str, section: str = SECTION) -> None:
    """Replace (or append) one section ("## QGIS") of docs/BENCHMARKS.md, nothing else."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(section)}\s*$.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: report + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + report
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    tmp = DOCS.with_name(f".{DOCS.name}.tmp")
    tmp.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    os.replace(tmp, DOCS)


# --- the delivery workload (issue #11) ------------------------------------------------------

DELIVERY_SECTION = "## Delivery (issue #11)"


def prepare_delivery(data: Path, tiles: int) -> Path:
    """The OS Terrain 50 style delivery of ``tiles`` tiles (cached; written atomically, so a
    file that is there is complete)."""
    path = data / f"delivery_{tiles}x200.zip"
    if not path.is_file():
        log(f"writing {path} ({tiles} tiles; about a minute per 3000 tiles on 2 cores)")
        corpus.write_delivery(path, tiles=tiles)
    return path


def delivery_members(delivery: Path) -> list[str]:
    """GDAL's nested ``/vsizip/`` path of every ``.asc`` in the delivery (inner zips are
    listed through GDAL too, as a GDAL user would)."""
    from osgeo import gdal

    paths = []
    for member in sorted(gdal.ReadDir(f"/vsizip/{delivery}/data") or []):
        square = f"/vsizip/{delivery}/data/{member}"
        for inner in sorted(gdal.ReadDir(square) or []):
            if inner.lower().endswith(".zip"):
                archive = f"{square}/{inner}"
                names = gdal.ReadDir(f"/vsizip/{{{archive}}}") or []
                paths += [f"/vsizip/{{{archive}}}/{n}" for n in names if n.endswith(".asc")]
    return paths


def gdal_path(delivery: Path, tmp: Path, runs: int) -> dict[str, tuple[float, float]]:
    """gdalbuildvrt over the nested /vsizip/ paths, gdal_translate with the plugin's creation
    options, gdaladdo -r average with the plugin's levels: ``{step: (seconds, peak MB)}``."""
    from asciigrid.geotiff import creation_options, overview_factors

    members = delivery_members(delivery)
    listing = tmp / "members.txt"
    listing.write_text("\n".join(members) + "\n")
    vrt, tif = tmp / "gdal.vrt", tmp / "gdal.tif"
    env = {**os.environ, "GDAL_PAM_ENABLED": "NO"}
    steps: dict[str, tuple[float, float]] = {}
    best_total = float("inf")
    for _ in range(runs):
        tif.unlink(missing_ok=True)
        run: dict[str, tuple[float, float]] = {}
        # gaps between tiles are nodata, -9999 as in the plugin's mosaic (the tiles have none)
        command = ["gdalbuildvrt", "-q", "-vrtnodata", "-9999", "-input_file_list", str(listing)]
        run["gdalbuildvrt"] = timed_command([*command, str(vrt)], env, 1)[:2]
        # the tiles' heights have one decimal: a float32 mosaic, as the plugin makes
        options = [arg for option in creation_options("float32") for arg in ("-co", option)]
        command = ["gdal_translate", "-q", *options, str(vrt), str(tif)]
        run["gdal_translate"] = timed_command(command, env, 1)[:2]
        ds = gdal_open(str(tif))
        levels = [str(v) for v in overview_factors(ds.RasterYSize, ds.RasterXSize)]
        ds = None
        # the overviews compressed on all cores, as the plugin's dataset (NUM_THREADS) does
        command = ["gdaladdo", "-q", "--config", "GDAL_NUM_THREADS", "ALL_CPUS", "-r", "average"]
        run["gdaladdo"] = timed_command([*command, str(tif), *levels], env, 1)[:2]
        total = sum(t for t, _ in run.values())
        if total < best_total:
            best_total, steps = total, run
    steps["total"] = (best_total, max(m for _, m in steps.values()))
    return steps


def batchimport(
    delivery: Path, config: Path, out: Path, runs: int, overviews: bool = True
) -> tuple[float, float, int]:
    """``qgis_process run asciigrid:batchimport INPUT=delivery.zip``: seconds, peak MB, tiles."""
    params = [f"INPUT={delivery}", f"BUILD_OVERVIEWS={str(overviews).lower()}", f"OUTPUT={out}"]
    seconds, peak, payload = qgis_process_timed("asciigrid:batchimport", params, config, runs)
    return seconds, peak, int(payload["results"]["TILE_COUNT"])


def python_mosaic(delivery: Path, runs: int) -> dict[str, Any]:
    """``asciigrid.mosaic("delivery.zip")`` in a fresh Python: its time and peak memory."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"delivery": str(delivery)}, f)
    try:
        command = [sys.executable, __file__, "--worker", "mosaic", f.name]
        best: dict[str, Any] = {}
        for _ in range(runs):
            _, peak, stdout = timed_command(command, None, 1, "asciigrid.mosaic")
            lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
            result = json.loads(lines[-1][len("RESULT ") :])
            if not result["supported"]:
                return result
            result["peak_mb"] = peak
            if not best or result["seconds"] < best["seconds"]:
                best = result
        return best
    finally:
        os.unlink(f.name)


def startup(config: Path, runs: int) -> dict[str, float]:
    """QGIS start-up as ``qgis_process`` pays it: ``--version`` (QGIS only) and ``help`` of
    the algorithm (QGIS, Processing and the plugin loaded, nothing run)."""
    env = qgis_tools.environment(config)
    command = [*qgis_tools.qgis_process_command()]
    return {
        "version": timed_command([*command, "--version"], env, runs)[0],
        "help": timed_command([*command, "help", "asciigrid:batchimport"], env, runs)[0],
    }


def delivery_main(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()[0]
    args.data.mkdir(parents=True, exist_ok=True)
    deliveries = {k: prepare_delivery(args.data, k * args.delivery_tiles) for k in args.scales}
    delivery = deliveries[1]
    big = prepare_big(args.data, args.big)
    results: dict[str, Any] = {"zip_mb": delivery.stat().st_size / 1e6}
    with tempfile.TemporaryDirectory(prefix="bench_delivery_") as tmp_name:
        tmp = Path(tmp_name)
        config, plugin_dir = install_packaged_plugin(tmp)
        ours_tif = tmp / "batchimport.tif"
        log(f"batchimport of {delivery.name} with overviews")
        results["ours"] = batchimport(delivery, config, ours_tif, args.runs)
        log(f"  {results['ours']}")
        log("  without overviews")
        results["ours_no_ovr"] = batchimport(delivery, config, tmp / "no_ovr.tif", args.runs, False)
        log(f"  {results['ours_no_ovr']}")
        if args.gdal_runs:
            log(f"GDAL path ({args.gdal_runs} run(s), about a minute each)")
            results["gdal"] = gdal_path(delivery, tmp, args.gdal_runs)
            log(f"  {results['gdal']}")
            results["same"] = compare_rasters(str(ours_tif), str(tmp / "gdal.tif"))
            log(f"  outputs: {results['same']}")
            (tmp / "gdal.tif").unlink(missing_ok=True)
        ours_tif.unlink(missing_ok=True)
        results["scales"] = {}
        for k, path in deliveries.items():
            if k == 1:
                continue
            log(f"batchimport of {path.name} ({k}x the tiles), one run")
            results["scales"][k] = batchimport(path, config, tmp / f"x{k}.tif", 1)
            (tmp / f"x{k}.tif").unlink(missing_ok=True)
            log(f"  {results['scales'][k]}")
        log("asciigrid.mosaic(delivery.zip) in Python")
        results["mosaic"] = python_mosaic(delivery, args.runs)
        log(f"  {results['mosaic']}")
        results["render"] = first_picture(plugin_dir, big, tmp, args.runs, args.data)
        if args.stages:
            log("stages (in-process) and start-up")
            stages = run_worker("stages", {"delivery": str(delivery), "tmp": str(tmp)})
            stages.update(startup(config, args.runs))
            results["stages"] = stages
            log(f"  {stages}")
    results["load"] = max(load_before, os.getloadavg()[0])
    report = delivery_markdown(args, results)
    print(report)
    if args.write_docs:
        write_section(report, DELIVERY_SECTION)
        log(f"updated {DOCS}")
    return 0


def delivery_command(args: argparse.Namespace) -> str:
    scales = ",".join(str(k) for k in args.scales)
    return (
        f".venv/bin/python scripts/bench_qgis.py --delivery --delivery-tiles "
        f"{args.delivery_tiles} --scales {scales} --runs {args.runs} --gdal-runs "
        f"{args.gdal_runs} --big {args.big}" + (" --stages" if args.stages else "")
    )


def delivery_markdown(args: argparse.Namespace, r: dict[str, Any]) -> str:
    ours_t, ours_mb, ntiles = r["ours"]
    plain_t, plain_mb, _ = r["ours_no_ovr"]
    cores = os.cpu_count() or 1
    busy = r["load"] > 0.75 * cores
    lines = [
        DELIVERY_SECTION,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {machine()}. Best of {args.runs} "
        f"run(s) (the GDAL path: {args.gdal_runs}; larger deliveries: 1); every run in a fresh "
        "process; "
        f"peak = the largest process's peak RSS. 1-minute load average around the run: "
        f"{r['load']:.1f}" + (f" (other jobs were using the {cores} cores)." if busy else "."),
        "",
        f"Input: `scripts/corpus.py delivery`, {ntiles} tiles of 200 x 200 in one zip per tile "
        f"inside one zip ({r['zip_mb']:.0f} MB), laid out like the OS Terrain 50 download.",
        "",
        "| step | time | peak memory | speed-up | target |",
        "|---|---:|---:|---:|---|",
    ]
    gdal = r.get("gdal")
    gdal_t = gdal["total"][0] if gdal else None

    def vs(t: float) -> str:
        return f"**{gdal_t / t:.1f}x**" if gdal_t else "-"

    lines += [
        f"| `qgis_process run asciigrid:batchimport INPUT=delivery.zip BUILD_OVERVIEWS=true` "
        f"(start-up included) | {ours_t:.2f} s | {ours_mb:.0f} MB | {vs(ours_t)} | "
        "≤ 4.1 s, ≤ 512 MB, ≥ 15x |",
        f"| same, `BUILD_OVERVIEWS=false` | {plain_t:.2f} s | {plain_mb:.0f} MB | {vs(plain_t)} "
        "| |",
    ]
    if gdal:
        for step, (t, mb) in gdal.items():
            name = "**GDAL path, total**" if step == "total" else f"GDAL path: `{step}`"
            lines.append(f"| {name} | {t:.2f} s | {mb:.0f} MB | 1x | |")
    for k, (t, mb, n) in r["scales"].items():
        lines.append(
            f"| batchimport, {k}x the tiles ({n}) | {t:.2f} s | {mb:.0f} MB "
            f"({mb / ours_mb - 1:+.0%} vs 1x) | | same ±10% |"
        )
    m = r["mosaic"]
    if m["supported"]:
        lines.append(
            f'| `asciigrid.mosaic("delivery.zip")` in Python ({m["shape"][0]} x '
            f"{m['shape'][1]}, cells {m['cells_mb']:.0f} MB) | {m['seconds']:.2f} s | "
            f"{m['peak_mb']:.0f} MB | | ≤ 1.5 s, ≤ cells + 200 MB |"
        )
    else:
        lines.append(
            f'| `asciigrid.mosaic("delivery.zip")` in Python | not supported by this build '
            f"({m['reason']}) | | | ≤ 1.5 s, ≤ cells + 200 MB |"
        )
    fl, direct = r["render"]["fastload"], r["render"]["direct"]
    lines.append(
        f"| first picture of the {args.big} x {args.big} grid: `asciigrid:fastload` + load + "
        f"render vs open the .asc + render | {fl['total']:.2f} s vs {direct['total']:.2f} s | "
        f"| **{direct['total'] / fl['total']:.1f}x** | ≥ 5x |"
    )
    lines += [
        "",
        "Speed-up: against the GDAL path's total for the batchimport rows; against opening "
        "the .asc directly for the first picture (measured as in the QGIS section).",
        "",
    ]
    stages = r.get("stages")
    if stages:
        rows = [
            (
                "start-up: `qgis_process help asciigrid:batchimport` (`--version` alone "
                f"{stages['version']:.2f} s)",
                stages["help"],
            ),
            (
                'plan: `mosaic_layout("delivery.zip")` (central directories, headers)',
                stages["layout"],
            ),
            (
                f"inflate and parse every strip in the engine ({stages['cells_mb']:.0f} MB of "
                "cells)",
                stages["strips"],
            ),
            ("write the GeoTIFF, no overviews (statistics and compression)", stages["write_plain"]),
            (
                "overviews averaged as the strips pass (the difference with them)",
                stages["write_overviews"] - stages["write_plain"],
            ),
        ]
        total = sum(t for _, t in rows)
        lines += [
            "Where the time goes, measured in-process (`--stages`: each piece timed alone in "
            f"one Python on the delivery; a {stages['tif_mb']:.0f} MB GeoTIFF) plus QGIS "
            "start-up:",
            "",
            "| stage | time | share |",
            "|---|---:|---:|",
            *(f"| {label} | {t:.2f} s | {t / total:.0%} |" for label, t in rows),
            f"| total | {total:.2f} s | 100% |",
            "",
        ]
    if "same" in r:
        lines += [f"batchimport's GeoTIFF and the GDAL path's, cell by cell: {r['same']}.", ""]
    lines += [
        "Reproduce (the deliveries are generated once into `bench-data/qgis/`, about a "
        "minute per 3000 tiles):",
        "",
        "```sh",
        "QT_QPA_PLATFORM=offscreen " + delivery_command(args) + " --write-docs",
        ".venv/bin/python scripts/corpus.py delivery --out delivery.zip --tiles 2858  # alone",
        "```",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
