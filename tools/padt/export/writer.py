"""Trace a wrapper to ONNX without weights, then stream its weights in one at a time.

torch.onnx.export runs with ``export_params=False``: parameters become graph inputs
named after the wrapper's parameters and the proto holds no weight bytes. We then
turn each such input into an initializer stored as ONNX external data in the
bundle's shared ``weights.bin``, converting and appending one tensor at a time. A
tensor used by several graphs (tied embeddings: embed graph and LM head) is
written once.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto

OPSET = 17
WEIGHTS_FILE = "weights.bin"
ALIGN = 64  # external tensors start on 64-byte boundaries (SIMD-friendly when mapped)

_ONNX_DTYPES = {
    torch.float32: TensorProto.FLOAT,
    torch.float16: TensorProto.FLOAT16,
    torch.int64: TensorProto.INT64,
}


@dataclass
class WeightSink:
    """Appends tensors to the bundle's weights.bin and makes initializers that point there."""

    bundle_dir: Path
    _offsets: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    _size: int = 0

    def initializer(self, name: str, tensor: torch.Tensor) -> TensorProto:
        """``name`` is the weight's qualified name: the same name in two graphs (a tied
        embedding) means the same tensor, written once."""
        key = (name, str(tensor.dtype))
        if key not in self._offsets:
            self._offsets[key] = self._append(tensor.detach().cpu().contiguous().numpy())
        offset, length = self._offsets[key]
        proto = TensorProto(name=name, data_type=_ONNX_DTYPES[tensor.dtype], dims=tensor.shape)
        proto.data_location = TensorProto.EXTERNAL
        for k, v in (("location", WEIGHTS_FILE), ("offset", offset), ("length", length)):
            entry = proto.external_data.add()
            entry.key, entry.value = k, str(v)
        return proto

    def _append(self, array: np.ndarray) -> tuple[int, int]:
        data = array.tobytes()
        with open(self.bundle_dir / WEIGHTS_FILE, "ab") as f:
            pad = (-self._size) % ALIGN
            f.write(b"\0" * pad)
            offset = self._size + pad
            f.write(data)
        self._size = offset + len(data)
        return offset, len(data)


def trace(
    module: torch.nn.Module,
    args: tuple,
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    dynamic_axes: dict[str, dict[int, str]],
) -> onnx.ModelProto:
    """TorchScript-trace ``module`` to an ONNX proto whose weights are graph inputs."""
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            args,
            buffer,
            export_params=False,
            do_constant_folding=False,  # folding would rename transposed weights
            opset_version=OPSET,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=dynamic_axes,
            dynamo=False,
        )
    return onnx.load_from_string(buffer.getvalue())


def attach_weights(
    proto: onnx.ModelProto, module: torch.nn.Module, sink: WeightSink, input_names: tuple[str, ...]
) -> int:
    """Move the weight inputs of ``proto`` into initializers; returns their byte count."""
    tensors = dict(module.named_parameters())
    tensors.update(dict(module.named_buffers()))
    graph = proto.graph
    keep, total = [], 0
    for value in graph.input:
        tensor = tensors.get(value.name)
        if tensor is None:
            if value.name not in input_names:
                raise RuntimeError(f"graph input {value.name} is neither declared nor a weight")
            keep.append(value)
            continue
        graph.initializer.append(sink.initializer(value.name, tensor))
        total += tensor.numel() * tensor.element_size()
    del graph.input[:]
    graph.input.extend(keep)
    return total


def set_output_dims(proto: onnx.ModelProto, dims: dict[str, dict[int, int]]) -> None:
    """Give static sizes to output axes that tracing left symbolic."""
    for value in proto.graph.output:
        for axis, size in dims.get(value.name, {}).items():
            dim = value.type.tensor_type.shape.dim[axis]
            dim.Clear()
            dim.dim_value = size


def normalize_transposes(proto: onnx.ModelProto) -> None:
    """torch.onnx copies negative permute dims into Transpose's perm; ONNX wants them
    non-negative (perm has one entry per axis, so the rank is its length)."""
    for node in proto.graph.node:
        if node.op_type != "Transpose":
            continue
        for attr in node.attribute:
            if attr.name == "perm" and any(i < 0 for i in attr.ints):
                rank = len(attr.ints)
                fixed = [i + rank if i < 0 else i for i in attr.ints]
                del attr.ints[:]
                attr.ints.extend(fixed)


def strip(proto: onnx.ModelProto) -> None:
    """Drop doc strings and node names, and give intermediate values short names: smaller
    files, and no source locations, so exports are byte-for-byte repeatable."""
    proto.doc_string = ""
    proto.producer_version = ""
    graph = proto.graph
    has_subgraphs = any(
        a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
        for n in graph.node
        for a in n.attribute
    )
    keep = {v.name for v in graph.input} | {v.name for v in graph.output}
    keep |= {t.name for t in graph.initializer}
    renamed: dict[str, str] = {}
    for node in graph.node:
        node.doc_string = ""
        node.name = ""
        if has_subgraphs:
            continue
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
        for i, name in enumerate(node.output):
            if name and name not in keep:
                renamed[name] = f"v{len(renamed)}"
                node.output[i] = renamed[name]
    del graph.value_info[:]


def save(proto: onnx.ModelProto, path: Path) -> None:
    with open(path, "wb") as f:
        f.write(proto.SerializeToString(deterministic=True))
