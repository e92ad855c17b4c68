"""The reference side of every comparison: GDAL itself (``osgeo.gdal``, AAIGrid driver).

Also the checksum GDAL's autotest asserts (``GDALChecksumImage``), implemented from the
algorithm described in ``shared/testdata/gdal-aaigrid/MANIFEST.txt`` so MANIFEST values can be
checked against arrays read by asciigrid, and helpers to compare values exactly (NaN-aware,
sign of zero included).
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from osgeo import gdal, osr

gdal.UseExceptions()
osr.UseExceptions()
# Never leave .aux.xml files next to the data (testdata is read-only; tmp dirs must stay clean).
gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")

_GDAL_TYPES = {
    gdal.GDT_Int32: np.dtype("int32"),
    gdal.GDT_Float32: np.dtype("float32"),
    gdal.GDT_Float64: np.dtype("float64"),
}
_GDAL_TYPE_NAMES = {"int32": "Int32", "float32": "Float32", "float64": "Float64"}

_PRIMES = np.array([7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43], dtype=np.int64)
_INT_MIN = -2147483648
_INT_MAX = 2147483647


class GdalGrid(NamedTuple):
    """What GDAL reports for a raster."""

    array: npt.NDArray
    geotransform: tuple[float, float, float, float, float, float]
    nodata: float | None
    dtype: np.dtype
    wkt: str
    """``GetProjection()`` ('' when GDAL found no CRS)."""


def gdal_read(
    source: str | os.PathLike | bytes,
    *,
    dtype: str | np.dtype | None = None,
    driver: str = "AAIGrid",
    name: str = "grid.asc",
) -> GdalGrid:
    """Read a grid with GDAL (exceptions on). Bytes are written to a temporary file first.

    ``dtype`` maps to the driver's ``DATATYPE`` open option (Int32/Float32/Float64), the same
    override asciigrid's ``read(dtype=...)`` offers.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        with tempfile.TemporaryDirectory(prefix="asciigrid-gdal-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(bytes(source))
            return gdal_read(path, dtype=dtype, driver=driver)
    options = []
    if dtype is not None:
        options.append(f"DATATYPE={_GDAL_TYPE_NAMES[np.dtype(dtype).name]}")
    ds = gdal.OpenEx(
        os.fspath(source), gdal.OF_RASTER, allowed_drivers=[driver], open_options=options
    )
    try:
        band = ds.GetRasterBand(1)
        array = band.ReadAsArray()
        gt = tuple(float(v) for v in ds.GetGeoTransform())
        return GdalGrid(
            array=array,
            geotransform=gt,  # type: ignore[arg-type]
            nodata=band.GetNoDataValue(),
            dtype=_GDAL_TYPES[band.DataType],
            wkt=ds.GetProjection() or "",
        )
    finally:
        ds = None  # noqa: F841  (closes the dataset)


GRASS_NULL = -2147483648
"""The nodata value of a GRASS grid without a ``null:`` line: what its ``*`` cells read as."""


def gdal_read_grass(
    source: str | os.PathLike | bytes, *, dtype: str | np.dtype | None = None
) -> GdalGrid:
    """GDAL's GRASSASCIIGrid reading of a GRASS grid, with the one correction asciigrid makes
    on purpose (docs/FORMAT.md, "GRASS ``*`` null cells"): GDAL 3.6 reads ``*`` as 0 and,
    without a ``null:`` line, reports no nodata; here the ``*`` cells hold the ``null:`` value
    (as a cell spelling it out reads in GDAL) or :data:`GRASS_NULL`, which is then the nodata.
    Everything else (type, geotransform, every other cell) is GDAL's own.
    """
    text = source if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    ref = gdal_read(source, dtype=dtype, driver="GRASSASCIIGrid", name="grid.txt")
    lines = bytes(text).splitlines(keepends=True)
    keys = (b"north", b"south", b"east", b"west", b"rows", b"cols", b"null", b"type")
    header = 0
    null: bytes | None = None
    for line in lines:
        key, colon, value = line.partition(b":")
        if not line.strip():
            header += len(line)
            continue
        if not colon or key.strip().lower() not in keys:
            break
        if key.strip().lower() == b"null":
            null = value.strip()
        header += len(line)
    cells = ref.array.size
    stars = np.array([t == b"*" for t in bytes(text)[header:].split()[:cells]], dtype=bool)
    stars = stars.reshape(ref.array.shape)
    if null is None or null == b"*":
        value: float = GRASS_NULL
        nodata: float | None = GRASS_NULL
    else:
        # GDAL's own reading of the value spelled out as a cell (its rounding to float32).
        value = float(ref.nodata) if ref.nodata is not None else float(null)
        nodata = ref.nodata
    array = ref.array.copy()
    array[stars] = array.dtype.type(value)
    return ref._replace(array=array, nodata=nodata)


