//! Mosaics: many aligned tiles placed into one union grid. A [`Plan`] reads only headers
//! (and, where needed, scans for GDAL's float markers) and decides where every tile lands;
//! [`Plan::read_rows`] then fills any row range, parsing the tiles of each band in parallel,
//! so peak memory follows the band, not the mosaic.

use rayon::prelude::*;

use crate::control::Control;
use crate::error::Error;
use crate::grid::{self, CellsMut, GridCells, GridData};
use crate::header::{Header, Origin};
use crate::input::OwnedInput;
use crate::value::DataType;

/// Largest band [`Plan`] builds by merging small ones, in cells (bands holding one large tile
/// can be larger: a tile is never split).
const BAND_CELLS: u64 = 8 << 20;

/// Tiles parsed at once per engine thread while a strip is built (see `read_rows_as`).
const TILES_PER_THREAD: usize = 4;

/// Tiles up to this size (compressed size for gzip) are probed with one read.
const SMALL_TILE: u64 = 4 << 20;

/// How far (in cells) a tile's edge may sit from the common grid and still be snapped to it.
const ALIGN_TOLERANCE: f64 = 1e-4;

/// Integers up to this magnitude are exact in float32; larger ones may be rounded.
const F32_EXACT_INT: u64 = 1 << 24;

/// How many tiles an error that lists them names before summing up the rest.
const LISTED_TILES: usize = 20;

/// A tile placed in the mosaic.
#[derive(Debug, Clone)]
pub struct Tile {
    /// Name used in messages.
    pub name: String,
    /// Where its text comes from.
    pub input: OwnedInput,
    /// Where it lies in the mosaic.
    pub place: Placement,
}

/// Where a tile lies in a mosaic: its first row and column there, and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// First mosaic row it covers.
    pub row: usize,
    /// First mosaic column it covers.
    pub col: usize,
    /// Its rows.
    pub nrows: usize,
    /// Its columns.
    pub ncols: usize,
}

impl Placement {
    /// The mosaic rows it covers.
    pub(crate) fn rows(&self) -> std::ops::Range<usize> {
        self.row..self.row + self.nrows
    }

    /// Whether it covers any of mosaic rows `start..end`.
    fn meets_rows(&self, start: usize, end: usize) -> bool {
        self.row < end && self.row + self.nrows > start
    }
}

/// Where every tile goes, decided from headers alone.
#[derive(Debug)]
pub struct Plan {
    /// The usable tiles, in input order (later tiles win where tiles overlap).
    pub tiles: Vec<Tile>,
    /// Tiles left out (only when asked to skip errors), with why.
    pub skipped: Vec<(String, Error)>,
    /// The mosaic's header (north-west origin; `nodata` set).
    pub header: Header,
    /// The mosaic's data type.
    pub data_type: DataType,
    /// The value of cells no tile covers, and of tiles' own nodata cells.
    pub nodata: f64,
    /// Row bands `(start, count)` covering every row; each tile lies within one band.
    pub bands: Vec<(usize, usize)>,
    /// The CRS key (see [`Plan::new`]) of the placed tiles, if any of them has one.
    pub crs: Option<u32>,
    /// Where [`Plan::nodata`] comes from, for messages.
    pub nodata_origin: String,
}

/// A tile's own nodata value in the mosaic's type, as its header says when it is read, and
/// its cells.
type TileCells<T> = (Option<T>, Vec<T>);

/// What [`Plan::assemble`] makes a plan of: placed tiles and the mosaic's grid.
struct Assembly {
    tiles: Vec<Tile>,
    skipped: Vec<(String, Error)>,
    data_type: DataType,
    nodata: f64,
    nodata_origin: String,
    ncols: usize,
    nrows: usize,
    west: f64,
    north: f64,
    dx: f64,
    dy: f64,
    crs: Option<u32>,
}

/// A tile whose header was read, not yet placed.
struct Candidate {
    input: OwnedInput,
    name: String,
    header: Header,
    data_type: DataType,
    crs: Option<u32>,
}

fn probe(
    input: &OwnedInput,
    name: &str,
    forced: Option<DataType>,
) -> Result<(Header, DataType), Error> {
    // A typical tile is small: read it once, header and float markers together. A file is
    // opened once for its size and its text (`open`, `fstat`, two reads).
    let small = match input {
        OwnedInput::Member(_) => return probe_compressed(input, name, forced),
        // The type is given (a part of a mosaic planned whole, as a dask chunk is): the
        // header is all there is to read now.
        OwnedInput::Path(_) if forced.is_some() => None,
        OwnedInput::Path(path) => {
            let opened = crate::pipe::open(path).map_err(|e| crate::source::io_error(name, e))?;
            if !opened.regular || opened.meta.len() <= SMALL_TILE {
                if opened.regular && forced.is_none() {
                    if let Some(found) = probe_prefix(&opened, name) {
                        return Ok(found);
                    }
                }
                Some(std::borrow::Cow::Owned(crate::source::load_opened(
                    opened, name,
                )?))
            } else {
                None
            }
        }
        OwnedInput::Bytes(b) if b.len() as u64 <= SMALL_TILE => {
            Some(crate::input::load(input.as_input(), name)?.into_text())
        }
        OwnedInput::Bytes(_) => None,
    };
    if let Some(text) = small {
        let header = crate::header::parse_whole_header(&text)
            .map_err(|e| Error::Parse(e.locate(name, &text)))?;
        // A header promising more values than the text holds would make its band (and so
        // a strip) as large as the lie: refuse it here, before anything is allocated.
        let body = &text[header.body_offset.min(text.len())..];
        crate::limits::check_room(&header, body.len() as u64, name, &text)?;
        check_geometry(&header, name)?;
        let markers = crate::scan::count_tokens(body, false).float_marker;
        let data_type = grid::resolve_data_type(forced, &header, markers);
        return Ok((header, data_type));
    }
    let header = grid::read_header(input.as_input(), name)?;
    check_size(&header, input, name)?;
    check_geometry(&header, name)?;
    let data_type = crate::stats::data_type_of(input.as_input(), name, forced, &header)?;
    Ok((header, data_type))
}

