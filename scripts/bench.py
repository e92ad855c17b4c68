#!/usr/bin/env python3
"""Benchmark asciigrid against GDAL and other readers (a report, not a test).

    .venv/bin/python scripts/bench.py [--runs 3] [--markdown docs/bench-run.md]
    .venv/bin/python scripts/bench.py --realworld-only --runs 7

Generates (once, cached in ``bench-data/``) a 4000 x 4000 float grid (~110 MB) and 2858
tiles of 100 x 100 with ``scripts/corpus.py``, then times every reader that is installed.
When ``../shared/realworld/grids`` exists (real grids from public projects, never copied into
this repository), asciigrid and GDAL also read each of them, in turns in one process.
Each measurement runs in a fresh subprocess (so its peak memory is its own, and no reader
warms caches for another); the page cache is warmed first, so this measures parsing, not
the disk. Readers that are not installed are skipped; a reader that fails is reported with
its error. The values of every reader are compared with GDAL's, cell by cell.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402

TEXT_PEERS = ("numpy.loadtxt", "pandas.read_csv", "polars.read_csv")
"""The general-purpose text readers the 'vs fastest text reader' column compares with."""


# --- readers (run inside the worker subprocess) ---------------------------------------------
# Each entry: (setup, read). ``setup()`` imports what the reader needs and returns a context
# object (raises ImportError when the reader is not installed); ``read(ctx, path, ncols)``
# is the timed part and returns a numpy array. Tile readers get a list of paths.


def _setup_asciigrid() -> Any:
    import asciigrid

    try:  # asciigrid turns the .prj into WKT through osr; import it outside the timing
        from osgeo import osr  # noqa: F401
    except ImportError:
        pass
    return asciigrid


def _setup_gdal() -> Any:
    from osgeo import gdal

    gdal.UseExceptions()
    return gdal


def _read_gdal(gdal: Any, path: str, ncols: int) -> np.ndarray:
    ds = gdal.Open(path)
    data = ds.ReadAsArray()
    ds = None
    return data


def _setup_rasterio() -> Any:
    import rasterio

    return rasterio


def _read_rasterio(rasterio: Any, path: str, ncols: int) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read(1)


def _setup_pandas() -> Any:
    import pandas

    return pandas


def _read_pandas(pd: Any, path: str, ncols: int) -> np.ndarray:
    frame = pd.read_csv(path, sep=r"\s+", header=None, skiprows=6, engine="c", dtype=np.float32)
    return frame.to_numpy()


def _setup_polars() -> Any:
    import polars

    return polars


def _read_polars(pl: Any, path: str, ncols: int) -> np.ndarray:
    # polars needs a one-character separator: the generated grids use single spaces.
    schema = {f"column_{i}": pl.Float32 for i in range(1, ncols + 1)}
    frame = pl.read_csv(path, separator=" ", has_header=False, skip_rows=6, schema=schema)
    return frame.to_numpy()


def _setup_agp() -> Any:
    import ascii_grid_parser

    return ascii_grid_parser


def _read_agp(agp: Any, path: str, ncols: int) -> np.ndarray:
    grid = agp.parse_ascii_grid(Path(path).read_text())
    data = np.asarray(grid.data, dtype=np.float32)
    if data.size == 0:
        raise ValueError(
            f"parse_ascii_grid returned no data (header parsed: ncols={grid.header.ncols}, "
            f"nrows={grid.header.nrows}, no_data={grid.header.no_data})"
        )
    return data


def _gdal_tile_loop(gdal: Any, paths: list[str], ncols: int) -> None:
    for path in paths:
        ds = gdal.Open(path)
        ds.ReadAsArray()
        ds = None


def _gdal_paste_mosaic(gdal: Any, paths: list[str], ncols: int) -> np.ndarray:
    """What asciigrid.mosaic does, with GDAL: read every tile, paste it into one array.

    (``gdal.BuildVRT`` is no alternative here: GDAL 3.6 skips every tile whose data type
    differs from the first one's, i.e. all float tiles when the first tile is an integer grid.)
    """
    tiles = []
    for path in paths:
        ds = gdal.Open(path)
        tiles.append((ds.GetGeoTransform(), ds.ReadAsArray()))
        ds = None
    dx = tiles[0][0][1]
    dy = -tiles[0][0][5]
    west = min(gt[0] for gt, _ in tiles)
    north = max(gt[3] for gt, _ in tiles)
    east = max(gt[0] + a.shape[1] * dx for gt, a in tiles)
    south = min(gt[3] - a.shape[0] * dy for gt, a in tiles)
    kinds = {a.dtype for _, a in tiles}  # the widest tile type, as asciigrid picks it
    dtype = next(t for t in (np.float64, np.float32, np.int32) if np.dtype(t) in kinds)
    out = np.full((round((north - south) / dy), round((east - west) / dx)), corpus.NODATA, dtype)
    for gt, a in tiles:
        row, col = round((north - gt[3]) / dy), round((gt[0] - west) / dx)
        out[row : row + a.shape[0], col : col + a.shape[1]] = a
    return out


def _rasterio_tile_loop(rasterio: Any, paths: list[str], ncols: int) -> None:
    for path in paths:
        with rasterio.open(path) as ds:
            ds.read(1)


def _asciigrid_tile_loop(ag: Any, paths: list[str], ncols: int) -> None:
    for path in paths:
        ag.read(path)


READERS: dict[str, tuple[Callable[[], Any], Callable[[Any, Any, int], Any]]] = {
    "asciigrid.read": (_setup_asciigrid, lambda ag, p, n: ag.read(p).data),
    "asciigrid.stats (no array)": (_setup_asciigrid, lambda ag, p, n: ag.stats(p)),
    "GDAL ReadAsArray": (_setup_gdal, _read_gdal),
    "rasterio read": (_setup_rasterio, _read_rasterio),
    "numpy.loadtxt": (
        lambda: np,
        lambda np_, p, n: np_.loadtxt(p, skiprows=6, dtype=np_.float32),
    ),
    "pandas.read_csv": (_setup_pandas, _read_pandas),
    "polars.read_csv": (_setup_polars, _read_polars),
    "ascii-grid-parser-rs": (_setup_agp, _read_agp),
    # tiles
    "asciigrid.read loop": (_setup_asciigrid, _asciigrid_tile_loop),
    "asciigrid.mosaic": (_setup_asciigrid, lambda ag, ps, n: ag.mosaic(ps).data),
    "GDAL Open+ReadAsArray loop": (_setup_gdal, _gdal_tile_loop),
    "GDAL loop + paste into one array": (_setup_gdal, _gdal_paste_mosaic),
    "rasterio open+read loop": (_setup_rasterio, _rasterio_tile_loop),
}


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far (``VmHWM``).

    Not ``getrusage().ru_maxrss``: Linux carries the forking parent's high-water mark
    across ``exec``, so a child would report at least the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def worker(name: str, source: str, ncols: int, save: str | None) -> dict[str, Any]:
    """Run one reader once in this (fresh) process and describe what happened."""
    setup, read = READERS[name]
    try:
        ctx = setup()
    except ImportError as err:
        return {"skipped": f"not installed ({err})"}
    target: Any = source
    if source.startswith("@"):  # a list of tiles, one path per line
        target = Path(source[1:]).read_text().split("\n")
    baseline = _peak_rss_mb()
    cpu_start = time.process_time()
    start = time.perf_counter()
    try:
        result = read(ctx, target, ncols)
    except Exception as err:  # a failing peer is a result to report, not a crash
        return {"error": f"{type(err).__name__}: {err}".strip()[:300]}
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak = _peak_rss_mb()
    out: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": peak,
        "baseline_mb": baseline,
    }
    if isinstance(result, np.ndarray):
        out["dtype"] = str(result.dtype)
        out["shape"] = list(result.shape)
        out["array_mb"] = result.nbytes / 1e6
        if save:
            np.save(save, result)
    return out


# --- real-world grids ----------------------------------------------------------------------

REALWORLD = ROOT.parent / "shared" / "realworld" / "grids"
"""Real grids from public projects (see ``SOURCES.md`` beside them); read in place."""

FORMS = ("integer", "short decimal", "long mantissa", "exponent")
"""Value forms, from the engine's cheapest to read to its dearest."""


def value_form(path: Path) -> str:
    """How a grid's values are written: ``exponent`` (``1.5E+02``), ``long mantissa`` (a
    decimal too long for the engine's 8-byte short-token path, e.g. ``7.195774``), ``short
    decimal`` (``-12.75``) or ``integer``; the most frequent form among the body's tokens,
    the nodata token left out."""
    import re
    from collections import Counter

    text = path.read_bytes()
    lines = text.split(b"\n")
    # The header: leading lines that start with a letter (GRASS's `north:` too), except the
    # `nan`/`null` a body line may start with.
    skip = 0
    for line in lines:
        word = line.lstrip()[:4].lower()
        if not word[:1].isalpha() or word.startswith((b"nan", b"null")):
            break
        skip += 1
    nodata = b""
    for line in lines[:skip]:
        parts = line.split()
        if len(parts) == 2 and parts[0].lower() in (b"nodata_value", b"null:"):
            nodata = parts[1]
    counts: Counter[str] = Counter()
    for token in re.findall(rb"\S+", b"\n".join(lines[skip:])):
        if token == nodata:
            continue
        if re.fullmatch(rb"[-+]?\d+", token):
            counts["integer"] += 1
        elif b"e" in token.lower() and not token.lower().lstrip(b"+-").startswith(b"inf"):
            counts["exponent"] += 1
        elif len(token.lstrip(b"-")) <= 7:
            counts["short decimal"] += 1
        else:
            counts["long mantissa"] += 1
    return counts.most_common(1)[0][0] if counts else "integer"


def realworld_worker(listing: str, runs: int) -> dict[str, Any]:
    """Time GDAL and asciigrid on every file of ``listing``, in turns (GDAL, then asciigrid,
    then GDAL again...), best of ``runs`` each; then each reader's ``runs`` reads back to
    back (``<reader>_b2b``), as a loop over files reads them, with no other reader's work
    left in the caches and no idle cores to wake in between; compare the arrays once."""
    import asciigrid
    from osgeo import gdal

    gdal.UseExceptions()
    paths = [p for p in Path(listing).read_text().split("\n") if p]
    out: dict[str, Any] = {}
    for path in paths:
        warm([Path(path)])
        row: dict[str, Any] = {"gdal": float("inf"), "asciigrid": float("inf")}
        try:
            reference = _read_gdal(gdal, path, 0)
        except Exception as err:  # noqa: BLE001 - reported in the table
            row["gdal_error"] = f"{type(err).__name__}: {err}"[:120]
        try:
            ours = asciigrid.read(path).data
        except Exception as err:  # noqa: BLE001 - reported in the table
            row["refused"] = f"{type(err).__name__}: {err}"[:160]
        if "gdal_error" in row or "refused" in row:
            out[path] = row
            continue
        same = ours.shape == reference.shape and np.array_equal(
            ours.astype(np.float64), reference.astype(np.float64), equal_nan=True
        )
        row["equal"] = (
            ("yes" if ours.dtype == reference.dtype else f"values, not dtype ({ours.dtype})")
            if same
            else "NO"
        )
        readers = (
            ("gdal", lambda p: _read_gdal(gdal, p, 0)),
            ("asciigrid", lambda p: asciigrid.read(p).data),
        )
        in_turns: dict[str, list[float]] = {name: [] for name, _ in readers}
        for _ in range(runs):
            for name, read in readers:
                start = time.perf_counter()
                read(path)
                in_turns[name].append(time.perf_counter() - start)
        for name, times in in_turns.items():
            # The best shows what the code can do, the median what a reader typically gets
            # (a stall in one read of several shows only there).
            row[name] = min(times)
            row[f"{name}_median"] = statistics.median(times)
        for name, read in readers:
            best = float("inf")
            for _ in range(runs):
                start = time.perf_counter()
                read(path)
                best = min(best, time.perf_counter() - start)
            row[f"{name}_b2b"] = best
        out[path] = row
    return out


def realworld_table(folder: Path, runs: int, log: Callable[[str], None]) -> list[str]:
    """The real-world section of the report: one row per grid of ``folder``, then the
    ratios of the total times, over all grids and over those of 1 MB and more."""
    paths = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in (".asc", ".txt") and not p.name.startswith(".")
    )
    with tempfile.TemporaryDirectory(prefix="asciigrid-realworld-") as tmp:
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(str(p) for p in paths))
        log(f"real-world grids: {len(paths)} files in {folder}, best of {runs}, in turns")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--realworld-worker", str(listing)]
        cmd += ["--runs", str(runs)]
        env = {**os.environ, **BASE_ENV, "GDAL_PAM_ENABLED": "NO"}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return ["## Real-world grids", "", f"The run failed: {tail[:300]}", ""]
    results: dict[str, dict[str, Any]] = json.loads(lines[-1])
    rows = [
        "| file | MB | values | GDAL (ms) | asciigrid (ms) | vs GDAL | back to back: GDAL, "
        "asciigrid (ms) | vs GDAL | = GDAL |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    totals: dict[str, list[float]] = {
        "all": [0.0, 0.0],
        "1mb": [0.0, 0.0],
        "1mb_b2b": [0.0, 0.0],
        "1mb_median": [0.0, 0.0],
    }
    big_b2b: list[float] = []
    big_median: list[float] = []
    by_form: dict[str, list[float]] = {f: [0.0, 0.0] for f in FORMS}
    big_ratios: list[tuple[float, str]] = []
    refused: list[str] = []
    for path in paths:
        r = results.get(str(path), {})
        size = path.stat().st_size / 1e6
        form = value_form(path)
        name = path.name if len(path.name) <= 60 else path.name[:28] + "…" + path.name[-31:]
        if "gdal_error" in r or "refused" in r or "gdal" not in r:
            why = r.get("refused") or f"GDAL fails: {r.get('gdal_error', 'not run')}"
            if "refused" in r:
                refused.append(path.name)
            rows.append(f"| {name} | {size:.2f} | {form} | | | refused: {why} | | | |")
            continue
        g, a = r["gdal"], r["asciigrid"]
        for key in ("all", "1mb") if size >= 1.0 else ("all",):
            totals[key][0] += g
            totals[key][1] += a
        by_form[form][0] += g
        by_form[form][1] += a
        gb, ab = r["gdal_b2b"], r["asciigrid_b2b"]
        if size >= 1.0:
            big_ratios.append((g / a, path.name))
            big_b2b.append(gb / ab)
            totals["1mb_b2b"][0] += gb
            totals["1mb_b2b"][1] += ab
            gm, am = r["gdal_median"], r["asciigrid_median"]
            big_median.append(gm / am)
            totals["1mb_median"][0] += gm
            totals["1mb_median"][1] += am
        rows.append(
            f"| {name} | {size:.2f} | {form} | {g * 1e3:.2f} | {a * 1e3:.2f} | {g / a:.1f}x "
            f"| {gb * 1e3:.2f}, {ab * 1e3:.2f} | {gb / ab:.1f}x | {r['equal']} |"
        )

    def ratio(t: list[float]) -> str:
        return f"{t[0] / t[1]:.1f}x" if t[1] else "—"

    forms = ", ".join(f"{f} {ratio(by_form[f])}" for f in FORMS if by_form[f][1])
    slowest = min(big_ratios, default=None)
    summary = [
        f"- Total GDAL time / total asciigrid time: **{ratio(totals['all'])}** over the "
        f"{len(paths) - len(refused)} grids both read, **{ratio(totals['1mb'])}** over the "
        f"{len(big_ratios)} of 1 MB and more (by form: {forms}).",
    ]
    if slowest:
        summary.append(
            f"- Files of 1 MB and more at 10x GDAL or more: "
            f"{sum(r >= 10 for r, _ in big_ratios)} of {len(big_ratios)}; the lowest "
            f"{slowest[0]:.1f}x ({slowest[1]})."
        )
        summary.append(
            f"- The median of each reader's reads in turns instead of the best: "
            f"**{ratio(totals['1mb_median'])}** over those {len(big_median)}, "
            f"{sum(r >= 10 for r in big_median)} of them at 10x or more, the lowest "
            f"{min(big_median):.1f}x."
        )
        summary.append(
            f"- Each reader's reads back to back instead of in turns: "
            f"**{ratio(totals['1mb_b2b'])}** over those {len(big_b2b)}, "
            f"{sum(r >= 10 for r in big_b2b)} of them at 10x or more, the lowest "
            f"{min(big_b2b):.1f}x."
        )
    if refused:
        summary.append(f"- Refused by asciigrid: {len(refused)} (named in the table).")
    return [
        "## Real-world grids",
        "",
        f"{len(paths)} grids from public projects (`{folder.name}/`, sources in "
        "`SOURCES.md` beside it); each read by `gdal.Open(...).ReadAsArray()` and "
        f"`asciigrid.read(...)` ({os.cpu_count()} threads) in turns in one process, best of "
        f"{runs}, then by each reader {runs} times back to back; files in the page cache.",
        "",
        *rows,
        "",
        *summary,
        "",
    ]


