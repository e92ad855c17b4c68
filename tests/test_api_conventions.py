"""The Python API on rasterio's conventions where users expect them (``bounds``, ``res``,
``transform``), statistics named for what they hold and merged by the engine, ``@overload``s
where the return type depends on an argument, and stubs that match the engine."""

from __future__ import annotations

import ast
import inspect
import math
import sys
import typing
from pathlib import Path

import asciigrid
import numpy as np
import pytest
from asciigrid import _native

STUB = Path(asciigrid.__file__).with_name("_native.pyi")

# A grid whose cells are not square, so that every number of the transform differs.
GRID = (
    "ncols 4\nnrows 3\nxllcorner 1000.5\nyllcorner 2000.25\ndx 2.5\ndy 0.5\n"
    "NODATA_value -9999\n1 2 3 4\n5 -9999 7 8\n9 10 11 12\n"
)


@pytest.fixture()
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "g.asc"
    path.write_text(GRID)
    return path


def gdal_geotransform_and_size(path: Path) -> tuple[tuple[float, ...], int, int]:
    from osgeo import gdal

    ds = gdal.Open(str(path))
    try:
        return tuple(ds.GetGeoTransform()), ds.RasterXSize, ds.RasterYSize
    finally:
        ds = None


def test_bounds_are_a_named_bounding_box_in_rasterio_order(grid_file: Path) -> None:
    gt, ncols, nrows = gdal_geotransform_and_size(grid_file)
    expected = (gt[0], gt[3] + gt[5] * nrows, gt[0] + gt[1] * ncols, gt[3])
    for bounds in (asciigrid.read_header(grid_file).bounds, asciigrid.read(grid_file).bounds):
        assert isinstance(bounds, asciigrid.BoundingBox)
        assert bounds == expected  # still the plain tuple it always was
        assert (bounds.left, bounds.bottom, bounds.right, bounds.top) == expected
        assert bounds == (1000.5, 2000.25, 1010.5, 2001.75)


def test_res_is_cell_width_and_height(grid_file: Path) -> None:
    gt, _, _ = gdal_geotransform_and_size(grid_file)
    assert asciigrid.read_header(grid_file).res == (gt[1], -gt[5]) == (2.5, 0.5)
    assert asciigrid.read(grid_file).res == (2.5, 0.5)


def test_transform_is_an_affine_equal_to_gdals(grid_file: Path) -> None:
    affine = pytest.importorskip("affine")
    gt, ncols, nrows = gdal_geotransform_and_size(grid_file)
    grid = asciigrid.read(grid_file)
    for transform in (grid.transform, grid.header.transform):
        assert isinstance(transform, affine.Affine)
        assert transform == affine.Affine.from_gdal(*gt)
        assert transform.to_gdal() == gt
        # Column/row of the corners to x/y, as rasterio's transform maps them.
        assert transform * (0, 0) == (grid.bounds.left, grid.bounds.top)
        assert transform * (ncols, nrows) == (grid.bounds.right, grid.bounds.bottom)


def test_transform_without_affine_is_a_tuple_in_affine_order(
    grid_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "affine", None)  # as if it were not installed
    header = asciigrid.read_header(grid_file)
    c, a, b, f, d, e = header.geotransform
    assert type(header.transform) is tuple
    assert header.transform == (a, b, c, d, e, f) == (2.5, 0.0, 1000.5, 0.0, -0.5, 2001.75)


