//! The live view of a camera: its frames with each tracked face's box, track id and name drawn
//! on them, as JPEGs for `GET /stream/{camera}` (MJPEG). Frames are drawn and encoded only
//! while someone watches.

use super::status::TrackView;
use bytes::Bytes;
use faceprint::Image;
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// Viewers one camera serves at once (each costs a connection, not an encode).
pub const MAX_VIEWERS: usize = 16;

pub struct LiveView {
    frames: watch::Sender<Option<Bytes>>,
    viewers: AtomicUsize,
}

/// Counts a viewer while it lives.
pub struct Viewer(Arc<LiveView>);

impl Drop for Viewer {
    fn drop(&mut self) {
        self.0.viewers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Default for LiveView {
    fn default() -> Self {
        LiveView {
            frames: watch::Sender::new(None),
            viewers: AtomicUsize::new(0),
        }
    }
}

impl LiveView {
    /// Someone is watching: worth drawing and encoding frames.
    pub fn watched(&self) -> bool {
        self.viewers.load(Ordering::Relaxed) > 0
    }

    /// Draws the tracks on `image` and hands the JPEG to the viewers.
    pub fn publish(&self, image: &Image, tracks: &[TrackView]) {
        if let Some(jpeg) = annotate(image, tracks) {
            self.frames.send_replace(Some(jpeg));
        }
    }

    /// A new viewer's frames, or None when the camera has `MAX_VIEWERS` already.
    pub fn watch(self: &Arc<Self>) -> Option<(watch::Receiver<Option<Bytes>>, Viewer)> {
        let n = self.viewers.fetch_add(1, Ordering::Relaxed);
        let viewer = Viewer(self.clone());
        if n >= MAX_VIEWERS {
            return None;
        }
        Some((self.frames.subscribe(), viewer))
    }

    /// Tells the viewers the camera stopped (their streams end).
    pub fn close(&self) {
        // Receivers see the channel closed once every sender is gone: replace the value with
        // None, which the stream reads as the end.
        self.frames.send_replace(None);
    }
}

const IDENTIFIED: Rgb<u8> = Rgb([40, 200, 90]);
const UNKNOWN: Rgb<u8> = Rgb([245, 160, 30]);

fn annotate(image: &Image, tracks: &[TrackView]) -> Option<Bytes> {
    let mut img = RgbImage::from_raw(image.width(), image.height(), image.as_rgb().to_vec())?;
    for t in tracks {
        let colour = if t.employee_id.is_some() {
            IDENTIFIED
        } else {
            UNKNOWN
        };
        let [x1, y1, x2, y2] = t.bbox.map(|v| v.round() as i64);
        for inset in 0..2 {
            rectangle(
                &mut img,
                x1 + inset,
                y1 + inset,
                x2 - inset,
                y2 - inset,
                colour,
            );
        }
        let label = match (&t.name, t.score) {
            (Some(name), Some(score)) => format!("{name} #{} {score:.2}", t.track_id),
            _ => format!("#{}", t.track_id),
        };
        // Above the box when there is room, else inside its top.
        let y = if y1 >= 20 { y1 - 19 } else { y1 + 3 };
        label_box(&mut img, x1, y, &label, colour);
    }
    let mut out = Vec::with_capacity(64 * 1024);
    JpegEncoder::new_with_quality(&mut out, 75)
        .encode_image(&img)
        .ok()?;
    Some(Bytes::from(out))
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn rectangle(img: &mut RgbImage, x1: i64, y1: i64, x2: i64, y2: i64, c: Rgb<u8>) {
    for x in x1..=x2 {
        put(img, x, y1, c);
        put(img, x, y2, c);
    }
    for y in y1..=y2 {
        put(img, x1, y, c);
        put(img, x2, y, c);
    }
}

/// Text in the public-domain 8x8 bitmap font at twice its size, white on a `bg` band.
fn label_box(img: &mut RgbImage, x: i64, y: i64, text: &str, bg: Rgb<u8>) {
    use font8x8::UnicodeFonts;
    let chars: Vec<char> = text.chars().take(40).collect();
    let (w, h) = (chars.len() as i64 * 16 + 4, 16 + 2);
    for yy in y..y + h {
        for xx in x..x + w {
            put(img, xx, yy, bg);
        }
    }
    for (i, ch) in chars.iter().enumerate() {
        let glyph = font8x8::BASIC_FONTS
            .get(*ch)
            .or_else(|| font8x8::LATIN_FONTS.get(*ch))
            .or_else(|| font8x8::BASIC_FONTS.get('?'))
            .unwrap_or([0; 8]);
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                if bits >> col & 1 == 1 {
                    let (px, py) = (x + 2 + i as i64 * 16 + col * 2, y + 1 + row as i64 * 2);
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        put(img, px + dx, py + dy, Rgb([255, 255, 255]));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_boxes_and_labels_into_a_jpeg() {
        let image = Image::from_rgb(160, 120, vec![0; 160 * 120 * 3]).unwrap();
        let tracks = [TrackView {
            track_id: 7,
            bbox: [40.0, 40.0, 100.0, 110.0],
            employee_id: Some("e".into()),
            name: Some("Ann".into()),
            score: Some(0.8),
        }];
        let jpeg = annotate(&image, &tracks).unwrap();
        let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        // The box's left edge is green, the label band above it too, the middle still black.
        let px = back.get_pixel(40, 80);
        assert!(px[1] > 150 && px[0] < 100, "{px:?}");
        let band = back.get_pixel(45, 22);
        assert!(band[1] > 150 || band[0] > 200, "{band:?}");
        assert!(back.get_pixel(70, 80)[1] < 40);
    }
}