/// How much of a loose tile [`probe_prefix`] reads: a header and the first rows.
const PREFIX: u64 = 8192;

/// A float tile's header and data type from its first [`PREFIX`] bytes alone: a float marker
/// there is one in the whole text (markers are single bytes), and one-decimal heights show
/// one in their first value, so most float tiles need no more reading to be planned. `None`
/// for anything else (no marker yet, gzip, a header longer than the prefix, any error): the
/// whole text decides then, and gives every error as it always did.
fn probe_prefix(opened: &crate::pipe::OpenedFile, name: &str) -> Option<(Header, DataType)> {
    let size = opened.meta.len();
    let mut text = vec![0u8; usize::try_from(size.min(PREFIX)).ok()?];
    // A positioned read: the file's offset stays at 0 for the whole read that may follow.
    crate::source::read_exact_at(&opened.file, &mut text, 0).ok()?;
    if crate::source::is_gzip(&text) {
        return None;
    }
    let complete = text.len() as u64 == size;
    let crate::header::HeaderParse::Complete(header) =
        crate::header::parse_header(&text, complete).ok()?
    else {
        return None;
    };
    if !crate::scan::count_tokens(text.get(header.body_offset..)?, false).float_marker {
        return None;
    }
    let body_len = size.checked_sub(header.body_offset as u64)?;
    crate::limits::check_room(&header, body_len, name, &text).ok()?;
    check_geometry(&header, name).ok()?;
    let data_type = grid::resolve_data_type(None, &header, true);
    Some((header, data_type))
}

/// How much text a compressed tile's probe decompresses first: a header and the first values
/// (what [`crate::archive::find_tiles`] keeps of each member).
const PROBE_STEP: usize = crate::archive::MEMBER_HEAD;

/// A compressed tile's header and data type, decompressing only up to the first float marker
/// (one-decimal heights show one in their first value): the tile's text is decompressed
/// again, whole, only when the strip that needs it is read. Within the
/// [`BodyBudget`](crate::source::BodyBudget), so a bomb costs no more here than when read.
fn probe_compressed(
    input: &OwnedInput,
    name: &str,
    forced: Option<DataType>,
) -> Result<(Header, DataType), Error> {
    use crate::source;
    let (mut reader, bound) = crate::input::open_tracked(input.as_input(), name)?;
    let (header, mut text, mut ended) = source::read_header_text(&mut reader, name, PROBE_STEP)?;
    if let Some(max) = bound.max_text {
        source::check_compressed_room(&header, max, name, &text)?;
    }
    check_geometry(&header, name)?;
    if let Some(t) = forced.or_else(|| header.nodata_data_type()) {
        return Ok((header, t));
    }
    let mut budget = source::BodyBudget::new(header.cells(), header.body_offset as u64)
        .with_max_text(bound.max_text);
    let mut from = header.body_offset;
    loop {
        let fresh = &text[from..];
        if crate::scan::count_tokens(fresh, false).float_marker {
            return Ok((header, DataType::Float32));
        }
        let stop = budget
            .feed(fresh)
            .map_err(|e| Error::Parse(e.locate(name, &text)))?;
        if stop || ended {
            let data_type = grid::resolve_data_type(None, &header, false);
            return Ok((header, data_type));
        }
        from = text.len();
        let want = text.len().clamp(PROBE_STEP, crate::stream::BLOCK);
        ended = source::fill_buffer(&mut reader, &mut text, want, name)?;
    }
}

/// [`grid::check_room`] for a tile too large to load while planning: its size on disk (times
/// deflate's largest expansion, [`crate::source::max_inflated`], when it is gzip) bounds the
/// text it can hold.
fn check_size(header: &Header, input: &OwnedInput, name: &str) -> Result<(), Error> {
    let input = input.as_input();
    let stored = crate::input::size_hint(input);
    let gzip = crate::input::gzip_size_hint(input).is_some();
    let most = if gzip {
        crate::source::max_inflated(stored)
    } else {
        stored
    };
    let body = most.saturating_sub(header.body_offset as u64);
    let need = crate::limits::min_body_len(header);
    if body >= need {
        return Ok(());
    }
    let held = if gzip {
        format!("{stored} compressed bytes expand to at most {most}")
    } else {
        format!("the file holds only {stored} bytes")
    };
    Err(Error::Mosaic {
        path: name.to_owned(),
        message: format!(
            "the header promises {} × {} = {} values, which need at least {need} bytes, but \
             {held}: the header is wrong or the file is cut short",
            header.ncols,
            header.nrows,
            header.cells()
        ),
    })
}

/// Refuse a tile whose cells double precision cannot tell apart: so far from 0 (or with a
/// cell size so small) that neighbouring edges round to the same coordinate, its offsets in
/// the mosaic would be wrong, or its extent empty.
fn check_geometry(h: &Header, name: &str) -> Result<(), Error> {
    let gt = h.geotransform();
    let (w, n) = (gt[0], gt[3]);
    let (e, s) = (w + h.ncols as f64 * h.dx, n - h.nrows as f64 * h.dy);
    let far = w.abs().max(e.abs()).max(n.abs()).max(s.abs());
    let cell = h.dx.min(h.dy);
    // The spacing of doubles near `far` must be a small fraction of a cell, or alignment
    // cannot be judged to ALIGN_TOLERANCE.
    if far.is_finite() && cell > 0.0 && far * f64::EPSILON <= ALIGN_TOLERANCE * cell {
        return Ok(());
    }
    Err(Error::Mosaic {
        path: name.to_owned(),
        message: format!(
            "its extent ({w}, {s}) – ({e}, {n}) cannot be placed with cells of {} × {}: so \
             far from 0, double precision cannot tell neighbouring cell edges apart; is its \
             origin (or cell size) right?",
            h.dx, h.dy
        ),
    })
}

