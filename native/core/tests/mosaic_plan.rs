//! Issue #10's mosaic findings at the engine: nothing a tile's header says may panic the
//! plan or its reads (4), and a tile too large for its bytes is refused when planning, before
//! any strip is allocated, also when it is too large to be loaded while planning (17).

use std::io::Write;
use std::sync::Arc;

use asciigrid_core::{Control, Error, GridData, OwnedInput, Plan};

fn bytes(text: &str) -> OwnedInput {
    OwnedInput::Bytes(Arc::from(text.as_bytes()))
}

fn plan(inputs: Vec<(OwnedInput, &str)>, skip_errors: bool) -> Result<Plan, Error> {
    let inputs = inputs.into_iter().map(|(i, n)| (i, n.to_owned())).collect();
    Plan::new(inputs, None, None, skip_errors, &[], &Control::new())
}

/// Origins and cell sizes whose extent double precision cannot hold (`1e17 + 2 == 1e17`), or
/// that overflow: a MosaicError naming the tile, never a 0-column plan whose read panics.
#[test]
fn extreme_coordinates_are_a_mosaic_error_naming_the_tile() {
    for (x, y, cellsize) in [
        ("1e17", "0", "1"),
        ("0", "-1e17", "1"),
        ("1e300", "0", "1e-10"),
        ("1e308", "0", "1e308"),
    ] {
        let text = format!(
            "ncols 2\nnrows 2\nxllcorner {x}\nyllcorner {y}\ncellsize {cellsize}\n1 2 3 4\n"
        );
        match plan(vec![(bytes(&text), "far.asc")], false) {
            Err(Error::Mosaic { path, .. }) => assert_eq!(path, "far.asc"),
            Err(Error::Parse(p)) => assert_eq!(p.path, "far.asc"),
            Err(e) => panic!("{x} {y} {cellsize}: {e:?}"),
            Ok(p) => panic!("{x} {y} {cellsize}: planned {:?}", p.header),
        }
    }
}

/// A tile larger than [`SMALL_TILE`](4 MiB) is not loaded while planning: its header is
/// weighed against its size on disk, times deflate's largest ratio when it is gzip.
#[test]
fn large_tile_promising_more_values_than_its_bytes_is_refused_when_planning() {
    let dir = tempfile::tempdir().unwrap();
    let header = "ncols 100000\nnrows 100000\nxllcorner 0\nyllcorner 2\ncellsize 1\n";
    let plain = dir.path().join("liar.asc");
    let mut f = std::fs::File::create(&plain).unwrap();
    f.write_all(header.as_bytes()).unwrap();
    // 5 MiB of blank body: past the size up to which tiles are loaded while planning.
    f.write_all(&vec![b' '; 5 << 20]).unwrap();
    let gz = dir.path().join("liar.asc.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::none(),
    );
    enc.write_all(header.as_bytes()).unwrap();
    enc.write_all(&vec![b' '; 5 << 20]).unwrap();
    enc.finish().unwrap();
    for liar in [plain, gz] {
        let inputs = || {
            vec![
                (
                    bytes("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3 4\n"),
                    "good.asc",
                ),
                (OwnedInput::Path(liar.clone()), "liar.asc"),
            ]
        };
        match plan(inputs(), false) {
            Err(Error::Mosaic { path, message }) => {
                assert_eq!(path, "liar.asc");
                assert!(message.contains("promises 100000 × 100000"), "{message}");
            }
            other => panic!("{liar:?}: {other:?}"),
        }
        let p = plan(inputs(), true).unwrap();
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(p.bands, vec![(0, 2)]);
        let (data, failed) = p.read_rows(0, 2, true, &Control::new()).unwrap();
        assert!(failed.is_empty());
        assert_eq!(data, GridData::Int32(vec![1, 2, 3, 4]));
    }
}
