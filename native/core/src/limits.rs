//! What a header may promise, checked before a body is read: a body long enough for the
//! values it announces, memory enough for its cells. Every way in (whole text, windows of a
//! file, decompressed streams) runs the same checks, so they live below all of them rather
//! than in [`crate::grid`].

use crate::error::{Error, ErrorKind, Located};
use crate::header::Header;

/// `n` cells of `fill`, or an error (never an abort) when memory cannot hold them. The
/// fallible reservation is only a probe: `vec!` then allocates zeroed memory lazily, which
/// keeps large reads fast.
pub(crate) fn alloc_cells<T: Clone>(n: usize, fill: T, name: &str) -> Result<Vec<T>, Error> {
    check_cells_fit(n as u64, std::mem::size_of::<T>(), name)?;
    let mut cells = vec![fill; n];
    crate::memory::advise_huge_pages(&mut cells);
    Ok(cells)
}

/// An empty vector with room for `n` cells, none written yet (for a reader that writes every
/// cell itself, [`crate::body::fill_fresh`]), or an error (never an abort) when memory cannot
/// hold them. Nothing zeroes the memory first: zeroing 1.3 MB of cells took up to 1 ms of a
/// 3 ms read when the allocator handed out memory another program's read had just freed.
pub(crate) fn room_for_cells<T>(n: usize, name: &str) -> Result<Vec<T>, Error> {
    let mut cells = Vec::new();
    cells.try_reserve_exact(n).map_err(|_| {
        Error::Invalid(format!(
            "{name}: {n} cells of {} bytes do not fit in memory",
            std::mem::size_of::<T>()
        ))
    })?;
    crate::memory::advise_huge_pages(cells.spare_capacity_mut());
    Ok(cells)
}

/// An error unless memory can hold `n` cells of `size` bytes: a fallible reservation, given
/// back at once (a probe, so a read is refused before it reads or decompresses its body).
pub(crate) fn check_cells_fit(n: u64, size: usize, name: &str) -> Result<(), Error> {
    let too_big = || {
        Error::Invalid(format!(
            "{name}: {n} cells of {size} bytes do not fit in memory"
        ))
    };
    let bytes = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(size))
        .ok_or_else(too_big)?;
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(bytes).map_err(|_| too_big())?;
    Ok(())
}

/// The fewest body bytes that can hold the header's values: each value takes at least one
/// byte, and a separator stands between two.
pub(crate) fn min_body_len(header: &Header) -> u64 {
    header.cells().saturating_mul(2).saturating_sub(1)
}

/// Refuse, before allocating anything, a header that promises more cells than the body can
/// hold (see [`min_body_len`]).
pub(crate) fn check_room(
    header: &Header,
    body_len: u64,
    name: &str,
    text: &[u8],
) -> Result<(), Error> {
    let cells = header.cells();
    let need = min_body_len(header);
    if body_len < need {
        return Err(Error::Parse(
            Located::new(
                header.body_offset as u64,
                ErrorKind::TooFewValues,
                format!(
                    "the header promises {} × {} = {cells} values, which need at least {need} \
                     bytes, but only {body_len} bytes follow the header",
                    header.ncols, header.nrows
                ),
            )
            .locate(name, text),
        ));
    }
    Ok(())
}
