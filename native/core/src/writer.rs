//! Writing an ESRI ASCII grid, atomically: the text goes to a temporary file in the target's
//! folder, which is renamed over the target only once it is complete and flushed to disk.
//!
//! The temporary file has an unpredictable name and is created exclusively (`O_EXCL`), so a
//! link planted in the folder is never followed; it takes the replaced file's mode (a new
//! file gets `0666 & ~umask`, as `open(path, "w")` would give it).

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempPath};

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

/// How many bytes of the target's name a temporary name keeps: with the random part it stays
/// far below the 255 bytes most file systems allow, whatever the target's name.
const TEMP_NAME_KEEP: usize = 100;

/// The hidden prefix `.name.` of the target's temporary files (the name cut to
/// [`TEMP_NAME_KEEP`] bytes), so a leftover of a killed writer shows what it belonged to.
fn temp_prefix(name: &OsStr) -> OsString {
    let mut prefix = OsString::from(".");
    match name.to_str() {
        Some(s) => {
            let mut end = s.len().min(TEMP_NAME_KEEP);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            prefix.push(&s[..end]);
        }
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::ffi::OsStrExt;
                let bytes = name.as_bytes();
                prefix.push(OsStr::from_bytes(&bytes[..bytes.len().min(TEMP_NAME_KEEP)]));
            }
            #[cfg(not(unix))]
            prefix.push(
                name.to_string_lossy()
                    .chars()
                    .take(TEMP_NAME_KEEP / 4)
                    .collect::<String>(),
            );
        }
    }
    prefix.push(".");
    prefix
}

/// A grid written completely (and flushed to disk) to a hidden temporary file beside its
/// target; [`StagedGrid::commit`] moves it into place. Dropped, it removes the file.
#[derive(Debug)]
pub struct StagedGrid {
    temp: TempPath,
    target: PathBuf,
}

impl StagedGrid {
    /// The temporary file holding the grid.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Rename the temporary file over the target: at every instant the target is the old
    /// file or the new one. An error names the target.
    pub fn commit(self) -> Result<(), Error> {
        let target = self.target;
        self.temp.persist(&target).map_err(|e| Error::Io {
            path: target.display().to_string(),
            source: e.error,
        })
    }

    /// Hand the temporary file over to the caller, who then must rename it into place or
    /// remove it (the Python layer does, to replace a grid and its `.prj` together).
    pub fn keep(self) -> Result<PathBuf, Error> {
        let target = self.target;
        self.temp.keep().map_err(|e| Error::Io {
            path: target.display().to_string(),
            source: e.error,
        })
    }
}

/// Write `cells` as an ESRI ASCII grid at `path`, atomically. On any error or cancel the
/// target is untouched and no temporary file is left behind.
pub fn write_grid(
    path: &Path,
    cells: Cells<'_>,
    opts: &WriteOptions,
    control: &Control,
) -> Result<(), Error> {
    stage_grid(path, cells, opts, control)?.commit()
}

/// Write `cells` as an ESRI ASCII grid to a new temporary file beside `path`, to be moved
/// into place with [`StagedGrid::commit`]. Refuses (naming `path`) values that would not read
/// back as written, and a target that `open(path, "w")` could not write either.
pub fn stage_grid(
    path: &Path,
    cells: Cells<'_>,
    opts: &WriteOptions,
    control: &Control,
) -> Result<StagedGrid, Error> {
    let name = path.display().to_string();
    let invalid = |m: String| Error::Invalid(format!("{name}: {m}"));
    if path.as_os_str().is_empty() {
        return Err(Error::Invalid(
            "the output path is empty; give the name of the grid file to write".to_owned(),
        ));
    }
    let Some(file_name) = path.file_name() else {
        return Err(invalid(
            "is not a file name; give the name of the grid file to write".to_owned(),
        ));
    };
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
    reads_back(cells, nrows, opts).map_err(invalid)?;
    let io_err = |e: io::Error| Error::Io {
        path: name.clone(),
        source: e,
    };
    let replaced = replaced_file(path).map_err(io_err)?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = temp_prefix(file_name);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp").rand_bytes(10);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Passed to open(2), which applies the umask: what `open(path, "w")` creates.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let temp = builder.tempfile_in(folder).map_err(io_err)?;
    control.add_total(cells.len() as u64);
    // On an error the temporary file is dropped, which removes it.
    let temp =
        write_to(temp, cells, nrows, opts, control, replaced.as_ref()).map_err(|e| match e {
            WriteError::Io(e) => io_err(e),
            WriteError::Cancelled => Error::Cancelled,
        })?;
    Ok(StagedGrid {
        temp,
        target: path.to_path_buf(),
    })
}

