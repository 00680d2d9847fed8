//! Resampling straight into model input tensors: one pass from RGB8 to normalised f32, in the
//! channel order and layout the model wants, with zero padding. No intermediate image.

use super::Image;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelOrder {
    Rgb,
    Bgr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Nchw,
    Nhwc,
}

/// `value = (pixel - mean) * scale`, per channel in the model's channel order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Normalize {
    pub mean: [f32; 3],
    pub scale: [f32; 3],
}

impl Normalize {
    pub const RAW: Normalize = Normalize {
        mean: [0.0; 3],
        scale: [1.0; 3],
    };
}

/// Target of one resample: the image is scaled to `content_w x content_h` and placed top-left in
/// a `tensor_w x tensor_h` canvas of zeros (after normalisation of 0, i.e. raw zero).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TensorTarget {
    pub content_w: usize,
    pub content_h: usize,
    pub tensor_w: usize,
    pub tensor_h: usize,
    pub order: ChannelOrder,
    pub layout: Layout,
    pub norm: Normalize,
}

/// Bilinear resample with pixel-centre alignment (as OpenCV's INTER_LINEAR), written into `out`
/// (resized to `3 * tensor_w * tensor_h`).
pub(crate) fn resample_into(img: &Image, t: &TensorTarget, out: &mut Vec<f32>) {
    let (sw, sh) = (img.width() as usize, img.height() as usize);
    let plane = t.tensor_w * t.tensor_h;
    out.clear();
    out.resize(3 * plane, 0.0);
    let src = img.as_rgb();
    let chan = match t.order {
        ChannelOrder::Rgb => [0usize, 1, 2],
        ChannelOrder::Bgr => [2usize, 1, 0],
    };
    // Padding holds the normalised value of a zero pixel, like zero-padding the raw image.
    for (c, &mean) in t.norm.mean.iter().enumerate() {
        let pad = (0.0 - mean) * t.norm.scale[c];
        if pad != 0.0 {
            match t.layout {
                Layout::Nchw => out[c * plane..(c + 1) * plane].fill(pad),
                Layout::Nhwc => out.iter_mut().skip(c).step_by(3).for_each(|v| *v = pad),
            }
        }
    }
    if sw == t.content_w && sh == t.content_h {
        copy_unscaled(src, sw, sh, t, &chan, out);
        return;
    }
    // Separable: each needed source row is interpolated horizontally once (cached, since
    // neighbouring output rows share source rows), then output rows blend two cached rows.
    let xs = axis_taps(sw, t.content_w);
    let ys = axis_taps(sh, t.content_h);
    let n = t.content_w * 3;
    let mut cached: [(usize, Vec<f32>); 2] =
        [(usize::MAX, vec![0f32; n]), (usize::MAX, vec![0f32; n])];
    for (dy, &(y0, y1, fy)) in ys.iter().enumerate() {
        for y in [y0, y1] {
            if cached[0].0 != y && cached[1].0 != y {
                // Replace the slot that does not hold a row this output row needs.
                let victim = if cached[0].0 == y0 || cached[0].0 == y1 {
                    1
                } else {
                    0
                };
                horizontal(
                    &src[y * sw * 3..(y + 1) * sw * 3],
                    &xs,
                    &mut cached[victim].1,
                );
                cached[victim].0 = y;
            }
        }
        let pick = |y: usize| {
            if cached[0].0 == y {
                &cached[0].1
            } else {
                &cached[1].1
            }
        };
        blend_rows(out, t, dy, pick(y0), pick(y1), fy, &chan);
    }
}

/// Writes output row `dy`: the vertical blend of two horizontally resampled rows, normalised,
/// in the tensor's layout and channel order.
fn blend_rows(
    out: &mut [f32],
    t: &TensorTarget,
    dy: usize,
    r0: &[f32],
    r1: &[f32],
    fy: f32,
    chan: &[usize; 3],
) {
    let plane = t.tensor_w * t.tensor_h;
    match t.layout {
        Layout::Nchw => {
            for (c, &sc) in chan.iter().enumerate() {
                let (mean, scale) = (t.norm.mean[c], t.norm.scale[c]);
                let base = c * plane + dy * t.tensor_w;
                let dst = &mut out[base..base + t.content_w];
                for ((o, a), b) in dst
                    .iter_mut()
                    .zip(r0.chunks_exact(3))
                    .zip(r1.chunks_exact(3))
                {
                    *o = (a[sc] + (b[sc] - a[sc]) * fy - mean) * scale;
                }
            }
        }
        Layout::Nhwc => {
            let base = dy * t.tensor_w * 3;
            let dst = &mut out[base..base + t.content_w * 3];
            for ((o, a), b) in dst
                .chunks_exact_mut(3)
                .zip(r0.chunks_exact(3))
                .zip(r1.chunks_exact(3))
            {
                for (c, &sc) in chan.iter().enumerate() {
                    o[c] = (a[sc] + (b[sc] - a[sc]) * fy - t.norm.mean[c]) * t.norm.scale[c];
                }
            }
        }
    }
}

