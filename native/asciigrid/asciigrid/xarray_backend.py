"""asciigrid as an xarray backend: ``xr.open_dataset("dem.asc", engine="asciigrid")``.

Registered under the ``xarray.backends`` entry point (``pip install asciigrid[xarray]``), so
``xr.open_dataset`` and ``xr.open_mfdataset`` find it by name. Opening reads only what the
type and geometry need (the header, and for a grid without a decimal nodata the body up to
its first float marker); the cells are read by the engine when the variable is first used.
The result looks like rioxarray's ``engine="rasterio"`` one grid band: ``x``/``y`` cell-centre
coordinates, the nodata as ``_FillValue`` (masked to NaN unless ``mask_and_scale=False``) and
the CRS as a CF ``spatial_ref`` variable, so ``ds.rio.crs`` and ``ds.rio.transform()`` work.
"""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np
from xarray import Dataset, Variable, conventions
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.core import indexing

from asciigrid import _api

try:
    # A .prj becomes the CRS's WKT through GDAL's osr (asciigrid.crs.esri_to_wkt). Loaded
    # with the backend, as rioxarray's engine loads rasterio: once, when xarray lists its
    # engines, rather than inside the first open.
    from osgeo import osr as _osr  # noqa: F401
except ImportError:  # the WKT of a .prj is then passed through as it is
    pass

__all__ = ["AsciiGridBackendEntrypoint", "VARIABLE_NAME", "spatial_ref_attrs", "xy_coordinates"]

VARIABLE_NAME = "band_data"
"""The grid's variable, named as rioxarray names a band read through GDAL."""

_SUFFIXES = (".asc", ".asc.gz", ".agr", ".grd.gz")
_HEADER_WORDS = (
    b"ncols",
    b"nrows",
    b"xllcorner",
    b"xllcenter",
    b"yllcorner",
    b"yllcenter",
    b"cellsize",
    b"north:",
    b"south:",
    b"east:",
    b"west:",
    b"rows:",
    b"cols:",
)


