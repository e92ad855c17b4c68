//! Nodata cells of a float grid turned into NaN in place: the masking xarray's CF decoding
//! does for the xarray backend, in parallel and without the second grid-sized array (and the
//! boolean one) that numpy's `putmask(a, a == nodata, nan)` needs.

use rayon::prelude::*;

/// Cells per parallel task: large enough that scheduling costs nothing, small enough that
/// both cores share a 16 M-cell grid evenly.
const CHUNK: usize = 1 << 16;

/// A float cell type that can hold NaN.
pub trait Maskable: Copy + PartialEq + Send + Sync {
    /// The value written over nodata cells.
    const NAN: Self;
}

impl Maskable for f32 {
    const NAN: Self = f32::NAN;
}

impl Maskable for f64 {
    const NAN: Self = f64::NAN;
}

/// Replace every cell equal to `nodata` with NaN; returns how many were replaced. A NaN
/// `nodata` equals no cell, so nothing changes (those cells are NaN already).
pub fn nodata_to_nan<T: Maskable>(cells: &mut [T], nodata: T) -> usize {
    cells
        .par_chunks_mut(CHUNK)
        .map(|chunk| {
            let mut replaced = 0;
            for cell in chunk {
                if *cell == nodata {
                    *cell = T::NAN;
                    replaced += 1;
                }
            }
            replaced
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodata_cells_become_nan_and_others_stay() {
        let mut cells: Vec<f32> = (0..200_000).map(|i| (i % 7) as f32).collect();
        cells[3] = -9999.0;
        cells[199_999] = -9999.0;
        assert_eq!(nodata_to_nan(&mut cells, -9999.0), 2);
        assert!(cells[3].is_nan() && cells[199_999].is_nan());
        assert_eq!(cells.iter().filter(|c| c.is_nan()).count(), 2);
        assert_eq!(cells[4], 4.0);
    }

    #[test]
    fn nan_nodata_changes_nothing() {
        let mut cells = vec![1.0f64, f64::NAN, 2.0];
        assert_eq!(nodata_to_nan(&mut cells, f64::NAN), 0);
        assert_eq!(cells[0], 1.0);
        assert!(cells[1].is_nan());
    }
}
