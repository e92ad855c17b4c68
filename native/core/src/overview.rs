//! Overview levels for GeoTIFF output: GDAL's `AVERAGE` resampling of a level that halves
//! both axes exactly, which is every level but the last few small ones of a pyramid and
//! almost all of its cells. The writer (Python `asciigrid.geotiff`) handles the other levels.

use rayon::prelude::*;

use crate::error::Error;
use crate::stats::only_nodata;
use crate::value::Value;

/// A cell type as an overview stores an average.
pub trait Averaged: Value {
    /// The cell for the mean of the valid source cells, converted as GDAL converts its
    /// average: integers are averaged in float32 (GDAL's overview work type), then rounded
    /// half away from zero (472.499992 becomes 472.5, then 473); floats are rounded to the
    /// nearest cell value, infinities kept.
    fn from_mean(mean: f64) -> Self;

    /// The cell of an overview cell with no valid source cell and no nodata value: NaN for
    /// floats, 0 for integers (what GDAL writes).
    fn empty() -> Self;
}

impl Averaged for f64 {
    fn from_mean(mean: f64) -> Self {
        mean
    }

    fn empty() -> Self {
        f64::NAN
    }
}

impl Averaged for f32 {
    fn from_mean(mean: f64) -> Self {
        mean as f32
    }

    fn empty() -> Self {
        f32::NAN
    }
}

impl Averaged for i32 {
    fn from_mean(mean: f64) -> Self {
        let mean = f64::from(mean as f32);
        (mean + 0.5f64.copysign(mean)).trunc() as i32
    }

    fn empty() -> Self {
        0
    }
}

/// The next overview level of `cells` (row-major, `ncols` wide, an even number of rows and
/// columns): each output cell the mean of its 2 × 2 source cells that are not nodata, the
/// nodata value where none is (GDAL's `AVERAGE`). A NaN that is not the nodata value is
/// averaged like any value, so its output cell is NaN, as in GDAL. Sums are taken in f64 in
/// a fixed order (each row's pair, then the two rows), so the result does not depend on
/// threads.
pub fn average_2x2<T: Averaged>(
    cells: &[T],
    ncols: usize,
    nodata: Option<f64>,
) -> Result<Vec<T>, Error> {
    if ncols == 0 || ncols % 2 != 0 || cells.len() % (2 * ncols) != 0 {
        return Err(Error::Invalid(format!(
            "internal: a 2 x 2 average needs an even number of rows and columns, got {} cells \
             in rows of {ncols}",
            cells.len()
        )));
    }
    let nodata = nodata.map(|v| T::from_f64(v).to_f64());
    let fill = nodata.map_or_else(T::empty, T::from_f64);
    let mut out = vec![fill; cells.len() / 4];
    // One loop per rule, so that the rule is not decided again for every cell.
    match nodata {
        None => halve(cells, ncols, &mut out, fill, |_| true, |_| false),
        Some(v) if v.is_nan() => halve(
            cells,
            ncols,
            &mut out,
            fill,
            |x| !x.is_nan(),
            |run| only_nodata(std::iter::once(run), v),
        ),
        Some(v) => halve(
            cells,
            ncols,
            &mut out,
            fill,
            |x| x != v,
            |run| only_nodata(std::iter::once(run), v),
        ),
    }
    Ok(out)
}

/// Source columns looked at together in [`halve`]: a run of them that holds only nodata (the
/// gaps between a mosaic's tiles, most of a national delivery) is skipped after one
/// comparison per cell instead of being averaged.
const RUN: usize = 64;

/// [`average_2x2`] with `valid` telling the cells to average, `none_valid` whether a run of
/// cells holds none, and `fill` for a cell with none (`out` holds it already).
/// Straight-line code per output cell, no branch: the compiler vectorizes it.
fn halve<T: Averaged>(
    cells: &[T],
    ncols: usize,
    out: &mut [T],
    fill: T,
    valid: impl Fn(f64) -> bool + Sync,
    none_valid: impl Fn(&[T]) -> bool + Sync,
) {
    let value = |x: f64| if valid(x) { x } else { 0.0 };
    let weight = |x: f64| if valid(x) { 1.0 } else { 0.0 };
    out.par_chunks_mut(ncols / 2)
        .zip(cells.par_chunks(2 * ncols))
        .for_each(|(out_row, pair)| {
            let (upper, lower) = pair.split_at(ncols);
            let runs = out_row
                .chunks_mut(RUN / 2)
                .zip(upper.chunks(RUN).zip(lower.chunks(RUN)));
            for (out_run, (upper, lower)) in runs {
                if none_valid(upper) && none_valid(lower) {
                    continue;
                }
                let quads = upper.chunks_exact(2).zip(lower.chunks_exact(2));
                for (cell, (up, low)) in out_run.iter_mut().zip(quads) {
                    let [a, b, c, d] = [up[0], up[1], low[0], low[1]].map(T::to_f64);
                    // Each row's pair first, as GDAL adds them.
                    let sum = (value(a) + value(b)) + (value(c) + value(d));
                    let count = (weight(a) + weight(b)) + (weight(c) + weight(d));
                    *cell = mean_cell(sum, count, fill);
                }
            }
        });
}

