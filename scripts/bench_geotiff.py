#!/usr/bin/env python3
"""Write time and file size of :mod:`asciigrid.geotiff` per codec (not a timed test).

    python scripts/bench_geotiff.py GRID.asc            # one grid, read then written
    python scripts/bench_geotiff.py TILES_DIR           # a mosaic, written strip by strip
    python scripts/bench_geotiff.py TILES_DIR --float   # the same heights / 10 as float32
                                                        # (one decimal, like OS Terrain 50)

Each codec of ``--codecs`` (default: every codec except NONE and LZW) is written once with
overviews and statistics; the parse time of a mosaic is included (it overlaps the writing).
Wall and CPU seconds (all threads) are printed, and the file's size.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asciigrid
import numpy as np
from asciigrid import geotiff


def _strips(tiles: list[str], as_float: bool) -> tuple[Any, Iterator[tuple[int, np.ndarray]]]:
    layout = asciigrid.mosaic_layout(tiles)
    header = layout.header

    def strips() -> Iterator[tuple[int, np.ndarray]]:
        for row_start, strip, _ in asciigrid.iter_mosaic_strips(layout):
            if as_float:
                strip = np.where(strip == header.nodata, header.nodata, strip / 10.0)
                strip = strip.astype(np.float32)
            yield row_start, strip

    return header, strips()


def _cpu() -> float:
    """CPU seconds of this process, all threads (less disturbed than wall time on a busy
    machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="an .asc grid or a folder of .asc tiles")
    parser.add_argument("--float", action="store_true", help="mosaic heights / 10 as float32")
    parser.add_argument("--cog", action="store_true", help="write Cloud Optimized GeoTIFFs")
    parser.add_argument("--no-overviews", action="store_true")
    parser.add_argument(
        "--codecs",
        default="ZSTD,ZSTD+PREDICTOR,DEFLATE,DEFLATE+PREDICTOR",
        help="comma-separated keys of asciigrid.geotiff.CODECS",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        for codec in args.codecs.split(","):
            out = Path(tmp) / "out.tif"
            start, cpu = time.perf_counter(), _cpu()
            if args.input.is_dir():
                tiles = sorted(str(p) for p in args.input.glob("*.asc"))
                header, strips = _strips(tiles, args.float)
                geotiff.write_geotiff(
                    out,
                    strips,
                    shape=(header.nrows, header.ncols),
                    geotransform=header.geotransform,
                    nodata=header.nodata,
                    codec=codec,
                    overviews=not args.no_overviews,
                    cog=args.cog,
                )
            else:
                grid = asciigrid.read(args.input)
                geotiff.write_geotiff(
                    out, grid, codec=codec, overviews=not args.no_overviews, cog=args.cog
                )
            seconds, cpu = time.perf_counter() - start, _cpu() - cpu
            size = out.stat().st_size / 1e6
            print(f"{codec:18} {seconds:6.2f} s wall {cpu:6.2f} s CPU {size:8.1f} MB", flush=True)
            out.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
