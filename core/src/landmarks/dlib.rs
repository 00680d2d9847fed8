//! dlib's 5-point shape predictor (an ensemble of regression trees, Kazemi & Sullivan 2014) and
//! dlib's face chip, so faces can be aligned exactly as face_recognition aligns them before
//! computing dlib ResNet descriptors: encodings it stored stay comparable with ours.
//!
//! The model file is dlib's own serialisation (`shape_predictor_5_face_landmarks.dat`, CC0),
//! read here rather than converted, and evaluated as dlib does: pixel intensities are
//! `(r + g + b) / 3`, sample positions and the output points are rounded to whole pixels.

use crate::align::Similarity;
use crate::detect::{BoundingBox, Face};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::models::ModelPack;

/// The shape predictor's model id in the pack.
pub const MODEL_ID: &str = "dlib-shape-predictor-5";

/// The face chip face_recognition computes descriptors on: 150 pixels, padding 0.25.
const CHIP_SIZE: f64 = 150.0;
const CHIP_PADDING: f64 = 0.25;
/// Where dlib's chip puts its 5 points, as fractions of the unpadded face square (dlib's
/// `get_face_chip_details` for 5-point shapes), in the predictor's point order.
const CHIP_POINTS: [[f64; 2]; 5] = [
    [0.8595674595992, 0.2134981538014],
    [0.6460604764104, 0.2289674387677],
    [0.1205750620789, 0.2137274526848],
    [0.3340850613712, 0.2290642403242],
    [0.4901123135679, 0.6277975316475],
];

/// The box dlib's HOG detector (face_recognition's default `face_locations`) draws around a
/// face YuNet found, predicted from YuNet's box and five points: the shape predictor expects
/// its boxes. Fitted by least squares on 1,200 LFW images outside the 6,000 test pairs
/// (`benches/compare/fr_alignment_fit.py`): centre = box centre + Σ wᵢ (pointᵢ − box centre),
/// side = w·width + h·height.
const HOG_CENTRE_WEIGHTS: [f32; 5] = [0.052, 0.121, 0.344, 0.183, -0.062];
const HOG_SIDE: [f32; 2] = [0.682, 0.314];

/// A face as face_recognition sees it ([`crate::Engine::dlib_faces`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DlibFace {
    /// dlib's box (inclusive left, top, right, bottom), what face_recognition reports as the
    /// location `(top, right, bottom, left)`.
    pub rect: BoundingBox,
    /// dlib's 5 points: outer and inner corner of the eye on the image's right, outer and inner
    /// corner of the other eye, base of the nose.
    pub points: [[f32; 2]; 5],
    /// The face with landmarks that crop dlib's face chip for the engine's embedder.
    pub aligned: Face,
}

/// One split of a regression tree: go left when `pixel[a] - pixel[b] > threshold`.
#[derive(Debug, Clone)]
struct Split {
    a: usize,
    b: usize,
    threshold: f32,
}

#[derive(Debug, Clone)]
struct Tree {
    splits: Vec<Split>,
    /// Shape increments, one per leaf (`splits.len() + 1` leaves).
    leaves: Vec<Vec<f32>>,
}

/// One cascade level: the pixels it samples and the trees that read them.
#[derive(Debug, Clone)]
struct Level {
    trees: Vec<Tree>,
    /// Per sampled pixel: the mean-shape point it hangs off and its offset from it.
    anchors: Vec<usize>,
    deltas: Vec<[f32; 2]>,
}

/// dlib's shape predictor, loaded from the model pack.
#[derive(Debug, Clone)]
pub struct ShapePredictor {
    /// Mean shape in the unit box, x0 y0 x1 y1 ...
    initial: Vec<f32>,
    levels: Vec<Level>,
}

