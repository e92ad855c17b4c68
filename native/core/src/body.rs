//! The body: whitespace-separated values, parsed in parallel chunks straight into their final
//! place. Two passes over the text: [`survey`] counts the values of every chunk (and finds
//! GDAL's float markers), then [`fill_fresh`] parses each chunk into its own slice of the
//! output. The same chunk parser feeds any [`Sink`], so statistics and mosaics reuse it
//! unchanged.

use std::mem::MaybeUninit;
use std::ops::Range;

use crate::chunk::{earliest, parse_share, survey_share, Stop, Survey};
use crate::control::Control;
use crate::error::{ErrorKind, Located};
use crate::header::Header;
use crate::parallel::{consecutive_mut, map_items};
use crate::scan::{
    after_token, chunk_size, count_tokens, equal_bytes, fixed_chunks, is_space, space_mask,
    token_masks, worth_parallel, TokenMasks,
};
use crate::short_tokens;
use crate::value::{DataType, ExponentShape, LongForm, Repeats, Shape, Value, WideShape};
use crate::window::ChunkText;

/// Where parsed values go.
pub trait Sink<T> {
    /// Take one value; `false` if no more values are wanted (the grid is full).
    fn push(&mut self, value: T) -> bool;

    /// Take `values` in order, as many as are wanted: how many were taken.
    fn push_all(&mut self, values: &[T]) -> usize
    where
        T: Copy,
    {
        values.iter().take_while(|&&v| self.push(v)).count()
    }
}

/// A sink writing into a slice, in order.
pub struct SliceSink<'a, T> {
    /// Cells, written from the start; only ever written with values (never uninitialized),
    /// so cells that were initialized stay so, and the first `next` are.
    out: &'a mut [MaybeUninit<T>],
    next: usize,
}

impl<'a, T> SliceSink<'a, T> {
    /// Write from the start of `out` (the fuzz targets' and tests' sink; the engine writes
    /// fresh cells through [`SliceSink::new_uninit`]).
    #[cfg(any(test, feature = "internals"))]
    pub fn new(out: &'a mut [T]) -> Self {
        SliceSink {
            out: values_only(out),
            next: 0,
        }
    }

    /// Write from the start of `out`, whose cells need not be initialized: the first
    /// [`SliceSink::written`] are afterwards.
    pub(crate) fn new_uninit(out: &'a mut [MaybeUninit<T>]) -> Self {
        SliceSink { out, next: 0 }
    }

    /// How many values were written.
    pub fn written(&self) -> usize {
        self.next
    }
}

impl<T> Sink<T> for SliceSink<'_, T> {
    #[inline(always)]
    fn push(&mut self, value: T) -> bool {
        match self.out.get_mut(self.next) {
            Some(slot) => {
                slot.write(value);
                self.next += 1;
                true
            }
            None => false,
        }
    }

    #[inline(always)]
    fn push_all(&mut self, values: &[T]) -> usize
    where
        T: Copy,
    {
        let next = self.next.min(self.out.len());
        let free = &mut self.out[next..];
        let n = values.len().min(free.len());
        // SAFETY: `MaybeUninit<T>` has `T`'s layout and every `T` is a valid
        // `MaybeUninit<T>`; the view is only read.
        let values = unsafe { &*(&values[..n] as *const [T] as *const [MaybeUninit<T>]) };
        free[..n].copy_from_slice(values);
        self.next += n;
        n
    }
}

/// `cells` seen as cells that need not be initialized, for this module's writers, which only
/// ever write values of `T` through such a view ([`SliceSink`], [`fill_cells`],
/// [`parse_into`]): the cells then hold valid `T`s whenever the borrow ends.
fn values_only<T>(cells: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and the view is written only with values of
    // `T` (see above), never with an uninitialized one.
    unsafe { &mut *(cells as *mut [T] as *mut [MaybeUninit<T>]) }
}

/// How a `*` token reads: GRASS's null marker (docs/FORMAT.md, "GRASS `*` null cells"). The
/// default (ESRI grids) reads none: `*` is a token that is not a number.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Nulls {
    /// The value of a `*` cell in the type being parsed (`None`: `*` is not a value).
    star: Option<f64>,
    /// Whether no data cell may hold that value (the header did not name it, see
    /// [`crate::header::GRASS_NULL`]).
    reserved: bool,
}

impl Nulls {
    /// The null cells of a grid with `header` read as `dtype`: those of its nodata value as
    /// that type holds it, so a `*` cell equals a cell that spells the value out.
    pub fn of(header: &Header, dtype: DataType) -> Nulls {
        let star = if header.star_nulls {
            header.nodata_for(dtype)
        } else {
            None
        };
        let reserved = header.nodata.as_ref().is_some_and(|n| n.reserved);
        Nulls { star, reserved }
    }

    /// The value no data cell may hold, as `T`.
    fn reserved_as<T: Value>(&self) -> Option<T> {
        self.star.filter(|_| self.reserved).map(T::from_f64)
    }

    /// A token that is not a number: `Some` if it is a `*` null cell, with its value, or why
    /// the grid's type cannot hold that value (`null: 1.5` read as int32 would silently make
    /// the null cells data).
    #[cold]
    fn star<T: Value>(&self, text: &[u8], pos: usize) -> Option<Result<T, String>> {
        let v = self.star?;
        let alone = text.get(pos + 1).is_none_or(|&b| is_space(b));
        if text.get(pos) != Some(&b'*') || !alone {
            return None;
        }
        let cell = T::from_f64(v);
        if cell.to_f64() == v || (v.is_nan() && cell.is_nan()) {
            return Some(Ok(cell));
        }
        Some(Err(format!(
            "'*' is a null cell, but this grid's null value {v} cannot be stored in an {} \
             grid; read it with dtype float32 or float64",
            T::DATA_TYPE.name()
        )))
    }
}

/// The error for a data cell holding the value a GRASS grid's `*` cells read as.
#[cold]
#[inline(never)]
fn reserved_error(text: &[u8], pos: usize, base: u64) -> Stop {
    let token = &text[pos..crate::value::token_end(text, pos)];
    Stop::Bad(Located::new(
        base + pos as u64,
        ErrorKind::NodataCollision,
        format!(
            "'{}' reads as {}, the nodata value of this GRASS grid's '*' null cells (it has \
             no 'null:' line), so it would read as nodata; add a 'null:' line naming a value \
             no cell holds",
            crate::error::show_token(token),
            crate::header::GRASS_NULL
        ),
    ))
}

