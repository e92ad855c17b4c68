//! Cell values: the three data types GDAL gives an ASCII grid, and how one token becomes one
//! value of each. The fast paths handle the forms real grids use (`123`, `-12.75`); anything
//! else goes through one general, strict parser.

use crate::scan::is_space;

/// The data type of a grid's cells, chosen the way GDAL chooses it (see docs/FORMAT.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataType {
    /// 32-bit signed integers: no `.`, `,`, `e` or `E` anywhere in the body.
    Int32,
    /// 32-bit floats: values parsed as f64, then rounded (and clamped to ±FLT_MAX).
    Float32,
    /// 64-bit floats: only when asked for, or when the nodata value needs it.
    Float64,
}

impl DataType {
    /// The numpy / GDAL-style lower-case name (`int32`, `float32`, `float64`).
    pub fn name(self) -> &'static str {
        match self {
            DataType::Int32 => "int32",
            DataType::Float32 => "float32",
            DataType::Float64 => "float64",
        }
    }

    /// Parse a name as given by [`DataType::name`] (case-insensitive; GDAL's `Int32`,
    /// `Float32`, `Float64` spellings work too).
    pub fn from_name(name: &str) -> Option<DataType> {
        match name.to_ascii_lowercase().as_str() {
            "int32" => Some(DataType::Int32),
            "float32" => Some(DataType::Float32),
            "float64" => Some(DataType::Float64),
            _ => None,
        }
    }

    /// Size of one cell in bytes.
    pub fn size(self) -> usize {
        match self {
            DataType::Int32 | DataType::Float32 => 4,
            DataType::Float64 => 8,
        }
    }
}

/// Why one token is not a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// Offset of the token's first byte within the slice that was parsed.
    pub at: usize,
    /// What is wrong, for code.
    pub kind: crate::error::ErrorKind,
    /// The message for the user.
    pub message: String,
}

/// A cell type the engine can parse into. Implemented for `i32`, `f32` and `f64`.
pub trait Value: Copy + Default + Send + Sync + PartialEq + PartialOrd + 'static {
    /// The matching [`DataType`].
    const DATA_TYPE: DataType;

    /// Parse the token that starts at `text[pos]` (not whitespace). Returns the value and
    /// the offset just past the token.
    fn parse_at(text: &[u8], pos: usize) -> Result<(Self, usize), TokenError>;

    /// The value of a short plain token starting at `text[pos]` (see `short_decimal`), or
    /// `None`: then [`Value::parse_at`] decides. Equal to `parse_at` wherever it answers.
    /// `shape` carries the layout of the previous token of the same text (start with
    /// `Shape::default()`), which makes a token laid out the same way cheaper to read.
    fn parse_short(text: &[u8], pos: usize, shape: &mut Shape) -> Option<Self>;

    /// The value of a token in numpy's `%.18e` (`np.savetxt`'s default) starting at
    /// `text[pos]`, read by its fixed layout, and the offset just past it; or `None` for any
    /// other token: then [`Value::parse_at`] decides. Equal to `parse_at` wherever it
    /// answers. Worth trying only where the previous tokens' shape says the grid is written
    /// that way. Integers never are.
    fn parse_numpy(_text: &[u8], _pos: usize) -> Option<(Self, usize)> {
        None
    }

    /// The value of a plain token of eight to fifteen digits starting at `text[pos]` and the
    /// offset just past it, or `None`: then [`Value::parse_at`] decides. Equal to `parse_at`
    /// wherever it answers. `wide` carries the layout of the previous such token, as
    /// `parse_short`'s `shape` does. Worth trying only where the previous tokens' shape says
    /// the grid's tokens are laid out that way. Integers never are.
    fn parse_wide(_text: &[u8], _pos: usize, _wide: &mut WideShape) -> Option<(Self, usize)> {
        None
    }

    /// The value of a token in exponent form within sixteen bytes (`-1.35350000e-01`)
    /// starting at `text[pos]` and the offset just past it, or `None`: then
    /// [`Value::parse_at`] decides. Equal to `parse_at` wherever it answers; `exponent`
    /// carries the layout of the previous such token. Integers never are.
    fn parse_exponent(
        _text: &[u8],
        _pos: usize,
        _exponent: &mut ExponentShape,
    ) -> Option<(Self, usize)> {
        None
    }

    /// The value as f64 (exact for all three types).
    fn to_f64(self) -> f64;

    /// Convert a nodata value (already in this type's range) to this type.
    fn from_f64(v: f64) -> Self;

    /// `digits / 10^decimals`, negated if asked, with at most seven digits, as GDAL reads
    /// such a decimal (the correctly rounded double, then this type). Int32 cells have no
    /// decimals: for `i32` only called without.
    fn from_short_decimal(negative: bool, digits: u64, decimals: usize) -> Self;

    /// Whether this is a NaN.
    fn is_nan(self) -> bool;
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// 10^-k for the decimals a short token can have, each the double nearest to it.
const INV_POW10: [f64; 8] = [1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7];

/// End of the token that starts at `pos`.
#[inline]
pub(crate) fn token_end(text: &[u8], pos: usize) -> usize {
    text[pos..]
        .iter()
        .position(|&b| is_space(b))
        .map_or(text.len(), |n| pos + n)
}

/// What a NUL byte in a grid's text means.
pub(crate) const NUL_MESSAGE: &str =
    "found a NUL byte: this is not a text grid (binary data, or UTF-16 text?)";

/// The longest token any number can be: longer ones are refused unread.
pub(crate) const MAX_TOKEN: usize = 400;

/// The token starting at `text[pos]`, cut after `MAX_TOKEN + 1` bytes: enough to tell that a
/// longer one is not a number. Messages are made from this much only, so that every reader
/// (whole text, windows, blocks) says the same about a token of any length, and none has to
/// read a gigabyte-long token to its end.
fn token_prefix(text: &[u8], pos: usize) -> &[u8] {
    let cap = text.len().min(pos.saturating_add(MAX_TOKEN + 1));
    &text[pos..token_end(&text[..cap], pos)]
}

pub(crate) const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of every byte of `x` (text XOR [`ASCII_ZEROS`]) that is not a digit: a digit
/// byte is then below 10, and `(b & 0x7f) + 0x76` cannot carry into the next byte.
#[inline(always)]
fn not_digits(x: u64) -> u64 {
    (((x & LOW7) + 0x7676_7676_7676_7676) | x) & HIGHS
}

/// The index of the first byte of `x` (text XOR [`ASCII_ZEROS`]) that is not a digit, 8 if
/// none: [`not_digits`] without its mask. A carry out of a byte needs that byte to be a
/// non-digit (`b + 0x76 > 0xff`, so `b ≥ 0x8a`), so it can only spoil the bytes after the
/// first non-digit, which the count does not look at.
#[inline(always)]
fn first_not_digit(x: u64) -> u32 {
    ((x.wrapping_add(0x7676_7676_7676_7676) | x) & HIGHS).trailing_zeros() / 8
}

/// Eight digits (bytes 0 to 9, the first in the lowest byte and the most significant) as one
/// integer: pairs, fours, eights, each step multiplying the higher half by 10, 100 or 10^4
/// and adding the lower. Every byte must be 0 to 9 (every caller checks the digits first):
/// then no pair's sum (at most 99) carries, and the first step needs no mask.
#[inline(always)]
pub(crate) fn eight_digits(v: u64) -> u64 {
    let v = v.wrapping_mul(2561) >> 8;
    let v = ((v & 0x00ff_00ff_00ff_00ff).wrapping_mul(6_553_601)) >> 16;
    ((v & 0x0000_ffff_0000_ffff).wrapping_mul(42_949_672_960_001)) >> 32
}

/// Where the last short token's non-digits were and what they were: the next token of the
/// same layout (nearly every one, in a real grid) is checked against it with two masked
/// compares instead of being taken apart again.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    /// The bytes that decide: the token and the separator after it (0: no shape yet).
    care: u64,
    /// The high bit of each non-digit byte among them.
    not_digit: u64,
    /// 0xff at the `.` (if any) and at the separator.
    marks: u64,
    /// The bytes found there.
    mark_bytes: u64,
    /// The bytes before the `.` (all when there is none).
    int_mask: u64,
    /// 64 − 8 × the number of digits.
    shift: u32,
    /// Digits after the `.`.
    decimals: usize,
    /// Whether tokens of this layout are not short: they go to [`Value::parse_at`] without
    /// being taken apart again (a grid of `7.195774` or `-1.35350000e-01` values).
    long: bool,
    /// Whether the token this `long` layout was taken from is in numpy's `%.18e`: tokens of
    /// this layout are then tried as that first (see [`numpy_form`]).
    numpy: bool,
    /// Whether the token this `long` layout was taken from is a plain decimal of up to
    /// fifteen digits (see [`wide_decimal`]).
    wide: bool,
    /// Whether the token this `long` layout was taken from is in exponent form within
    /// sixteen bytes (see [`exponent_number`]).
    exponent: bool,
    /// How many tokens were taken apart, this one's layout differing from the one before
    /// (wrapping).
    changes: u32,
}

/// A form of long tokens that grids are written in, each read by a layout of its own, in runs
/// (see `body::parse_run`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongForm {
    /// numpy's `%.18e` ([`Value::parse_numpy`]).
    Numpy,
    /// Plain decimals of eight to fifteen digits ([`Value::parse_wide`]).
    Wide,
    /// Exponent form within sixteen bytes, `-1.35350000e-01` ([`Value::parse_exponent`]).
    Exponent,
}

impl Shape {
    /// The form of the last token that was taken apart, if it was not short and is one of
    /// the [`LongForm`]s: the tokens that fail the short path are then worth reading as that.
    #[inline(always)]
    pub fn long_form(&self) -> Option<LongForm> {
        if self.numpy {
            Some(LongForm::Numpy)
        } else if self.wide {
            Some(LongForm::Wide)
        } else if self.exponent {
            Some(LongForm::Exponent)
        } else {
            None
        }
    }

