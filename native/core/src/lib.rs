//! # asciigrid-core
//!
//! A fast, strict reader and writer of ESRI ASCII grids (`.asc`) that gives exactly the values
//! GDAL's AAIGrid driver gives, and refuses, with a file:line:column error, every input GDAL
//! would silently turn into wrong data. No Python here: the PyO3 binding is a separate crate.
//!
//! ```
//! use asciigrid_core::{parse_grid, Control, GridData};
//! let text = b"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n";
//! let grid = parse_grid(text, "mem.asc", None, &Control::new()).unwrap();
//! assert_eq!(grid.data, GridData::Int32(vec![1, 2]));
//! ```
//!
//! Layout: [`header`] (nom) → [`scan`] (first pass: chunks and counts) → [`body`] (second
//! pass, generic over [`value::Value`] and [`body::Sink`]) → [`grid`], [`stats`], [`mosaic`];
//! [`writer`] for output.
#![warn(missing_docs)]

pub mod archive;
pub mod body;
pub mod control;
pub mod error;
pub mod grid;
pub mod header;
pub mod mask;
pub mod memory;
pub mod mosaic;
pub mod overview;
pub mod pipe;
pub mod scan;
pub mod source;
pub mod stats;
pub mod stream;
pub mod trailing;
pub mod value;
pub mod window;
pub mod writer;

pub use control::Control;
pub use error::{Error, ParseError};
pub use grid::{parse_grid, read, read_header, Grid, GridData};
pub use header::{Header, Nodata, Origin};
pub use source::{Input, OwnedInput};
pub use trailing::{TrailingKind, Warning};
pub use value::DataType;
pub use writer::{stage_grid, write_grid, Cells, StagedGrid, WriteOptions};
