#!/usr/bin/env bash
# Speed comparison in one run on the same LFW images, one thread each:
#   Faceprint  vs  face_recognition 1.3 (dlib)  vs  OpenCV FaceDetectorYN + onnxruntime,
#   the last two pipelines with each embedder (default omz-reid-0095, and dlib-resnet-v1).
# Usage: benches/compare/run.sh [N_IMAGES]  (default 400: the first image of the first N people)
# Needs the Python packages named in each script's docstring.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-400}
lfw=../shared/data/lfw/images
list=$(mktemp)
trap 'rm -f "$list"' EXIT
for person in $(ls "$lfw" | head -n "$n"); do ls "$lfw/$person"/*.jpg | head -n 1; done > "$list"
export OMP_NUM_THREADS=1
cargo build --release -q -p faceprint-bench --bin pipeline-speed
echo "Faceprint (default: detector input upscaled to 320):"
./target/x86_64-unknown-linux-gnu/release/pipeline-speed "$list" 1
echo "Faceprint, detector at the native 256x256 (as FaceDetectorYN below):"
FACEPRINT_MIN_INPUT_SIDE=0 ./target/x86_64-unknown-linux-gnu/release/pipeline-speed "$list" 1
echo "Faceprint with --embedder dlib-resnet-v1:"
FACEPRINT_EMBEDDER=dlib-resnet-v1 ./target/x86_64-unknown-linux-gnu/release/pipeline-speed "$list" 1
python=${PYTHON:-python3}
for embedder in omz-reid-0095 dlib-resnet-v1; do
  echo "OpenCV FaceDetectorYN + onnxruntime, $embedder:"
  "$python" benches/compare/opencv_onnx.py speed --models models --list "$list" --embedder "$embedder" 2>/dev/null
done
echo "face_recognition (dlib):"
"$python" benches/compare/face_recognition_dlib.py --list "$list"
