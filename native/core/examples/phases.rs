//! Time the phases of one read:
//! `cargo run --release --features internals --example phases -- FILE [--read]`.
//! With `--read`, one whole read only, as a fresh process sees it.
use std::time::Instant;

use asciigrid_core::internals::{fill, Nulls, Opened, WindowedFile};
use asciigrid_core::{Control, Input};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: phases FILE [--read]")?;
    let c = Control::new();
    if std::env::args().nth(2).as_deref() == Some("--read") {
        let t = Instant::now();
        let grid = asciigrid_core::read(Input::Path(path.as_ref()), &path, None, &c)?;
        println!("read {:?} ({} cells)", t.elapsed(), grid.data.len());
        return Ok(());
    }
    for _ in 0..3 {
        let t = Instant::now();
        let Opened::Windowed(file) = WindowedFile::open(path.as_ref(), &path, &c)? else {
            return Err("not a large plain file".into());
        };
        let survey = file.survey(&c).map_err(|e| format!("{e:?}"))?;
        let t_survey = t.elapsed();
        let t = Instant::now();
        let mut out = vec![0f32; file.header.ncols * file.header.nrows];
        let nulls = Nulls::of(&file.header, asciigrid_core::DataType::Float32);
        let n = fill(&file, &survey, &nulls, None, &mut out, &c).map_err(|e| format!("{e:?}"))?;
        let t_fill = t.elapsed();
        println!(
            "survey {t_survey:?} fill {t_fill:?} ({n} values, {} chunks)",
            survey.chunks.len()
        );
    }
    Ok(())
}
