use super::Face;

/// Greedy non-maximum suppression; returns the kept faces by decreasing score.
pub(crate) fn suppress(mut faces: Vec<Face>, iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::with_capacity(faces.len().min(64));
    for f in faces {
        if kept.iter().all(|k| k.bbox.iou(&f.bbox) <= iou) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::BoundingBox;

    fn face(x: f32, score: f32) -> Face {
        Face {
            bbox: BoundingBox {
                x1: x,
                y1: 0.0,
                x2: x + 10.0,
                y2: 10.0,
            },
            landmarks: [[0.0; 2]; 5],
            score,
        }
    }

    #[test]
    fn overlapping_lower_scores_are_suppressed() {
        let kept = suppress(vec![face(0.0, 0.8), face(1.0, 0.9), face(50.0, 0.7)], 0.3);
        let xs: Vec<f32> = kept.iter().map(|f| f.bbox.x1).collect();
        assert_eq!(xs, vec![1.0, 50.0]);
    }
}
