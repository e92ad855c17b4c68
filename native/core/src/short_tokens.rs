//! Blocks of short tokens, read whole: when every token of a 64-byte block is a short plain
//! number (`[-]digits`, and in a float grid `[-]digits.digits`), where each starts and ends,
//! its sign and its dot are known for the whole block at once from the block's byte masks.
//! Each value then costs a load, a shift or two and [`eight_digits`]'s multiplications: no
//! search for its end, no check of its layout against the previous token's. Grids whose
//! tokens vary in length this way (flow directions `16 8 128 1`, `28.0625 28.16667 -9999`,
//! issue #12) read as fast as grids of one layout. Any other block goes token by token.

use crate::scan::TokenMasks;
use crate::value::{eight_digits, four_digits, DataType, Value};

/// The most tokens a 64-byte block can start and end: each needs a separator after it.
pub(crate) const MOST: usize = 32;

/// The complete tokens among `starts` in a 64-byte block, when every one is `[-]digits` of
/// at most seven digits, or in a float grid `[-]digits.digits` (either run may be empty, not
/// both) of at most seven digits and eight bytes after the sign. `digits` holds each byte's
/// digit value, 0 for any other byte (see [`crate::scan::token_masks`]), then 8 bytes of
/// zeros: a token near the block's end is read with one 8-byte load. The values are written,
/// in order, to `out`, as GDAL reads them into `T`; returns which of `starts` were read and
/// how many (none if no token is complete). `None` when any is not such a token: the caller
/// reads them all one by one, and finds the error if there is one.
///
/// A token reaching the block's last byte may go on in the next block: it is left to the
/// caller, as is any token `starts` leaves out. `inside` is `!masks.space`.
#[inline(always)]
pub(crate) fn read_block<T: Value>(
    digits: &[u8; 72],
    masks: &TokenMasks,
    starts: u64,
    inside: u64,
    out: &mut [T; MOST],
) -> Option<(u64, usize)> {
    let open = if inside >> 63 != 0 && starts != 0 {
        1u64 << (63 - starts.leading_zeros())
    } else {
        0
    };
    let read = starts & !open;
    if read == 0 {
        // Nothing to read here: no token, or one long token, or one the caller skips.
        return Some((0, 0));
    }
    // The bytes of the tokens read: from the first's start to the last's end, which a
    // separator in the block follows (the token reaching the end is not among them).
    let first = read.trailing_zeros();
    let last = 63 - read.leading_zeros();
    let stop = (!inside & (u64::MAX << last)).trailing_zeros();
    let below_stop = 1u64.checked_shl(stop).map_or(u64::MAX, |bit| bit - 1);
    let own = inside & (u64::MAX << first) & below_stop;
    // Digits, dots (not in an Int32 grid: `5.` is no integer), and a `-` at a token's start
    // that one of them follows.
    let dots = if T::DATA_TYPE == DataType::Int32 {
        0
    } else {
        masks.dot & own
    };
    let plain = masks.digit | dots;
    let signs = masks.minus & read;
    if own & !plain != signs || (signs << 1) & !plain != 0 {
        return None;
    }
    let ends = own & !(own >> 1);
    let n = if dots != 0 {
        decimals(digits, masks.digit, own, read, ends, signs, dots, out)?
    } else {
        // Runs of 2, 4 and 8 token bytes.
        let two = own & (own >> 1);
        let four = two & (two >> 2);
        if four & (four >> 4) != 0 {
            return None;
        }
        if own == read {
            // Single digits (classes, masks, the zeros of flood outputs).
            integers(read, ends, signs, out, |start, _| u32::from(digits[start]))
        } else if four & (own >> 4) == 0 {
            // At most four bytes (flow directions, classes): one multiplication less.
            integers(read, ends, signs, out, |start, len| {
                let mut word = [0u8; 4];
                word.copy_from_slice(&digits[start..start + 4]);
                four_digits(u32::from_le_bytes(word) << (32 - 8 * len))
            })
        } else {
            integers(read, ends, signs, out, |start, len| {
                let mut word = [0u8; 8];
                word.copy_from_slice(&digits[start..start + 8]);
                // At most seven digits: below 10^7, so the cast never wraps.
                eight_digits(u64::from_le_bytes(word) << (64 - 8 * len)) as u32
            })
        }
    };
    Some((read, n))
}

