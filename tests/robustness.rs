//! Real-world files and random bytes: decoders either load or return an error, never panic.

use lamppost::data::folder::{load_folder, load_image};
use lamppost::data::idx::parse_idx;
use proptest::prelude::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn progressive_jpeg_palette_and_gray_alpha_png_load() {
    // progressive JPEG on white: corner stays white, block is red
    let j = load_image(&fixture("progressive.jpg"), 64).unwrap();
    assert!(j.data()[0] > 0.95);
    let centre = 32 * 64 + 32;
    assert!(
        j.data()[centre] > 0.7 && j.data()[64 * 64 + centre] < 0.35,
        "red block"
    );
    // palette PNG: transparent index stores white but must composite to black
    let p = load_image(&fixture("palette.png"), 64).unwrap();
    assert_eq!(p.data()[0], 0.0);
    assert!(p.data()[2 * 64 * 64 + centre] > 0.7, "blue creature");
    let g = load_image(&fixture("gray-alpha.png"), 64).unwrap();
    assert_eq!(g.data()[63 * 64 + 63], 0.0);
    assert!((g.data()[20 * 64 + 20] - 100.0 / 255.0).abs() < 0.01);
}

#[test]
fn fixture_folder_loads_with_every_format() {
    let d = std::env::temp_dir().join(format!("lamppost-fixtures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("pokemon")).unwrap();
    std::fs::create_dir_all(d.join("digimon")).unwrap();
    std::fs::copy(fixture("palette.png"), d.join("pokemon/Porygon%20Z.png")).unwrap();
    std::fs::copy(fixture("gray-alpha.png"), d.join("pokemon/ゴースト.png")).unwrap();
    std::fs::copy(
        fixture("progressive.jpg"),
        d.join("digimon/Agumon (X).jpeg"),
    )
    .unwrap();
    let (ds, rep) = load_folder(&d, 64).unwrap();
    assert_eq!((ds.len(), rep.skipped.len()), (3, 0));
    assert_eq!(ds.x.shape(), &[3, 3, 64, 64]);
    std::fs::remove_dir_all(d).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn idx_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_idx(&bytes);
    }

    #[test]
    fn idx_parser_never_panics_on_valid_headers(dims in proptest::collection::vec(0u32..5, 1..4), extra in 0usize..3, cut in 0usize..3) {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        for d in &dims { b.extend(d.to_be_bytes()); }
        let n: usize = dims.iter().map(|&d| d as usize).product();
        b.extend(std::iter::repeat_n(7u8, n + extra));
        b.truncate(b.len().saturating_sub(cut));
        let ok = parse_idx(&b).is_ok();
        prop_assert_eq!(ok, extra == cut.min(n + extra) && b.len() >= 4 + 4 * dims.len());
    }

    #[test]
    fn model_file_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let p = std::env::temp_dir().join(format!("lamppost-prop-{}.safetensors", std::process::id()));
        std::fs::write(&p, &bytes).unwrap();
        let _ = lamppost::io::load_model::<f32>(&p);
    }
}
