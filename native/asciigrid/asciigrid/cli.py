"""The ``asciigrid`` command: ``info``, ``stats``, ``check``, ``convert`` and ``mosaic``.

Exit status: 0 when every file was handled; 1 when a file is invalid or could not be
handled (each reported on stderr as ``file:line:column: message`` where the place is known);
2 for a bad command line. ``--json`` prints one JSON document on stdout for scripts. Progress
bars (tqdm) go to stderr and only when it is a terminal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, Callable

import numpy as np

import asciigrid
from asciigrid import _api

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("asciigrid: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `asciigrid info ... | head`
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asciigrid",
        description="Read, check and convert ESRI ASCII grids (.asc) with asciigrid's engine.",
        epilog="Exit status: 0 all good, 1 a file failed (reported on stderr), 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"asciigrid {asciigrid.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = commands.add_parser("info", help="header, CRS, extent and data type (and why)")
    info.add_argument("files", nargs="+", metavar="FILE")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(run=_info)

    stats = commands.add_parser("stats", help="statistics of the valid cells (streaming)")
    stats.add_argument("files", nargs="+", metavar="FILE")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument(
        "--each", action="store_true", help="one row per file as well as the combined one"
    )
    stats.set_defaults(run=_stats)

    check = commands.add_parser(
        "check", help="validate files; print every error as file:line:column: message"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.add_argument(
        "--strict",
        action="store_true",
        help="refuse trailing content after a complete grid, which is otherwise read with "
        "a warning (as GDAL reads it)",
    )
    check.set_defaults(run=_check)

    for name, helptext, run in (
        ("convert", "one grid to a GeoTIFF (tiled, compressed, with overviews)", _convert),
        ("mosaic", "many tiles (files, folders, zips) to one GeoTIFF", _mosaic),
    ):
        cmd = commands.add_parser(name, help=helptext)
        if name == "convert":
            cmd.add_argument("source", metavar="FILE")
            cmd.add_argument("output", metavar="OUTPUT.tif")
        else:
            cmd.add_argument("sources", nargs="+", metavar="SOURCE")
            cmd.add_argument("-o", "--output", required=True, metavar="OUTPUT.tif")
            cmd.add_argument(
                "--pattern",
                default=_api.DEFAULT_PATTERN,
                help="tiles to take from folders and zips (default *.asc)",
            )
            cmd.add_argument(
                "--skip-errors", action="store_true", help="skip bad tiles instead of stopping"
            )
        cmd.add_argument("--cog", action="store_true", help="write a Cloud Optimized GeoTIFF")
        cmd.add_argument("--no-overviews", action="store_true", help="do not build overviews")
        cmd.add_argument("--dtype", choices=("int32", "float32", "float64"), help="force a type")
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(run=run)
    return parser


# --- helpers ---------------------------------------------------------------------------


def _emit(args: argparse.Namespace, document: Any, text: Callable[[], str]) -> None:
    if args.json:
        json.dump(document, sys.stdout, indent=2, default=_json_default)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text())


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype):
        return value.name
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _finite(value: float | None) -> float | None:
    # JSON has no NaN or infinity.
    return None if value is None or not math.isfinite(value) else value


def _error_record(source: str, err: Exception) -> dict[str, Any]:
    record: dict[str, Any] = {"file": source, "error": type(err).__name__, "message": str(err)}
    if isinstance(err, asciigrid.ParseError):
        record.update(line=err.line, column=err.column, message=err.message)
    return record


def _report(err: Exception, source: str) -> None:
    text = str(err)
    if isinstance(err, OSError) and err.filename is None:
        text = f"{source}: {text}"
    print(text, file=sys.stderr)


class _Bar:
    """One tqdm bar on stderr for a whole command, fed by the engine's ``(done, total)``
    callback and the GeoTIFF writer's ``fraction`` callback, each over its share of the bar.
    Silent when stderr is not a terminal or tqdm is not installed."""

    STEPS = 1000

    def __init__(self, description: str) -> None:
        self.bar: Any = None
        try:
            from tqdm import tqdm
        except ImportError:
            return
        if sys.stderr.isatty():
            self.bar = tqdm(total=self.STEPS, desc=description, leave=False, unit="‰")

    def _to(self, fraction: float) -> None:
        if self.bar is not None:
            target = int(min(max(fraction, 0.0), 1.0) * self.STEPS)
            if target > self.bar.n:
                self.bar.update(target - self.bar.n)

    def engine(self, start: float, end: float) -> _api.Progress | None:
        """A ``progress(done, total)`` callback moving the bar from ``start`` to ``end``."""
        moved = self.writer(start, end)
        if moved is None:
            return None
        return lambda done, total: moved(done / total if total else 0.0)

    def writer(self, start: float, end: float) -> Callable[[float], bool] | None:
        """A ``progress(fraction)`` callback (the GeoTIFF writer's) from ``start`` to ``end``."""
        if self.bar is None:
            return None

        def update(fraction: float) -> bool:
            self._to(start + (end - start) * fraction)
            return True

        return update

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _crs_name(wkt: str | None) -> str | None:
    if not wkt:
        return None
    try:
        from osgeo import osr
    except ImportError:
        return wkt.split('"')[1] if '"' in wkt else wkt[:40]
    srs = osr.SpatialReference()
    if srs.ImportFromWkt(wkt) != 0:
        return None
    code = srs.GetAuthorityCode(None)
    name = srs.GetName()
    return f"{srs.GetAuthorityName(None)}:{code} ({name})" if code else name


# --- commands ---------------------------------------------------------------------------


def _type_reason(header: asciigrid.Header, layout: asciigrid.MosaicLayout) -> str:
    decided = header.dtype
    dtype = layout.header.dtype
    if decided is not None:
        return f"the nodata value {header.nodata!r} makes it {dtype} (GDAL's rule)"
    if dtype is not None and dtype.kind == "f":
        return "the values have decimal points or exponents (GDAL's rule)"
    return "every value is a whole number (GDAL's rule)"


def _info(args: argparse.Namespace) -> int:
    records, failed = [], 0
    for source in args.files:
        try:
            header = asciigrid.read_header(source)
            layout = asciigrid.mosaic_layout([source])
        except (OSError, ValueError) as err:
            _report(err, source)
            records.append(_error_record(source, err))
            failed += 1
            continue
        west, south, east, north = header.bounds
        records.append(
            {
                "file": source,
                "ncols": header.ncols,
                "nrows": header.nrows,
                "cellsize": [header.dx, header.dy],
                "origin": header.origin,
                "extent": {"west": west, "south": south, "east": east, "north": north},
                "geotransform": list(header.geotransform),
                "nodata": _finite(header.nodata) if header.nodata is not None else None,
                "dtype": layout.header.dtype.name if layout.header.dtype is not None else None,
                "dtype_reason": _type_reason(header, layout),
                "crs": _crs_name(layout.crs_wkt),
                "crs_wkt": layout.crs_wkt,
            }
        )

    def text() -> str:
        lines = []
        for r in records:
            if "error" in r:
                continue
            e = r["extent"]
            lines += [
                f"{r['file']}",
                f"  size:      {r['ncols']} x {r['nrows']} cells of {r['cellsize'][0]:g} x "
                f"{r['cellsize'][1]:g}",
                f"  extent:    west {e['west']:g}, south {e['south']:g}, east {e['east']:g}, "
                f"north {e['north']:g}",
                f"  data type: {r['dtype']}: {r['dtype_reason']}",
                f"  nodata:    {r['nodata']}",
                f"  CRS:       {r['crs'] or 'none (no .prj)'}",
            ]
        return "\n".join(lines) + ("\n" if lines else "")

    _emit(args, records, text)
    return EXIT_FAILED if failed else EXIT_OK


def _stats_record(s: asciigrid.Stats, name: str | None) -> dict[str, Any]:
    return {
        "file": name,
        "count": s.count,
        "nodata_count": s.nodata_count,
        "min": _finite(s.min),
        "max": _finite(s.max),
        "mean": _finite(s.mean),
        "std": _finite(s.std),
        "sum": _finite(s.sum),
    }


def _stats(args: argparse.Namespace) -> int:
    try:
        with _Bar("stats") as bar:
            result = asciigrid.stats(args.files, per_source=True, progress=bar.engine(0, 1))
    except (OSError, ValueError) as err:
        _report(err, args.files[0] if len(args.files) == 1 else "asciigrid stats")
        _emit(args, {"error": _error_record(getattr(err, "path", ""), err)}, lambda: "")
        return EXIT_FAILED
    assert isinstance(result, list)
    per, combined = result[:-1], result[-1]
    records = [_stats_record(s, s.path) for s in per] if args.each else []
    records.append(_stats_record(combined, None))

    def text() -> str:
        head = (
            f"{'file':40} {'count':>10} {'nodata':>10} {'min':>12} {'max':>12} {'mean':>14} "
            f"{'std':>14}"
        )
        rows = [head]
        for r in records:
            label = r["file"] or ("all files" if len(args.files) > 1 else args.files[0])
            rows.append(
                f"{label[-40:]:40} {r['count']:>10} {r['nodata_count']:>10} "
                + " ".join(
                    f"{'-' if r[k] is None else format(r[k], '.6g'):>{w}}"
                    for k, w in (("min", 12), ("max", 12), ("mean", 14), ("std", 14))
                )
            )
        return "\n".join(rows) + "\n"

    _emit(args, records, text)
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    records = []
    for source in args.files:
        try:
            # Statistics parse every value like a read does, in bounded memory.
            asciigrid.stats(source, strict=args.strict)
        except (OSError, ValueError) as err:
            _report(err, source)
            records.append(_error_record(source, err))
        else:
            records.append({"file": source, "ok": True})
    bad = sum(1 for r in records if "error" in r)
    _emit(
        args,
        {"files": len(records), "invalid": bad, "results": records},
        lambda: f"{len(records) - bad} of {len(records)} files are valid grids\n",
    )
    return EXIT_FAILED if bad else EXIT_OK


def _convert(args: argparse.Namespace) -> int:
    from asciigrid import geotiff

    try:
        with _Bar("convert") as bar:
            # Counted first, then parsed strip by strip while the writer compresses.
            grid = asciigrid.open_strips(
                args.source, dtype=args.dtype, progress=bar.engine(0, 0.15)
            )
            stats = geotiff.write_geotiff(
                args.output,
                grid,
                overviews=not args.no_overviews,
                cog=args.cog,
                progress=bar.writer(0.15, 1),
            )
    except (OSError, ValueError) as err:
        _report(err, args.source)
        _emit(args, {"error": _error_record(args.source, err)}, lambda: "")
        return EXIT_FAILED
    document = {
        "output": args.output,
        "source": args.source,
        "valid_cells": None if stats is None else stats.count,
    }
    _emit(args, document, lambda: f"{args.output}: written\n")
    return EXIT_OK


def _mosaic(args: argparse.Namespace) -> int:
    from asciigrid import geotiff

    sources = _expand(args.sources, args.pattern)
    body_failures: list[tuple[str, Exception]] = []
    try:
        layout = asciigrid.mosaic_layout(
            sources, dtype=args.dtype, skip_errors=args.skip_errors, pattern=args.pattern
        )
        header = layout.header
        with _Bar("mosaic") as bar:
            # The writer is done with a strip once it takes the next: two arrays in turn.
            strips = asciigrid.iter_mosaic_strips(layout, skip_errors=args.skip_errors, buffers=2)

            def tracked() -> Iterator[tuple[int, np.ndarray]]:
                for row_start, strip, bad in strips:
                    body_failures.extend(bad)
                    yield row_start, strip

            geotiff.write_geotiff(
                args.output,
                tracked(),
                shape=(header.nrows, header.ncols),
                geotransform=header.geotransform,
                nodata=header.nodata,
                crs_wkt=layout.crs_wkt,
                overviews=not args.no_overviews,
                cog=args.cog,
                progress=bar.writer(0, 1),
            )
    except (OSError, ValueError) as err:
        _report(err, "asciigrid mosaic")
        _emit(args, {"error": _error_record("", err)}, lambda: "")
        return EXIT_FAILED
    failed = list(layout.skipped) + body_failures
    for name, err in failed:
        text = str(err)
        print(
            f"skipped {text}" if text.startswith(name) else f"skipped {name}: {text}",
            file=sys.stderr,
        )
    document = {
        "output": args.output,
        "tiles": len(layout.tiles) - len(body_failures),
        "skipped": [_error_record(name, err) for name, err in failed],
    }
    _emit(
        args,
        document,
        lambda: f"{args.output}: {document['tiles']} tiles, {len(failed)} skipped\n",
    )
    return EXIT_FAILED if failed else EXIT_OK


def _expand(sources: Sequence[str], pattern: str) -> list[str]:
    """Folders become the files in them (recursively) that match ``pattern``."""
    import fnmatch

    out: list[str] = []
    for source in sources:
        if os.path.isdir(source):
            for folder, dirs, files in os.walk(source):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out += [
                    os.path.join(folder, f)
                    for f in sorted(files)
                    if not f.startswith(".")
                    and (fnmatch.fnmatch(f.lower(), pattern.lower()) or f.lower().endswith(".zip"))
                ]
        else:
            out.append(source)
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