/// Parse into `sink` every value that starts in `range` of `text` (a value starting there
/// may run on past the range's end; one that started before it belongs to the previous
/// chunk). `base` is the offset of `text[0]` in the whole text, for error positions; `nulls`
/// says how `*` tokens read (see [`Nulls::of`]).
pub fn parse_chunk<T: Value, S: Sink<T>>(
    text: &[u8],
    range: Range<usize>,
    base: u64,
    nulls: &Nulls,
    sink: &mut S,
) -> Result<(), Stop> {
    // Only a grid with a reserved value looks at every value it parses: the loop is
    // compiled twice, and an ESRI grid's has no such test. Integers have no long forms, so
    // their loop has no runs: even never taken, the runs' bookkeeping made it twice as slow
    // (Atlantic_U, flowdir).
    match (nulls.reserved_as::<T>(), T::DATA_TYPE == DataType::Int32) {
        (Some(reserved), false) => {
            parse_tokens::<T, S, true, true>(text, range, base, nulls, reserved, sink)
        }
        (None, false) => {
            parse_tokens::<T, S, false, true>(text, range, base, nulls, T::default(), sink)
        }
        (Some(reserved), true) => {
            parse_tokens::<T, S, true, false>(text, range, base, nulls, reserved, sink)
        }
        (None, true) => {
            parse_tokens::<T, S, false, false>(text, range, base, nulls, T::default(), sink)
        }
    }
}

/// [`parse_chunk`]; with `RESERVED`, a value equal to `reserved` is an error; with `RUNS`,
/// long tokens of a form of their own are read in runs.
///
/// Values are found 64 bytes at a time from a mask of the separators, so where the next value
/// starts never waits for the current one to be parsed: the processor parses several at once.
/// A block of short tokens may be read whole ([`short_tokens`]). A run of long tokens of one
/// form (numpy's `%.18e`, wide decimals) is read apart, token after token ([`parse_run`]);
/// the masks go on from where it ends.
#[inline]
fn parse_tokens<T: Value, S: Sink<T>, const RESERVED: bool, const RUNS: bool>(
    text: &[u8],
    range: Range<usize>,
    base: u64,
    nulls: &Nulls,
    reserved: T,
    sink: &mut S,
) -> Result<(), Stop> {
    let end = range.end.min(text.len());
    let mut at = range.start;
    // Whether the byte before `at` belongs to a token (one that started before the range).
    let mut inside_before = at > 0 && !is_space(text[at - 1]);
    let mut shape = Shape::default();
    let mut wide = WideShape::default();
    // A run of long tokens ([`parse_run`]) read the tokens that start before `skip`: the
    // bits of the positions from `skip` on, in the block at `at` (a run ends within 2^30
    // bytes of where it began, so the distance fits the `u32`).
    let mut skip = 0;
    let from = |skip: usize, at: usize| {
        u64::MAX
            .checked_shl(skip.saturating_sub(at) as u32)
            .unwrap_or(0)
    };
    // Blocks of short tokens are read whole ([`short_tokens`]), others token by token. Whole
    // blocks are faster where layouts vary (integers, `28.0625 28.16667`); where one layout
    // goes on (`370.33 371.34`) the token path checks each token against it for less. So a
    // float grid reads token by token, counting layout changes over windows of
    // `WINDOW` blocks; from `CHANGES` on in a window, it reads the next `WHOLE` blocks whole,
    // or until a block cannot be.
    const WINDOW: u32 = 8;
    const CHANGES: u32 = 4;
    const WHOLE: u32 = 256;
    let mut values = [T::default(); short_tokens::MOST];
    // Each block's digits; zeros past them (see `short_tokens::read_block`).
    let mut digits = [0u8; 72];
    let mut whole = if RUNS { 0 } else { u32::MAX };
    let (mut window, mut changes) = (0, 0);
    let mut one = |pos: usize, shape: &mut Shape, sink: &mut S| {
        parse_one::<T, S, RESERVED, RUNS>(
            text, pos, end, base, sink, shape, &mut wide, nulls, reserved,
        )
    };
    while at < end {
        let Some(block) = text.get(at..at + 64) else {
            break;
        };
        let mut block_bytes = [0u8; 64];
        block_bytes.copy_from_slice(block);
        let mut masks = if whole > 0 {
            token_masks(&block_bytes, &mut digits)
        } else {
            TokenMasks::spaces(space_mask(&block_bytes))
        };
        let inside = !masks.space;
        let mut starts = inside & !((inside << 1) | u64::from(inside_before));
        if end - at < 64 {
            starts &= (1u64 << (end - at)) - 1;
        }
        if RUNS {
            starts &= from(skip, at);
        }
        // Nothing starts here when a run read on past the block (`skip`).
        if starts != 0 {
            // A block of single-byte tokens (but one at its last byte, which may go on) is read
            // whole in any case: digits are their own values (masks, classes, flow directions,
            // the zeros of flood and avalanche outputs), cheaper than any layout check.
            let singles = starts & !(1 << 63);
            let single = whole == 0 && singles != 0 && (singles << 1) & inside == 0;
            if single {
                masks = token_masks(&block_bytes, &mut digits);
            }
            if whole > 0 || single {
                match short_tokens::read_block(&digits, &masks, starts, inside, &mut values) {
                    // A GRASS grid's reserved value (an error) is found token by token.
                    Some((read, n)) if !(RESERVED && values[..n].contains(&reserved)) => {
                        let taken = sink.push_all(&values[..n]);
                        if taken < n {
                            return Err(Stop::Extra(base + (at + nth_bit(read, taken)) as u64));
                        }
                        starts &= !read;
                        if RUNS && !single {
                            whole -= 1;
                        }
                    }
                    _ if RUNS => whole = 0,
                    _ => {}
                }
            }
            if whole == 0 {
                window += 1;
                if window == WINDOW {
                    if shape.changes().wrapping_sub(changes) >= CHANGES {
                        whole = WHOLE;
                    }
                    window = 0;
                    changes = shape.changes();
                }
            }
            while starts != 0 {
                let pos = at + starts.trailing_zeros() as usize;
                starts &= starts - 1;
                let resume = one(pos, &mut shape, sink)?;
                if RUNS && resume != 0 {
                    skip = resume;
                    starts &= from(skip, at);
                }
            }
        }
        inside_before = inside >> 63 != 0;
        at += 64;
    }
    // The last bytes of the text, one by one.
    while at < end {
        if is_space(text[at]) {
            inside_before = false;
        } else {
            if !inside_before && at >= skip {
                skip = skip.max(one(at, &mut shape, sink)?);
            }
            inside_before = true;
        }
        at += 1;
    }
    Ok(())
}

/// The position of the set bit of `bits` that has `n` set bits below it.
#[cold]
fn nth_bit(mut bits: u64, n: usize) -> usize {
    for _ in 0..n {
        bits &= bits.wrapping_sub(1);
    }
    bits.trailing_zeros() as usize
}

