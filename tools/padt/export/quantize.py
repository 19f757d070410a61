"""Weight-only quantisation of a bundle's LLM graph: each MatMul on a weight becomes
onnxruntime's MatMulNBits (com.microsoft), int8 or int4 blocks along K, asymmetric (a scale
and a zero point per block), activations unchanged (fp32 or fp16).

    python -m padt.export.quantize BUNDLE_DIR --bits 4|8 [--block-size 32] [--accuracy-level 4]

A post-pass on an exported bundle, in place (the exporter's ``--quantize`` calls it): it
reads the graphs' structure, rewrites the matched nodes, and writes a new weights.bin from
the old one a tensor (a slice of rows) at a time, so memory stays near one weight's slice
whatever the model size. The token embedding's Gather keeps its float rows; with tied
embeddings the LM head gets its own quantised copy.

int4 blocks come from onnxruntime's own packer (the C++ kernel behind its
MatMul4BitsQuantizer). onnxruntime 1.21 (Python) has no 8-bit packer nor CPU kernel, so int8
blocks are packed here by the same rule, and only onnxruntime-node (1.30, the engine's) runs
them. bfloat16 is not offered: no onnxruntime CPU kernel runs a bfloat16 MatMul (1.21 or
1.30: "Could not find an implementation for MatMul(13)").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from onnxruntime.capi._pybind_state import quantize_matmul_4bits

from . import manifest, writer

BITS = (4, 8)
DEFAULT_BLOCK_SIZE = 32
# MatMulNBits' accuracy_level: 0 computes in the activations' float type from dequantised
# blocks; 4 quantises the activations to int8 per block as well and uses int8 dot products.
# 4 is the default: onnxruntime-node 1.30's 8-bit kernel at level 0 is a slow fallback (a
# Shapes decode step: 4.9-5.9 ms at level 0, 0.65 ms at level 4, 0.9-1.2 ms for fp32).
ACCURACY_LEVELS = (0, 1, 2, 3, 4)
DEFAULT_ACCURACY_LEVEL = 4
ROWS_PER_SLICE = 1024  # output rows quantised at a time (3B's LM head: 152k rows of 2048)
_FLOATS = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16}


class QuantizeError(ValueError):
    """A bundle or setting the quantiser cannot honour."""


@dataclass(frozen=True)
class QuantizeSettings:
    bits: int
    block_size: int = DEFAULT_BLOCK_SIZE
    accuracy_level: int = DEFAULT_ACCURACY_LEVEL

    def check(self) -> None:
        if self.bits not in BITS:
            raise QuantizeError(f"bits must be one of {BITS}, got {self.bits!r}")
        bs = self.block_size
        if isinstance(bs, bool) or not isinstance(bs, int) or bs < 16 or bs & (bs - 1):
            raise QuantizeError(f"block_size must be a power of two >= 16, got {bs!r}")
        if self.accuracy_level not in ACCURACY_LEVELS:
            raise QuantizeError(f"accuracy_level must be one of {ACCURACY_LEVELS}")


def quantize_rows(weight: np.ndarray, bits: int, block_size: int):
    """``weight`` [N, K] (a Linear's, output rows) as MatMulNBits' B [N, blocks, blob],
    scales [N * blocks] (float32) and zero points [N * ceil(blocks * bits / 8)] (uint8)."""
    n, k = weight.shape
    blocks = -(-k // block_size)
    if bits == 4:
        packed = np.zeros((n, blocks, block_size // 2), np.uint8)
        scales = np.zeros(n * blocks, np.float32)
        zeros = np.zeros(n * ((blocks + 1) // 2), np.uint8)
        # onnxruntime's packer takes B as MatMul reads it, [K, N]
        quantize_matmul_4bits(
            packed,
            np.ascontiguousarray(weight.T, np.float32),
            scales,
            zeros,
            block_size,
            n,
            k,
            False,
        )
        return packed, scales, zeros
    # 8 bits, the rule of onnxruntime's 4-bit packer: the range includes 0, scale =
    # range / 255, zero point = round(-min / scale), q = round(w / scale) + zero point.
    padded = np.zeros((n, blocks * block_size), np.float32)
    padded[:, :k] = weight
    padded = padded.reshape(n, blocks, block_size)
    lo = np.minimum(padded.min(axis=2), 0.0)
    hi = np.maximum(padded.max(axis=2), 0.0)
    scale = (hi - lo) / 255.0
    safe = np.where(scale == 0, 1.0, scale)
    zero = np.clip(np.rint(-lo / safe), 0, 255)
    q = np.clip(np.rint(padded / safe[:, :, None]) + zero[:, :, None], 0, 255)
    return q.astype(np.uint8), scale.reshape(-1), zero.astype(np.uint8).reshape(-1)


def dequantize_rows(packed, scales, zeros, bits: int, k: int) -> np.ndarray:
    """The [N, K] float32 weight MatMulNBits computes with (tests compare against it)."""
    n, blocks, _ = packed.shape
    if bits == 4:
        q = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(n, blocks, -1)
        z = np.stack([zeros & 0x0F, zeros >> 4], axis=-1).reshape(n, -1)[:, :blocks]
    else:
        q, z = packed, zeros.reshape(n, blocks)
    w = (q.astype(np.float32) - z[:, :, None]) * scales.reshape(n, blocks)[:, :, None]
    return w.reshape(n, -1)[:, :k]


class _Weights:
    """The old weights.bin, read a slice at a time (pread: no map, whose touched pages would
    count as the process's memory), and the new one, appended to."""

    COPY_CHUNK = 64 << 20

    def __init__(self, bundle_dir: Path) -> None:
        self.old = open(bundle_dir / writer.WEIGHTS_FILE, "rb")
        self.path = bundle_dir / (writer.WEIGHTS_FILE + ".quantizing")
        self.out = open(self.path, "wb")
        self.size = 0
        self.copied: dict[tuple[int, int], int] = {}
        self.written: dict[str, tuple[int, int]] = {}

    def _pread(self, length: int, offset: int) -> bytes:
        data = os.pread(self.old.fileno(), length, offset)
        if len(data) != length:
            raise QuantizeError(f"{writer.WEIGHTS_FILE} is shorter than its graphs say")
        return data

    def rows(self, tensor: TensorProto, start: int, stop: int) -> np.ndarray:
        """Rows start:stop of a 2-D float tensor, as float32."""
        offset, _ = writer.location(tensor)
        dtype = np.dtype(_FLOATS[tensor.data_type])
        width = int(tensor.dims[1]) * dtype.itemsize
        data = self._pread((stop - start) * width, offset + start * width)
        return np.frombuffer(data, dtype).reshape(stop - start, -1).astype(np.float32)

    def _align(self) -> int:
        pad = (-self.size) % writer.ALIGN
        self.out.write(b"\0" * pad)
        self.size += pad
        return self.size

    def _append(self, data: np.ndarray) -> int:
        offset = self._align()
        view = memoryview(np.ascontiguousarray(data)).cast("B")
        self.out.write(view)
        self.size += view.nbytes
        return offset

    def copy(self, tensor: TensorProto) -> None:
        """Moves an unchanged external tensor to the new file (shared ones once)."""
        offset, length = writer.location(tensor)
        if (offset, length) not in self.copied:
            self.copied[(offset, length)] = self._align()
            for start in range(0, length, self.COPY_CHUNK):
                size = min(self.COPY_CHUNK, length - start)
                self.out.write(self._pread(size, offset + start))
            self.size += length
        writer.point(tensor, self.copied[(offset, length)], length)

    def add(self, name: str, array: np.ndarray, data_type: int) -> TensorProto:
        if name not in self.written:
            self.written[name] = (self._append(array), array.nbytes)
        proto = TensorProto(name=name, data_type=data_type, dims=array.shape)
        writer.point(proto, *self.written[name])
        return proto

    def finish(self, bundle_dir: Path) -> None:
        self.out.close()
        self.old.close()
        os.replace(self.path, bundle_dir / writer.WEIGHTS_FILE)


def _axis(node: onnx.NodeProto, name: str, default: int) -> int:
    return next((a.i for a in node.attribute if a.name == name), default)


def _weight_matmuls(graph: onnx.GraphProto) -> list[tuple[onnx.NodeProto, list[str], bool]]:
    """MatMul nodes whose B is a float weight: (node, the weights whose rows B's columns
    are, whether B is them transposed). The exporter's Linear layers give B as
    Transpose(W [N, K]), or Transpose(Concat(W1, W2, ...)) where projections are fused
    (q, k and v): output rows of several weights, quantised row by row all the same. Since
    format 5 they are FusedMatMul(x, W, transB=1) on W as stored (fused ones concatenated)."""
    inits = {t.name: t for t in graph.initializer}
    is_weight = {n for n, t in inits.items() if len(t.dims) == 2 and t.data_type in _FLOATS}
    rows: dict[str, list[str]] = {n: [n] for n in is_weight}
    for node in graph.node:  # graph order: a Concat comes before the Transpose that reads it
        if node.op_type == "Concat" and _axis(node, "axis", 0) in (0, -2):
            if node.input and all(i in is_weight for i in node.input):
                rows[node.output[0]] = list(node.input)
    transposed = {}
    for node in graph.node:
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), [1, 0])
        if node.op_type == "Transpose" and node.input[0] in rows and perm == [1, 0]:
            transposed[node.output[0]] = rows[node.input[0]]
    found = []
    for node in graph.node:
        # Format 5 on: FusedMatMul(x, W, transB=1) (writer.matmuls_on_stored_weights).
        if node.op_type == "FusedMatMul" and node.input[1] in rows:
            attrs = {a.name: a for a in node.attribute}
            plain = all(
                attrs[k].i == 0 for k in ("transA", "transBatchA", "transBatchB") if k in attrs
            )
            if attrs.get("transB") and attrs["transB"].i == 1 and plain and "alpha" not in attrs:
                found.append((node, rows[node.input[1]], True))
            continue
        if node.op_type != "MatMul":
            continue
        b = node.input[1]
        if b in transposed:
            found.append((node, transposed[b], True))
        elif b in is_weight:
            found.append((node, [b], False))
    return found


