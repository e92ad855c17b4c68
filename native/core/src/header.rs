//! The header: `keyword value` lines, parsed with nom, resolved the way GDAL resolves them
//! (geotransform, nodata, data type) and checked the way GDAL does not (see FORMAT.md).

use nom::bytes::complete::{take_till1, take_while, take_while1};
use nom::{IResult, Parser};

use crate::error::{show_token, Located};
use crate::scan::is_space;
use crate::value::{f64_to_f32_clamped, parse_f64, DataType};

/// Where the header's origin sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `xllcorner`/`yllcorner`: the outer lower-left corner of the lower-left cell.
    Corner,
    /// `xllcenter`/`yllcenter`: the centre of the lower-left cell.
    Center,
    /// The north-west (upper-left) corner: GRASS ASCII headers (`west:`, `north:`) and
    /// mosaics, where the origin is the grid's top-left edge.
    NorthWest,
}

impl Origin {
    /// `"corner"` or `"center"`.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Corner => "corner",
            Origin::Center => "center",
            Origin::NorthWest => "north-west",
        }
    }
}

/// The `nodata_value` line (GRASS: the `null:` line, or the value chosen for `*` cells).
#[derive(Debug, Clone, PartialEq)]
pub struct Nodata {
    /// The value as written (`null` gives `-f64::MAX` here; see [`Header::nodata_for`]).
    pub value: f64,
    /// Whether the token was `null` (D12 software's convention).
    pub is_null: bool,
    /// Whether the token has a `.` or `,` (one of GDAL's Float32 triggers).
    pub has_decimal: bool,
    /// Whether no file line gave the value: a GRASS grid without a `null:` line, whose `*`
    /// cells read as [`GRASS_NULL`]. No data cell may then hold that value, or it would
    /// silently read as nodata.
    pub reserved: bool,
}

/// The nodata value of a GRASS grid without a `null:` line (or with `null: *`), which its `*`
/// null cells read as: Int32's minimum, in every data type. One value for all types, because
/// the type is decided by the body (`resolve_data_type`) while [`crate::read_header`] reads
/// no body, and both must report the same nodata. Exact in
/// Float32 and Float64; a data cell holding it is a located error (see docs/FORMAT.md).
pub const GRASS_NULL: f64 = -2_147_483_648.0;

/// A parsed, validated header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Number of columns (`ncols`).
    pub ncols: usize,
    /// Number of rows (`nrows`).
    pub nrows: usize,
    /// Cell width (after GDAL's snap for global grids).
    pub dx: f64,
    /// Cell height, positive (after GDAL's snap for global grids).
    pub dy: f64,
    /// Corner or centre origin.
    pub origin: Origin,
    /// x of the origin as written.
    pub x_origin: f64,
    /// y of the origin as written.
    pub y_origin: f64,
    /// The nodata line, if any.
    pub nodata: Option<Nodata>,
    /// Byte offset where the body starts.
    pub body_offset: usize,
    /// Number of lines before the body.
    pub header_lines: usize,
    /// The type a GRASS `type:` line names (`int`, `float`, `double`).
    pub declared_type: Option<DataType>,
    /// Whether a `*` token is a null cell (GRASS ASCII grids, whose nodata is then always
    /// set); in an ESRI grid it is an error like any other token that is not a number.
    pub star_nulls: bool,
}

impl Header {
    /// Number of cells, `ncols * nrows` (cannot overflow: both are at most `i32::MAX`).
    pub fn cells(&self) -> u64 {
        self.ncols as u64 * self.nrows as u64
    }

    /// GDAL's geotransform, with GDAL's exact arithmetic.
    pub fn geotransform(&self) -> [f64; 6] {
        let rows = self.nrows as f64;
        match self.origin {
            Origin::Corner => [
                self.x_origin,
                self.dx,
                0.0,
                self.y_origin + rows * self.dy,
                0.0,
                -self.dy,
            ],
            Origin::Center => [
                self.x_origin - 0.5 * self.dx,
                self.dx,
                0.0,
                self.y_origin - 0.5 * self.dy + rows * self.dy,
                0.0,
                -self.dy,
            ],
            Origin::NorthWest => [self.x_origin, self.dx, 0.0, self.y_origin, 0.0, -self.dy],
        }
    }