/// A value [`Value::parse_short`] does not take, a `*` null cell, or a bad token, kept out of
/// line so the hot loop keeps its registers.
#[cold]
#[inline(never)]
fn parse_long<T: Value>(text: &[u8], pos: usize, base: u64, nulls: &Nulls) -> Result<T, Stop> {
    let narrow = |message| {
        Stop::Bad(Located::new(
            base + pos as u64,
            ErrorKind::DtypeTooNarrow,
            message,
        ))
    };
    match T::parse_at(text, pos) {
        Ok((value, _)) if nulls.reserved_as::<T>() == Some(value) => {
            Err(reserved_error(text, pos, base))
        }
        Ok((value, _)) => Ok(value),
        Err(e) => match nulls.star::<T>(text, pos) {
            Some(star) => star.map_err(narrow),
            None => Err(Stop::Bad(Located::new(
                base + e.at as u64,
                e.kind,
                e.message,
            ))),
        },
    }
}

/// [`parse_long`] for a grid whose long tokens have a form of their own ([`LongForm`]):
/// numpy's `%.18e`, exponent form within sixteen bytes, or plain decimals of up to fifteen
/// digits (`wide` their last layout), read by their layout first; anything else as `parse_long`
/// reads it. A token of that form is pushed with the tokens that follow it while they have
/// the form too and start before `end` (a run: such grids are mostly runs), each read right
/// after the one before, without the separator masks, the short path's attempt or a call.
/// Returns the end of the run's last token (0 without a run), for the caller to go on from.
/// Apart, so that no other grid's path carries it.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn parse_run<T: Value, S: Sink<T>>(
    text: &[u8],
    pos: usize,
    end: usize,
    base: u64,
    nulls: &Nulls,
    form: LongForm,
    wide: &mut WideShape,
    sink: &mut S,
) -> Result<usize, Stop> {
    // One loop per form, so that no token asks which form it is.
    let last = match form {
        LongForm::Numpy => apart(|| numpy_run(text, pos, end, base, nulls, sink)),
        LongForm::Wide => {
            let mut repeats = wide.repeats;
            let last = if repeats.worth_looking() {
                run::<T, S, true>(text, pos, end, base, nulls, sink, &mut repeats, {
                    #[inline(always)]
                    |text, at| read_wide(text, at, wide)
                })
            } else {
                run::<T, S, false>(text, pos, end, base, nulls, sink, &mut repeats, {
                    #[inline(always)]
                    |text, at| read_wide(text, at, wide)
                })
            };
            wide.lock(false);
            wide.repeats = repeats;
            last
        }
        LongForm::Exponent => {
            // A run in exponent form keeps its layout here: such grids are one long run.
            let mut exponent = ExponentShape::default();
            run::<T, S, false>(
                text,
                pos,
                end,
                base,
                nulls,
                sink,
                &mut Repeats::default(),
                |text, at| T::parse_exponent(text, at, &mut exponent),
            )
        }
    }?;
    if last == 0 {
        // Not of the form: read as any long token.
        let value = parse_long(text, pos, base, nulls)?;
        if !sink.push(value) {
            return Err(Stop::Extra(base + pos as u64));
        }
    }
    Ok(last)
}

/// A wide token ([`Value::parse_wide`]); the run goes on with this layout only (see
/// [`WideShape::lock`]).
#[inline(always)]
fn read_wide<T: Value>(text: &[u8], at: usize, wide: &mut WideShape) -> Option<(T, usize)> {
    let found = T::parse_wide(text, at, wide);
    wide.lock(true);
    found
}

/// Tokens of 24 bytes (numpy's `%.18e`, a `-` aside) a run has read, and their values, in
/// slots chosen by a hash of their bytes: such grids often hold few values (flow directions,
/// classes written as floats: `6.400000000000000000e+01`), each then read once.
struct SeenTokens<T> {
    slots: [Seen<T>; 16],
    /// Tokens looked up since the last [`SeenTokens::worth_looking`].
    looked: u32,
    /// How many of them had been seen.
    hits: u32,
}

