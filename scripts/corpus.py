#!/usr/bin/env python3
"""Deterministic ESRI ASCII grid test and benchmark data.

Importable (``from corpus import write_big_grid, write_tiles``) and a command line tool::

    python scripts/corpus.py big OUT.asc [--rows N --cols N --seed S]
    python scripts/corpus.py tiles OUTDIR [--count N --size N --zipped K --nested-zip --seed S]
    python scripts/corpus.py delivery --out DELIVERY.zip [--tiles 2858 --size 200 --seed S]

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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

_MINUS, _DOT, _SPACE, _NEWLINE, _ZERO = (ord(c) for c in "-. \n0")


def _format_rows(scaled: np.ndarray, decimals: np.ndarray | bool, places: int = 2) -> bytes:
    """Format a 2-D array of fixed-point values as grid rows (space separated, newline
    terminated).

    ``scaled`` holds values in units of ``10**-places`` (hundredths by default). Cells where
    ``decimals`` is true are written with exactly ``places`` decimals (``123.45``), the others
    as integers (their fractional part must then be zero). Each cell is laid out in a
    fixed-width byte slot with unused positions set to 0, and the zero bytes are then dropped
    in one vectorised step: no per-value Python formatting.
    """
    nrows, ncols = scaled.shape
    unit = 10**places
    width = 1 + 6 + 1 + places + 1  # sign, 6 integer digits, '.', decimals, separator
    flat = scaled.ravel()
    with_dec = np.broadcast_to(np.asarray(decimals, dtype=bool), scaled.shape).ravel()
    magnitude = np.abs(flat)
    whole = magnitude // unit
    frac = magnitude % unit
    if whole.size and int(whole.max()) >= 10**6:
        raise ValueError("values must be below 1e6 in magnitude")
    if np.any(~with_dec & (frac != 0)):
        raise ValueError("integer cells must have no fractional part")
    out = np.zeros((flat.size, width), dtype=np.uint8)
    out[:, 0] = np.where(flat < 0, _MINUS, 0)
    rest = whole.copy()
    for col in range(6, 0, -1):
        digit = (rest % 10).astype(np.uint8) + _ZERO
        # the units digit is always written; higher digits only when the number has them
        out[:, col] = digit if col == 6 else np.where(whole >= 10 ** (6 - col), digit, 0)
        rest //= 10
    out[:, 7] = np.where(with_dec, _DOT, 0)
    for place in range(places):
        digit = (frac // 10 ** (places - 1 - place) % 10).astype(np.uint8) + _ZERO
        out[:, 8 + place] = np.where(with_dec, digit, 0)
    out[:, width - 1] = _SPACE
    out.reshape(nrows, ncols, width)[:, -1, width - 1] = _NEWLINE
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


def _zip_member(archive: zipfile.ZipFile, name: str, data: bytes, level: int | None = None) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data, compresslevel=level)


def _zip_bytes(members: list[tuple[str, bytes]], level: int | None = None) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            _zip_member(archive, name, data, level)
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


# --- an OS Terrain 50 style delivery -------------------------------------------------------

DELIVERY_TILES = 2858
"""Tiles in the real OS Terrain 50 ASCII-grid download."""
DELIVERY_DATE = "20230501"
_SQUARE = 10_000  # metres: one tile per OS National Grid 10 km square
_GB_SQUARES = (70, 125)  # the real product's extent in 10 km squares: 0-700 km E, 0-1250 km N
_MAX_SQUARES_NORTH = 200  # 0-2000 km N: where the National Grid's letters stop
_DETAIL_WAVES = 24


def os_grid_letters(easting: float, northing: float) -> str:
    """The two letters of the OS National Grid 100 km square holding a point (``"NT"``)."""
    e100, n100 = int(easting // 100_000), int(northing // 100_000)
    if not (-10 <= e100 < 15 and -5 <= n100 < 20):  # the 5 x 5 squares of 500 km
        raise ValueError(f"({easting}, {northing}) is outside the National Grid's letters")
    first = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    second = (19 - n100) * 5 % 25 + e100 % 5
    # the grid's 25 letters skip 'I'
    return "".join(chr(ord("A") + i + (i > 7)) for i in (first, second))


def os_tile_name(easting: float, northing: float) -> str:
    """OS name of the 10 km square holding a point: letters + 2 digits (``"NT00"``)."""
    digits = f"{int(easting % 100_000 // _SQUARE)}{int(northing % 100_000 // _SQUARE)}"
    return os_grid_letters(easting, northing) + digits


def _delivery_squares(count: int) -> tuple[int, int]:
    """(columns, rows) of 10 km squares the delivery's ``count`` tiles are chosen from.

    Up to the real product's 2858 tiles, a Great-Britain-shaped 70 x 125 extent scaled to keep
    its share of land (a third of the squares); beyond it the width stays 700 km (so a mosaic
    strip is as wide as the real one) and the extent grows north to 2000 km, then the land
    gets denser.
    """
    width, height = _GB_SQUARES
    if count <= DELIVERY_TILES:
        scale = math.sqrt(count / DELIVERY_TILES)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
        while width * height < count:
            height += 1
        return width, height
    height = min(_MAX_SQUARES_NORTH, math.ceil(height * count / DELIVERY_TILES))
    if count > width * height:
        raise ValueError(f"at most {width * height} tiles fit the National Grid's letters")
    return width, height


class _Terrain:
    """Heights in metres at any British National Grid point: a smooth "island" plus hills
    made of seeded plane waves from 60 km down to 400 m, so tiles join up seamlessly."""

    def __init__(self, width_m: float, height_m: float, seed: int) -> None:
        rng = np.random.default_rng([seed, 11])
        self.size = (width_m, height_m)
        wavelengths = np.geomspace(60_000.0, 400.0, _DETAIL_WAVES)
        angles = rng.uniform(0.0, 2 * math.pi, _DETAIL_WAVES)
        k = 2 * math.pi / wavelengths
        self.kx, self.ky = k * np.cos(angles), k * np.sin(angles)
        self.phase = rng.uniform(0.0, 2 * math.pi, _DETAIL_WAVES)
        # short waves get little height, as in real relief (and the text compresses as real
        # heights do: about 4.5 to 1)
        self.amplitude = 260.0 * (wavelengths / 60_000.0) ** 1.7
        self.coast_phase = rng.uniform(0.0, 2 * math.pi, 4)
        self.sea_level = 0.0

    def _island(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Large-scale land shape: about 1 in the middle of the extent, negative near its
        edges, with a wobbly coast."""
        u = x / self.size[0] - 0.5
        v = y / self.size[1] - 0.5
        p = self.coast_phase
        wobble = (
            0.25 * np.sin(7.0 * v + p[0]) * np.cos(5.0 * u + p[1])
            + 0.15 * np.sin(17.0 * u + 11.0 * v + p[2])
            + 0.10 * np.cos(29.0 * v - 19.0 * u + p[3])
        )
        return 1.0 - 3.2 * (u * u + v * v) + wobble

    def heights(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Heights (sea level already subtracted) on the grid of ``x`` (columns) by ``y`` (rows).

        Each wave is separable (cos(a x + b y + p) = cos(a x) cos(b y + p) - sin(a x) sin(b y +
        p)), so a tile costs two outer products per wave instead of a cosine per cell.
        """
        z = 1000.0 * self._island(x[None, :], y[:, None])
        for kx, ky, p, a in zip(self.kx, self.ky, self.phase, self.amplitude):
            cx, sx = np.cos(kx * x), np.sin(kx * x)
            cy, sy = np.cos(ky * y + p), np.sin(ky * y + p)
            z += a * (np.outer(cy, cx) - np.outer(sy, sx))
        return z - self.sea_level


def _delivery_plan(count: int, seed: int) -> tuple[_Terrain, list[tuple[int, int]]]:
    """The terrain and the lower-left corners (metres) of the ``count`` squares whose land
    rises highest; the sea level is set so that the others are sea."""
    width, height = _delivery_squares(count)
    terrain = _Terrain(width * _SQUARE, height * _SQUARE, seed)
    samples = (np.arange(4) + 0.5) * (_SQUARE / 4)  # 4 x 4 points per square
    score = np.full((height, width), -np.inf)
    for i in range(height):
        ys = i * _SQUARE + samples
        row = terrain.heights(np.arange(width * 4) * (_SQUARE / 4) + _SQUARE / 8, ys)
        score[i] = row.reshape(4, width, 4).max(axis=(0, 2))
    ranked = np.argsort(-score, axis=None, kind="stable")
    order = ranked[:count]
    # sea level at the best square left out: every chosen square has land above it
    if count < score.size:
        terrain.sea_level = float(score.ravel()[ranked[count]])
    corners = sorted((int(k % width) * _SQUARE, int(k // width) * _SQUARE) for k in order)
    return terrain, corners


def _delivery_tile(
    terrain: _Terrain, xll: int, yll: int, size: int, date: str, level: int | None
) -> tuple[str, bytes]:
    """``(member name in the outer zip, inner zip bytes)`` of the tile at ``(xll, yll)``."""
    cellsize = _SQUARE / size
    x = xll + (np.arange(size) + 0.5) * cellsize
    y = yll + _SQUARE - (np.arange(size) + 0.5) * cellsize
    z = terrain.heights(x, y)
    tenths = np.rint(np.maximum(z, 0.0) * 10.0).astype(np.int64)
    sea = tenths == 0
    body = _format_rows(tenths, ~sea, places=1)
    name = os_tile_name(xll, yll)
    header = (
        f"ncols {size}\nnrows {size}\nxllcorner {xll}\nyllcorner {yll}\ncellsize {cellsize:g}\n"
    ).encode("ascii")
    gml = (
        f'<?xml version="1.0"?>\n<gml:RectifiedGrid gml:id="{name}" srsName="EPSG:27700">'
        f"<gml:lowerCorner>{xll} {yll}</gml:lowerCorner>"
        f"<gml:upperCorner>{xll + _SQUARE} {yll + _SQUARE}</gml:upperCorner>"
        "</gml:RectifiedGrid>\n"
    ).encode("ascii")
    xml = (
        f'<?xml version="1.0"?>\n<metadata tile="{name}" product="OS Terrain 50" date="{date}"/>\n'
    ).encode("ascii")
    prj = bng_prj_text().encode("ascii")
    members = [(f"{name}.asc", header + body), (f"{name}.prj", prj)]
    inner = _zip_bytes([*members, (f"{name}.gml", gml), (f"{name}.xml", xml)], level)
    return f"data/{name[:2].lower()}/{name.lower()}_OST50GRID_{date}.zip", inner


_DeliveryJob = tuple[int, int, int, int, int, str, "int | None"]
"""``(tiles, size, seed, xll, yll, date, level)``: one tile of :func:`write_delivery`."""

_TERRAINS: dict[tuple[int, int], _Terrain] = {}


def _delivery_worker(job: _DeliveryJob) -> tuple[str, bytes]:
    count, size, seed, xll, yll, date, level = job
    if (count, seed) not in _TERRAINS:  # planned once per worker process
        _TERRAINS[(count, seed)] = _delivery_plan(count, seed)[0]
    return _delivery_tile(_TERRAINS[(count, seed)], xll, yll, size, date, level)


def write_delivery(
    out: Path,
    tiles: int = DELIVERY_TILES,
    size: int = 200,
    seed: int = 0,
    date: str = DELIVERY_DATE,
    level: int | None = None,
    processes: int | None = None,
) -> Path:
    """Write a delivery shaped like the OS Terrain 50 ASCII-grid download to ``out`` (a zip).

    The outer zip holds ``data/<square>/<tile>_OST50GRID_<date>.zip`` (square: the two OS grid
    letters, lower case; tile: letters + 2 digits, e.g. ``data/nt/nt00_OST50GRID_20230501.zip``),
    one per OS National Grid 10 km square, sorted by name. Each inner zip holds ``<TILE>.asc``
    (``size`` x ``size`` cells covering the square, five header lines and no NODATA line,
    heights with one decimal, sea written as ``0``), ``<TILE>.prj`` (British National Grid,
    ESRI WKT), and ``<TILE>.gml`` and ``<TILE>.xml`` members a reader must skip. The
    ``tiles`` squares with most land are chosen (see :func:`_delivery_squares`), so sea leaves
    gaps between them. With the defaults it is about 470 MB of text and 100 MB zipped, like
    the real download.

    ``level`` is the zlib level of every member (default: zlib's, as zip tools use; 1 makes
    test data several times faster). Tiles are made in ``processes`` worker processes
    (default: one per CPU); the bytes are the same for any number of them.
    """
    if tiles <= 0:
        raise ValueError("tiles must be positive")
    if size <= 0 or _SQUARE % size:
        raise ValueError(f"size must divide {_SQUARE} (the tile is a 10 km square)")
    if not (len(date) == 8 and date.isdigit()):
        raise ValueError("date must be YYYYMMDD")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _, corners = _delivery_plan(tiles, seed)
    corners.sort(key=lambda c: os_tile_name(*c).lower())  # the archive lists them by name
    jobs: list[_DeliveryJob] = [(tiles, size, seed, x, y, date, level) for x, y in corners]
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name, inner in _map_in_processes(_delivery_worker, jobs, processes):
                _zip_member(archive, name, inner, level)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def _map_in_processes(
    function: Callable[[Any], Any], jobs: list[Any], processes: int | None
) -> Iterator[Any]:
    """``function`` over ``jobs``, results in job order as they come (never all held)."""
    processes = processes or os.cpu_count() or 1
    if processes == 1 or len(jobs) < 8:
        yield from map(function, jobs)
        return
    import multiprocessing

    # not fork: the caller may run threads (QGIS, pytest-qgis), which a forked child inherits
    # in whatever state they were; spawned workers import this module afresh (sys.path goes
    # with them)
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        yield from pool.imap(function, jobs, chunksize=max(1, len(jobs) // (processes * 32)))


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
    delivery = sub.add_parser("delivery", help="an OS Terrain 50 style download (zips in a zip)")
    delivery.add_argument("--out", type=Path, required=True, help="the outer .zip to write")
    delivery.add_argument("--tiles", type=int, default=DELIVERY_TILES)
    delivery.add_argument("--size", type=int, default=200, help="cells per tile side")
    delivery.add_argument("--seed", type=int, default=0)
    delivery.add_argument("--date", default=DELIVERY_DATE, help="YYYYMMDD in member names")
    delivery.add_argument("--level", type=int, default=None, help="zlib level (default: 6)")
    delivery.add_argument("--processes", type=int, default=None)
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
    elif args.command == "delivery":
        path = write_delivery(
            args.out, args.tiles, args.size, args.seed, args.date, args.level, args.processes
        )
        print(f"{path}: {args.tiles} tiles ({path.stat().st_size / 1e6:.1f} MB)")
    else:
        paths = write_tiles(
            args.outdir, args.count, args.size, args.zipped, args.nested_zip, args.seed
        )
        size = sum(p.stat().st_size for p in paths)
        print(f"{args.outdir}: {len(paths)} files ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