    /// The data type the header alone forces (GDAL's nodata rule), if any.
    pub fn nodata_data_type(&self) -> Option<DataType> {
        if self.declared_type.is_some() {
            return self.declared_type;
        }
        let nd = self.nodata.as_ref()?;
        if nd.is_null {
            return Some(DataType::Float32);
        }
        let v = nd.value;
        let outside_int = v.is_nan() || v < f64::from(i32::MIN) || v > f64::from(i32::MAX);
        if !(nd.has_decimal || outside_int) {
            return None;
        }
        let tiny_or_huge = v.abs() < f64::from(f32::MIN_POSITIVE) || v.abs() > f64::from(f32::MAX);
        // GDAL's GRASS driver has no Float64 promotion; its ESRI driver has.
        let esri = self.origin != Origin::NorthWest;
        if esri && v.is_finite() && tiny_or_huge {
            Some(DataType::Float64)
        } else {
            Some(DataType::Float32)
        }
    }

    /// The nodata value GDAL reports when it reads this grid as `dtype`, `forced` being the
    /// type the caller asked for: GDAL rounds it to f32 only when the header (or the caller)
    /// made the grid Float32, not when the body's float markers did.
    pub fn nodata_as_read(&self, forced: Option<DataType>, dtype: DataType) -> Option<f64> {
        let by_body = forced.is_none() && self.nodata_data_type().is_none();
        if by_body && dtype == DataType::Float32 {
            return self.nodata_for(DataType::Int32);
        }
        self.nodata_for(dtype)
    }

    /// The nodata value as a grid of type `dtype` holds it (rounded to f32 for Float32).
    pub fn nodata_for(&self, dtype: DataType) -> Option<f64> {
        let nd = self.nodata.as_ref()?;
        Some(match (dtype, nd.is_null) {
            (DataType::Float64, true) => -f64::MAX,
            (_, true) => -f64::from(f32::MAX),
            (DataType::Float32, false) if nd.value.is_finite() => {
                f64::from(f64_to_f32_clamped(nd.value))
            }
            _ => nd.value,
        })
    }
}

/// The keywords of an ESRI ASCII grid header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Ncols,
    Nrows,
    XllCorner,
    YllCorner,
    XllCenter,
    YllCenter,
    Cellsize,
    Dx,
    Dy,
    Nodata,
}

const KEYS: [(&str, Key); 10] = [
    ("ncols", Key::Ncols),
    ("nrows", Key::Nrows),
    ("xllcorner", Key::XllCorner),
    ("yllcorner", Key::YllCorner),
    ("xllcenter", Key::XllCenter),
    ("yllcenter", Key::YllCenter),
    ("cellsize", Key::Cellsize),
    ("dx", Key::Dx),
    ("dy", Key::Dy),
    ("nodata_value", Key::Nodata),
];

/// A keyword's value as seen: the number, its offset and its text.
type Seen<'a> = (f64, usize, &'a [u8]);

/// One `keyword value` line as nom splits it; offsets are into the whole text.
struct Line<'a> {
    key: &'a [u8],
    key_at: usize,
    value: Option<(&'a [u8], usize)>,
    extra_at: Option<usize>,
}

fn blanks(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|b: u8| b == b' ' || b == b'\t').parse(i)
}

fn word(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_till1(is_space).parse(i)
}

fn keyword(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while1(|b: u8| b.is_ascii_alphanumeric() || b == b'_').parse(i)
}

/// Split one header line starting at `start`; returns the line and the offset of the next.
fn split_line(text: &[u8], start: usize) -> (Line<'_>, usize) {
    let at = |rest: &[u8]| text.len() - rest.len();
    let input = &text[start..];
    let (rest, mut key) = keyword(input).unwrap_or((input, &input[..0]));
    // `yllcorner-10`: a keyword must be followed by a separator, else the whole token is
    // the (unknown) keyword.
    if rest.first().is_some_and(|&b| !is_space(b)) {
        key = &input[..crate::value::token_end(input, 0)];
    }
    let (rest, _) = blanks(rest).unwrap_or((rest, &rest[..0]));
    let (rest, value) = match word(rest) {
        Ok((r, v)) => (r, Some((v, at(rest)))),
        Err(_) => (rest, None),
    };
    let (rest, _) = blanks(rest).unwrap_or((rest, &rest[..0]));
    let extra_at = match rest.first() {
        Some(&b) if b != b'\n' && b != b'\r' => Some(at(rest)),
        _ => None,
    };
    // A line ends at LF, CRLF or a lone CR (GDAL splits the header on both).
    let mut next = at(rest);
    while next < text.len() && text[next] != b'\n' && text[next] != b'\r' {
        next += 1;
    }
    if text.get(next) == Some(&b'\r') && text.get(next + 1) == Some(&b'\n') {
        next += 1;
    }
    (
        Line {
            key,
            key_at: start,
            value,
            extra_at,
        },
        (next + 1).min(text.len()),
    )
}