fn horizontal(src_row: &[u8], xs: &[(usize, usize, f32)], out: &mut [f32]) {
    for (o, &(x0, x1, fx)) in out.chunks_exact_mut(3).zip(xs) {
        let (a, b) = (&src_row[x0 * 3..x0 * 3 + 3], &src_row[x1 * 3..x1 * 3 + 3]);
        for k in 0..3 {
            let (a, b) = (a[k] as f32, b[k] as f32);
            o[k] = a + (b - a) * fx;
        }
    }
}

/// No resampling needed (the common case for camera frames and small photos): convert straight
/// from interleaved u8 to the tensor, one channel plane at a time.
fn copy_unscaled(
    src: &[u8],
    w: usize,
    h: usize,
    t: &TensorTarget,
    chan: &[usize; 3],
    out: &mut [f32],
) {
    let plane = t.tensor_w * t.tensor_h;
    for (c, &sc) in chan.iter().enumerate() {
        let (mean, scale) = (t.norm.mean[c], t.norm.scale[c]);
        for y in 0..h {
            let row = &src[y * w * 3..(y + 1) * w * 3];
            match t.layout {
                Layout::Nchw => {
                    let dst = &mut out[c * plane + y * t.tensor_w..c * plane + y * t.tensor_w + w];
                    for (o, px) in dst.iter_mut().zip(row.chunks_exact(3)) {
                        *o = (px[sc] as f32 - mean) * scale;
                    }
                }
                Layout::Nhwc => {
                    let base = y * t.tensor_w * 3;
                    for (x, px) in row.chunks_exact(3).enumerate() {
                        out[base + x * 3 + c] = (px[sc] as f32 - mean) * scale;
                    }
                }
            }
        }
    }
}

/// For each destination index: the two source indices and the weight of the second.
fn axis_taps(src: usize, dst: usize) -> Vec<(usize, usize, f32)> {
    let scale = src as f32 / dst as f32;
    (0..dst)
        .map(|d| {
            if src == dst {
                return (d, d, 0.0);
            }
            let s = ((d as f32 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (s.floor() as usize).min(src - 1);
            let i1 = (i0 + 1).min(src - 1);
            (i0, i1, s - i0 as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_copy_with_bgr_order_and_padding() {
        let img = Image::from_rgb(2, 1, vec![10, 20, 30, 40, 50, 60]).unwrap();
        let t = TensorTarget {
            content_w: 2,
            content_h: 1,
            tensor_w: 3,
            tensor_h: 2,
            order: ChannelOrder::Bgr,
            layout: Layout::Nchw,
            norm: Normalize::RAW,
        };
        let mut out = Vec::new();
        resample_into(&img, &t, &mut out);
        // plane B, then G, then R; each 3x2 with the image in the top-left.
        assert_eq!(&out[0..6], &[30.0, 60.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&out[6..12], &[20.0, 50.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&out[12..18], &[10.0, 40.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn downscale_by_two_averages_neighbours() {
        let img = Image::from_rgb(
            4,
            1,
            vec![0, 0, 0, 100, 100, 100, 200, 200, 200, 50, 50, 50],
        )
        .unwrap();
        let t = TensorTarget {
            content_w: 2,
            content_h: 1,
            tensor_w: 2,
            tensor_h: 1,
            order: ChannelOrder::Rgb,
            layout: Layout::Nhwc,
            norm: Normalize::RAW,
        };
        let mut out = Vec::new();
        resample_into(&img, &t, &mut out);
        assert_eq!(out, vec![50.0, 50.0, 50.0, 125.0, 125.0, 125.0]);
    }
}
