#!/usr/bin/env python3
"""Benchmark asciigrid's xarray and dask interfaces against rioxarray and rasterio (a report,
not a test), side by side in one run, best of N, each measurement in a fresh process.

    .venv/bin/python scripts/bench_xarray.py [--runs 3] [--markdown out.md] [--only TEXT ...]

Uses the same cached data as scripts/bench.py (``bench-data/``: a 4000 x 4000 float grid and
2858 tiles of 100 x 100, made by scripts/corpus.py):

- the big grid through ``xr.open_dataset(..., engine="asciigrid")`` and ``engine="rasterio"``
  (rioxarray, GDAL inside), values loaded;
- the tiles as one mosaic: ``asciigrid.open_mosaic(tiles).compute()`` on a
  ``dask.distributed`` ``LocalCluster`` of 2 worker processes (started, and asciigrid
  imported on them, before the clock), with dask's default client (results pass through
  the scheduler) and with ``Client(direct_to_workers=True)``;
  ``asciigrid.mosaic(tiles)`` in one process, ``rioxarray.merge.merge_arrays`` and
  ``rasterio.merge.merge``. The direct cluster and the one-process mosaic are timed a
  second time in the same process too ("second call"). ``persist`` times the same mosaic
  computed and left on the workers (``distributed.wait(arr.persist())``): the scheduler's
  and the workers' part, without moving the result to the client.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402


def _xarray() -> Any:
    import xarray as xr

    # Backend discovery imports every installed engine (rioxarray, rasterio, …) once per
    # process: done before the clock, for both engines alike.
    xr.backends.list_engines()
    return xr


def _big_asciigrid(big: str, tiles: list[str]) -> Callable[[], Any]:
    xr = _xarray()
    return lambda: xr.open_dataset(big, engine="asciigrid")["band_data"].values


def _big_rasterio(big: str, tiles: list[str]) -> Callable[[], Any]:
    import rioxarray  # noqa: F401

    xr = _xarray()
    return lambda: xr.open_dataset(big, engine="rasterio")["band_data"].values


def _distributed(
    direct: bool, persist: bool = False
) -> Callable[[str, list[str]], Callable[[], Any]]:
    """``open_mosaic(tiles).compute()`` on a fresh ``LocalCluster`` of 2 worker processes;
    ``direct``: the client fetches results from the workers itself
    (``Client(direct_to_workers=True)``, as docs/DASK.md advises) instead of through the
    scheduler, dask's default; ``persist``: the mosaic is computed and kept on the workers
    instead (``persist()``, waited for), as a pipeline that goes on there would."""

    def setup(big: str, tiles: list[str]) -> Callable[[], Any]:
        import importlib

        import asciigrid
        import asciigrid.dask_mosaic  # noqa: F401
        import asciigrid.xarray_backend  # noqa: F401  (GDAL's osr, for the CRS)
        import dask.array  # noqa: F401
        import distributed
        import xarray  # noqa: F401

        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = distributed.Client(cluster, direct_to_workers=direct)
        # Imports before the clock, on the workers as here: the one-process case imports
        # asciigrid before its clock too, and an import is not the scheduler's overhead.
        for module in ("asciigrid.dask_mosaic", "dask.array"):  # what the tasks need
            client.run(importlib.import_module, module)
        if persist:
            return lambda: distributed.wait(asciigrid.open_mosaic(tiles).persist().data)
        return lambda: asciigrid.open_mosaic(tiles).compute().values

    return setup


def _mosaic_single(big: str, tiles: list[str]) -> Callable[[], Any]:
    import asciigrid

    return lambda: asciigrid.mosaic(tiles).data


def _mosaic_rioxarray(big: str, tiles: list[str]) -> Callable[[], Any]:
    import rioxarray
    from rioxarray.merge import merge_arrays

    return lambda: merge_arrays([rioxarray.open_rasterio(t) for t in tiles]).values


def _mosaic_rasterio(big: str, tiles: list[str]) -> Callable[[], Any]:
    import rasterio.merge

    return lambda: rasterio.merge.merge(tiles)[0]


PERSIST = "asciigrid.open_mosaic, 2 dask workers, persist (the result stays on the workers)"
CASES: dict[str, tuple[str, Callable[[str, list[str]], Callable[[], Any]]]] = {
    "xr.open_dataset engine=asciigrid": ("big", _big_asciigrid),
    "xr.open_dataset engine=rasterio": ("big", _big_rasterio),
    "asciigrid.open_mosaic, 2 dask workers": ("tiles", _distributed(direct=False)),
    "asciigrid.open_mosaic, 2 dask workers, direct_to_workers": ("tiles", _distributed(True)),
    PERSIST: ("tiles", _distributed(True, persist=True)),
    "asciigrid.mosaic, one process": ("tiles", _mosaic_single),
    "rioxarray.merge.merge_arrays": ("tiles", _mosaic_rioxarray),
    "rasterio.merge.merge": ("tiles", _mosaic_rasterio),
}
# Cases also timed a second time in the same process (a long-lived cluster, a session that
# has read before): the first call pays for processes' first-touched memory and connections.
SECOND = "second call"
AGAIN = (
    "asciigrid.open_mosaic, 2 dask workers, direct_to_workers",
    PERSIST,
    "asciigrid.mosaic, one process",
)


def worker(name: str, big: str, listing: str) -> dict[str, Any]:
    tiles = Path(listing).read_text().split("\n")
    try:
        run = CASES[name][1](big, [t for t in tiles if t])
    except ImportError as err:
        return {"error": f"not installed ({err.name})"}
    times = []
    for _ in range(2 if name in AGAIN else 1):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"seconds": times}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument(
        "--only", nargs="+", metavar="TEXT", help="run only the cases whose name contains TEXT"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--big", help=argparse.SUPPRESS)
    parser.add_argument("--listing", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.big, args.listing)))
        return 0
    big, _, tiles = bench.ensure_data(args.data, 4000, 4000, 2858, 100, print)
    listing = args.data / "tiles_2858x100" / ".complete"
    bench.warm([big, *map(Path, tiles)])
    best: dict[str, float | str] = {}
    for _ in range(args.runs):
        for name in CASES:  # in turns, so drift on a shared machine hits all alike
            if args.only and not any(text in name for text in args.only):
                continue
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    name,
                    "--big",
                    str(big),
                    "--listing",
                    str(listing),
                ],
                capture_output=True,
                text=True,
            )
            last = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
            result = json.loads(last[0]) if last else {"error": done.stderr.strip()[-200:]}
            for k, seconds in enumerate(result.get("seconds", [])):
                key = name if k == 0 else f"{name}, {SECOND}"
                previous = best.get(key)
                best[key] = min(seconds, previous) if isinstance(previous, float) else seconds
            if "error" in result:
                best.setdefault(name, result["error"])
    lines = [
        f"Best of {args.runs}, each in a fresh process; 4000 x 4000 float grid "
        f"({big.stat().st_size / 1e6:.1f} MB), {len(tiles)} tiles of 100 x 100.",
        "",
        "| task | s | vs asciigrid |",
        "|---|---:|---:|",
    ]
    direct = "asciigrid.open_mosaic, 2 dask workers, direct_to_workers"
    pairs = {
        "xr.open_dataset engine=rasterio": "xr.open_dataset engine=asciigrid",
        "rioxarray.merge.merge_arrays": direct,
        "rasterio.merge.merge": direct,
        "asciigrid.mosaic, one process": direct,
        PERSIST: "asciigrid.mosaic, one process",
        f"{PERSIST}, {SECOND}": f"asciigrid.mosaic, one process, {SECOND}",
        f"asciigrid.mosaic, one process, {SECOND}": f"{direct}, {SECOND}",
    }
    for name in [n for case in CASES for n in (case, f"{case}, {SECOND}")]:
        if name not in best:
            continue  # not run (--only)
        value = best.get(name)
        if not isinstance(value, float):
            lines.append(f"| {name} | {value} | |")
            continue
        ours = best.get(pairs.get(name, ""))
        ratio = f"{value / ours:.1f}x" if isinstance(ours, float) else ""
        lines.append(f"| {name} | {value:.3f} | {ratio} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.markdown:
        args.markdown.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
