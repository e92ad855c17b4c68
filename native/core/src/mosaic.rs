//! Mosaics: many aligned tiles placed into one union grid. A [`Plan`] reads only headers
//! (and, where needed, scans for GDAL's float markers) and decides where every tile lands;
//! [`Plan::read_rows`] then fills any row range, parsing the tiles of each band in parallel,
//! so peak memory follows the band, not the mosaic.

use rayon::prelude::*;

use crate::control::Control;
use crate::error::Error;
use crate::grid::{self, GridData};
use crate::header::{Header, Origin};
use crate::source::OwnedInput;
use crate::value::{DataType, GridCells};

/// Largest band [`Plan`] builds by merging small ones, in cells (bands holding one large tile
/// can be larger: a tile is never split).
const BAND_CELLS: u64 = 8 << 20;

/// Tiles up to this size (compressed size for gzip) are probed with one read.
const SMALL_TILE: u64 = 4 << 20;

/// How far (in cells) a tile's edge may sit from the common grid and still be snapped to it.
const ALIGN_TOLERANCE: f64 = 1e-4;

/// A tile placed in the mosaic.
#[derive(Debug, Clone)]
pub struct Tile {
    /// Name used in messages.
    pub name: String,
    /// Where its text comes from.
    pub input: OwnedInput,
    /// Its header.
    pub header: Header,
    /// First mosaic row it covers.
    pub row: usize,
    /// First mosaic column it covers.
    pub col: usize,
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
}

