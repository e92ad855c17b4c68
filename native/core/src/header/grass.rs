//! The GRASS ASCII grid header (`north: 250` ...; GDAL's GRASSASCIIGrid driver): the same
//! strictness as the ESRI header, and GDAL's geotransform `(west, (east-west)/cols, 0,
//! north, 0, -(north-south)/rows)`.

use super::{
    bad, check_extent, dimension, number, unknown_keyword, Dialect, Header, HeaderParse, Key,
    Lines, Nodata, Origin, Seen, Step, GRASS_NULL, KEYWORDS,
};
use crate::error::{show_token, ErrorKind, Located};
use crate::scan::is_space;
use crate::value::{token_end, DataType};

/// Whether the text starts like a GRASS ASCII grid: its first token is a GRASS keyword
/// followed by a colon.
pub(super) fn is_grass(text: &[u8]) -> bool {
    let start = text
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(text.len());
    let token = &text[start..token_end(text, start)];
    KEYWORDS.iter().any(|(k, d, _)| {
        *d == Dialect::Grass
            && token.len() > k.len()
            && token[..k.len()].eq_ignore_ascii_case(k.as_bytes())
            && token[k.len()] == b':'
    })
}

/// Parse a GRASS header at the start of `text` (see [`super::parse_header`]).
pub(super) fn parse(text: &[u8], complete: bool) -> Result<HeaderParse, Located> {
    let mut seen = Seen::new();
    let mut lines = Lines::new(text, complete);
    loop {
        let line = match lines.next()? {
            Step::Line(line) => line,
            Step::Body => break,
            Step::NeedMore => return Ok(HeaderParse::NeedMore),
        };
        // Without its end, a line may not have its colon (or all of its value) yet.
        if line.cut {
            return Ok(HeaderParse::NeedMore);
        }
        let (text, pos) = (line.text, line.start);
        let colon = text.iter().position(|&b| b == b':').ok_or_else(|| {
            bad(
                pos,
                ErrorKind::HeaderSyntax,
                "a GRASS header line must read 'keyword: value'",
            )
        })?;
        let name = text[..colon].trim_ascii();
        let Some(key) = Key::find(Dialect::Grass, name) else {
            return Err(unknown_keyword(Dialect::Grass, &text[..colon], pos));
        };
        seen.check_new(key, pos)?;
        let after = colon + 1;
        let value_start = after
            + text[after..]
                .iter()
                .position(|&b| !is_space(b))
                .unwrap_or(text.len() - after);
        let value_end = token_end(text, value_start);
        let value = &text[value_start..value_end];
        if value.is_empty() {
            return Err(bad(
                pos + colon,
                ErrorKind::HeaderValueMissing,
                format!("header keyword '{}' has no value", key.name()),
            ));
        }
        if let Some(extra) = text[value_end..].iter().position(|&b| !is_space(b)) {
            return Err(bad(
                pos + value_end + extra,
                ErrorKind::HeaderSyntax,
                format!("unexpected text after the value of '{}'", key.name()),
            ));
        }
        let v = match key {
            Key::Type => 0.0,
            Key::Null if value == b"null" => f64::NAN,
            // `*` is GRASS's default null marker: the same as no `null:` line.
            Key::Null if value == b"*" => GRASS_NULL,
            _ => number(key, value, pos + value_start)?,
        };
        seen.set(key, (v, pos + value_start, value));
    }
    resolve(&seen, lines.pos, lines.count).map(HeaderParse::Complete)
}

