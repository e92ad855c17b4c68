//! The first, cheap pass over a body: how many values each chunk holds, and whether any byte
//! makes the grid a float grid. Knowing the counts lets the second pass parse every chunk in
//! parallel straight into its place in the final buffer.
//!
//! Chunks are plain fixed-size byte ranges: a chunk *owns* the values whose first byte lies
//! inside it (a value may run on past the chunk's end), so no cut has to find whitespace.

use std::ops::Range;

use crate::control::Control;

/// C's `isspace` in the "C" locale, which is what separates values for GDAL.
#[inline(always)]
pub fn is_space(b: u8) -> bool {
    b == b' ' || (b'\t'..=b'\r').contains(&b)
}

#[inline(always)]
fn is_float_marker(b: u8) -> bool {
    matches!(b, b'.' | b',' | b'e' | b'E')
}

/// What the first pass learns about one chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkCount {
    /// Number of tokens (runs of bytes that are not [`is_space`]), exactly the values the
    /// parser will find (or fail on).
    pub tokens: u64,
    /// Whether a `.`, `,`, `e` or `E` occurs (GDAL's rule for a Float32 grid).
    pub float_marker: bool,
}

/// Count the tokens that start in `chunk` and look for float markers, 64 bytes at a time.
/// `after_token` says whether the byte just before the chunk belongs to a token (then a
/// token at the chunk's first byte started earlier and is not counted).
pub fn count_tokens(chunk: &[u8], after_token: bool) -> ChunkCount {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: this CPU has AVX2, checked just above: all `count_tokens_avx2` needs.
        return unsafe { count_tokens_avx2(chunk, after_token) };
    }
    count_blocks::<Sse2>(chunk, after_token)
}

/// [`count_tokens`] with 32-byte vectors: the survey of a small file is a tenth of its read.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn count_tokens_avx2(chunk: &[u8], after_token: bool) -> ChunkCount {
    count_blocks::<Avx2>(chunk, after_token)
}

/// The two questions [`count_tokens`] asks of each 64-byte block.
trait BlockMasks {
    /// [`space_mask`].
    fn spaces(block: &[u8; 64]) -> u64;
    /// [`has_float_marker`].
    fn marker(block: &[u8; 64]) -> bool;
}

/// The masks on every x86-64 CPU (and the portable ones elsewhere).
struct Sse2;

impl BlockMasks for Sse2 {
    #[inline(always)]
    fn spaces(block: &[u8; 64]) -> u64 {
        space_mask(block)
    }
    #[inline(always)]
    fn marker(block: &[u8; 64]) -> bool {
        has_float_marker(block)
    }
}

/// The masks with AVX2: only ever used inside [`count_tokens_avx2`], which runs only where
/// AVX2 was detected.
#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl BlockMasks for Avx2 {
    #[inline(always)]
    fn spaces(block: &[u8; 64]) -> u64 {
        // SAFETY: `Avx2` is used only by `count_tokens_avx2`, called after AVX2 was detected.
        unsafe { avx2::space_mask(block) }
    }
    #[inline(always)]
    fn marker(block: &[u8; 64]) -> bool {
        // SAFETY: as in `spaces`.
        unsafe { avx2::has_float_marker(block) }
    }
}

#[inline(always)]
fn count_blocks<M: BlockMasks>(chunk: &[u8], after_token: bool) -> ChunkCount {
    let mut tokens = 0u64;
    let mut float_marker = false;
    // Whether the byte before the current block belongs to a token.
    let mut carry = u64::from(after_token);
    let mut blocks = chunk.chunks_exact(64);
    for block in &mut blocks {
        let Ok(block) = <&[u8; 64]>::try_from(block) else {
            continue;
        };
        // A token starts at each byte inside one whose left neighbour is not.
        let inside = !M::spaces(block);
        tokens += u64::from((inside & !((inside << 1) | carry)).count_ones());
        carry = inside >> 63;
        // Once one is found the rest cannot matter (a float grid's first block has one).
        if !float_marker {
            float_marker = M::marker(block);
        }
    }
    let mut prev_inside = carry != 0;
    for &b in blocks.remainder() {
        let inside = !is_space(b);
        tokens += u64::from(inside && !prev_inside);
        prev_inside = inside;
        float_marker |= is_float_marker(b);
    }
    ChunkCount {
        tokens,
        float_marker,
    }
}