/// Whether a line starting at `pos` is body: GDAL's rule (a line that does not start with a
/// letter), extended as current GDAL does to lines starting with the tokens `nan` or `null`
/// (and `inf`, which no header keyword starts with either).
fn starts_body(text: &[u8], pos: usize) -> bool {
    let Some(&first) = text.get(pos) else {
        return true;
    };
    if !first.is_ascii_alphabetic() {
        return true;
    }
    let end = crate::value::token_end(text, pos);
    let token = &text[pos..end];
    [&b"nan"[..], b"null", b"inf", b"infinity"]
        .iter()
        .any(|t| token.eq_ignore_ascii_case(t))
}

/// What [`parse_header`] needs when the text it was given ends inside the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// The header is invalid.
    Bad(Located),
    /// The text ended before the body started; give more (only when the text is a prefix).
    NeedMore,
}

impl From<Located> for HeaderError {
    fn from(e: Located) -> Self {
        HeaderError::Bad(e)
    }
}

fn bad(at: usize, message: impl Into<String>) -> HeaderError {
    HeaderError::Bad(Located::new(at as u64, message))
}

/// Parse the header at the start of `text`. `complete` says whether `text` is the whole file
/// (otherwise running out of text asks for more instead of failing).
pub fn parse_header(text: &[u8], complete: bool) -> Result<Header, HeaderError> {
    if text.is_empty() {
        return Err(bad(0, "the file is empty"));
    }
    if text.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(bad(
            0,
            "the file starts with a UTF-8 byte order mark; save it as plain ASCII",
        ));
    }
    if text.len() >= 2 && (text[..2] == [0xFF, 0xFE] || text[..2] == [0xFE, 0xFF]) {
        return Err(bad(0, "the file is UTF-16 text; save it as plain ASCII"));
    }
    if is_grass(text) {
        return parse_grass_header(text, complete);
    }
    let mut values: [Option<Seen<'_>>; 10] = [None; 10];
    let mut pos = 0usize;
    let mut lines = 0usize;
    loop {
        // Blank lines inside the header are skipped, as GDAL does.
        while pos < text.len() && (text[pos] == b'\n' || text[pos] == b'\r') {
            let crlf = text[pos] == b'\r' && text.get(pos + 1) == Some(&b'\n');
            lines += usize::from(!crlf);
            pos += 1;
        }
        if pos >= text.len() {
            if !complete {
                return Err(HeaderError::NeedMore);
            }
            break;
        }
        // Binary data (`/dev/zero`, say) has no line end to wait for: refuse it at once.
        if text[pos] == 0 {
            return Err(bad(pos, crate::value::NUL_MESSAGE));
        }
        let word_cut = crate::value::token_end(text, pos) == text.len();
        if !complete && word_cut {
            // `nan` might go on as `nancy`: only more text tells body from keyword.
            return Err(HeaderError::NeedMore);
        }
        if starts_body(text, pos) {
            break;
        }
        let (line, next) = split_line(text, pos);
        let key_text = String::from_utf8_lossy(line.key).to_ascii_lowercase();
        let Some(&(_, key)) = KEYS.iter().find(|(name, _)| *name == key_text) else {
            let token_end = crate::value::token_end(text, pos);
            return Err(bad(
                line.key_at,
                format!(
                    "unknown header keyword '{}'; expected one of ncols, nrows, xllcorner, \
                     yllcorner, xllcenter, yllcenter, cellsize, dx, dy, nodata_value",
                    show_token(&text[pos..token_end])
                ),
            ));
        };
        let slot = key as usize;
        if values[slot].is_some() {
            return Err(bad(
                line.key_at,
                format!("header keyword '{key_text}' appears twice"),
            ));
        }
        // Text after a value is wrong whatever follows, so a prefix may already say so;
        // anything else on a line cut by the end of a prefix needs the rest of the line.
        if let Some(extra_at) = line.extra_at {
            return Err(bad(
                extra_at,
                format!("unexpected text after the value of '{key_text}'"),
            ));
        }
        if !complete && next >= text.len() {
            return Err(HeaderError::NeedMore);
        }
        let Some((value, value_at)) = line.value else {
            return Err(bad(
                line.key_at + line.key.len(),
                format!("header keyword '{key_text}' has no value"),
            ));
        };
        let number = if key == Key::Nodata && value == b"null" {
            f64::NAN
        } else {
            parse_f64(value).ok_or_else(|| bad(value_at, not_a_number_message(&key_text, value)))?
        };
        values[slot] = Some((number, value_at, value));
        lines += 1;
        pos = next;
    }
    let body_offset = pos;
    let end_at = body_offset;
    let get = |k: Key| values[k as usize];

    let dimension = |k: Key, name: &str| -> Result<usize, HeaderError> {
        let (_, at, raw) = get(k).ok_or_else(|| {
            bad(
                end_at,
                format!("the header has no '{name}' line (it must come before the values)"),
            )
        })?;
        let digits = raw.strip_prefix(b"+").unwrap_or(raw);
        let parsed = std::str::from_utf8(digits)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok());
        match parsed {
            Some(n) if n >= 1 && n <= i32::MAX as u64 => Ok(n as usize),
            _ => Err(bad(
                at,
                format!(
                    "'{name}' must be a whole number from 1 to {}, found '{}'",
                    i32::MAX,
                    show_token(raw)
                ),
            )),
        }
    };
    let ncols = dimension(Key::Ncols, "ncols")?;
    let nrows = dimension(Key::Nrows, "nrows")?;

    let positive = |k: Key, name: &str| -> Result<f64, HeaderError> {
        let (v, at, raw) = get(k).ok_or_else(|| bad(end_at, format!("missing '{name}'")))?;
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(bad(
                at,
                format!(
                    "'{name}' must be a positive, finite number, found '{}'",
                    show_token(raw)
                ),
            ))
        }
    };
    let (mut dx, mut dy) = match (get(Key::Cellsize), get(Key::Dx), get(Key::Dy)) {
        (Some(_), None, None) => {
            let c = positive(Key::Cellsize, "cellsize")?;
            (c, c)
        }
        (None, Some(_), Some(_)) => (positive(Key::Dx, "dx")?, positive(Key::Dy, "dy")?),
        (Some(_), Some((_, at, _)), _) | (Some(_), None, Some((_, at, _))) => {
            return Err(bad(at, "give either 'cellsize' or 'dx' and 'dy', not both"))
        }
        (None, Some((_, at, _)), None) => {
            return Err(bad(at, "'dx' without 'dy': give both, or 'cellsize'"))
        }
        (None, None, Some((_, at, _))) => {
            return Err(bad(at, "'dy' without 'dx': give both, or 'cellsize'"))
        }
        (None, None, None) => {
            return Err(bad(
                end_at,
                "the header has no 'cellsize' (nor 'dx' and 'dy') line",
            ))
        }
    };

    let finite = |k: Key, name: &str| -> Result<f64, HeaderError> {
        let (v, at, raw) = get(k).ok_or_else(|| bad(end_at, format!("missing '{name}'")))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(bad(
                at,
                format!(
                    "'{name}' must be a finite number, found '{}'",
                    show_token(raw)
                ),
            ))
        }
    };
    let corner = (get(Key::XllCorner), get(Key::YllCorner));
    let center = (get(Key::XllCenter), get(Key::YllCenter));
    let first_at = |pair: (Option<Seen<'_>>, Option<Seen<'_>>)| {
        pair.0.or(pair.1).map_or(end_at, |(_, at, _)| at)
    };
    let (origin, x_origin, y_origin) = match (corner, center) {
        ((Some(_), Some(_)), (None, None)) => (
            Origin::Corner,
            finite(Key::XllCorner, "xllcorner")?,
            finite(Key::YllCorner, "yllcorner")?,
        ),
        ((None, None), (Some(_), Some(_))) => (
            Origin::Center,
            finite(Key::XllCenter, "xllcenter")?,
            finite(Key::YllCenter, "yllcenter")?,
        ),
        ((None, None), (None, None)) => {
            return Err(bad(
                end_at,
                "the header has no origin: give 'xllcorner' and 'yllcorner' (or 'xllcenter' \
                 and 'yllcenter')",
            ))
        }
        (c, m) if (c.0.is_some() || c.1.is_some()) && (m.0.is_some() || m.1.is_some()) => {
            return Err(bad(
                first_at(m).max(first_at(c)),
                "the origin mixes corner and center keywords; use xllcorner/yllcorner or \
                 xllcenter/yllcenter",
            ))
        }
        (c, m) => {
            let (present, missing) = if c.0.is_some() || c.1.is_some() {
                (
                    c,
                    if c.0.is_some() {
                        "yllcorner"
                    } else {
                        "xllcorner"
                    },
                )
            } else {
                (
                    m,
                    if m.0.is_some() {
                        "yllcenter"
                    } else {
                        "xllcenter"
                    },
                )
            };
            return Err(bad(
                first_at(present),
                format!("half an origin: '{missing}' is missing"),
            ));
        }
    };

    // GDAL's snap for global grids whose cellsize was written with too few digits.
    if origin == Origin::Corner
        && ncols % 360 == 0
        && (x_origin + 180.0).abs() < 1e-12
        && dx == dy
        && (dx - 360.0 / ncols as f64).abs() < 1e-9
    {
        dx = 360.0 / ncols as f64;
        dy = dx;
    }

    let nodata = get(Key::Nodata).map(|(v, _, raw)| Nodata {
        value: if raw == b"null" { -f64::MAX } else { v },
        is_null: raw == b"null",
        has_decimal: raw.iter().any(|&b| b == b'.' || b == b','),
        reserved: false,
    });

    let header = Header {
        ncols,
        nrows,
        dx,
        dy,
        origin,
        x_origin,
        y_origin,
        nodata,
        body_offset,
        header_lines: lines,
        declared_type: None,
        star_nulls: false,
    };
    let (x_key, y_key) = match origin {
        Origin::Center => (Key::XllCenter, Key::YllCenter),
        _ => (Key::XllCorner, Key::YllCorner),
    };
    let at = |k: Key| get(k).map_or(end_at, |(_, at, _)| at);
    check_extent(&header, at(x_key), at(y_key))?;
    Ok(header)
}