/// The overview cell of valid source cells adding up to `sum` with total weight `weight`:
/// their mean as [`Averaged::from_mean`] converts it, `fill` where there is none.
#[inline]
fn mean_cell<T: Averaged>(sum: f64, weight: f64, fill: T) -> T {
    if weight > 0.0 {
        T::from_mean(sum / weight)
    } else {
        fill
    }
}

/// The cells of an overview level whose axes do not both halve (the last small levels of a
/// pyramid, which the writer reduces itself with GDAL's weights): each the mean
/// `sums[i] / weights[i]` converted as [`average_2x2`] converts its means, the nodata value
/// (else [`Averaged::empty`]) where the weight is 0. One rule for every level of a pyramid.
pub fn cells_from_sums<T: Averaged>(
    sums: &[f64],
    weights: &[f64],
    nodata: Option<f64>,
) -> Result<Vec<T>, Error> {
    if sums.len() != weights.len() {
        return Err(Error::Invalid(format!(
            "internal: {} sums but {} weights",
            sums.len(),
            weights.len()
        )));
    }
    let fill = nodata.map_or_else(T::empty, T::from_f64);
    Ok(sums
        .iter()
        .zip(weights)
        .map(|(&sum, &weight)| mean_cell(sum, weight, fill))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_only_valid_cells() {
        let cells = [1.0f32, 3.0, -9.0, -9.0, 5.0, -9.0, -9.0, -9.0];
        let out = average_2x2(&cells, 4, Some(-9.0)).unwrap();
        assert_eq!(out, vec![3.0, -9.0]);
    }

    #[test]
    fn nan_that_is_not_nodata_spreads() {
        let cells = [1.0f64, f64::NAN, 2.0, 2.0];
        let out = average_2x2(&cells, 2, Some(-9.0)).unwrap();
        assert!(out[0].is_nan());
    }

    #[test]
    fn nan_nodata_is_left_out() {
        let cells = [1.0f64, f64::NAN, 2.0, f64::NAN];
        assert_eq!(average_2x2(&cells, 2, Some(f64::NAN)).unwrap(), vec![1.5]);
    }

    #[test]
    fn integers_round_half_away_from_zero() {
        assert_eq!(average_2x2(&[1i32, 2, 2, 2], 2, None).unwrap(), vec![2]);
        assert_eq!(
            average_2x2(&[-1i32, -2, -2, -2], 2, None).unwrap(),
            vec![-2]
        );
        assert_eq!(average_2x2(&[0i32, 0, 0, 1], 2, None).unwrap(), vec![0]);
    }

    #[test]
    fn empty_cells_without_nodata() {
        let out = average_2x2(&[f32::NAN; 4], 2, Some(f64::NAN)).unwrap();
        assert!(out[0].is_nan());
    }

    #[test]
    fn means_of_sums_convert_as_the_halving_levels_do() {
        let out: Vec<i32> =
            cells_from_sums(&[4.5, -5.0, 7.0], &[3.0, 2.0, 0.0], Some(-9.0)).unwrap();
        assert_eq!(out, vec![2, -3, -9]);
        let out: Vec<f32> = cells_from_sums(&[1.0], &[0.0], None).unwrap();
        assert!(out[0].is_nan());
        assert!(cells_from_sums::<f64>(&[1.0], &[], None).is_err());
    }

    /// Runs of nodata are skipped: the result is the cell-by-cell average wherever runs of
    /// data and of nodata begin and end (mid-run, at a run's edge, in a short last run).
    #[test]
    fn skipped_runs_of_nodata_change_nothing() {
        let ncols = 2 * RUN + 38;
        for &nodata in &[-9.0f32, f32::NAN] {
            for gap in [
                (0, RUN),
                (1, RUN + 1),
                (RUN - 2, 2 * RUN + 2),
                (2 * RUN, ncols),
            ] {
                let mut cells: Vec<f32> = (0..4 * ncols).map(|i| (i % 97) as f32).collect();
                for row in 0..4 {
                    cells[row * ncols + gap.0..row * ncols + gap.1].fill(nodata);
                }
                let got = average_2x2(&cells, ncols, Some(f64::from(nodata))).unwrap();
                for (k, cell) in got.iter().enumerate() {
                    let (r, c) = (2 * (k / (ncols / 2)), 2 * (k % (ncols / 2)));
                    let quad = [(r, c), (r, c + 1), (r + 1, c), (r + 1, c + 1)]
                        .map(|(r, c)| cells[r * ncols + c]);
                    let valid: Vec<f64> = quad
                        .iter()
                        .filter(|x| !(x.is_nan() || **x == nodata))
                        .map(|&x| f64::from(x))
                        .collect();
                    let want = if valid.is_empty() {
                        nodata
                    } else {
                        (valid.iter().sum::<f64>() / valid.len() as f64) as f32
                    };
                    assert!(
                        *cell == want || (cell.is_nan() && want.is_nan()),
                        "gap {gap:?}, cell {k}: {cell} != {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn odd_shapes_are_refused() {
        assert!(average_2x2(&[1.0f32; 6], 3, None).is_err());
        assert!(average_2x2(&[1.0f32; 6], 2, None).is_err());
    }
}