# --- the driver -----------------------------------------------------------------------------


@dataclass
class Measure:
    name: str
    threads: str
    env: dict[str, str] = field(default_factory=dict)
    source: str = ""
    ncols: int = 0
    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    cost_mb: float = 0.0
    array_mb: float = 0.0
    dtype: str = ""
    problem: str = ""
    saved: str | None = None
    note: str = ""
    equal: str = "n/a"

    @property
    def best(self) -> float | None:
        return min(self.times) if self.times else None

    @property
    def best_cpu(self) -> float:
        """CPU seconds (all threads) of the fastest run: near ``threads x best`` when the
        work really ran in parallel."""
        return self.cpu_times[self.times.index(min(self.times))] if self.times else 0.0


BASE_ENV: dict[str, str] = {}
"""Extra environment of every worker (the engine snapshot's PYTHONPATH)."""


def snapshot_engine(tmp: Path) -> str:
    """Copy the installed asciigrid package (with its native module) and make every worker
    import that copy, so a rebuild during the run cannot mix two engines in one table.
    Returns a description of the engine measured."""
    import hashlib
    import importlib.util
    import shutil

    spec = importlib.util.find_spec("asciigrid")
    if spec is None or not spec.submodule_search_locations:
        return "not installed"
    src = Path(next(iter(spec.submodule_search_locations)))
    dst = tmp / "engine" / "asciigrid"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    BASE_ENV["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(dst.parent), os.environ.get("PYTHONPATH", "")) if p
    )
    natives = sorted(src.glob("_native*.so")) + sorted(src.glob("_native*.pyd"))
    if not natives:
        return f"{src} (no native module found)"
    native = natives[0]
    digest = hashlib.sha256(native.read_bytes()).hexdigest()[:12]
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(native.stat().st_mtime))
    return f"native module `{native.name}` built {built}, sha256 {digest}"


