//! The inputs users have besides JPEG and PNG: PNM (PGM, PPM, PBM), TIFF (8 and 16 bit, grey,
//! colour, RGBA), grey+alpha PNG and QOI, each written from a real photo by the `image`
//! crate's encoders, must decode to the same picture and match the original face.

mod common;

use common::{dev, engine};
use faceprint::{ErrorCode, Threshold};
use image::{DynamicImage, ImageFormat};
use std::io::Cursor;

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format)
        .unwrap_or_else(|e| panic!("encode {format:?} {:?}: {e}", img.color()));
    out.into_inner()
}

fn photo() -> DynamicImage {
    image::open(dev("faces/named/obama_obama.jpg")).unwrap()
}

/// Every variant of one photo, as (label, bytes).
fn variants() -> Vec<(&'static str, Vec<u8>)> {
    let rgb = photo();
    let grey = DynamicImage::ImageLuma8(rgb.to_luma8());
    let grey16 = DynamicImage::ImageLuma16(rgb.to_luma16());
    let rgb16 = DynamicImage::ImageRgb16(rgb.to_rgb16());
    let grey_alpha = DynamicImage::ImageLumaA8(rgb.to_luma_alpha8());
    let rgba = DynamicImage::ImageRgba8(rgb.to_rgba8());
    let grey_alpha16 = DynamicImage::ImageLumaA16(rgb.to_luma_alpha16());
    vec![
        ("PGM 8-bit", encode(&grey, ImageFormat::Pnm)),
        ("PGM 16-bit", encode(&grey16, ImageFormat::Pnm)),
        ("PPM 8-bit", encode(&rgb, ImageFormat::Pnm)),
        ("PPM 16-bit", encode(&rgb16, ImageFormat::Pnm)),
        ("TIFF grey 8-bit", encode(&grey, ImageFormat::Tiff)),
        ("TIFF grey 16-bit", encode(&grey16, ImageFormat::Tiff)),
        ("TIFF RGB 8-bit", encode(&rgb, ImageFormat::Tiff)),
        ("TIFF RGB 16-bit", encode(&rgb16, ImageFormat::Tiff)),
        ("TIFF RGBA 8-bit", encode(&rgba, ImageFormat::Tiff)),
        (
            "PNG grey+alpha 8-bit",
            encode(&grey_alpha, ImageFormat::Png),
        ),
        (
            "PNG grey+alpha 16-bit",
            encode(&grey_alpha16, ImageFormat::Png),
        ),
        ("QOI RGB", encode(&rgb, ImageFormat::Qoi)),
    ]
}

#[test]
fn every_format_and_depth_decodes_to_the_same_picture_and_face() {
    with_data!();
    let e = engine();
    let original = e
        .extract_largest(&e.open(dev("faces/named/obama_obama.jpg")).unwrap())
        .unwrap();
    let reference = photo().to_luma8();
    for (label, bytes) in variants() {
        let img = e
            .decode(&bytes)
            .unwrap_or_else(|err| panic!("{label}: {err}"));
        assert_eq!(
            (img.width(), img.height()),
            reference.dimensions(),
            "{label}"
        );
        // 16-bit samples scaled (not truncated) to 8 bits, grey replicated into RGB, alpha
        // dropped: every pixel's luma within 2 levels of the 8-bit grey picture's.
        let decoded =
            image::RgbImage::from_raw(img.width(), img.height(), img.as_rgb().to_vec()).unwrap();
        let luma = DynamicImage::ImageRgb8(decoded).to_luma8();
        let worst = luma
            .as_raw()
            .iter()
            .zip(reference.as_raw())
            .map(|(&a, &b)| (a as f32 - b as f32).abs())
            .fold(0f32, f32::max);
        assert!(worst <= 2.0, "{label}: a pixel differs by {worst} levels");
        let face = e
            .extract_largest(&img)
            .unwrap_or_else(|err| panic!("{label}: {err}"));
        let c = e
            .compare(
                &original.embedding,
                &face.embedding,
                Some(Threshold::Fmr(1e-4)),
            )
            .unwrap();
        assert!(c.same, "{label}: similarity {} to the original", c.score);
    }
}

