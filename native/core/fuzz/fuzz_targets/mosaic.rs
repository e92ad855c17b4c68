//! Mosaic plans of arbitrary tiles (the input split at 0xFF bytes, one tile per piece): nothing
//! a tile's header or body says may panic the plan or its reads (extreme origins and cell
//! sizes, headers promising more values than their bytes hold, nodata collisions, mixed
//! types). Every placed tile lies inside the mosaic, and the rows read have the mosaic's size.
#![no_main]

use std::sync::Arc;

use asciigrid_core::{Control, Error, OwnedInput, Plan};
use libfuzzer_sys::fuzz_target;

#[path = "../common/selector.rs"]
mod selector;

/// Mosaics larger than this are planned but not read (their memory is not the point here).
const MAX_READ_CELLS: u64 = 1 << 22;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let dtype = selector::data_type(selector);
    let skip_errors = selector & 4 != 0;
    let nodata = (selector & 8 != 0).then_some(-1.0);
    let tiles: Vec<(OwnedInput, String)> = text
        .split(|&b| b == 0xFF)
        .take(8)
        .enumerate()
        .map(|(i, t)| (OwnedInput::Bytes(Arc::from(t)), format!("t{i}.asc")))
        .collect();
    // Tiles 0 and 1 share a CRS key, tile 2 has another one, the rest none.
    let crs = [Some(0), Some(0), Some(1)];
    let crs = if selector & 16 != 0 { &crs[..] } else { &[] };
    let c = Control::new();
    let plan = match Plan::new(tiles, dtype, nodata, skip_errors, crs, &c) {
        Ok(p) => p,
        Err(Error::Cancelled) => panic!("cancelled without a cancel"),
        Err(_) => return,
    };
    let h = &plan.header;
    for t in &plan.tiles {
        assert!(
            t.place.col + t.place.ncols <= h.ncols,
            "{} past the east edge",
            t.name
        );
        assert!(
            t.place.row + t.place.nrows <= h.nrows,
            "{} past the south edge",
            t.name
        );
    }
    assert_eq!(plan.bands.iter().map(|b| b.1).sum::<usize>(), h.nrows);
    if h.cells() > MAX_READ_CELLS {
        return;
    }
    if let Ok((grid, _)) = plan.read_rows(0, h.nrows, skip_errors, &c) {
        assert_eq!(grid.len() as u64, h.cells());
        assert_eq!(grid.data_type(), plan.data_type);
    }
});