def xy_coordinates(
    geotransform: tuple[float, ...], nrows: int, ncols: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre ``x`` (west to east) and ``y`` (north to south) of a north-up grid."""
    x0, dx, _, y0, _, ndy = geotransform
    x = x0 + (np.arange(ncols, dtype=np.float64) + 0.5) * dx
    y = y0 + (np.arange(nrows, dtype=np.float64) + 0.5) * ndy
    return x, y


def spatial_ref_attrs(crs_wkt: str | None, geotransform: tuple[float, ...]) -> dict[str, str]:
    """CF grid-mapping attributes as GDAL and rioxarray write them: ``crs_wkt`` (and its
    ``spatial_ref`` alias) when the CRS is known, and the ``GeoTransform``."""
    attrs = {"GeoTransform": " ".join(repr(float(v)) for v in geotransform)}
    if crs_wkt:
        attrs["crs_wkt"] = crs_wkt
        attrs["spatial_ref"] = crs_wkt
    return attrs


class AsciiGridArray(BackendArray):
    """The cells of one grid, read by the engine on first access.

    Holds the source's name and the read options only (never an open file), so it pickles
    to dask workers and other processes. Each distinct read is done once per process and
    kept while the array lives; concurrent first accesses share one read.
    """

    def __init__(
        self,
        source: str,
        shape: tuple[int, int],
        dtype: np.dtype,
        nan_for: float | None = None,
    ) -> None:
        self.source = source
        self.shape = shape
        self.dtype = dtype
        self.nan_for = nan_for
        """A float grid's nodata, whose cells the engine makes NaN as it parses them (what
        xarray's masking would do with a second array as large as the grid)."""
        self._cells: np.ndarray | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # The cells and the lock stay behind: the receiving process reads the file itself.
        return {
            "source": self.source,
            "shape": self.shape,
            "dtype": self.dtype,
            "nan_for": self.nan_for,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER, self._getitem
        )

    def _getitem(self, key: tuple[Any, ...]) -> np.ndarray:
        return self._read()[key]

    def _read(self) -> np.ndarray:
        with self._lock:
            if self._cells is None:
                masked = self.nan_for is not None
                grid = _api._read(self.source, self.dtype, nodata_as_nan=masked)
                if grid.data.shape != self.shape:
                    raise OSError(
                        f"{self.source}: the grid is {grid.data.shape} cells now, {self.shape} "
                        "when it was opened; open it again"
                    )
                if masked and grid.header.nodata != self.nan_for:
                    # Its cells of the old nodata would not be NaN, though _FillValue says so.
                    raise OSError(
                        f"{self.source}: the grid's NODATA_value is {grid.header.nodata} now, "
                        f"{self.nan_for} when it was opened; open it again"
                    )
                self._cells = grid.data
            return self._cells


def _open_variables(
    source: str, dtype: Any, mask: bool
) -> tuple[dict[str, Variable], dict[str, Any], dict[str, Any]]:
    layout = _api.mosaic_layout([source], dtype=dtype)
    header = layout.header
    if header.dtype is None:  # pragma: no cover - a plan always decides the type
        raise ValueError(f"{source}: the data type could not be decided")
    shape = (header.nrows, header.ncols)
    x, y = xy_coordinates(header.geotransform, header.nrows, header.ncols)
    attrs: dict[str, Any] = {"grid_mapping": "spatial_ref"}
    encoding: dict[str, Any] = {
        "preferred_chunks": {"y": header.nrows, "x": header.ncols},
        "source": source,
    }
    nan_for = None
    # A plan always has a nodata (for its gaps); the file itself may declare none.
    if header.nodata is not None and _api.read_header(source).nodata is not None:
        fill = header.dtype.type(header.nodata)
        if mask and header.dtype.kind == "f" and not np.isnan(fill):
            # Masked here, in place: decoding then finds nothing left to do.
            nan_for = float(fill)
            encoding["_FillValue"] = fill
        else:
            attrs["_FillValue"] = fill
    array = AsciiGridArray(source, shape, header.dtype, nan_for)
    band = Variable(("y", "x"), indexing.LazilyIndexedArray(array), attrs=attrs)
    band.encoding = encoding
    variables = {
        VARIABLE_NAME: band,
        "x": Variable(("x",), x, attrs={"axis": "X", "long_name": "x coordinate of cell centre"}),
        "y": Variable(("y",), y, attrs={"axis": "Y", "long_name": "y coordinate of cell centre"}),
        "spatial_ref": Variable(
            (), np.int64(0), attrs=spatial_ref_attrs(layout.crs_wkt, header.geotransform)
        ),
    }
    dataset_attrs = {"source": source}
    return variables, dataset_attrs, {"source": source}


def _name_of(filename_or_obj: Any) -> str | None:
    if isinstance(filename_or_obj, (str, os.PathLike)):
        return os.fsdecode(filename_or_obj)
    return None


class AsciiGridBackendEntrypoint(BackendEntrypoint):
    """Open ESRI ASCII (``.asc``, ``.asc.gz``) and GRASS ASCII grids with asciigrid's engine."""

    description = "ESRI ASCII and GRASS ASCII grids (.asc, .asc.gz) read by asciigrid's engine"
    url = "https://github.com/asciigrid/asciigrid/blob/main/docs/XARRAY.md"
    open_dataset_parameters = (
        "filename_or_obj",
        "drop_variables",
        "mask_and_scale",
        "decode_coords",
        "dtype",
    )

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        name = _name_of(filename_or_obj)
        if name is None:
            return False
        if name.lower().endswith(_SUFFIXES):
            return True
        if name.startswith("/vsizip/") or ".zip" + os.sep in name or ".zip/" in name:
            return name.lower().endswith((".asc", ".txt", ".grd"))
        return _starts_like_a_grid(name)

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike[str],
        *,
        drop_variables: str | Iterable[str] | None = None,
        mask_and_scale: bool = True,
        decode_coords: bool = True,
        dtype: Any = None,
    ) -> Dataset:
        """The grid as a Dataset with one lazy variable, ``band_data`` (``y``, ``x``).

        ``dtype`` forces int32, float32 or float64 as :func:`asciigrid.read` does; with
        ``mask_and_scale=True`` (the default) nodata cells become NaN, as xarray does for
        every ``_FillValue``.
        """
        source = _name_of(filename_or_obj)
        if source is None:
            raise TypeError(
                "engine='asciigrid' opens paths (str or os.PathLike); read bytes or file "
                "objects with asciigrid.read"
            )
        variables, attrs, encoding = _open_variables(source, dtype, mask_and_scale)
        decoded, attrs, coord_names = conventions.decode_cf_variables(
            variables,
            attrs,
            mask_and_scale=mask_and_scale,
            decode_times=False,
            decode_coords=decode_coords,
            drop_variables=drop_variables,
        )
        ds = Dataset(decoded, attrs=attrs)
        ds = ds.set_coords(coord_names.intersection(decoded) | {"spatial_ref"} & set(decoded))
        ds.encoding = encoding
        return ds


def _starts_like_a_grid(path: str) -> bool:
    """Whether the file's first word is a header keyword (plain or gzip; no other I/O)."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
        if head.startswith(b"\x1f\x8b"):
            with gzip.open(path, "rb") as f:
                head = f.read(512)
    except (OSError, EOFError):
        return False
    first = head.lstrip().split(None, 1)[0].lower() if head.strip() else b""
    return first.startswith(_HEADER_WORDS)