    /// How many times the layout changed (wrapping): often, in a grid of decimals of varying
    /// length (`28.0625 28.16667`), which are then read faster a block at a time.
    #[inline(always)]
    pub fn changes(&self) -> u32 {
        self.changes
    }
}

/// [`Shape`] for the plain tokens of eight to fifteen digits: where the last one's non-digits
/// were in its sixteen bytes and what they were, and what that layout means.
#[derive(Debug, Clone, Copy, Default)]
pub struct WideShape {
    /// Where the token's non-digits were; its marks: the `.` (if any) and the separator.
    layout: WindowLayout,
    /// The bytes before the `.` (all when there is none).
    int_mask: u128,
    /// 128 − 8 × the number of digits.
    shift: u32,
    /// Digits after the `.`.
    decimals: usize,
    /// Whether there are at most seven digits (below 2^24, exact in f32).
    small: bool,
    /// Bytes in the token after its sign.
    len: usize,
    /// Whether short tokens are left to the short path (see [`WideShape::lock`]).
    locked: bool,
    /// How often this chunk's wide tokens repeated the one before.
    pub(crate) repeats: Repeats,
}

/// How often a chunk's wide tokens were spelled as the one before them (nodata cells,
/// `-99999.00` after `-99999.00`, which are then not read again): worth looking for while
/// they often are. Looking costs a grid without repeats 7 percent more instructions
/// (Circuitscape's `curmap`, decimals of varying length), so a chunk looks over its first
/// 512 wide tokens and goes on only where at least one in eight is a repeat.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Repeats {
    /// Wide tokens read while looking.
    pub(crate) seen: u32,
    /// How many of them were repeats.
    pub(crate) alike: u32,
}

impl Repeats {
    /// Whether the next run of wide tokens looks for repeats.
    pub(crate) fn worth_looking(&self) -> bool {
        self.seen < 512 || self.alike >= self.seen / 8
    }
}

impl WideShape {
    /// Leave short tokens to the short path (`true`), as a run of wide tokens does: one (a
    /// short `0.00` among `-99999.00`) then ends the run, and the short path reads it for
    /// less than taking it apart as a wide token costs. A wide token of another layout
    /// (`0.1435584399` after `0.09811755776`, as Circuitscape's outputs vary in length) goes
    /// on with the run in its layout: leaving the run for it too made such grids 15-20%
    /// slower; telling it from a short one is done apart ([`relayout`]), out of the path of
    /// tokens laid out alike.
    pub fn lock(&mut self, locked: bool) {
        self.locked = locked;
    }
}

/// A short token: `[-]digits[.digits]` with one to seven digits and its separator within its
/// first eight bytes (seven after a `-`), read as one 64-bit word; the non-digits are found
/// with bit masks and the digits combined with three multiplications. `shape` is the previous
/// token's layout: a token laid out the same way (nearly every one, in a real grid) is only
/// checked against it, any other is taken apart and `shape` updated. Returns the sign, the
/// digits and the number of decimals, or `None` for any other token: the general parsers
/// decide then.
#[inline(always)]
fn short_decimal(text: &[u8], pos: usize, shape: &mut Shape) -> Option<(bool, u64, usize)> {
    let bytes: [u8; 8] = text.get(pos..pos + 8)?.try_into().ok()?;
    let word = u64::from_le_bytes(bytes);
    // A sign is shifted out rather than read past (no second load to wait for); the zero
    // byte shifted in is neither digit nor separator, so a token reaching it goes the slow way.
    let negative = word as u8 == b'-';
    let word = word >> (8 * u32::from(negative));
    let x = word ^ ASCII_ZEROS;
    let not_digit = not_digits(x);
    let same = not_digit & shape.care == shape.not_digit
        && word & shape.marks == shape.mark_bytes
        && shape.care != 0;
    if !same {
        let changes = shape.changes.wrapping_add(1);
        *shape = take_apart(word, not_digit, text, pos);
        shape.changes = changes;
    }
    if shape.long {
        return None;
    }
    // Close the gap the dot leaves (the fraction's digits move down one byte), right-align
    // the digits (the first is the most significant; what lies beyond them shifts out).
    let digits = (x & shape.int_mask) | ((x >> 8) & !shape.int_mask);
    let mantissa = eight_digits(digits << shape.shift);
    Some((negative, mantissa, shape.decimals))
}

/// A short integer: `[-]digits`, one to seven digits and the separator within its first
/// eight bytes (seven after a `-`). An Int32 grid has no other layout to tell apart, so no
/// [`Shape`] is kept: the separator is the first non-digit, found with one `tzcnt`, and
/// tokens of varying length (`16 8 128 1`, issue #12) never mispredict a layout check.
#[inline(always)]
fn short_integer(text: &[u8], pos: usize) -> Option<i32> {
    let bytes: [u8; 8] = text.get(pos..pos + 8)?.try_into().ok()?;
    let word = u64::from_le_bytes(bytes);
    // The zero byte a sign leaves is neither digit nor separator: seven digits at most.
    let negative = word as u8 == b'-';
    let word = word >> (8 * u32::from(negative));
    let x = word ^ ASCII_ZEROS;
    let end = first_not_digit(x);
    if end == 0 || end == 8 || !is_space((word >> (8 * end)) as u8) {
        return None;
    }
    // Below 10^7: the cast never wraps.
    let magnitude = eight_digits(x << (64 - 8 * end)) as i32;
    Some(if negative { -magnitude } else { magnitude })
}

/// The layout of the short token in `word` (its sign already shifted out); if it is not
/// one, a `long` layout that matches every word whose non-digits lie where this one's do.
/// That such a word may be short after all (`12x4567` then `12.4567`) costs only time:
/// `parse_at` reads any token. A `long` layout notes whether the token at `text[pos]` is a
/// wide plain decimal or in numpy's `%.18e`, so that only grids of those forms try them.
#[inline(never)]
fn take_apart(word: u64, not_digit: u64, text: &[u8], pos: usize) -> Shape {
    short_layout(word, not_digit).unwrap_or_else(|| long_layout(not_digit, text, pos))
}

/// The `long` layout of [`take_apart`], apart so that taking a short token apart (often, in
/// a grid of varying short layouts) does not carry it.
#[inline(never)]
fn long_layout(not_digit: u64, text: &[u8], pos: usize) -> Shape {
    let wide = looks_wide(text, pos);
    let numpy = !wide && numpy_form(text, pos).is_some();
    Shape {
        care: u64::MAX,
        not_digit,
        long: true,
        numpy,
        wide,
        exponent: !wide && !numpy && looks_exponent(text, pos),
        ..Shape::default()
    }
}

/// The layout of the short token in `word`, or `None` if it is not one.
#[inline(always)]
fn short_layout(word: u64, not_digit: u64) -> Option<Shape> {
    // The first non-digit, and the one after it.
    let first = (not_digit.trailing_zeros() / 8) as usize;
    let second = ((not_digit & not_digit.wrapping_sub(1)).trailing_zeros() / 8) as usize;
    if first == 0 || first == 8 {
        return None;
    }
    let byte_at = |k: usize| (word >> (8 * (k & 7))) as u8;
    let dot = byte_at(first) == b'.';
    let (end, int_mask) = if dot {
        (second, u64::MAX >> (64 - 8 * first))
    } else {
        (first, u64::MAX)
    };
    if end >= 8 || !is_space(byte_at(end)) {
        return None;
    }
    let care = u64::MAX >> (56 - 8 * end);
    let dot_mark = if dot { 0xff << (8 * first) } else { 0 };
    let marks = (0xff << (8 * end)) | dot_mark;
    let count = end - usize::from(dot);
    Some(Shape {
        care,
        not_digit: not_digit & care,
        marks,
        mark_bytes: word & marks,
        int_mask,
        shift: (64 - 8 * count) as u32,
        decimals: if dot { end - first - 1 } else { 0 },
        ..Shape::default()
    })
}

/// A plain token too long for the short path: `[-]digits[.digits]` with one to fifteen
/// digits and its separator within its first sixteen bytes (fifteen after a `-`), read as
/// the short path reads eight bytes, from a 16-byte window and against the previous such
/// token's layout (`wide`): `7.195774`, `-9999.000`, `0.01165227867`. Returns the sign,
/// the digits (below 10^15, so below 2^53), the number of decimals, whether there are at
/// most seven digits and the token's end; `None` for any other token.
#[inline(always)]
fn wide_decimal(text: &[u8], pos: usize, wide: &mut WideShape) -> Option<WideDecimal> {
    let Window {
        negative,
        window,
        x,
        not_digit,
    } = Window::at(text, pos)?;
    if !wide.layout.fits(window, not_digit) {
        relayout(window, not_digit, negative, wide)?;
    }
    Some(WideDecimal {
        negative,
        digits: dotted_digits(x, wide.int_mask, wide.shift),
        decimals: wide.decimals,
        small: wide.small,
        end: pos + usize::from(negative) + wide.len,
    })
}

/// The digits of a token in its [`Window`] (`x`: their values) as one number, a `.` among
/// them closed up: the bytes of `int_mask` (those before the `.`, all when there is none)
/// and the bytes after the `.` moved down one, then `shift` (128 − 8 × the number of digits,
/// at most sixteen) moving them to the top. As in `short_decimal`, then eight digits at a
/// time: the first eight (zero for a token of up to eight digits) × 10^8 plus the last eight.
#[inline(always)]
fn dotted_digits(x: u128, int_mask: u128, shift: u32) -> u64 {
    let digits = ((x & int_mask) | ((x >> 8) & !int_mask)) << shift;
    eight_digits(digits as u64) * 100_000_000 + eight_digits((digits >> 64) as u64)
}

/// What [`wide_decimal`] reads.
struct WideDecimal {
    negative: bool,
    digits: u64,
    decimals: usize,
    /// At most seven digits.
    small: bool,
    end: usize,
}

