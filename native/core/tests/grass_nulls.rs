//! GRASS ASCII grids mark null cells with `*` (docs/FORMAT.md, "GRASS `*` null cells"): they
//! read as the `null:` value, or as `GRASS_NULL` without one, through every reader. GDAL 3.6
//! reads them as 0; the Python tests compare the rest of each grid with GDAL.

use std::io::Write;

use asciigrid_core::{
    read, read_header, summarize, Control, DataType, Error, ErrorKind, Grid, GridData, Input,
    GRASS_NULL, WINDOWED_MIN,
};

const HEADER: &str = "north: 2\nsouth: 0\neast: 3\nwest: 0\nrows: 2\ncols: 3\n";

fn grid(text: &str, dtype: Option<DataType>) -> Result<Grid, Error> {
    read(
        Input::Bytes(text.as_bytes()),
        "g.txt",
        dtype,
        &Control::new(),
    )
}

fn parse_error(r: Result<Grid, Error>) -> asciigrid_core::ParseError {
    match r {
        Err(Error::Parse(p)) => p,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn star_cells_take_the_null_value_of_the_header() {
    let g = grid(&format!("{HEADER}null: -9999\n1 * 3\n4 5 *\n"), None).unwrap();
    assert_eq!(g.data, GridData::Int32(vec![1, -9999, 3, 4, 5, -9999]));
    assert_eq!(g.nodata, Some(-9999.0));
}

#[test]
fn star_cells_without_a_null_line_read_as_int32_minimum_in_every_type() {
    let ints = grid(&format!("{HEADER}1 * 3\n4 5 6\n"), None).unwrap();
    assert_eq!(ints.data, GridData::Int32(vec![1, i32::MIN, 3, 4, 5, 6]));
    assert_eq!(ints.nodata, Some(GRASS_NULL));
    let floats = grid(&format!("{HEADER}1.5 * 3\n4 5 6\n"), None).unwrap();
    assert_eq!(
        floats.data,
        GridData::Float32(vec![1.5, GRASS_NULL as f32, 3.0, 4.0, 5.0, 6.0])
    );
    assert_eq!(floats.nodata, Some(GRASS_NULL));
    let doubles = grid(&format!("{HEADER}1 * 3\n4 5 6\n"), Some(DataType::Float64)).unwrap();
    assert_eq!(
        doubles.data,
        GridData::Float64(vec![1.0, GRASS_NULL, 3.0, 4.0, 5.0, 6.0])
    );
}

#[test]
fn null_line_naming_the_star_is_the_same_as_none() {
    let g = grid(&format!("{HEADER}null: *\n1 * 3\n4 5 0\n"), None).unwrap();
    assert_eq!(g.data, GridData::Int32(vec![1, i32::MIN, 3, 4, 5, 0]));
    assert_eq!(g.nodata, Some(GRASS_NULL));
}

#[test]
fn read_header_reports_the_nodata_read_gives_without_reading_the_body() {
    for body in ["1 * 3\n4 5 6\n", "1.5 2 3\n4 5 6\n"] {
        let text = format!("{HEADER}{body}");
        let h = read_header(Input::Bytes(text.as_bytes()), "g.txt").unwrap();
        let g = grid(&text, None).unwrap();
        let dtype = h.nodata_data_type().unwrap_or(DataType::Int32);
        assert_eq!(h.nodata_for(dtype), g.nodata, "{body}");
    }
}

#[test]
fn a_data_cell_holding_the_reserved_value_is_a_located_error() {
    for (body, dtype) in [
        ("1 2 3\n4 -2147483648 6\n", None),
        ("1 2 3\n4 -2147483648 6\n", Some(DataType::Float64)),
        // Rounds to -2^31 in float32.
        ("1.5 2 3\n4 -2147483600 6\n", None),
        ("1.5 2 3\n4 -2.147483648e9 6\n", None),
    ] {
        let e = parse_error(grid(&format!("{HEADER}{body}"), dtype));
        assert_eq!((e.line, e.column), (8, 3), "{body}");
        assert_eq!(e.kind, ErrorKind::NodataCollision, "{e}");
    }
}

#[test]
fn the_reserved_value_is_data_when_the_header_names_a_null_value() {
    let g = grid(&format!("{HEADER}null: -1\n1 * 3\n4 -2147483648 6\n"), None).unwrap();
    assert_eq!(g.data, GridData::Int32(vec![1, -1, 3, 4, i32::MIN, 6]));
}

#[test]
fn star_is_an_error_in_an_esri_grid() {
    let text = "ncols 3\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 * 3\n";
    let e = parse_error(grid(text, None));
    assert_eq!((e.line, e.column), (6, 3));
    assert_eq!(e.kind, ErrorKind::BadValue, "{e}");
}

#[test]
fn only_a_lone_star_is_a_null_cell() {
    for token in ["**", "*1", "1*", "-*"] {
        let e = parse_error(grid(&format!("{HEADER}1 {token} 3\n4 5 6\n"), None));
        assert_eq!((e.line, e.column), (7, 3), "{token}");
    }
}

#[test]
fn a_null_value_the_type_cannot_hold_makes_star_cells_an_error() {
    let text = format!("{HEADER}null: -9999.5\n1 * 3\n4 5 6\n");
    let e = parse_error(grid(&text, Some(DataType::Int32)));
    assert_eq!((e.line, e.column), (8, 3));
    assert_eq!(e.kind, ErrorKind::DtypeTooNarrow, "{e}");
}

#[test]
fn statistics_count_star_cells_as_nodata() {
    for null in ["", "null: -9999\n"] {
        let text = format!("{HEADER}{null}1 * 3\n* 5.5 6\n");
        let s = summarize(
            Input::Bytes(text.as_bytes()),
            "g.txt",
            None,
            None,
            &Control::new(),
        )
        .unwrap();
        assert_eq!((s.count, s.nodata_count), (4, 2), "{null:?}");
        assert_eq!((s.min, s.max), (Some(1.0), Some(6.0)));
    }
}

#[test]
fn star_cells_read_alike_window_by_window_and_whole() {
    let (ncols, rows) = (1000, 900);
    let mut text =
        format!("north: {rows}\nsouth: 0\neast: {ncols}\nwest: 0\nrows: {rows}\ncols: {ncols}\n");
    for i in 0..ncols * rows {
        text.push_str(if i % 7 == 3 { "*" } else { "12.25" });
        text.push_str(if i % ncols == ncols - 1 { "\n" } else { " " });
    }
    assert!(text.len() as u64 >= WINDOWED_MIN);
    let mut file = tempfile::Builder::new().suffix(".txt").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file.flush().unwrap();
    let windowed = read(Input::Path(file.path()), "g.txt", None, &Control::new()).unwrap();
    let whole = grid(&text, None).unwrap();
    assert_eq!(windowed, whole);
    let GridData::Float32(cells) = &whole.data else {
        panic!("float32 expected");
    };
    let nulls = cells
        .iter()
        .filter(|&&v| f64::from(v) == GRASS_NULL)
        .count();
    assert_eq!(nulls, (0..ncols * rows).filter(|i| i % 7 == 3).count());
    let s = summarize(
        Input::Path(file.path()),
        "g.txt",
        None,
        None,
        &Control::new(),
    )
    .unwrap();
    assert_eq!(s.nodata_count, nulls as u64);
}
