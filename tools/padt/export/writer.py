"""Trace a wrapper to ONNX without weights, then stream its weights in one at a time.

The trace (``trace``) gets the weights as extra graph inputs named after the wrapper's
parameters and buffers, holding placeholders in the graph's dtype whose memory is never
written, so the proto holds no weight bytes and tracing in another dtype than the
checkpoint's costs no resident memory. We then turn each weight input into an initializer
stored as ONNX external data in the bundle's shared ``weights.bin``, converting and
appending a slice at a time. A tensor used by several graphs (tied embeddings: embed
graph and LM head) is written once.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import onnx
import torch
from onnx import TensorProto

OPSET = 17
WEIGHTS_FILE = "weights.bin"
ALIGN = 64  # external tensors start on 64-byte boundaries (SIMD-friendly when mapped)
CHUNK_ELEMENTS = 1 << 18

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

    def initializer(self, name: str, tensor: torch.Tensor, dtype: torch.dtype) -> TensorProto:
        """``tensor`` stored as ``dtype``. ``name`` is the weight's qualified name: the same
        name in two graphs (a tied embedding) means the same tensor, written once."""
        key = (name, str(dtype))
        if key not in self._offsets:
            self._offsets[key] = self._append(tensor.detach().cpu(), dtype)
        return _external(name, dtype, tensor.shape, *self._offsets[key])

    def fused_initializer(
        self, parts: Sequence[tuple[str, torch.Tensor]], dtype: torch.dtype
    ) -> TensorProto:
        """The concatenation along dim 0 of ``parts`` (name, tensor) as one tensor, written
        part after part (rows of a [N, ...] tensor are contiguous, so the bytes of the
        concatenation are the parts' bytes in order): no concatenated copy in memory. Named
        by fused_name, which the importer splits back."""
        name = fused_name([(n, int(t.shape[0])) for n, t in parts])
        key = (name, str(dtype))
        if key not in self._offsets:
            spans = [
                self._append(t.detach().cpu(), dtype, align=i == 0)
                for i, (_, t) in enumerate(parts)
            ]
            self._offsets[key] = (spans[0][0], sum(length for _, length in spans))
        rows = sum(int(t.shape[0]) for _, t in parts)
        return _external(name, dtype, [rows, *parts[0][1].shape[1:]], *self._offsets[key])

    def _append(
        self, tensor: torch.Tensor, dtype: torch.dtype, align: bool = True
    ) -> tuple[int, int]:
        # Converted and written a slice at a time: a whole converted copy of the largest
        # weight (3B's token embedding is 1.2 GB in fp32) would be a transient of that size.
        flat = tensor.reshape(-1)
        with open(self.bundle_dir / WEIGHTS_FILE, "ab") as f:
            pad = (-self._size) % ALIGN if align else 0
            f.write(b"\0" * pad)
            offset = self._size + pad
            for start in range(0, flat.numel(), CHUNK_ELEMENTS):
                chunk = flat[start : start + CHUNK_ELEMENTS].to(dtype).contiguous()
                f.write(memoryview(chunk.numpy()).cast("B"))
        length = flat.numel() * dtype.itemsize
        self._size = offset + length
        return offset, length


def fused_name(parts: Sequence[tuple[str, int]]) -> str:
    """The initializer name of weights concatenated along dim 0: each part's name and row
    count, ``a[rows]+b[rows]+...`` (the importer splits it back: split_fused_name)."""
    return "+".join(f"{name}[{rows}]" for name, rows in parts)


def split_fused_name(name: str) -> list[tuple[str, int]] | None:
    """fused_name's parts, or None for the name of a single weight."""
    if "+" not in name:
        return None
    parts = []
    for part in name.split("+"):
        head, _, rows = part.rpartition("[")
        parts.append((head, int(rows.rstrip("]"))))
    return parts


def _placeholder(shape: torch.Size, dtype: torch.dtype) -> torch.Tensor:
    """A tensor whose memory is never written, so it stays virtual: pages the kernel hands
    out on first touch are zero, and reading them costs no resident memory."""
    return torch.empty(shape, dtype=dtype)


class _WeightsAsInputs(torch.nn.Module):
    """Calls ``module`` with the given tensors swapped for trailing forward arguments, in
    every slot that holds them (tied weights too). torch.func.functional_call does this
    but refuses to run under the tracer."""

    def __init__(self, module: torch.nn.Module, n_inputs: int, tensors: list) -> None:
        super().__init__()
        self.module = module
        self.n_inputs = n_inputs
        self.ids = [id(t) for t in tensors]

    def forward(self, *flat: torch.Tensor):
        by_id = dict(zip(self.ids, flat[self.n_inputs :], strict=True))
        swapped = []
        try:
            for sub in self.module.modules():
                for table in (sub._parameters, sub._buffers):
                    for key, t in list(table.items()):
                        if t is not None and id(t) in by_id:
                            swapped.append((table, key, t))
                            table[key] = by_id[id(t)]
            return self.module(*flat[: self.n_inputs])
        finally:
            for table, key, t in reversed(swapped):
                table[key] = t


def trace(
    module: torch.nn.Module,
    parts: Sequence[torch.nn.Module],
    args: tuple,
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    dynamic_axes: dict[str, dict[int, str]],
    dtype: torch.dtype,
) -> onnx.ModelProto:
    """TorchScript-trace ``module`` as if its ``parts`` were in ``dtype``, to an ONNX proto
    whose weights are graph inputs named after the parameters (and buffers) they hold.

    The parts' parameters and buffers are fed to the trace as extra inputs, parameters as
    placeholders, so neither a cast copy of the weights nor torch.onnx's handling of
    parameters costs memory: its shape inference serialises the value of every parameter
    a node reads into a temporary model, which held a copy of the graph's weights (the whole
    LLM, for the LLM graph); inputs have shapes but no values. Buffers (small: rotary
    tables) go in cast, as ``module.to(dtype)`` would cast them. Tied parameters are one
    input."""
    owned = {id(t) for part in parts for t in (*part.parameters(), *part.buffers())}
    tensors = [
        (name, t)
        for name, t in (*module.named_parameters(), *module.named_buffers())
        if id(t) in owned
    ]
    names = tuple(name for name, _ in tensors)
    values = [
        _placeholder(t.shape, dtype)
        if isinstance(t, torch.nn.Parameter)
        else (t.to(dtype) if t.is_floating_point() else t)
        for _, t in tensors
    ]
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _WeightsAsInputs(module, len(args), [t for _, t in tensors]),
            (*args, *values),
            buffer,
            export_params=False,
            do_constant_folding=False,  # folding would rename transposed weights
            opset_version=OPSET,
            # The LLM's fused attention (attention.py) is an onnxruntime contrib op.
            custom_opsets={"com.microsoft": 1},
            input_names=[*input_names, *names],
            output_names=list(output_names),
            dynamic_axes=dynamic_axes,
            dynamo=False,
        )
    return onnx.load_from_string(buffer.getvalue())