/// The 16 bytes at `text[pos]` as [`wide_decimal`] and [`looks_wide`] see them.
struct Window {
    negative: bool,
    /// The bytes, a leading `-` shifted out.
    window: u128,
    /// `window` with ASCII zeros subtracted: digits become their values.
    x: u128,
    /// A mask of the bytes that are not digits.
    not_digit: u128,
}

impl Window {
    #[inline(always)]
    fn at(text: &[u8], pos: usize) -> Option<Window> {
        let bytes: [u8; 16] = text.get(pos..pos + 16)?.try_into().ok()?;
        let window = u128::from_le_bytes(bytes);
        // As in `short_decimal`: the zero byte a sign shifts in is neither digit nor
        // separator.
        let negative = window as u8 == b'-';
        let window = window >> (8 * u32::from(negative));
        let x = window ^ (u128::from(ASCII_ZEROS) << 64 | u128::from(ASCII_ZEROS));
        let not_digit =
            u128::from(not_digits(x as u64)) | u128::from(not_digits((x >> 64) as u64)) << 64;
        Some(Window {
            negative,
            window,
            x,
            not_digit,
        })
    }
}

/// Where a token's non-digits lay in its 16-byte [`Window`] and what its marks (dot,
/// separator, ...) were: a token laid out the same way is known by two masked compares.
#[derive(Debug, Clone, Copy, Default)]
struct WindowLayout {
    /// The bytes that decide: the token and the separator after it (0: no layout yet).
    care: u128,
    /// The high bit of each non-digit byte among them.
    not_digit: u128,
    /// 0xff at the marks.
    marks: u128,
    /// The bytes found there.
    mark_bytes: u128,
}

impl WindowLayout {
    /// The layout of the token in `window` (its non-digits `not_digit`) whose separator is
    /// at byte `end`, with the separator and the bytes of `marks` as its marks.
    fn of(window: u128, not_digit: u128, end: usize, marks: u128) -> WindowLayout {
        let care = u128::MAX >> (120 - 8 * end);
        let marks = marks | (0xff << (8 * end));
        WindowLayout {
            care,
            not_digit: not_digit & care,
            marks,
            mark_bytes: window & marks,
        }
    }

    /// Whether the token in `window` (its non-digits `not_digit`) is laid out this way.
    #[inline(always)]
    fn fits(&self, window: u128, not_digit: u128) -> bool {
        not_digit & self.care == self.not_digit
            && window & self.marks == self.mark_bytes
            && self.care != 0
    }
}

/// A token laid out otherwise than `wide`: its layout becomes `wide`'s, unless it is not a
/// plain token of up to fifteen digits, or `wide` is locked to a run and the token is short
/// (then `None`, `wide` unchanged: the short path reads it). Apart and never inlined: in the
/// run's loop the same check made numpy-form grids 3% slower. The layout is written in
/// place: built apart and copied in, Circuitscape's `curmap` (decimals of varying length,
/// a change of layout at one token in four) took 9 percent more instructions.
#[inline(never)]
fn relayout(window: u128, not_digit: u128, negative: bool, wide: &mut WideShape) -> Option<()> {
    let (first, end) = plain_token(window, not_digit)?;
    if wide.locked && end + usize::from(negative) < 8 {
        return None;
    }
    let dot = end != first;
    let (int_mask, dot_mark) = if dot {
        (u128::MAX >> (128 - 8 * first), 0xff << (8 * first))
    } else {
        (u128::MAX, 0)
    };
    let count = end - usize::from(dot);
    wide.layout = WindowLayout::of(window, not_digit, end, dot_mark);
    wide.int_mask = int_mask;
    wide.shift = (128 - 8 * count) as u32;
    wide.decimals = if dot { end - first - 1 } else { 0 };
    wide.small = count <= 7;
    wide.len = end;
    Some(())
}

/// Where the plain token in `window` (its sign shifted out) ends: its separator's byte,
/// after one `.` at most; 16 (past the window) when there is none.
#[inline(always)]
fn token_len(window: u128, not_digit: u128) -> usize {
    let first = not_digit.trailing_zeros() / 8;
    let byte_at = |k: u32| (window >> (8 * (k & 15))) as u8;
    let end = if byte_at(first) == b'.' {
        (not_digit & not_digit.wrapping_sub(1)).trailing_zeros() / 8
    } else {
        first
    };
    end as usize
}

/// The first non-digit and the end (see [`token_len`]) of the token in `window` (its
/// non-digits `not_digit`), if it is one [`wide_decimal`] reads: digits first, at most one
/// `.`, whitespace after it within the window.
#[inline(always)]
fn plain_token(window: u128, not_digit: u128) -> Option<(usize, usize)> {
    let first = (not_digit.trailing_zeros() / 8) as usize;
    let end = token_len(window, not_digit);
    (first > 0 && end < 16 && is_space((window >> (8 * end)) as u8)).then_some((first, end))
}

/// Whether the token at `text[pos]` is one [`wide_decimal`] reads, without its layout
/// (building it costs grids of varying short layouts, which ask this at every layout change,
/// a tenth of their parse time).
#[inline(always)]
fn looks_wide(text: &[u8], pos: usize) -> bool {
    Window::at(text, pos).is_some_and(|w| plain_token(w.window, w.not_digit).is_some())
}

/// The layout of the last token in exponent form that [`exponent_number`] read: where its
/// non-digits were in its sixteen bytes and what they were, and what that layout means.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExponentShape {
    /// Where the token's non-digits were; its marks: the `.`, the `e` and the separator (the
    /// exponent's sign is read from each token: it changes from one to the next).
    layout: WindowLayout,
    /// Where the exponent's sign is.
    sign_at: u32,
    /// 128 − 8 × the number of the mantissa's digits.
    shift: u32,
    /// The exponent's digits.
    exponent_digits: u32,
    /// Digits after the `.`.
    decimals: i64,
    /// Bytes in the token after its sign.
    len: usize,
}

/// A token in exponent form, `[-]d.digits(e|E)(+|-)digits`: one digit before the dot, one to
/// three in the exponent, the separator within its first sixteen bytes (fifteen after a
/// `-`): `-1.35350000e-01`, as C's `%.8e` writes. Read from a 16-byte window against the
/// previous such token's layout (`shape`), as [`wide_decimal`] reads; `None` for any other
/// token. At most eleven significant digits: the number is exact, and Clinger's fast path
/// takes nearly every one.
#[inline(always)]
fn exponent_number(text: &[u8], pos: usize, shape: &mut ExponentShape) -> Option<Number> {
    let Window {
        negative,
        window,
        x,
        not_digit,
    } = Window::at(text, pos)?;
    if !shape.layout.fits(window, not_digit) {
        *shape = exponent_layout(window, not_digit)?;
    }
    let sign = (window >> (8 * shape.sign_at)) as u8;
    if sign != b'-' && sign != b'+' {
        return None;
    }
    // The digit before the dot, then the ones after it.
    let mantissa = dotted_digits(x, 0xff, shape.shift);
    let exponent =
        four_digits(((x >> (8 * (shape.sign_at + 1))) as u32) << (32 - 8 * shape.exponent_digits));
    let exponent = if sign == b'-' {
        -i64::from(exponent)
    } else {
        i64::from(exponent)
    };
    Some(Number {
        negative,
        digits: mantissa,
        power: exponent - shape.decimals,
        exact: true,
        end: pos + usize::from(negative) + shape.len,
    })
}

/// The layout of the token in exponent form in the 16-byte `window` (its sign already
/// shifted out), or `None` if it is not one.
#[inline(never)]
fn exponent_layout(window: u128, not_digit: u128) -> Option<ExponentShape> {
    let byte_at = |k: usize| (window >> (8 * (k & 15))) as u8;
    if not_digit & 0x80 != 0 || byte_at(1) != b'.' {
        return None;
    }
    let e_at = 2 + ((not_digit >> 16).trailing_zeros() / 8) as usize;
    if e_at > 12 || byte_at(e_at) | 0x20 != b'e' || !matches!(byte_at(e_at + 1), b'+' | b'-') {
        return None;
    }
    let sign_at = e_at + 1;
    let exponent_digits = ((not_digit >> (8 * (sign_at + 1))).trailing_zeros() / 8) as usize;
    let end = sign_at + 1 + exponent_digits;
    if !(1..=3).contains(&exponent_digits) || end >= 16 || !is_space(byte_at(end)) {
        return None;
    }
    Some(ExponentShape {
        layout: WindowLayout::of(window, not_digit, end, (0xff << (8 * e_at)) | (0xff << 8)),
        sign_at: sign_at as u32,
        shift: (128 - 8 * (e_at - 1)) as u32,
        exponent_digits: exponent_digits as u32,
        decimals: (e_at - 2) as i64,
        len: end,
    })
}

/// Whether the token at `text[pos]` is one [`exponent_number`] reads.
fn looks_exponent(text: &[u8], pos: usize) -> bool {
    exponent_number(text, pos, &mut ExponentShape::default()).is_some()
}

/// Four digits (bytes 0 to 9, the first in the lowest byte and the most significant) as one
/// integer: [`eight_digits`]'s first two steps.
#[inline(always)]
pub(crate) fn four_digits(v: u32) -> u32 {
    let v = v.wrapping_mul(2561) >> 8;
    ((v & 0x00ff_00ff).wrapping_mul(6_553_601)) >> 16
}

/// The form `[+-]digits[.digits]` followed by whitespace or the end, its digits below 2^53
/// and at most 22 decimals: `(negative, digits, decimals, end)`, or `None` for anything else.
/// Int32 cells are the ones without decimals; float cells read more forms with
/// [`scan_number`].
#[inline]
fn plain_decimal(text: &[u8], pos: usize) -> Option<(bool, u64, usize, usize)> {
    let d = decimal_at(text, pos)?;
    if d.digits > 19 || d.decimals > 22 || d.mantissa >= (1u64 << 53) {
        return None;
    }
    match text.get(d.end) {
        Some(&b) if !is_space(b) => None,
        _ => Some((d.negative, d.mantissa, d.decimals, d.end)),
    }
}