/// The values of the integers starting at `starts` and ending at `ends` (their last bytes),
/// negative where `signs` has their start, into `out`; `magnitude(start, len)` reads one
/// token's digits, its `-` read as a leading 0 digit (`start` below 64, `len` from 1 to 7:
/// the digits moved to the top of the word, the first the most significant, and the bytes
/// past the token shifted out). Returns how many.
#[inline(always)]
fn integers<T: Value>(
    mut starts: u64,
    mut ends: u64,
    signs: u64,
    out: &mut [T; MOST],
    magnitude: impl Fn(usize, usize) -> u32,
) -> usize {
    let mut n = 0;
    while starts != 0 {
        let start = starts.trailing_zeros() as usize;
        let end = ends.trailing_zeros() as usize;
        starts &= starts - 1;
        ends &= ends - 1;
        // The sign applied to the value, not to the integer: `-0` is -0.0 in a float grid.
        let negative = (signs >> start) & 1 != 0;
        let v = u64::from(magnitude(start & 63, end + 1 - start));
        out[n & (MOST - 1)] = T::from_short_decimal(negative, v, 0);
        n += 1;
    }
    n
}

/// The values of the tokens `read` (their bytes `own`, their last bytes `ends`) of a block
/// with `dots`, negative where `signs` has their start, into `out`: how many, or `None` if
/// one has two dots, a dot without a digit beside it (`.`, `-.`) or more than seven digits.
/// `digit` is the block's digits, `digits` their values.
///
/// Each dot is closed up first, for the whole block: the bytes after it in its token move
/// down one ([`close_dots`]). A token is then an integer (its `-` a leading 0 digit, as in
/// [`integers`]) and its count of decimals, from three masks read in step.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn decimals<T: Value>(
    digits: &[u8; 72],
    digit: u64,
    own: u64,
    read: u64,
    ends: u64,
    signs: u64,
    dots: u64,
    out: &mut [T; MOST],
) -> Option<usize> {
    // Adding a token's dot bit carries through the token's bytes after it: `spans` holds each
    // dot's token from the dot to one past its end. A second dot in a token is then left out.
    let spans = own ^ own.wrapping_add(dots);
    if spans & dots != dots || dots & !((digit << 1) | (digit >> 1)) != 0 {
        return None;
    }
    let dotted_ends = ends & spans;
    let plain_ends = ends & !spans;
    // At most seven digits: no run of eight once the dots are closed up.
    let unsigned = own & !dotted_ends & !signs;
    let two = unsigned & (unsigned >> 1);
    let four = two & (two >> 2);
    if four & (four >> 4) != 0 {
        return None;
    }
    let digits = close_dots(digits, spans & own & !dotted_ends);
    // Each token's last byte once closed up, and where its decimals start: its dot, or past
    // its end (none).
    let mut ends = plain_ends | (dotted_ends >> 1);
    let mut points = dots | (plain_ends << 1);
    let mut starts = read;
    let mut n = 0;
    while starts != 0 {
        let start = starts.trailing_zeros() as usize;
        let end = ends.trailing_zeros() as usize;
        let point = points.trailing_zeros() as usize;
        starts &= starts - 1;
        ends &= ends - 1;
        points &= points - 1;
        let len = end + 1 - start;
        let mut word = [0u8; 8];
        word.copy_from_slice(&digits[start & 63..(start & 63) + 8]);
        let mantissa = eight_digits(u64::from_le_bytes(word) << ((64 - 8 * len) & 63));
        let negative = (signs >> start) & 1 != 0;
        out[n & (MOST - 1)] = T::from_short_decimal(negative, mantissa, (end + 1 - point) & 7);
        n += 1;
    }
    Some(n)
}

/// `digits` with each byte of `moved` replaced by the byte after it.
#[inline(always)]
fn close_dots(digits: &[u8; 72], moved: u64) -> [u8; 72] {
    let mut out = [0u8; 72];
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_and_si128, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128,
            _mm_or_si128, _mm_set1_epi64x, _mm_set_epi64x, _mm_storeu_si128,
        };
        // SAFETY: SSE2 is part of the x86-64 baseline. Each lane reads bytes 16k .. 16k + 17
        // of the 72 of `digits` (at most 65) and writes 16 of the 72 of `out`.
        unsafe {
            // Bit j of a byte's mask byte, at byte j of each 8: a byte is selected where the
            // mask bit is set.
            let pattern = _mm_set1_epi64x(0x8040_2010_0804_0201_u64 as i64);
            for lane in 0..4 {
                let here = _mm_loadu_si128(digits.as_ptr().add(16 * lane).cast::<__m128i>());
                let next = _mm_loadu_si128(digits.as_ptr().add(16 * lane + 1).cast::<__m128i>());
                let bits = moved >> (16 * lane);
                let spread = |byte: u64| ((byte & 0xff) * 0x0101_0101_0101_0101) as i64;
                let wanted = _mm_set_epi64x(spread(bits >> 8), spread(bits));
                let select = _mm_cmpeq_epi8(_mm_and_si128(wanted, pattern), pattern);
                let closed =
                    _mm_or_si128(_mm_and_si128(select, next), _mm_andnot_si128(select, here));
                _mm_storeu_si128(out.as_mut_ptr().add(16 * lane).cast::<__m128i>(), closed);
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        out = close_dots_portable(digits, moved);
    }
    out
}

