#!/usr/bin/env python3
"""Convert an OpenVINO IR (v11 .xml + .bin) face embedder to ONNX.

    convert_omz_ir.py MODEL.xml OUT.onnx [--output embedding] [--input input]
    convert_omz_ir.py --from-url BASE_URL OUT.onnx    (BASE_URL/NAME.xml and .bin, sha256 checked)

Written for Intel Open Model Zoo's face-reidentification-retail-0095 (Apache-2.0) and the op set
its IR uses: Parameter, Const (f16 or f32), Convert, Convolution, GroupConvolution, Add,
Multiply, PReLU, AvgPool, Sigmoid, Result. Anything else is refused by name, never guessed.

- Const -> Convert(f32) chains become float32 initializers (the FP16 weights widened exactly).
- GroupConvolution weights [G, O/G, I/G, kh, kw] become Conv weights [O, I/G, kh, kw], group G.
- A PReLU whose slope is one number becomes LeakyRelu(alpha): ONNX Runtime has no fast kernel
  for a broadcast single-slope PRelu (17 ms per face against 6.6 ms, MODELS.md). Per-channel
  slopes stay PRelu with the slope shaped [C, 1, 1].
- The batch dimension is left symbolic ("N"); the Result's [N, C, 1, 1] is flattened to [N, C].
The IR's own per-channel input mean/scale (a Multiply and an Add on the Parameter) stay in the
graph, so the ONNX model takes what the IR takes: BGR 0..255, NCHW.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_DTYPES = {"f16": np.float16, "f32": np.float32, "i64": np.int64, "i32": np.int32}
# The upstream files (MODELS.md) and their sha256, as mirrored in ../shared/models/src.
UPSTREAM = {
    "face-reidentification-retail-0095.xml": "ce53d2c9c08c0bd1c1660fb8a5b6d0e3e4ec19eb92f1036d2d83a85e83082dce",
    "face-reidentification-retail-0095.bin": "241229ca3d206321868d46ce74a3c0b06c49cea58db7dc70b2e842ff287545d1",
}


def ints(text: str) -> list[int]:
    return [int(v) for v in text.replace(" ", "").split(",") if v != ""]


class Layer:
    def __init__(self, el: ET.Element):
        self.id = el.get("id")
        self.type = el.get("type")
        self.name = el.get("name")
        data = el.find("data")
        self.data = dict(data.attrib) if data is not None else {}
        self.inputs = [p.get("id") for p in el.findall("input/port")]
        self.outputs = [p.get("id") for p in el.findall("output/port")]
        self.out_shapes = [[int(d.text) for d in p.findall("dim")] for p in el.findall("output/port")]


def parse(xml: bytes, weights: bytes):
    root = ET.fromstring(xml)
    if root.tag != "net" or root.get("version") != "11":
        raise ValueError(f"not an OpenVINO IR v11 file (root {root.tag} version {root.get('version')})")
    layers = {el.get("id"): Layer(el) for el in root.find("layers")}
    # (to_layer, to_port) -> (from_layer, from_port)
    edges = {(e.get("to-layer"), e.get("to-port")): (e.get("from-layer"), e.get("from-port"))
             for e in root.find("edges")}
    return layers, edges, weights


def topological(layers: dict, edges: dict) -> list:
    deps = {lid: set() for lid in layers}
    for (to, _), (frm, _) in edges.items():
        deps[to].add(frm)
    order, done = [], set()
    pending = sorted(layers, key=int)
    while pending:
        ready = [lid for lid in pending if deps[lid] <= done]
        if not ready:
            raise ValueError("the IR graph has a cycle")
        for lid in ready:
            order.append(layers[lid])
            done.add(lid)
        pending = [lid for lid in pending if lid not in done]
    return order


def build(layers: dict, edges: dict, weights: bytes, input_name: str, output_name: str) -> onnx.ModelProto:
    consts: dict[str, np.ndarray] = {}  # tensor name -> value, for Const and Convert-of-Const
    nodes, inits, used_inits = [], [], set()
    graph_input = None

    def tensor(layer, port):
        return f"n{layer}" if port is None else f"n{layer}_{port}"

    def source(layer: Layer, i: int) -> str:
        frm, port = edges[(layer.id, layer.inputs[i])]
        src = layers[frm]
        return tensor(frm, port if len(src.outputs) > 1 else None)

    def value(name: str) -> str:
        """The name to feed a node: constants become initializers on first use."""
        if name in consts and name not in used_inits:
            inits.append(numpy_helper.from_array(consts[name], name))
            used_inits.add(name)
        return name

    def conv_attrs(layer: Layer, kernel) -> dict:
        if layer.data.get("auto_pad", "explicit") != "explicit":
            raise ValueError(f"layer {layer.name}: auto_pad {layer.data['auto_pad']} is not supported")
        return dict(strides=ints(layer.data["strides"]), dilations=ints(layer.data["dilations"]),
                    pads=ints(layer.data["pads_begin"]) + ints(layer.data["pads_end"]),
                    kernel_shape=list(kernel))

    result_input = None
    for layer in topological(layers, edges):
        out = tensor(layer.id, None)
        t = layer.type
        if t == "Parameter":
            if graph_input is not None:
                raise ValueError("the IR has more than one input")
            shape = ints(layer.data["shape"])
            graph_input = (out, shape)
        elif t == "Const":
            dtype = IR_DTYPES[layer.data["element_type"]]
            off, size = int(layer.data["offset"]), int(layer.data["size"])
            if off + size > len(weights):
                raise ValueError(f"layer {layer.name}: weights end past the .bin file")
            shape = ints(layer.data["shape"])
            consts[out] = np.frombuffer(weights, dtype=dtype, count=size // np.dtype(dtype).itemsize,
                                        offset=off).reshape(shape)
        elif t == "Convert":
            src = source(layer, 0)
            if src not in consts:
                raise ValueError(f"layer {layer.name}: Convert of a computed tensor is not supported")
            consts[out] = consts[src].astype(IR_DTYPES[layer.data["destination_type"]])
        elif t in ("Add", "Multiply"):
            if layer.data.get("auto_broadcast", "numpy") != "numpy":
                raise ValueError(f"layer {layer.name}: broadcast {layer.data['auto_broadcast']}")
            a, b = source(layer, 0), source(layer, 1)
            nodes.append(helper.make_node({"Add": "Add", "Multiply": "Mul"}[t], [value(a), value(b)], [out]))
        elif t == "Convolution":
            w = consts[source(layer, 1)]
            nodes.append(helper.make_node("Conv", [source(layer, 0), value(source(layer, 1))], [out],
                                          group=1, **conv_attrs(layer, w.shape[2:])))
        elif t == "GroupConvolution":
            w = consts[source(layer, 1)]
            g, o, i = w.shape[:3]
            name = source(layer, 1) + "_grouped"
            consts[name] = np.ascontiguousarray(w.reshape((g * o, i) + w.shape[3:]))
            nodes.append(helper.make_node("Conv", [source(layer, 0), value(name)], [out],
                                          group=int(g), **conv_attrs(layer, w.shape[3:])))
        elif t == "PReLU":
            slope = consts[source(layer, 1)]
            if slope.size == 1:
                nodes.append(helper.make_node("LeakyRelu", [source(layer, 0)], [out], alpha=float(slope.ravel()[0])))
            else:
                name = source(layer, 1) + "_channels"
                consts[name] = slope.reshape(-1, 1, 1).astype(np.float32)
                nodes.append(helper.make_node("PRelu", [source(layer, 0), value(name)], [out]))
        elif t == "AvgPool":
            if layer.data.get("rounding_type", "floor") != "floor":
                raise ValueError(f"layer {layer.name}: rounding_type {layer.data['rounding_type']}")
            pads = ints(layer.data["pads_begin"]) + ints(layer.data["pads_end"])
            nodes.append(helper.make_node(
                "AveragePool", [source(layer, 0)], [out], kernel_shape=ints(layer.data["kernel"]),
                strides=ints(layer.data["strides"]), pads=pads,
                count_include_pad=0 if layer.data.get("exclude-pad", "true") == "true" else 1))
        elif t == "Sigmoid":
            nodes.append(helper.make_node("Sigmoid", [source(layer, 0)], [out]))
        elif t == "Result":
            if result_input is not None:
                raise ValueError("the IR has more than one output")
            result_input = source(layer, 0)
        else:
            raise ValueError(f"layer {layer.name}: IR op {t} is not supported by this converter")
    if graph_input is None or result_input is None:
        raise ValueError("the IR has no Parameter or no Result")

    # Rename the Parameter to the requested input name and flatten the result.
    in_tensor, in_shape = graph_input
    for n in nodes:
        for k, name in enumerate(n.input):
            if name == in_tensor:
                n.input[k] = input_name
    result_layer = next(l for l in layers.values() if l.type == "Result")
    producer = edges[(result_layer.id, result_layer.inputs[0])][0]
    dims = layers[producer].out_shapes[0]
    if len(dims) != 4 or dims[2:] != [1, 1]:
        raise ValueError(f"expected a [N, C, 1, 1] output, got {dims}")
    nodes.append(helper.make_node("Flatten", [result_input], [output_name], axis=1))
    graph = helper.make_graph(
        nodes, Path(output_name).name,
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N"] + in_shape[1:])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", dims[1]])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="faceprint convert_omz_ir.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    kinds = {}
    for n in nodes:
        kinds[n.op_type] = kinds.get(n.op_type, 0) + 1
    print(f"converted: {len(nodes)} nodes {dict(sorted(kinds.items()))}, {len(inits)} initializers",
          file=sys.stderr)
    return model


def download(base: str, work: Path, stem: str) -> Path:
    for name, digest in UPSTREAM.items():
        if not name.startswith(stem):
            continue
        dest = work / name
        with urllib.request.urlopen(f"{base.rstrip('/')}/{name}", timeout=60) as r:
            dest.write_bytes(r.read())
        if hashlib.sha256(dest.read_bytes()).hexdigest() != digest:
            raise SystemExit(f"{name}: sha256 differs from the upstream file's")
    return work / f"{stem}.xml"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("xml", nargs="?", type=Path, help="MODEL.xml (MODEL.bin beside it)")
    ap.add_argument("out", type=Path)
    ap.add_argument("--from-url", help="folder URL holding face-reidentification-retail-0095.xml and .bin")
    ap.add_argument("--input", default="input", help="ONNX input name (default input)")
    ap.add_argument("--output", default="embedding", help="ONNX output name (default embedding)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        xml = download(args.from_url, Path(work), "face-reidentification-retail-0095") if args.from_url else args.xml
        if xml is None:
            ap.error("give MODEL.xml or --from-url")
        layers, edges, weights = parse(xml.read_bytes(), xml.with_suffix(".bin").read_bytes())
        model = build(layers, edges, weights, args.input, args.output)
    tmp = args.out.with_name(args.out.name + ".part")
    onnx.save(model, tmp)
    tmp.replace(args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
