//! The Pokémon/Digimon folder layout of the homework: `DIR/pokemon/` (class 0) and
//! `DIR/digimon/` (class 1). The class is the folder; either may hold `.png`, `.jpg` and
//! `.jpeg` files (in the homework every Pokémon is a PNG and every Digimon a JPEG, which
//! is the shortcut; a debiased set saves both the same way).
//!
//! Every image is decoded whatever its colour type (RGB, RGBA, grayscale, palette,
//! 16-bit; baseline or progressive JPEG), **composited onto black using its alpha**
//! (transparent pixels often store white or other colours underneath, so dropping the
//! alpha channel would be wrong), then resized to `size × size` and scaled to [0, 1].
//! A file that cannot be decoded is reported by name and skipped.

use super::Dataset;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The class folders, in label order.
pub const CLASSES: [&str; 2] = ["pokemon", "digimon"];

/// Extensions of the files that are read (case-insensitive); the format itself is
/// guessed from the content.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// What happened while loading a folder.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub loaded: usize,
    /// (file, reason) for every file that could not be decoded.
    pub skipped: Vec<(String, String)>,
    /// Files with other extensions, not looked at.
    pub ignored: usize,
}

/// Composites an image onto black with its alpha channel: `rgb · α/255`.
pub fn composite_on_black(img: &DynamicImage) -> RgbImage {
    let rgba = img.to_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = p[3] as u32;
        for c in 0..3 {
            o[c] = ((p[c] as u32 * a + 127) / 255) as u8;
        }
    }
    out
}

/// The most pixels an image file may have (50 megapixels, about 7000 × 7000): larger
/// files are refused before decoding instead of taking seconds and gigabytes.
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;

/// Decodes one image file (format from its content), composites it onto black and
/// resizes it: `[3, size, size]` in [0, 1].
pub fn load_image(path: &Path, size: usize) -> Result<Tensor<f32>> {
    Ok(load_image_sized(path, size)?.0)
}

/// [`load_image`] and the file's own width and height.
pub fn load_image_sized(path: &Path, size: usize) -> Result<(Tensor<f32>, u32, u32)> {
    let open = || {
        image::ImageReader::open(path)
            .and_then(|r| r.with_guessed_format())
            .map_err(|e| e.to_string())
    };
    decode_image(open, size).map_err(|e| Error::Io(format!("{}: {e}", path.display())))
}

/// [`load_image_sized`] on an encoded file's bytes (the fuzz target's entry).
pub fn image_from_bytes(bytes: &[u8], size: usize) -> Result<(Tensor<f32>, u32, u32)> {
    let open = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())
    };
    decode_image(open, size).map_err(|e| Error::Io(format!("image: {e}")))
}

/// Checks the pixel budget from the header (`open` is called twice: once for the
/// dimensions, once to decode), then decodes, composites onto black and resizes.
fn decode_image<R: std::io::BufRead + std::io::Seek>(
    open: impl Fn() -> std::result::Result<image::ImageReader<R>, String>,
    size: usize,
) -> std::result::Result<(Tensor<f32>, u32, u32), String> {
    if size == 0 {
        return Err("image size must be at least 1".into());
    }
    let mut reader = open()?;
    reader.limits(limits_for_decode());
    let (w0, h0) = reader.into_dimensions().map_err(|e| e.to_string())?;
    if w0 as u64 * h0 as u64 > MAX_IMAGE_PIXELS {
        return Err(format!(
            "{w0} × {h0} pixels, above the {} megapixel limit; the model reads {size} × {size}, so \
             shrink the picture first (e.g. to 1000 pixels wide)",
            MAX_IMAGE_PIXELS / 1_000_000
        ));
    }
    let mut reader = open()?;
    reader.limits(limits_for_decode());
    let img = reader.decode().map_err(|e| e.to_string())?;
    if img.width() == 0 || img.height() == 0 {
        return Err("image has no pixels".into());
    }
    let rgb = composite_on_black(&img);
    let resized = image::imageops::resize(&rgb, size as u32, size as u32, FilterType::Triangle);
    let mut data = vec![0.0f32; 3 * size * size];
    for (i, p) in resized.pixels().enumerate() {
        for c in 0..3 {
            data[c * size * size + i] = p[c] as f32 / 255.0;
        }
    }
    let t = Tensor::new(&[3, size, size], data).map_err(|e| e.to_string())?;
    Ok((t, w0, h0))
}

/// The decoder's memory limit: the pixel budget at 4 bytes a pixel, plus headroom.
fn limits_for_decode() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(4 * MAX_IMAGE_PIXELS + (64 << 20));
    limits
}

/// Lists the class folder's files with an accepted extension, sorted by name.
fn list(dir: &Path, exts: &[&str], report: &mut LoadReport) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::Io(format!(
            "{}: {e}; expected the layout DIR/pokemon/*.png and DIR/digimon/*.jpg",
            dir.display()
        ))
    })?;
    let mut files = Vec::new();
    for entry in rd {
        let p = entry
            .map_err(|e| Error::Io(format!("{}: {e}", dir.display())))?
            .path();
        let ext = p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if p.is_file() && ext.is_some_and(|e| exts.contains(&e.as_str())) {
            files.push(p);
        } else if p.is_file() {
            report.ignored += 1;
        }
    }
    files.sort();
    Ok(files)
}

