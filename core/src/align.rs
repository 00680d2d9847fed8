//! Alignment: a 5-point similarity transform (Umeyama, no reflection) from detector landmarks to
//! an embedder's template, and a bilinear warp that writes the crop straight into the model's
//! input tensor.

use crate::error::{Error, Result};
use crate::image::resize::{ChannelOrder, Layout, Normalize};
use crate::image::Image;

/// `dst = [[a, -b], [b, a]] · src + (tx, ty)`: rotation, uniform scale and translation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// Scale times the cosine of the rotation.
    pub a: f32,
    /// Scale times the sine of the rotation.
    pub b: f32,
    /// Translation along x.
    pub tx: f32,
    /// Translation along y.
    pub ty: f32,
}

impl Similarity {
    /// The least-squares similarity mapping `src` onto `dst` (Umeyama 1991, 2-D, rotation
    /// only). In 2-D the optimum has this closed form; `None` if `src` points coincide.
    pub fn estimate(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Similarity> {
        if src.len() != dst.len() || src.len() < 2 {
            return None;
        }
        let n = src.len() as f64;
        let mean = |p: &[[f32; 2]]| {
            let (sx, sy) = p
                .iter()
                .fold((0f64, 0f64), |(x, y), q| (x + q[0] as f64, y + q[1] as f64));
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        let (mut num_a, mut num_b, mut var) = (0f64, 0f64, 0f64);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (s[0] as f64 - msx, s[1] as f64 - msy);
            let (dx, dy) = (d[0] as f64 - mdx, d[1] as f64 - mdy);
            num_a += sx * dx + sy * dy;
            num_b += sx * dy - sy * dx;
            var += sx * sx + sy * sy;
        }
        if var.is_nan() || var <= 1e-9 || !num_a.is_finite() || !num_b.is_finite() {
            return None;
        }
        let (a, b) = (num_a / var, num_b / var);
        Some(Similarity {
            a: a as f32,
            b: b as f32,
            tx: (mdx - (a * msx - b * msy)) as f32,
            ty: (mdy - (b * msx + a * msy)) as f32,
        })
    }

    /// Maps a point.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.tx,
            self.b * p[0] + self.a * p[1] + self.ty,
        ]
    }

    /// The map back.
    pub fn inverse(&self) -> Similarity {
        let det = self.a * self.a + self.b * self.b;
        let (ia, ib) = (self.a / det, -self.b / det);
        Similarity {
            a: ia,
            b: ib,
            tx: -(ia * self.tx - ib * self.ty),
            ty: -(ib * self.tx + ia * self.ty),
        }
    }

    /// The map from an image onto a square crop of `size` pixels showing a square of `side`
    /// image pixels centred on `centre`, turned by −`angle` (radians) so that direction lies
    /// along the crop's x axis.
    pub fn centred_crop(centre: [f32; 2], side: f32, angle: f32, size: f32) -> Similarity {
        let s = size / side;
        let (a, b) = (s * angle.cos(), -s * angle.sin());
        Similarity {
            a,
            b,
            tx: size / 2.0 - (a * centre[0] - b * centre[1]),
            ty: size / 2.0 - (b * centre[0] + a * centre[1]),
        }
    }

    /// Rotation angle in degrees.
    pub fn angle_degrees(&self) -> f32 {
        self.b.atan2(self.a).to_degrees()
    }

    /// The uniform scale.
    pub fn scale(&self) -> f32 {
        (self.a * self.a + self.b * self.b).sqrt()
    }
}

/// Where a crop goes in a tensor batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CropFormat {
    pub width: usize,
    pub height: usize,
    pub order: ChannelOrder,
    pub layout: Layout,
    pub norm: Normalize,
    pub pixels: CropPixels,
}

/// How crop pixels are sampled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CropPixels {
    /// Bilinear, kept fractional; outside the image reads as black (OpenCV's `warpAffine`).
    #[default]
    Bilinear,
    /// As dlib's `extract_image_chip` writes a chip: bilinear truncated to a whole level (the
    /// chip is 8-bit), and black wherever the 2x2 neighbourhood leaves the image. The dlib
    /// ResNet descriptor moves by about 0.035 between the two.
    DlibChip,
}

/// A general 2-D affine map `[x', y'] = [m0·x + m1·y + m2, m3·x + m4·y + m5]`, for crops whose
/// two axes are scaled differently (MiniFASNet stretches its box to a square input).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Affine {
    pub m: [f32; 6],
}

impl Affine {
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let m = &self.m;
        [
            m[0] * p[0] + m[1] * p[1] + m[2],
            m[3] * p[0] + m[4] * p[1] + m[5],
        ]
    }
}