/// A tile that cannot be used: listed in `skipped` when skipping errors (a cancel always
/// stops), else the error.
fn reject(
    skipped: &mut Vec<(String, Error)>,
    skip_errors: bool,
    name: String,
    e: Error,
) -> Result<(), Error> {
    match e {
        Error::Cancelled => Err(Error::Cancelled),
        e if skip_errors => {
            skipped.push((name, e));
            Ok(())
        }
        e => Err(e),
    }
}

/// The error when no tile is left: every tile and why, the first [`LISTED_TILES`] of them.
fn nothing_usable(total: usize, skipped: &[(String, Error)]) -> Error {
    if skipped.is_empty() {
        return Error::Invalid("no tiles to mosaic".to_owned());
    }
    let mut message = format!("none of the {total} tiles could be used:");
    for (name, e) in skipped.iter().take(LISTED_TILES) {
        let why = e.to_string();
        message.push_str("\n  ");
        if !why.starts_with(name.as_str()) {
            message.push_str(name);
            message.push_str(": ");
        }
        message.push_str(&why);
    }
    if skipped.len() > LISTED_TILES {
        message.push_str(&format!("\n  and {} more", skipped.len() - LISTED_TILES));
    }
    Error::Invalid(message)
}

/// Whether an integer tile holds a value float32 cannot store exactly (|v| > 2^24). Read
/// only when an integer tile meets a float tile; a tile that cannot be read says nothing
/// here (reading its cells reports the problem).
fn has_wide_ints(input: &OwnedInput, name: &str, control: &Control) -> bool {
    let Ok(stream) = crate::stream::BlockStream::open(input.as_input(), name) else {
        return false;
    };
    let mut stream = stream.unlocated();
    let mut scan = WideInts::default();
    while let Ok(Some(_)) = stream.next_block() {
        if control.is_cancelled() || scan.feed(stream.block()) {
            return scan.found;
        }
    }
    scan.feed(b" ")
}

/// A streaming search for integer tokens beyond [`F32_EXACT_INT`] (state carries across
/// blocks, so a token may be cut anywhere).
#[derive(Default)]
struct WideInts {
    /// Magnitude of the current token so far (capped above the limit).
    value: u64,
    /// Whether the current token is not a plain integer.
    other: bool,
    inside: bool,
    found: bool,
}

impl WideInts {
    /// Account for `bytes`; returns whether a wide integer was found.
    fn feed(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            if crate::scan::is_space(b) {
                if self.inside && !self.other && self.value > F32_EXACT_INT {
                    self.found = true;
                    return true;
                }
                *self = WideInts::default();
                continue;
            }
            match b {
                b'0'..=b'9' => {
                    let digit = u64::from(b - b'0');
                    self.value = (self.value * 10 + digit).min(F32_EXACT_INT + 1);
                }
                b'-' | b'+' if !self.inside => {}
                _ => self.other = true,
            }
            self.inside = true;
        }
        self.found
    }
}

