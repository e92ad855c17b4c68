//! Cells of one value replaced by another in place: a read's nodata cells turned into NaN as
//! each chunk is parsed (see [`crate::Control::nodata_as_nan`]), the masking xarray's CF
//! decoding does, without the second grid-sized array (and the boolean one) that numpy's
//! `putmask(a, a == nodata, nan)` needs.

/// Replace every cell equal to `from` with `to`. A NaN `from` equals no cell, so nothing
/// changes (those cells are NaN already). Written as a select, not a branch, so that it
/// compiles to vector compares and blends: as a branch, masking a 64 MB grid's chunks as
/// they were parsed cost 3 ms.
pub(crate) fn replace_all<T: Copy + PartialEq>(cells: &mut [T], from: T, to: T) {
    for cell in cells {
        *cell = if *cell == from { to } else { *cell };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_of_the_value_are_replaced_and_others_stay() {
        let mut cells: Vec<f32> = (0..200_000).map(|i| (i % 7) as f32).collect();
        cells[3] = -9999.0;
        cells[199_999] = -9999.0;
        replace_all(&mut cells, -9999.0, f32::NAN);
        assert!(cells[3].is_nan() && cells[199_999].is_nan());
        assert_eq!(cells.iter().filter(|c| c.is_nan()).count(), 2);
        assert_eq!(cells[4], 4.0);
    }

    #[test]
    fn nan_is_never_found() {
        let mut cells = vec![1.0f64, f64::NAN, 2.0];
        replace_all(&mut cells, f64::NAN, 0.0);
        assert_eq!(cells[0], 1.0);
        assert!(cells[1].is_nan());
    }
}