#[test]
fn a_bitmap_pbm_decodes() {
    with_data!();
    let bits = photo().to_luma8();
    let (w, h) = bits.dimensions();
    // P4: one bit per pixel, rows padded to whole bytes, 1 = black.
    let mut pbm = format!("P4\n# faceprint test\n{w} {h}\n").into_bytes();
    for row in bits.rows() {
        let px: Vec<bool> = row.map(|p| p.0[0] < 128).collect();
        pbm.extend(px.chunks(8).map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |b, (i, &black)| b | ((black as u8) << (7 - i)))
        }));
    }
    let img = engine().decode(&pbm).unwrap();
    assert_eq!((img.width(), img.height()), (w, h));
    let black = img.as_rgb().chunks_exact(3).filter(|p| p[0] == 0).count();
    let expected = bits.as_raw().iter().filter(|&&g| g < 128).count();
    assert_eq!(black, expected);
}

#[test]
fn cut_pnm_and_tiff_files_are_truncated_and_forged_sizes_refused() {
    with_data!();
    let e = engine();
    for (label, bytes) in variants() {
        if !label.starts_with("PGM") && !label.starts_with("PPM") && !label.starts_with("TIFF") {
            continue;
        }
        let cut = &bytes[..bytes.len() * 2 / 3];
        let err = e.decode(cut).unwrap_err();
        assert!(
            matches!(
                err.code(),
                ErrorCode::ImageTruncated | ErrorCode::ImageCorrupt
            ),
            "{label} cut to 2/3: {err}"
        );
        if label.starts_with("PGM") || label.starts_with("PPM") {
            assert_eq!(err.code(), ErrorCode::ImageTruncated, "{label}: {err}");
        }
    }
    // A PGM header claiming 100,000 x 100,000 pixels: refused from the header, before any
    // allocation, with the same code as every other format.
    let forged = b"P5\n100000 100000\n255\n\x00\x00\x00\x00".to_vec();
    assert_eq!(
        e.decode(&forged).unwrap_err().code(),
        ErrorCode::ImageTooManyPixels
    );
    // The same for a TIFF whose IFD states it.
    let mut tiff = encode(&DynamicImage::new_luma8(4, 4), ImageFormat::Tiff);
    patch_tiff_size(&mut tiff, 200_000, 200_000);
    assert_eq!(
        e.decode(&tiff).unwrap_err().code(),
        ErrorCode::ImageTooManyPixels
    );
}

/// Rewrites the ImageWidth (256) and ImageLength (257) entries of a little-endian TIFF's first
/// IFD as LONG values.
fn patch_tiff_size(t: &mut [u8], width: u32, height: u32) {
    assert_eq!(&t[..4], b"II*\0", "the encoder writes little-endian TIFF");
    let ifd = u32::from_le_bytes(t[4..8].try_into().unwrap()) as usize;
    let count = u16::from_le_bytes(t[ifd..ifd + 2].try_into().unwrap()) as usize;
    for k in 0..count {
        let at = ifd + 2 + 12 * k;
        let tag = u16::from_le_bytes(t[at..at + 2].try_into().unwrap());
        let value = match tag {
            256 => width,
            257 => height,
            _ => continue,
        };
        t[at + 2..at + 4].copy_from_slice(&4u16.to_le_bytes()); // LONG
        t[at + 4..at + 8].copy_from_slice(&1u32.to_le_bytes());
        t[at + 8..at + 12].copy_from_slice(&value.to_le_bytes());
    }
}

#[test]
fn a_jpeg_without_its_end_marker_decodes_when_its_data_is_whole() {
    // Some writers and copies lose the last two bytes (FFD9): the pixels are all there. The
    // dev set's Dutch passport is such a file.
    let e = engine();
    let whole = encode(&photo(), ImageFormat::Jpeg);
    assert_eq!(&whole[whole.len() - 2..], [0xFF, 0xD9]);
    let no_marker = &whole[..whole.len() - 2];
    let a = e.decode(&whole).unwrap();
    let b = e
        .decode(no_marker)
        .expect("a whole JPEG without FFD9 decodes");
    assert_eq!(a.as_rgb(), b.as_rgb());
    let passport = std::fs::read(dev("documents/98_pass-nld.jpg")).unwrap();
    assert_ne!(&passport[passport.len() - 2..], [0xFF, 0xD9]);
    e.decode(&passport).expect("the passport decodes");
    // Cut inside the scan data it is still refused.
    for cut in [whole.len() / 2, whole.len() - 200] {
        let err = e.decode(&whole[..cut]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ImageTruncated, "cut at {cut}: {err}");
    }
}