def run_once(m: Measure, save: str | None) -> None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", m.name, m.source]
    cmd += ["--ncols", str(m.ncols)]
    if save:
        cmd += ["--save", save]
    env = {**os.environ, **BASE_ENV, **m.env}
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        m.problem = "timed out after 900 s"
        return
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        m.problem = f"crashed (exit {proc.returncode}): {tail[:200]}"
        return
    result = json.loads(lines[-1])
    if "skipped" in result or "error" in result:
        m.problem = result.get("skipped") or f"failed: {result['error']}"
        return
    m.times.append(result["seconds"])
    m.cpu_times.append(result["cpu_seconds"])
    if len(m.times) == 1 or result["peak_mb"] < m.peak_mb:
        m.peak_mb = result["peak_mb"]
        m.cost_mb = result["peak_mb"] - result["baseline_mb"]
    m.array_mb = result.get("array_mb", 0.0)
    m.dtype = result.get("dtype", "")
    if save and Path(save).exists():
        m.saved = save


def measure_all(measures: list[Measure], runs: int, tmp: Path, log: Callable[[str], None]) -> None:
    """Interleave the readers round by round, so slow drifts of a shared machine hit all."""
    for round_ in range(runs):
        for i, m in enumerate(measures):
            if m.problem:
                continue
            tmp.mkdir(parents=True, exist_ok=True)
            save = str(tmp / f"{i}.npy") if round_ == 0 else None
            run_once(m, save)
            shown = f"{m.times[-1]:.3f} s" if m.times and not m.problem else m.problem
            log(f"  run {round_ + 1}/{runs} {m.name} [{m.threads} thr]: {shown}")


