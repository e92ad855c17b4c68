#!/usr/bin/env python3
"""Show asciigrid at work on a sample grid: header, read, statistics, GDAL check, errors.

    .venv/bin/python scripts/demo.py sample-data/sample_2000x2000.asc [--tiles DIR]

``scripts/demo.sh`` makes the sample data and runs this.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import asciigrid
import numpy as np


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start


def crs_name(wkt: str | None) -> str:
    if not wkt:
        return "none"
    try:
        from osgeo import osr

        srs = osr.SpatialReference()
        if srs.ImportFromWkt(wkt) == 0:
            return srs.GetName() or wkt[:60]
    except ImportError:
        pass
    return wkt[:60] + "..."


def show_grid(path: Path) -> asciigrid.Grid:
    size_mb = path.stat().st_size / 1e6
    runs = [timed(asciigrid.read_header, path) for _ in range(3)]
    header, seconds = runs[0][0], min(t for _, t in runs)
    print(f"\n## {path} ({size_mb:.1f} MB)")
    print(f"read_header (best of 3): {seconds * 1e6:.0f} µs")
    print(f"  ncols x nrows  {header.ncols} x {header.nrows}")
    print(f"  cell size      {header.dx} x {header.dy} ({header.origin} origin)")
    print(f"  nodata         {header.nodata}")
    print(f"  geotransform   {header.geotransform}")
    print(f"  bounds         {header.bounds}")

    runs = [timed(asciigrid.read, path) for _ in range(3)]
    grid, seconds = runs[0][0], min(t for _, t in runs)
    print(
        f"read (best of 3): {seconds:.3f} s ({size_mb / seconds:.0f} MB/s) "
        f"-> {grid.data.dtype} array (the type GDAL picks)"
    )
    print(f"  CRS            {crs_name(grid.crs_wkt)}")

    stats, seconds = timed(asciigrid.stats, path)
    print(f"stats (streaming, no array): {seconds:.3f} s")
    print(f"  valid cells    {stats.count}  nodata cells {stats.nodata_count}")
    print(f"  min / max      {stats.min:.2f} / {stats.max:.2f}")
    print(f"  mean / std     {stats.mean:.3f} / {stats.std:.3f}")
    masked = grid.masked()
    print(f"  numpy on grid.masked(): mean {masked.mean():.3f}, std {masked.std():.3f}")

    try:
        from osgeo import gdal
    except ImportError:
        print("GDAL: not available, comparison skipped")
        return grid
    gdal.UseExceptions()

    def gdal_read(p: Path) -> np.ndarray:
        return gdal.Open(str(p)).ReadAsArray()

    reference, seconds = timed(gdal_read, path)
    same = grid.data.dtype == reference.dtype and np.array_equal(grid.data, reference)
    print(f"GDAL ReadAsArray: {seconds:.3f} s; asciigrid's array is identical: {same}")
    return grid


def show_tiles(folder: Path) -> None:
    tiles = sorted(folder.glob("*.asc"))
    if not tiles:
        return
    print(f"\n## {len(tiles)} tiles in {folder}")
    mosaic, seconds = timed(asciigrid.mosaic, tiles)
    print(f"mosaic: {seconds:.3f} s -> {mosaic.shape} {mosaic.data.dtype}")
    print(f"  geotransform   {mosaic.geotransform}")
    total, seconds = timed(asciigrid.stats, tiles)
    print(f"stats over all tiles: {seconds:.3f} s, mean {total.mean:.3f}, count {total.count}")


def show_errors_and_write(grid: asciigrid.Grid, out_dir: Path) -> None:
    print("\n## strict parsing")
    bad = b"ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n4 x4 6\n"
    try:
        asciigrid.read(asciigrid.NamedBytes("broken.asc", bad))
    except asciigrid.ParseError as err:
        print(f"ParseError: {err}  (line {err.line}, column {err.column})")
    else:
        print("expected a ParseError for the token 'x4'!")

    print("\n## write")
    crop = grid.data[:100, :100]
    target = out_dir / "crop_100x100.asc"
    asciigrid.write(
        target, crop, geotransform=grid.geotransform, nodata=grid.nodata, crs_wkt=grid.crs_wkt
    )
    back = asciigrid.read(target)
    print(f"wrote {target} (+ .prj); reads back equal: {np.array_equal(back.data, crop)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("grid", type=Path)
    parser.add_argument("--tiles", type=Path, help="a folder of aligned tiles to mosaic")
    args = parser.parse_args()
    print(f"asciigrid {asciigrid.__version__}")
    grid = show_grid(args.grid)
    if args.tiles:
        show_tiles(args.tiles)
    show_errors_and_write(grid, args.grid.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
