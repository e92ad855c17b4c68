#!/usr/bin/env python3
"""Deterministic ESRI ASCII grid test and benchmark data.

Importable (``from corpus import write_big_grid, write_tiles``) and a command line tool::

    python scripts/corpus.py big OUT.asc [--rows N --cols N --seed S]
    python scripts/corpus.py tiles OUTDIR [--count N --size N --zipped K --nested-zip --seed S]

Everything is a pure function of the arguments (same bytes on every run and machine, zip
archives included), so generated data can be cached and shared between tests and benchmarks.

The values come from one smooth "terrain" surface defined in British National Grid metres
plus a little seeded noise, so neighbouring tiles join up seamlessly in a mosaic. Float
grids carry exactly two decimals (``123.45``); nodata cells are written as ``-9999``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

NODATA = -9999
"""The one nodata value used by every generated grid."""

BIG_ORIGIN = (400000.0, 100000.0)
"""Lower-left corner of the big grid (British National Grid metres)."""
BIG_CELLSIZE = 5.0

TILE_ORIGIN = (100000.0, 50000.0)
"""Lower-left corner of tile (row 0, col 0); rows count northwards."""
TILE_CELLSIZE = 50.0

_ZIP_TILES_PER_ARCHIVE = 50
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so archives are byte-for-byte reproducible

# ESRI WKT of British National Grid (EPSG:27700) as GDAL's MorphToESRI writes it; used
# when osgeo.osr is not importable.
_BNG_ESRI_WKT = (
    'PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",'
    'SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",-100000.0],'
    'PARAMETER["Central_Meridian",-2.0],PARAMETER["Scale_Factor",0.9996012717],'
    'PARAMETER["Latitude_Of_Origin",49.0],UNIT["Meter",1.0]]'
)


def bng_prj_text() -> str:
    """ESRI WKT of EPSG:27700 (from osgeo.osr when available, else a fixed copy)."""
    try:
        from osgeo import osr
    except ImportError:
        return _BNG_ESRI_WKT
    srs = osr.SpatialReference()
    if srs.ImportFromEPSG(27700) != 0 or srs.MorphToESRI() != 0:
        return _BNG_ESRI_WKT
    return str(srs.ExportToWkt())


# --- values ---------------------------------------------------------------------------------


def _terrain(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A smooth surface in metres (roughly 20..640) at map coordinates x, y."""
    return (
        330.0
        + 180.0 * np.sin(x / 3100.0) * np.cos(y / 4700.0)
        + 90.0 * np.sin((x - 0.6 * y) / 1300.0)
        + 40.0 * np.cos((0.3 * x + y) / 650.0)
    )