def compare_with(reference: np.ndarray | None, m: Measure) -> str:
    if m.saved is None or reference is None:
        return "n/a"
    data = np.load(m.saved)
    if data.shape != reference.shape:
        return f"no: shape {data.shape}"
    if data.dtype != reference.dtype:
        same = np.array_equal(data.astype(np.float64), reference.astype(np.float64))
        return f"values {'equal' if same else 'differ'}, dtype {data.dtype}"
    diff = int(np.count_nonzero(data != reference))
    return "yes" if diff == 0 else f"no: {diff} cells differ"


def _fmt(v: float | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def table(
    measures: list[Measure],
    size_mb: float,
    gdal: Measure,
    text_best: float | None,
    runs: int,
) -> list[str]:
    rows = [
        f"| Reader | Threads | Best of {runs} (s) | CPU (s) | MB/s | vs GDAL "
        "| vs best of numpy/pandas/polars | Peak RSS (MB) | Read cost (MB) | Values = GDAL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in measures:
        label = m.name + (f" ({m.note})" if m.note else "")
        if m.best is None:
            rows.append(f"| {label} | {m.threads} | {m.problem} |  |  |  |  |  |  |  |")
            continue
        vs_gdal = gdal.best / m.best if gdal.best else None
        vs_text = text_best / m.best if text_best else None
        rows.append(
            f"| {label} | {m.threads} | {m.best:.3f} | {m.best_cpu:.2f} | {size_mb / m.best:.0f} "
            f"| {_fmt(vs_gdal, '.2f')}x | {_fmt(vs_text, '.2f')}x | {m.peak_mb:.0f} "
            f"| {m.cost_mb:.0f} | {m.equal} |"
        )
    return rows


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_notes(engine: str) -> list[str]:
    cpu = cpu_name()
    versions = []
    for module in ("asciigrid", "numpy", "pandas", "polars", "rasterio", "osgeo.gdal"):
        try:
            mod = __import__(module, fromlist=["_"])
            versions.append(f"{module} {getattr(mod, '__version__', '?')}")
        except Exception:  # noqa: BLE001 - a missing module is just not listed
            continue
    try:
        from importlib.metadata import version

        versions.append(f"ascii-grid-parser-rs {version('ascii-grid-parser-rs')}")
    except Exception:  # noqa: BLE001
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        commit = ""
    return [
        f"- asciigrid: repository at `{commit or 'unknown'}`, {engine}",
        f"- Machine: {cpu}, {os.cpu_count()} logical CPUs, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
        f"{platform.platform()}",
        f"- Python {platform.python_version()}; " + ", ".join(versions),
    ]


def ensure_data(data_dir: Path, rows: int, cols: int, tiles: int, size: int, log: Any) -> tuple:
    data_dir.mkdir(parents=True, exist_ok=True)
    big = data_dir / f"big_{rows}x{cols}.asc"
    if not big.exists():
        log(f"generating {big} ...")
        corpus.write_big_grid(big, rows, cols, seed=0)
    tile_dir = data_dir / f"tiles_{tiles}x{size}"
    done = tile_dir / ".complete"
    if not done.exists():
        log(f"generating {tiles} tiles in {tile_dir} ...")
        paths = corpus.write_tiles(tile_dir, tiles, size, seed=0)
        done.write_text("\n".join(str(p) for p in paths))
    tile_paths = [line for line in done.read_text().split("\n") if line]
    return big, tile_dir, tile_paths


def without_nodata_line(big: Path) -> Path:
    """A copy of ``big`` without its NODATA_value line (ascii-grid-parser-rs rejects it)."""
    target = big.with_name(big.stem + "_no_nodata_line.asc")
    if not target.exists():
        tmp = target.with_name(f".{target.name}.tmp")
        with open(big, "rb") as src, open(tmp, "wb") as dst:
            for _ in range(6):
                line = src.readline()
                if not line.lower().startswith(b"nodata_value"):
                    dst.write(line)
            while chunk := src.read(1 << 24):
                dst.write(chunk)
        os.replace(tmp, target)
    return target


def parallel_capacity(threads: int) -> float:
    """How many cores this process really gets: the speed-up of ``threads`` threads hashing
    (GIL released) over one. Near ``threads`` on an idle machine; near 1 when other jobs
    hold the other cores, and then no multi-threaded figure below means much."""
    import hashlib
    import threading

    block = b"x" * (1 << 20)

    def work(n: int) -> None:
        for _ in range(n):
            hashlib.sha256(block).digest()

    def wall(k: int) -> float:
        best = float("inf")
        for _ in range(3):
            pool = [threading.Thread(target=work, args=(200,)) for _ in range(k)]
            start = time.perf_counter()
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            best = min(best, time.perf_counter() - start)
        return best

    return threads * wall(1) / wall(threads)


def warm(paths: list[Path]) -> None:
    """Read the files once so every reader finds them in the page cache."""
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(1 << 24):
                pass


def verify_asciigrid(big: Path, tile_list: str) -> dict[str, Any]:
    """Compare asciigrid with GDAL directly (run in its own subprocess)."""
    import asciigrid
    from osgeo import gdal

    gdal.UseExceptions()
    out: dict[str, Any] = {}
    grid = asciigrid.read(str(big))
    ds = gdal.Open(str(big))
    ref = ds.ReadAsArray()
    band = ds.GetRasterBand(1)
    out["big_array_equal"] = bool(grid.data.dtype == ref.dtype and np.array_equal(grid.data, ref))
    out["big_dtype"] = f"{grid.data.dtype} vs GDAL {ref.dtype}"
    out["big_geotransform_equal"] = tuple(grid.geotransform) == tuple(ds.GetGeoTransform())
    out["big_nodata_equal"] = grid.nodata == band.GetNoDataValue()
    if not tile_list:
        return out
    paths = Path(tile_list).read_text().split("\n")
    mosaic = asciigrid.mosaic(paths)
    ref_m = _gdal_paste_mosaic(gdal, paths, 0)
    out["mosaic_array_equal"] = bool(
        mosaic.data.dtype == ref_m.dtype and np.array_equal(mosaic.data, ref_m)
    )
    out["mosaic_dtype"] = (
        f"{mosaic.data.dtype} {mosaic.data.shape} vs GDAL {ref_m.dtype} {ref_m.shape}"
    )
    out["mosaic_geotransform"] = tuple(mosaic.geotransform)
    return out


def _synthetic(args: argparse.Namespace, tmp: Path, log: Callable[[str], None]) -> list[str]:
    """The big grid and the tiles (generated by ``corpus.py``), and the targets."""
    cpus = str(os.cpu_count() or 1)
    big, tile_dir, tile_paths = ensure_data(
        args.data, args.rows, args.cols, args.tiles, args.tile_size, log
    )
    size_mb = big.stat().st_size / 1e6
    ncols = args.cols
    one = {"RAYON_NUM_THREADS": "1", "POLARS_MAX_THREADS": "1"}
    big_measures = [
        Measure("asciigrid.read", cpus, {}, str(big), ncols),
        Measure("asciigrid.read", "1", one, str(big), ncols),
        Measure("asciigrid.stats (no array)", cpus, {}, str(big), ncols),
        Measure("GDAL ReadAsArray", "1", {}, str(big), ncols),
        Measure("rasterio read", "1", {}, str(big), ncols),
        Measure("numpy.loadtxt", "1", {}, str(big), ncols),
        Measure("pandas.read_csv", "1", {}, str(big), ncols),
        Measure("polars.read_csv", cpus, {}, str(big), ncols),
        Measure("ascii-grid-parser-rs", "1", {}, str(big), ncols),
    ]
    tile_measures: list[Measure] = []
    report: list[str] = []
    warm([big])
    log(f"big grid: {big} ({size_mb:.1f} MB), {args.runs} runs per reader")
    measure_all(big_measures, args.runs, tmp / "big", log)
    agp = big_measures[-1]
    if agp.problem.startswith("failed"):
        # a second chance on the same values without the NODATA_value line it rejects
        copy = without_nodata_line(big)
        warm([copy])
        extra = Measure("ascii-grid-parser-rs", "1", {}, str(copy), ncols)
        extra.note = "on a copy without the NODATA_value line"
        measure_all([extra], args.runs, tmp / "agp", log)
        big_measures.append(extra)

    gdal_m = next(m for m in big_measures if m.name == "GDAL ReadAsArray")
    reference = np.load(gdal_m.saved) if gdal_m.saved else None
    for m in big_measures:
        m.equal = compare_with(reference, m)
    text_times = [m.best for m in big_measures if m.name in TEXT_PEERS and m.best]
    text_best = min(text_times) if text_times else None
    shown = big.relative_to(ROOT) if big.is_relative_to(ROOT) else big
    report += [
        "## Big grid",
        "",
        f"`{shown}`: {args.rows} x {args.cols} float cells (2 decimals, ~0.6% nodata), "
        f"{size_mb:.1f} MB of text, {args.rows * args.cols * 4 / 1e6:.0f} MB as float32.",
        "",
        *table(big_measures, size_mb, gdal_m, text_best, args.runs),
        "",
    ]

    listing = tmp / "tiles.txt"
    listing.write_text("\n".join(tile_paths))
    if not args.skip_tiles:
        tiles_mb = sum(Path(p).stat().st_size for p in tile_paths) / 1e6
        src = "@" + str(listing)
        tile_measures = [
            Measure("asciigrid.read loop", cpus, {}, src),
            Measure("asciigrid.read loop", "1", one, src),
            Measure("asciigrid.mosaic", cpus, {}, src),
            Measure("asciigrid.mosaic", "1", one, src),
            Measure("GDAL Open+ReadAsArray loop", "1", {}, src),
            Measure("GDAL loop + paste into one array", "1", {}, src),
            Measure("rasterio open+read loop", "1", {}, src),
        ]
        sidecars = [Path(p).with_suffix(".prj") for p in tile_paths]
        warm([Path(p) for p in tile_paths] + sidecars)
        log(f"tiles: {len(tile_paths)} files in {tile_dir} ({tiles_mb:.1f} MB)")
        measure_all(tile_measures, args.runs, tmp / "tiles", log)
        gdal_loop = next(m for m in tile_measures if m.name.startswith("GDAL Open"))
        report += [
            "## Many tiles",
            "",
            f"{len(tile_paths)} tiles of {args.tile_size} x {args.tile_size} "
            f"(a third integer, the rest 2-decimal floats), {tiles_mb:.1f} MB in total, "
            "each with a `.prj`.",
            "",
            *_tile_table(tile_measures, tiles_mb, len(tile_paths), gdal_loop, args.runs),
            "",
        ]

    log("checking asciigrid against GDAL ...")
    verify = _run_verify(big, None if args.skip_tiles else listing)

    report += _targets(big_measures, tile_measures, size_mb, text_best, verify)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--cols", type=int, default=4000)
    parser.add_argument("--tiles", type=int, default=2858)
    parser.add_argument("--tile-size", type=int, default=100)
    parser.add_argument("--skip-tiles", action="store_true")
    parser.add_argument(
        "--realworld",
        type=Path,
        default=REALWORLD,
        help="folder of real-world grids (default ../shared/realworld/grids; skipped if absent)",
    )
    parser.add_argument("--realworld-only", action="store_true", help="only the real-world table")
    parser.add_argument("--realworld-worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--ncols", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    parser.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("source", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("tile_list", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, args.source, args.ncols, args.save)))
        return 0
    if args.realworld_worker:
        print(json.dumps(realworld_worker(args.realworld_worker, args.runs)))
        return 0
    if args.verify:
        try:
            print(json.dumps(verify_asciigrid(Path(args.source), args.tile_list)))
        except Exception as err:  # noqa: BLE001 - reported by the parent
            print(json.dumps({"error": f"{type(err).__name__}: {err}"}))
        return 0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    cpus = str(os.cpu_count() or 1)
    load_start = os.getloadavg()
    capacity_start = parallel_capacity(int(cpus))
    started = time.strftime("%Y-%m-%d %H:%M")
    report: list[str] = []
    with tempfile.TemporaryDirectory(prefix="asciigrid-bench-") as tmp_name:
        tmp = Path(tmp_name)
        engine = snapshot_engine(tmp)
        log(f"asciigrid engine: {engine}")
        if not args.realworld_only:
            report += _synthetic(args, tmp, log)
        if args.realworld.is_dir():
            report += ["", *realworld_table(args.realworld, args.runs, log)]
        else:
            log(f"real-world grids: {args.realworld} not found, skipped")
    load_end = os.getloadavg()
    capacity_end = parallel_capacity(int(cpus))
    report += ["", "## Setup", "", *machine_notes(engine)]
    report += [
        f"- Run {started}; load average (1/5/15 min) at start "
        f"{' / '.join(f'{v:.1f}' for v in load_start)}, at end "
        f"{' / '.join(f'{v:.1f}' for v in load_end)} (other jobs share this machine).",
        f"- Cores this run really got (speed-up of {cpus} GIL-free hashing threads over one): "
        f"{capacity_start:.2f} at start, {capacity_end:.2f} at end.",
    ]
    report += [
        f"- Best of {args.runs} runs; every run in a fresh Python process, files in the page "
        "cache (warm), imports not timed. `Read cost` is peak RSS minus RSS after imports.",
    ]
    text = "\n".join(report) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


def _tile_table(
    measures: list[Measure], tiles_mb: float, count: int, gdal_loop: Measure, runs: int
) -> list[str]:
    rows = [
        f"| Reader | Threads | Best of {runs} (s) | CPU (s) | MB/s | tiles/s | vs GDAL loop "
        "| Peak RSS (MB) | Read cost (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measures:
        if m.best is None:
            rows.append(f"| {m.name} | {m.threads} | {m.problem} |  |  |  |  |  |  |")
            continue
        vs = gdal_loop.best / m.best if gdal_loop.best else None
        rows.append(
            f"| {m.name} | {m.threads} | {m.best:.3f} | {m.best_cpu:.2f} | {tiles_mb / m.best:.0f} "
            f"| {count / m.best:.0f} | {_fmt(vs, '.2f')}x | {m.peak_mb:.0f} | {m.cost_mb:.0f} |"
        )
    return rows


def _run_verify(big: Path, listing: Path | None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--verify", str(big)]
    cmd += [str(listing) if listing else ""]
    proc = subprocess.run(cmd, env={**os.environ, **BASE_ENV}, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def _targets(
    big: list[Measure],
    tiles: list[Measure],
    size_mb: float,
    text_best: float | None,
    verify: dict[str, Any],
) -> list[str]:
    def get(ms: list[Measure], name: str, threads: str) -> Measure | None:
        return next((m for m in ms if m.name == name and m.threads == threads and m.best), None)

    cpus = str(os.cpu_count() or 1)
    ag = get(big, "asciigrid.read", cpus)
    ag1 = get(big, "asciigrid.read", "1")
    gd = get(big, "GDAL ReadAsArray", "1")
    rows = ["## Targets", "", "| Target | Measured | Met |", "|---|---|---|"]

    def add(target: str, value: float | None, goal: float, unit: str = "x", le: bool = False):
        if value is None:
            rows.append(f"| {target} | not measured | — |")
            return
        met = value <= goal if le else value >= goal
        rows.append(f"| {target} | {value:.2f}{unit} | {'yes' if met else 'NO'} |")

    add(
        "big grid >= 10x GDAL",
        gd.best / ag.best if ag and gd and gd.best and ag.best else None,
        10,
    )
    add(
        "big grid >= 4x fastest of numpy/pandas/polars",
        text_best / ag.best if ag and ag.best and text_best else None,
        4,
    )
    add(
        f"1 -> {cpus} threads >= 1.7x",
        ag1.best / ag.best if ag and ag1 and ag.best and ag1.best else None,
        1.7,
    )
    if ag:
        budget = size_mb + 1.2 * ag.array_mb
        add(
            f"read cost <= file + 1.2 x array = {budget:.0f} MB",
            ag.cost_mb,
            budget,
            unit=" MB",
            le=True,
        )
    gl = get(tiles, "GDAL Open+ReadAsArray loop", "1")
    for name in ("asciigrid.read loop", "asciigrid.mosaic"):
        m = get(tiles, name, cpus)
        add(
            f"tiles: {name} >= 10x GDAL loop",
            gl.best / m.best if gl and m and gl.best and m.best else None,
            10,
        )
    if "error" in verify:
        rows.append(f"| asciigrid values = GDAL | check failed: {verify['error']} | NO |")
    else:
        same = verify.get("big_array_equal")
        rows.append(
            f"| big grid: `np.array_equal(asciigrid, GDAL)` | {same} ({verify.get('big_dtype')}"
            f", geotransform equal {verify.get('big_geotransform_equal')}, nodata equal "
            f"{verify.get('big_nodata_equal')}) | {'yes' if same else 'NO'} |"
        )
        if "mosaic_array_equal" in verify:
            same = verify["mosaic_array_equal"]
            rows.append(
                f"| tiles: `asciigrid.mosaic` = GDAL tiles pasted by geotransform | {same} "
                f"({verify.get('mosaic_dtype')}) | {'yes' if same else 'NO'} |"
            )
    return rows


if __name__ == "__main__":
    sys.exit(main())