def gdal_band_checksum(
    path: str | os.PathLike,
    window: tuple[int, int, int, int] | None = None,
    driver: str = "AAIGrid",
) -> int:
    """GDAL's own ``GDALChecksumImage`` on a file (``window`` = xoff, yoff, xsize, ysize)."""
    ds = gdal.OpenEx(os.fspath(path), gdal.OF_RASTER, allowed_drivers=[driver])
    try:
        band = ds.GetRasterBand(1)
        if window is None:
            return int(band.Checksum())
        return int(band.Checksum(*window))
    finally:
        ds = None  # noqa: F841


def checksum(array: npt.ArrayLike, window: tuple[int, int, int, int] | None = None) -> int:
    """``GDALChecksumImage`` of a 2-D array, as MANIFEST.txt describes it.

    Primes 7..43 cycled over the pixels in row-major order, ``c = (c + v % p) & 0xffff`` with
    C's remainder (sign of the dividend). Float values become ``floor(x + 0.5)`` clamped to
    +-2147483647; NaN and infinities become INT_MIN. ``window`` = (xoff, yoff, xsize, ysize);
    the prime cycle starts at the window's first pixel.
    """
    a = np.asarray(array)
    if window is not None:
        xoff, yoff, xsize, ysize = window
        a = a[yoff : yoff + ysize, xoff : xoff + xsize]
    flat = a.ravel()
    if flat.dtype.kind == "f":
        v = flat.astype(np.float64)
        finite = np.isfinite(v)
        shifted = np.where(finite, v, 0.0) + 0.5
        ints = np.floor(np.clip(shifted, -2147483647.0, 2147483647.0)).astype(np.int64)
        ints = np.where(finite, ints, _INT_MIN)
    else:
        ints = flat.astype(np.int64)
    primes = np.resize(_PRIMES, ints.shape[0])
    remainders = np.fmod(ints, primes)  # C semantics: sign follows the dividend
    return int(remainders.sum()) & 0xFFFF


def same_values(a: npt.ArrayLike, b: npt.ArrayLike) -> bool:
    """Exact equality: same shape and dtype, NaN where NaN, and the same sign on zeros."""
    x = np.asarray(a)
    y = np.asarray(b)
    if x.shape != y.shape or x.dtype != y.dtype:
        return False
    if x.dtype.kind != "f":
        return bool(np.array_equal(x, y))
    nan_x = np.isnan(x)
    if not np.array_equal(nan_x, np.isnan(y)):
        return False
    xv = x[~nan_x]
    yv = y[~nan_x]
    return bool(np.array_equal(xv, yv) and np.array_equal(np.signbit(xv), np.signbit(yv)))


def first_difference(a: npt.ArrayLike, b: npt.ArrayLike) -> str:
    """A short description of where two arrays first differ (for assertion messages)."""
    x = np.asarray(a)
    y = np.asarray(b)
    if x.shape != y.shape or x.dtype != y.dtype:
        return f"shape/dtype {x.shape} {x.dtype} vs {y.shape} {y.dtype}"
    for index in np.ndindex(x.shape):
        xv, yv = x[index], y[index]
        if x.dtype.kind == "f":
            if math.isnan(xv) and math.isnan(yv):
                continue
            if xv == yv and np.signbit(xv) == np.signbit(yv):
                continue
        elif xv == yv:
            continue
        return f"first difference at {index}: {xv!r} vs {yv!r}"
    return "no difference"


def assert_same_values(got: npt.ArrayLike, expected: npt.ArrayLike, what: str = "") -> None:
    """Assert :func:`same_values`, with a message naming the first differing cell."""
    assert same_values(got, expected), f"{what} {first_difference(got, expected)}".strip()


def same_nodata(a: float | int | None, b: float | int | None) -> bool:
    """Nodata values equal as GDAL reports them (None = absent; NaN equals NaN)."""
    if a is None or b is None:
        return a is None and b is None
    fa, fb = float(a), float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    return fa == fb


def same_crs(wkt_a: str | None, wkt_b: str | None) -> bool:
    """Both CRSs are the same: OSR's ``IsSame``, or (axis order aside) the same PROJ string."""
    if not wkt_a or not wkt_b:
        return False
    a = osr.SpatialReference()
    a.ImportFromWkt(wkt_a)
    b = osr.SpatialReference()
    b.ImportFromWkt(wkt_b)
    if a.IsSame(b):
        return True
    # EPSG:3035 and friends declare northing-first axes; their ESRI form does not.
    proj_a, proj_b = a.ExportToProj4(), b.ExportToProj4()
    return bool(proj_a) and proj_a == proj_b


def ogc_wkt(epsg: int) -> str:
    """The WKT GDAL gives for EPSG code ``epsg``."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return str(srs.ExportToWkt())


def esri_wkt(epsg: int) -> str:
    """The ESRI form of it, as a ``.prj`` written by ArcGIS holds it."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.MorphToESRI()
    return str(srs.ExportToWkt())
