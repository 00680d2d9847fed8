//! A synthetic camera built from real photos: LFW faces walking across a 640x480 scene, in and
//! out of view, alone and two at a time, encoded by ffmpeg into an H.264 file the server reads
//! like any camera's recording.
#![allow(dead_code)]

use image::{imageops, Rgb, RgbImage};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 480;
pub const FPS: u32 = 5;

/// One person in view from `start` to `end` (frame numbers), walking from `from` to `to`
/// (the face patch's top-left corner).
#[derive(Debug, Clone)]
pub struct Visit {
    pub person: &'static str,
    pub photo: String,
    pub start: u32,
    pub end: u32,
    pub from: (f32, f32),
    pub to: (f32, f32),
}

pub fn lfw(person: &str, n: u32) -> String {
    format!("lfw/images/{person}/{person}_{n:04}.jpg")
}

/// The face region of an LFW photo (they are 250x250 with the face in the middle).
pub fn patch(rel: &str) -> RgbImage {
    let img = image::open(faceprint_server::testing::data(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .to_rgb8();
    imageops::crop_imm(&img, 55, 45, 140, 160).to_image()
}

fn background() -> RgbImage {
    RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        // A lit wall and a floor: enough texture for an encoder, nothing face-like.
        if y > 380 {
            Rgb([90, 80, 70])
        } else {
            let v = 150 + ((x / 40 + y / 60) % 2) as u8 * 12;
            Rgb([v, v, v.saturating_sub(10)])
        }
    })
}

/// Frame `n` of the scene.
pub fn frame(n: u32, visits: &[Visit], patches: &[RgbImage]) -> RgbImage {
    let mut img = background();
    for (v, patch) in visits.iter().zip(patches) {
        if n < v.start || n > v.end {
            continue;
        }
        let t = (n - v.start) as f32 / (v.end - v.start).max(1) as f32;
        let x = v.from.0 + (v.to.0 - v.from.0) * t;
        // A walker's head bobs a little.
        let y = v.from.1 + (v.to.1 - v.from.1) * t + 4.0 * (n as f32 * 1.3).sin();
        imageops::overlay(&mut img, patch, x as i64, y as i64);
    }
    img
}

/// Encodes the scene with ffmpeg (libx264) into `out`; answers the frame count.
pub fn encode(visits: &[Visit], frames: u32, out: &Path) -> u32 {
    let patches: Vec<RgbImage> = visits.iter().map(|v| patch(&v.photo)).collect();
    let mut child = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "image2pipe",
        ])
        .args(["-framerate", &FPS.to_string(), "-vcodec", "ppm", "-i", "-"])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        ])
        .arg(out)
        .stdin(Stdio::piped())
        .spawn()
        .expect("ffmpeg (apt-get install ffmpeg; ./setup.sh does)");
    {
        let stdin = child.stdin.as_mut().unwrap();
        for n in 0..frames {
            let f = frame(n, visits, &patches);
            write!(stdin, "P6\n{WIDTH} {HEIGHT}\n255\n").unwrap();
            stdin.write_all(f.as_raw()).unwrap();
        }
    }
    drop(child.stdin.take());
    assert!(
        child.wait().unwrap().success(),
        "ffmpeg failed to encode the scene"
    );
    frames
}