impl Plan {
    /// Read the tiles' headers and place them. Tiles must share CRS, cell size and
    /// alignment, and their coordinates must be precise enough to place their cells; a tile
    /// that does not (or whose header is bad, or promises more values than its bytes can
    /// hold) is an error naming it, or, with `skip_errors`, is listed in [`Plan::skipped`].
    ///
    /// `crs[i]` is a key for tile `i`'s CRS (equal keys: the same CRS; the caller decides
    /// what "same" means), `None` (or a missing entry) for a tile of unknown CRS, which takes
    /// the others'. The first tile with a key sets the mosaic's CRS.
    ///
    /// The data type is `forced`, else the widest of the tiles' (float64 instead of float32
    /// when an integer tile holds values float32 would round). The nodata value is
    /// `nodata`, else the first tile's, else -9999; a tile holding it as data is refused when
    /// its cells are read (see [`Plan::read_rows`]).
    pub fn new(
        inputs: Vec<(OwnedInput, String)>,
        forced: Option<DataType>,
        nodata: Option<f64>,
        skip_errors: bool,
        crs: &[Option<u32>],
        control: &Control,
    ) -> Result<Plan, Error> {
        let total = inputs.len();
        let probes: Vec<Result<(Header, DataType), Error>> = inputs
            .par_iter()
            .map(|(input, name)| {
                if control.is_cancelled() {
                    return Err(Error::Cancelled);
                }
                probe(input, name, forced)
            })
            .collect();
        let mut skipped = Vec::new();
        let mut good: Vec<Candidate> = Vec::new();
        for (i, ((input, name), probed)) in inputs.into_iter().zip(probes).enumerate() {
            match probed {
                Ok((header, data_type)) => good.push(Candidate {
                    input,
                    name,
                    header,
                    data_type,
                    crs: crs.get(i).copied().flatten(),
                }),
                Err(e) => reject(&mut skipped, skip_errors, name, e)?,
            }
        }
        // CRS first: tiles in another CRS usually differ in cell size and alignment too, and
        // the CRS is the cause worth naming.
        let crs_of = good.iter().find_map(|c| c.crs.map(|k| (k, c.name.clone())));
        let mut same_crs = Vec::with_capacity(good.len());
        for c in good {
            match (&crs_of, c.crs) {
                (Some((key, owner)), Some(own)) if own != *key => {
                    let e = Error::Mosaic {
                        path: c.name.clone(),
                        message: format!(
                            "its CRS (from its .prj) differs from that of {owner}; tiles of \
                             one mosaic must share a CRS: reproject it, or leave it out"
                        ),
                    };
                    reject(&mut skipped, skip_errors, c.name, e)?;
                }
                _ => same_crs.push(c),
            }
        }
        // Every tile must have the first good tile's cell size.
        let Some(first) = same_crs.first() else {
            return Err(nothing_usable(total, &skipped));
        };
        let (dx, dy, first_name) = (first.header.dx, first.header.dy, first.name.clone());
        let mut placed: Vec<Candidate> = Vec::new();
        for c in same_crs {
            if same_cell_size(c.header.dx, dx) && same_cell_size(c.header.dy, dy) {
                placed.push(c);
                continue;
            }
            let e = Error::Mosaic {
                path: c.name.clone(),
                message: format!(
                    "cell size {} × {} differs from {} × {} of the first tile ({first_name}); \
                     tiles of one mosaic must share cell size",
                    c.header.dx, c.header.dy, dx, dy
                ),
            };
            reject(&mut skipped, skip_errors, c.name, e)?;
        }
        let extent = |h: &Header| {
            let gt = h.geotransform();
            (
                gt[0],
                gt[3],
                gt[0] + h.ncols as f64 * dx,
                gt[3] - h.nrows as f64 * dy,
            )
        };
        // Alignment is judged against the first tile, so a stray tile cannot move the grid.
        let Some(first) = placed.first() else {
            return Err(nothing_usable(total, &skipped));
        };
        let (w0, n0, _, _) = extent(&first.header);
        let whole = |x: f64| x.is_finite() && (x - x.round()).abs() <= ALIGN_TOLERANCE;
        let mut aligned = Vec::with_capacity(placed.len());
        for c in placed {
            let (w, n, _, _) = extent(&c.header);
            if whole((w - w0) / dx) && whole((n0 - n) / dy) {
                aligned.push(c);
                continue;
            }
            let e = Error::Mosaic {
                path: c.name.clone(),
                message: format!(
                    "its origin ({w}, {n}) is not on the grid of the first tile ({first_name}: \
                     cell size {dx} × {dy} from ({w0}, {n0})); tiles of one mosaic must be \
                     aligned"
                ),
            };
            reject(&mut skipped, skip_errors, c.name, e)?;
        }
        let (mut west, mut north) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut east, mut south) = (f64::NEG_INFINITY, f64::INFINITY);
        for c in &aligned {
            let (w, n, e, s) = extent(&c.header);
            west = west.min(w);
            north = north.max(n);
            east = east.max(e);
            south = south.min(s);
        }
        let cols_f = ((east - west) / dx).round();
        let rows_f = ((north - south) / dy).round();
        let fits = |v: f64| (0.0..=f64::from(i32::MAX)).contains(&v);
        if !(fits(cols_f) && fits(rows_f)) {
            // Name the tile farthest from the first one: it is what stretches the union.
            let far = aligned
                .iter()
                .max_by(|a, b| {
                    let d = |h: &Header| {
                        let (w, n, _, _) = extent(h);
                        ((w - w0) / dx).abs().max(((n - n0) / dy).abs())
                    };
                    d(&a.header).total_cmp(&d(&b.header))
                })
                .map_or_else(|| first_name.clone(), |c| c.name.clone());
            return Err(Error::Mosaic {
                path: far,
                message: format!(
                    "the tiles span {cols_f} × {rows_f} cells, more than a grid can hold \
                     ({} per side); is this tile's origin right?",
                    i32::MAX
                ),
            });
        }
        let (ncols, nrows) = (cols_f as usize, rows_f as usize);
        let mut tiles = Vec::with_capacity(aligned.len());
        let mut data_type = forced.unwrap_or(DataType::Int32);
        // The first placed tile that declares a nodata value: its header and name.
        let mut tile_nodata: Option<(Header, String)> = None;
        let mut int_tiles = Vec::new();
        let mut crs_key = None;
        for c in aligned {
            let (w, n, _, _) = extent(&c.header);
            // Both are finite and within 0..=ncols (nrows): the cast cannot wrap. Rounding
            // far from 0 could still push a tile past the edge; that tile is refused, never
            // cut or written out of bounds.
            let col = cells_between(west, w, dx).max(0.0) as usize;
            let row = cells_between(n, north, dy).max(0.0) as usize;
            let inside = |at: usize, len: usize, limit: usize| {
                at.checked_add(len).is_some_and(|end| end <= limit)
            };
            if !(inside(col, c.header.ncols, ncols) && inside(row, c.header.nrows, nrows)) {
                let e = Error::Mosaic {
                    path: c.name.clone(),
                    message: format!(
                        "its cells do not fit the mosaic's grid at row {row}, column {col}: \
                         its coordinates are too large for double precision at cell size \
                         {dx} × {dy}; is its origin right?"
                    ),
                };
                reject(&mut skipped, skip_errors, c.name, e)?;
                continue;
            }
            if forced.is_none() {
                data_type = data_type.max(c.data_type);
            }
            if tile_nodata.is_none() && c.header.nodata.is_some() {
                tile_nodata = Some((c.header.clone(), c.name.clone()));
            }
            crs_key = crs_key.or(c.crs);
            if c.data_type == DataType::Int32 {
                int_tiles.push(tiles.len());
            }
            // The start of a member's text kept for planning is no use now: dropped, so that
            // a plan's memory does not grow by it with the tile count.
            let input = match c.input {
                OwnedInput::Member(m) => OwnedInput::Member(m.without_head()),
                other => other,
            };
            let (nrows, ncols) = (c.header.nrows, c.header.ncols);
            tiles.push(Tile {
                name: c.name,
                input,
                place: Placement {
                    row,
                    col,
                    nrows,
                    ncols,
                },
            });
        }
        if tiles.is_empty() {
            return Err(nothing_usable(total, &skipped));
        }
        // An integer tile read as float32 would round values beyond 2^24; only this mix of
        // tiles pays for a look at the integer tiles' values.
        if forced.is_none() && data_type == DataType::Float32 {
            let wide = int_tiles.par_iter().any(|&i| {
                let t = &tiles[i];
                has_wide_ints(&t.input, &t.name, control)
            });
            if control.is_cancelled() {
                return Err(Error::Cancelled);
            }
            if wide {
                data_type = DataType::Float64;
            }
        }
        // The first tile's nodata as the mosaic's type holds it, so that its own nodata
        // cells (read in that type) are the mosaic's nodata bit for bit.
        let first_nodata = tile_nodata
            .as_ref()
            .and_then(|(h, name)| Some((h.nodata_for(data_type)?, h, name)));
        let (nodata, nodata_origin) = match (nodata, first_nodata) {
            (Some(v), _) => (v, "given by the caller".to_owned()),
            (None, Some((v, h, name))) if h.nodata.as_ref().is_some_and(|n| n.reserved) => (
                v,
                format!(
                    "that of the '*' null cells of {name}, a GRASS grid without a 'null:' line"
                ),
            ),
            (None, Some((v, _, name))) => (v, format!("the NODATA_value of {name}")),
            (None, None) => (-9999.0, "the default, as no tile declares one".to_owned()),
        };
        Plan::assemble(Assembly {
            tiles,
            skipped,
            data_type,
            nodata,
            nodata_origin,
            ncols,
            nrows,
            west,
            north,
            dx,
            dy,
            crs: crs_key,
        })
    }

    /// A plan of some tiles of a mosaic planned as a whole elsewhere (a chunk of a dask
    /// mosaic, read on a worker), from where that plan put them: no tile is opened now.
    /// Each input's [`Placement`] is in the whole mosaic, whose north-west corner is
    /// `origin` and cell size `cell` (`dx`, `dy`); this plan covers their union, from their
    /// least row and column. Its type, nodata value and the words naming where that value comes from are
    /// the whole plan's. A tile that changed since (its size, origin or cell size) is refused
    /// when read, as in any plan.
    pub fn placed(
        inputs: Vec<(OwnedInput, String, Placement)>,
        origin: (f64, f64),
        cell: (f64, f64),
        data_type: DataType,
        nodata: f64,
        nodata_origin: String,
    ) -> Result<Plan, Error> {
        let invalid = |what: String| Error::Invalid(format!("a placed mosaic plan {what}"));
        let row0 = inputs.iter().map(|t| t.2.row).min();
        let col0 = inputs.iter().map(|t| t.2.col).min();
        let (Some(row0), Some(col0)) = (row0, col0) else {
            return Err(invalid("needs at least one tile".into()));
        };
        let (mut nrows, mut ncols) = (0usize, 0usize);
        let mut tiles = Vec::with_capacity(inputs.len());
        for (input, name, at) in inputs {
            let end = |start: usize, len: usize| start.checked_add(len).filter(|_| len > 0);
            let (Some(row_end), Some(col_end)) = (end(at.row, at.nrows), end(at.col, at.ncols))
            else {
                return Err(invalid(format!("cannot place {name} at {at:?}")));
            };
            nrows = nrows.max(row_end - row0);
            ncols = ncols.max(col_end - col0);
            let place = Placement {
                row: at.row - row0,
                col: at.col - col0,
                ..at
            };
            tiles.push(Tile { name, input, place });
        }
        let limit = i32::MAX as usize;
        if nrows > limit || ncols > limit {
            return Err(invalid(format!(
                "spans {ncols} × {nrows} cells, more than a grid holds"
            )));
        }
        let (dx, dy) = cell;
        Plan::assemble(Assembly {
            tiles,
            skipped: Vec::new(),
            data_type,
            nodata,
            nodata_origin,
            ncols,
            nrows,
            west: origin.0 + col0 as f64 * dx,
            north: origin.1 - row0 as f64 * dy,
            dx,
            dy,
            crs: None,
        })
    }

    /// The plan of placed tiles: its header, row bands, and a check that the nodata value
    /// survives the mosaic's type (or the gaps it fills would read as data).
    fn assemble(a: Assembly) -> Result<Plan, Error> {
        let nodata = a.nodata;
        let representable = match a.data_type {
            DataType::Int32 => {
                nodata.fract() == 0.0
                    && nodata >= f64::from(i32::MIN)
                    && nodata <= f64::from(i32::MAX)
            }
            DataType::Float32 => nodata.is_nan() || f64::from(nodata as f32) == nodata,
            DataType::Float64 => true,
        };
        if !representable {
            return Err(Error::Invalid(format!(
                "nodata {nodata} cannot be stored in a {} mosaic; choose another nodata value \
                 or data type",
                a.data_type.name()
            )));
        }
        let header = Header {
            ncols: a.ncols,
            nrows: a.nrows,
            dx: a.dx,
            dy: a.dy,
            origin: Origin::NorthWest,
            x_origin: a.west,
            y_origin: a.north,
            nodata: Some(crate::header::Nodata {
                value: nodata,
                is_null: false,
                has_decimal: false,
                reserved: false,
            }),
            body_offset: 0,
            header_lines: 0,
            declared_type: None,
            star_nulls: false,
        };
        let bands = bands_of(&a.tiles, a.nrows, a.ncols);
        Ok(Plan {
            tiles: a.tiles,
            skipped: a.skipped,
            header,
            data_type: a.data_type,
            nodata,
            bands,
            crs: a.crs,
            nodata_origin: a.nodata_origin,
        })
    }

    /// `err` (memory for `rows` rows of the mosaic could not be had) as the likelier story:
    /// one tile's origin is wrong (a typo puts it far away and stretches the union), so the
    /// tile farthest from the first one is named.
    fn too_big(&self, err: Error, rows: usize) -> Error {
        let Some(first) = self.tiles.first() else {
            return err;
        };
        let far = self.tiles.iter().max_by_key(|t| {
            t.place
                .row
                .abs_diff(first.place.row)
                .max(t.place.col.abs_diff(first.place.col))
        });
        let Some(far) = far else {
            return err;
        };
        let (ncols, nrows) = (self.header.ncols, self.header.nrows);
        let gigabytes = (rows as f64) * (ncols as f64) * self.data_type.size() as f64 / 1e9;
        Error::Mosaic {
            path: far.name.clone(),
            message: format!(
                "the tiles span {ncols} × {nrows} cells: {gigabytes:.1} GB as {}, more than \
                 memory holds; is this tile's origin right? (a mosaic larger than memory is \
                 written strip by strip by iter_mosaic_strips or asciigrid:batchimport)",
                self.data_type.name()
            ),
        }
    }

    /// Rows `start..start + count` of the mosaic, and the tiles (by index into
    /// [`Plan::tiles`]) whose body failed, when `skip_errors`; otherwise the first failure
    /// (in input order) is returned as the error.
    pub fn read_rows(
        &self,
        start: usize,
        count: usize,
        skip_errors: bool,
        control: &Control,
    ) -> Result<(GridData, Vec<(usize, Error)>), Error> {
        self.check_rows(start, count)?;
        match self.data_type {
            DataType::Int32 => self.read_new_rows::<i32>(start, count, skip_errors, control),
            DataType::Float32 => self.read_new_rows::<f32>(start, count, skip_errors, control),
            DataType::Float64 => self.read_new_rows::<f64>(start, count, skip_errors, control),
        }
    }

    /// [`Plan::read_rows`] into `out`, which must hold exactly `count` rows of the mosaic's
    /// cells in its data type. Every cell of `out` is written (nodata where no tile is), so a
    /// buffer can be reused from one strip to the next without being cleared.
    pub fn read_rows_into(
        &self,
        start: usize,
        count: usize,
        skip_errors: bool,
        control: &Control,
        out: CellsMut<'_>,
    ) -> Result<Vec<(usize, Error)>, Error> {
        self.check_rows(start, count)?;
        let cells = count.saturating_mul(self.header.ncols);
        if out.data_type() != self.data_type || out.len() != cells {
            return Err(Error::Invalid(format!(
                "a buffer for rows {start}..{} of this mosaic holds {cells} {} cells \
                 ({count} rows of {}); got {} {} cells",
                start + count,
                self.data_type.name(),
                self.header.ncols,
                out.len(),
                out.data_type().name()
            )));
        }
        match out {
            CellsMut::Int32(v) => self.fill_rows(start, count, skip_errors, control, v),
            CellsMut::Float32(v) => self.fill_rows(start, count, skip_errors, control, v),
            CellsMut::Float64(v) => self.fill_rows(start, count, skip_errors, control, v),
        }
    }

    fn check_rows(&self, start: usize, count: usize) -> Result<(), Error> {
        if start
            .checked_add(count)
            .is_none_or(|end| end > self.header.nrows)
        {
            return Err(Error::Invalid(format!(
                "rows {start}..{} are outside the mosaic's {} rows",
                start.saturating_add(count),
                self.header.nrows
            )));
        }
        Ok(())
    }

    fn read_new_rows<T: GridCells>(
        &self,
        start: usize,
        count: usize,
        skip_errors: bool,
        control: &Control,
    ) -> Result<(GridData, Vec<(usize, Error)>), Error> {
        let cells = count.saturating_mul(self.header.ncols);
        // Zeroed memory comes lazily from the system; `fill_rows` gives every row its nodata
        // and tile cells, in parallel, in one pass.
        let mut out = crate::limits::alloc_cells(cells, T::default(), "mosaic")
            .map_err(|e| self.too_big(e, count))?;
        let failed = self.fill_rows(start, count, skip_errors, control, &mut out)?;
        Ok((T::into_grid_data(out), failed))
    }

    /// Rows `start..start + count` into `out` (exactly their cells), every cell written.
    fn fill_rows<T: GridCells>(
        &self,
        start: usize,
        count: usize,
        skip_errors: bool,
        control: &Control,
        out: &mut [T],
    ) -> Result<Vec<(usize, Error)>, Error> {
        let ncols = self.header.ncols;
        let end = start + count;
        let wanted = self.tiles.iter().filter(|t| t.place.meets_rows(start, end));
        control.fix_total(
            wanted
                .map(|t| crate::input::size_hint(t.input.as_input()))
                .sum(),
        );
        let fill = T::from_f64(self.nodata);
        let mut failed = Vec::new();
        // One band at a time bounds the tiles held in memory at once.
        for &(band_start, band_rows) in &self.bands {
            let band_end = band_start + band_rows;
            if band_end <= start || band_start >= end {
                continue;
            }
            let members: Vec<usize> = (0..self.tiles.len())
                .filter(|&i| {
                    let t = &self.tiles[i];
                    t.place.meets_rows(start, end) && (band_start..band_end).contains(&t.place.row)
                })
                .collect();
            let (first, last) = (band_start.max(start), band_end.min(end));
            let rows = out
                .get_mut((first - start) * ncols..(last - start) * ncols)
                .ok_or_else(|| Error::Invalid("internal: a band outside the rows read".into()))?;
            rows.par_chunks_mut(ncols.max(1))
                .for_each(|row| row.fill(fill));
            // A few tiles per thread at a time: their values are copied in and dropped before
            // the next are parsed, so the memory beyond the strip is a few tiles, not a band.
            for batch in members.chunks(TILES_PER_THREAD * rayon::current_num_threads().max(1)) {
                let parsed: Vec<Result<TileCells<T>, Error>> = batch
                    .par_iter()
                    .map(|&i| {
                        if control.is_cancelled() {
                            return Err(Error::Cancelled);
                        }
                        let tile = &self.tiles[i];
                        let g = grid::read(
                            tile.input.as_input(),
                            &tile.name,
                            Some(T::DATA_TYPE),
                            control,
                        )?;
                        // The tile's own nodata cells, as its header says now.
                        let own = g.header.nodata_for(T::DATA_TYPE).map(T::from_f64);
                        let values = T::from_grid_data(g.data)
                            .ok_or_else(|| Error::Invalid("internal: wrong cell type".into()))?;
                        self.check_tile(tile, &g.header, &values, own, fill)?;
                        Ok((own, values))
                    })
                    .collect();
                let mut read: Vec<(&Tile, Option<T>, Vec<T>)> = Vec::with_capacity(batch.len());
                for (&i, result) in batch.iter().zip(parsed) {
                    match result {
                        Ok((own, values)) => read.push((&self.tiles[i], own, values)),
                        Err(Error::Cancelled) => return Err(Error::Cancelled),
                        Err(e) if skip_errors => failed.push((i, e)),
                        Err(e) => return Err(e),
                    }
                }
                if !read.is_empty() {
                    rows.par_chunks_mut(ncols.max(1))
                        .enumerate()
                        .try_for_each(|(k, row)| copy_tile_rows(row, first + k, &read))?;
                }
            }
        }
        Ok(failed)
    }
}