def _row_slices(weights: _Weights, inits: dict, names: list[str], is_t: bool):
    """B's weight as [N, K] output rows, ROWS_PER_SLICE at a time (blocks run along a row,
    so slices quantise independently)."""
    if not is_t:  # B as stored is [K, N]: read whole, once
        t = inits[names[0]]
        yield weights.rows(t, 0, int(t.dims[0])).T
        return
    for name in names:
        t = inits[name]
        n = int(t.dims[0])
        for start in range(0, n, ROWS_PER_SLICE):
            yield weights.rows(t, start, min(n, start + ROWS_PER_SLICE))


def _quantize_graph(
    proto: onnx.ModelProto, weights: _Weights, s: QuantizeSettings
) -> tuple[int, set[str]]:
    """Rewrites ``proto``'s weight MatMuls; returns their count and the new tensors' names
    (already in the new weights file)."""
    graph = proto.graph
    inits = {t.name: t for t in graph.initializer}
    targets = _weight_matmuls(graph)
    new_inits: list[TensorProto] = []
    replaced: dict[int, onnx.NodeProto] = {}
    for node, names, is_t in targets:
        source = inits[names[0]]
        parts = []
        for rows in _row_slices(weights, inits, names, is_t):
            parts.append(quantize_rows(rows, s.bits, s.block_size))
            k = rows.shape[1]
        n = sum(len(p[0]) for p in parts)
        packed = np.concatenate([p[0] for p in parts])
        scales = np.concatenate([p[1] for p in parts]).astype(_FLOATS[source.data_type])
        zeros = np.concatenate([p[2] for p in parts])
        del parts
        stem = "+".join(names) + f".q{s.bits}"
        tensors = [
            weights.add(f"{stem}.blocks", packed, TensorProto.UINT8),
            weights.add(f"{stem}.scales", scales, source.data_type),
            weights.add(f"{stem}.zero_points", zeros, TensorProto.UINT8),
        ]
        new_inits.extend(t for t in tensors if t.name not in {i.name for i in new_inits})
        replaced[id(node)] = helper.make_node(
            "MatMulNBits",
            [node.input[0], *(t.name for t in tensors)],
            list(node.output),
            domain="com.microsoft",
            K=k,
            N=n,
            bits=s.bits,
            block_size=s.block_size,
            accuracy_level=s.accuracy_level,
        )
    nodes = [replaced.get(id(node), node) for node in graph.node]
    # Transposes, Concats and weights nothing reads any more (a tied embedding's Gather
    # still reads its weight)
    for _ in range(2):
        used = {i for node in nodes for i in node.input} | {o.name for o in graph.output}
        nodes = [
            n for n in nodes if n.op_type not in ("Transpose", "Concat") or n.output[0] in used
        ]
    used = {i for node in nodes for i in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    graph.initializer.extend(new_inits)
    if not any(o.domain == "com.microsoft" for o in proto.opset_import):
        proto.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return len(targets), {t.name for t in new_inits}


def quantize_bundle(
    bundle_dir: str | Path, settings: QuantizeSettings, graphs: tuple[str, ...] = ("llm",)
) -> dict:
    """Quantises ``graphs`` of the bundle in place and records it in padt.json under
    ``quantization``; returns the new manifest."""
    settings.check()
    bundle_dir = Path(bundle_dir)
    doc = json.loads((bundle_dir / manifest.MANIFEST).read_text())
    if doc.get("quantization"):
        raise QuantizeError(f"{bundle_dir} is already quantised ({doc['quantization']})")
    unknown = [g for g in graphs if g not in doc["graphs"]]
    if unknown:
        raise QuantizeError(f"the bundle has no graph {unknown[0]!r}")
    weights = _Weights(bundle_dir)
    protos, count = {}, 0
    try:
        for name, entry in doc["graphs"].items():
            proto = onnx.load(bundle_dir / entry["file"], load_external_data=False)
            written: set[str] = set()
            if name in graphs:
                matched, written = _quantize_graph(proto, weights, settings)
                count += matched
            for tensor in proto.graph.initializer:
                if tensor.data_location == TensorProto.EXTERNAL and tensor.name not in written:
                    weights.copy(tensor)
            protos[name] = proto
    except BaseException:
        weights.out.close()
        weights.path.unlink(missing_ok=True)
        raise
    if count == 0:
        weights.out.close()
        weights.path.unlink(missing_ok=True)
        raise QuantizeError(f"no MatMul on a weight in {', '.join(graphs)}")
    weights.finish(bundle_dir)
    for name, proto in protos.items():
        writer.save(proto, bundle_dir / doc["graphs"][name]["file"])
    doc["quantization"] = {
        "method": "MatMulNBits",
        "bits": settings.bits,
        "block_size": settings.block_size,
        "symmetric": False,
        "accuracy_level": settings.accuracy_level,
        "graphs": list(graphs),
        "matmuls": count,
    }
    manifest.write(bundle_dir, doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m padt.export.quantize")
    parser.add_argument("bundle_dir")
    parser.add_argument("--bits", type=int, choices=BITS, required=True)
    parser.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_SIZE)
    parser.add_argument(
        "--accuracy-level", type=int, choices=ACCURACY_LEVELS, default=DEFAULT_ACCURACY_LEVEL
    )
    args = parser.parse_args(argv)
    try:
        doc = quantize_bundle(
            args.bundle_dir, QuantizeSettings(args.bits, args.block_size, args.accuracy_level)
        )
    except (QuantizeError, FileNotFoundError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    entry = doc["quantization"]
    print(f"quantised {entry['matmuls']} MatMuls to int{entry['bits']} in {args.bundle_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
