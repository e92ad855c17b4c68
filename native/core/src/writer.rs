//! Writing an ESRI ASCII grid, atomically: the text goes to a temporary file in the target's
//! folder, which is renamed over the target only once it is complete and flushed to disk.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::control::Control;
use crate::error::Error;
use crate::value::{f64_to_f32_clamped, parse_f64};

/// Cells to write: a borrowed row-major view of one of the three data types.
#[derive(Debug, Clone, Copy)]
pub enum Cells<'a> {
    /// Int32 cells.
    Int32(&'a [i32]),
    /// Float32 cells.
    Float32(&'a [f32]),
    /// Float64 cells.
    Float64(&'a [f64]),
}

impl Cells<'_> {
    fn len(&self) -> usize {
        match self {
            Cells::Int32(v) => v.len(),
            Cells::Float32(v) => v.len(),
            Cells::Float64(v) => v.len(),
        }
    }
}

/// Where the grid sits and how values are written.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Number of columns.
    pub ncols: usize,
    /// x of the west edge (the geotransform's first term).
    pub west: f64,
    /// y of the north edge (the geotransform's fourth term).
    pub north: f64,
    /// Cell width.
    pub dx: f64,
    /// Cell height, positive.
    pub dy: f64,
    /// The nodata value to declare, if any.
    pub nodata: Option<f64>,
    /// Fixed number of decimals for float cells; `None` writes the shortest text that reads
    /// back to the same value.
    pub precision: Option<usize>,
}

/// A float in the shortest form that GDAL's reading (strtod, then a cast for Float32) turns
/// back into exactly the same value. Always has a `.` or exponent, so the grid stays a float
/// grid when read back.
fn push_f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("nan");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
    } else {
        let _ = write!(out, "{v:?}");
    }
}

fn push_f32(out: &mut String, v: f32) {
    if !v.is_finite() {
        push_f64(out, f64::from(v));
        return;
    }
    let start = out.len();
    let _ = write!(out, "{v:?}");
    // Shortest-for-f32 text read as f64 and rounded again can, in rare cases, land on the
    // other side of a rounding midpoint; nine significant digits never do.
    let back = parse_f64(&out.as_bytes()[start..]).map(f64_to_f32_clamped);
    if back != Some(v) {
        out.truncate(start);
        let _ = write!(out, "{v:.8e}");
    }
}

fn push_fixed(out: &mut String, v: f64, decimals: usize) {
    if v.is_finite() {
        let _ = write!(out, "{v:.decimals$}");
    } else {
        push_f64(out, v);
    }
}

fn format_rows(
    cells: Cells<'_>,
    ncols: usize,
    rows: std::ops::Range<usize>,
    precision: Option<usize>,
) -> String {
    let mut s = String::with_capacity((rows.end - rows.start) * ncols * 8);
    for r in rows {
        let span = r * ncols..(r + 1) * ncols;
        for (i, idx) in span.enumerate() {
            if i > 0 {
                s.push(' ');
            }
            match (cells, precision) {
                (Cells::Int32(v), _) => {
                    let _ = write!(s, "{}", v[idx]);
                }
                (Cells::Float32(v), Some(p)) => push_fixed(&mut s, f64::from(v[idx]), p),
                (Cells::Float64(v), Some(p)) => push_fixed(&mut s, v[idx], p),
                (Cells::Float32(v), None) => push_f32(&mut s, v[idx]),
                (Cells::Float64(v), None) => push_f64(&mut s, v[idx]),
            }
        }
        s.push('\n');
    }
    s
}

/// The `yllcorner` to write so that a reader computing `yll + nrows * dy` (as GDAL does)
/// gets `north` back exactly, when some double allows it.
fn south_for(north: f64, nrows: usize, dy: f64) -> f64 {
    let span = nrows as f64 * dy;
    let mut y = north - span;
    for _ in 0..8 {
        let got = y + span;
        if got == north {
            break;
        }
        y = if got < north {
            y.next_up()
        } else {
            y.next_down()
        };
    }
    y
}

fn header_text(cells: Cells<'_>, nrows: usize, opts: &WriteOptions) -> String {
    let mut h = String::new();
    let _ = writeln!(h, "ncols        {}", opts.ncols);
    let _ = writeln!(h, "nrows        {nrows}");
    let _ = writeln!(h, "xllcorner    {:?}", opts.west);
    let _ = writeln!(
        h,
        "yllcorner    {:?}",
        south_for(opts.north, nrows, opts.dy)
    );
    if opts.dx == opts.dy {
        let _ = writeln!(h, "cellsize     {:?}", opts.dx);
    } else {
        let _ = writeln!(h, "dx           {:?}", opts.dx);
        let _ = writeln!(h, "dy           {:?}", opts.dy);
    }
    if let Some(nd) = opts.nodata {
        h.push_str("NODATA_value ");
        // An integral nodata written without a point leaves the data type to the body (GDAL
        // makes any '.' in the nodata a Float32 grid, and "0.0" even a Float64 one). That is
        // right for an int grid, and for a float grid whose body shows its float markers.
        let integral = nd.fract() == 0.0 && nd >= f64::from(i32::MIN) && nd <= f64::from(i32::MAX);
        let body_marks_floats = match cells {
            Cells::Int32(_) => true,
            Cells::Float32(v) => opts.precision != Some(0) && v.iter().any(|x| x.is_finite()),
            Cells::Float64(v) => opts.precision != Some(0) && v.iter().any(|x| x.is_finite()),
        };
        if integral && body_marks_floats {
            let _ = write!(h, "{}", nd as i64);
        } else {
            push_f64(&mut h, nd);
        }
        h.push('\n');
    }
    h
}