/// Refuse a header whose geotransform or bounds are not finite numbers (`cellsize 1e308`, an
/// origin near the double range, GRASS bounds whose difference overflows): every reader of
/// the grid would get `inf` and NaN coordinates. `x_at` and `y_at` locate the x and y origin.
fn check_extent(h: &Header, x_at: usize, y_at: usize) -> Result<(), HeaderError> {
    let gt = h.geotransform();
    let axes = [
        ("x", x_at, gt[0], gt[1], h.ncols, "columns"),
        ("y", y_at, gt[3], gt[5], h.nrows, "rows"),
    ];
    for (axis, at, start, step, cells, what) in axes {
        let end = start + cells as f64 * step;
        if !(start.is_finite() && step.is_finite() && step != 0.0 && end.is_finite()) {
            return Err(bad(
                at,
                format!(
                    "the grid's {axis} extent is not a finite number (from {start:?} over \
                     {cells} {what} of {:?}): check the header's origin and cell size",
                    step.abs()
                ),
            ));
        }
    }
    Ok(())
}

/// Why a header value is not taken: beyond the double range, or not a number at all.
fn not_a_number_message(key: &str, value: &[u8]) -> String {
    if crate::value::out_of_range(value) {
        format!(
            "the value of '{key}' is out of range: '{}'",
            show_token(value)
        )
    } else {
        format!(
            "the value of '{key}' is not a number: '{}'",
            show_token(value)
        )
    }
}