impl From<Similarity> for Affine {
    fn from(s: Similarity) -> Affine {
        Affine {
            m: [s.a, -s.b, s.tx, s.b, s.a, s.ty],
        }
    }
}

/// Warps `img` through `to_crop` (image → crop coordinates) into one crop of `out`
/// (`3 * width * height` values). Pixels outside the image are black, as OpenCV's
/// `warpAffine` with a constant border. `mirror` writes the crop flipped left-right.
pub(crate) fn warp_into(
    img: &Image,
    to_crop: &Similarity,
    f: &CropFormat,
    mirror: bool,
    out: &mut [f32],
) {
    warp_affine_into(img, &to_crop.inverse().into(), f, mirror, out)
}

/// As [`warp_into`], given the inverse map (crop → image) of any affine transform.
pub(crate) fn warp_affine_into(
    img: &Image,
    inv: &Affine,
    f: &CropFormat,
    mirror: bool,
    out: &mut [f32],
) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.as_rgb();
    let plane = f.width * f.height;
    let chan = match f.order {
        ChannelOrder::Rgb => [0usize, 1, 2],
        ChannelOrder::Bgr => [2usize, 1, 0],
    };
    // Outside the image reads as black, as OpenCV's warpAffine with a constant border.
    let px = |x: i64, y: i64, c: usize| -> f32 {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            0.0
        } else {
            src[(y as usize * w + x as usize) * 3 + c] as f32
        }
    };
    let mut v = [0f32; 3];
    for y in 0..f.height {
        // The source point moves by (m0, m3) per output pixel along a row.
        let start = inv.apply([0.0, y as f32]);
        let (mut sx, mut sy) = (start[0], start[1]);
        for x in 0..f.width {
            let (fx0, fy0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - fx0, sy - fy0);
            let (x0, y0) = (fx0 as i64, fy0 as i64);
            let inside = x0 >= 0 && y0 >= 0 && (x0 as usize) + 1 < w && (y0 as usize) + 1 < h;
            if inside {
                let i00 = (y0 as usize * w + x0 as usize) * 3;
                let i10 = i00 + w * 3;
                let (r0, r1) = (&src[i00..i00 + 6], &src[i10..i10 + 6]);
                for (c, &sc) in chan.iter().enumerate() {
                    let top = r0[sc] as f32 + (r0[sc + 3] as f32 - r0[sc] as f32) * fx;
                    let bottom = r1[sc] as f32 + (r1[sc + 3] as f32 - r1[sc] as f32) * fx;
                    v[c] = top + (bottom - top) * fy;
                }
            } else {
                for (c, &sc) in chan.iter().enumerate() {
                    let top = px(x0, y0, sc) * (1.0 - fx) + px(x0 + 1, y0, sc) * fx;
                    let bottom = px(x0, y0 + 1, sc) * (1.0 - fx) + px(x0 + 1, y0 + 1, sc) * fx;
                    v[c] = top * (1.0 - fy) + bottom * fy;
                }
            }
            if f.pixels == CropPixels::DlibChip {
                for c in v.iter_mut() {
                    *c = if inside { c.floor() } else { 0.0 };
                }
            }
            let ox = if mirror { f.width - 1 - x } else { x };
            for c in 0..3 {
                let value = (v[c] - f.norm.mean[c]) * f.norm.scale[c];
                match f.layout {
                    Layout::Nchw => out[c * plane + y * f.width + ox] = value,
                    Layout::Nhwc => out[(y * f.width + ox) * 3 + c] = value,
                }
            }
            sx += inv.m[0];
            sy += inv.m[3];
        }
    }
}

/// Side of a square crop `enlarge` times the box's longer side; an error for a degenerate box.
pub(crate) fn square_side(b: &crate::detect::BoundingBox, enlarge: f32) -> Result<f32> {
    let side = enlarge * b.width().max(b.height());
    if side.is_finite() && side >= 1.0 {
        Ok(side)
    } else {
        Err(Error::InvalidArgument(format!(
            "face box {b:?} is too small or not finite"
        )))
    }
}

/// The similarity that maps a face's 5 landmarks onto `template`.
pub fn transform_to_template(
    landmarks: &[[f32; 2]; 5],
    template: &[[f32; 2]; 5],
) -> Result<Similarity> {
    if landmarks.iter().flatten().any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument("landmarks must be finite".into()));
    }
    Similarity::estimate(landmarks, template)
        .ok_or_else(|| Error::InvalidArgument("landmarks are degenerate (all in one place)".into()))
}

