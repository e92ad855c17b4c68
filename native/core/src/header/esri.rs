//! The ESRI ASCII grid header (`ncols 4` ...; GDAL's AAIGrid driver): each line parsed with
//! nom into keyword, value and anything after it.

use nom::bytes::complete::{take_till1, take_while, take_while1};
use nom::{IResult, Parser};

use super::{
    bad, check_extent, dimension, number, unknown_keyword, Dialect, Header, HeaderParse, Key,
    Lines, Nodata, Origin, Seen, Step, Value,
};
use crate::error::{ErrorKind, Located};
use crate::scan::is_space;
use crate::value::token_end;

/// One `keyword value` line as nom splits it; offsets are into the line.
struct Parts<'a> {
    key: &'a [u8],
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

/// Split one line (without its line end) into its parts.
fn split(line: &[u8]) -> Parts<'_> {
    let at = |rest: &[u8]| line.len() - rest.len();
    let (rest, mut key) = keyword(line).unwrap_or((line, &line[..0]));
    // `yllcorner-10`: a keyword must be followed by a separator, else the whole token is
    // the (unknown) keyword.
    if rest.first().is_some_and(|&b| !is_space(b)) {
        key = &line[..token_end(line, 0)];
    }
    let (rest, _) = blanks(rest).unwrap_or((rest, &rest[..0]));
    let (rest, value) = match word(rest) {
        Ok((r, v)) => (r, Some((v, at(rest)))),
        Err(_) => (rest, None),
    };
    let (rest, _) = blanks(rest).unwrap_or((rest, &rest[..0]));
    Parts {
        key,
        value,
        extra_at: (!rest.is_empty()).then(|| at(rest)),
    }
}

/// Parse an ESRI header at the start of `text` (see [`super::parse_header`]).
pub(super) fn parse(text: &[u8], complete: bool) -> Result<HeaderParse, Located> {
    let mut seen = Seen::new();
    let mut lines = Lines::new(text, complete);
    loop {
        let line = match lines.next()? {
            Step::Line(line) => line,
            Step::Body => break,
            Step::NeedMore => return Ok(HeaderParse::NeedMore),
        };
        let parts = split(line.text);
        let key_at = line.start;
        let Some(key) = Key::find(Dialect::Esri, parts.key) else {
            let token = &line.text[..token_end(line.text, 0)];
            return Err(unknown_keyword(Dialect::Esri, token, key_at));
        };
        seen.check_new(key, key_at)?;
        // Text after a value is wrong whatever follows, so a prefix may already say so;
        // anything else on a line cut by the end of a prefix needs the rest of the line.
        if let Some(extra_at) = parts.extra_at {
            return Err(bad(
                key_at + extra_at,
                ErrorKind::HeaderSyntax,
                format!("unexpected text after the value of '{}'", key.name()),
            ));
        }
        if line.cut {
            return Ok(HeaderParse::NeedMore);
        }
        let Some((value, value_at)) = parts.value else {
            return Err(bad(
                key_at + parts.key.len(),
                ErrorKind::HeaderValueMissing,
                format!("header keyword '{}' has no value", key.name()),
            ));
        };
        let value_at = key_at + value_at;
        let v = if key == Key::Nodata && value == b"null" {
            f64::NAN
        } else {
            number(key, value, value_at)?
        };
        seen.set(key, (v, value_at, value));
    }
    resolve(&seen, lines.pos, lines.count).map(HeaderParse::Complete)
}