/// [`space_mask`] and [`has_float_marker`] on two 32-byte halves.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8, _mm256_sub_epi8,
    };

    /// `space_mask` of `block`.
    #[target_feature(enable = "avx2")]
    pub(super) fn space_mask(block: &[u8; 64]) -> u64 {
        let space = _mm256_set1_epi8(b' ' as i8);
        let tab = _mm256_set1_epi8(b'\t' as i8);
        let four = _mm256_set1_epi8(4);
        let mut mask = 0u64;
        for half in 0..2 {
            // SAFETY: reads bytes 32 × half .. 32 × half + 32 of the 64-byte block.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(half * 32).cast::<__m256i>()) };
            // b - '\t' <= 4 (unsigned): one of \t \n \v \f \r.
            let t = _mm256_sub_epi8(v, tab);
            let control = _mm256_cmpeq_epi8(_mm256_min_epu8(t, four), t);
            let sep = _mm256_or_si256(control, _mm256_cmpeq_epi8(v, space));
            mask |= u64::from(_mm256_movemask_epi8(sep) as u32) << (half * 32);
        }
        mask
    }

    /// `has_float_marker` of `block`.
    #[target_feature(enable = "avx2")]
    pub(super) fn has_float_marker(block: &[u8; 64]) -> bool {
        // As the SSE2 form: `.`/`,` differ in bit 1, `e`/`E` in bit 5.
        let bit1 = _mm256_set1_epi8(0x02);
        let bit5 = _mm256_set1_epi8(0x20);
        let dot = _mm256_set1_epi8(b'.' as i8);
        let e = _mm256_set1_epi8(b'e' as i8);
        let mut found = _mm256_set1_epi8(0);
        for half in 0..2 {
            // SAFETY: reads bytes 32 × half .. 32 × half + 32 of the 64-byte block.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(half * 32).cast::<__m256i>()) };
            found = _mm256_or_si256(
                found,
                _mm256_or_si256(
                    _mm256_cmpeq_epi8(_mm256_or_si256(v, bit1), dot),
                    _mm256_cmpeq_epi8(_mm256_or_si256(v, bit5), e),
                ),
            );
        }
        _mm256_movemask_epi8(found) != 0
    }
}

/// Whether `text` holds one of GDAL's float markers (`.`, `,`, `e`, `E`), stopping at the
/// first: the data type of a grid whose header leaves it open.
pub(crate) fn has_float_marker_in(text: &[u8]) -> bool {
    let mut blocks = text.chunks_exact(64);
    let found = blocks
        .by_ref()
        .any(|block| <&[u8; 64]>::try_from(block).is_ok_and(has_float_marker));
    found || blocks.remainder().iter().any(|&b| is_float_marker(b))
}

/// Whether `block` holds one of GDAL's float markers `.`, `,`, `e`, `E`.
#[inline(always)]
fn has_float_marker(block: &[u8; 64]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8, _mm_setzero_si128,
        };
        // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions exist on every
        // CPU this code can run on; each load reads 16 of the block's 64 bytes.
        unsafe {
            // `.` and `,` differ only in bit 1, `e` and `E` only in bit 5: set that bit and
            // compare once per pair.
            let bit1 = _mm_set1_epi8(0x02);
            let bit5 = _mm_set1_epi8(0x20);
            let dot = _mm_set1_epi8(b'.' as i8);
            let e = _mm_set1_epi8(b'e' as i8);
            let mut found = _mm_setzero_si128();
            for lane in 0..4 {
                let v = _mm_loadu_si128(block.as_ptr().add(lane * 16).cast::<__m128i>());
                found = _mm_or_si128(
                    found,
                    _mm_or_si128(
                        _mm_cmpeq_epi8(_mm_or_si128(v, bit1), dot),
                        _mm_cmpeq_epi8(_mm_or_si128(v, bit5), e),
                    ),
                );
            }
            _mm_movemask_epi8(found) != 0
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        has_float_marker_portable(block)
    }
}

