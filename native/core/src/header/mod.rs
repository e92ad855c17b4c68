//! The header: `keyword value` lines, resolved the way GDAL resolves them (geotransform,
//! nodata, data type) and checked the way GDAL does not (see docs/FORMAT.md).
//!
//! Two formats, one parser each: [`esri`] (`ncols 4`, parsed with nom) and [`grass`]
//! (`north: 250`). Both take their lines from one splitter ([`Lines`]: blank lines, LF, CRLF
//! and lone CR, where the body starts, when a prefix needs more text) and their keywords
//! from one table ([`KEYWORDS`]), so a rule about lines or keywords cannot differ between
//! them. What they produce, a [`Header`], and GDAL's type and nodata rules on it are here.

mod esri;
mod grass;

use crate::error::{show_token, ErrorKind, Located};
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

/// A nodata value as a caller of [`crate::read_header`] or [`crate::read`] is given it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NodataValue {
    /// An integral value of a grid that is not floating point (Int32, or a type only the
    /// body decides): `-9999`, not `-9999.0`.
    Int(i64),
    /// Any other value.
    Float(f64),
}

impl NodataValue {
    /// The largest magnitude given as an integer: every integer up to it is exact in an f64.
    const EXACT: f64 = 9.0e15;

    /// `value` as reported for a grid of type `dtype` (`None`: not known without the
    /// body): an integer unless the type is floating point or the value is not integral.
    pub fn of(value: f64, dtype: Option<DataType>) -> NodataValue {
        let float_type = matches!(dtype, Some(DataType::Float32 | DataType::Float64));
        if !float_type && value.fract() == 0.0 && value.abs() < Self::EXACT {
            NodataValue::Int(value as i64)
        } else {
            NodataValue::Float(value)
        }
    }
}

impl Header {
    /// The data type and nodata value of this header read alone, without its body
    /// ([`crate::read_header`]): the type is known only when the header decides it (GDAL's
    /// nodata rule, a GRASS `type:` line), and the nodata value is then as that type holds
    /// it (as Int32 holds it otherwise).
    pub fn alone(&self) -> (Option<DataType>, Option<f64>) {
        let dtype = self.nodata_data_type();
        (dtype, self.nodata_for(dtype.unwrap_or(DataType::Int32)))
    }
}

/// The outcome of parsing a header from text that may be only the start of the file.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderParse {
    /// The header, complete: the body starts at [`Header::body_offset`].
    Complete(Header),
    /// The text given ends inside the header; give more (only when the text is a prefix).
    NeedMore,
}

/// Parse the header at the start of `text`. `complete` says whether `text` is the whole file
/// (otherwise running out of text asks for more, [`HeaderParse::NeedMore`], instead of
/// failing).
pub fn parse_header(text: &[u8], complete: bool) -> Result<HeaderParse, Located> {
    if text.is_empty() {
        return Err(bad(0, ErrorKind::Empty, "the file is empty"));
    }
    if text.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(bad(
            0,
            ErrorKind::NotText,
            "the file starts with a UTF-8 byte order mark; save it as plain ASCII",
        ));
    }
    if text.len() >= 2 && (text[..2] == [0xFF, 0xFE] || text[..2] == [0xFE, 0xFF]) {
        return Err(bad(
            0,
            ErrorKind::NotText,
            "the file is UTF-16 text; save it as plain ASCII",
        ));
    }
    if grass::is_grass(text) {
        grass::parse(text, complete)
    } else {
        esri::parse(text, complete)
    }
}

/// [`parse_header`] of a whole file's text.
pub fn parse_whole_header(text: &[u8]) -> Result<Header, Located> {
    match parse_header(text, true)? {
        HeaderParse::Complete(header) => Ok(header),
        // The whole text never asks for more; should a parser ever do so, it is this.
        HeaderParse::NeedMore => Err(bad(
            text.len(),
            ErrorKind::HeaderIncomplete,
            "the file ends inside the header",
        )),
    }
}

