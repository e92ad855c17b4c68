//! The body parser on arbitrary bytes, for each cell type: the parallel chunked parse (any
//! chunk size) gives exactly what one sequential pass gives, every value equals what the
//! general number parser says its token is, and token counts match a naive count.
#![no_main]

use asciigrid_core::internals::{
    after_token, count_tokens, f64_to_f32_clamped, fill, fixed_chunks, is_space, parse_chunk,
    parse_f64, InMemory, Nulls, Sink, Stop, Survey,
};
use asciigrid_core::{Control, Value};
use libfuzzer_sys::fuzz_target;

struct VecSink<T>(Vec<T>);

impl<T> Sink<T> for VecSink<T> {
    fn push(&mut self, value: T) -> bool {
        self.0.push(value);
        true
    }
}

/// Each value, as exact bits (NaNs all alike).
fn bits<T: Value>(v: T) -> u64 {
    let x = v.to_f64();
    if x.is_nan() {
        u64::MAX
    } else {
        x.to_bits()
    }
}

/// What `token` must read as in type `T`, from the general parser.
fn expected<T: Value>(token: &[u8]) -> Option<f64> {
    match T::DATA_TYPE {
        asciigrid_core::DataType::Int32 => {
            let s = std::str::from_utf8(token).ok()?;
            // One sign at most (Rust's parse would take the `+` of `++80` as the sign).
            let s = s.strip_prefix('+').unwrap_or(s);
            if s.starts_with('+') || (token.first() == Some(&b'+') && s.starts_with('-')) {
                return None;
            }
            let v: i64 = s.parse().ok()?;
            i32::try_from(v).ok().map(f64::from)
        }
        asciigrid_core::DataType::Float32 => {
            if token == b"null" {
                return Some(-f64::from(f32::MAX));
            }
            parse_f64(token).map(|v| f64::from(f64_to_f32_clamped(v)))
        }
        asciigrid_core::DataType::Float64 => {
            if token == b"null" {
                return Some(-f64::MAX);
            }
            parse_f64(token)
        }
    }
}

fn check<T: Value>(text: &[u8], chunk: usize) {
    // Reference: one sequential pass.
    let mut seq = VecSink(Vec::new());
    let reference = parse_chunk::<T, _>(text, 0..text.len(), 0, &Nulls::default(), &mut seq);

    // Every value equals its token as the general parser reads it.
    let tokens: Vec<(usize, &[u8])> = {
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            while i < text.len() && is_space(text[i]) {
                i += 1;
            }
            let start = i;
            while i < text.len() && !is_space(text[i]) {
                i += 1;
            }
            if i > start {
                out.push((start, &text[start..i]));
            }
        }
        out
    };
    for (v, (_, token)) in seq.0.iter().zip(&tokens) {
        let want = expected::<T>(token)
            .unwrap_or_else(|| panic!("accepted {:?}", String::from_utf8_lossy(token)));
        let want_bits = if want.is_nan() {
            u64::MAX
        } else {
            want.to_bits()
        };
        assert_eq!(
            bits(*v),
            want_bits,
            "token {:?}",
            String::from_utf8_lossy(token)
        );
    }
    match &reference {
        Ok(()) => assert_eq!(seq.0.len(), tokens.len()),
        Err(Stop::Bad(e)) => {
            // The error is at the first token that is not a value.
            assert_eq!(e.offset as usize, tokens[seq.0.len()].0);
            assert!(expected::<T>(tokens[seq.0.len()].1).is_none());
        }
        Err(other) => panic!("unexpected {other:?}"),
    }

    // The two-pass parallel parse with small chunks agrees, for a grid of exactly the
    // values read, and for one a value smaller.
    let chunks = fixed_chunks(0..text.len(), chunk);
    let counts = chunks
        .iter()
        .map(|r| count_tokens(&text[r.clone()], after_token(text, r.start)))
        .collect();
    let survey = Survey { chunks, counts };
    let naive = text
        .split(|&b| is_space(b))
        .filter(|t| !t.is_empty())
        .count() as u64;
    assert_eq!(survey.tokens(), naive);
    let marker = text.iter().any(|b| matches!(b, b'.' | b',' | b'e' | b'E'));
    assert_eq!(survey.float_marker(), marker);

    let n = seq.0.len();
    let cells = if reference.is_ok() { n } else { n + 1 };
    let mut out = vec![T::default(); cells];
    let got = fill(
        &InMemory::new(text),
        &survey,
        &Nulls::default(),
        None,
        &mut out,
        &Control::new(),
    );
    match &reference {
        Ok(()) => {
            assert_eq!(got, Ok(n));
            assert!(out.iter().zip(&seq.0).all(|(a, b)| bits(*a) == bits(*b)));
        }
        Err(e) => assert_eq!(got.as_ref().err(), Some(e)),
    }
    if n > 0 {
        let mut short = vec![T::default(); n - 1];
        let got = fill(
            &InMemory::new(text),
            &survey,
            &Nulls::default(),
            None,
            &mut short,
            &Control::new(),
        );
        let extra_at = tokens[n - 1].0 as u64;
        match got {
            Err(Stop::Extra(at)) => assert_eq!(at, extra_at),
            Err(Stop::Bad(e)) => assert!(reference.is_err() && e.offset > extra_at),
            other => panic!("expected a value left over, got {other:?}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let chunk = 1 + usize::from(selector >> 2);
    match selector & 3 {
        0 => check::<i32>(text, chunk),
        1 => check::<f32>(text, chunk),
        _ => check::<f64>(text, chunk),
    }
});
