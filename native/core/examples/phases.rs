//! Time the phases of one read: `cargo run --release --example phases -- FILE`.
use std::time::Instant;

use asciigrid_core::{body, header, source, Control, Input};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: phases FILE")?;
    for _ in 0..3 {
        let c = Control::new();
        let t = Instant::now();
        let text = source::load(Input::Path(path.as_ref()), &path)?;
        let t_load = t.elapsed();
        let h = header::parse_header(&text, true).map_err(|e| format!("{e:?}"))?;
        let t = Instant::now();
        let survey =
            body::survey(&text, h.body_offset..text.len(), &c).map_err(|e| format!("{e:?}"))?;
        let t_survey = t.elapsed();
        let t = Instant::now();
        let mut out = vec![0f32; h.ncols * h.nrows];
        let n = body::fill(&text, &survey, &mut out, &c).map_err(|e| format!("{e:?}"))?;
        let t_fill = t.elapsed();
        println!(
            "load {t_load:?} survey {t_survey:?} fill {t_fill:?} ({n} values, {} chunks)",
            survey.chunks.len()
        );
    }
    Ok(())
}