/// A located header problem of `kind` at offset `at`.
fn bad(at: usize, kind: ErrorKind, message: impl Into<String>) -> Located {
    Located::new(at as u64, kind, message)
}

/// Which header format a keyword belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// ESRI ASCII grids (`ncols 4`).
    Esri,
    /// GRASS ASCII grids (`north: 250`).
    Grass,
}

/// Every header keyword of both formats.
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
    North,
    South,
    East,
    West,
    Rows,
    Cols,
    Null,
    Type,
}

/// The one keyword table: each keyword's lowercase name, its format and its [`Key`]. The
/// order is the order of the "expected one of" lists in messages.
const KEYWORDS: [(&str, Dialect, Key); 18] = [
    ("ncols", Dialect::Esri, Key::Ncols),
    ("nrows", Dialect::Esri, Key::Nrows),
    ("xllcorner", Dialect::Esri, Key::XllCorner),
    ("yllcorner", Dialect::Esri, Key::YllCorner),
    ("xllcenter", Dialect::Esri, Key::XllCenter),
    ("yllcenter", Dialect::Esri, Key::YllCenter),
    ("cellsize", Dialect::Esri, Key::Cellsize),
    ("dx", Dialect::Esri, Key::Dx),
    ("dy", Dialect::Esri, Key::Dy),
    ("nodata_value", Dialect::Esri, Key::Nodata),
    ("north", Dialect::Grass, Key::North),
    ("south", Dialect::Grass, Key::South),
    ("east", Dialect::Grass, Key::East),
    ("west", Dialect::Grass, Key::West),
    ("rows", Dialect::Grass, Key::Rows),
    ("cols", Dialect::Grass, Key::Cols),
    ("null", Dialect::Grass, Key::Null),
    ("type", Dialect::Grass, Key::Type),
];

impl Key {
    /// The keyword of `dialect` named `name` (any case).
    fn find(dialect: Dialect, name: &[u8]) -> Option<Key> {
        KEYWORDS
            .iter()
            .find(|(k, d, _)| *d == dialect && name.eq_ignore_ascii_case(k.as_bytes()))
            .map(|&(_, _, key)| key)
    }

    /// The keyword's name as the table spells it.
    fn name(self) -> &'static str {
        KEYWORDS
            .iter()
            .find(|(_, _, k)| *k == self)
            .map_or("", |(name, _, _)| name)
    }
}

/// The error for an unknown keyword `token` at `at` in a header of `dialect`, listing the
/// keywords the table has for it.
fn unknown_keyword(dialect: Dialect, token: &[u8], at: usize) -> Located {
    let names: Vec<&str> = KEYWORDS
        .iter()
        .filter(|(_, d, _)| *d == dialect)
        .map(|(name, _, _)| *name)
        .collect();
    let format = match dialect {
        Dialect::Esri => "header",
        Dialect::Grass => "GRASS header",
    };
    bad(
        at,
        ErrorKind::HeaderKeywordUnknown,
        format!(
            "unknown {format} keyword '{}'; expected one of {}",
            show_token(token),
            names.join(", ")
        ),
    )
}

/// A keyword's value as seen: the number, its offset and its text.
type Value<'a> = (f64, usize, &'a [u8]);

/// The values seen so far, one slot per [`Key`]; a keyword seen twice is an error.
struct Seen<'a>([Option<Value<'a>>; KEYWORDS.len()]);

impl<'a> Seen<'a> {
    fn new() -> Self {
        Seen([None; KEYWORDS.len()])
    }

    /// The value of `key`, if seen.
    fn get(&self, key: Key) -> Option<Value<'a>> {
        self.0[key as usize]
    }

    /// An error unless `key` (whose line starts at `at`) is new.
    fn check_new(&self, key: Key, at: usize) -> Result<(), Located> {
        match self.0[key as usize] {
            Some(_) => Err(bad(
                at,
                ErrorKind::HeaderKeywordDuplicate,
                format!("header keyword '{}' appears twice", key.name()),
            )),
            None => Ok(()),
        }
    }

    /// Record the value of `key`.
    fn set(&mut self, key: Key, value: Value<'a>) {
        self.0[key as usize] = Some(value);
    }
}

