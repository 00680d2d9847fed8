//! The constant-velocity Kalman filter SORT runs on each box (Bewley et al., 2016): state
//! `[cx, cy, area, aspect, vx, vy, v_area]`, measurement `[cx, cy, area, aspect]`, one step per
//! processed frame. The aspect ratio is taken as constant; the noise settings are SORT's.

use crate::detect::BoundingBox;

const N: usize = 7;
const M: usize = 4;
type Mat<const R: usize, const C: usize> = [[f64; C]; R];

/// One box's filter.
#[derive(Debug, Clone)]
pub(crate) struct BoxFilter {
    x: [f64; N],
    p: Mat<N, N>,
}

impl BoxFilter {
    pub(crate) fn new(b: &BoundingBox) -> Self {
        let z = measure(b);
        let mut x = [0.0; N];
        x[..M].copy_from_slice(&z);
        // Position known to the detector's noise, velocities unknown.
        let mut p = [[0.0; N]; N];
        for (i, row) in p.iter_mut().enumerate() {
            row[i] = if i < M { 10.0 } else { 10_000.0 };
        }
        BoxFilter { x, p }
    }

    /// Advances one frame and answers the predicted box.
    pub(crate) fn predict(&mut self) -> BoundingBox {
        // A shrinking box must not reach a negative area.
        if self.x[2] + self.x[6] <= 0.0 {
            self.x[6] = 0.0;
        }
        let f = transition();
        self.x = mul_vec(&f, &self.x);
        let fp = mul(&f, &self.p);
        let mut p = mul(&fp, &transpose(&f));
        for (i, q) in [1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 0.0001].iter().enumerate() {
            p[i][i] += q;
        }
        self.p = p;
        self.bbox()
    }

    /// Corrects the state with a measured box.
    pub(crate) fn update(&mut self, b: &BoundingBox) {
        let z = measure(b);
        // H picks the first four state entries, so H·P·Hᵀ is P's top-left block and P·Hᵀ its
        // first four columns.
        let mut s: Mat<M, M> = [[0.0; M]; M];
        for (i, row) in s.iter_mut().enumerate() {
            row.copy_from_slice(&self.p[i][..M]);
        }
        for (i, r) in [1.0, 1.0, 10.0, 10.0].iter().enumerate() {
            s[i][i] += r;
        }
        let Some(s_inv) = invert4(&s) else {
            // Only reachable with non-finite input: start over from the measurement.
            *self = BoxFilter::new(b);
            return;
        };
        let mut k: Mat<N, M> = [[0.0; M]; N];
        for (i, row) in k.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (0..M).map(|l| self.p[i][l] * s_inv[l][j]).sum();
            }
        }
        let y: [f64; M] = std::array::from_fn(|i| z[i] - self.x[i]);
        for (i, xi) in self.x.iter_mut().enumerate() {
            *xi += (0..M).map(|j| k[i][j] * y[j]).sum::<f64>();
        }
        // P = (I - K·H)·P; K·H has K's columns in its first four columns.
        let mut p = self.p;
        for (i, row) in p.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v -= (0..M).map(|l| k[i][l] * self.p[l][j]).sum::<f64>();
            }
        }
        self.p = p;
    }

    /// The box the state stands for.
    pub(crate) fn bbox(&self) -> BoundingBox {
        let area = self.x[2].max(0.0);
        let aspect = self.x[3].max(1e-6);
        let w = (area * aspect).sqrt();
        let h = if w > 0.0 { area / w } else { 0.0 };
        let (cx, cy) = (self.x[0], self.x[1]);
        BoundingBox {
            x1: (cx - w / 2.0) as f32,
            y1: (cy - h / 2.0) as f32,
            x2: (cx + w / 2.0) as f32,
            y2: (cy + h / 2.0) as f32,
        }
    }
}

fn measure(b: &BoundingBox) -> [f64; M] {
    let (w, h) = (b.width() as f64, b.height() as f64);
    [
        (b.x1 as f64 + b.x2 as f64) / 2.0,
        (b.y1 as f64 + b.y2 as f64) / 2.0,
        w * h,
        if h > 0.0 { w / h } else { 1.0 },
    ]
}

fn transition() -> Mat<N, N> {
    let mut f = [[0.0; N]; N];
    for (i, row) in f.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    f[0][4] = 1.0;
    f[1][5] = 1.0;
    f[2][6] = 1.0;
    f
}

fn mul(a: &Mat<N, N>, b: &Mat<N, N>) -> Mat<N, N> {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..N).map(|l| a[i][l] * b[l][j]).sum()))
}

fn mul_vec(a: &Mat<N, N>, x: &[f64; N]) -> [f64; N] {
    std::array::from_fn(|i| (0..N).map(|l| a[i][l] * x[l]).sum())
}

fn transpose(a: &Mat<N, N>) -> Mat<N, N> {
    std::array::from_fn(|i| std::array::from_fn(|j| a[j][i]))
}

/// Gauss-Jordan with partial pivoting; None when singular or not finite.
fn invert4(a: &Mat<M, M>) -> Option<Mat<M, M>> {
    let mut m = *a;
    let mut inv: Mat<M, M> = std::array::from_fn(|i| std::array::from_fn(|j| f64::from(i == j)));
    for col in 0..M {
        let pivot = (col..M).max_by(|&r, &s| m[r][col].abs().total_cmp(&m[s][col].abs()))?;
        if !m[pivot][col].is_finite() || m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let d = m[col][col];
        for j in 0..M {
            m[col][j] /= d;
            inv[col][j] /= d;
        }
        for r in 0..M {
            if r != col {
                let f = m[r][col];
                for j in 0..M {
                    m[r][j] -= f * m[col][j];
                    inv[r][j] -= f * inv[col][j];
                }
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(x: f32, y: f32, w: f32, h: f32) -> BoundingBox {
        BoundingBox {
            x1: x,
            y1: y,
            x2: x + w,
            y2: y + h,
        }
    }

    #[test]
    fn learns_a_constant_velocity_and_predicts_ahead() {
        let mut f = BoxFilter::new(&bx(100.0, 100.0, 80.0, 100.0));
        for step in 1..=12 {
            f.predict();
            f.update(&bx(
                100.0 + 10.0 * step as f32,
                100.0 - 4.0 * step as f32,
                80.0,
                100.0,
            ));
        }
        // Two frames unseen: it keeps moving at the learnt speed.
        f.predict();
        let b = f.predict();
        let (cx, cy) = ((b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0);
        assert!((cx - (140.0 + 140.0)).abs() < 2.0, "cx {cx}");
        assert!((cy - (150.0 - 56.0)).abs() < 2.0, "cy {cy}");
        assert!(
            (b.width() - 80.0).abs() < 2.0 && (b.height() - 100.0).abs() < 2.0,
            "{b:?}"
        );
    }

    #[test]
    fn inverts_a_4x4() {
        let a = [
            [4.0, 1.0, 0.0, 2.0],
            [1.0, 3.0, 1.0, 0.0],
            [0.0, 1.0, 5.0, 1.0],
            [2.0, 0.0, 1.0, 6.0],
        ];
        let inv = invert4(&a).unwrap();
        for (i, row) in a.iter().enumerate() {
            for j in 0..M {
                let v: f64 = row.iter().zip(&inv).map(|(x, r)| x * r[j]).sum();
                assert!((v - f64::from(i == j)).abs() < 1e-12);
            }
        }
        assert!(invert4(&[[0.0; M]; M]).is_none());
    }
}
