//! The header parser on arbitrary bytes: never panics, every result is valid, errors point
//! inside the text, and parsing a prefix (as streaming readers do, 64 KiB at a time) either
//! asks for more or gives exactly what the whole text gives.
#![no_main]

use asciigrid_core::internals::{is_space, parse_header, parse_whole_header, HeaderParse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = parse_whole_header(data);
    match &whole {
        Ok(h) => {
            assert!(h.ncols >= 1 && h.ncols <= i32::MAX as usize);
            assert!(h.nrows >= 1 && h.nrows <= i32::MAX as usize);
            assert!(h.dx.is_finite() && h.dx > 0.0, "dx {}", h.dx);
            assert!(h.dy.is_finite() && h.dy > 0.0, "dy {}", h.dy);
            assert!(h.x_origin.is_finite() && h.y_origin.is_finite());
            assert!(h.body_offset <= data.len());
            assert!(
                h.body_offset == data.len() || matches!(data[h.body_offset - 1], b'\n' | b'\r'),
                "the body starts at the start of a line"
            );
            // Lines end in LF, CRLF or a lone CR.
            let ends = data[..h.body_offset]
                .iter()
                .filter(|&&b| b == b'\n' || b == b'\r')
                .count();
            assert!(h.header_lines <= ends + 1);
            let _ = h.geotransform();
            let _ = h.nodata_data_type();
            for t in [
                asciigrid_core::DataType::Int32,
                asciigrid_core::DataType::Float32,
                asciigrid_core::DataType::Float64,
            ] {
                let _ = h.nodata_for(t);
            }
        }
        Err(e) => {
            assert!(e.offset as usize <= data.len(), "error offset past the end");
            let p = e.clone().locate("fuzz.asc", data);
            assert!(p.line >= 1 && p.column >= 1);
            assert!(!p.message.is_empty());
            assert!(
                p.kind != asciigrid_core::ErrorKind::HeaderIncomplete,
                "the whole text never asks for more"
            );
        }
    }
    // Streaming readers parse prefixes and trust any answer but NeedMore. (They read 64 KiB
    // or to the end before the first parse, so prefixes shorter than a byte order mark are
    // never given.)
    let step = (data.len() / 16).max(1);
    let mut cut = 3;
    while cut <= data.len() {
        // Known and harmless (see ROBUSTNESS.md): a prefix that ends inside the first word of
        // a line cannot tell `nan` (body) from `nancy` (a bad keyword), nor `no` from `north:`; a real reader only
        // cuts there with 64 KiB of header before it, which no real header has.
        let line_start = data[..cut]
            .iter()
            .rposition(|&b| b == b'\n' || b == b'\r')
            .map_or(0, |p| p + 1);
        let blank = |b: &u8| is_space(*b);
        let line = &data[line_start..cut];
        let word_start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
        let in_first_word = !line[word_start..].iter().any(blank);
        let prefix = match parse_header(&data[..cut], false) {
            Ok(HeaderParse::NeedMore) => None,
            Ok(HeaderParse::Complete(h)) => Some(Ok(h)),
            Err(e) => Some(Err(e)),
        };
        match prefix {
            None => {}
            _ if in_first_word && cut < data.len() => {}
            // (Debug text, so that a NaN nodata equals itself.)
            Some(prefix) => assert_eq!(
                format!("{prefix:?}"),
                format!("{whole:?}"),
                "prefix of {cut} bytes disagrees"
            ),
        }
        cut += step;
    }
});
