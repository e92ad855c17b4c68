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
//! The public API is this page: every module is private and only what a library user needs
//! is re-exported here (the bindings use nothing else). Reading: [`read`], [`read_header`],
//! [`parse_grid`] from an [`Input`] (a path, bytes, a zip member); statistics: [`summarize`],
//! [`summarize_all`], [`summarize_block_row`]; mosaics: [`Plan`]; zip deliveries:
//! [`find_tiles`], [`resolve_member`]; writing: [`write_grid`], [`stage_grid`]; GeoTIFF
//! overviews: [`average_2x2`]. Progress, cancel and warnings go through a [`Control`]; every
//! failure is an [`Error`].
//!
//! The fuzz targets and benchmark examples also drive the parser's passes directly: those
//! pieces are re-exported, undocumented and unstable, under the `internals` feature.
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod archive;
mod body;
mod chunk;
mod control;
mod error;
mod grid;
mod header;
mod input;
#[cfg(test)]
mod layering;
mod limits;
mod mask;
mod memory;
mod mosaic;
mod overview;
mod parallel;
mod pipe;
mod rows;
mod scan;
mod short_tokens;
mod source;
mod stats;
mod stream;
mod trailing;
mod value;
mod window;
mod writer;

pub use archive::{
    find_tiles, member_prj, resolve_member, resolve_members, FoundTile, Member, MemberSource,
};
pub use control::{Control, TrailingKind, Warning};
pub use error::{os_message, Error, ErrorKind, ParseError};
pub use grid::{parse_grid, read, read_header, read_member, CellsMut, Grid, GridData};
pub use header::{Header, Nodata, NodataValue, Origin, GRASS_NULL};
pub use input::{archive_members, Input, OwnedInput};
pub use memory::release_free_memory;
pub use mosaic::{Placement, Plan, Tile};
pub use overview::{average_2x2, cells_from_sums, Averaged};
pub use rows::GridRows;
pub use source::{is_gzip, load_reader, max_inflated, BODY_SLACK, MAX_BYTES_PER_VALUE};
pub use stats::{
    blocks_with_data, summarize, summarize_all, summarize_block_row, HistogramSpec, StatsOptions,
    Summary,
};
pub use value::{DataType, Value};
pub use window::WINDOWED_MIN;
pub use writer::{stage_grid, write_grid, Cells, StagedGrid, WriteOptions, MAX_PRECISION};

/// The parser's passes, for the fuzz targets (`native/core/fuzz`) and the benchmark examples
/// only: not a stable API, and not built without the `internals` feature.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::body::{fill, parse_chunk, Nulls, Sink, SliceSink};
    pub use crate::chunk::{Stop, Survey};
    pub use crate::error::Located;
    pub use crate::header::{parse_header, parse_whole_header, HeaderParse};
    pub use crate::scan::{after_token, count_tokens, fixed_chunks, is_space, ChunkCount};
    pub use crate::value::{f64_to_f32_clamped, parse_f64};
    pub use crate::window::{ChunkText, InMemory, Opened, WindowedFile};
}
