//! Parse speed of one thread, without I/O:
//! `cargo run --release --features internals --example parsebench -- FILE [f32|f64|i32]`.
//! Parses the first 32 MiB of the body into cells of that type (f32 by default), best of 15
//! runs.
use std::time::Instant;

use asciigrid_core::internals::{parse_chunk, parse_whole_header, Nulls, SliceSink};
use asciigrid_core::{DataType, Value};

fn bench<T: Value>(text: &[u8], start: usize, end: usize, nulls: &Nulls) -> Result<(), String> {
    let mut out = vec![T::default(); end - start];
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..15 {
        let t = Instant::now();
        let mut sink = SliceSink::new(&mut out);
        parse_chunk::<T, _>(text, start..end, 0, nulls, &mut sink).map_err(|e| format!("{e:?}"))?;
        best = best.min(t.elapsed().as_secs_f64());
        n = sink.written();
    }
    let sum: f64 = out[..n].iter().map(|&v| v.to_f64()).sum();
    println!(
        "{n} values, best {:.2} ms, {:.2} ns/value, {:.0} MB/s (checksum {sum})",
        best * 1e3,
        best * 1e9 / n as f64,
        (end - start) as f64 / best / 1e6
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: parsebench FILE [f32|f64|i32]")?;
    let text = std::fs::read(&path)?;
    let header = parse_whole_header(&text).map_err(|e| format!("{e:?}"))?;
    let start = header.body_offset;
    let end = (start + (32 << 20)).min(text.len());
    let nulls = |t| Nulls::of(&header, t);
    match args.next().as_deref().unwrap_or("f32") {
        "f32" => bench::<f32>(&text, start, end, &nulls(DataType::Float32))?,
        "f64" => bench::<f64>(&text, start, end, &nulls(DataType::Float64))?,
        "i32" => bench::<i32>(&text, start, end, &nulls(DataType::Int32))?,
        other => return Err(format!("unknown type {other}: f32, f64 or i32").into()),
    }
    Ok(())
}
