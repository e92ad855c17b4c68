//! The first, cheap pass over a body: how many values each chunk holds, and whether any byte
//! makes the grid a float grid. Knowing the counts lets the second pass parse every chunk in
//! parallel straight into its place in the final buffer.
//!
//! Chunks are plain fixed-size byte ranges: a chunk *owns* the values whose first byte lies
//! inside it (a value may run on past the chunk's end), so no cut has to find whitespace.

use std::ops::Range;

/// C's `isspace` in the "C" locale, which is what separates values for GDAL.
#[inline(always)]
pub fn is_space(b: u8) -> bool {
    b == b' ' || (b'\t'..=b'\r').contains(&b)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte of `word` set where that byte is above 0x20 (cannot separate
/// values). Exact per byte: no carry crosses a byte since `(b & 0x7f) + 0x5f <= 0xde`.
#[inline(always)]
fn above_space(word: u64) -> u64 {
    let t = (word & !HIGHS).wrapping_add(ONES * (0x80 - 0x21));
    (t | word) & HIGHS
}

/// Whether any byte of `word` equals `b` (exact as a yes/no answer).
#[inline(always)]
fn has_byte(word: u64, b: u8) -> bool {
    let x = word ^ (ONES * u64::from(b));
    (x.wrapping_sub(ONES) & !x & HIGHS) != 0
}

/// Whether any byte of `word` is one of GDAL's float markers `.`, `,`, `e`, `E`.
#[inline(always)]
fn has_float_marker(word: u64) -> bool {
    has_byte(word, b'.') || has_byte(word, b',') || has_byte(word, b'e') || has_byte(word, b'E')
}

#[inline(always)]
fn is_float_marker(b: u8) -> bool {
    matches!(b, b'.' | b',' | b'e' | b'E')
}

/// What the first pass learns about one chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkCount {
    /// Number of tokens (runs of bytes above 0x20).
    pub tokens: u64,
    /// Whether a `.`, `,`, `e` or `E` occurs (GDAL's rule for a Float32 grid).
    pub float_marker: bool,
}

/// Count the tokens that start in `chunk` and look for float markers, eight bytes at a time.
/// `after_token` says whether the byte just before the chunk belongs to a token (then a
/// token at the chunk's first byte started earlier and is not counted).
pub fn count_tokens(chunk: &[u8], after_token: bool) -> ChunkCount {
    let mut tokens = 0u64;
    let mut float_marker = false;
    // Whether the byte before the current word was part of a token, as the high bit of
    // byte 0's position.
    let mut carry = if after_token { 0x80 } else { 0 };
    let mut words = chunk.chunks_exact(8);
    for bytes in &mut words {
        let mut arr = [0u8; 8];
        arr.copy_from_slice(bytes);
        let word = u64::from_le_bytes(arr);
        let inside = above_space(word);
        let before_inside = (inside << 8) | carry;
        tokens += u64::from((inside & !before_inside).count_ones());
        carry = inside >> 56;
        if !float_marker && has_float_marker(word) {
            float_marker = true;
        }
    }
    let mut prev_inside = carry != 0;
    for &b in words.remainder() {
        let inside = b > 0x20;
        if inside && !prev_inside {
            tokens += 1;
        }
        prev_inside = inside;
        float_marker |= is_float_marker(b);
    }
    ChunkCount {
        tokens,
        float_marker,
    }
}

/// Cut `range` into consecutive pieces of `size` bytes (the last one shorter).
pub fn fixed_chunks(range: Range<usize>, size: usize) -> Vec<Range<usize>> {
    let size = size.max(1);
    (range.start..range.end)
        .step_by(size)
        .map(|s| s..(s + size).min(range.end))
        .collect()
}

/// Whether the byte before `at` belongs to a token (by the counting rule: above 0x20).
#[inline]
pub fn after_token(text: &[u8], at: usize) -> bool {
    at > 0 && text.get(at - 1).is_some_and(|&b| b > 0x20)
}

/// Chunk size for parallel work: small enough to balance load and to notice a cancel
/// within milliseconds, large enough that per-chunk overhead does not show.
pub fn chunk_size(len: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    (len / (threads * 8)).clamp(64 * 1024, 4 * 1024 * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(chunk: &[u8]) -> ChunkCount {
        let tokens = chunk
            .split(|&b| b <= 0x20)
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

    proptest::proptest! {
        #[test]
        fn swar_equals_naive(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            proptest::prop_assert_eq!(count_tokens(&bytes, false), naive(&bytes));
        }
    }
}