/// An optional sign at `text[at]`: whether it is `-`, and where what follows it starts.
#[inline(always)]
fn sign_at(text: &[u8], at: usize) -> (bool, usize) {
    match text.get(at) {
        Some(b'-') => (true, at + 1),
        Some(b'+') => (false, at + 1),
        _ => (false, at),
    }
}

/// `[+-]digits[.digits]` read as one integer and a count of decimals.
struct Decimal {
    negative: bool,
    /// The digits as one integer; meaningless when there are more than 19 of them.
    mantissa: u64,
    /// The digits after leading zeros, fraction included.
    digits: usize,
    /// The digits after the `.`.
    decimals: usize,
    /// Just past the last digit (or the `.` of `5.`).
    end: usize,
}

/// The `[+-]digits[.digits]` at `text[pos]` (either run may be empty, not both; `5.` and
/// `.5` are numbers), or `None` without a digit. What follows is the caller's to check.
#[inline(always)]
fn decimal_at(text: &[u8], pos: usize) -> Option<Decimal> {
    let (negative, first_digit) = sign_at(text, pos);
    let mut i = first_digit;
    // Leading zeros carry no digits (GDAL reads `00000000000000000005` as 5).
    while text.get(i) == Some(&b'0') {
        i += 1;
    }
    let (mut mantissa, mut digits) = digit_run(text, i);
    i += digits;
    let mut any_digit = i > first_digit;
    let mut decimals = 0usize;
    if text.get(i) == Some(&b'.') {
        let (fraction, count) = digit_run(text, i + 1);
        i += 1 + count;
        // Combined only when the sum cannot overflow; `digits` says when there are too many.
        if digits + count <= 19 {
            mantissa = mantissa * POW10_U64[count] + fraction;
        }
        digits += count;
        decimals = count;
        any_digit |= count > 0;
    }
    // Without a digit: `.`, `-`, `e5`, `nan`, `inf`, `null`.
    any_digit.then_some(Decimal {
        negative,
        mantissa,
        digits,
        decimals,
        end: i,
    })
}

/// `digits / 10^decimals`, negated if asked: correctly rounded (Clinger) for what
/// [`plain_decimal`] and [`short_decimal`] return.
#[inline(always)]
fn decimal_value(negative: bool, mantissa: u64, decimals: usize) -> f64 {
    let magnitude = mantissa as f64 / POW10[decimals];
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// The run of digits starting at `text[at]`: `(value, count)`, where `value` wraps when the
/// run has more than 19 digits (`count` then says so). Byte by byte: in a grid, tokens of
/// one length follow each other, so the loop's exit is predicted. Taking eight digits apart
/// in one word (SWAR), always or only while eight follow, measured slower on real grids
/// (issue #12: 7.195774, 1282.770, numpy's 2.000000000000000000e+00).
#[inline(always)]
fn digit_run(text: &[u8], at: usize) -> (u64, usize) {
    let mut value = 0u64;
    let mut i = at;
    while let Some(&b) = text.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    (value, i - at)
}

/// 10^k for every k a mantissa of at most 19 digits can need.
const POW10_U64: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut k = 1;
    while k < 20 {
        table[k] = table[k - 1] * 10;
        k += 1;
    }
    table
};

/// `digits × 10^power`, negated if asked, by Clinger's fast path: one IEEE division or
/// multiplication of two exact doubles, so rounded once, correctly. `None` unless `digits`
/// is below 2^53 and `power` within ±22 (then the two are not both exact).
#[inline(always)]
fn clinger(negative: bool, digits: u64, power: i64) -> Option<f64> {
    if digits >> 53 != 0 || !(-22..=22).contains(&power) {
        return None;
    }
    let magnitude = if power < 0 {
        digits as f64 / POW10[power.unsigned_abs() as usize]
    } else {
        digits as f64 * POW10[power as usize]
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// 5^-k modulo 2^64: dividing a multiple of 5^k by 5^k is one multiplication.
const INV_POW5: [u64; 19] = {
    // Newton's iteration doubles the correct low bits of an inverse; 5 · 5 ≡ 1 (mod 8).
    let mut inverse = 5u64;
    let mut step = 0;
    while step < 6 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(5u64.wrapping_mul(inverse)));
        step += 1;
    }
    let mut table = [1u64; 19];
    let mut k = 1;
    while k < 19 {
        table[k] = table[k - 1].wrapping_mul(inverse);
        k += 1;
    }
    table
};

/// numpy's `%.18e` (`np.savetxt`'s default): `[-]d.ddddddddddddddddddE±dd`, always 24 bytes
/// after the sign, read by its fixed layout as three words: its nineteen digits as they are
/// (see [`NumpyToken::number`] for them without trailing zeros); `None` for any other token.
#[inline(always)]
fn numpy_token(text: &[u8], pos: usize) -> Option<NumpyToken> {
    let negative = text.get(pos) == Some(&b'-');
    let start = pos + usize::from(negative);
    let t: &[u8; 25] = text.get(start..start + 25)?.try_into().ok()?;
    let word = |k: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&t[8 * k..8 * k + 8]);
        u64::from_le_bytes(w) ^ ASCII_ZEROS
    };
    let (x0, x1, x2) = (word(0), word(1), word(2));
    // The marks first (any other token fails there, cheaply), then non-digits exactly at
    // the dot (byte 1) and at the exponent's letter and sign.
    if t[1] != b'.'
        || t[20] | 0x20 != b'e'
        || !matches!(t[21], b'+' | b'-')
        || !is_space(t[24])
        || not_digits(x0) != 0x80 << 8
        || not_digits(x1) != 0
        || not_digits(x2) != (0x80 << 32 | 0x80 << 40)
    {
        return None;
    }
    // 1 + 6, 8 and 4 digits: the first digit moves next to the fraction's first six.
    let head = eight_digits((x0 & !0xffff) | ((x0 & 0xff) << 8));
    let digits = head * 1_000_000_000_000 + eight_digits(x1) * 10_000 + eight_digits(x2 << 32);
    let exponent = i64::from(t[22] - b'0') * 10 + i64::from(t[23] - b'0');
    let exponent = if t[21] == b'-' { -exponent } else { exponent };
    Some(NumpyToken {
        negative,
        digits,
        power: exponent - 18,
        fraction: [x0 & !0xffff, x1, x2 << 32],
        end: start + 24,
    })
}

/// What [`numpy_token`] read.
#[derive(Debug, Clone, Copy)]
struct NumpyToken {
    negative: bool,
    /// All nineteen digits (below 10^19, so within a u64).
    digits: u64,
    power: i64,
    /// The fraction's digit values in its three words (each digit a byte, the first digit
    /// and the dot cleared), for counting its trailing zeros.
    fraction: [u64; 3],
    end: usize,
}

impl NumpyToken {
    /// The token as a [`Number`], its fraction's trailing zeros dropped exactly
    /// (`2.000000000000000000e+00` is 2 × 10^0), so most such grids end in Clinger's fast
    /// path.
    #[inline(always)]
    fn number(self) -> Number {
        let [x0, x1, tail] = self.fraction;
        // Last digit first: four in the last word, eight, six.
        let zeros = if tail != 0 {
            tail.leading_zeros() / 8
        } else if x1 != 0 {
            4 + x1.leading_zeros() / 8
        } else {
            12 + (x0.leading_zeros() / 8).min(6)
        } as usize;
        // `digits` is a multiple of 10^zeros: shift out the 2s, multiply out the 5s.
        let digits = (self.digits >> zeros).wrapping_mul(INV_POW5[zeros]);
        Number {
            negative: self.negative,
            digits,
            power: self.power + zeros as i64,
            exact: true,
            end: self.end,
        }
    }
}

/// [`numpy_token`] as a [`Number`].
#[inline(always)]
fn numpy_form(text: &[u8], pos: usize) -> Option<Number> {
    numpy_token(text, pos).map(NumpyToken::number)
}

/// A well-formed number as `digits × 10^power`, read from `text[pos..end]`: what Clinger's
/// fast path, [`f32_by_product`] and Eisel–Lemire start from.
#[derive(Debug, Clone, Copy)]
struct Number {
    negative: bool,
    /// The significant digits (trailing zeros may be dropped into `power`).
    digits: u64,
    power: i64,
    /// Whether `digits` and `power` are the number: `false` for more than nineteen digits,
    /// which only the text holds exactly.
    exact: bool,
    end: usize,
}

impl Number {
    /// The correctly rounded double (what `strtod` gives GDAL), or `None` beyond the double
    /// range. Clinger's fast path when it can, else the Eisel–Lemire parser of `fast_float2`
    /// on the text (well formed, so it reads it as it is; out of range stays its business
    /// and its message's).
    #[inline(always)]
    fn to_f64(self, text: &[u8], pos: usize) -> Option<f64> {
        if self.exact {
            if let Some(v) = clinger(self.negative, self.digits, self.power) {
                return Some(v);
            }
        }
        eisel_lemire(text, pos, self.end)
    }

    /// GDAL's Float32 cell: the correctly rounded double, then rounded (or clamped) to f32.
    /// Clinger's fast path where it applies (measured cheaper than the product on
    /// `-1.35350000e-01`); else one f64 product decides nearly every value
    /// ([`f32_by_product`]: numpy's 19 digits); Eisel–Lemire the rest.
    #[inline(always)]
    fn to_f32(self, text: &[u8], pos: usize) -> Option<f32> {
        if self.exact {
            if let Some(v) = clinger(self.negative, self.digits, self.power) {
                return Some(f64_to_f32_clamped(v));
            }
            if let Some(v) = f32_by_product(self.negative, self.digits, self.power) {
                return Some(v);
            }
        }
        eisel_lemire(text, pos, self.end).map(f64_to_f32_clamped)
    }
}

/// The correctly rounded double of the well-formed number `text[pos..end]` by `fast_float2`
/// (Eisel–Lemire, exact big-number fallback), or `None` beyond the double range or for a
/// token longer than any number. Out of line: only what the cheaper paths cannot decide
/// comes here.
#[inline(never)]
fn eisel_lemire(text: &[u8], pos: usize, end: usize) -> Option<f64> {
    if end - pos > MAX_TOKEN {
        return None;
    }
    fast_float2::parse::<f64, _>(&text[pos..end])
        .ok()
        .filter(|v| v.is_finite())
}