/// One header line as [`Lines`] cuts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line<'a> {
    /// The line's text, without its line end.
    text: &'a [u8],
    /// Offset of its first byte in the whole text.
    start: usize,
    /// Whether the text given is a prefix that ends on this line (or just after its line
    /// end): only more text can say whether the line goes on, or how the header ends.
    cut: bool,
}

/// What [`Lines::next`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step<'a> {
    /// A keyword line.
    Line(Line<'a>),
    /// The body starts at [`Lines::pos`] (or the text ended).
    Body,
    /// The prefix given ends before the next line can be told from the body.
    NeedMore,
}

/// The one header line splitter. A line ends at LF, CRLF or a lone CR (GDAL splits its
/// header on both); blank lines are skipped, as GDAL does; a line that does not start with a
/// letter, or starts with the token `nan`, `null`, `inf` or `infinity`, is the body's first.
struct Lines<'a> {
    text: &'a [u8],
    complete: bool,
    /// Offset of the next line.
    pos: usize,
    /// Lines before `pos`.
    count: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a [u8], complete: bool) -> Self {
        Lines {
            text,
            complete,
            pos: 0,
            count: 0,
        }
    }

    /// The next keyword line (counted, and passed), or where the body starts.
    fn next(&mut self) -> Result<Step<'a>, Located> {
        let text = self.text;
        let mut pos = self.pos;
        while pos < text.len() && (text[pos] == b'\n' || text[pos] == b'\r') {
            let crlf = text[pos] == b'\r' && text.get(pos + 1) == Some(&b'\n');
            self.count += usize::from(!crlf);
            pos += 1;
        }
        self.pos = pos;
        if pos >= text.len() {
            return Ok(if self.complete {
                Step::Body
            } else {
                Step::NeedMore
            });
        }
        // Binary data (`/dev/zero`, say) has no line end to wait for: refuse it at once.
        if text[pos] == 0 {
            return Err(bad(pos, ErrorKind::NotText, crate::value::NUL_MESSAGE));
        }
        // `nan` might go on as `nancy`: only more text tells body from keyword.
        if !self.complete && crate::value::token_end(text, pos) == text.len() {
            return Ok(Step::NeedMore);
        }
        if starts_body(text, pos) {
            return Ok(Step::Body);
        }
        let end = text[pos..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(text.len(), |n| pos + n);
        let crlf = text.get(end) == Some(&b'\r') && text.get(end + 1) == Some(&b'\n');
        let next = (end + 1 + usize::from(crlf)).min(text.len());
        self.pos = next;
        self.count += 1;
        Ok(Step::Line(Line {
            text: &text[pos..end],
            start: pos,
            cut: !self.complete && next >= text.len(),
        }))
    }
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

/// The number `value` (at `at`) of keyword `key`.
fn number(key: Key, value: &[u8], at: usize) -> Result<f64, Located> {
    parse_f64(value).ok_or_else(|| {
        let key = key.name();
        let message = if crate::value::out_of_range(value) {
            format!(
                "the value of '{key}' is out of range: '{}'",
                show_token(value)
            )
        } else {
            format!(
                "the value of '{key}' is not a number: '{}'",
                show_token(value)
            )
        };
        bad(at, ErrorKind::HeaderValueNotANumber, message)
    })
}