/// Loads the whole folder. Zero usable images is an error.
pub fn load_folder(dir: &Path, size: usize) -> Result<(Dataset, LoadReport)> {
    if size == 0 {
        return Err(Error::Invalid("image size must be at least 1".into()));
    }
    let mut report = LoadReport::default();
    let mut files = Vec::new();
    for (label, name) in CLASSES.iter().enumerate() {
        for f in list(&dir.join(name), &IMAGE_EXTENSIONS, &mut report)? {
            files.push((f, label));
        }
    }
    let decoded: Vec<(usize, std::result::Result<Tensor<f32>, String>)> = files
        .par_iter()
        .map(|(f, label)| (*label, load_image(f, size).map_err(|e| e.to_string())))
        .collect();
    let mut data = Vec::new();
    let (mut y, mut names) = (Vec::new(), Vec::new());
    for ((path, _), (label, result)) in files.iter().zip(decoded) {
        let shown = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        match result {
            Ok(t) => {
                data.extend_from_slice(t.data());
                y.push(label);
                names.push(shown);
            }
            Err(e) => report.skipped.push((shown, e)),
        }
    }
    report.loaded = y.len();
    if y.is_empty() {
        return Err(Error::Io(format!(
            "{}: no usable images ({} could not be decoded); expected DIR/pokemon/*.png and DIR/digimon/*.jpg",
            dir.display(),
            report.skipped.len()
        )));
    }
    // a class with no pictures would train to a constant "100%"
    for (label, name) in CLASSES.iter().enumerate() {
        if !y.contains(&label) {
            return Err(Error::Io(format!(
                "{}: no usable images of class '{name}' ({} file(s) skipped in all); a classifier \
                 needs examples of every class: put the {name} pictures in {}",
                dir.join(name).display(),
                report.skipped.len(),
                dir.join(name).display()
            )));
        }
    }
    let x = Tensor::new(&[y.len(), 3, size, size], data)?;
    let classes = CLASSES.iter().map(|c| c.to_string()).collect();
    Ok((
        Dataset {
            x,
            y,
            classes,
            names,
        },
        report,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, ImageFormat, Luma, Rgb, Rgba, RgbaImage};

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lamppost-folder-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("pokemon")).unwrap();
        std::fs::create_dir_all(d.join("digimon")).unwrap();
        d
    }

    #[test]
    fn every_awkward_case_loads_or_is_reported() {
        let d = tmpdir("awkward");
        // RGBA whose transparent pixels store white: must become black, not white
        let mut rgba = RgbaImage::from_pixel(10, 10, Rgba([255, 255, 255, 0]));
        rgba.put_pixel(5, 5, Rgba([200, 100, 0, 255]));
        rgba.save(d.join("pokemon/Mr. Mime%28Galar%29.png"))
            .unwrap();
        // grayscale PNG, odd size, unicode name
        GrayImage::from_pixel(9, 11, Luma([128]))
            .save(d.join("pokemon/Flabébé 2.png"))
            .unwrap();
        // palette PNG written as 8-bit RGB by `image`; a 16-bit RGBA one
        let rgb16 =
            image::ImageBuffer::<Rgba<u16>, Vec<u16>>::from_pixel(8, 8, Rgba([65535, 0, 0, 32768]));
        DynamicImage::ImageRgba16(rgb16)
            .save(d.join("pokemon/sixteen.PNG"))
            .unwrap();
        // JPEGs (one with upper-case .JPEG extension), on white
        let white = RgbImage::from_pixel(12, 12, Rgb([255, 255, 255]));
        white
            .save_with_format(d.join("digimon/agumon.jpg"), ImageFormat::Jpeg)
            .unwrap();
        white
            .save_with_format(d.join("digimon/Gabumon (1).JPEG"), ImageFormat::Jpeg)
            .unwrap();
        // a Pokémon saved as JPEG still counts as a Pokémon
        white
            .save_with_format(d.join("pokemon/photo.jpg"), ImageFormat::Jpeg)
            .unwrap();
        // a corrupt file and a stray file
        std::fs::write(d.join("digimon/broken.jpg"), b"\xff\xd8\xff not really").unwrap();
        std::fs::write(d.join("digimon/notes.txt"), b"hi").unwrap();
        let (ds, rep) = load_folder(&d, 8).unwrap();
        assert_eq!(ds.len(), 6);
        assert_eq!(rep.skipped.len(), 1);
        assert!(rep.skipped[0].0.contains("broken.jpg"));
        assert_eq!(rep.ignored, 1);
        assert_eq!(ds.class_counts(), vec![4, 2]);
        // the transparent-white image composites to black except its opaque pixel
        let i = ds.names.iter().position(|n| n.contains("Mime")).unwrap();
        let img = ds.x.select_rows(&[i]).unwrap();
        let corner = img.data()[0];
        assert_eq!(corner, 0.0, "transparent white must become black");
        // 16-bit red at half alpha: about 0.5 red
        let j = ds.names.iter().position(|n| n.contains("sixteen")).unwrap();
        let r = ds.x.select_rows(&[j]).unwrap().data()[0];
        assert!((r - 0.5).abs() < 0.02, "{r}");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn missing_folder_and_no_usable_images_are_errors() {
        let d = std::env::temp_dir().join(format!("lamppost-folder-none-{}", std::process::id()));
        let e = load_folder(&d, 8).unwrap_err().to_string();
        assert!(
            e.contains("pokemon") && e.contains("DIR/pokemon/*.png"),
            "{e}"
        );
        let d = tmpdir("empty");
        std::fs::write(d.join("pokemon/bad.png"), b"nope").unwrap();
        let e = load_folder(&d, 8).unwrap_err().to_string();
        assert!(e.contains("no usable images"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }
}
