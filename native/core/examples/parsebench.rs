//! Parse speed of one thread, without I/O: `cargo run --release --example parsebench -- FILE`.
//! Parses the first 32 MiB of the body into f32 cells, best of 15 runs.
use std::time::Instant;

use asciigrid_core::body::{parse_chunk, Nulls, SliceSink};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: parsebench FILE")?;
    let text = std::fs::read(&path)?;
    let header = asciigrid_core::header::parse_header(&text, true).map_err(|e| format!("{e:?}"))?;
    let start = header.body_offset;
    let end = (start + (32 << 20)).min(text.len());
    let nulls = Nulls::of(&header, asciigrid_core::DataType::Float32);
    let mut out = vec![0f32; end - start];
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..15 {
        let t = Instant::now();
        let mut sink = SliceSink::new(&mut out);
        parse_chunk::<f32, _>(&text, start..end, 0, &nulls, &mut sink)
            .map_err(|e| format!("{e:?}"))?;
        best = best.min(t.elapsed().as_secs_f64());
        n = sink.written();
    }
    let sum: f64 = out[..n].iter().map(|&v| f64::from(v)).sum();
    println!(
        "{n} values, best {:.2} ms, {:.2} ns/value, {:.0} MB/s (checksum {sum})",
        best * 1e3,
        best * 1e9 / n as f64,
        (end - start) as f64 / best / 1e6
    );
    Ok(())
}