impl<T: Copy + Default> Default for SeenTokens<T> {
    fn default() -> Self {
        SeenTokens {
            slots: [Seen::default(); 16],
            looked: 0,
            hits: 0,
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Seen<T> {
    /// The token's bytes after its sign (0 with `filled` false: none yet).
    words: [u64; 3],
    negative: bool,
    filled: bool,
    value: T,
}

impl<T: Copy> SeenTokens<T> {
    /// Bytes of a run (about 600 tokens) looked up before it decides whether to go on
    /// looking.
    const TRIAL: usize = 16 << 10;
    /// Bytes of a run (about 10,000 tokens) not looked up before it tries again: looking all
    /// along cost a grid of many values 22 percent more instructions (Long_TestBasin: 142 ->
    /// 173 million for 15 parses), while pysheds' `dir.asc` took 44 percent fewer.
    const PAUSE: usize = 256 << 10;

    /// Whether the next stretch of a run looks tokens up: while one in eight or more of
    /// those looked up since the last call had been seen.
    fn worth_looking(&mut self) -> bool {
        let worth = self.looked == 0 || self.hits >= self.looked / 8;
        (self.looked, self.hits) = (0, 0);
        worth
    }

    /// The token at `text[at]` and its end: a token of 24 bytes (after a `-`) seen before
    /// has its value, any other is what `read` reads (kept if 24 bytes long).
    #[inline(always)]
    fn read(
        &mut self,
        text: &[u8],
        at: usize,
        read: impl FnOnce(&[u8], usize) -> Option<(T, usize)>,
    ) -> Option<(T, usize)> {
        self.looked += 1;
        let negative = text.get(at) == Some(&b'-');
        let start = at + usize::from(negative);
        let Some(bytes) = text.get(start..start + 25) else {
            return read(text, at);
        };
        let word = |k: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[8 * k..8 * k + 8]);
            u64::from_le_bytes(w)
        };
        let words = [word(0), word(1), word(2)];
        let hash = (words[0] ^ words[2].rotate_left(29) ^ u64::from(negative))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = &mut self.slots[(hash >> 60) as usize];
        if slot.filled && slot.words == words && slot.negative == negative && is_space(bytes[24]) {
            self.hits += 1;
            return Some((slot.value, start + 24));
        }
        let (value, end) = read(text, at)?;
        if end == start + 24 {
            *slot = Seen {
                words,
                negative,
                filled: true,
                value,
            };
        }
        Some((value, end))
    }
}

/// [`parse_run`] for numpy's `%.18e`: stretches of [`SeenTokens::TRIAL`] bytes whose tokens
/// are looked up in [`SeenTokens`] while that pays, of [`SeenTokens::PAUSE`] bytes read as
/// they come otherwise. The end of the last token read, 0 if the first is not of the form.
fn numpy_run<T: Value, S: Sink<T>>(
    text: &[u8],
    pos: usize,
    end: usize,
    base: u64,
    nulls: &Nulls,
    sink: &mut S,
) -> Result<usize, Stop> {
    let end = run_end(pos, end);
    let mut seen = SeenTokens::default();
    let (mut at, mut last) = (pos, 0);
    loop {
        // A stretch reads the tokens that start before its end (its length in bytes: a
        // count of tokens would cost the loop a test per token).
        let looking = seen.worth_looking();
        let stretch = if looking {
            SeenTokens::<T>::TRIAL
        } else {
            SeenTokens::<T>::PAUSE
        };
        let stretch_end = end.min(at.saturating_add(stretch));
        let read_to = run::<T, S, false>(
            text,
            at,
            stretch_end,
            base,
            nulls,
            sink,
            &mut Repeats::default(),
            #[inline(always)]
            |text, at| {
                if looking {
                    seen.read(
                        text,
                        at,
                        #[inline(always)]
                        |text, at| T::parse_numpy(text, at),
                    )
                } else {
                    T::parse_numpy(text, at)
                }
            },
        )?;
        if read_to == 0 {
            return Ok(last);
        }
        last = read_to;
        // The next token: the run goes on with it if the stretch ended before it (rather
        // than a token not of the form).
        at = last;
        while at < end && is_space(text[at]) {
            at += 1;
        }
        if at < stretch_end || at >= end {
            return Ok(last);
        }
    }
}

/// Where a run that starts at `pos` must stop at the latest (`end` if sooner): within 2^30
/// bytes, so that the caller's masks reach past it (see `parse_tokens`).
#[inline(always)]
fn run_end(pos: usize, end: usize) -> usize {
    end.min(pos.saturating_add(1 << 30))
}

/// `work`, out of line: a loop apart from [`parse_run`], where what it calls is inlined that
/// LLVM leaves as calls in a cold function (numpy's read: 7 percent fewer instructions on
/// such grids), while the other forms' loops stay as they were compiled (apart too, they took
/// 4-9 percent more).
#[inline(never)]
fn apart<R>(work: impl FnOnce() -> R) -> R {
    work()
}

/// [`parse_run`]'s loop for one form, whose tokens `read` reads: the end of the run's last
/// token, 0 if the first is not of the form. With `REPEATS`, a token spelled as the one
/// before it is that one's value again ([`spelled_alike`]), counted in `repeats`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn run<T: Value, S: Sink<T>, const REPEATS: bool>(
    text: &[u8],
    pos: usize,
    end: usize,
    base: u64,
    nulls: &Nulls,
    sink: &mut S,
    repeats: &mut Repeats,
    mut read: impl FnMut(&[u8], usize) -> Option<(T, usize)>,
) -> Result<usize, Stop> {
    let reserved = nulls.reserved_as::<T>();
    let end = run_end(pos, end);
    let mut at = pos;
    let mut last = 0;
    // The 16 bytes at the token before, its length and its value (a length of 16 matches
    // nothing).
    let (mut before, mut before_len, mut before_value) = ([0u8; 16], 16, T::default());
    loop {
        let window = text
            .get(at..at + 16)
            .and_then(|b| <[u8; 16]>::try_from(b).ok());
        let (value, token_end) = match window {
            Some(window) if REPEATS && spelled_alike(&before, &window, before_len) => {
                repeats.alike += 1;
                (before_value, at + before_len)
            }
            _ => match read(text, at) {
                Some(found) => found,
                None => break,
            },
        };
        if REPEATS {
            repeats.seen += 1;
            match window {
                Some(window) => {
                    (before, before_len, before_value) = (window, token_end - at, value)
                }
                None => before_len = 16,
            }
        }
        if reserved == Some(value) {
            return Err(reserved_error(text, at, base));
        }
        if !sink.push(value) {
            return Err(Stop::Extra(base + at as u64));
        }
        last = token_end;
        // Every form ends at a separator; numpy writes one, other writers a few.
        at = token_end + 1;
        while at < end && is_space(text[at]) {
            at += 1;
        }
        if at >= end {
            break;
        }
    }
    Ok(last)
}

/// Whether the token at the start of `window` is spelled as the one at the start of
/// `before`, whose `len` bytes and separator lie within its 16 bytes: then it has that one's
/// value. Nodata cells come in long runs (`-99999.00 -99999.00`), told by one compare.
#[inline(always)]
fn spelled_alike(before: &[u8; 16], window: &[u8; 16], len: usize) -> bool {
    let token_and_separator = (1u64 << (len.min(16) + 1)) - 1;
    equal_bytes(before, window) & token_and_separator == token_and_separator
}

/// Parse the value starting at `text[pos]` into `sink`; `shape` is the layout of the
/// previous short token (see [`Value::parse_short`]), `wide` that of the previous wide one
/// ([`Value::parse_wide`]). Returns where a run of long tokens read on to ([`parse_run`]),
/// or 0: the next value is the caller's to find.
// Inlined into the hot loop, whose registers these arguments are: grouping the two layouts
// in one struct changed the loop's code and made the big grid 20% slower.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn parse_one<T: Value, S: Sink<T>, const RESERVED: bool, const RUNS: bool>(
    text: &[u8],
    pos: usize,
    end: usize,
    base: u64,
    sink: &mut S,
    shape: &mut Shape,
    wide: &mut WideShape,
    nulls: &Nulls,
    reserved: T,
) -> Result<usize, Stop> {
    let value = match T::parse_short(text, pos, shape) {
        Some(v) if RESERVED && v == reserved => return Err(reserved_error(text, pos, base)),
        Some(v) => v,
        None => match shape.long_form() {
            Some(form) if RUNS => return parse_run(text, pos, end, base, nulls, form, wide, sink),
            _ => parse_long(text, pos, base, nulls)?,
        },
    };
    if sink.push(value) {
        Ok(0)
    } else {
        Err(Stop::Extra(base + pos as u64))
    }
}

/// First pass: cut `range` of `text` into chunks and count each chunk's values.
pub(crate) fn survey(text: &[u8], range: Range<usize>, control: &Control) -> Result<Survey, Stop> {
    let chunks = fixed_chunks(range.clone(), chunk_size(range.len(), control));
    let count = |r: &Range<usize>| {
        if control.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let c = count_tokens(&text[r.clone()], after_token(text, r.start));
        control.advance(survey_share(r.len()));
        Ok(c)
    };
    // A small text (a tile) is counted right here: handing it to the thread pool costs more
    // than the work.
    let counts = map_items(
        chunks.iter().collect(),
        worth_parallel(&chunks, control),
        control,
        count,
    )
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    Ok(Survey { chunks, counts })
}

