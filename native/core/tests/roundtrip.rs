//! Property: what `write_grid` writes, `read` gives back exactly (values, data type,
//! geotransform, nodata), for every data type, shape and cell-size form.

use asciigrid_core::{read, write_grid, Cells, Control, DataType, GridData, Input, WriteOptions};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Data {
    Int(Vec<i32>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

fn grid() -> impl Strategy<Value = (usize, usize, Data)> {
    (1usize..12, 1usize..12).prop_flat_map(|(rows, cols)| {
        let n = rows * cols;
        let data = prop_oneof![
            prop::collection::vec(any::<i32>(), n).prop_map(Data::Int),
            // GDAL clamps infinities to ±FLT_MAX in Float32 grids, so only finite f32s can
            // survive a round trip; subnormals and ±FLT_MAX included.
            prop::collection::vec(any::<f32>().prop_filter("finite", |v| v.is_finite()), n)
                .prop_map(Data::F32),
            prop::collection::vec(any::<f64>(), n).prop_map(Data::F64),
        ];
        (Just(rows), Just(cols), data)
    })
}

fn same_f64(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn write_then_read_is_identity(
        (rows, cols, data) in grid(),
        west in -1e7f64..1e7,
        north in -1e7f64..1e7,
        dx in 1e-6f64..1e4,
        square in any::<bool>(),
        dy_factor in 0.1f64..10.0,
        nodata in prop::option::of(-100_000i32..100_000),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("g.asc");
        let dy = if square { dx } else { dx * dy_factor };
        let opts = WriteOptions { ncols: cols, west, north, dx, dy, nodata: nodata.map(f64::from), precision: None };
        let cells = match &data {
            Data::Int(v) => Cells::Int32(v),
            Data::F32(v) => Cells::Float32(v),
            Data::F64(v) => Cells::Float64(v),
        };
        write_grid(&path, cells, &opts, &Control::new()).expect("write");
        let forced = match &data {
            Data::Int(_) => DataType::Int32,
            Data::F32(_) => DataType::Float32,
            Data::F64(_) => DataType::Float64,
        };
        let g = read(Input::Path(&path), "g.asc", Some(forced), &Control::new()).expect("read");
        prop_assert_eq!((g.header.nrows, g.header.ncols), (rows, cols));
        let gt = g.header.geotransform();
        prop_assert_eq!([gt[0], gt[1], gt[2], gt[4], gt[5]], [west, dx, 0.0, 0.0, -dy]);
        // The file stores yllcorner, and readers compute north = yll + nrows * dy; the writer
        // picks the yll that gives `north` back exactly whenever a double allows it, which
        // leaves at most one ulp of the (coarser) yll when none does.
        let ulp = (north.abs().max((north - rows as f64 * dy).abs())) * f64::EPSILON;
        prop_assert!((gt[3] - north).abs() <= ulp, "north {} -> {}", north, gt[3]);
        prop_assert_eq!(g.nodata, nodata.map(|v| match forced {
            DataType::Float32 => f64::from(v as f32),
            _ => f64::from(v),
        }));
        match (&data, &g.data) {
            (Data::Int(a), GridData::Int32(b)) => prop_assert_eq!(a, b),
            (Data::F32(a), GridData::Float32(b)) => {
                prop_assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
            }
            (Data::F64(a), GridData::Float64(b)) => {
                prop_assert!(a.iter().zip(b).all(|(x, y)| same_f64(*x, *y)));
            }
            (a, b) => prop_assert!(false, "type changed: {:?} -> {:?}", a, b.data_type()),
        }
        // Without forcing, an integer grid stays Int32 and a float32 one Float32 (the text
        // keeps GDAL's float markers).
        if !matches!(data, Data::F64(_)) {
            let auto = read(Input::Path(&path), "g.asc", None, &Control::new()).expect("read");
            prop_assert_eq!(auto.data.data_type(), forced);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        prop_assert_eq!(leftovers.len(), 1, "temporary files left behind");
    }
}

#[test]
fn failed_write_leaves_target_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("g.asc");
    std::fs::write(&path, "old").expect("seed");
    let opts = WriteOptions {
        ncols: 3,
        west: 0.0,
        north: 0.0,
        dx: 1.0,
        dy: 1.0,
        nodata: None,
        precision: None,
    };
    let control = Control::new();
    control.cancel();
    let r = write_grid(&path, Cells::Int32(&[1, 2, 3]), &opts, &control);
    assert!(matches!(r, Err(asciigrid_core::Error::Cancelled)), "{r:?}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
}