def _lakes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True where a smooth second field marks a 'lake' (about 1% of cells): nodata."""
    return np.sin(x / 900.0 + 1.0) * np.sin(y / 1100.0 + 2.0) > 0.985


def _block(
    x0: float,
    y_top: float,
    cellsize: float,
    nrows: int,
    ncols: int,
    rng: np.random.Generator,
    integer: bool,
) -> np.ndarray:
    """Values of an ``nrows x ncols`` block as int64 hundredths (``12345`` = 123.45).

    ``y_top`` is the north edge of the block. Nodata cells hold ``NODATA * 100``.
    """
    x = x0 + (np.arange(ncols, dtype=np.float64) + 0.5) * cellsize
    y = y_top - (np.arange(nrows, dtype=np.float64) + 0.5) * cellsize
    xx, yy = np.meshgrid(x, y)
    z = _terrain(xx, yy) + rng.normal(0.0, 1.5, size=(nrows, ncols))
    if integer:
        scaled = np.rint(z).astype(np.int64) * 100
    else:
        scaled = np.rint(z * 100.0).astype(np.int64)
    holes = _lakes(xx, yy) | (rng.random((nrows, ncols)) < 0.002)
    scaled[holes] = NODATA * 100
    return scaled


# --- fast text formatting -------------------------------------------------------------------

_WIDTH = 11  # sign, 6 integer digits, '.', 2 decimals, separator
_MINUS, _DOT, _SPACE, _NEWLINE, _ZERO = (ord(c) for c in "-. \n0")


def _format_rows(scaled: np.ndarray, decimals: np.ndarray | bool) -> bytes:
    """Format a 2-D array of hundredths as grid rows (space separated, newline terminated).

    Cells where ``decimals`` is true are written with exactly two decimals (``123.45``),
    the others as integers (their hundredths must then be a multiple of 100). Each cell is
    laid out in a fixed-width byte slot with unused positions set to 0, and the zero bytes
    are then dropped in one vectorised step: no per-value Python formatting.
    """
    nrows, ncols = scaled.shape
    flat = scaled.ravel()
    with_dec = np.broadcast_to(np.asarray(decimals, dtype=bool), scaled.shape).ravel()
    magnitude = np.abs(flat)
    whole = magnitude // 100
    frac = magnitude % 100
    if whole.size and int(whole.max()) >= 10**6:
        raise ValueError("values must be below 1e6 in magnitude")
    if np.any(~with_dec & (frac != 0)):
        raise ValueError("integer cells must have no fractional part")
    out = np.zeros((flat.size, _WIDTH), dtype=np.uint8)
    out[:, 0] = np.where(flat < 0, _MINUS, 0)
    rest = whole.copy()
    for col in range(6, 0, -1):
        digit = (rest % 10).astype(np.uint8) + _ZERO
        # the units digit is always written; higher digits only when the number has them
        out[:, col] = digit if col == 6 else np.where(whole >= 10 ** (6 - col), digit, 0)
        rest //= 10
    out[:, 7] = np.where(with_dec, _DOT, 0)
    out[:, 8] = np.where(with_dec, frac // 10 + _ZERO, 0)
    out[:, 9] = np.where(with_dec, frac % 10 + _ZERO, 0)
    out[:, 10] = _SPACE
    out.reshape(nrows, ncols, _WIDTH)[:, -1, 10] = _NEWLINE
    raw = out.ravel()
    return raw[raw != 0].tobytes()


def _header(ncols: int, nrows: int, xll: float, yll: float, cellsize: float) -> bytes:
    def num(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else repr(float(v))

    lines = [
        ("ncols", str(ncols)),
        ("nrows", str(nrows)),
        ("xllcorner", num(xll)),
        ("yllcorner", num(yll)),
        ("cellsize", num(cellsize)),
        ("NODATA_value", str(NODATA)),
    ]
    return "".join(f"{key:<14}{value}\n" for key, value in lines).encode("ascii")


def _atomic_write(path: Path, chunks: list[bytes] | None = None) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        for chunk in chunks or []:
            fh.write(chunk)
    os.replace(tmp, path)
    return path


# --- public functions -----------------------------------------------------------------------


def write_big_grid(path: Path, nrows: int = 4000, ncols: int = 4000, seed: int = 0) -> Path:
    """Write one large float grid (two decimals, some ``-9999`` cells) and its ``.prj``.

    4000 x 4000 is about 110 MB and takes a few seconds. The file is written to a temporary
    name and renamed, so an existing ``path`` is always complete.
    """
    if nrows <= 0 or ncols <= 0:
        raise ValueError("nrows and ncols must be positive")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    xll, yll = BIG_ORIGIN
    north = yll + nrows * BIG_CELLSIZE
    rows_per_chunk = max(1, 1_000_000 // ncols)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(_header(ncols, nrows, xll, yll, BIG_CELLSIZE))
        for start in range(0, nrows, rows_per_chunk):
            count = min(rows_per_chunk, nrows - start)
            top = north - start * BIG_CELLSIZE
            scaled = _block(xll, top, BIG_CELLSIZE, count, ncols, rng, integer=False)
            fh.write(_format_rows(scaled, scaled != NODATA * 100))
    os.replace(tmp, path)
    _atomic_write(path.with_suffix(".prj"), [bng_prj_text().encode("ascii")])
    return path


def tile_layout(count: int) -> tuple[int, int]:
    """``(rows, cols)`` of the regular tile grid that holds ``count`` tiles."""
    cols = max(1, math.ceil(math.sqrt(count)))
    return math.ceil(count / cols), cols


def _tile_bytes(index: int, count: int, size: int, seed: int) -> tuple[str, bytes]:
    _, cols = tile_layout(count)
    row, col = divmod(index, cols)
    extent = size * TILE_CELLSIZE
    xll = TILE_ORIGIN[0] + col * extent
    yll = TILE_ORIGIN[1] + row * extent
    integer = (row + col) % 3 == 0  # a third of the tiles are integer grids
    rng = np.random.default_rng([seed, index])
    scaled = _block(xll, yll + extent, TILE_CELLSIZE, size, size, rng, integer)
    decimals: np.ndarray | bool = False if integer else scaled != NODATA * 100
    body = _format_rows(scaled, decimals)
    name = f"tile_{row:03d}_{col:03d}.asc"
    return name, _header(size, size, xll, yll, TILE_CELLSIZE) + body


def _zip_member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def _zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            _zip_member(archive, name, data)
    return buffer.getvalue()


def write_tiles(
    folder: Path,
    count: int = 2858,
    size: int = 100,
    zipped: int = 0,
    nested_zip: bool = False,
    seed: int = 0,
) -> list[Path]:
    """Write ``count`` aligned ``size x size`` tiles (cell size 50 m, nodata -9999) in ``folder``.

    Tiles sit on a regular grid of ``ceil(sqrt(count))`` columns (rows counted northwards
    from ``TILE_ORIGIN``) and are named ``tile_<row>_<col>.asc``, each with a ``.prj``. A
    third of them are integer grids, the rest have two decimals.

    The last ``zipped`` tiles (with their ``.prj``) go into ``tiles_<n>.zip`` archives of up
    to 50 tiles instead of loose files. With ``nested_zip`` (needs ``zipped >= 2``) the first
    archive holds half of its tiles inside an inner zip, ``tiles_000_inner.zip``.

    Returns the loose ``.asc`` files, then the ``.zip`` archives, in tile order (the ``.prj``
    sidecars are written but not listed).
    """
    if count <= 0 or size <= 0:
        raise ValueError("count and size must be positive")
    if not 0 <= zipped <= count:
        raise ValueError("zipped must be between 0 and count")
    if nested_zip and zipped < 2:
        raise ValueError("nested_zip needs at least 2 zipped tiles")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prj = bng_prj_text().encode("ascii")
    loose = count - zipped
    created: list[Path] = []
    for index in range(loose):
        name, data = _tile_bytes(index, count, size, seed)
        target = folder / name
        _atomic_write(target, [data])
        _atomic_write(target.with_suffix(".prj"), [prj])
        created.append(target)
    for number, start in enumerate(range(loose, count, _ZIP_TILES_PER_ARCHIVE)):
        members: list[tuple[str, bytes]] = []
        for index in range(start, min(start + _ZIP_TILES_PER_ARCHIVE, count)):
            name, data = _tile_bytes(index, count, size, seed)
            members += [(name, data), (name[:-4] + ".prj", prj)]
        if nested_zip and number == 0:
            half = (len(members) // 4) * 2  # whole (asc, prj) pairs stay together
            inner = _zip_bytes(members[half:])
            members = members[:half] + [(f"tiles_{number:03d}_inner.zip", inner)]
        target = folder / f"tiles_{number:03d}.zip"
        _atomic_write(target, [_zip_bytes(members)])
        created.append(target)
    return created


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    big = sub.add_parser("big", help="one large float grid")
    big.add_argument("out", type=Path)
    big.add_argument("--rows", type=int, default=4000)
    big.add_argument("--cols", type=int, default=4000)
    big.add_argument("--seed", type=int, default=0)
    tiles = sub.add_parser("tiles", help="many aligned tiles")
    tiles.add_argument("outdir", type=Path)
    tiles.add_argument("--count", type=int, default=2858)
    tiles.add_argument("--size", type=int, default=100)
    tiles.add_argument("--zipped", type=int, default=0)
    tiles.add_argument("--nested-zip", action="store_true")
    tiles.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except ValueError as err:
        parser.error(str(err))
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "big":
        path = write_big_grid(args.out, args.rows, args.cols, args.seed)
        print(f"{path} ({path.stat().st_size / 1e6:.1f} MB, {args.rows}x{args.cols})")
    else:
        paths = write_tiles(
            args.outdir, args.count, args.size, args.zipped, args.nested_zip, args.seed
        )
        size = sum(p.stat().st_size for p in paths)
        print(f"{args.outdir}: {len(paths)} files ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