/// [`has_float_marker`] on any CPU (compiled everywhere, so x86 tests check it too).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn has_float_marker_portable(block: &[u8; 64]) -> bool {
    block.iter().any(|&b| is_float_marker(b))
}

/// Bit `k` set where `a[k] == b[k]`.
#[inline(always)]
pub(crate) fn equal_bytes(a: &[u8; 16], b: &[u8; 16]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8};
        // SAFETY: SSE2 is part of the x86-64 baseline; both loads read 16 bytes of a
        // `[u8; 16]` (unaligned loads, so any address is fine).
        unsafe {
            let a = _mm_loadu_si128(a.as_ptr().cast::<__m128i>());
            let b = _mm_loadu_si128(b.as_ptr().cast::<__m128i>());
            u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) as u16)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        equal_bytes_portable(a, b)
    }
}

/// [`equal_bytes`] on any CPU (compiled everywhere, so x86 tests check it too).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn equal_bytes_portable(a: &[u8; 16], b: &[u8; 16]) -> u64 {
    a.iter()
        .zip(b)
        .enumerate()
        .fold(0, |m, (k, (x, y))| m | (u64::from(x == y) << k))
}

/// 0xff at each byte of `v` that separates values ([`is_space`]), 0 elsewhere: a space, or
/// b - '\t' <= 4 (unsigned), one of `\t \n \v \f \r`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn separators(v: std::arch::x86_64::__m128i) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline; no memory is touched.
    unsafe {
        let t = _mm_sub_epi8(v, _mm_set1_epi8(b'\t' as i8));
        let control = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(4)), t);
        _mm_or_si128(control, _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)))
    }
}

/// Bit `k` set where `block[k]` separates values ([`is_space`]: space, `\t`, `\n`, `\v`,
/// `\f`, `\r`; any other byte, even a control byte, belongs to a token and so is refused).
#[inline(always)]
pub(crate) fn space_mask(block: &[u8; 64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8};
        let mut mask = 0u64;
        // SAFETY: SSE2 is part of the x86-64 baseline; each load reads 16 of the block's 64
        // bytes.
        unsafe {
            for lane in 0..4 {
                let v = _mm_loadu_si128(block.as_ptr().add(lane * 16).cast::<__m128i>());
                mask |= u64::from(_mm_movemask_epi8(separators(v)) as u16) << (lane * 16);
            }
        }
        mask
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        space_mask_portable(block)
    }
}

/// What the reader of short tokens (`crate::short_tokens`) asks of each byte of a 64-byte
/// block, one bit per byte (bit `k` for `block[k]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenMasks {
    /// [`space_mask`].
    pub space: u64,
    /// `0` to `9`.
    pub digit: u64,
    /// `-`.
    pub minus: u64,
    /// `.`.
    pub dot: u64,
}

impl TokenMasks {
    /// Only the separators known: every other byte reads as none of the others.
    #[inline(always)]
    pub(crate) fn spaces(space: u64) -> TokenMasks {
        TokenMasks {
            space,
            digit: 0,
            minus: 0,
            dot: 0,
        }
    }
}