/// 10^-k for k up to 22, each the double nearest to it.
const INV_POW10_WIDE: [f64; 23] = [
    1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14,
    1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22,
];

/// GDAL's Float32 cell for `digits × 10^power` (negated if asked): the correctly rounded
/// double rounded to f32, found from one f64 product without that double, or `None` where
/// the product cannot decide (about one value in 2^24; then the exact parsers do).
///
/// Why this is exact: `y = fl(fl(digits) × fl(10^power))` is three roundings from the exact
/// `x`, so |y − x| < 3.01 · 2^-53 · |x|, and the correctly rounded double `d` of `x` is
/// within 2^-53 · |x| more: fewer than 9 doubles lie between `y` and `d` (ulps below `y`
/// are at worst half of `y`'s). Where both are normal f32 magnitudes (`y` in [2^-125,
/// 2^127), so `d` in [2^-126, 2^127] and f32 rounding does not clamp), the f32 midpoints
/// are exactly the doubles whose 29 low bits (the bits f32 drops) are 2^28. If `y`'s low
/// bits are more than 16 steps from that, no midpoint lies between `y` and `d` or on
/// `d`: both round to the same f32, and `y as f32` is GDAL's cell. numpy's 19 significant
/// digits (`2.309840395182661723e+02`, too many for Clinger) take this path.
#[inline(always)]
fn f32_by_product(negative: bool, digits: u64, power: i64) -> Option<f32> {
    let scale = if power < 0 {
        *INV_POW10_WIDE.get(power.unsigned_abs() as usize)?
    } else {
        *POW10.get(power as usize)?
    };
    let y = digits as f64 * scale;
    let bits = y.to_bits();
    // `y` is not negative: its biased exponent is the top bits.
    let exponent = (bits >> 52) as i64 - 1023;
    let from_midpoint = (bits & 0x1fff_ffff) as i64 - 0x1000_0000;
    if !(-125..127).contains(&exponent) || from_midpoint.abs() <= 16 {
        return None;
    }
    let magnitude = y as f32;
    Some(if negative { -magnitude } else { magnitude })
}

/// A finite number in the forms GDAL's writers and numpy use, `[+-]digits[.digits][(e|E)
/// [+-]digits]` (either run of digits may be empty, not both), followed by whitespace or the
/// end, read in one pass (its value: [`Number::to_f64`], [`Number::to_f32`]). `None` for
/// anything else (a decimal comma, `nan`, `inf`, garbage): [`parse_f64`] decides then.
#[inline(always)]
fn scan_number(text: &[u8], pos: usize) -> Option<Number> {
    let Decimal {
        negative,
        mut mantissa,
        digits,
        decimals,
        end: mut i,
    } = decimal_at(text, pos)?;
    let fraction_end = i;
    let mut exponent = 0i64;
    if let Some(b'e' | b'E') = text.get(i) {
        let (exp_negative, at) = sign_at(text, i + 1);
        i = at;
        let (value, count) = digit_run(text, i);
        if count == 0 || count > 4 {
            return None;
        }
        i += count;
        exponent = if exp_negative {
            -(value as i64)
        } else {
            value as i64
        };
    }
    if text.get(i).is_some_and(|&b| !is_space(b)) {
        return None;
    }
    let mut power = exponent - decimals as i64;
    if digits <= 19 && mantissa >> 53 != 0 {
        // numpy's `%.18e` pads the fraction with zeros (`1.280000000000000000e+02`): drop
        // them, the value stays the same and may fit Clinger's 53 bits.
        let zeros = text[fraction_end - decimals..fraction_end]
            .iter()
            .rev()
            .take_while(|&&b| b == b'0')
            .count();
        mantissa /= POW10_U64[zeros];
        power += zeros as i64;
    }
    Some(Number {
        negative,
        digits: mantissa,
        power,
        exact: digits <= 19,
        end: i,
    })
}

/// Strictly parse a whole token as a number the way GDAL's `CPLAtofM` reads it, but refusing
/// trailing garbage: decimals, a decimal comma, exponents (`1.5E+02`, Fortran's `.5E+02`),
/// a leading `+`, `nan`, `inf`, `infinity` (any case). `None` if the token is not a number
/// or a finite literal overflows f64.
pub fn parse_f64(token: &[u8]) -> Option<f64> {
    if token.is_empty() || token.len() > MAX_TOKEN {
        return None;
    }
    let comma = token.iter().position(|&b| b == b',');
    let parsed = match comma {
        None => fast_float2::parse::<f64, _>(token).ok()?,
        Some(at) => {
            if token.contains(&b'.') || token[at + 1..].contains(&b',') {
                return None;
            }
            let mut copy = token.to_vec();
            copy[at] = b'.';
            fast_float2::parse::<f64, _>(&copy[..]).ok()?
        }
    };
    if parsed.is_infinite() && !names_infinity(token) {
        return None;
    }
    Some(parsed)
}

fn names_infinity(token: &[u8]) -> bool {
    let t = token
        .strip_prefix(b"-")
        .or(token.strip_prefix(b"+"))
        .unwrap_or(token);
    t.eq_ignore_ascii_case(b"inf") || t.eq_ignore_ascii_case(b"infinity")
}

/// The message for a token that is not a number.
/// Whether `token` is a well-formed number (decimal comma included) whose value lies beyond
/// the double range, which [`parse_f64`] refuses.
pub(crate) fn out_of_range(token: &[u8]) -> bool {
    if token.len() > MAX_TOKEN || names_infinity(token) {
        return false;
    }
    let normalized: Vec<u8> = token
        .iter()
        .map(|&b| if b == b',' { b'.' } else { b })
        .collect();
    fast_float2::parse::<f64, _>(&normalized[..]).is_ok_and(f64::is_infinite)
}

/// Why `token` at `at` is not `want`.
fn not_a_number(token: &[u8], at: usize, want: &str) -> TokenError {
    use crate::error::ErrorKind;
    let (kind, message) = if token.contains(&0) {
        (ErrorKind::NotText, NUL_MESSAGE.to_owned())
    } else if token.len() > MAX_TOKEN {
        (
            ErrorKind::BadValue,
            format!("expected {want}, found a token of more than {MAX_TOKEN} bytes"),
        )
    } else if out_of_range(token) {
        (
            ErrorKind::BadValue,
            format!("number out of range: '{}'", crate::error::show_token(token)),
        )
    } else {
        (
            ErrorKind::BadValue,
            format!(
                "expected {want}, found '{}'",
                crate::error::show_token(token)
            ),
        )
    };
    TokenError { at, kind, message }
}

fn parse_float_slow(text: &[u8], pos: usize) -> Result<(f64, usize, bool), TokenError> {
    let token = token_prefix(text, pos);
    let end = pos + token.len();
    if token == b"null" {
        return Ok((0.0, end, true));
    }
    match parse_f64(token) {
        Some(v) => Ok((v, end, false)),
        None => Err(not_a_number(token, pos, "a number")),
    }
}

impl Value for f64 {
    const DATA_TYPE: DataType = DataType::Float64;

    #[inline(always)]
    fn parse_short(text: &[u8], pos: usize, shape: &mut Shape) -> Option<Self> {
        short_decimal(text, pos, shape).map(|(neg, m, d)| decimal_value(neg, m, d))
    }

    #[inline(always)]
    fn parse_numpy(text: &[u8], pos: usize) -> Option<(Self, usize)> {
        let number = numpy_form(text, pos)?;
        Some((number.to_f64(text, pos)?, number.end))
    }

    #[inline(always)]
    fn parse_wide(text: &[u8], pos: usize, wide: &mut WideShape) -> Option<(Self, usize)> {
        let d = wide_decimal(text, pos, wide)?;
        Some((decimal_value(d.negative, d.digits, d.decimals), d.end))
    }

    #[inline(always)]
    fn parse_exponent(
        text: &[u8],
        pos: usize,
        exponent: &mut ExponentShape,
    ) -> Option<(Self, usize)> {
        let number = exponent_number(text, pos, exponent)?;
        Some((number.to_f64(text, pos)?, number.end))
    }

    #[inline(always)]
    fn parse_at(text: &[u8], pos: usize) -> Result<(Self, usize), TokenError> {
        if let Some(number) = scan_number(text, pos) {
            if let Some(v) = number.to_f64(text, pos) {
                return Ok((v, number.end));
            }
        }
        let (v, end, null) = parse_float_slow(text, pos)?;
        Ok((if null { -f64::MAX } else { v }, end))
    }

    fn to_f64(self) -> f64 {
        self
    }

    fn from_f64(v: f64) -> Self {
        v
    }

    #[inline(always)]
    fn from_short_decimal(negative: bool, digits: u64, decimals: usize) -> Self {
        decimal_value(negative, digits, decimals)
    }

    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
}

/// GDAL's conversion of a parsed double to a Float32 cell: clamp to ±FLT_MAX (infinities
/// included), otherwise round to nearest.
#[inline]
pub fn f64_to_f32_clamped(v: f64) -> f32 {
    if v >= f64::from(f32::MAX) {
        f32::MAX
    } else if v <= -f64::from(f32::MAX) {
        -f32::MAX
    } else {
        v as f32
    }
}

impl Value for f32 {
    const DATA_TYPE: DataType = DataType::Float32;

    #[inline(always)]
    fn parse_short(text: &[u8], pos: usize, shape: &mut Shape) -> Option<Self> {
        short_decimal(text, pos, shape).map(|(negative, digits, decimals)| {
            Self::from_short_decimal(negative, digits, decimals)
        })
    }

    #[inline(always)]
    fn parse_numpy(text: &[u8], pos: usize) -> Option<(Self, usize)> {
        // The nineteen digits as they are: one product decides nearly every value, without
        // counting trailing zeros for Clinger's path (which the rest then take).
        let token = numpy_token(text, pos)?;
        if let Some(v) = f32_by_product(token.negative, token.digits, token.power) {
            return Some((v, token.end));
        }
        let number = token.number();
        Some((number.to_f32(text, pos)?, number.end))
    }