def attach_weights(
    proto: onnx.ModelProto,
    module: torch.nn.Module,
    sink: WeightSink,
    input_names: tuple[str, ...],
    dtype: torch.dtype,
) -> int:
    """Move the weight inputs of ``proto`` into initializers, floating ones converted to
    ``dtype`` a slice at a time; returns their byte count."""
    tensors = dict(module.named_parameters())
    tensors.update(dict(module.named_buffers()))
    graph = proto.graph
    total = _fold_weight_concats(graph, tensors, sink, dtype)
    used = {i for node in graph.node for i in node.input} | {v.name for v in graph.output}
    keep = []
    for value in graph.input:
        tensor = tensors.get(value.name)
        if tensor is not None and value.name not in used:
            continue  # only read by a folded Concat
        if tensor is None:
            if value.name not in input_names:
                raise RuntimeError(f"graph input {value.name} is neither declared nor a weight")
            keep.append(value)
            continue
        stored = dtype if tensor.is_floating_point() else tensor.dtype
        graph.initializer.append(sink.initializer(value.name, tensor, stored))
        total += tensor.numel() * stored.itemsize
    del graph.input[:]
    graph.input.extend(keep)
    return total


def _fold_weight_concats(
    graph: onnx.GraphProto, tensors: dict, sink: WeightSink, dtype: torch.dtype
) -> int:
    """Each Concat along dim 0 of float weight inputs only (attention.PackedProjection's
    q|k|v) becomes one initializer, written part by part (WeightSink.fused_initializer): left
    in the graph, onnxruntime would fold it at load into a second copy of those weights, and
    computing it while tracing would hold one. Returns the bytes written."""
    total = 0
    for node in list(graph.node):
        if node.op_type != "Concat" or not node.input:
            continue
        axis = next((a.i for a in node.attribute if a.name == "axis"), None)
        parts = [(name, tensors.get(name)) for name in node.input]
        if axis != 0 or any(t is None or not t.is_floating_point() for _, t in parts):
            continue
        init = sink.fused_initializer(parts, dtype)
        graph.initializer.append(init)
        total += sum(t.numel() for _, t in parts) * dtype.itemsize
        for other in graph.node:
            for i, name in enumerate(other.input):
                if name == node.output[0]:
                    other.input[i] = init.name
        graph.node.remove(node)
    return total


def set_output_dims(proto: onnx.ModelProto, dims: dict[str, dict[int, int]]) -> None:
    """Give static sizes to output axes that tracing left symbolic."""
    for value in proto.graph.output:
        for axis, size in dims.get(value.name, {}).items():
            dim = value.type.tensor_type.shape.dim[axis]
            dim.Clear()
            dim.dim_value = size


