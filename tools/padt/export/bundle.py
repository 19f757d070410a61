"""Export a PaDT checkpoint to an ONNX model bundle (docs/bundle-format.md).

Memory: load_padt reads the model once, in the checkpoint's dtype, and nothing casts it.
Graphs are exported one at a time and traced with placeholder weights of the graph's
dtype fed as inputs (writer.trace: no memory); each weight is then converted a slice at a
time and appended to the shared weights.bin. After the float32 graphs (vision, prototypes,
decoder) their modules move to the meta device, which frees them. So the peak is the
checkpoint itself plus a slice of one converted tensor and the tracer's bookkeeping,
whatever the bundle's dtype (tests/test_export_memory.py measures it). The .onnx files hold graph structure only, far below protobuf's 2 GiB
limit whatever the model size.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import torch

from ..checkpoint import load_padt
from ..config import FIRST_VRT_FEATURES
from . import manifest, writer
from .generation import generation_settings
from .specs import GRAPHS

if TYPE_CHECKING:
    from .quantize import QuantizeSettings

DTYPES = {"fp32": torch.float32, "fp16": torch.float16}
# The vision tower, prototype projection and decoder stay float32 in fp16 bundles: the
# last vision MLP and the merger of Qwen2.5-VL-3B overflow in fp16 (PITFALLS.md), and the
# decoder is small. Only the token embedding and the LLM use the bundle dtype.


# The model's top-level modules each graph reads. The LLM graph (its token embedding
# included) comes last.
PARTS = {
    "vision": ("visual",),
    "prototypes": ("vis_norm", "vis_proj"),
    "decoder": ("vl_decoder",),
    "llm": ("model", "lm_head"),
}
LLM_GRAPHS = ("llm",)


class BundleDirError(FileExistsError):
    """The output directory exists and is not empty (pass force=True to replace it)."""


@dataclass(frozen=True)
class ExportResult:
    bundle_dir: Path
    files: list[dict]
    seconds: float


def _check_dir(bundle_dir: Path, checkpoint_dir: Path, force: bool) -> None:
    """Refuse a bad output directory before the (possibly long) model load."""
    out, src = bundle_dir.resolve(), checkpoint_dir.resolve()
    if out == src or out in src.parents:
        raise BundleDirError(f"{bundle_dir} holds the checkpoint; choose another directory")
    if not bundle_dir.exists():
        return
    if not bundle_dir.is_dir():
        raise BundleDirError(f"{bundle_dir} exists and is not a directory")
    if any(bundle_dir.iterdir()) and not force:
        raise BundleDirError(f"{bundle_dir} is not empty (use --force to replace it)")


def _prepare_dir(bundle_dir: Path) -> None:
    if bundle_dir.exists():
        shutil.rmtree(bundle_dir)
    bundle_dir.mkdir(parents=True)


def _copy_tokenizer(checkpoint_dir: Path, bundle_dir: Path, template: str) -> None:
    shutil.copyfile(checkpoint_dir / "tokenizer.json", bundle_dir / "tokenizer.json")
    (bundle_dir / "chat_template.jinja").write_text(template)


def export_bundle(
    checkpoint_dir: str | Path,
    bundle_dir: str | Path,
    dtype: str = "fp32",
    force: bool = False,
    model_name: str | None = None,
    max_long_side: int | None = None,
    first_vrt_features: str | None = None,
    quantize: QuantizeSettings | None = None,
    capabilities: dict | None = None,
) -> ExportResult:
    """Export ``checkpoint_dir`` to ``bundle_dir`` (see docs/bundle-format.md); the model's
    name (what clients see) defaults to the checkpoint directory's. ``max_long_side``: the
    largest image long side the engine feeds the vision tower (default: the checkpoint
    config's ``padt_max_long_side``, else 644, the PaDT demo's). ``first_vrt_features``
    overrides the config's ``padt_first_vrt_features`` ("all_prompt_rows": the reference's
    rule, for imported checkpoints; docs/decisions.md). ``quantize``: weight-only
    quantisation of the LLM graph's MatMuls, a post-pass on the written bundle (quantize.py).
    ``capabilities`` overrides the config's ``padt_capabilities`` (the trainer's own record of
    what its data taught, for a checkpoint whose config predates a key)."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}")
    start = time.monotonic()
    checkpoint_dir, bundle_dir = Path(checkpoint_dir), Path(bundle_dir)
    llm_dtype = DTYPES[dtype]
    # Loaded in the checkpoint's own dtype ("auto"); each weight is converted only as it is
    # written, so bf16 goes straight to fp32 (vision) or fp16 (LLM), never through each other.
    # Raises CheckpointError (padt.checkpoint) for anything that is not a PaDT checkpoint.
    _check_dir(bundle_dir, checkpoint_dir, force)
    if quantize is not None:
        quantize.check()  # raises QuantizeError before the model load
    manifest.image_processor(checkpoint_dir, None, max_long_side)  # bad settings fail first
    generation = generation_settings(checkpoint_dir)
    if first_vrt_features is not None and first_vrt_features not in FIRST_VRT_FEATURES:
        raise manifest.ManifestSettingError(
            f"first_vrt_features must be one of {FIRST_VRT_FEATURES}, got {first_vrt_features!r}"
        )
    model, tokenizer, processor = load_padt(
        checkpoint_dir, dtype="auto", attn_implementation="sdpa"
    )
    _prepare_dir(bundle_dir)
    model.eval().requires_grad_(False)
    sink = writer.WeightSink(bundle_dir)

    cfg = model.config
    packed = (cfg.num_attention_heads + 2 * cfg.num_key_value_heads) * (
        cfg.hidden_size // cfg.num_attention_heads
    )
    static_dims = {
        "vision": {"high_res": {1: cfg.vision_config.hidden_size}},
        "llm": {
            "logits": {1: 1},
            **{f"appended.{i}": {2: packed} for i in range(cfg.num_hidden_layers)},
        },
    }
    graphs = {}
    for name, (wrapper_cls, make_args) in GRAPHS.items():
        parts = [getattr(model, p) for p in PARTS[name] if hasattr(model, p)]
        graph_dtype = llm_dtype if name in LLM_GRAPHS else torch.float32
        args, axes = make_args(model, llm_dtype) if name == "llm" else make_args(model)
        wrapper = wrapper_cls(model)
        proto = writer.trace(
            wrapper, parts, args, wrapper.input_names, wrapper.output_names, axes, graph_dtype
        )
        writer.attach_weights(proto, wrapper, sink, wrapper.input_names, graph_dtype)
        writer.normalize_transposes(proto)
        writer.matmuls_on_stored_weights(proto)
        writer.matmuls_on_views_of_gathered_tables(proto)
        writer.set_output_dims(proto, static_dims.get(name, {}))
        writer.strip(proto)
        file_name = f"{name}.onnx"
        writer.save(proto, bundle_dir / file_name)
        graphs[name] = manifest.graph_entry(file_name, proto)
        del proto
        if name not in LLM_GRAPHS:
            for part in parts:  # written: release its memory before the next graph
                part.to("meta")

    _copy_tokenizer(checkpoint_dir, bundle_dir, processor.chat_template)
    arch = manifest.architecture(model.config)  # reads config and shapes only
    arch["llm"]["vocab_rows"] = int(model.text_vocab_rows)
    if first_vrt_features is not None:
        arch["first_vrt_features"] = first_vrt_features
    doc = {
        "format": "padt-bundle",
        "format_version": manifest.FORMAT_VERSION,
        "model": {"name": model_name or checkpoint_dir.resolve().name},
        "dtype": dtype,
        "kv_dtype": "float16" if dtype == "fp16" else "float32",
        **arch,
        "special_tokens": manifest.special_tokens(tokenizer),
        "image_processor": manifest.image_processor(checkpoint_dir, model.config, max_long_side),
        "generation": generation,
        "capabilities": manifest.capabilities(
            SimpleNamespace(**{manifest.CAPABILITIES_KEY: capabilities})
            if capabilities
            else model.config
        ),
        "weights_file": writer.WEIGHTS_FILE,
        "graphs": graphs,
    }
    manifest.write(bundle_dir, doc)
    if quantize is not None:
        from .quantize import quantize_bundle

        del model, parts, wrapper  # free the checkpoint before the pass reads the weights
        doc = quantize_bundle(bundle_dir, quantize)
    return ExportResult(bundle_dir, doc["files"], time.monotonic() - start)