/// [`TokenMasks`] of `block`, from one load of each 16 bytes; the value of each digit goes to
/// the same place in the first 64 bytes of `digits`, 0 for each byte that is not a digit.
#[inline(always)]
pub(crate) fn token_masks(block: &[u8; 64], digits: &mut [u8; 72]) -> TokenMasks {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8,
            _mm_movemask_epi8, _mm_set1_epi8, _mm_storeu_si128, _mm_sub_epi8,
        };
        let mut masks = TokenMasks::spaces(0);
        // SAFETY: SSE2 is part of the x86-64 baseline; each load reads, and each store
        // writes, 16 of the 64 bytes of `block` and of `digits` (72 long).
        unsafe {
            let zero = _mm_set1_epi8(b'0' as i8);
            let minus = _mm_set1_epi8(b'-' as i8);
            let dot = _mm_set1_epi8(b'.' as i8);
            let nine = _mm_set1_epi8(9);
            for lane in 0..4 {
                let v = _mm_loadu_si128(block.as_ptr().add(lane * 16).cast::<__m128i>());
                // A digit is b - '0' <= 9 (unsigned).
                let d = _mm_sub_epi8(v, zero);
                let digit = _mm_cmpeq_epi8(_mm_min_epu8(d, nine), d);
                _mm_storeu_si128(
                    digits.as_mut_ptr().add(lane * 16).cast::<__m128i>(),
                    _mm_and_si128(d, digit),
                );
                let bits = |m| u64::from(_mm_movemask_epi8(m) as u16) << (lane * 16);
                masks.space |= bits(separators(v));
                masks.digit |= bits(digit);
                masks.minus |= bits(_mm_cmpeq_epi8(v, minus));
                masks.dot |= bits(_mm_cmpeq_epi8(v, dot));
            }
        }
        masks
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        token_masks_portable(block, digits)
    }
}

/// [`token_masks`] on any CPU (compiled everywhere, so x86 tests check it too).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn token_masks_portable(block: &[u8; 64], digits: &mut [u8; 72]) -> TokenMasks {
    for (d, &b) in digits.iter_mut().zip(block) {
        *d = if b.is_ascii_digit() { b - b'0' } else { 0 };
    }
    let bits = |class: fn(u8) -> bool| {
        block
            .iter()
            .enumerate()
            .fold(0u64, |m, (k, &b)| m | (u64::from(class(b)) << k))
    };
    TokenMasks {
        space: bits(is_space),
        digit: bits(|b| b.is_ascii_digit()),
        minus: bits(|b| b == b'-'),
        dot: bits(|b| b == b'.'),
    }
}

/// [`space_mask`] on any CPU (compiled everywhere, so x86 tests check it too).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn space_mask_portable(block: &[u8; 64]) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0u64, |m, (k, &b)| m | (u64::from(is_space(b)) << k))
}

/// Cut `range` into consecutive pieces of `size` bytes (the last one shorter).
pub fn fixed_chunks(range: Range<usize>, size: usize) -> Vec<Range<usize>> {
    let size = size.max(1);
    (range.start..range.end)
        .step_by(size)
        .map(|s| s..(s + size).min(range.end))
        .collect()
}

/// Whether the byte before `at` belongs to a token.
#[inline]
pub fn after_token(text: &[u8], at: usize) -> bool {
    at > 0 && text.get(at - 1).is_some_and(|&b| !is_space(b))
}

/// Whether `chunks` are worth handing to the thread pool: below 256 KiB of text in all
/// (a tile) waking the other threads costs more than they save; never when `control` keeps
/// the work on the calling thread ([`Control::on_calling_thread`]).
pub(crate) fn worth_parallel(chunks: &[Range<usize>], control: &Control) -> bool {
    const PARALLEL_MIN: usize = 256 * 1024;
    let bytes: usize = chunks.iter().map(|r| r.len()).sum();
    chunks.len() > 1 && bytes >= PARALLEL_MIN && !control.is_on_calling_thread()
}