/// Into mosaic row `r`, the row's cells of each tile that covers it (a tile's own nodata
/// cells, `own`, leave what is there).
fn copy_tile_rows<T: GridCells>(
    row: &mut [T],
    r: usize,
    tiles: &[(&Tile, Option<T>, Vec<T>)],
) -> Result<(), Error> {
    for (tile, own, values) in tiles {
        if !tile.place.rows().contains(&r) {
            continue;
        }
        let w = tile.place.ncols;
        let from = (r - tile.place.row) * w;
        // The plan placed the tile inside the mosaic and check_tile saw its size: these
        // ranges exist, but a slip must be an error, not a panic.
        let (Some(src), Some(dst)) = (
            values.get(from..from + w),
            row.get_mut(tile.place.col..tile.place.col + w),
        ) else {
            return Err(Error::Invalid(format!(
                "internal: {} does not fit the mosaic's rows",
                tile.name
            )));
        };
        match *own {
            None => dst.copy_from_slice(src),
            Some(own) => {
                for (d, &s) in dst.iter_mut().zip(src) {
                    if s != own {
                        *d = s;
                    }
                }
            }
        }
    }
    Ok(())
}

impl Plan {
    /// Refuse a tile's cells that the mosaic cannot hold as they are: a tile that changed
    /// since planning (its header, as read now, puts it elsewhere or makes it another size),
    /// or one holding the mosaic's nodata value as data (it would silently become nodata).
    /// Tiles sharing the mosaic's nodata (the usual case) cannot collide and are not looked
    /// at. `own` is the tile's nodata value in the mosaic's type.
    fn check_tile<T: GridCells>(
        &self,
        tile: &Tile,
        now: &Header,
        values: &[T],
        own: Option<T>,
        fill: T,
    ) -> Result<(), Error> {
        let m = &self.header;
        let gt = now.geotransform();
        // Where its header puts it now, by the rule that placed it (NaN if nowhere sensible).
        let col = cells_between(m.x_origin, gt[0], m.dx);
        let row = cells_between(gt[3], m.y_origin, m.dy);
        let moved = col != tile.place.col as f64
            || row != tile.place.row as f64
            || !same_cell_size(now.dx, m.dx)
            || !same_cell_size(now.dy, m.dy);
        let resized = (now.nrows, now.ncols) != (tile.place.nrows, tile.place.ncols)
            || values.len() as u64 != now.cells();
        if moved || resized {
            let planned_x = m.x_origin + tile.place.col as f64 * m.dx;
            let planned_y = m.y_origin - tile.place.row as f64 * m.dy;
            return Err(Error::Mosaic {
                path: tile.name.clone(),
                message: format!(
                    "it changed since the mosaic was planned: {} × {} cells of {} × {} from \
                     ({}, {}) now, {} × {} cells of {} × {} from ({planned_x}, {planned_y}) \
                     then; plan the mosaic again",
                    now.ncols,
                    now.nrows,
                    now.dx,
                    now.dy,
                    gt[0],
                    gt[3],
                    tile.place.ncols,
                    tile.place.nrows,
                    m.dx,
                    m.dy,
                ),
            });
        }
        if own == Some(fill) || fill.is_nan() {
            return Ok(());
        }
        let Some(at) = values.iter().position(|&v| v == fill) else {
            return Ok(());
        };
        let (row, col) = (at / now.ncols.max(1) + 1, at % now.ncols.max(1) + 1);
        Err(Error::Mosaic {
            path: tile.name.clone(),
            message: format!(
                "its cell at row {row}, column {col} holds {} as data, which is the mosaic's \
                 nodata value ({}), so it would read as nodata; pass a nodata value that no \
                 tile holds as data",
                self.nodata, self.nodata_origin
            ),
        })
    }
}