    #[inline(always)]
    fn parse_exponent(
        text: &[u8],
        pos: usize,
        exponent: &mut ExponentShape,
    ) -> Option<(Self, usize)> {
        let number = exponent_number(text, pos, exponent)?;
        Some((number.to_f32(text, pos)?, number.end))
    }

    #[inline(always)]
    fn parse_wide(text: &[u8], pos: usize, wide: &mut WideShape) -> Option<(Self, usize)> {
        // Up to seven digits (so at most seven decimals): `parse_short`'s product, which
        // `f32_product_equals_double_rounding` proves equal to GDAL's two roundings. More:
        // GDAL's own steps, the quotient (Clinger: exact digits, exact power) then f32.
        let d = wide_decimal(text, pos, wide)?;
        let value = if d.small {
            Self::from_short_decimal(d.negative, d.digits, d.decimals)
        } else {
            decimal_value(d.negative, d.digits, d.decimals) as f32
        };
        Some((value, d.end))
    }

    #[inline(always)]
    fn parse_at(text: &[u8], pos: usize) -> Result<(Self, usize), TokenError> {
        if let Some(number) = scan_number(text, pos) {
            if let Some(v) = number.to_f32(text, pos) {
                return Ok((v, number.end));
            }
        }
        let (v, end, null) = parse_float_slow(text, pos)?;
        Ok((
            if null {
                -f32::MAX
            } else {
                f64_to_f32_clamped(v)
            },
            end,
        ))
    }

    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    fn from_f64(v: f64) -> Self {
        f64_to_f32_clamped(v)
    }

    #[inline(always)]
    fn from_short_decimal(negative: bool, digits: u64, decimals: usize) -> Self {
        // GDAL's value is the double quotient rounded to f32. With at most seven digits
        // (below 2^24) and 10^decimals both exact in f32, and f64 having more than 2 × 24 + 2
        // bits, that equals the exact quotient rounded once to f32 (Figueroa, "When is double
        // rounding innocuous?", 1995). The exact quotient m / 10^k is never within 2^-48 (in
        // relative terms) of a midpoint between two f32 values, as |m·2^e − M·10^k| ≥ 1 for
        // the 25-bit midpoint M / 2^e; and `m × 10^-k` in f64 (two roundings) is within 2^-52
        // of it: so this product rounds to that same f32, and a multiplication is cheaper
        // than a division. `f32_product_equals_double_rounding` checks every case.
        let magnitude = (digits as i64 as f64 * INV_POW10[decimals & 7]) as f32;
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }

    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
}

impl Value for i32 {
    const DATA_TYPE: DataType = DataType::Int32;

    #[inline(always)]
    fn parse_short(text: &[u8], pos: usize, _shape: &mut Shape) -> Option<Self> {
        short_integer(text, pos)
    }