/// [`fill_cells`] into cells already initialized (the fuzz targets and tests).
#[cfg(any(test, feature = "internals"))]
pub fn fill<T: Value>(
    text: &impl ChunkText,
    survey: &Survey,
    nulls: &Nulls,
    nan_for: Option<f64>,
    out: &mut [T],
    control: &Control,
) -> Result<usize, Stop> {
    fill_cells(text, survey, nulls, nan_for, values_only(out), control)
}

/// [`fill_cells`] into the room of `cells` (an empty vector, see
/// [`crate::limits::room_for_cells`]) for `len` cells, none written twice: the memory is not
/// zeroed first. `Ok` holds the vector and how many values the text held; the vector holds
/// its `len` cells only when that is `len` (fewer is the caller's error to report).
pub(crate) fn fill_fresh<T: Value>(
    text: &impl ChunkText,
    survey: &Survey,
    nulls: &Nulls,
    nan_for: Option<f64>,
    mut cells: Vec<T>,
    len: usize,
    control: &Control,
) -> Result<(Vec<T>, usize), Stop> {
    let spare = cells.spare_capacity_mut();
    let room = len.min(spare.len());
    let room = &mut spare[..room];
    let written = fill_cells(text, survey, nulls, nan_for, room, control)?;
    if written == len {
        // SAFETY: `fill_cells` returned `Ok(written)`, so the first `written` cells of the
        // spare capacity (which starts at the vector's length) are initialized, and
        // `written` is within it.
        unsafe { cells.set_len(cells.len() + written) };
    }
    Ok((cells, written))
}

/// Second pass: parse every chunk in parallel into its place in `out` (which holds exactly
/// the grid's cells), `*` tokens as `nulls` says; with `nan_for`, float cells equal to it
/// become NaN as each chunk is parsed (see [`Control::nodata_as_nan`]). Returns the number
/// of values written; more values than `out` holds is [`Stop::Extra`], the earliest problem
/// in the text wins. `out` need not be initialized: on `Ok(n)` its first `n` cells are (each
/// chunk's slice is written whole, or its parse fails).
fn fill_cells<T: Value>(
    text: &impl ChunkText,
    survey: &Survey,
    nulls: &Nulls,
    nan_for: Option<f64>,
    out: &mut [MaybeUninit<T>],
    control: &Control,
) -> Result<usize, Stop> {
    // Hand each chunk the slice its counted values go to (clamped to the grid's size).
    let counts = survey.counts.iter();
    let slices = consecutive_mut(
        out,
        counts.map(|c| usize::try_from(c.tokens).unwrap_or(usize::MAX)),
    );
    let parse = |(range, slice): (&Range<usize>, &mut [MaybeUninit<T>])| {
        let slice = parse_into(text, range, nulls, slice, control)?;
        if let Some(nodata) = nan_for.filter(|_| T::DATA_TYPE != DataType::Int32) {
            crate::mask::replace_all(slice, T::from_f64(nodata), T::from_f64(f64::NAN));
        }
        control.advance(parse_share(range.len()));
        Ok(slice.len())
    };
    let work = survey.chunks.iter().zip(slices).collect();
    let results = map_items(
        work,
        worth_parallel(&survey.chunks, control),
        control,
        parse,
    );
    earliest(results).map(|written| written.iter().sum())
}

/// The second pass for part of a body whose survey counted exactly its grid's values:
/// values `first..first + out.len()` into `out`. Chunks holding none of them are not read;
/// a chunk holding some of them and some outside (at most one at each end) is parsed whole
/// into scratch space. Progress counts a chunk once, in the part holding its last value.
pub fn fill_part<T: Value>(
    text: &impl ChunkText,
    survey: &Survey,
    nulls: &Nulls,
    out: &mut [T],
    first: u64,
    control: &Control,
) -> Result<(), Stop> {
    let end = first + out.len() as u64;
    // Per chunk holding wanted values: its range, its values before them, its value count,
    // and where its wanted values go (consecutive pieces of `out`).
    let mut work: Vec<(&Range<usize>, usize, usize, &mut [T])> = Vec::new();
    let mut rest = out;
    let mut start = 0u64;
    for (range, count) in survey.chunks.iter().zip(&survey.counts) {
        let stop = start + count.tokens;
        if stop > first && start < end {
            let take = (stop.min(end) - start.max(first)) as usize;
            let (dst, tail) = std::mem::take(&mut rest).split_at_mut(take);
            rest = tail;
            let skip = (first.max(start) - start) as usize;
            work.push((range, skip, count.tokens as usize, dst));
        }
        start = stop;
    }
    let parse = |(range, skip, count, dst): (&Range<usize>, usize, usize, &mut [T])| {
        if skip == 0 && dst.len() == count {
            parse_into(text, range, nulls, values_only(dst), control)?;
        } else {
            let mut scratch = vec![T::default(); count];
            parse_into(text, range, nulls, values_only(&mut scratch), control)?;
            let len = dst.len();
            dst.copy_from_slice(&scratch[skip..skip + len]);
        }
        if skip + dst.len() == count {
            control.advance(parse_share(range.len()));
        }
        Ok(())
    };
    let parallel = !control.is_on_calling_thread();
    let results = map_items(work, parallel, control, parse);
    earliest(results).map(|_| ())
}