fn probe(
    input: &OwnedInput,
    name: &str,
    forced: Option<DataType>,
) -> Result<(Header, DataType), Error> {
    // A typical tile is small: read it once, header and float markers together.
    if crate::source::size_hint(input.as_input()) <= SMALL_TILE {
        let text = crate::source::load(input.as_input(), name)?;
        let header = crate::header::parse_header(&text, true)
            .map_err(|e| grid::header_error(e, name, &text))?;
        let body = &text[header.body_offset..];
        let markers = crate::scan::count_tokens(body, false).float_marker;
        let data_type = grid::resolve_data_type(forced, &header, markers);
        return Ok((header, data_type));
    }
    let header = grid::read_header(input.as_input(), name)?;
    let data_type = crate::stats::data_type_of(input.as_input(), name, forced, &header)?;
    Ok((header, data_type))
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

impl Plan {
    /// Read the tiles' headers and place them. Tiles must share cell size and alignment; a
    /// tile that does not (or whose header is bad) is an error naming it, or, with
    /// `skip_errors`, is listed in [`Plan::skipped`].
    pub fn new(
        inputs: Vec<(OwnedInput, String)>,
        forced: Option<DataType>,
        nodata: Option<f64>,
        skip_errors: bool,
        control: &Control,
    ) -> Result<Plan, Error> {
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
        let mut good: Vec<(OwnedInput, String, Header, DataType)> = Vec::new();
        for ((input, name), probed) in inputs.into_iter().zip(probes) {
            match probed {
                Ok((h, t)) => good.push((input, name, h, t)),
                Err(e) => reject(&mut skipped, skip_errors, name, e)?,
            }
        }
        // Every tile must have the first good tile's cell size.
        let Some((_, first_name, first, _)) = good.first() else {
            return Err(Error::Invalid(if skipped.is_empty() {
                "no tiles to mosaic".to_owned()
            } else {
                format!("none of the {} tiles could be read", skipped.len())
            }));
        };
        let (dx, dy, first_name) = (first.dx, first.dy, first_name.clone());
        let mut placed: Vec<(OwnedInput, String, Header, DataType)> = Vec::new();
        for (input, name, h, t) in good {
            let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
            if same(h.dx, dx) && same(h.dy, dy) {
                placed.push((input, name, h, t));
                continue;
            }
            let e = Error::Mosaic {
                path: name.clone(),
                message: format!(
                    "cell size {} × {} differs from {} × {} of the first tile ({first_name}); \
                     tiles of one mosaic must share cell size",
                    h.dx, h.dy, dx, dy
                ),
            };
            reject(&mut skipped, skip_errors, name, e)?;
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
        let (w0, n0, _, _) = extent(&placed[0].2);
        let whole = |x: f64| x.is_finite() && (x - x.round()).abs() <= ALIGN_TOLERANCE;
        let mut aligned = Vec::with_capacity(placed.len());
        for (input, name, h, t) in placed {
            let (w, n, _, _) = extent(&h);
            if whole((w - w0) / dx) && whole((n0 - n) / dy) {
                aligned.push((input, name, h, t));
                continue;
            }
            let e = Error::Mosaic {
                path: name.clone(),
                message: format!(
                    "its origin ({w}, {n}) is not on the grid of the first tile ({first_name}: \
                     cell size {dx} × {dy} from ({w0}, {n0})); tiles of one mosaic must be \
                     aligned"
                ),
            };
            reject(&mut skipped, skip_errors, name, e)?;
        }
        let (mut west, mut north) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut east, mut south) = (f64::NEG_INFINITY, f64::INFINITY);
        for (_, _, h, _) in &aligned {
            let (w, n, e, s) = extent(h);
            west = west.min(w);
            north = north.max(n);
            east = east.max(e);
            south = south.min(s);
        }
        let cols_f = ((east - west) / dx).round();
        let rows_f = ((north - south) / dy).round();
        if !(cols_f <= f64::from(i32::MAX) && rows_f <= f64::from(i32::MAX)) {
            // Name the tile farthest from the first one: it is what stretches the union.
            let far = aligned
                .iter()
                .max_by(|a, b| {
                    let d = |h: &Header| {
                        let (w, n, _, _) = extent(h);
                        ((w - w0) / dx).abs().max(((n - n0) / dy).abs())
                    };
                    d(&a.2).total_cmp(&d(&b.2))
                })
                .map_or_else(|| first_name.clone(), |t| t.1.clone());
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
        let mut tile_nodata = None;
        for (input, name, h, t) in aligned {
            let (w, n, _, _) = extent(&h);
            if forced.is_none() {
                data_type = data_type.max(t);
            }
            tile_nodata = tile_nodata.or(h.nodata_for(t));
            let col = ((w - west) / dx).round() as usize;
            let row = ((north - n) / dy).round() as usize;
            tiles.push(Tile {
                name,
                input,
                header: h,
                row,
                col,
            });
        }
        let nodata = nodata.or(tile_nodata).unwrap_or(-9999.0);
        // Gaps are filled with the nodata value: it must survive the mosaic's type, or the
        // gaps would read as data.
        let representable = match data_type {
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
                data_type.name()
            )));
        }
        let header = Header {
            ncols,
            nrows,
            dx,
            dy,
            origin: Origin::NorthWest,
            x_origin: west,
            y_origin: north,
            nodata: Some(crate::header::Nodata {
                value: nodata,
                is_null: false,
                has_decimal: false,
            }),
            body_offset: 0,
            header_lines: 0,
            declared_type: None,
        };
        let bands = bands_of(&tiles, nrows, ncols);
        Ok(Plan {
            tiles,
            skipped,
            header,
            data_type,
            nodata,
            bands,
        })
    }

    /// `err` (memory for `rows` rows of the mosaic could not be had) as the likelier story:
    /// one tile's origin is wrong (a typo puts it far away and stretches the union), so the
    /// tile farthest from the first one is named.
    fn too_big(&self, err: Error, rows: usize) -> Error {
        let Some(first) = self.tiles.first() else {
            return err;
        };
        let far = self
            .tiles
            .iter()
            .max_by_key(|t| t.row.abs_diff(first.row).max(t.col.abs_diff(first.col)));
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
        match self.data_type {
            DataType::Int32 => self.read_rows_as::<i32>(start, count, skip_errors, control),
            DataType::Float32 => self.read_rows_as::<f32>(start, count, skip_errors, control),
            DataType::Float64 => self.read_rows_as::<f64>(start, count, skip_errors, control),
        }
    }

    fn read_rows_as<T: GridCells>(
        &self,
        start: usize,
        count: usize,
        skip_errors: bool,
        control: &Control,
    ) -> Result<(GridData, Vec<(usize, Error)>), Error> {
        let ncols = self.header.ncols;
        let end = start + count;
        let wanted = self
            .tiles
            .iter()
            .filter(|t| t.row < end && t.row + t.header.nrows > start);
        control.fix_total(
            wanted
                .map(|t| crate::source::size_hint(t.input.as_input()))
                .sum(),
        );
        let fill = T::from_f64(self.nodata);
        let cells = count.saturating_mul(ncols);
        let mut out =
            grid::alloc_cells(cells, fill, "mosaic").map_err(|e| self.too_big(e, count))?;
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
                    t.row < end
                        && t.row + t.header.nrows > start
                        && t.row >= band_start
                        && t.row < band_end
                })
                .collect();
            let parsed: Vec<Result<Vec<T>, Error>> = members
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
                    T::from_grid_data(g.data)
                        .ok_or_else(|| Error::Invalid("internal: wrong cell type".into()))
                })
                .collect();
            for (&i, result) in members.iter().zip(parsed) {
                let values = match result {
                    Ok(v) => v,
                    Err(Error::Cancelled) => return Err(Error::Cancelled),
                    Err(e) if skip_errors => {
                        failed.push((i, e));
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let tile = &self.tiles[i];
                let tile_nodata = tile.header.nodata_for(T::DATA_TYPE).map(T::from_f64);
                let w = tile.header.ncols;
                let first = start.max(tile.row);
                let last = end.min(tile.row + tile.header.nrows);
                for r in first..last {
                    let src = &values[(r - tile.row) * w..(r - tile.row + 1) * w];
                    let dst_at = (r - start) * ncols + tile.col;
                    let dst = &mut out[dst_at..dst_at + w];
                    for (d, &s) in dst.iter_mut().zip(src) {
                        if Some(s) != tile_nodata {
                            *d = s;
                        }
                    }
                }
            }
        }
        Ok((T::into_grid_data(out), failed))
    }
}

/// Row bands that cover `0..nrows`, never cut a tile, and merge small neighbours up to
/// [`BAND_CELLS`].
fn bands_of(tiles: &[Tile], nrows: usize, ncols: usize) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = tiles
        .iter()
        .map(|t| (t.row, t.row + t.header.nrows))
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

    fn tile(x: f64, y: f64, values: &str) -> (OwnedInput, String) {
        let text = format!("ncols 2\nnrows 2\nxllcorner {x}\nyllcorner {y}\ncellsize 1\nNODATA_value -1\n{values}\n");
        (
            OwnedInput::Bytes(text.into_bytes().into()),
            format!("t{x}_{y}.asc"),
        )
    }

    #[test]
    fn tiles_land_in_place_with_gaps_as_nodata() {
        let inputs = vec![tile(0.0, 0.0, "1 2 3 4"), tile(4.0, 2.0, "5 6 7 -1")];
        let plan = Plan::new(inputs, None, None, false, &Control::new()).unwrap();
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
        match Plan::new(inputs.clone(), None, None, false, &Control::new()) {
            Err(Error::Mosaic { path, .. }) => assert_eq!(path, "t2.5_0.asc"),
            other => panic!("{other:?}"),
        }
        let plan = Plan::new(inputs, None, None, true, &Control::new()).unwrap();
        assert_eq!(plan.skipped.len(), 1);
    }
}