    #[inline(always)]
    fn parse_at(text: &[u8], pos: usize) -> Result<(Self, usize), TokenError> {
        // `5.` has no decimals but is no more an integer than `5.0`.
        let integer = plain_decimal(text, pos).filter(|&(_, _, _, end)| text[end - 1] != b'.');
        if let Some((negative, digits, 0, end)) = integer {
            let v = if negative {
                -(digits as i64)
            } else {
                digits as i64
            };
            if let Ok(v) = i32::try_from(v) {
                return Ok((v, end));
            }
        }
        // Not a plain integer, or one outside Int32: only the message is left to find.
        let token = token_prefix(text, pos);
        let shown = crate::error::show_token(token);
        let digits = token
            .strip_prefix(b"-")
            .or(token.strip_prefix(b"+"))
            .unwrap_or(token);
        let narrow = |message| TokenError {
            at: pos,
            kind: crate::error::ErrorKind::DtypeTooNarrow,
            message,
        };
        Err(
            if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                narrow(format!(
                    "integer '{shown}' is outside the Int32 range of this grid; \
                     read it with dtype float64"
                ))
            } else if parse_f64(token).is_some() || token == b"null" {
                narrow(format!(
                    "'{shown}' is not an integer, but this grid is Int32 (forced, or no '.', \
                     ',', 'e' or 'E' appears in its body); read it with dtype float32 or float64"
                ))
            } else {
                not_a_number(token, pos, "an integer")
            },
        )
    }

    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    fn from_f64(v: f64) -> Self {
        v as i32
    }

    #[inline(always)]
    fn from_short_decimal(negative: bool, digits: u64, _decimals: usize) -> Self {
        // At most seven digits: the cast never wraps.
        let magnitude = digits as i32;
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }

    fn is_nan(self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_of(s: &str) -> Result<f32, TokenError> {
        f32::parse_at(s.as_bytes(), 0).map(|(v, _)| v)
    }

    #[test]
    fn decimals_round_like_strtod_then_cast() {
        for s in [
            "0.1",
            "123.45",
            "-0.000001",
            "9007199254740991",
            "1.5E+02",
            ".5",
            "-.5",
        ] {
            let want = s
                .parse::<f64>()
                .unwrap_or_else(|_| parse_f64(s.as_bytes()).unwrap());
            assert_eq!(f64::parse_at(s.as_bytes(), 0).unwrap().0, want, "{s}");
            assert_eq!(f32_of(s).unwrap(), want as f32, "{s}");
        }
    }

    #[test]
    fn gdal_forms() {
        assert_eq!(parse_f64(b"0.100000E+06"), Some(100000.0));
        assert_eq!(parse_f64(b".500E+02"), Some(50.0));
        assert_eq!(parse_f64(b"0,100000E+06"), Some(100000.0));
        assert_eq!(parse_f64(b",000E+00"), Some(0.0));
        assert_eq!(parse_f64(b"+7"), Some(7.0));
        assert!(parse_f64(b"nan").unwrap().is_nan());
        assert!(parse_f64(b"NaN").unwrap().is_nan());
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(f32_of("inf").unwrap(), f32::MAX);
        assert_eq!(f32_of("1e39").unwrap(), f32::MAX);
        assert_eq!(f32_of("null").unwrap(), -f32::MAX);
        assert_eq!(f64::parse_at(b"null", 0).unwrap().0, -f64::MAX);
    }

    #[test]
    fn garbage_is_refused() {
        for s in [
            "x4", "1.5x", "1,5.0", "1,,5", "--1", ".", "e5", "0x10", "1e999",
        ] {
            assert!(f32_of(s).is_err(), "{s}");
        }
        assert!(f32_of("1e999")
            .unwrap_err()
            .message
            .contains("out of range"));
    }

    proptest::proptest! {
        #[test]
        fn fast_paths_equal_the_general_parser(int in 0u64..100_000_000, frac in 0u64..100_000_000, nd in 0usize..9, neg: bool) {
            let s = if nd == 0 { format!("{}{int}", if neg { "-" } else { "" }) }
                    else { format!("{}{int}.{:0nd$}", if neg { "-" } else { "" }, frac % 10u64.pow(nd as u32)) };
            let want = parse_f64(s.as_bytes()).unwrap();
            proptest::prop_assert_eq!(f64::parse_at(s.as_bytes(), 0).unwrap(), (want, s.len()));
            proptest::prop_assert_eq!(f32::parse_at(s.as_bytes(), 0).unwrap().0, want as f32);
            if nd == 0 {
                proptest::prop_assert_eq!(f64::from(i32::parse_at(s.as_bytes(), 0).unwrap().0), want);
            }
        }
    }

    /// The token at 0 read by the general parsers alone (never the fast paths), as f64.
    fn general<T: Value>(text: &[u8]) -> Option<f64> {
        let token = &text[..token_end(text, 0)];
        match T::DATA_TYPE {
            DataType::Int32 => std::str::from_utf8(token)
                .ok()?
                .parse::<i32>()
                .ok()
                .map(f64::from),
            DataType::Float32 => parse_f64(token).map(|v| f64::from(f64_to_f32_clamped(v))),
            DataType::Float64 => parse_f64(token),
        }
    }

    proptest::proptest! {
        #[test]
        fn short_path_equals_the_general_parser(
            token in "[-+]?0?[0-9]{0,4}([.,][0-9]{0,4})?[eE.x:/]?",
            sep in "[ \t\n\r]?",
            after in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..10),
        ) {
            let mut text = (token + &sep).into_bytes();
            text.extend_from_slice(&after);
            fn check<T: Value>(text: &[u8]) -> Result<(), proptest::test_runner::TestCaseError> {
                if let Some(v) = T::parse_short(text, 0, &mut Shape::default()) {
                    let want = general::<T>(text);
                    proptest::prop_assert_eq!(Some(v.to_f64().to_bits()), want.map(f64::to_bits));
                }
                Ok(())
            }
            check::<f32>(&text)?;
            check::<f64>(&text)?;
            check::<i32>(&text)?;
        }

        #[test]
        fn short_path_takes_short_plain_decimals(
            negative: bool, int in 0u64..10_000, decimals in 0usize..4, frac in 0u64..1000,
            sep in "[ \t\n\r]", pad in "[0-9 ]{8}",
        ) {
            let body = if decimals == 0 { format!("{int}") }
                       else { format!("{int}.{:0decimals$}", frac % 10u64.pow(decimals as u32)) };
            // Up to seven characters, six after a sign, then the separator in the first eight.
            proptest::prop_assume!(body.len() + usize::from(negative) <= 7);
            let text = format!("{}{body}{sep}{pad}", if negative { "-" } else { "" });
            let mut shape = Shape::default();
            proptest::prop_assert!(f32::parse_short(text.as_bytes(), 0, &mut shape).is_some(), "{}", text);
            if decimals == 0 {
                proptest::prop_assert!(i32::parse_short(text.as_bytes(), 0, &mut shape).is_some(), "{}", text);
            }
        }

        /// Int32 cells of every length from one to eleven characters, signs and leading
        /// zeros included, one after another as in `16 8 128 1`: the short path (no layout
        /// cache) gives what the general parser gives, or leaves the token to it.
        #[test]
        fn integers_of_varying_length_equal_the_general_parser(
            tokens in proptest::collection::vec(("[-+]?[0-9]{1,11}", "[ \t\n\r]{1,2}"), 1..40),
        ) {
            let text: String = tokens.iter().map(|(t, sep)| format!("{t}{sep}")).collect::<String>()
                + "        ";
            let text = text.as_bytes();
            let mut shape = Shape::default();
            let mut pos = 0;
            while pos < text.len() {
                if is_space(text[pos]) {
                    pos += 1;
                    continue;
                }
                let want = general::<i32>(&text[pos..]);
                if let Some(v) = i32::parse_short(text, pos, &mut shape) {
                    proptest::prop_assert_eq!(Some(f64::from(v)), want, "at {}", pos);
                }
                let got = i32::parse_at(text, pos).ok().map(|(v, _)| f64::from(v));
                proptest::prop_assert_eq!(got, want, "at {}", pos);
                pos = token_end(text, pos);
            }
        }
    }

    proptest::proptest! {
        /// A run of tokens read with one shared `Shape` (so most reads check the previous
        /// token's layout instead of taking the token apart) gives what the general parsers
        /// give, token by token.
        #[test]
        fn shared_shape_equals_the_general_parser(
            tokens in proptest::collection::vec(
                ("[-]?[0-9]{1,3}([.][0-9]{0,3})?|[0-9]{1,3}[.:x/,][0-9]?|-?[0-9]{4,8}", "[ \t\n\r]{1,2}"),
                1..40,
            ),
        ) {
            let text: String = tokens.iter().map(|(t, sep)| format!("{t}{sep}")).collect::<String>()
                + "        ";
            let text = text.as_bytes();
            fn check<T: Value>(text: &[u8]) -> Result<(), proptest::test_runner::TestCaseError> {
                let mut shape = Shape::default();
                let mut pos = 0;
                while pos < text.len() {
                    if is_space(text[pos]) {
                        pos += 1;
                        continue;
                    }
                    if let Some(v) = T::parse_short(text, pos, &mut shape) {
                        let want = general::<T>(&text[pos..]).map(f64::to_bits);
                        proptest::prop_assert_eq!(Some(v.to_f64().to_bits()), want, "at {}", pos);
                    }
                    pos = token_end(text, pos);
                }
                Ok(())
            }
            check::<f32>(text)?;
            check::<f64>(text)?;
            check::<i32>(text)?;
        }
    }

    /// A token in the forms [`scan_number`] reads: sign, integer digits, fraction, exponent
    /// (either letter, either sign, zero-padded), numpy's `%.18e` zero padding included.
    fn scientific() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        (
            "[-+]?",
            "0{0,2}[0-9]{0,12}",
            proptest::option::of("[0-9]{0,22}"),
            proptest::option::of(("[eE]", "[-+]?", 0u32..400, 1usize..4)),
        )
            .prop_map(|(sign, int, frac, exp)| {
                let mut s = sign + &int;
                if let Some(frac) = frac {
                    s = s + "." + &frac;
                }
                if let Some((e, esign, value, width)) = exp {
                    s += &format!("{e}{esign}{value:0width$}");
                }
                s
            })
    }

    /// `std`'s correctly rounded parser (Eisel–Lemire and big-number fallback, not
    /// `fast_float2`), as GDAL's `strtod` rounds; `None` where it refuses or overflows.
    fn reference(token: &str) -> Option<f64> {
        token.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// Exponent-form and long-mantissa tokens read as the correctly rounded double, and as
        /// that double rounded to f32 (GDAL's two roundings); or are refused exactly where the
        /// reference refuses them.
        #[test]
        fn scientific_forms_round_like_strtod(token in scientific(), sep in "[ \t\r\n]?") {
            let text = format!("{token}{sep}");
            let want = reference(&token);
            let got = f64::parse_at(text.as_bytes(), 0).ok();
            proptest::prop_assert_eq!(got.map(|(v, _)| v.to_bits()), want.map(f64::to_bits), "{}", token);
            if let Some((_, end)) = got {
                proptest::prop_assert_eq!(end, token.len());
            }
            let got = f32::parse_at(text.as_bytes(), 0).ok().map(|(v, _)| v.to_bits());
            proptest::prop_assert_eq!(got, want.map(|v| f64_to_f32_clamped(v).to_bits()), "{}", token);
        }

        /// Doubles near the midpoint of two f32 values (where rounding twice can differ from
        /// rounding once), written with 1 to 25 significant digits in both exponent letters
        /// and as numpy's `%.18e`: f32 cells are the double rounded to f32, as in GDAL.
        #[test]
        fn near_f32_midpoints_round_twice_like_gdal(
            bits in 0x0080_0000u32..0x7f00_0000, nudge in -4i64..=4, digits in 0usize..25,
            upper: bool, negative: bool,
        ) {
            let low = f64::from(f32::from_bits(bits));
            let high = f64::from(f32::from_bits(bits + 1));
            let mid = (low + high) / 2.0;
            let near = f64::from_bits((mid.to_bits() as i64 + nudge) as u64);
            let near = if negative { -near } else { near };
            for token in [format!("{near:.digits$e}"), format!("{near:.18e}")] {
                let token = if upper { token.replace('e', "E") } else { token };
                let want = reference(&token).map(|v| f64_to_f32_clamped(v).to_bits());
                let got = f32::parse_at(token.as_bytes(), 0).ok().map(|(v, _)| v.to_bits());
                proptest::prop_assert_eq!(got, want, "{}", token);
            }
        }
    }

    proptest::proptest! {
        /// Runs of plain tokens of one to seventeen digits (most of eight to fifteen, the
        /// wide path's), dots anywhere, signs, and some near misses, read with one shared
        /// `WideShape`: wherever `parse_wide` answers, it equals the general parsers, and
        /// a wide token is always taken; the long `Shape` of such a token says `wide`.
        #[test]
        fn wide_path_equals_the_general_parser(
            tokens in proptest::collection::vec(
                (
                    "-?[0-9]{1,8}[.][0-9]{1,8}|-?[0-9]{8,15}|-?[0-9]{1,3}[.][0-9]{5,13}\
                     |[0-9]{2,9}[.,:x][0-9]{5,9}|-?[0-9]{1,2}[.][0-9]{6,8}e-0[0-9]|[0-9]{16,17}",
                    "[ \t\n\r]{1,2}",
                ),
                1..40,
            ),
        ) {
            let text: String = tokens.iter().map(|(t, sep)| format!("{t}{sep}")).collect::<String>()
                + "                ";
            let text = text.as_bytes();
            fn check<T: Value>(text: &[u8]) -> Result<(), proptest::test_runner::TestCaseError> {
                let mut wide = WideShape::default();
                let mut pos = 0;
                while pos < text.len() {
                    if is_space(text[pos]) {
                        pos += 1;
                        continue;
                    }
                    let end = token_end(text, pos);
                    let token = &text[pos..end];
                    let want = general::<T>(&text[pos..]).map(f64::to_bits);
                    let got = T::parse_wide(text, pos, &mut wide);
                    if let Some((v, got_end)) = got {
                        proptest::prop_assert_eq!(Some(v.to_f64().to_bits()), want, "at {}", pos);
                        proptest::prop_assert_eq!(got_end, end, "at {}", pos);
                    }
                    // Plain, one to fifteen digits, the first before any dot, in sixteen bytes.
                    let body = token.strip_prefix(b"-").unwrap_or(token);
                    let digits = body.iter().filter(|b| b.is_ascii_digit()).count();
                    let plain = body.first().is_some_and(u8::is_ascii_digit)
                        && body.iter().all(|&b| b.is_ascii_digit() || b == b'.')
                        && body.iter().filter(|&&b| b == b'.').count() <= 1;
                    if T::DATA_TYPE != DataType::Int32 && plain && digits <= 15 && token.len() < 16 {
                        proptest::prop_assert!(got.is_some(), "{}", String::from_utf8_lossy(token));
                        if token.len() > 8 - usize::from(token[0] == b'-') {
                            let mut shape = Shape::default();
                            proptest::prop_assert!(T::parse_short(text, pos, &mut shape).is_none());
                            proptest::prop_assert!(shape.long_form() == Some(LongForm::Wide), "{}", String::from_utf8_lossy(token));
                        }
                    }
                    pos = end;
                }
                Ok(())
            }
            check::<f32>(text)?;
            check::<f64>(text)?;
            check::<i32>(text)?;
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(50_000))]
        /// `f32_by_product` on numpy's 19 significant digits (any such mantissa, and the
        /// 19 digits nearest an f32 midpoint, nudged by up to 40 in the last digit), every
        /// power of ten it takes and beyond: wherever it answers, GDAL's cell (the correctly
        /// rounded double, then f32); and it answers nearly always away from midpoints.
        #[test]
        fn f32_by_product_rounds_twice_like_gdal(
            digits in 1_000_000_000_000_000_000u64..10_000_000_000_000_000_000,
            power in -30i64..30, negative: bool,
            bits in 0x0080_0000u32..0x7f00_0000, nudge in -40i64..=40, near: bool,
        ) {
            let (digits, power) = if near {
                // The f32 midpoint above `bits` to 19 digits: `d.ddd…e±x`.
                let mid = (f64::from(f32::from_bits(bits)) + f64::from(f32::from_bits(bits + 1))) / 2.0;
                let text = format!("{mid:.18e}");
                let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
                let digits: u64 = mantissa.replace('.', "").parse().unwrap_or(0);
                let exponent: i64 = exponent.parse().unwrap_or(0);
                (digits.saturating_add_signed(nudge), exponent - 18)
            } else {
                (digits, power)
            };
            let token = format!("{}{digits}e{power}", if negative { "-" } else { "" });
            let want = reference(&token).map(|v| f64_to_f32_clamped(v).to_bits());
            let got = f32_by_product(negative, digits, power);
            if let Some(got) = got {
                proptest::prop_assert_eq!(Some(got.to_bits()), want, "{}", token);
            }
            // Far from a midpoint, within the powers it takes, it decides.
            let y = digits as f64 * 10f64.powi(power as i32);
            if !near && (-22..=22).contains(&power) && (1e-37..1e38).contains(&y) {
                let low = (y.to_bits() & 0x1fff_ffff) as i64 - 0x1000_0000;
                if low.abs() > 64 {
                    proptest::prop_assert!(got.is_some(), "{}", token);
                }
            }
        }
    }

    /// Values of f32 and f64 midpoints written in numpy's `%.18e`, where deciding from one
    /// product would be wrong: `f32_by_product` declines them, and the exact paths round
    /// them (ties to even) as GDAL does.
    #[test]
    fn numpy_midpoints_read_exactly() {
        for token in [
            "1.677721700000000000e+07",
            "-1.677721900000000000e+07",
            "9.007199254740993000e+15",
            "9.007199254740995000e+15",
            "1.000000059604644775e+00",
            "3.402823466385288598e+38",
            "3.402823567797336616e+38",
            "1.175494350822287508e-38",
            "1.401298464324817071e-45",
            "-0.000000000000000000e+00",
        ] {
            let text = format!("{token} ");
            let want = reference(token).map(f64_to_f32_clamped).map(f32::to_bits);
            let got = f32::parse_numpy(text.as_bytes(), 0).map(|(v, _)| v.to_bits());
            assert_eq!(got, want, "{token}");
            let got = f64::parse_numpy(text.as_bytes(), 0).map(|(v, _)| v.to_bits());
            assert_eq!(got, reference(token).map(f64::to_bits), "{token}");
        }
        assert_eq!(f32_by_product(false, 16_777_217, 0), None);
        assert_eq!(f32_by_product(false, 16_777_218, 0), Some(16_777_218.0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// `first_not_digit` (no mask) finds what `not_digits` finds first, in any word, and
        /// in words of digits with any bytes after them; `eight_digits` without its first
        /// mask reads any eight digits.
        #[test]
        fn swar_helpers_equal_their_definitions(
            word: u64, digits in proptest::collection::vec(0u8..10, 8), count in 0usize..9,
            after: u64,
        ) {
            let x = word ^ ASCII_ZEROS;
            proptest::prop_assert_eq!(first_not_digit(x), not_digits(x).trailing_zeros() / 8);
            let mut bytes = after.to_le_bytes();
            bytes[..count].copy_from_slice(&digits[..count]);
            let y = u64::from_le_bytes(bytes);
            proptest::prop_assert_eq!(first_not_digit(y), not_digits(y).trailing_zeros() / 8);
            let v = u64::from_le_bytes(digits.clone().try_into().unwrap_or([0; 8]));
            let want = digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d));
            proptest::prop_assert_eq!(eight_digits(v), want);
        }
    }

    /// Every byte but a digit after an integer's digits: the short path takes the integer
    /// exactly when the byte is a separator (`is_space`), with or without a sign.
    #[test]
    fn short_integers_end_at_exactly_the_separators() {
        for b in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
            for (token, want) in [(&b"12"[..], 12), (b"-7", -7), (b"1234567", 1234567)] {
                let mut text = token.to_vec();
                text.push(b);
                text.extend_from_slice(b"        ");
                let got = i32::parse_short(&text, 0, &mut Shape::default());
                let expect = (is_space(b) && token.len() < 8).then_some(want);
                assert_eq!(
                    got,
                    expect,
                    "{:?} then byte {b}",
                    String::from_utf8_lossy(token)
                );
            }
        }
    }

    #[test]
    fn inverse_powers_of_five() {
        let mut power = 1u64;
        for inverse in INV_POW5 {
            assert_eq!(power.wrapping_mul(inverse), 1);
            power = power.wrapping_mul(5);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// numpy's `%.18e` of any double, of integers (trailing zeros dropped) and of
        /// prefixes with zeros after them, read by its layout: the correctly rounded double,
        /// and that rounded to f32, with a `Shape` that says so; with a byte changed anywhere
        /// in the layout, `parse_numpy` answers only what the general parsers say.
        #[test]
        fn numpy_form_rounds_like_strtod(
            bits: u64, int in -100_000i64..100_000, keep in 1usize..20, pick in 0u8..3,
            upper: bool, sep in "[ \t\r\n]", spoil in 0usize..26, with in 0u8..128,
        ) {
            let v = f64::from_bits(bits);
            proptest::prop_assume!(v.is_finite());
            let token = match pick {
                0 => format!("{v:.18e}"),
                1 => format!("{:.18e}", int as f64),
                _ => {
                    // Only the first `keep` digits kept, zeros after them.
                    let full = format!("{v:.18e}");
                    let (mantissa, exponent) = full.split_once('e').unwrap_or((&full, "0"));
                    let sign = usize::from(mantissa.starts_with('-'));
                    let kept: String = mantissa.chars().enumerate()
                        .map(|(i, c)| if i > sign + keep && c.is_ascii_digit() { '0' } else { c })
                        .collect();
                    format!("{kept}e{exponent}")
                }
            };
            // Rust writes `e5` and `e-5`; numpy writes `e+05` and `e-05`.
            let (mantissa, exponent) = token.split_once('e').unwrap_or((&token, "0"));
            let e: i32 = exponent.parse().unwrap_or(0);
            let letter = if upper { 'E' } else { 'e' };
            let token = format!("{mantissa}{letter}{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
            let mut text = format!("{token}{sep}1 ").into_bytes();
            // The short path leaves the token and its shape says numpy (two-digit exponents:
            // numpy writes three beyond ±99, which the general parsers read).
            let mut shape = Shape::default();
            proptest::prop_assert!(f64::parse_short(&text, 0, &mut shape).is_none());
            proptest::prop_assert_eq!(shape.long_form() == Some(LongForm::Numpy), e.abs() < 100, "{}", token);
            for case in 0..2 {
                if case == 1 {
                    let at = spoil.min(text.len() - 1);
                    text[at] = with;
                }
                let end = token_end(&text, 0);
                let shown = String::from_utf8_lossy(&text[..end]).into_owned();
                let want = general::<f64>(&text);
                if case == 0 {
                    proptest::prop_assert_eq!(want.map(f64::to_bits), reference(&shown).map(f64::to_bits));
                }
                if let Some((got, got_end)) = f64::parse_numpy(&text, 0) {
                    proptest::prop_assert_eq!(Some(got.to_bits()), want.map(f64::to_bits), "{}", shown);
                    proptest::prop_assert_eq!(got_end, end, "{}", shown);
                    let got = f32::parse_numpy(&text, 0).map(|(v, _)| v.to_bits());
                    proptest::prop_assert_eq!(got, want.map(|v| f64_to_f32_clamped(v).to_bits()), "{}", shown);
                } else {
                    proptest::prop_assert!(case == 1 || e.abs() >= 100, "{}", shown);
                }
            }
        }
    }

    #[test]
    fn scientific_edge_cases() {
        for token in [
            "2.000000000000000000e+00",
            "-9.999000000000000000e+03",
            "0.000000000000000000e+00",
            "-0.0",
            "1.280000000000000000e+02",
            "2.509840395351448876e+02",
            "-1.234567890123E+02",
            "-1.35350000e-01",
            "9007199254740993",
            "9007199254740993.0e0",
            "123456789012345678901234567890",
            "1e22",
            "1e23",
            "1.7976931348623157e308",
            "4.9e-324",
            "2.4703282292062328e-324",
            "5.",
            ".5e1",
            "+.5E-1",
            "00000000000000000000000001.5",
            "1e0001",
        ] {
            let want = reference(token).expect(token);
            assert_eq!(
                f64::parse_at(token.as_bytes(), 0).unwrap(),
                (want, token.len()),
                "{token}"
            );
            assert_eq!(f32_of(token).unwrap(), f64_to_f32_clamped(want), "{token}");
        }
        for token in [
            "1e", "1e+", "e5", ".", "-", "1.5.", "1e5x", "1e99999", "1.8e308", "--1",
        ] {
            assert!(f64::parse_at(token.as_bytes(), 0).is_err(), "{token}");
        }
    }

    /// `parse_short` for f32 multiplies by 10^-k in f64; that must equal GDAL's double
    /// quotient rounded to f32 for every short token: all mantissas of up to seven digits,
    /// every number of decimals a short token can have.
    #[test]
    fn f32_product_equals_double_rounding() {
        for decimals in 0..INV_POW10.len() {
            let (inverse, power) = (INV_POW10[decimals], POW10[decimals]);
            for digits in 0..10_000_000u32 {
                let product = (f64::from(digits) * inverse) as f32;
                let gdal = (f64::from(digits) / power) as f32;
                assert_eq!(
                    product.to_bits(),
                    gdal.to_bits(),
                    "{digits} / 10^{decimals}"
                );
            }
        }
    }

    #[test]
    fn integers() {
        assert_eq!(i32::parse_at(b"-2147483648 ", 0).unwrap(), (i32::MIN, 11));
        assert_eq!(i32::parse_at(b"+42", 0).unwrap(), (42, 3));
        use crate::error::ErrorKind;
        let kind = |token: &[u8]| i32::parse_at(token, 0).unwrap_err().kind;
        assert_eq!(kind(b"2147483648"), ErrorKind::DtypeTooNarrow);
        assert_eq!(kind(b"99999999999999999999"), ErrorKind::DtypeTooNarrow);
        assert_eq!(kind(b"1.5"), ErrorKind::DtypeTooNarrow);
        assert_eq!(kind(b"x4"), ErrorKind::BadValue);
        assert_eq!(kind(b"--5"), ErrorKind::BadValue);
        assert_eq!(kind(b"4\x00"), ErrorKind::NotText);
        // The message still says what to do.
        let e = i32::parse_at(b"2147483648", 0).unwrap_err();
        assert!(e.message.contains("dtype float64"), "{}", e.message);
    }
}