/// Chunk size for parallel work: small enough to balance load and to notice a cancel
/// within milliseconds, large enough that per-chunk overhead does not show.
pub(crate) fn chunk_size(len: usize, control: &Control) -> usize {
    (len / (crate::parallel::threads(control) * 8)).clamp(64 * 1024, 4 * 1024 * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(chunk: &[u8]) -> ChunkCount {
        let tokens = chunk
            .split(|&b| is_space(b))
            .filter(|t| !t.is_empty())
            .count() as u64;
        ChunkCount {
            tokens,
            float_marker: chunk.iter().any(|&b| is_float_marker(b)),
        }
    }

    #[test]
    fn counts_match_naive() {
        let samples: [&[u8]; 7] = [
            b"",
            b"1",
            b" 1 2  3\n4\r\n5\t6 ",
            b"12345678 9 10 11 12 13 14 15 16 17",
            b"aaaaaaaaaaaaaaaaaaaaaaa b",
            b"1.5 2 3 4 5 6 7 8 9 \x80\xff x",
            b"        \n\n\n\n        1e5",
        ];
        for s in samples {
            assert_eq!(
                count_tokens(s, false),
                naive(s),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
    }

    #[test]
    fn chunk_counts_add_up_wherever_the_cuts_fall() {
        let text = b"11 22 333 4444 55555 666666 7777777 88888888";
        for size in 1..12 {
            let chunks = fixed_chunks(0..text.len(), size);
            assert_eq!(chunks.first().map(|r| r.start), Some(0));
            assert_eq!(chunks.last().map(|r| r.end), Some(text.len()));
            let total: u64 = chunks
                .iter()
                .map(|r| count_tokens(&text[r.clone()], after_token(text, r.start)).tokens)
                .sum();
            assert_eq!(total, 8, "size {size}");
        }
    }

    #[test]
    fn block_masks_equal_their_portable_forms() {
        let mut block = [0u8; 64];
        for first in 0..=255u8 {
            for (k, b) in block.iter_mut().enumerate() {
                *b = first.wrapping_add((k as u8).wrapping_mul(37));
            }
            let want = block
                .iter()
                .enumerate()
                .fold(0u64, |m, (k, &b)| m | (u64::from(is_space(b)) << k));
            assert_eq!(space_mask(&block), want);
            assert_eq!(space_mask_portable(&block), want);
            let (mut digits, mut portable_digits) = ([0u8; 72], [0u8; 72]);
            let ints = token_masks(&block, &mut digits);
            assert_eq!(ints, token_masks_portable(&block, &mut portable_digits));
            assert_eq!((ints.space, digits), (want, portable_digits));
            let marker = block.iter().any(|&b| is_float_marker(b));
            assert_eq!(has_float_marker(&block), marker);
            assert_eq!(has_float_marker_portable(&block), marker);
            if let Some((spaces, markers)) = avx2_masks(&block) {
                assert_eq!((spaces, markers), (want, marker));
            }
        }
        // 16 bytes against themselves, and against a copy with one byte changed.
        for shift in 0..16 {
            let a: [u8; 16] = block[..16].try_into().unwrap();
            let mut b = a;
            b[shift] ^= 1;
            let want = 0xffff & !(1 << shift);
            assert_eq!(
                (equal_bytes(&a, &b), equal_bytes_portable(&a, &b)),
                (want, want)
            );
            assert_eq!(
                (equal_bytes(&a, &a), equal_bytes_portable(&a, &a)),
                (0xffff, 0xffff)
            );
        }
        // One marker alone, at every place, of each kind.
        for at in 0..64 {
            for m in [b'.', b',', b'e', b'E'] {
                let mut block = [b'1'; 64];
                block[at] = m;
                assert!(has_float_marker(&block) && has_float_marker_portable(&block));
                assert!(avx2_masks(&block).is_none_or(|(_, marker)| marker));
            }
        }
    }

    /// The AVX2 masks of `block`, where this CPU has AVX2.
    fn avx2_masks(block: &[u8; 64]) -> Option<(u64, bool)> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: this CPU has AVX2, checked just above.
            return Some(unsafe { (avx2::space_mask(block), avx2::has_float_marker(block)) });
        }
        let _ = block;
        None
    }

    proptest::proptest! {
        #[test]
        fn counts_equal_naive_wherever_cut(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), cut in 0usize..300) {
            let want = naive(&bytes);
            proptest::prop_assert_eq!(count_tokens(&bytes, false), want);
            proptest::prop_assert_eq!(has_float_marker_in(&bytes), want.float_marker);
            // The same split anywhere, the second half told what precedes it.
            let cut = cut.min(bytes.len());
            let (a, b) = bytes.split_at(cut);
            let (x, y) = (count_tokens(a, false), count_tokens(b, after_token(&bytes, cut)));
            proptest::prop_assert_eq!(x.tokens + y.tokens, want.tokens);
            proptest::prop_assert_eq!(x.float_marker || y.float_marker, want.float_marker);
        }
    }
}