/// The metadata of the file `path` names, if any, once it is known that `open(path, "w")`
/// could write it: replacing a file one may not write (0444, say) must fail the same way.
fn replaced_file(path: &Path) -> io::Result<Option<fs::Metadata>> {
    match fs::metadata(path) {
        Ok(meta) => {
            if meta.is_file() {
                // Opened without truncating: the kernel's own check (modes, ACLs, root's
                // override, read-only mounts), with no change to the file.
                match OpenOptions::new().write(true).open(path) {
                    Ok(_) => {}
                    // Removed meanwhile (another writer's commit): a new file.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
            Ok(Some(meta))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Give the new file the replaced file's permission bits and (where allowed: as root, or a
/// group the user is in) its owner and group, as rewriting it in place would keep them.
fn take_over(file: &File, replaced: &fs::Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mine = file.metadata()?;
        if (mine.uid(), mine.gid()) != (replaced.uid(), replaced.gid()) {
            // Best effort: an ordinary user cannot give a file away; the mode still applies.
            let _ = std::os::unix::fs::fchown(file, Some(replaced.uid()), Some(replaced.gid()));
        }
        file.set_permissions(fs::Permissions::from_mode(replaced.mode() & 0o777))?;
    }
    #[cfg(not(unix))]
    file.set_permissions(replaced.permissions())?;
    Ok(())
}

/// Why a grid text could not be written (the caller adds the target's name).
enum WriteError {
    Io(io::Error),
    Cancelled,
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// Where (row, column) the first cell failing `bad` is.
fn first_cell<T: Copy + Send + Sync>(
    v: &[T],
    ncols: usize,
    bad: impl Fn(T) -> bool + Sync,
) -> Option<(usize, usize, T)> {
    v.par_iter()
        .position_first(|&x| bad(x))
        .map(|i| (i / ncols, i % ncols, v[i]))
}

/// Refuse what the text would not give back: a reader of the file must get exactly these
/// cells, this data type and this geotransform.
fn reads_back(cells: Cells<'_>, nrows: usize, opts: &WriteOptions) -> Result<(), String> {
    let ncols = opts.ncols;
    if let (Cells::Int32(_), Some(nd)) = (cells, opts.nodata) {
        let int32 = nd.fract() == 0.0 && nd >= f64::from(i32::MIN) && nd <= f64::from(i32::MAX);
        if !int32 {
            return Err(format!(
                "nodata {nd} is not an int32 value: readers (GDAL too) would take the grid for \
                 Float32 and round its values past 2^24 (16777217 reads back as 16777216); \
                 give an integer nodata, or convert the data to float64"
            ));
        }
    }
    if let Cells::Float32(v) = cells {
        if let Some((r, c, x)) = first_cell(v, ncols, |x: f32| x.is_infinite()) {
            return Err(format!(
                "float32 cell (row {r}, column {c}) is {x}, which readers (GDAL too) read back \
                 as {}3.4028235e38; replace infinities with the nodata value or NaN, or write \
                 float64",
                if x < 0.0 { "-" } else { "" }
            ));
        }
    }
    if opts.precision == Some(0) && opts.nodata.is_none() {
        // No '.' anywhere in the text: readers take it for an Int32 grid.
        let fits = |x: f64| {
            let r = x.round();
            r >= f64::from(i32::MIN) && r <= f64::from(i32::MAX)
        };
        let bad = match cells {
            Cells::Int32(_) => None,
            Cells::Float32(v) => first_cell(v, ncols, |x: f32| !fits(f64::from(x)))
                .map(|(r, c, x)| (r, c, f64::from(x))),
            Cells::Float64(v) => first_cell(v, ncols, |x: f64| !fits(x)),
        };
        if let Some((r, c, x)) = bad {
            return Err(format!(
                "with precision=0 and no nodata value the text has no decimal point, so \
                 readers take it for an Int32 grid, which cannot hold cell (row {r}, column \
                 {c}) = {x}; give precision of 1 or more, or a nodata value"
            ));
        }
    }
    let south = south_for(opts.north, nrows, opts.dy);
    let east = opts.west + ncols as f64 * opts.dx;
    if !(south.is_finite() && east.is_finite()) {
        return Err(format!(
            "the grid's extent overflows (south edge {south}, east edge {east}): no reader \
             could place it; check the geotransform"
        ));
    }
    Ok(())
}

impl Cells<'_> {
    fn is_empty_grid(&self) -> bool {
        self.len() == 0
    }
}

fn write_to(
    temp: NamedTempFile,
    cells: Cells<'_>,
    nrows: usize,
    opts: &WriteOptions,
    control: &Control,
    replaced: Option<&fs::Metadata>,
) -> Result<TempPath, WriteError> {
    let (file, temp) = temp.into_parts();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(header_text(cells, nrows, opts).as_bytes())?;
    // Format blocks of rows in parallel, a bounded batch at a time, and write them in order.
    let rows_per_block = (65_536 / opts.ncols).max(1);
    let blocks: Vec<std::ops::Range<usize>> = (0..nrows)
        .step_by(rows_per_block)
        .map(|r| r..(r + rows_per_block).min(nrows))
        .collect();
    let batch = rayon::current_num_threads().max(1) * 4;
    for group in blocks.chunks(batch) {
        if control.is_cancelled() {
            return Err(WriteError::Cancelled);
        }
        let texts: Vec<String> = group
            .par_iter()
            .map(|rows| format_rows(cells, opts.ncols, rows.clone(), opts.precision))
            .collect();
        for (text, rows) in texts.iter().zip(group) {
            // GDAL (before 3.9) takes a first body line starting with a letter (`nan`, `inf`)
            // for a header line; a leading space keeps it body for every reader.
            if rows.start == 0 && text.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
                out.write_all(b" ")?;
            }
            out.write_all(text.as_bytes())?;
            control.advance(((rows.end - rows.start) * opts.ncols) as u64);
        }
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    if let Some(meta) = replaced {
        take_over(&file, meta)?;
    }
    file.sync_all()?;
    Ok(temp)
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
    fn temporary_names_stay_short() {
        let long = "é".repeat(200);
        let prefix = temp_prefix(OsStr::new(&long));
        let text = prefix.to_str().expect("cut at a character boundary");
        assert!(text.len() <= TEMP_NAME_KEEP + 2, "{}", text.len());
        assert!(text.starts_with(".é") && text.ends_with("é."));
        assert_eq!(temp_prefix(OsStr::new("dem.asc")), ".dem.asc.");
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
