//! Zip archives as a grid source: members named by position (nested zips included), found by
//! pattern, read within the decompression budget, and named `outer.zip/inner.zip/T.asc` in
//! every error.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use asciigrid_core::{
    find_tiles, read, read_header, resolve_member, resolve_members, Control, DataType, Error,
    ErrorKind, FoundTile, GridData, Input, OwnedInput, Plan,
};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn tile(x: u32, body: &str) -> String {
    format!("ncols 2\nnrows 2\nxllcorner {x}\nyllcorner 0\ncellsize 1\n{body}\n")
}

fn zip_of(members: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut z = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in members {
        z.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// `outer.zip` holding `data/T<i>.zip`, each with `T<i>.asc`, `T<i>.prj` and `T<i>.xml`; the
/// tile zips are stored (read in place).
fn delivery(dir: &Path, texts: &[Vec<u8>]) -> PathBuf {
    delivery_with(dir, texts, CompressionMethod::Stored)
}

/// [`delivery`] with the tile zips stored in `outer.zip` by `method`.
fn delivery_with(dir: &Path, texts: &[Vec<u8>], method: CompressionMethod) -> PathBuf {
    let inners: Vec<(String, Vec<u8>)> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let asc = format!("T{i}.asc");
            let prj = format!("T{i}.prj");
            let xml = format!("T{i}.xml");
            let members: [(&str, &[u8]); 3] =
                [(&asc, text), (&prj, b"PROJCS[\"x\"]"), (&xml, b"<xml/>")];
            (
                format!("data/T{i}.zip"),
                zip_of(&members, CompressionMethod::Deflated),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = inners
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let path = dir.join("outer.zip");
    std::fs::write(&path, zip_of(&refs, method)).unwrap();
    path
}

fn labels(found: &[FoundTile]) -> Vec<String> {
    found.iter().map(|f| f.member.label().to_owned()).collect()
}

/// Found members as a mosaic plan's inputs, each named by its label.
fn mosaic_inputs(found: Vec<FoundTile>) -> Vec<(OwnedInput, String)> {
    found
        .into_iter()
        .map(|f| {
            let name = f.member.label().to_owned();
            (OwnedInput::Member(f.member), name)
        })
        .collect()
}

/// The same texts as loose tiles (bytes), for a plan to compare with.
fn loose_inputs(texts: &[String]) -> Vec<(OwnedInput, String)> {
    texts
        .iter()
        .map(|t| {
            (
                OwnedInput::Bytes(t.clone().into_bytes().into()),
                "t".to_owned(),
            )
        })
        .collect()
}

/// Every cell of a planned mosaic.
fn all_cells(plan: &Plan) -> GridData {
    let rows = plan.header.nrows;
    plan.read_rows(0, rows, false, &Control::new()).unwrap().0
}

#[test]
fn nested_tiles_are_found_with_their_prj_and_sidecars_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = delivery(
        dir.path(),
        &[tile(0, "1 2 3 4").into(), tile(2, "5 6 7 8").into()],
    );
    let found = find_tiles(&path, "outer.zip", &["*".into()], &Control::new()).unwrap();
    assert_eq!(
        labels(&found),
        [
            "outer.zip/data/T0.zip/T0.asc",
            "outer.zip/data/T1.zip/T1.asc"
        ]
    );
    assert_eq!(found[1].prj.as_deref(), Some("PROJCS[\"x\"]"));
}

#[test]
fn a_member_read_by_path_equals_its_text_parsed() {
    // Tile zips stored in the outer zip are read in place; deflated ones are inflated first.
    for method in [CompressionMethod::Stored, CompressionMethod::Deflated] {
        member_read_by_path_equals_its_text_parsed(method);
    }
}

fn member_read_by_path_equals_its_text_parsed(method: CompressionMethod) {
    let dir = tempfile::tempdir().unwrap();
    let texts = [tile(0, "1 2 3 4").into(), tile(2, "5 6 7 8").into()];
    let path = delivery_with(dir.path(), &texts, method);
    let spelled = format!("{}/data/T1.zip/T1.asc", path.display());
    for spelling in [
        spelled.clone(),
        format!("/vsizip/{spelled}"),
        format!("/vsizip/{{/vsizip/{}/data/T1.zip}}/T1.asc", path.display()),
    ] {
        let member = resolve_member(&spelling).unwrap().unwrap();
        assert_eq!(member.label(), spelled);
        let grid = read(
            Input::Member(&member),
            member.label(),
            None,
            &Control::new(),
        )
        .unwrap();
        assert_eq!(
            grid.data,
            GridData::Int32(vec![5, 6, 7, 8]),
            "{spelling} {method}"
        );
        let header = read_header(Input::Member(&member), member.label()).unwrap();
        assert_eq!(header.x_origin, 2.0);
    }
}

#[test]
fn members_named_together_are_each_what_they_name_alone() {
    let dir = tempfile::tempdir().unwrap();
    let texts = [tile(0, "1 2 3 4").into(), tile(2, "5 6 7 8").into()];
    let path = delivery_with(dir.path(), &texts, CompressionMethod::Deflated);
    let at = |rest: &str| format!("{}/{rest}", path.display());
    let paths = [
        at("data/T1.zip/T1.asc"),
        "/no/such/folder/t.asc".to_owned(),
        format!("/vsizip/{}", at("data/T0.zip/T0.asc")),
        at("data/T0.zip/T0.asc"),
        at("data/T9.zip/T9.asc"),
    ];
    let together = resolve_members(&paths);
    assert_eq!(together.len(), paths.len());
    for (p, got) in paths.iter().zip(together) {
        match (got, resolve_member(p)) {
            (Ok(Some(a)), Ok(Some(b))) => {
                assert_eq!(a.label(), b.label());
                let cells = |m: &asciigrid_core::MemberSource| {
                    read(Input::Member(m), m.label(), None, &Control::new())
                        .unwrap()
                        .data
                };
                assert_eq!(cells(&a), cells(&b), "{p}");
            }
            (Ok(None), Ok(None)) => assert_eq!(p, "/no/such/folder/t.asc"),
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                assert!(a.to_string().contains("T9.zip"), "{a}");
            }
            (a, b) => panic!("{p}: together {a:?}, alone {b:?}"),
        }
    }
}

#[test]
fn a_path_without_a_zip_is_not_a_member() {
    assert!(resolve_member("/no/such/folder/t.asc").unwrap().is_none());
}

#[test]
fn a_bad_value_in_a_nested_member_is_located_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = delivery(dir.path(), &[tile(0, "1 2\n3 x").into()]);
    let found = find_tiles(&path, "outer.zip", &["*.asc".into()], &Control::new()).unwrap();
    let m = &found[0].member;
    match read(Input::Member(m), m.label(), None, &Control::new()) {
        Err(Error::Parse(p)) => {
            assert_eq!(
                (p.path.as_str(), p.line, p.column),
                ("outer.zip/data/T0.zip/T0.asc", 7, 3)
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bomb_in_a_nested_zip_is_refused_early_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut bomb = tile(0, "").into_bytes();
    bomb.resize(bomb.len() + (64 << 20), b' ');
    let path = delivery(dir.path(), &[bomb]);
    let found = find_tiles(&path, "outer.zip", &["*.asc".into()], &Control::new()).unwrap();
    let m = &found[0].member;
    match read(Input::Member(m), m.label(), None, &Control::new()) {
        Err(Error::Parse(p)) => {
            assert_eq!(p.path, "outer.zip/data/T0.zip/T0.asc");
            assert_eq!(p.kind, ErrorKind::BudgetExceeded, "{p}");
        }
        other => panic!("{other:?}"),
    }
}

/// `T.asc` read from the zip `bytes`, written as `t.zip` in `dir`.
fn read_t_asc(dir: &Path, bytes: Vec<u8>) -> Result<asciigrid_core::Grid, Error> {
    let path = dir.join("t.zip");
    std::fs::write(&path, bytes).unwrap();
    let member = resolve_member(&format!("{}/T.asc", path.display()))
        .unwrap()
        .unwrap();
    read(
        Input::Member(&member),
        member.label(),
        None,
        &Control::new(),
    )
}

#[test]
fn a_stored_member_whose_bytes_changed_fails_its_crc() {
    let dir = tempfile::tempdir().unwrap();
    let text = tile(0, "1 2 3 4");
    let mut bytes = zip_of(&[("T.asc", text.as_bytes())], CompressionMethod::Stored);
    let at = bytes.windows(7).position(|w| w == b"1 2 3 4").unwrap();
    bytes[at] = b'9';
    match read_t_asc(dir.path(), bytes) {
        Err(Error::Parse(p)) => assert_eq!(p.kind, ErrorKind::CorruptCompressed, "{p}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_corrupt_nested_zip_is_listed_and_reading_it_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = zip_of(
        &[("T.asc", tile(0, "1 2 3 4").as_bytes())],
        CompressionMethod::Deflated,
    );
    let outer = zip_of(
        &[
            ("a/good.zip", &good),
            ("a/bad.zip", b"PK\x03\x04 not a zip"),
        ],
        CompressionMethod::Stored,
    );
    let path = dir.path().join("outer.zip");
    std::fs::write(&path, outer).unwrap();
    let found = find_tiles(&path, "outer.zip", &["*.asc".into()], &Control::new()).unwrap();
    assert_eq!(
        labels(&found),
        ["outer.zip/a/good.zip/T.asc", "outer.zip/a/bad.zip"]
    );
    let inputs = mosaic_inputs(found);
    let plan = Plan::new(inputs, None, None, true, &[], &Control::new()).unwrap();
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].0, "outer.zip/a/bad.zip");
    assert!(plan.skipped[0]
        .1
        .to_string()
        .contains("outer.zip/a/bad.zip"));
}

#[test]
fn a_mosaic_of_members_equals_the_mosaic_of_their_texts() {
    let dir = tempfile::tempdir().unwrap();
    let texts = [tile(0, "1.5 2 3 4"), tile(4, "5 6 7 8")];
    let path = delivery(
        dir.path(),
        &[texts[0].clone().into(), texts[1].clone().into()],
    );
    let found = find_tiles(&path, "outer.zip", &["*.asc".into()], &Control::new()).unwrap();
    let members = mosaic_inputs(found);
    let loose = loose_inputs(&texts);
    let c = Control::new();
    let a = Plan::new(members, None, None, false, &[], &c).unwrap();
    let b = Plan::new(loose, None, None, false, &[], &c).unwrap();
    assert_eq!(a.data_type, DataType::Float32);
    assert_eq!(a.header.geotransform(), b.header.geotransform());
    assert_eq!(all_cells(&a), all_cells(&b));
}

/// An integer tile of `n × n` values whose text runs well past the part of it
/// `find_tiles` keeps (1 KiB), with a float value only at its end when `late_float`.
fn long_tile(x: u32, n: usize, late_float: bool) -> String {
    let mut body = String::new();
    for r in 0..n {
        let row: Vec<String> = (0..n).map(|c| (1000 + r * n + c).to_string()).collect();
        body.push_str(&row.join(" "));
        body.push('\n');
    }
    if late_float {
        body.replace_range(body.len() - 5.., "1.5\n");
    }
    format!("ncols {n}\nnrows {n}\nxllcorner {x}\nyllcorner 0\ncellsize 1\n{body}")
}

#[test]
fn tiles_longer_than_the_kept_head_are_planned_and_read_as_their_texts() {
    let dir = tempfile::tempdir().unwrap();
    for late_float in [false, true] {
        let texts = [long_tile(0, 40, late_float), long_tile(40, 40, false)];
        assert!(texts[0].len() > 4096);
        let path = delivery_with(
            dir.path(),
            &[texts[0].clone().into(), texts[1].clone().into()],
            CompressionMethod::Deflated,
        );
        let found = find_tiles(&path, "outer.zip", &["*.asc".into()], &Control::new()).unwrap();
        let header = read_header(Input::Member(&found[0].member), "t").unwrap();
        assert_eq!((header.ncols, header.nrows), (40, 40));
        let loose = loose_inputs(&texts);
        let c = Control::new();
        let a = Plan::new(mosaic_inputs(found), None, None, false, &[], &c).unwrap();
        let b = Plan::new(loose, None, None, false, &[], &c).unwrap();
        let expected = if late_float {
            DataType::Float32
        } else {
            DataType::Int32
        };
        assert_eq!((a.data_type, b.data_type), (expected, expected));
        assert_eq!(all_cells(&a), all_cells(&b));
    }
}

#[test]
fn a_deflated_member_longer_than_it_declares_is_refused_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = tile(0, "1 2 3 4");
    let mut bytes = zip_of(&[("T.asc", text.as_bytes())], CompressionMethod::Deflated);
    // Declare 8 bytes fewer, in the local header and in the central directory.
    let declared = (text.len() as u32 - 8).to_le_bytes();
    let local = bytes.windows(4).position(|w| w == b"PK\x03\x04").unwrap();
    bytes[local + 22..local + 26].copy_from_slice(&declared);
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bytes[central + 24..central + 28].copy_from_slice(&declared);
    match read_t_asc(dir.path(), bytes) {
        Err(Error::Parse(p)) => {
            assert_eq!(p.kind, ErrorKind::CorruptCompressed, "{p}");
            assert!(p.to_string().contains("T.asc"), "{p}");
        }
        other => panic!("{other:?}"),
    }
}
