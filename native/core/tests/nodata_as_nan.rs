//! `Control::nodata_as_nan`: a read's float cells equal to the grid's nodata come out as NaN
//! (every other cell as without it), in text read whole and in a file read window by window;
//! Int32 grids and the reported nodata are unchanged.

use asciigrid_core::{parse_grid, read, Control, GridData, Input};

fn grid_text(ncols: usize, nrows: usize, nodata: &str, float: bool) -> Vec<u8> {
    let mut text = format!(
        "ncols {ncols}\nnrows {nrows}\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value {nodata}\n"
    );
    for r in 0..nrows {
        let row: Vec<String> = (0..ncols)
            .map(|c| match (r * ncols + c) % 7 {
                0 => nodata.to_owned(),
                k if float => format!("{k}.25"),
                k => k.to_string(),
            })
            .collect();
        text.push_str(&row.join(" "));
        text.push('\n');
    }
    text.into_bytes()
}

/// The cells of `data` as f64, and whether each of `raw`'s nodata cells is NaN in `masked`
/// while every other cell is equal.
fn masked_as_expected(raw: &GridData, masked: &GridData, nodata: f64) -> bool {
    fn cells(d: &GridData) -> Vec<f64> {
        match d {
            GridData::Int32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            GridData::Float32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            GridData::Float64(v) => v.clone(),
        }
    }
    let (raw, masked) = (cells(raw), cells(masked));
    raw.len() == masked.len()
        && raw
            .iter()
            .zip(&masked)
            .all(|(&r, &m)| if r == nodata { m.is_nan() } else { r == m })
}

#[test]
fn nodata_cells_of_a_float_read_come_out_as_nan() {
    let masking = || Control::new().nodata_as_nan();
    // In memory, and a 6 MB file read window by window (several chunks each).
    let small = grid_text(300, 200, "-9999", true);
    let raw = parse_grid(&small, "small.asc", None, &Control::new()).expect("read");
    let masked = parse_grid(&small, "small.asc", None, &masking()).expect("read");
    assert!(matches!(masked.data, GridData::Float32(_)));
    assert_eq!(masked.nodata, Some(-9999.0));
    assert!(masked_as_expected(&raw.data, &masked.data, -9999.0));

    let large = grid_text(1500, 1000, "-3.4028234663852886e+38", true);
    let path = std::env::temp_dir().join(format!("asciigrid-nan-{}.asc", std::process::id()));
    std::fs::write(&path, &large).expect("a temporary file");
    let raw = read(Input::Path(&path), "large.asc", None, &Control::new());
    let masked = read(Input::Path(&path), "large.asc", None, &masking());
    let _ = std::fs::remove_file(&path);
    let (raw, masked) = (raw.expect("read"), masked.expect("read"));
    let nodata = raw.nodata.expect("a nodata");
    assert!(masked_as_expected(&raw.data, &masked.data, nodata));
    // Forced to float64 too.
    let masked64 = parse_grid(
        &small,
        "small.asc",
        Some(asciigrid_core::DataType::Float64),
        &masking(),
    )
    .expect("read");
    assert!(masked_as_expected(&raw_of(&small), &masked64.data, -9999.0));
}

fn raw_of(text: &[u8]) -> GridData {
    parse_grid(text, "small.asc", None, &Control::new())
        .expect("read")
        .data
}

#[test]
fn an_int32_read_is_unchanged() {
    let text = grid_text(300, 200, "-9999", false);
    let raw = parse_grid(&text, "int.asc", None, &Control::new()).expect("read");
    let masked = parse_grid(&text, "int.asc", None, &Control::new().nodata_as_nan()).expect("read");
    assert!(matches!(masked.data, GridData::Int32(_)));
    assert_eq!(raw.data, masked.data);
    assert_eq!(raw.nodata, masked.nodata);
}