/// Whether the text starts like a GRASS ASCII grid (`north:` and friends).
fn is_grass(text: &[u8]) -> bool {
    let start = text
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(text.len());
    let end = crate::value::token_end(text, start);
    let token = text[start..end].to_ascii_lowercase();
    GRASS_KEYS
        .iter()
        .any(|k| token.starts_with(k.as_bytes()) && token.get(k.len()) == Some(&b':'))
}

const GRASS_KEYS: [&str; 8] = [
    "north", "south", "east", "west", "rows", "cols", "null", "type",
];

/// A GRASS ASCII header (`north: 250` ...; GDAL's GRASSASCIIGrid driver): same strictness
/// as the ESRI header, and GDAL's geotransform `(west, (east-west)/cols, 0, north, 0,
/// -(north-south)/rows)`.
fn parse_grass_header(text: &[u8], complete: bool) -> Result<Header, HeaderError> {
    let mut seen: [Option<Seen<'_>>; 8] = [None; 8];
    let mut pos = 0usize;
    let mut lines = 0usize;
    loop {
        while pos < text.len() && (text[pos] == b'\n' || text[pos] == b'\r') {
            lines += usize::from(text[pos] == b'\n');
            pos += 1;
        }
        if pos >= text.len() && !complete {
            return Err(HeaderError::NeedMore);
        }
        if pos >= text.len() || starts_body(text, pos) {
            break;
        }
        let line_end = text[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |n| pos + n);
        if !complete && line_end >= text.len() {
            return Err(HeaderError::NeedMore);
        }
        let line = &text[pos..line_end];
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| bad(pos, "a GRASS header line must read 'keyword: value'"))?;
        let key = String::from_utf8_lossy(&line[..colon])
            .trim()
            .to_ascii_lowercase();
        let Some(slot) = GRASS_KEYS.iter().position(|k| *k == key) else {
            return Err(bad(
                pos,
                format!(
                    "unknown GRASS header keyword '{}'; expected north, south, east, west, rows, \
                 cols, null or type",
                    show_token(&line[..colon])
                ),
            ));
        };
        if seen[slot].is_some() {
            return Err(bad(pos, format!("header keyword '{key}' appears twice")));
        }
        let after = colon + 1;
        let value_start = after
            + line[after..]
                .iter()
                .position(|&b| !is_space(b))
                .unwrap_or(line.len() - after);
        let value_end = crate::value::token_end(line, value_start.min(line.len()));
        let value = &line[value_start.min(line.len())..value_end];
        if value.is_empty() {
            return Err(bad(
                pos + colon,
                format!("header keyword '{key}' has no value"),
            ));
        }
        if let Some(extra) = line[value_end..].iter().position(|&b| !is_space(b)) {
            return Err(bad(
                pos + value_end + extra,
                format!("unexpected text after the value of '{key}'"),
            ));
        }
        let number = if key == "type" {
            0.0
        } else if key == "null" && value == b"null" {
            f64::NAN
        } else if key == "null" && value == b"*" {
            // `*` is GRASS's default null marker: the same as no `null:` line.
            GRASS_NULL
        } else {
            parse_f64(value)
                .ok_or_else(|| bad(pos + value_start, not_a_number_message(&key, value)))?
        };
        seen[slot] = Some((number, pos + value_start, value));
        lines += 1;
        pos = (line_end + 1).min(text.len());
    }
    let body_offset = pos;
    let need = |i: usize| -> Result<Seen<'_>, HeaderError> {
        seen[i].ok_or_else(|| {
            bad(
                body_offset,
                format!("the GRASS header has no '{}:' line", GRASS_KEYS[i]),
            )
        })
    };
    let whole = |i: usize| -> Result<usize, HeaderError> {
        let (v, at, raw) = need(i)?;
        if v.fract() == 0.0
            && v >= 1.0
            && v <= f64::from(i32::MAX)
            && raw.iter().all(u8::is_ascii_digit)
        {
            Ok(v as usize)
        } else {
            Err(bad(
                at,
                format!(
                    "'{}' must be a whole number from 1 to {}, found '{}'",
                    GRASS_KEYS[i],
                    i32::MAX,
                    show_token(raw)
                ),
            ))
        }
    };
    let (north, south, east, west) = (need(0)?, need(1)?, need(2)?, need(3)?);
    let (nrows, ncols) = (whole(4)?, whole(5)?);
    for (v, at, raw) in [north, south, east, west] {
        if !v.is_finite() {
            return Err(bad(
                at,
                format!("bounds must be finite, found '{}'", show_token(raw)),
            ));
        }
    }
    if north.0 <= south.0 {
        return Err(bad(north.1, "'north' must be greater than 'south'"));
    }
    if east.0 <= west.0 {
        return Err(bad(east.1, "'east' must be greater than 'west'"));
    }
    let declared_type = match seen[7] {
        None => None,
        Some((_, at, raw)) => Some(match raw.to_ascii_lowercase().as_slice() {
            b"int" => DataType::Int32,
            b"float" => DataType::Float32,
            b"double" => DataType::Float64,
            _ => {
                return Err(bad(
                    at,
                    format!(
                        "'type' must be int, float or double, found '{}'",
                        show_token(raw)
                    ),
                ))
            }
        }),
    };
    // `*` cells are null cells whatever the header says: with a `null:` value they take it,
    // without one (or with `null: *`) they take GRASS_NULL, so the nodata is always set.
    let nodata = match seen[6] {
        Some((v, _, raw)) if raw != b"*" => Nodata {
            value: v,
            is_null: false,
            has_decimal: raw.iter().any(|&b| b == b'.' || b == b','),
            reserved: false,
        },
        _ => Nodata {
            value: GRASS_NULL,
            is_null: false,
            has_decimal: false,
            reserved: true,
        },
    };
    let header = Header {
        ncols,
        nrows,
        dx: (east.0 - west.0) / ncols as f64,
        dy: (north.0 - south.0) / nrows as f64,
        origin: Origin::NorthWest,
        x_origin: west.0,
        y_origin: north.0,
        nodata: Some(nodata),
        body_offset,
        header_lines: lines,
        declared_type,
        star_nulls: true,
    };
    check_extent(&header, east.1, north.1)?;
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Header {
        parse_header(text.as_bytes(), true).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn err(text: &str) -> Located {
        match parse_header(text.as_bytes(), true) {
            Err(HeaderError::Bad(e)) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn any_case_any_order_fortran_and_comma_numbers() {
        let h = ok(
            "CellSize .500E+02\r\nNROWS 12\r\nncols\t15\r\nyllcorner 0,650000E+06\r\n\
                    XLLCORNER 0.100000E+06\r\nnodata_value -99999\r\n  .0\r\n",
        );
        assert_eq!((h.ncols, h.nrows), (15, 12));
        assert_eq!(
            h.geotransform(),
            [100000.0, 50.0, 0.0, 650600.0, 0.0, -50.0]
        );
        assert_eq!(h.header_lines, 6);
        assert_eq!(h.nodata_data_type(), None);
        assert_eq!(h.nodata_for(DataType::Int32), Some(-99999.0));
    }

    #[test]
    fn center_origin_and_dx_dy() {
        let h = ok("ncols 2\nnrows 3\nxllcenter 10\nyllcenter 20\ndx 2\ndy 4\n1 2\n");
        assert_eq!(h.geotransform(), [9.0, 2.0, 0.0, 30.0, 0.0, -4.0]);
    }

    #[test]
    fn global_grid_snap() {
        let h = ok("ncols 720\nnrows 1\nxllcorner -180\nyllcorner 0\ncellsize 0.5000000001\n0\n");
        assert_eq!(h.dx, 0.5);
    }

    #[test]
    fn body_may_start_with_nan_or_null() {
        let h = ok("ncols 1\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\nnan\n1\n");
        assert_eq!(h.header_lines, 5);
        let h = ok("ncols 1\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\nnull 1\n");
        assert_eq!(h.body_offset, 51);
    }

    fn with_nodata(nd: &str) -> Header {
        ok(&format!(
            "ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\nnodata_value {nd}\n1\n"
        ))
    }

    /// The data type a nodata spelling alone decides (GDAL's rule; FORMAT.md), one test per
    /// spelling: `name: nodata => the type it decides (None: the body decides);`.
    macro_rules! nodata_decides {
        ($($name:ident: $nodata:expr => $want:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    assert_eq!(with_nodata($nodata).nodata_data_type(), $want);
                }
            )+
        };
    }

    mod nodata_type_rules {
        use super::with_nodata;
        use crate::value::DataType;

        nodata_decides! {
            trailing_dot_is_float32: "-99999." => Some(DataType::Float32);
            integer_leaves_it_to_the_body: "-99999" => None;
            nan_is_float32: "nan" => Some(DataType::Float32);
            zero_point_zero_is_float64: "0.0" => Some(DataType::Float64);
            below_float32_is_float64: "2.2250738585072014e-308" => Some(DataType::Float64);
            beyond_float32_is_float64: "1e40" => Some(DataType::Float64);
            infinity_is_float32: "-inf" => Some(DataType::Float32);
            null_is_float32: "null" => Some(DataType::Float32);
        }

        #[test]
        fn null_is_the_lowest_value_of_the_type() {
            let null = with_nodata("null");
            assert_eq!(
                null.nodata_for(DataType::Float32),
                Some(-f64::from(f32::MAX))
            );
            assert_eq!(null.nodata_for(DataType::Float64), Some(-f64::MAX));
        }

        #[test]
        fn a_precise_nodata_is_rounded_to_the_type() {
            let precise = with_nodata("-1.234567890123");
            assert_eq!(precise.nodata_for(DataType::Float64), Some(-1.234567890123));
            assert_eq!(
                precise.nodata_for(DataType::Float32),
                Some(f64::from(-1.234567890123f64 as f32))
            );
        }
    }

    /// Every header GDAL takes and this reader refuses (FORMAT.md, "stricter than GDAL"), one
    /// test each so that one broken rule never hides another: `name: text, where the error
    /// must point (if pinned), a fragment its message must hold (if pinned);`.
    macro_rules! refused {
        ($($name:ident: $text:expr, $offset:expr, $fragment:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    let e = err(&$text);
                    let offset: Option<u64> = $offset;
                    let fragment: Option<&str> = $fragment;
                    if let Some(offset) = offset {
                        assert_eq!(e.offset, offset, "{}", e.message);
                    }
                    if let Some(fragment) = fragment {
                        assert!(e.message.contains(fragment), "{}", e.message);
                    }
                }
            )+
        };
    }

    mod stricter_than_gdal {
        use super::err;

        const BASE: &str = "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n";

        refused! {
            ncols_not_whole: "ncols 5.7\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1\n",
                Some(6), Some("whole number");
            half_origin: "ncols 2\nnrows 1\nxllcorner 0\ncellsize 1\n1 2\n",
                None, Some("yllcorner");
            mixed_origin: "ncols 2\nnrows 1\nxllcorner 0\nyllcenter 0\ncellsize 1\n1 2\n",
                None, Some("mixes");
            cellsize_zero: "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 0\n1 2\n",
                Some(49), None;
            cellsize_negative: "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize -1\n1 2\n",
                None, Some("positive");
            cellsize_infinite: "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize inf\n1 2\n",
                None, Some("finite");
            keyword_twice: format!("{BASE}ncols 2\n1 2\n"), None, Some("twice");
            unknown_keyword: format!("{BASE}bogus 2\n1 2\n"),
                Some(BASE.len() as u64), Some("unknown");
            nodata_without_value: format!("{BASE}nodata_value\n1 2\n"), None, Some("no value");
            text_after_nodata: format!("{BASE}nodata_value -9999 x\n1 2\n"),
                None, Some("after the value");
            no_cellsize: "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\n1 2\n",
                None, Some("cellsize");
            cellsize_and_dx: "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\ndx 1\n1 2\n",
                None, Some("not both");
            empty: "", None, Some("empty");
            byte_order_mark: "\u{feff}ncols 1", None, Some("byte order mark");
        }
    }

    #[test]
    fn grass_header() {
        let h = ok("north: 250.000000\nsouth: 0.000000\neast: 150.000000\nwest: -100.000000\nrows: 6\ncols: 4\n-9999 1\n");
        assert_eq!(
            h.geotransform(),
            [-100.0, 62.5, 0.0, 250.0, 0.0, -41.666666666666664]
        );
        assert_eq!((h.ncols, h.nrows, h.header_lines), (4, 6, 6));
        let e = err("north: 1\nsouth: 2\neast: 1\nwest: 0\nrows: 1\ncols: 1\n1\n");
        assert!(e.message.contains("greater"), "{}", e.message);
        let h = ok(
            "north: 1\nsouth: 0\neast: 1\nwest: 0\nrows: 1\ncols: 1\ntype: double\nnull: -1\n1\n",
        );
        assert_eq!(h.nodata_data_type(), Some(DataType::Float64));
    }

    #[test]
    fn grass_nodata_is_the_null_line_or_the_reserved_value_of_star_cells() {
        let grass = "north: 1\nsouth: 0\neast: 1\nwest: 0\nrows: 1\ncols: 1\n";
        for null in ["", "null: *\n"] {
            let h = ok(&format!("{grass}{null}1\n"));
            let nd = h.nodata.clone().expect("always set");
            assert!(nd.reserved && h.star_nulls, "{null:?}");
            // It decides no type, and every type holds it as it is.
            assert_eq!(h.nodata_data_type(), None);
            for t in [DataType::Int32, DataType::Float32, DataType::Float64] {
                assert_eq!(h.nodata_for(t), Some(GRASS_NULL));
            }
        }
        let h = ok(&format!("{grass}null: -9999\n1\n"));
        assert_eq!(
            h.nodata.map(|n| (n.value, n.reserved)),
            Some((-9999.0, false))
        );
        let esri = ok("ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1\n");
        assert!(!esri.star_nulls && esri.nodata.is_none());
    }

    #[test]
    fn lone_cr_ends_a_line_and_glued_values_are_refused() {
        let h = ok(
            "ncols 4\rnrows 1\rxllcorner 0\ryllcorner 0\rcellsize 1 \rNODATA_value -1.5\r1 2 3 4\r",
        );
        assert_eq!(h.nodata.map(|n| n.value), Some(-1.5));
        assert_eq!(h.header_lines, 6);
        // The CR ends the nodata line: "999" starts the body (one value too many there).
        let text = "ncols 4\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -9\r999\n1 2 3 4\n";
        let h = ok(text);
        assert_eq!(
            (h.nodata.map(|n| n.value), &text[h.body_offset..]),
            (Some(-9.0), "999\n1 2 3 4\n")
        );
        let e = err("ncols 1\nnrows 1\nxllcorner 0\nyllcorner-10\ncellsize 1\n1\n");
        assert!(e.message.contains("yllcorner-10"), "{}", e.message);
    }

    #[test]
    fn prefix_asks_for_more() {
        assert_eq!(
            parse_header(b"ncols 2\nnrows", false),
            Err(HeaderError::NeedMore)
        );
    }
}
