#!/usr/bin/env bash
# face_recognition 1.3 against faceprint.face_recognition, the same script in two interpreters
# (benches/compare/face_recognition_dropin.py): encodings of every image of the 6,000 LFW pairs,
# compare_faces agreement, and the speed of the script (one process each, machine otherwise idle).
#
# Usage: benches/compare/face_recognition_dropin.sh [OUT_DIR] [SPEED_IMAGES]
#   (default /tmp/fr-dropin and 300). Needs ./setup.sh first; takes about 40 minutes on 2 cores.
# Makes .faceprint/fr-venv (face_recognition with the dlib-bin wheel, from PyPI) and
# .faceprint/dropin-venv (the faceprint wheel bindings-python/build.sh makes).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=${1:-/tmp/fr-dropin}
speed_images=${2:-300}
mkdir -p "$out"
export FACEPRINT_SHARED=${FACEPRINT_SHARED:-$root/../shared}
export FACEPRINT_MODELS=${FACEPRINT_MODELS:-$root/models}
export OMP_NUM_THREADS=1

fr=.faceprint/fr-venv/bin/python
if ! "$fr" -c 'import face_recognition' 2>/dev/null; then
  python3 -m venv .faceprint/fr-venv
  # face_recognition pins the source dlib (a long C++ build): the dlib-bin wheel is the same
  # library, so face_recognition goes in without its dependencies.
  "$fr" -m pip install --quiet --disable-pip-version-check 'dlib-bin==20.0.1.post1' \
    'face_recognition_models==0.3.0' 'numpy<3' 'pillow' 'click'
  "$fr" -m pip install --quiet --disable-pip-version-check --no-deps 'face_recognition==1.3.0'
fi
fp=.faceprint/dropin-venv/bin/python
bindings-python/build.sh >/dev/null
[ -x "$fp" ] || python3 -m venv .faceprint/dropin-venv
"$fp" -m pip install --quiet --disable-pip-version-check --force-reinstall bindings-python/dist/*.whl

bench=benches/compare/face_recognition_dropin.py
echo "== encodings of every pair image (two processes each)"
for impl in face_recognition faceprint; do
  py=$fr; [ "$impl" = faceprint ] && py=$fp
  "$py" "$bench" encode --impl "$impl" --out "$out/$impl-0.npz" --shard 0/2 &
  "$py" "$bench" encode --impl "$impl" --out "$out/$impl-1.npz" --shard 1/2 &
  wait
done
echo "== report"
"$fp" "$bench" report --face-recognition "$out"/face_recognition-*.npz --faceprint "$out"/faceprint-*.npz
echo "== speed of the script, one process, $speed_images images"
"$fr" "$bench" speed --impl face_recognition --images "$speed_images"
"$fp" "$bench" speed --impl faceprint --images "$speed_images"