/// The header the keywords `seen` make, the body starting at `body_offset` after `lines`
/// lines.
fn resolve(seen: &Seen<'_>, body_offset: usize, lines: usize) -> Result<Header, Located> {
    let end_at = body_offset;
    let get = |k: Key| seen.get(k);
    let missing = |message: String| bad(end_at, ErrorKind::HeaderKeywordMissing, message);
    let dim = |k: Key| -> Result<usize, Located> {
        let v = get(k).ok_or_else(|| {
            missing(format!(
                "the header has no '{}' line (it must come before the values)",
                k.name()
            ))
        })?;
        dimension(k, v, true)
    };
    let ncols = dim(Key::Ncols)?;
    let nrows = dim(Key::Nrows)?;

    // A number the keyword requires to be `what`: `ok` says whether it is.
    let checked = |k: Key, ok: fn(f64) -> bool, what: &str| -> Result<f64, Located> {
        let (v, at, raw) = get(k).ok_or_else(|| missing(format!("missing '{}'", k.name())))?;
        if ok(v) {
            Ok(v)
        } else {
            Err(bad(
                at,
                ErrorKind::HeaderValueInvalid,
                format!(
                    "'{}' must be {what}, found '{}'",
                    k.name(),
                    crate::error::show_token(raw)
                ),
            ))
        }
    };
    let positive = |k: Key| checked(k, |v| v.is_finite() && v > 0.0, "a positive, finite number");
    let finite = |k: Key| checked(k, f64::is_finite, "a finite number");
    let conflict = |at: usize, message: &str| bad(at, ErrorKind::HeaderKeywordConflict, message);
    let half = |at: usize, message: &str| bad(at, ErrorKind::HeaderKeywordMissing, message);
    let (mut dx, mut dy) = match (get(Key::Cellsize), get(Key::Dx), get(Key::Dy)) {
        (Some(_), None, None) => {
            let c = positive(Key::Cellsize)?;
            (c, c)
        }
        (None, Some(_), Some(_)) => (positive(Key::Dx)?, positive(Key::Dy)?),
        (Some(_), Some((_, at, _)), _) | (Some(_), None, Some((_, at, _))) => {
            return Err(conflict(
                at,
                "give either 'cellsize' or 'dx' and 'dy', not both",
            ))
        }
        (None, Some((_, at, _)), None) => {
            return Err(half(at, "'dx' without 'dy': give both, or 'cellsize'"))
        }
        (None, None, Some((_, at, _))) => {
            return Err(half(at, "'dy' without 'dx': give both, or 'cellsize'"))
        }
        (None, None, None) => {
            return Err(missing(
                "the header has no 'cellsize' (nor 'dx' and 'dy') line".into(),
            ))
        }
    };

    let corner = (get(Key::XllCorner), get(Key::YllCorner));
    let center = (get(Key::XllCenter), get(Key::YllCenter));
    let first_at = |pair: (Option<Value<'_>>, Option<Value<'_>>)| {
        pair.0.or(pair.1).map_or(end_at, |(_, at, _)| at)
    };
    let (origin, x_origin, y_origin) = match (corner, center) {
        ((Some(_), Some(_)), (None, None)) => (
            Origin::Corner,
            finite(Key::XllCorner)?,
            finite(Key::YllCorner)?,
        ),
        ((None, None), (Some(_), Some(_))) => (
            Origin::Center,
            finite(Key::XllCenter)?,
            finite(Key::YllCenter)?,
        ),
        ((None, None), (None, None)) => {
            return Err(missing(
                "the header has no origin: give 'xllcorner' and 'yllcorner' (or 'xllcenter' \
                 and 'yllcenter')"
                    .into(),
            ))
        }
        (c, m) if (c.0.is_some() || c.1.is_some()) && (m.0.is_some() || m.1.is_some()) => {
            return Err(conflict(
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
                        Key::YllCorner
                    } else {
                        Key::XllCorner
                    },
                )
            } else {
                (
                    m,
                    if m.0.is_some() {
                        Key::YllCenter
                    } else {
                        Key::XllCenter
                    },
                )
            };
            return Err(half(
                first_at(present),
                &format!("half an origin: '{}' is missing", missing.name()),
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

#[cfg(test)]
mod tests {
    use super::super::tests::{err, ok};
    use super::super::{DataType, Origin};
    use crate::error::ErrorKind;

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
        assert_eq!(h.origin, Origin::Center);
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

    /// Every header GDAL takes and this reader refuses (docs/FORMAT.md, "stricter than GDAL"), one
    /// test each so that one broken rule never hides another: `name: text, its kind, where
    /// the error must point (if pinned), a fragment its message must hold (if pinned);`.
    macro_rules! refused {
        ($($name:ident: $text:expr, $kind:expr, $offset:expr, $fragment:expr;)+) => {
            $(
                #[test]
                fn $name() {
                    let e = err(&$text);
                    let offset: Option<usize> = $offset;
                    let fragment: Option<&str> = $fragment;
                    assert_eq!(e.kind, $kind, "{}", e.message);
                    if let Some(offset) = offset {
                        assert_eq!(e.offset, offset as u64, "{}", e.message);
                    }
                    if let Some(fragment) = fragment {
                        assert!(e.message.contains(fragment), "{}", e.message);
                    }
                }
            )+
        };
    }

    mod stricter_than_gdal {
        use super::{err, ErrorKind};

        const BASE: &str = "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n";

        fn cellsize(value: &str) -> String {
            BASE.replace("cellsize 1", &format!("cellsize {value}")) + "1 2\n"
        }

        refused! {
            ncols_not_whole: "ncols 5.7\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1\n",
                ErrorKind::HeaderValueInvalid, Some(6), Some("whole number");
            half_origin: "ncols 2\nnrows 1\nxllcorner 0\ncellsize 1\n1 2\n",
                ErrorKind::HeaderKeywordMissing, None, Some("yllcorner");
            mixed_origin: "ncols 2\nnrows 1\nxllcorner 0\nyllcenter 0\ncellsize 1\n1 2\n",
                ErrorKind::HeaderKeywordConflict, None, Some("mixes");
            cellsize_zero: cellsize("0"), ErrorKind::HeaderValueInvalid, Some(49), None;
            cellsize_negative: cellsize("-1"),
                ErrorKind::HeaderValueInvalid, Some(49), Some("positive");
            cellsize_infinite: cellsize("inf"),
                ErrorKind::HeaderValueInvalid, Some(49), Some("finite");
            cellsize_beyond_double: cellsize("1e400"),
                ErrorKind::HeaderValueNotANumber, Some(49), None;
            cellsize_not_a_number: cellsize("abc"),
                ErrorKind::HeaderValueNotANumber, Some(49), None;
            keyword_twice: format!("{BASE}ncols 2\n1 2\n"),
                ErrorKind::HeaderKeywordDuplicate, Some(BASE.len()), Some("twice");
            unknown_keyword: format!("{BASE}bogus 2\n1 2\n"),
                ErrorKind::HeaderKeywordUnknown, Some(BASE.len()), Some("unknown");
            nodata_without_value: format!("{BASE}nodata_value\n1 2\n"),
                ErrorKind::HeaderValueMissing, Some(BASE.len() + 12), Some("no value");
            text_after_nodata: format!("{BASE}nodata_value -9999 x\n1 2\n"),
                ErrorKind::HeaderSyntax, Some(BASE.len() + 19), Some("after the value");
            no_cellsize: "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\n1 2\n",
                ErrorKind::HeaderKeywordMissing, None, Some("cellsize");
            cellsize_and_dx: format!("{BASE}dx 1\n1 2\n"),
                ErrorKind::HeaderKeywordConflict, Some(BASE.len() + 3), Some("not both");
            dx_without_dy: "ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ndx 1\n1 2\n",
                ErrorKind::HeaderKeywordMissing, None, None;
            keyword_glued_to_value: "ncols 1\nnrows 1\nxllcorner 0\nyllcorner-10\ncellsize 1\n1\n",
                ErrorKind::HeaderKeywordUnknown, Some(28), Some("yllcorner-10");
            extent_overflows: "ncols 1\nnrows 1\nxllcorner 1e308\nyllcorner 0\ncellsize 1e308\n1\n",
                ErrorKind::HeaderValueInvalid, Some(26), None;
        }
    }
}
