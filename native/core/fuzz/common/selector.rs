//! What a target's selector byte means where targets share it (`#[path]`-included: fuzz
//! targets are separate binaries with no library of their own).

use asciigrid_core::DataType;

/// The data type the two low bits of `selector` ask for: GDAL's choice, or a forced one.
pub fn data_type(selector: u8) -> Option<DataType> {
    match selector & 3 {
        0 => None,
        1 => Some(DataType::Int32),
        2 => Some(DataType::Float32),
        _ => Some(DataType::Float64),
    }
}