/// Whether cell size `a` is the mosaic's `b`: equal to within 1e-9 of it, as text of
/// different precision writes one size.
fn same_cell_size(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs()
}

/// Whole cells of size `cell` from coordinate `from` to `to`, rounded: where a tile's edge
/// falls in the mosaic.
fn cells_between(from: f64, to: f64, cell: f64) -> f64 {
    ((to - from) / cell).round()
}

/// Row bands that cover `0..nrows`, never cut a tile, and merge small neighbours up to
/// [`BAND_CELLS`].
fn bands_of(tiles: &[Tile], nrows: usize, ncols: usize) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = tiles
        .iter()
        .map(|t| (t.place.row, t.place.rows().end))
        .collect();
    spans.sort_unstable();
    // Merge overlapping spans, and fill gaps, into a cover of 0..nrows.
    let mut cover: Vec<(usize, usize)> = Vec::new();
    let mut at = 0usize;
    for (s, e) in spans {
        if s >= at {
            if s > at {
                cover.push((at, s));
            }
            cover.push((s, e));
        } else if let Some(last) = cover.last_mut() {
            last.1 = last.1.max(e);
        }
        at = at.max(e);
    }
    if at < nrows {
        cover.push((at, nrows));
    }
    let budget_rows = (BAND_CELLS / ncols.max(1) as u64).max(1) as usize;
    let mut bands: Vec<(usize, usize)> = Vec::new();
    for (s, e) in cover {
        match bands.last_mut() {
            Some(last) if (e - last.0) <= budget_rows => last.1 = e,
            _ => bands.push((s, e)),
        }
    }
    bands.into_iter().map(|(s, e)| (s, e - s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loose tile's type is the whole text's whether the prefix decides it or not.
    #[test]
    fn a_tile_is_typed_alike_from_its_prefix_or_its_whole_text() {
        let dir = tempfile::tempdir().unwrap();
        let ints = "7 ".repeat(6000); // 12 000 bytes: past the prefix
        let cases = [
            ("first.asc", format!("1.5 {ints}"), DataType::Float32),
            ("late.asc", format!("{ints}1.5"), DataType::Float32),
            ("ints.asc", format!("{ints}7"), DataType::Int32),
        ];
        for (name, body, want) in cases {
            let path = dir.path().join(name);
            let text =
                format!("ncols 6001\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n{body}\n");
            std::fs::write(&path, text).unwrap();
            let (header, got) = probe(&OwnedInput::Path(path), name, None).unwrap();
            assert_eq!((header.ncols, got), (6001, want), "{name}");
        }
    }

    fn tile(x: f64, y: f64, values: &str) -> (OwnedInput, String) {
        let text = format!("ncols 2\nnrows 2\nxllcorner {x}\nyllcorner {y}\ncellsize 1\nNODATA_value -1\n{values}\n");
        (
            OwnedInput::Bytes(text.into_bytes().into()),
            format!("t{x}_{y}.asc"),
        )
    }

    #[test]
    fn a_placed_plan_reads_what_the_whole_plan_reads() {
        let inputs = vec![
            tile(0.0, 0.0, "1 2 3 4"),
            tile(2.0, 0.0, "5 -1 7 8"),
            tile(4.0, 2.0, "9 10 11 12"),
        ];
        let whole = Plan::new(inputs.clone(), None, None, false, &[], &Control::new()).unwrap();
        let (all, _) = whole.read_rows(0, 4, false, &Control::new()).unwrap();
        let GridData::Int32(all) = all else {
            panic!("not int32")
        };
        // The two tiles of the bottom rows, placed as the whole plan placed them.
        let part: Vec<_> = inputs[..2]
            .iter()
            .cloned()
            .zip(&whole.tiles)
            .map(|((input, name), t)| (input, name, t.place))
            .collect();
        let gt = whole.header.geotransform();
        let placed = Plan::placed(
            part,
            (gt[0], gt[3]),
            (gt[1], -gt[5]),
            whole.data_type,
            whole.nodata,
            whole.nodata_origin.clone(),
        )
        .unwrap();
        assert_eq!((placed.header.nrows, placed.header.ncols), (2, 4));
        assert_eq!(
            placed.header.geotransform(),
            [0.0, 1.0, 0.0, 2.0, 0.0, -1.0]
        );
        let (got, _) = placed.read_rows(0, 2, false, &Control::new()).unwrap();
        let want: Vec<i32> = (2..4)
            .flat_map(|r| all[r * 6..r * 6 + 4].to_vec())
            .collect();
        assert_eq!(got, GridData::Int32(want));
    }

    #[test]
    fn a_tile_moved_or_resized_since_planning_is_refused_by_name() {
        let inputs = vec![tile(0.0, 0.0, "1 2 3 4"), tile(2.0, 0.0, "5 6 7 8")];
        for changed in [tile(3.0, 0.0, "5 6 7 8").0, {
            let text = "ncols 1\nnrows 2\nxllcorner 2\nyllcorner 0\ncellsize 1\n5\n6\n";
            OwnedInput::Bytes(text.as_bytes().into())
        }] {
            let mut plan =
                Plan::new(inputs.clone(), None, None, false, &[], &Control::new()).unwrap();
            plan.tiles[1].input = changed;
            let Err(Error::Mosaic { path, message }) = plan.read_rows(0, 2, false, &Control::new())
            else {
                panic!("a changed tile was read");
            };
            assert_eq!(path, "t2_0.asc");
            assert!(
                message.contains("changed since the mosaic was planned"),
                "{message}"
            );
        }
    }

    #[test]
    fn tiles_land_in_place_with_gaps_as_nodata() {
        let inputs = vec![tile(0.0, 0.0, "1 2 3 4"), tile(4.0, 2.0, "5 6 7 -1")];
        let plan = Plan::new(inputs, None, None, false, &[], &Control::new()).unwrap();
        assert_eq!((plan.header.ncols, plan.header.nrows), (6, 4));
        assert_eq!(plan.header.geotransform(), [0.0, 1.0, 0.0, 4.0, 0.0, -1.0]);
        let (data, failed) = plan.read_rows(0, 4, false, &Control::new()).unwrap();
        assert!(failed.is_empty());
        #[rustfmt::skip]
        let want = vec![
            -1, -1, -1, -1, 5, 6,
            -1, -1, -1, -1, 7, -1,
            1, 2, -1, -1, -1, -1,
            3, 4, -1, -1, -1, -1,
        ];
        assert_eq!(data, GridData::Int32(want));
        let covered: usize = plan.bands.iter().map(|b| b.1).sum();
        assert_eq!(covered, 4);
    }

    #[test]
    fn misaligned_tile_is_named() {
        let inputs = vec![tile(0.0, 0.0, "1 2 3 4"), tile(2.5, 0.0, "1 2 3 4")];
        match Plan::new(inputs.clone(), None, None, false, &[], &Control::new()) {
            Err(Error::Mosaic { path, .. }) => assert_eq!(path, "t2.5_0.asc"),
            other => panic!("{other:?}"),
        }
        let plan = Plan::new(inputs, None, None, true, &[], &Control::new()).unwrap();
        assert_eq!(plan.skipped.len(), 1);
    }
}