/// The most decimals `precision` may ask for (more than any float holds).
pub const MAX_PRECISION: usize = 100;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary path beside `target`, unique within this process and across processes.
pub fn temp_path_for(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Write `cells` as an ESRI ASCII grid at `path`, atomically. On any error or cancel the
/// target is untouched and no temporary file is left behind.
pub fn write_grid(
    path: &Path,
    cells: Cells<'_>,
    opts: &WriteOptions,
    control: &Control,
) -> Result<(), Error> {
    let name = path.display().to_string();
    let invalid = |m: String| Error::Invalid(format!("{name}: {m}"));
    if opts.ncols == 0 || cells.len() % opts.ncols != 0 || cells.is_empty_grid() {
        return Err(invalid(format!(
            "{} cells do not make whole rows of {} columns",
            cells.len(),
            opts.ncols
        )));
    }
    if let Some(p) = opts.precision.filter(|&p| p > MAX_PRECISION) {
        return Err(invalid(format!(
            "precision must be at most {MAX_PRECISION} decimals, got {p}"
        )));
    }
    for (what, v) in [("dx", opts.dx), ("dy", opts.dy)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(invalid(format!(
                "{what} must be positive and finite, got {v}"
            )));
        }
    }
    if !(opts.west.is_finite() && opts.north.is_finite()) {
        return Err(invalid("the origin must be finite".to_owned()));
    }
    let no_finite = match cells {
        Cells::Int32(_) => false,
        Cells::Float32(v) => !v.iter().any(|x| x.is_finite()),
        Cells::Float64(v) => !v.iter().any(|x| x.is_finite()),
    };
    if no_finite && opts.nodata.is_none() {
        // Nothing in the text would mark it as a float grid: readers would take it for an
        // Int32 grid of 'nan' tokens. A nodata value (written with a '.') marks it.
        return Err(invalid(
            "a float grid without a single finite value needs a nodata value, or readers \
             take it for an integer grid"
                .to_owned(),
        ));
    }
    let nrows = cells.len() / opts.ncols;
    control.add_total(cells.len() as u64);
    let temp = temp_path_for(path);
    let result = write_to(&temp, cells, nrows, opts, control).and_then(|()| {
        fs::rename(&temp, path).map_err(|e| Error::Io {
            path: name.clone(),
            source: e,
        })
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

impl Cells<'_> {
    fn is_empty_grid(&self) -> bool {
        self.len() == 0
    }
}

fn write_to(
    temp: &Path,
    cells: Cells<'_>,
    nrows: usize,
    opts: &WriteOptions,
    control: &Control,
) -> Result<(), Error> {
    let io_err = |e: io::Error| Error::Io {
        path: temp.display().to_string(),
        source: e,
    };
    let file = File::create(temp).map_err(io_err)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(header_text(cells, nrows, opts).as_bytes())
        .map_err(io_err)?;
    // Format blocks of rows in parallel, a bounded batch at a time, and write them in order.
    let rows_per_block = (65_536 / opts.ncols).max(1);
    let blocks: Vec<std::ops::Range<usize>> = (0..nrows)
        .step_by(rows_per_block)
        .map(|r| r..(r + rows_per_block).min(nrows))
        .collect();
    let batch = rayon::current_num_threads().max(1) * 4;
    for group in blocks.chunks(batch) {
        if control.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let texts: Vec<String> = group
            .par_iter()
            .map(|rows| format_rows(cells, opts.ncols, rows.clone(), opts.precision))
            .collect();
        for (text, rows) in texts.iter().zip(group) {
            // GDAL (before 3.9) takes a first body line starting with a letter (`nan`, `inf`)
            // for a header line; a leading space keeps it body for every reader.
            if rows.start == 0 && text.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
                out.write_all(b" ").map_err(io_err)?;
            }
            out.write_all(text.as_bytes()).map_err(io_err)?;
            control.advance(((rows.end - rows.start) * opts.ncols) as u64);
        }
    }
    let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn south_edge_round_trips() {
        for (north, n, dy) in [(650600.0, 12, 50.0), (0.3, 7, 0.1), (1e7 + 0.1, 3, 0.3)] {
            let y = south_for(north, n, dy);
            assert_eq!(y + n as f64 * dy, north);
        }
    }

    #[test]
    fn floats_keep_a_float_marker() {
        let mut s = String::new();
        push_f32(&mut s, 1.0);
        assert_eq!(s, "1.0");
        s.clear();
        push_f64(&mut s, 1e300);
        assert_eq!(s, "1e300");
    }
}