def matmuls_on_stored_weights(proto: onnx.ModelProto) -> int:
    """Each MatMul(x, Transpose(W)) on a 2-D weight W (a Linear's [N, K], as torch exports
    it) becomes ``com.microsoft::FusedMatMul(x, W, transB=1)``: onnxruntime folds a Transpose
    of an initializer at load into a transposed copy of the weight (all of the LLM: 15 GB
    transposed while a 3B bundle loads, both copies resident until the original goes; the tied
    embedding's original stays, its Gather reads it), where FusedMatMul packs W as it is
    stored. Returns how many it rewrote."""
    graph = proto.graph
    weights = {t.name for t in graph.initializer if len(t.dims) == 2}
    transposed = {}
    for node in graph.node:
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), [1, 0])
        if node.op_type == "Transpose" and node.input[0] in weights and perm == [1, 0]:
            transposed[node.output[0]] = node.input[0]
    count = 0
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in transposed:
            fused = onnx.helper.make_node(
                "FusedMatMul",
                [node.input[0], transposed[node.input[1]]],
                list(node.output),
                domain="com.microsoft",
                transB=1,
            )
            node.CopyFrom(fused)
            count += 1
    used = {i for node in graph.node for i in node.input} | {v.name for v in graph.output}
    unused = [n for n in graph.node if n.op_type == "Transpose" and n.output[0] not in used]
    for node in unused:
        graph.node.remove(node)
    if count and not any(o.domain == "com.microsoft" for o in proto.opset_import):
        proto.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    return count


SLICE_BYTES = 256 << 20
# Views' names: not the weights' prefix, so the importer skips them (it reads the table).
PREFIX_OF_VIEWS = "rows["


def matmuls_on_views_of_gathered_tables(
    proto: onnx.ModelProto, slice_bytes: int = SLICE_BYTES
) -> int:
    """A table that a Gather reads and FusedMatMuls read in full (the tied token embedding,
    also the LM head) gets, for the MatMuls, views of its own: initializers over row slices of
    the same bytes of the weights file, of at most ``slice_bytes`` each, their products
    concatenated. onnxruntime repacks a MatMul weight at load and frees the stored copy only
    when no other node reads it: on one shared initializer the whole table stayed resident as
    stored beside its packed copy (3B: +1.24 GB), and the two coexisted at the end of the
    load, the peak. Now the Gather's initializer pages in only the rows it reads, and each
    slice's stored copy goes once it is packed. No bytes are written; the views' names do not
    start with the weights' prefix, so the importer reads the table once, by its own name.
    Returns how many MatMuls it rewrote."""
    graph = proto.graph
    inits = {t.name: t for t in graph.initializer}
    gathered = {n.input[0] for n in graph.node if n.op_type == "Gather" and n.input[0] in inits}
    count = 0
    for node in list(graph.node):
        table = inits.get(node.input[1]) if node.op_type == "FusedMatMul" else None
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        if table is None or table.name not in gathered or trans_b != 1:
            continue
        if table.data_location != TensorProto.EXTERNAL or len(table.dims) != 2:
            continue
        start, length = location(table)
        rows, cols = table.dims
        row_bytes = length // rows
        per_slice = max(1, slice_bytes // row_bytes)
        parts, products = [], []
        for r0 in range(0, rows, per_slice):
            r1 = min(rows, r0 + per_slice)
            view = TensorProto(
                name=f"{PREFIX_OF_VIEWS}{r0}:{r1}]:{table.name}", data_type=table.data_type
            )
            view.dims.extend([r1 - r0, cols])
            point(view, start + r0 * row_bytes, (r1 - r0) * row_bytes)
            graph.initializer.append(view)
            out = f"{node.output[0]}.rows{r0}"
            parts.append(
                onnx.helper.make_node(
                    "FusedMatMul",
                    [node.input[0], view.name],
                    [out],
                    domain="com.microsoft",
                    transB=1,
                )
            )
            products.append(out)
        if len(products) == 1:
            parts[0].output[0] = node.output[0]
        else:
            parts.append(onnx.helper.make_node("Concat", products, [node.output[0]], axis=-1))
        at = list(graph.node).index(node)
        graph.node.remove(node)
        for i, part in enumerate(parts):
            graph.node.insert(at + i, part)
        count += 1
    return count


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


def _external(name: str, dtype: torch.dtype, dims, offset: int, length: int) -> TensorProto:
    """An initializer whose bytes are `length` bytes at `offset` of the bundle's weights file."""
    proto = TensorProto(name=name, data_type=_ONNX_DTYPES[dtype], dims=dims)
    point(proto, offset, length)
    return proto


def location(tensor: TensorProto) -> tuple[int, int]:
    """(offset, length) of an external initializer's bytes in the weights file."""
    entries = {e.key: e.value for e in tensor.external_data}
    return int(entries["offset"]), int(entries["length"])


def point(tensor: TensorProto, offset: int, length: int) -> None:
    """Makes `tensor` an external initializer over `length` bytes at `offset` of weights.bin."""
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    for k, v in (("location", WEIGHTS_FILE), ("offset", offset), ("length", length)):
        entry = tensor.external_data.add()
        entry.key, entry.value = k, str(v)