/// A cursor over dlib's serialisation: integers are a length byte (low nibble: byte count,
/// high bit: negative) then little-endian magnitude bytes; floats are an integer mantissa and
/// an integer exponent of two; vectors are a length then the items; matrices are `-rows`,
/// `-cols` then the items row by row.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn fail(&self, what: &str) -> Error {
        Error::ModelManifest(format!(
            "{MODEL_ID}: not a dlib shape predictor ({what} at byte {})",
            self.at
        ))
    }

    fn int(&mut self) -> Result<i64> {
        let head = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| self.fail("file ends"))?;
        let len = (head & 0x0f) as usize;
        if len > 8 || self.at + 1 + len > self.bytes.len() {
            return Err(self.fail("bad integer"));
        }
        let mut magnitude: u64 = 0;
        for (i, b) in self.bytes[self.at + 1..self.at + 1 + len]
            .iter()
            .enumerate()
        {
            magnitude |= (*b as u64) << (8 * i);
        }
        self.at += 1 + len;
        let magnitude = i64::try_from(magnitude).map_err(|_| self.fail("integer too large"))?;
        Ok(if head & 0x80 != 0 {
            -magnitude
        } else {
            magnitude
        })
    }

    /// A count or index, bounded so a corrupt file cannot ask for a huge allocation.
    fn count(&mut self, max: usize) -> Result<usize> {
        let n = self.int()?;
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| self.fail("count out of range"))
    }

    fn float(&mut self) -> Result<f32> {
        let mantissa = self.int()?;
        let exponent = self.int()?;
        // dlib marks infinities and NaN with exponents beyond any real float's.
        if !(-2000..=2000).contains(&exponent) {
            return Err(self.fail("non-finite number"));
        }
        Ok((mantissa as f64 * 2f64.powi(exponent as i32)) as f32)
    }

    fn column(&mut self, rows: usize) -> Result<Vec<f32>> {
        let (r, c) = (self.int()?, self.int()?);
        if r != -(rows as i64) || c != -1 {
            return Err(self.fail("unexpected matrix shape"));
        }
        (0..rows).map(|_| self.float()).collect()
    }
}

impl ShapePredictor {
    /// Loads the predictor from the pack (sha256 checked).
    pub fn load(pack: &ModelPack) -> Result<ShapePredictor> {
        ShapePredictor::parse(&pack.load(MODEL_ID)?)
    }