/// A dimension (`ncols`, GRASS `rows`): a whole number from 1 to `i32::MAX`, written as plain
/// digits (after an optional `+`, which GRASS does not allow).
fn dimension(key: Key, (_, at, raw): Value<'_>, plus: bool) -> Result<usize, Located> {
    let digits = if plus {
        raw.strip_prefix(b"+").unwrap_or(raw)
    } else {
        raw
    };
    let parsed = std::str::from_utf8(digits)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok());
    match parsed {
        Some(n) if n >= 1 && n <= i32::MAX as u64 => Ok(n as usize),
        _ => Err(bad(
            at,
            ErrorKind::HeaderValueInvalid,
            format!(
                "'{}' must be a whole number from 1 to {}, found '{}'",
                key.name(),
                i32::MAX,
                show_token(raw)
            ),
        )),
    }
}

/// Refuse a header whose geotransform or bounds are not finite numbers (`cellsize 1e308`, an
/// origin near the double range, GRASS bounds whose difference overflows): every reader of
/// the grid would get `inf` and NaN coordinates. `x_at` and `y_at` locate the x and y origin.
fn check_extent(h: &Header, x_at: usize, y_at: usize) -> Result<(), Located> {
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
                ErrorKind::HeaderValueInvalid,
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The header of a whole text, which must parse.
    pub(in crate::header) fn ok(text: &str) -> Header {
        parse_whole_header(text.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// The error of a whole text, which must not parse.
    pub(in crate::header) fn err(text: &str) -> Located {
        match parse_whole_header(text.as_bytes()) {
            Err(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    const ESRI: &str = "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
    const GRASS: &str = "north: 1\nsouth: 0\neast: 2\nwest: 0\nrows: 1\ncols: 2\n";

    /// Every line-ending rule holds for both formats alike, since both take their lines from
    /// [`Lines`]: LF, CRLF, a lone CR and any mix end a line; blank lines (in any ending) are
    /// skipped and counted; the body starts on the first line that is not a keyword's.
    #[test]
    fn line_endings_are_the_same_for_both_formats() {
        // (name, how the n-th line ends)
        type Ending = (&'static str, fn(usize) -> &'static str);
        let endings: [Ending; 5] = [
            ("lf", |_| "\n"),
            ("crlf", |_| "\r\n"),
            ("cr", |_| "\r"),
            ("mixed", |i| ["\n", "\r\n", "\r"][i % 3]),
            ("blank lines", |i| {
                ["\n\n", "\r\n\r\n", "\r\r", "\n\r\n"][i % 4]
            }),
        ];
        for (format, header) in [("esri", ESRI), ("grass", GRASS)] {
            for (name, end) in endings {
                let mut text = String::new();
                let mut lines = 0;
                for (i, line) in header.lines().enumerate() {
                    let eol = end(i);
                    text.push_str(line);
                    text.push_str(eol);
                    // A line end is LF, CRLF or a lone CR.
                    lines += eol.matches("\r\n").count() + eol.replace("\r\n", "").chars().count();
                }
                let body_offset = text.len();
                text.push_str("1 2");
                text.push_str(end(9));
                let h = ok(&text);
                let what = format!("{format}, {name}: {text:?}");
                assert_eq!((h.ncols, h.nrows), (2, 1), "{what}");
                assert_eq!(h.body_offset, body_offset, "{what}");
                assert_eq!(h.header_lines, lines, "{what}");
                // A prefix cut anywhere before the body asks for more, never fails.
                for cut in 1..body_offset {
                    assert_eq!(
                        parse_header(&text.as_bytes()[..cut], false),
                        Ok(HeaderParse::NeedMore),
                        "{what} cut at {cut}"
                    );
                }
                assert_eq!(
                    parse_header(text.as_bytes(), false),
                    Ok(HeaderParse::Complete(h)),
                    "{what}"
                );
            }
        }
    }

    /// A lone CR ends a line in both formats, also where an editor that knows only LF shows
    /// one line: the value before it ends there, and what follows starts the body.
    #[test]
    fn lone_cr_ends_a_value_in_both_formats() {
        for (format, header, null) in [("esri", ESRI, "nodata_value"), ("grass", GRASS, "null:")] {
            let text = format!("{header}{null} -9\r999\n1 2\n");
            let h = ok(&text);
            assert_eq!(h.nodata.map(|n| n.value), Some(-9.0), "{format}");
            assert_eq!(&text[h.body_offset..], "999\n1 2\n", "{format}");
            let glued = header.replacen("1\n", "1 x\n", 1) + "1 2\n";
            assert_eq!(err(&glued).kind, ErrorKind::HeaderSyntax, "{format}");
        }
    }

    /// Both formats share the keyword table's checks: a duplicate, an unknown keyword and a
    /// line cut inside a keyword.
    #[test]
    fn keyword_rules_are_the_same_for_both_formats() {
        for (format, header, unknown) in
            [("esri", ESRI, "bogus 2\n"), ("grass", GRASS, "bogus: 2\n")]
        {
            let first = header.lines().next().unwrap_or_default();
            let twice = format!("{header}{first}\n1 2\n");
            let e = err(&twice);
            assert_eq!(e.kind, ErrorKind::HeaderKeywordDuplicate, "{format}");
            assert_eq!(e.offset, header.len() as u64, "{format}");
            let e = err(&format!("{header}{unknown}1 2\n"));
            assert_eq!(e.kind, ErrorKind::HeaderKeywordUnknown, "{format}");
            assert!(e.message.contains("expected one of"), "{}", e.message);
            let nul = format!("{header}\0\n");
            assert_eq!(err(&nul).kind, ErrorKind::NotText, "{format}");
        }
    }

    #[test]
    fn empty_and_not_text() {
        assert_eq!(err("").kind, ErrorKind::Empty);
        assert_eq!(err("\u{feff}ncols 1").kind, ErrorKind::NotText);
        assert_eq!(
            parse_whole_header(b"\xff\xfen\0").map_err(|e| e.kind),
            Err(ErrorKind::NotText)
        );
    }

    fn with_nodata(nd: &str) -> Header {
        ok(&format!("{ESRI}nodata_value {nd}\n1\n"))
    }

    /// The data type a nodata spelling alone decides (GDAL's rule; docs/FORMAT.md), one test per
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

    /// What `read_header` reports: the type only when the header decides it, the nodata as
    /// that type (else Int32) holds it, and an integral nodata of a grid that is not
    /// floating point as an integer.
    #[test]
    fn a_header_read_alone() {
        let with = |nd: &str| ok(&format!("{ESRI}nodata_value {nd}\n1\n"));
        assert_eq!(with("-9999").alone(), (None, Some(-9999.0)));
        assert_eq!(
            with("-9999.5").alone(),
            (Some(DataType::Float32), Some(-9999.5))
        );
        assert_eq!(ok(&format!("{ESRI}1\n")).alone(), (None, None));
        assert_eq!(NodataValue::of(-9999.0, None), NodataValue::Int(-9999));
        assert_eq!(
            NodataValue::of(-9999.0, Some(DataType::Int32)),
            NodataValue::Int(-9999)
        );
        for float in [DataType::Float32, DataType::Float64] {
            assert_eq!(
                NodataValue::of(-9999.0, Some(float)),
                NodataValue::Float(-9999.0)
            );
        }
        assert_eq!(NodataValue::of(0.5, None), NodataValue::Float(0.5));
        assert_eq!(NodataValue::of(1e16, None), NodataValue::Float(1e16));
        assert!(matches!(NodataValue::of(f64::NAN, None), NodataValue::Float(v) if v.is_nan()));
    }

    /// R5 (docs/ROBUSTNESS.md). A prefix (what streaming readers parse) that ends inside the
    /// first word of a line cannot tell `nan` (the body) from `nancy` (an unknown keyword):
    /// it asks for more instead of deciding.
    #[test]
    fn r5_prefix_ending_inside_a_first_word_asks_for_more() {
        for tail in ["nan", "nu", "in"] {
            let prefix = format!("{ESRI}{tail}");
            assert_eq!(
                parse_header(prefix.as_bytes(), false),
                Ok(HeaderParse::NeedMore),
                "{tail}"
            );
        }
    }
}