def test_the_same_numbers_as_rasterio(grid_file: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    grid = asciigrid.read(grid_file)
    with rasterio.open(grid_file) as ds:
        assert tuple(grid.bounds) == tuple(ds.bounds)
        assert grid.bounds._fields == ds.bounds._fields
        assert grid.res == ds.res
        assert tuple(grid.transform) == tuple(ds.transform)


# --- statistics -------------------------------------------------------------------------


def write_grids(tmp_path: Path) -> tuple[list[Path], np.ndarray]:
    rng = np.random.default_rng(14)
    paths, values = [], []
    for i, (rows, cols) in enumerate([(30, 40), (7, 5), (50, 3)]):
        cells = np.round(rng.normal(100 * i, 10 + i, (rows, cols)), 2)
        cells[rng.random((rows, cols)) < 0.1] = -9999
        path = tmp_path / f"t{i}.asc"
        asciigrid.write(path, cells, geotransform=(0, 1, 0, rows, 0, -1), nodata=-9999)
        paths.append(path)
        values.append(cells[cells != -9999].astype(np.float32).astype(np.float64))
    return paths, np.concatenate(values)


def test_sum_of_squared_deviations_and_its_old_name(tmp_path: Path) -> None:
    paths, values = write_grids(tmp_path)
    s = asciigrid.stats(paths)
    expected = ((values - values.mean()) ** 2).sum()
    assert s.sum_of_squared_deviations == pytest.approx(expected, rel=1e-9)
    assert s.sum_of_squares == s.sum_of_squared_deviations  # the documented alias
    assert s.std == pytest.approx(math.sqrt(s.sum_of_squared_deviations / s.count), rel=1e-12)


def test_combine_merges_per_file_statistics_as_stats_does(tmp_path: Path) -> None:
    paths, values = write_grids(tmp_path)
    *per, together = asciigrid.stats(
        paths, per_source=True, histogram_bins=7, histogram_range=(-50, 250)
    )
    combined = asciigrid.Stats.combine(per)
    assert (combined.count, combined.nodata_count) == (together.count, together.nodata_count)
    assert (combined.min, combined.max) == (together.min, together.max)
    assert combined.histogram == together.histogram
    for name in ("sum", "mean", "std", "sum_of_squared_deviations"):
        assert getattr(combined, name) == pytest.approx(getattr(together, name), rel=1e-12)
    assert combined.mean == pytest.approx(values.mean(), rel=1e-12)
    assert combined.std == pytest.approx(values.std(), rel=1e-9)
    # Statistics made elsewhere (QGIS's, say) merge the same way.
    rebuilt = [
        asciigrid.Stats(
            count=p.count,
            nodata_count=p.nodata_count,
            min=p.min,
            max=p.max,
            sum=p.sum,
            mean=p.mean,
            std=None,
            sum_of_squared_deviations=p.sum_of_squared_deviations,
        )
        for p in per
    ]
    assert asciigrid.Stats.combine(rebuilt).std == pytest.approx(together.std, rel=1e-12)


def test_combine_of_nothing_and_of_empty_parts() -> None:
    empty = asciigrid.Stats(0, 5, None, None, 0.0, None, None, 0.0)
    for parts in ([], [empty, empty]):
        s = asciigrid.Stats.combine(parts)
        assert (s.count, s.min, s.max, s.mean, s.std) == (0, None, None, None, None)
    assert asciigrid.Stats.combine([empty, empty]).nodata_count == 10


def test_combine_refuses_what_cannot_be_merged(tmp_path: Path) -> None:
    paths, _ = write_grids(tmp_path)
    a = asciigrid.stats(paths[0], histogram_bins=4)
    b = asciigrid.stats(paths[1], histogram_bins=4)  # other edges: its own min and max
    with pytest.raises(ValueError, match="same bin edges"):
        asciigrid.Stats.combine([a, b])
    with pytest.raises(ValueError, match="same bin edges"):
        asciigrid.Stats.combine([a, asciigrid.stats(paths[1])])
    broken = asciigrid.Stats(3, 0, None, 2.0, 3.0, 1.0, 0.5, 1.0)  # valid cells, no min
    with pytest.raises(ValueError, match="min <= max and a mean"):
        asciigrid.Stats.combine([broken])
    negative = asciigrid.Stats(3, 0, 1.0, 2.0, 3.0, 1.0, 0.5, -1.0)
    with pytest.raises(ValueError, match="at least 0"):
        asciigrid.Stats.combine([negative])


# --- typing -----------------------------------------------------------------------------


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is 3.11+")
def test_stats_return_type_follows_per_source() -> None:
    overloads = typing.get_overloads(asciigrid.stats)
    returns = {
        inspect.signature(o).parameters["per_source"].annotation: inspect.signature(
            o
        ).return_annotation
        for o in overloads
    }
    assert returns == {
        "Literal[False]": "Stats",
        "Literal[True]": "list[Stats]",
        "bool": "Stats | list[Stats]",
    }


def _stub_functions() -> dict[str, list[ast.FunctionDef]]:
    """Every function of the stub (``Class.method`` for methods), each overload listed."""
    found: dict[str, list[ast.FunctionDef]] = {}
    tree = ast.parse(STUB.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    found.setdefault(f"{node.name}.{item.name}", []).append(item)
    return found


def _stub_signature(fn: ast.FunctionDef) -> list[tuple[str, str, object]]:
    """``(name, kind, default)`` of each parameter (``self`` left out)."""
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    defaults = [inspect.Parameter.empty] * (len(positional) - len(args.defaults)) + [
        ast.literal_eval(d) for d in args.defaults
    ]
    params = [(a.arg, "positional", d) for a, d in zip(positional, defaults) if a.arg != "self"]
    params += [
        (a.arg, "keyword", inspect.Parameter.empty if d is None else ast.literal_eval(d))
        for a, d in zip(args.kwonlyargs, args.kw_defaults)
    ]
    return params


def _runtime_signature(obj: object) -> list[tuple[str, str, object]]:
    kinds = {
        inspect.Parameter.POSITIONAL_ONLY: "positional",
        inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
        inspect.Parameter.KEYWORD_ONLY: "keyword",
    }
    return [
        (p.name, kinds[p.kind], p.default)
        for p in inspect.signature(obj).parameters.values()
        if p.name != "self"
    ]


def test_stubs_show_the_engines_real_signatures_and_defaults() -> None:
    """Each function and method of ``_native.pyi`` has the parameters, kinds and defaults
    the engine's ``#[pyo3(signature = ...)]`` gives it (an overloaded function: its last,
    general overload); and every engine function has a stub."""
    stubs = _stub_functions()
    checked = []
    for name, defs in stubs.items():
        if name.endswith("__init__"):
            owner = getattr(_native, name.split(".")[0])
            runtime = owner  # PyO3 puts #[new]'s signature on the class
        else:
            runtime = _native
            for part in name.split("."):
                runtime = getattr(runtime, part)
        if inspect.isdatadescriptor(runtime):  # a property
            continue
        assert _stub_signature(defs[-1]) == _runtime_signature(runtime), name
        checked.append(name)
    engine_functions = {
        n for n, v in vars(_native).items() if callable(v) and not isinstance(v, type)
    }
    assert engine_functions <= set(stubs), engine_functions - set(stubs)
    assert {"read", "stats", "write", "BandStatistics.add_summary", "MosaicPlan.__init__"} <= set(
        checked
    )