    /// Reads dlib's serialised `shape_predictor` (version 1).
    pub fn parse(bytes: &[u8]) -> Result<ShapePredictor> {
        const MAX: usize = 1 << 20;
        let mut r = Reader { bytes, at: 0 };
        if r.int()? != 1 {
            return Err(r.fail("unknown version"));
        }
        let rows = {
            let n = r.int()?;
            if !(-200..=-2).contains(&n) || n % 2 != 0 || r.int()? != -1 {
                return Err(r.fail("bad mean shape"));
            }
            (-n) as usize
        };
        let initial = (0..rows).map(|_| r.float()).collect::<Result<Vec<_>>>()?;
        let levels = r.count(MAX)?;
        let mut forests = Vec::with_capacity(levels.min(64));
        for _ in 0..levels {
            let trees = r.count(MAX)?;
            let mut forest = Vec::with_capacity(trees.min(4096));
            for _ in 0..trees {
                let splits = (0..r.count(MAX)?)
                    .map(|_| {
                        Ok(Split {
                            a: r.count(MAX)?,
                            b: r.count(MAX)?,
                            threshold: r.float()?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let leaves = (0..r.count(MAX)?)
                    .map(|_| r.column(rows))
                    .collect::<Result<Vec<_>>>()?;
                if leaves.len() != splits.len() + 1 {
                    return Err(r.fail("a tree's leaves do not match its splits"));
                }
                forest.push(Tree { splits, leaves });
            }
            forests.push(forest);
        }
        let anchors = (0..r.count(MAX)?)
            .map(|_| (0..r.count(MAX)?).map(|_| r.count(rows / 2 - 1)).collect())
            .collect::<Result<Vec<Vec<usize>>>>()?;
        let deltas = (0..r.count(MAX)?)
            .map(|_| {
                (0..r.count(MAX)?)
                    .map(|_| Ok([r.float()?, r.float()?]))
                    .collect()
            })
            .collect::<Result<Vec<Vec<[f32; 2]>>>>()?;
        if r.at != bytes.len() || anchors.len() != levels || deltas.len() != levels {
            return Err(r.fail("unexpected layout"));
        }
        let levels = forests
            .into_iter()
            .zip(anchors.into_iter().zip(deltas))
            .map(|(trees, (anchors, deltas))| Level {
                trees,
                anchors,
                deltas,
            })
            .collect::<Vec<_>>();
        for level in &levels {
            let pixels = level.deltas.len();
            let bad_split = level
                .trees
                .iter()
                .flat_map(|t| &t.splits)
                .any(|s| s.a >= pixels || s.b >= pixels);
            if level.anchors.len() != pixels || bad_split {
                return Err(Error::ModelManifest(format!(
                    "{MODEL_ID}: a tree reads a pixel its cascade level does not sample"
                )));
            }
        }
        Ok(ShapePredictor { initial, levels })
    }

    /// The points of the face in `rect` (dlib's inclusive `left, top, right, bottom`), in the
    /// model's order, rounded to whole pixels as dlib returns them.
    pub fn predict(&self, image: &Image, rect: &BoundingBox) -> Vec<[f32; 2]> {
        let (w, h) = (image.width() as i64, image.height() as i64);
        let rgb = image.as_rgb();
        let intensity = |x: i64, y: i64| -> f32 {
            if x < 0 || y < 0 || x >= w || y >= h {
                return 0.0;
            }
            let i = 3 * (y * w + x) as usize;
            ((rgb[i] as u32 + rgb[i + 1] as u32 + rgb[i + 2] as u32) / 3) as f32
        };
        // The unit square onto the box: (0,0) its top-left, (1,1) its bottom-right corner.
        let (left, top) = (rect.x1.round() as f64, rect.y1.round() as f64);
        let (sx, sy) = (rect.x2.round() as f64 - left, rect.y2.round() as f64 - top);
        let to_image = |p: [f32; 2]| [left + sx * p[0] as f64, top + sy * p[1] as f64];
        let mut shape = self.initial.clone();
        let mut pixels = Vec::new();
        for level in &self.levels {
            // The rotation and scale from the mean shape to the current one move each sample.
            let m = Similarity::estimate(&points(&self.initial), &points(&shape)).unwrap_or(
                Similarity {
                    a: 1.0,
                    b: 0.0,
                    tx: 0.0,
                    ty: 0.0,
                },
            );
            pixels.clear();
            pixels.extend(level.anchors.iter().zip(&level.deltas).map(|(&k, d)| {
                let p = [
                    m.a * d[0] - m.b * d[1] + shape[2 * k],
                    m.b * d[0] + m.a * d[1] + shape[2 * k + 1],
                ];
                let [x, y] = to_image(p);
                intensity(round(x), round(y))
            }));
            for tree in &level.trees {
                let mut i = 0;
                while i < tree.splits.len() {
                    let s = &tree.splits[i];
                    i = if pixels[s.a] - pixels[s.b] > s.threshold {
                        2 * i + 1
                    } else {
                        2 * i + 2
                    };
                }
                for (v, d) in shape.iter_mut().zip(&tree.leaves[i - tree.splits.len()]) {
                    *v += d;
                }
            }
        }
        points(&shape)
            .into_iter()
            .map(|p| {
                let [x, y] = to_image(p);
                [round(x) as f32, round(y) as f32]
            })
            .collect()
    }
}

/// dlib rounds a point to whole pixels half away from zero.
fn round(v: f64) -> i64 {
    v.round() as i64
}

fn points(shape: &[f32]) -> Vec<[f32; 2]> {
    shape.chunks_exact(2).map(|c| [c[0], c[1]]).collect()
}

/// The box dlib's HOG detector would draw around `face` (fitted, see the constants above): what
/// the shape predictor is run in, and what the face_recognition drop-in reports as the face's
/// location. Whole pixels, clipped to the image as face_recognition clips its boxes.
pub fn hog_box(face: &Face, width: u32, height: u32) -> BoundingBox {
    let b = face.bbox;
    let centre = [(b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0];
    let mut c = centre;
    for (w, p) in HOG_CENTRE_WEIGHTS.iter().zip(&face.landmarks) {
        c[0] += w * (p[0] - centre[0]);
        c[1] += w * (p[1] - centre[1]);
    }
    let side = HOG_SIDE[0] * (b.x2 - b.x1) + HOG_SIDE[1] * (b.y2 - b.y1);
    // face_recognition clips its locations to [0, width] and [0, height].
    let clip = |v: f32, max: u32| v.round().clamp(0.0, max as f32);
    BoundingBox {
        x1: clip(c[0] - side / 2.0, width),
        y1: clip(c[1] - side / 2.0, height),
        x2: clip(c[0] + side / 2.0, width),
        y2: clip(c[1] + side / 2.0, height),
    }
}

/// The map from dlib's face chip (150 pixels, padding 0.25) to the image for a face with
/// dlib's 5 points: a similarity fitted from the chip's points to the face's, whose rectangle
/// dlib then samples corner to corner.
fn chip_to_image(points5: &[[f32; 2]; 5]) -> Option<[f64; 4]> {
    let chip: Vec<[f32; 2]> = CHIP_POINTS
        .iter()
        .map(|p| {
            let f = |v: f64| ((CHIP_PADDING + v) / (2.0 * CHIP_PADDING + 1.0) * CHIP_SIZE) as f32;
            [f(p[0]), f(p[1])]
        })
        .collect();
    let t = Similarity::estimate(&chip, points5)?;
    let (a, b) = (t.a as f64, t.b as f64);
    let scale = (a * a + b * b).sqrt();
    let angle = b.atan2(a);
    let half = CHIP_SIZE / 2.0;
    let centre = [
        a * half - b * half + t.tx as f64,
        b * half + a * half + t.ty as f64,
    ];
    // dlib's rectangles count pixels inclusively: a chip rectangle `CHIP_SIZE·scale` wide
    // spans one pixel less from corner to corner, sampled in `CHIP_SIZE - 1` steps.
    let side = CHIP_SIZE * scale - 1.0;
    let (cos, sin) = (angle.cos(), angle.sin());
    let step = side / (CHIP_SIZE - 1.0);
    let tl = [
        centre[0] - (cos * side / 2.0 - sin * side / 2.0),
        centre[1] - (sin * side / 2.0 + cos * side / 2.0),
    ];
    // image = tl + u·step·(cos, sin) + v·step·(−sin, cos)
    Some([tl[0], tl[1], step * cos, step * sin])
}

/// Landmarks that make an embedder with `template` (points in a `crop` of `crop_size`) crop
/// exactly dlib's face chip of a face with dlib's 5 points `points5`: the image positions of
/// the template's points on that chip. `None` when the points coincide.
pub fn chip_landmarks(
    points5: &[[f32; 2]; 5],
    template: &[[f32; 2]; 5],
    crop_size: [u32; 2],
) -> Option<[[f32; 2]; 5]> {
    let [x0, y0, c, s] = chip_to_image(points5)?;
    // The template is given for the embedder's crop; dlib's chip is 150 pixels.
    let (kx, ky) = (
        CHIP_SIZE / crop_size[0] as f64,
        CHIP_SIZE / crop_size[1] as f64,
    );
    Some(template.map(|[u, v]| {
        let (u, v) = (u as f64 * kx, v as f64 * ky);
        [(x0 + u * c - v * s) as f32, (y0 + u * s + v * c) as f32]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_truncated_or_foreign_file() {
        for bad in [
            &b""[..],
            &b"\x01\x02"[..],
            &b"\x01\x01\x81\x0a"[..],
            b"not a model",
        ] {
            assert!(ShapePredictor::parse(bad).is_err());
        }
    }

    #[test]
    fn chip_landmarks_of_the_chip_points_are_the_template() {
        // A face whose dlib points sit exactly where the chip puts them: the chip is the image
        // itself, shifted by half a pixel (dlib's rectangles count pixels inclusively, so the
        // 150-pixel square spans 149 pixels corner to corner, centred on the same point).
        let points = CHIP_POINTS.map(|p| {
            let f = |v: f64| ((CHIP_PADDING + v) / (2.0 * CHIP_PADDING + 1.0) * CHIP_SIZE) as f32;
            [f(p[0]), f(p[1])]
        });
        let t = [
            [50.0, 50.0],
            [100.0, 50.0],
            [75.0, 75.0],
            [55.0, 100.0],
            [95.0, 100.0],
        ];
        let got = chip_landmarks(&points, &t, [150, 150]).unwrap();
        for (g, e) in got.iter().zip(&t) {
            assert!((g[0] - e[0] - 0.5).abs() < 1e-3 && (g[1] - e[1] - 0.5).abs() < 1e-3);
        }
    }
}