/// An aligned RGB crop of a face, as the embedder sees it (for inspection and debugging).
pub fn aligned_crop(
    img: &Image,
    landmarks: &[[f32; 2]; 5],
    template: &[[f32; 2]; 5],
    size: [u32; 2],
) -> Result<Image> {
    let t = transform_to_template(landmarks, template)?;
    let f = CropFormat {
        width: size[0] as usize,
        height: size[1] as usize,
        order: ChannelOrder::Rgb,
        layout: Layout::Nhwc,
        norm: Normalize::RAW,
        pixels: CropPixels::Bilinear,
    };
    let mut buf = vec![0f32; 3 * f.width * f.height];
    warp_into(img, &t, &f, false, &mut buf);
    let rgb = buf
        .iter()
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
        .collect();
    Image::from_rgb(size[0], size[1], rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_similarity() {
        let truth = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 12.0,
            ty: -4.0,
        };
        let src = [
            [10.0, 20.0],
            [40.0, 22.0],
            [25.0, 35.0],
            [14.0, 50.0],
            [38.0, 49.0],
        ];
        let dst: Vec<[f32; 2]> = src.iter().map(|&p| truth.apply(p)).collect();
        let est = Similarity::estimate(&src, &dst).unwrap();
        for (got, want) in [(est.a, 0.8), (est.b, 0.3), (est.tx, 12.0), (est.ty, -4.0)] {
            assert!((got - want).abs() < 1e-4, "{est:?}");
        }
        let back = est.inverse().apply(est.apply([3.0, 7.0]));
        assert!((back[0] - 3.0).abs() < 1e-4 && (back[1] - 7.0).abs() < 1e-4);
    }

    #[test]
    fn never_reflects() {
        // dst is src mirrored: the best similarity without reflection is not a reflection.
        let src = [[0.0, 0.0], [10.0, 0.0], [5.0, 5.0], [2.0, 9.0], [8.0, 9.0]];
        let dst: Vec<[f32; 2]> = src.iter().map(|p| [-p[0], p[1]]).collect();
        let est = Similarity::estimate(&src, &dst).unwrap();
        let det = est.a * est.a + est.b * est.b;
        assert!(det >= 0.0);
    }

    #[test]
    fn warp_matches_direct_bilinear_sampling_including_borders() {
        // A 7x5 gradient image, rotated and scaled so the crop runs off its edges.
        let rgb: Vec<u8> = (0..7 * 5)
            .flat_map(|i| [(i * 7) as u8, (i * 3) as u8, 255 - i as u8])
            .collect();
        let img = Image::from_rgb(7, 5, rgb).unwrap();
        let t = Similarity {
            a: 1.3,
            b: 0.4,
            tx: 1.0,
            ty: -2.0,
        };
        let f = CropFormat {
            width: 9,
            height: 8,
            order: ChannelOrder::Bgr,
            layout: Layout::Nchw,
            norm: Normalize::RAW,
            pixels: CropPixels::Bilinear,
        };
        let mut out = vec![0f32; 3 * 9 * 8];
        warp_into(&img, &t, &f, false, &mut out);
        let inv = t.inverse();
        let get = |x: i64, y: i64, c: usize| -> f32 {
            if x < 0 || y < 0 || x >= 7 || y >= 5 {
                0.0
            } else {
                img.as_rgb()[((y * 7 + x) * 3) as usize + c] as f32
            }
        };
        for y in 0..8 {
            for x in 0..9 {
                let s = inv.apply([x as f32, y as f32]);
                let (x0, y0) = (s[0].floor(), s[1].floor());
                let (fx, fy) = (s[0] - x0, s[1] - y0);
                let (x0, y0) = (x0 as i64, y0 as i64);
                for (c, sc) in [2usize, 1, 0].into_iter().enumerate() {
                    let want = (get(x0, y0, sc) * (1.0 - fx) + get(x0 + 1, y0, sc) * fx)
                        * (1.0 - fy)
                        + (get(x0, y0 + 1, sc) * (1.0 - fx) + get(x0 + 1, y0 + 1, sc) * fx) * fy;
                    let got = out[c * 72 + y * 9 + x];
                    assert!((got - want).abs() < 1e-2, "({x},{y}) c{c}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn degenerate_points_are_an_error() {
        let lm = [[5.0, 5.0]; 5];
        let t = [[1.0, 1.0], [2.0, 1.0], [1.5, 2.0], [1.0, 3.0], [2.0, 3.0]];
        assert!(transform_to_template(&lm, &t).is_err());
    }
}