/// Parse chunk `range` of `text` into `slice`, which must take exactly its values (the
/// survey counted them): fewer means the file changed between the passes. The slice, all of
/// it written.
fn parse_into<'a, T: Value>(
    text: &impl ChunkText,
    range: &Range<usize>,
    nulls: &Nulls,
    slice: &'a mut [MaybeUninit<T>],
    control: &Control,
) -> Result<&'a mut [T], Stop> {
    if control.is_cancelled() {
        return Err(Stop::Cancelled);
    }
    let want = slice.len();
    let mut sink = SliceSink::new_uninit(&mut *slice);
    text.with_chunk(range, |text, range, base| {
        parse_chunk::<T, _>(text, range, base, nulls, &mut sink)
    })?;
    if sink.written() < want {
        // The survey counted more: only a file that changed between the passes does that.
        return Err(Stop::from(std::io::Error::other(crate::window::CHANGED)));
    }
    // SAFETY: the sink wrote all `want` cells of `slice` (it writes from the start, and
    // never past the end), so every one is initialized; `MaybeUninit<T>` has `T`'s layout.
    Ok(unsafe { &mut *(slice as *mut [MaybeUninit<T>] as *mut [T]) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::InMemory;
    use proptest::strategy::Strategy as _;

    fn parse_all<T: Value>(
        text: impl AsRef<[u8]>,
        cells: usize,
        chunk: usize,
    ) -> Result<Vec<T>, Stop> {
        let bytes = text.as_ref();
        let chunks = fixed_chunks(0..bytes.len(), chunk);
        let counts = chunks
            .iter()
            .map(|r| count_tokens(&bytes[r.clone()], after_token(bytes, r.start)))
            .collect();
        let survey = Survey { chunks, counts };
        let mut out = vec![T::default(); cells];
        let n = fill(
            &InMemory::new(bytes),
            &survey,
            &Nulls::default(),
            None,
            &mut out,
            &Control::new(),
        )?;
        assert_eq!(n, cells.min(survey.tokens() as usize));
        Ok(out)
    }

    #[test]
    fn line_breaks_carry_no_meaning() {
        let one_per_line = "1\n2\n3\n4\n5\n6";
        let rows = " 1 2 3\r\n 4 5 6\r\n";
        let wrapped = "1 2\n3 4 5\n\n6\n";
        for chunk in [1, 2, 3, 64] {
            for text in [one_per_line, rows, wrapped] {
                assert_eq!(
                    parse_all::<i32>(text, 6, chunk).unwrap(),
                    vec![1, 2, 3, 4, 5, 6]
                );
            }
        }
    }

    /// R18 (fuzzing, native/core/fuzz/regressions/body-nul-between-chunks.bin): the count
    /// took bytes up to 0x20 for separators, the parser only C's isspace; with a NUL before
    /// a chunk boundary the counts and the parse disagreed, and the read said "the file
    /// changed while it was being read" instead of naming the NUL.
    #[test]
    fn control_bytes_are_token_bytes_for_the_count_too() {
        let text = b"\r\0\xe8\0\0\n1E\0\0 !";
        for chunk in 1..=text.len() {
            match parse_all::<f32>(text, 4, chunk) {
                Err(Stop::Bad(e)) => assert_eq!(e.kind, ErrorKind::NotText, "{chunk}: {e:?}"),
                other => panic!("chunk {chunk}: {other:?}"),
            }
        }
    }

    /// A grid in numpy's `%.18e` with other tokens among its values (the layout check
    /// refuses them, the general parsers read them), `*` and a bad token: every value equals
    /// the general parser's, the bad token is found where it is.
    #[test]
    fn numpy_grids_read_like_the_general_parser() {
        let tokens = [
            "2.000000000000000000e+00",
            "-9.999000000000000000e+03",
            "2.509840395351448876e+02",
            "1.280000000000000000E+02",
            "7.195774",
            "-1.35350000e-01",
            "2.000000000000000000e+100",
            "0.000000000000000000e+00",
            "3.5",
            "-4.940656458412465442e-324",
        ];
        let text = tokens.join(" \n");
        let want: Vec<f32> = tokens
            .iter()
            .map(|t| {
                crate::value::f64_to_f32_clamped(crate::value::parse_f64(t.as_bytes()).unwrap())
            })
            .collect();
        for chunk in [1, 30, 1000] {
            let got = parse_all::<f32>(&text, tokens.len(), chunk).unwrap();
            assert_eq!(got, want);
        }
        let bad = format!("{} 2.00000000000000000xe+00", tokens[0]);
        match parse_all::<f64>(&bad, 2, 1000) {
            Err(Stop::Bad(e)) => assert_eq!((e.offset, e.kind), (25, ErrorKind::BadValue)),
            other => panic!("{other:?}"),
        }
    }

    /// Wide tokens (eight to fifteen digits) among short ones and others, as in bio1.asc and
    /// Circuitscape's grids: every value equals the general parser's, in f32 and f64.
    #[test]
    fn wide_grids_read_like_the_general_parser() {
        let tokens = [
            "27.66667",
            "27.5875",
            "-9999",
            "27.52083",
            "-3.262084961",
            "0.01983076953",
            "0.0175950054",
            "-1.35350000e-01",
            "999.000000",
            "-99999.00",
            "12345678901234",
            "1234567890123456",
            "7.195774",
            "-27.6667",
            "5.",
            "1323.890",
        ];
        let text = tokens.join(" ");
        let general = |t: &str| crate::value::parse_f64(t.as_bytes()).unwrap();
        let want32: Vec<f32> = tokens
            .iter()
            .map(|t| crate::value::f64_to_f32_clamped(general(t)))
            .collect();
        let want64: Vec<f64> = tokens.iter().map(|t| general(t)).collect();
        for chunk in [1, 17, 1000] {
            assert_eq!(
                parse_all::<f32>(&text, tokens.len(), chunk).unwrap(),
                want32
            );
            assert_eq!(
                parse_all::<f64>(&text, tokens.len(), chunk).unwrap(),
                want64
            );
        }
    }

    /// A wide token spelled as the one before it reads as its repeat ([`spelled_alike`]);
    /// one that only begins alike (longer, shorter, a different last digit, a sign) or ends
    /// in the last 16 bytes of the text is read for itself.
    #[test]
    fn repeats_are_only_tokens_spelled_alike() {
        let tokens = [
            "-99999.00",
            "-99999.00",
            "-99999.001",
            "-99999.001",
            "-99999.0",
            "99999.00",
            "99999.00",
            "1234567.55",
            "1234567.5",
            "1234567.5",
            "123456789012345",
            "123456789012345",
            "123456789012346",
            "-99999.00",
            "-99999.00",
        ];
        for sep in [" ", "\t", "\r\n", "  \n"] {
            let text = tokens.join(sep);
            let want: Vec<f64> = tokens
                .iter()
                .map(|t| crate::value::parse_f64(t.as_bytes()).unwrap())
                .collect();
            for chunk in [1, 7, 1000] {
                assert_eq!(parse_all::<f64>(&text, tokens.len(), chunk).unwrap(), want);
            }
        }
    }

    /// A long run of numpy's `%.18e`: few values (looked up in [`SeenTokens`]), then many
    /// (looking stops, and starts again later), then few again, signs mixed and with tokens
    /// that differ from a seen one in a single byte: every value equals the general
    /// parser's, in f32 and f64, whatever the chunks.
    #[test]
    fn long_numpy_runs_read_like_the_general_parser() {
        let (mut text, mut starts) = (String::new(), Vec::new());
        let count = 30_000u32;
        for k in 0..count {
            let v = match k {
                0..=1_999 | 20_000.. => {
                    f64::from(1 << (k % 8)) * if k % 3 == 0 { -1.0 } else { 1.0 }
                }
                _ => f64::from(k) * 0.731 - 9_000.0,
            };
            let mut token = rust_to_numpy_exponent(&format!("{v:.18e}")).into_bytes();
            // One token in 97 differs from a seen one in its middle eight bytes only (the
            // slot its first and last bytes hash to).
            if k % 97 == 0 {
                let at = 9 + usize::from(v < 0.0);
                token[at] = if token[at] == b'5' { b'6' } else { b'5' };
            }
            starts.push(text.len());
            text += std::str::from_utf8(&token).unwrap();
            text += if k % 100 == 99 { "\n" } else { " " };
        }
        for chunk in [4096, 100_000, text.len()] {
            floats_read_alike(&text, &starts, count as usize, chunk).unwrap();
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        /// Grids of numpy's `%.18e`, wide, short and single-digit tokens in runs and mixed, any
        /// separators, cut into chunks of any size (runs end at a chunk's end and start inside
        /// one): every value equals the general parser's, in f32 and f64, none read twice or
        /// skipped.
        #[test]
        fn runs_read_like_the_general_parser(
            tokens in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        proptest::prelude::any::<f64>().prop_map(|v| format!("{v:.18e}")),
                        (-99_999i32..99_999).prop_map(|v| format!("{:.18e}", f64::from(v))),
                        "-?[0-9]{1,6}[.][0-9]{1,8}",
                        "-?0[.]0[0-9]{8,11}",
                        "-?[0-9]{7,15}",
                        "-?[0-9]{1,3}[.][0-9]{0,3}",
                        "[0-9]",
                        proptest::strategy::Just("-99999.00".to_owned()),
                        proptest::strategy::Just("-9.999000000000000000e+03".to_owned()),
                    ],
                    proptest::prop_oneof![
                        proptest::strategy::Just(" ".to_owned()),
                        proptest::strategy::Just("\n".to_owned()),
                        "[ \t\r\n]{1,3}",
                    ],
                    1usize..8,
                ),
                1..60,
            ),
            chunk in 1usize..300,
        ) {
            // Each token repeated, as runs of one value (nodata) are in real grids.
            let mut text = String::new();
            let mut want = Vec::new();
            for (token, sep, times) in &tokens {
                let token = rust_to_numpy_exponent(token);
                for _ in 0..*times {
                    text += &token;
                    text += sep;
                    want.push(crate::value::parse_f64(token.as_bytes()));
                }
            }
            proptest::prop_assume!(want.iter().all(|v| v.is_some_and(f64::is_finite)));
            let want: Vec<f64> = want.into_iter().flatten().collect();
            let want32: Vec<f32> = want.iter().map(|&v| crate::value::f64_to_f32_clamped(v)).collect();
            let got32 = parse_all::<f32>(&text, want.len(), chunk);
            proptest::prop_assert_eq!(got32.map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()),
                Ok(want32.iter().map(|x| x.to_bits()).collect::<Vec<_>>()));
            let got64 = parse_all::<f64>(&text, want.len(), chunk);
            proptest::prop_assert_eq!(got64.map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()),
                Ok(want.iter().map(|x| x.to_bits()).collect::<Vec<_>>()));
        }
    }

    /// `tokens` with their separators as one text, and where each token starts.
    fn joined(tokens: &[(String, String)]) -> (String, Vec<usize>) {
        let mut text = String::new();
        let mut starts = Vec::new();
        for (token, sep) in tokens {
            starts.push(text.len());
            text += token;
            text += sep;
        }
        (text, starts)
    }

    /// What a grid of `cells` cells whose tokens start at `starts` in `text` reads as, token
    /// by token with [`Value::parse_at`]: its values (each as the bits of its f64, so that a
    /// sign of zero counts), or where it stops (its first bad token, or the first value past
    /// its cells).
    fn token_by_token<T: Value>(
        text: &str,
        starts: &[usize],
        cells: usize,
    ) -> Result<Vec<u64>, Stop> {
        let mut values = Vec::new();
        for (i, &at) in starts.iter().enumerate() {
            match T::parse_at(text.as_bytes(), at) {
                Err(e) => return Err(Stop::Bad(Located::new(e.at as u64, e.kind, e.message))),
                Ok(_) if i >= cells => return Err(Stop::Extra(at as u64)),
                Ok((v, _)) => values.push(v.to_f64().to_bits()),
            }
        }
        Ok(values)
    }

    /// [`parse_all`], each value as the bits of its f64.
    fn parse_all_bits<T: Value>(text: &str, cells: usize, chunk: usize) -> Result<Vec<u64>, Stop> {
        parse_all::<T>(text, cells, chunk).map(|v| v.iter().map(|x| x.to_f64().to_bits()).collect())
    }

    /// That the grid of `cells` cells in `text`, its tokens at `starts`, cut into chunks of
    /// `chunk` bytes, reads as the general parser reads it, in f32 and in f64.
    fn floats_read_alike(
        text: &str,
        starts: &[usize],
        cells: usize,
        chunk: usize,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        proptest::prop_assert_eq!(
            parse_all_bits::<f32>(text, cells, chunk),
            token_by_token::<f32>(text, starts, cells)
        );
        proptest::prop_assert_eq!(
            parse_all_bits::<f64>(text, cells, chunk),
            token_by_token::<f64>(text, starts, cells)
        );
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        /// Int32 grids of short integers (read a block at a time, `short_tokens`) mixed with
        /// long ones and tokens that are no integer, any separators, cut into chunks of any
        /// size, with up to two cells fewer than tokens: the values, and where the grid stops
        /// (its first bad token, or the first value past its cells), are the general parser's.
        #[test]
        fn integer_blocks_read_like_the_general_parser(
            tokens in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        6 => "-?[0-9]{1,4}",
                        2 => "-?[0-9]{1,7}",
                        1 => proptest::strategy::Just("-9999".to_owned()),
                        1 => "-?[0-9]{8,10}",
                        1 => "[-+]{1,2}[0-9]{0,2}|[0-9]{1,2}[-x.][0-9]?",
                    ],
                    "[ \t\r\n]{1,2}",
                ),
                1..150,
            ),
            chunk in 1usize..300,
            short_by in 0usize..3,
        ) {
            let (text, starts) = joined(&tokens);
            let cells = tokens.len().saturating_sub(short_by);
            proptest::prop_assert_eq!(
                parse_all_bits::<i32>(&text, cells, chunk),
                token_by_token::<i32>(&text, &starts, cells)
            );
        }

        /// Float grids of short decimals of varying layouts (read a block at a time once the
        /// layouts vary: 600 bytes of them come first), with the forms a dot allows (`.5`,
        /// `5.`, `-.5`, `-0.0`), too many digits, two dots, a lone dot or sign, exponents, in
        /// whole grids and in chunks of any size, with up to two cells fewer than tokens: as
        /// the general parser reads them, in f32 and f64, a zero's sign included.
        #[test]
        fn decimal_blocks_read_like_the_general_parser(
            tokens in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        8 => "-?[0-9]{1,3}[.][0-9]{1,5}",
                        2 => "-?[0-9]{0,4}[.]?[0-9]{0,4}",
                        1 => "-?[0-9]{1,7}|-0+",
                        1 => "-?[0-9]{4,8}[.][0-9]{1,4}",
                        1 => "-?[.]|[0-9][.][0-9][.][0-9]|-?0[.]0|[0-9][.][0-9]e-?[0-9]",
                    ],
                    "[ \t\r\n]{1,2}",
                ),
                1..150,
            ),
            chunk in proptest::prop_oneof![1usize..300, proptest::strategy::Just(1usize << 20)],
            short_by in 0usize..3,
        ) {
            let varied = ["1.5", "22.25", "3", "-4.125", "0.5", "10.75"];
            let lead: Vec<(String, String)> = (0..100)
                .map(|k| (varied[k % varied.len()].to_owned(), " ".to_owned()))
                .collect();
            let all: Vec<(String, String)> = lead.into_iter().chain(tokens.iter().cloned()).collect();
            // An empty token would join its neighbours: not a case of its own.
            proptest::prop_assume!(all.iter().all(|(t, _)| !t.is_empty()));
            let (text, starts) = joined(&all);
            let cells = all.len().saturating_sub(short_by);
            floats_read_alike(&text, &starts, cells, chunk)?;
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        /// Grids in exponent form (`-1.35350000e-01`, read by their layout in runs) of
        /// varying layouts and signs, with tokens of other forms, too long, out of range or
        /// broken among them, in whole grids and in chunks of any size, with up to two cells
        /// fewer than tokens: as the general parser reads them, in f32 and f64.
        #[test]
        fn exponent_runs_read_like_the_general_parser(
            tokens in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        8 => "-?[0-9][.][0-9]{0,10}[eE][-+][0-9]{1,3}",
                        1 => "-?[0-9][.][0-9]{8}e-0[0-9]",
                        1 => "-?[0-9]{1,4}([.][0-9]{1,3})?|-?[0-9][.][0-9]{11,14}e[-+][0-9]{2}",
                        1 => "-?[0-9][.][0-9]{1,3}(e[0-9]{2}|e[-+][0-9]{4}|e[-+]|e-?[.]5)",
                    ],
                    "[ \t\r\n]{1,2}",
                ),
                1..120,
            ),
            chunk in proptest::prop_oneof![1usize..300, proptest::strategy::Just(1usize << 20)],
            short_by in 0usize..3,
        ) {
            let (text, starts) = joined(&tokens);
            let cells = tokens.len().saturating_sub(short_by);
            floats_read_alike(&text, &starts, cells, chunk)?;
        }
    }

    /// Blocks of single-digit tokens (read apart from the general path) with a `*` null, a
    /// bad byte, a two-digit token at a block's last byte and past the grid's end among
    /// them: every value and every stop is the general path's.
    #[test]
    fn single_digit_blocks_read_like_the_general_parser() {
        let zeros = "0 ".repeat(40); // 80 bytes: whole blocks of single digits
        let text = format!("{zeros}{}7 12 3 4 {zeros}9\n", "5 ".repeat(11));
        let want: Vec<f32> = text
            .split_ascii_whitespace()
            .map(|t| crate::value::parse_f64(t.as_bytes()).unwrap() as f32)
            .collect();
        for chunk in [1, 2, 3, 63, 64, 65, 1000] {
            assert_eq!(parse_all::<f32>(&text, want.len(), chunk).unwrap(), want);
            let f64s = parse_all::<f64>(&text, want.len(), chunk).unwrap();
            assert!(f64s.iter().zip(&want).all(|(&a, &b)| a == f64::from(b)));
            assert_eq!(
                parse_all::<f32>(&text, 50, chunk),
                Err(Stop::Extra(100)),
                "chunk {chunk}"
            );
        }
        let bad = format!("{zeros}1 x 2");
        match parse_all::<f32>(&bad, 43, 1000) {
            Err(Stop::Bad(e)) => assert_eq!((e.offset, e.kind), (82, ErrorKind::BadValue)),
            other => panic!("{other:?}"),
        }
        // GRASS: `*` is a null cell; with no `null:` line its value is reserved.
        let star = format!("{zeros}* 3 *\n");
        let read = |star_value: f64, reserved: bool| {
            let nulls = Nulls {
                star: Some(star_value),
                reserved,
            };
            let mut out = vec![0f32; 43];
            let mut sink = SliceSink::new(&mut out);
            parse_chunk::<f32, _>(star.as_bytes(), 0..star.len(), 0, &nulls, &mut sink)
                .map(|()| out)
        };
        for reserved in [false, true] {
            let out = read(-9999.0, reserved).unwrap();
            assert_eq!(&out[39..], &[0.0, -9999.0, 3.0, -9999.0]);
        }
        match read(3.0, true) {
            Err(Stop::Bad(e)) => assert_eq!((e.offset, e.kind), (82, ErrorKind::NodataCollision)),
            other => panic!("{other:?}"),
        }
    }

    /// Rust's `{:e}` writes `e5` and `e-5`; numpy writes `e+05` and `e-05`.
    fn rust_to_numpy_exponent(token: &str) -> String {
        match token.split_once('e') {
            Some((mantissa, exponent)) => {
                let e: i32 = exponent.parse().unwrap_or(0);
                format!("{mantissa}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
            }
            None => token.to_owned(),
        }
    }

    /// A run that reads past the grid's last cell, or onto the value a GRASS grid's `*`
    /// cells reserve, stops there with the error located at that token.
    #[test]
    fn runs_stop_at_extra_values_and_reserved_ones() {
        let numpy = "2.000000000000000000e+00 ";
        let text = numpy.repeat(10);
        for chunk in [1, 30, 1000] {
            assert_eq!(
                parse_all::<f32>(&text, 7, chunk),
                Err(Stop::Extra(7 * numpy.len() as u64))
            );
        }
        let wide = "-99999.00 ";
        let text = format!("{}-9999.000 {}", wide.repeat(5), wide.repeat(3));
        let nulls = Nulls {
            star: Some(-9999.0),
            reserved: true,
        };
        let mut out = vec![0f32; 9];
        let got = parse_chunk::<f32, _>(
            text.as_bytes(),
            0..text.len(),
            0,
            &nulls,
            &mut SliceSink::new(&mut out),
        );
        match got {
            Err(Stop::Bad(e)) => assert_eq!(
                (e.offset, e.kind),
                (5 * wide.len() as u64, ErrorKind::NodataCollision)
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn earliest_error_wins_across_chunks() {
        let text = "1 2 x3 4 y5 6";
        for chunk in [1, 3, 100] {
            match parse_all::<f32>(text, 6, chunk) {
                Err(Stop::Bad(e)) => assert_eq!(e.offset, 4),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn extra_values_are_located() {
        for chunk in [1, 4, 100] {
            assert_eq!(
                parse_all::<i32>("1 2 3 4\n5", 3, chunk),
                Err(Stop::Extra(6))
            );
        }
    }
}