/// [`close_dots`] on any CPU (compiled everywhere, so x86 tests check it too).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn close_dots_portable(digits: &[u8; 72], moved: u64) -> [u8; 72] {
    let mut out = [0u8; 72];
    for k in 0..64 {
        out[k] = digits[k + usize::from((moved >> k) & 1 != 0)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::token_masks;

    /// `read_block` of `text` (at most 64 bytes, padded with spaces) as `T`, starting at
    /// every token.
    fn read<T: Value>(text: &[u8]) -> Option<Vec<T>> {
        let mut block = [b' '; 64];
        block[..text.len()].copy_from_slice(text);
        let mut digits = [0u8; 72];
        let masks = token_masks(&block, &mut digits);
        let inside = !masks.space;
        let starts = inside & !(inside << 1);
        let mut out = [T::default(); MOST];
        let (_, n) = read_block(&digits, &masks, starts, inside, &mut out)?;
        Some(out[..n].to_vec())
    }

    #[test]
    fn short_integers_are_read() {
        assert_eq!(read::<i32>(b"16 8 128 1"), Some(vec![16, 8, 128, 1]));
        assert_eq!(
            read::<i32>(b" -9999\t0 -1\r\n1234567 007 -0"),
            Some(vec![-9999, 0, -1, 1_234_567, 7, 0])
        );
        assert_eq!(read::<f32>(b"1 2 -3"), Some(vec![1.0, 2.0, -3.0]));
        // `-0` is GDAL's -0.0 (strtod's), in a block of integers too.
        let zeros = read::<f32>(b"-0 0 -000").unwrap_or_default();
        let signs: Vec<bool> = zeros.iter().map(|z| z.is_sign_negative()).collect();
        assert_eq!(signs, [true, false, true]);
    }

    #[test]
    fn short_decimals_are_read_as_gdal_reads_them() {
        let text = b"28.0625 28.16667 -9999 .5 5. -.5 -0.0 1234.567 -9.999999 0.1";
        let want: Vec<f64> = text
            .split(|&b| b == b' ')
            .filter_map(crate::value::parse_f64)
            .collect();
        assert_eq!(read::<f64>(text), Some(want.clone()));
        let want32: Vec<u32> = want.iter().map(|&v| (v as f32).to_bits()).collect();
        let got32 = read::<f32>(text).map(|v| v.iter().map(|x| x.to_bits()).collect());
        assert_eq!(got32, Some(want32));
    }

    #[test]
    fn anything_else_goes_token_by_token() {
        for text in [
            &b"1 2 12345678 3"[..],
            b"1 - 2",
            b"1 2-3",
            b"1 --2",
            b"+1 2",
            b"1 2 x",
            b"1 -12345678",
            b"1 2.5.1",
            b"1 . 2",
            b"1 -. 2",
            b"1 1234567.8",
            b"1 12345.678",
            b"1 1.5e3",
            b"1 1,5",
            b"1 -.12345678",
        ] {
            let shown = String::from_utf8_lossy(text);
            assert_eq!(read::<f32>(text), None, "{shown}");
            assert_eq!(read::<i32>(text), None, "{shown}");
        }
        // A dot is no integer's.
        assert_eq!(read::<i32>(b"1 2.5"), None);
    }

    #[test]
    fn closing_dots_equals_its_portable_form() {
        let mut digits = [0u8; 72];
        for (k, d) in digits.iter_mut().enumerate().take(64) {
            *d = (k % 10) as u8;
        }
        for moved in [
            0,
            1,
            1 << 63,
            0x00f0_0f00_ff00_1234,
            u64::MAX,
            0x8000_0000_0000_0001,
        ] {
            let closed = close_dots(&digits, moved);
            assert_eq!(closed, close_dots_portable(&digits, moved));
            for (k, &byte) in closed.iter().enumerate().take(64) {
                let from = if (moved >> k) & 1 != 0 { k + 1 } else { k };
                assert_eq!(byte, digits[from]);
            }
        }
    }

    #[test]
    fn a_token_reaching_the_block_end_is_left() {
        let mut text = [b'7'; 64];
        text[..4].copy_from_slice(b"1 2 ");
        text[59] = b' ';
        // "1", "2", a run of sevens too long, "7777" reaching the end.
        assert_eq!(read::<i32>(&text), None);
        for k in [10, 17, 24, 31, 38, 45, 52] {
            text[k] = b' ';
        }
        // Every token now short; the last one (60..64) is not read.
        let got = read::<i32>(&text).unwrap_or_default();
        assert_eq!(got.len(), 10);
        assert_eq!(got[..3], [1, 2, 777_777]);
    }
}
