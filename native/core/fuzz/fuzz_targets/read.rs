//! The whole read, on arbitrary bytes, through every way in: plain bytes, the same text
//! gzipped, the same text as a zip member (stored and deflated), raw bytes taken as a gzip
//! stream or a zip archive, read_header, and streaming statistics. Nothing panics, and every
//! way in gives the same grid or the same located error.
#![no_main]

use std::io::Write;

use asciigrid_core::{
    archive_members, read, read_header, read_member, summarize, Control, DataType, Error, Grid,
    Input,
};
use libfuzzer_sys::fuzz_target;

#[path = "../common/selector.rs"]
mod selector;

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text).unwrap();
    enc.finish().unwrap()
}

fn zip_of(text: &[u8], deflate: bool) -> Vec<u8> {
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("m.asc", options).unwrap();
    w.write_all(text).unwrap();
    w.finish().unwrap().into_inner()
}

fn same_grid(a: &Grid, b: &Grid) -> bool {
    // Debug text compares NaNs as equal, and everything else exactly.
    format!("{a:?}") == format!("{b:?}")
}

/// `other` (the same text reached another way) must give what `plain` gave.
fn agree(plain: &Result<Grid, Error>, other: &Result<Grid, Error>, how: &str) {
    match (plain, other) {
        (Ok(a), Ok(b)) => assert!(same_grid(a, b), "{how}: different grids"),
        (Err(Error::Parse(a)), Err(Error::Parse(b))) => {
            // A compressed text stops at the first value past the grid, so its data type is
            // chosen from the text up to there (a float marker further on is not seen): an
            // earlier error may show instead, or the same token refused as an integer.
            let typed = |m: &str| m.contains("integer") || m.contains("Int32");
            if a.message.starts_with("more values than") {
                assert!(
                    (b.line, b.column) <= (a.line, a.column),
                    "{how}: {a} vs {b}"
                );
            } else if (b.line, b.column) <= (a.line, a.column) && typed(&b.message) {
            } else if a.message.starts_with("the header promises")
                && b.message.starts_with("the header promises")
            {
                // Too few bytes for the header's values: plain text counts what follows the
                // header, compressed text what its compressed size can hold, at the same place.
                assert_eq!((a.line, a.column), (b.line, b.column), "{how}: {a} vs {b}");
            } else {
                assert_eq!(
                    (a.line, a.column, &a.message),
                    (b.line, b.column, &b.message),
                    "{how}"
                );
            }
        }
        (Err(Error::Invalid(a)), Err(Error::Invalid(b))) => {
            assert_eq!(a.split(": ").nth(1), b.split(": ").nth(1), "{how}")
        }
        (a, b) => panic!("{how}: {a:?} vs {b:?}"),
    }
}

fn check_stats(text: &[u8], dtype: Option<DataType>, plain: &Result<Grid, Error>) {
    let got = summarize(Input::Bytes(text), "fuzz.asc", dtype, None, &Control::new());
    match (plain, &got) {
        (Ok(g), Ok(s)) => {
            assert_eq!(s.count + s.nodata_count, g.header.cells());
            assert_eq!(s.data_type, Some(g.data.data_type()));
        }
        // read refuses a body too short for the header before parsing it (an early,
        // allocation-free check); stats streams on and finds the end or a bad value first.
        (Err(Error::Parse(a)), Err(Error::Parse(_)))
            if a.message.starts_with("the header promises") => {}
        (Err(Error::Parse(a)), Err(Error::Parse(b))) => {
            assert_eq!((a.line, a.column), (b.line, b.column), "stats: {a} vs {b}")
        }
        (Err(Error::Invalid(_)), _) => {}
        (a, b) => panic!("stats: {a:?} vs {b:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let dtype = selector::data_type(selector);
    let c = Control::new();
    let plain = read(Input::Bytes(text), "fuzz.asc", dtype, &c);
    if let Err(e) = &plain {
        assert!(
            !matches!(e, Error::Mosaic { .. } | Error::Cancelled),
            "{e:?}"
        );
        if let Error::Parse(p) = e {
            assert!(p.line >= 1 && p.column >= 1 && !p.message.is_empty());
        }
    }
    if let Ok(g) = &plain {
        assert_eq!(g.data.len() as u64, g.header.cells());
    }
    // The header alone agrees with the whole read.
    match (read_header(Input::Bytes(text), "fuzz.asc"), &plain) {
        (Ok(h), Ok(g)) => assert_eq!(format!("{h:?}"), format!("{:?}", g.header)),
        // (Corrupt compressed data too: every reader cuts its reads alike, R17.)
        (Err(Error::Parse(a)), Err(Error::Parse(b))) => assert_eq!(&a, b),
        (Err(e), _) if !matches!(e, Error::Parse(_)) => panic!("read_header: {e:?}"),
        (Err(_), Ok(_)) => panic!("read_header fails on a grid that reads"),
        (Ok(_), Err(_)) => {}
        (Err(_), Err(_)) => {}
    }
    let gz_stream = text.starts_with(&[0x1f, 0x8b]);
    if !gz_stream {
        if selector & 4 == 0 {
            check_stats(text, dtype, &plain);
        }
        let packed = gzip(text);
        agree(
            &plain,
            &read(Input::Bytes(&packed), "fuzz.asc", dtype, &c),
            "gzip",
        );
        if selector & 8 != 0 {
            let z = zip_of(text, selector & 16 != 0);
            let members = archive_members(Input::Bytes(&z), "z.zip").unwrap();
            assert_eq!(members.len(), 1);
            let got = read_member(Input::Bytes(&z), "z.zip", members[0].index, dtype, &c);
            let relabel = |r: Result<Grid, Error>| match r {
                Err(Error::Parse(mut p)) => {
                    assert_eq!(p.path, "z.zip/m.asc");
                    p.path = "fuzz.asc".into();
                    Err(Error::Parse(p))
                }
                Err(Error::Invalid(m)) => Err(Error::Invalid(m.replace("z.zip/m.asc", "fuzz.asc"))),
                other => other,
            };
            agree(&plain, &relabel(got), "zip");
        }
    }
    // Raw bytes as an archive: whatever happens, no panic; each member reads or fails cleanly.
    // Only what starts like a zip (a local file header, or an empty archive's end record).
    if text.starts_with(b"PK\x03\x04") || text.starts_with(b"PK\x05\x06") {
        if let Ok(members) = archive_members(Input::Bytes(text), "raw.zip") {
            for m in members.iter().take(4) {
                let _ = read_member(Input::Bytes(text), "raw.zip", m.index, dtype, &c);
            }
        }
    }
});
