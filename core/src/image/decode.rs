//! Encoded bytes → RGB8, defensively: size limit first, then the header's dimensions against the
//! pixel limit (no decompression bombs), then a structural completeness check so truncated
//! files are reported as such (some decoders silently fill missing rows with grey).

use super::{Image, ImageLimits};
use crate::error::{Error, Result};
use image::{ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

pub(super) fn decode(bytes: &[u8], limits: &ImageLimits) -> Result<Image> {
    if bytes.is_empty() {
        return Err(Error::ImageEmpty);
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(Error::ImageTooLarge {
            bytes: bytes.len() as u64,
            limit: limits.max_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| {
        Error::ImageUnsupportedFormat(format!("unrecognised signature {}", hex_prefix(bytes)))
    })?;
    if !matches!(
        format,
        ImageFormat::Jpeg
            | ImageFormat::Png
            | ImageFormat::WebP
            | ImageFormat::Bmp
            | ImageFormat::Gif
            | ImageFormat::Pnm
            | ImageFormat::Tiff
            | ImageFormat::Qoi
    ) {
        return Err(Error::ImageUnsupportedFormat(format!("{format:?}")));
    }

    let reader = |bytes| {
        let mut r = ImageReader::with_format(Cursor::new(bytes), format);
        let mut l = image::Limits::default();
        // The decoder's own allocation cap, as a second line behind our pixel check.
        l.max_alloc = Some(limits.max_pixels.saturating_mul(4).saturating_add(64 << 20));
        r.limits(l);
        r
    };
    // The header's own numbers first: a forged size is `image_too_many_pixels` in every
    // format, even where the decoder would refuse it with an error of its own.
    if let Some((w, h)) = header_dimensions(bytes, format) {
        check_pixels(w, h, limits)?;
    }
    let (width, height) = match reader(bytes).into_dimensions() {
        Ok(d) => d,
        Err(e) => {
            // A file cut inside its header: say truncated, not corrupt.
            check_complete(bytes, format)?;
            return Err(map_err(e));
        }
    };
    if width == 0 || height == 0 {
        return Err(Error::ImageCorrupt(format!("header says {width}x{height}")));
    }
    check_pixels(width as u64, height as u64, limits)?;
    check_complete(bytes, format)?;

    let mut decoder = reader(bytes).into_decoder().map_err(map_err)?;
    // A broken EXIF block must not reject an otherwise good photo: fall back to no rotation.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(map_err)?;
    img.apply_orientation(orientation);
    let rgb = img.into_rgb8();
    let (w, h) = rgb.dimensions();
    Image::from_rgb(w, h, rgb.into_raw())
}

fn check_pixels(width: u64, height: u64, limits: &ImageLimits) -> Result<()> {
    if width.saturating_mul(height) > limits.max_pixels {
        return Err(Error::ImageTooManyPixels {
            width: width.min(u32::MAX as u64) as u32,
            height: height.min(u32::MAX as u64) as u32,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// The image size a header states, read without the decoder (which may refuse a huge size
/// with an error of its own): PNG IHDR, BMP info header, WebP VP8X/VP8/VP8L, GIF screen and
/// first frame.
fn header_dimensions(b: &[u8], format: ImageFormat) -> Option<(u64, u64)> {
    let be32 = |at: usize| {
        b.get(at..at + 4)
            .map(|x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]) as u64)
    };
    let le32 = |at: usize| {
        b.get(at..at + 4)
            .map(|x| i32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    let le24 = |at: usize| {
        b.get(at..at + 3)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], 0]) as u64)
    };
    let le16 = |at: usize| {
        b.get(at..at + 2)
            .map(|x| u16::from_le_bytes([x[0], x[1]]) as u64)
    };
    match format {
        ImageFormat::Png => Some((be32(16)?, be32(20)?)),
        ImageFormat::Bmp => {
            let header = le32(14)?;
            if header == 12 {
                Some((le16(18)?, le16(20)?))
            } else {
                Some((
                    le32(18)?.unsigned_abs() as u64,
                    le32(22)?.unsigned_abs() as u64,
                ))
            }
        }
        ImageFormat::WebP => match b.get(12..16)? {
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            b"VP8 " => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
            b"VP8L" => {
                let bits = le32(21)? as u32;
                Some((
                    (bits & 0x3FFF) as u64 + 1,
                    ((bits >> 14) & 0x3FFF) as u64 + 1,
                ))
            }
            _ => None,
        },
        ImageFormat::Gif => {
            let (sw, sh) = (le16(6)?, le16(8)?);
            let (fw, fh) = gif_first_frame(b).unwrap_or((0, 0));
            Some((sw.max(fw), sh.max(fh)))
        }
        ImageFormat::Pnm => pnm_header(b).map(|h| (h.width, h.height)),
        _ => None,
    }
}

/// The size of a GIF's first image descriptor, skipping the colour table and extensions.
fn gif_first_frame(b: &[u8]) -> Option<(u64, u64)> {
    let flags = *b.get(10)?;
    let mut at = 13
        + if flags & 0x80 != 0 {
            3 << ((flags & 7) + 1)
        } else {
            0
        };
    loop {
        match *b.get(at)? {
            0x2C => {
                let w = u16::from_le_bytes([*b.get(at + 5)?, *b.get(at + 6)?]) as u64;
                let h = u16::from_le_bytes([*b.get(at + 7)?, *b.get(at + 8)?]) as u64;
                return Some((w, h));
            }
            0x21 => {
                at += 2;
                // Sub-blocks: a size byte, that many bytes, until a size of 0.
                loop {
                    let n = *b.get(at)? as usize;
                    at += 1 + n;
                    if n == 0 {
                        break;
                    }
                }
            }
            _ => return None,
        }
    }
}

fn map_err(e: image::ImageError) -> Error {
    use image::ImageError as E;
    match e {
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::ImageTruncated(io.to_string())
        }
        E::Limits(l) => Error::ImageCorrupt(format!("decoder limit exceeded: {l}")),
        E::Unsupported(u) => Error::ImageUnsupportedFormat(u.to_string()),
        other => {
            let msg = other.to_string();
            let lower = msg.to_ascii_lowercase();
            if lower.contains("eof") || lower.contains("end of") || lower.contains("no more bytes")
            {
                Error::ImageTruncated(msg)
            } else {
                Error::ImageCorrupt(msg)
            }
        }
    }
}

/// Cheap structural checks that catch truncation the decoders may tolerate.
fn check_complete(bytes: &[u8], format: ImageFormat) -> Result<()> {
    match format {
        ImageFormat::Jpeg => {
            // Walking back from the end, the last marker must be EOI (FFD9), not a scan start
            // (FFDA): 0xFF inside entropy-coded data is always byte-stuffed, so neither pair
            // can occur there by accident.
            for i in (1..bytes.len()).rev() {
                if bytes[i - 1] == 0xFF {
                    match bytes[i] {
                        0xD9 => return super::jpeg_scan::check(bytes).map(|_| ()),
                        0xDA => break,
                        _ => {}
                    }
                }
            }
            // No end marker: still whole when every MCU of the frame is in the scan data
            // (some writers and copies drop the last two bytes); otherwise cut short.
            match super::jpeg_scan::check(bytes)? {
                true => Ok(()),
                false => Err(Error::ImageTruncated(
                    "JPEG has no end-of-image marker".into(),
                )),
            }
        }
        ImageFormat::Png => {
            if bytes.windows(4).rev().take(64).any(|w| w == b"IEND") {
                Ok(())
            } else {
                Err(Error::ImageTruncated("PNG has no IEND chunk".into()))
            }
        }
        // RIFF size at bytes 4..8 counts everything after the first 8 bytes.
        ImageFormat::WebP => check_declared_length(bytes, 4, 8, "WebP"),
        ImageFormat::Gif => {
            if bytes.last() == Some(&0x3B) {
                Ok(())
            } else {
                Err(Error::ImageTruncated("GIF has no trailer".into()))
            }
        }
        ImageFormat::Bmp => check_declared_length(bytes, 2, 0, "BMP"),
        ImageFormat::Pnm => check_pnm_length(bytes),
        _ => Ok(()),
    }
}

/// A binary PNM (P4 bitmap, P5 grey, P6 colour) holds exactly width x height samples after its
/// header; fewer bytes is a cut file (text PNMs and PAM are left to the decoder).
fn check_pnm_length(bytes: &[u8]) -> Result<()> {
    let Some(h) = pnm_header(bytes) else {
        return Ok(());
    };
    let sample_bytes = if h.max_value > 255 { 2 } else { 1 };
    let needed = match h.kind {
        b'4' => h.width.div_ceil(8).saturating_mul(h.height),
        b'5' => h
            .width
            .saturating_mul(h.height)
            .saturating_mul(sample_bytes),
        b'6' => h
            .width
            .saturating_mul(h.height)
            .saturating_mul(3 * sample_bytes),
        _ => return Ok(()),
    };
    let got = bytes.len().saturating_sub(h.data_offset) as u64;
    if got < needed {
        return Err(Error::ImageTruncated(format!(
            "PNM declares {needed} bytes of pixels, got {got}"
        )));
    }
    Ok(())
}

struct PnmHeader {
    kind: u8,
    width: u64,
    height: u64,
    max_value: u64,
    data_offset: usize,
}

/// The header of a P1..P6 PNM: magic, width, height and (except bitmaps) the maximum sample
/// value, as whitespace-separated decimals with `#` comments; one whitespace byte ends it.
fn pnm_header(b: &[u8]) -> Option<PnmHeader> {
    if b.len() < 2 || b[0] != b'P' || !(b'1'..=b'6').contains(&b[1]) {
        return None;
    }
    let kind = b[1];
    let fields = if kind == b'1' || kind == b'4' { 2 } else { 3 };
    let mut at = 2;
    let mut values = [0u64; 3];
    for v in values.iter_mut().take(fields) {
        loop {
            match *b.get(at)? {
                b'#' => {
                    while *b.get(at)? != b'\n' {
                        at += 1;
                    }
                }
                c if c.is_ascii_whitespace() => at += 1,
                _ => break,
            }
        }
        let start = at;
        while b.get(at).is_some_and(|c| c.is_ascii_digit()) {
            at += 1;
        }
        if at == start || at - start > 19 {
            return None;
        }
        *v = std::str::from_utf8(&b[start..at]).ok()?.parse().ok()?;
    }
    // Exactly one whitespace byte separates the header from binary data.
    b.get(at).filter(|c| c.is_ascii_whitespace())?;
    Some(PnmHeader {
        kind,
        width: values[0],
        height: values[1],
        max_value: if fields == 3 { values[2] } else { 1 },
        data_offset: at + 1,
    })
}

/// Formats that state their total length in the header: a shorter file is truncated. A stated
/// length of 0 (some BMP writers) is left to the decoder.
fn check_declared_length(bytes: &[u8], at: usize, extra: usize, name: &str) -> Result<()> {
    let Some(field) = bytes.get(at..at + 4) else {
        return Err(Error::ImageTruncated(format!(
            "{name} header is incomplete"
        )));
    };
    let stated = u32::from_le_bytes([field[0], field[1], field[2], field[3]]) as usize;
    if stated == 0 || bytes.len() >= stated + extra {
        Ok(())
    } else {
        Err(Error::ImageTruncated(format!(
            "{name} declares {} bytes, got {}",
            stated + extra,
            bytes.len()
        )))
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn encode(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, format)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn every_supported_format_decodes() {
        for f in [
            ImageFormat::Jpeg,
            ImageFormat::Png,
            ImageFormat::WebP,
            ImageFormat::Bmp,
            ImageFormat::Gif,
        ] {
            let img = decode(&encode(f, 40, 30), &ImageLimits::default())
                .unwrap_or_else(|e| panic!("{f:?}: {e}"));
            assert_eq!((img.width(), img.height()), (40, 30), "{f:?}");
        }
    }

    #[test]
    fn truncation_is_reported_per_format() {
        for f in [
            ImageFormat::Jpeg,
            ImageFormat::Png,
            ImageFormat::WebP,
            ImageFormat::Bmp,
            ImageFormat::Gif,
        ] {
            let bytes = encode(f, 64, 64);
            let cut = &bytes[..bytes.len() * 2 / 3];
            let e = decode(cut, &ImageLimits::default()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ImageTruncated, "{f:?}: {e}");
        }
    }

    #[test]
    fn pixel_limit_is_checked_from_the_header() {
        let bytes = encode(ImageFormat::Png, 100, 100);
        let limits = ImageLimits {
            max_pixels: 9_999,
            ..ImageLimits::default()
        };
        let e = decode(&bytes, &limits).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ImageTooManyPixels);
    }

    #[test]
    fn a_forged_huge_png_header_is_refused_before_decoding() {
        // A 1x1 PNG whose IHDR claims 100000 x 100000: must fail on the limit, not allocate.
        let mut bytes = encode(ImageFormat::Png, 1, 1);
        bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        // A real bomb carries a valid CRC over the IHDR type and data (bytes 12..29).
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        let e = decode(&bytes, &ImageLimits::default()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ImageTooManyPixels);
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn empty_oversized_and_foreign_bytes() {
        let limits = ImageLimits::default();
        assert_eq!(
            decode(&[], &limits).unwrap_err().code(),
            ErrorCode::ImageEmpty
        );
        let small = ImageLimits {
            max_bytes: 10,
            ..limits
        };
        let e = decode(&encode(ImageFormat::Png, 8, 8), &small).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ImageTooLarge);
        let e = decode(b"%PDF-1.7 not an image at all", &limits).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ImageUnsupportedFormat);
    }

    #[test]
    fn corrupt_body_is_not_called_truncated() {
        let mut bytes = encode(ImageFormat::Png, 64, 64);
        // Scribble over the compressed pixel data, keep IHDR and IEND intact.
        let n = bytes.len();
        for b in &mut bytes[60..n - 20] {
            *b = 0x5A;
        }
        let e = decode(&bytes, &ImageLimits::default()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ImageCorrupt, "{e}");
    }

    #[test]
    fn forged_sizes_are_too_many_pixels_in_every_format() {
        let limits = ImageLimits::default();
        let forge = |f: ImageFormat, patch: &dyn Fn(&mut Vec<u8>)| {
            let mut b = encode(f, 16, 16);
            patch(&mut b);
            decode(&b, &limits).unwrap_err()
        };
        let cases: Vec<(&str, Error)> = vec![
            (
                "png 2^31",
                forge(ImageFormat::Png, &|b| {
                    b[16..20].copy_from_slice(&(1u32 << 31).to_be_bytes());
                    let crc = crc32(&b[12..29]);
                    b[29..33].copy_from_slice(&crc.to_be_bytes());
                }),
            ),
            (
                "bmp 1e5",
                forge(ImageFormat::Bmp, &|b| {
                    b[18..22].copy_from_slice(&100_000i32.to_le_bytes());
                    b[22..26].copy_from_slice(&100_000i32.to_le_bytes());
                }),
            ),
            (
                "gif frame",
                forge(ImageFormat::Gif, &|b| {
                    let at = gif_descriptor(b);
                    b[at + 5..at + 7].copy_from_slice(&65_535u16.to_le_bytes());
                    b[at + 7..at + 9].copy_from_slice(&65_535u16.to_le_bytes());
                }),
            ),
        ];
        // WebP VP8X with a 2^24 x 2^24 canvas.
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        let n = (vp8x.len() - 8) as u32;
        vp8x[4..8].copy_from_slice(&n.to_le_bytes());
        let webp = decode(&vp8x, &limits).unwrap_err();
        for (name, e) in cases.into_iter().chain([("webp vp8x 2^24", webp)]) {
            assert_eq!(e.code(), ErrorCode::ImageTooManyPixels, "{name}: {e}");
        }
    }

    fn gif_descriptor(b: &[u8]) -> usize {
        let flags = b[10];
        let mut at = 13
            + if flags & 0x80 != 0 {
                3 << ((flags & 7) + 1)
            } else {
                0
            };
        while b[at] == 0x21 {
            at += 2;
            loop {
                let n = b[at] as usize;
                at += 1 + n;
                if n == 0 {
                    break;
                }
            }
        }
        assert_eq!(b[at], 0x2C);
        at
    }

    #[test]
    fn a_jpeg_header_claiming_rows_its_data_cannot_hold_is_truncated() {
        let jpeg = encode(ImageFormat::Jpeg, 64, 64);
        let sof = (0..jpeg.len() - 1)
            .find(|&i| jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0)
            .unwrap();
        // 64 x 60000: within the pixel limit, but thousands of blocks per byte of data.
        let mut tall = jpeg.clone();
        tall[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
        let e = decode(&tall, &ImageLimits::default()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ImageTruncated, "{e}");
        assert!(e.to_string().contains("64 of the 60000 rows"), "{e}");
        // 4x the rows a detailed scan holds: within the two-bit bound, caught by the count.
        let mut four = jpeg.clone();
        four[sof + 5..sof + 7].copy_from_slice(&256u16.to_be_bytes());
        let e = decode(&four, &ImageLimits::default()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ImageTruncated, "{e}");
        assert!(e.to_string().contains("of the 256 rows"), "{e}");
        // Real photos pass the check.
        // (obama_obama.jpg is baseline with restart markers; obama1.jpg progressive, which
        // the count does not walk.)
        for (rel, baseline) in [
            ("faces/named/obama_obama.jpg", true),
            ("faces/test/obama1.jpg", false),
        ] {
            let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/data/dev")
                .join(rel);
            if let Ok(b) = std::fs::read(&p) {
                decode(&b, &ImageLimits::default()).unwrap_or_else(|e| panic!("{rel}: {e}"));
                // The same photo with the last third of its scan cut out, the end marker kept.
                let mut cut = b[..b.len() * 2 / 3].to_vec();
                cut.extend_from_slice(&[0xFF, 0xD9]);
                if baseline {
                    let e = decode(&cut, &ImageLimits::default()).unwrap_err();
                    assert_eq!(e.code(), ErrorCode::ImageTruncated, "{rel}: {e}");
                }
            }
        }
    }

    #[test]
    fn every_early_jpeg_cut_is_truncated() {
        let jpeg = encode(ImageFormat::Jpeg, 64, 64);
        for n in 1..400.min(jpeg.len()) {
            let e = decode(&jpeg[..n], &ImageLimits::default()).unwrap_err();
            assert!(
                matches!(
                    e.code(),
                    ErrorCode::ImageTruncated | ErrorCode::ImageUnsupportedFormat
                ),
                "cut at {n}: {e}"
            );
            if n >= 4 {
                assert_eq!(e.code(), ErrorCode::ImageTruncated, "cut at {n}: {e}");
            }
        }
    }
}