/// The header the keywords `seen` make, the body starting at `body_offset` after `lines`
/// lines.
fn resolve(seen: &Seen<'_>, body_offset: usize, lines: usize) -> Result<Header, Located> {
    let need = |k: Key| {
        seen.get(k).ok_or_else(|| {
            bad(
                body_offset,
                ErrorKind::HeaderKeywordMissing,
                format!("the GRASS header has no '{}:' line", k.name()),
            )
        })
    };
    let (north, south) = (need(Key::North)?, need(Key::South)?);
    let (east, west) = (need(Key::East)?, need(Key::West)?);
    let nrows = dimension(Key::Rows, need(Key::Rows)?, false)?;
    let ncols = dimension(Key::Cols, need(Key::Cols)?, false)?;
    let invalid = |at: usize, message: String| bad(at, ErrorKind::HeaderValueInvalid, message);
    for (v, at, raw) in [north, south, east, west] {
        if !v.is_finite() {
            return Err(invalid(
                at,
                format!("bounds must be finite, found '{}'", show_token(raw)),
            ));
        }
    }
    if north.0 <= south.0 {
        return Err(invalid(
            north.1,
            "'north' must be greater than 'south'".into(),
        ));
    }
    if east.0 <= west.0 {
        return Err(invalid(east.1, "'east' must be greater than 'west'".into()));
    }
    let declared_type = match seen.get(Key::Type) {
        None => None,
        Some((_, at, raw)) => Some(match raw.to_ascii_lowercase().as_slice() {
            b"int" => DataType::Int32,
            b"float" => DataType::Float32,
            b"double" => DataType::Float64,
            _ => {
                return Err(invalid(
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
    let nodata = match seen.get(Key::Null) {
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
    use super::super::tests::{err, ok};
    use super::super::{DataType, GRASS_NULL};
    use crate::error::ErrorKind;

    const GRASS: &str = "north: 1\nsouth: 0\neast: 1\nwest: 0\nrows: 1\ncols: 1\n";

    #[test]
    fn grass_header() {
        let h = ok("north: 250.000000\nsouth: 0.000000\neast: 150.000000\nwest: -100.000000\nrows: 6\ncols: 4\n-9999 1\n");
        assert_eq!(
            h.geotransform(),
            [-100.0, 62.5, 0.0, 250.0, 0.0, -41.666666666666664]
        );
        assert_eq!((h.ncols, h.nrows, h.header_lines), (4, 6, 6));
        let h = ok(&format!("{GRASS}type: double\nnull: -1\n1\n"));
        assert_eq!(h.nodata_data_type(), Some(DataType::Float64));
    }

    /// Each rule, with its kind.
    #[test]
    fn grass_errors() {
        let cases = [
            (
                GRASS.replace("south: 0", "south: 2"),
                ErrorKind::HeaderValueInvalid,
            ),
            (
                GRASS.replace("west: 0", "west: 5"),
                ErrorKind::HeaderValueInvalid,
            ),
            (
                GRASS.replace("rows: 1", "rows: 1.5"),
                ErrorKind::HeaderValueInvalid,
            ),
            (
                GRASS.replace("rows: 1", "rows: +1"),
                ErrorKind::HeaderValueInvalid,
            ),
            (
                GRASS.replace("north: 1", "north: inf"),
                ErrorKind::HeaderValueInvalid,
            ),
            (
                GRASS.replace("east: 1", "east: x"),
                ErrorKind::HeaderValueNotANumber,
            ),
            (
                GRASS.replace("rows: 1\n", ""),
                ErrorKind::HeaderKeywordMissing,
            ),
            (
                GRASS.replace("cols: 1", "cols:"),
                ErrorKind::HeaderValueMissing,
            ),
            (GRASS.replace("cols: 1", "cols 1"), ErrorKind::HeaderSyntax),
            (
                format!("{GRASS}type: long\n"),
                ErrorKind::HeaderValueInvalid,
            ),
        ];
        for (text, kind) in cases {
            let e = err(&format!("{text}1\n"));
            assert_eq!(e.kind, kind, "{text:?}: {}", e.message);
        }
    }

    #[test]
    fn grass_nodata_is_the_null_line_or_the_reserved_value_of_star_cells() {
        for null in ["", "null: *\n"] {
            let h = ok(&format!("{GRASS}{null}1\n"));
            let nd = h.nodata.clone().expect("always set");
            assert!(nd.reserved && h.star_nulls, "{null:?}");
            // It decides no type, and every type holds it as it is.
            assert_eq!(h.nodata_data_type(), None);
            for t in [DataType::Int32, DataType::Float32, DataType::Float64] {
                assert_eq!(h.nodata_for(t), Some(GRASS_NULL));
            }
        }
        let h = ok(&format!("{GRASS}null: -9999\n1\n"));
        assert_eq!(
            h.nodata.map(|n| (n.value, n.reserved)),
            Some((-9999.0, false))
        );
        let esri = ok("ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1\n");
        assert!(!esri.star_nulls && esri.nodata.is_none());
    }
}
