"""The bundle manifest, padt.json (documented in docs/bundle-format.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import onnx

# 2: embedding inside the LLM graph, fused attention (no embed graph); 3: batched decode (per-
# sequence prototypes [B, P, D] and vrt_bias [B, P], logits [B, 1, V + P]); 4: windowed vision
# blocks attend per window (window_slots / window_rows replace window_segments); 5: the LLM's
# ids index all sequences' prototypes flattened (V + b * P + r), and appended.{i} per layer is
# the rotated packed q|k|v (no gather out of present): ~70 fewer nodes per decode step
FORMAT_VERSION = 5
MANIFEST = "padt.json"
DEFAULT_LONG_SIDE = 644
# The largest long side the vision tower takes: the engine resizes larger images down to it,
# which bounds the tower's memory (its attention is dense, quadratic in the patch count). For
# imported checkpoints, the demo's 644 px; our own models record what they were trained at
# in config.json under MAX_LONG_SIDE_KEY; `--max-long-side` overrides both.
DEFAULT_MAX_LONG_SIDE = 644
MAX_LONG_SIDE_KEY = "padt_max_long_side"

_SPECIAL_TOKENS = {
    "endoftext": "<|endoftext|>",
    "im_start": "<|im_start|>",
    "im_end": "<|im_end|>",
    "vision_start": "<|vision_start|>",
    "vision_end": "<|vision_end|>",
    "image_pad": "<|image_pad|>",
}
_ELEM_TYPES = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.BOOL: "bool",
    onnx.TensorProto.UINT8: "uint8",
}


def special_tokens(tokenizer) -> dict[str, Any]:
    # Looked up in the vocabulary, not through convert_tokens_to_ids: that maps a missing token
    # to unk, and Qwen2 tokenizers saved by transformers name <|endoftext|> itself as unk.
    vocab = tokenizer.get_vocab()
    ids = {}
    for key, text in _SPECIAL_TOKENS.items():
        if text not in vocab:
            raise ValueError(f"the tokenizer has no {text} token")
        ids[key] = int(vocab[text])
    ids["eos"] = [ids["im_end"], ids["endoftext"]]
    return ids


def architecture(config) -> dict[str, Any]:
    vc = config.vision_config
    dec = config.decoder_settings
    rope = config.rope_scaling or {}
    return {
        "vision": {
            "depth": vc.depth,
            "hidden_size": vc.hidden_size,
            "intermediate_size": vc.intermediate_size,
            "num_heads": vc.num_heads,
            "head_dim": vc.hidden_size // vc.num_heads,
            "out_hidden_size": vc.out_hidden_size,
            "patch_size": vc.patch_size,
            "temporal_patch_size": vc.temporal_patch_size,
            "spatial_merge_size": vc.spatial_merge_size,
            "in_channels": vc.in_channels,
            "window_size": vc.window_size,
            "fullatt_block_indexes": list(vc.fullatt_block_indexes),
            "rope_theta": 10000.0,
        },
        "llm": {
            "hidden_size": config.hidden_size,
            "num_layers": config.num_hidden_layers,
            "num_heads": config.num_attention_heads,
            "num_kv_heads": config.num_key_value_heads,
            "head_dim": config.hidden_size // config.num_attention_heads,
            "vocab_rows": None,  # filled from the model (embedding rows = V)
            "rope_theta": float(config.rope_theta),
            "mrope_section": list(rope.get("mrope_section", [])),
            "rms_norm_eps": float(config.rms_norm_eps),
            "tie_word_embeddings": bool(config.tie_word_embeddings),
        },
        "decoder": {
            "hidden_size": dec.hidden_size,
            "intermediate_size": dec.intermediate_size,
            "num_heads": dec.num_heads,
            "head_dim": dec.head_dim,
            "llm_hidden_state": dec.llm_hidden_state,
            "spatial_merge_size": dec.spatial_merge_size,
        },
        "use_visual_prototype_projection": bool(config.use_visual_prototype_projection),
        "mask_placement": config.padt_mask_placement,
        "first_vrt_features": config.padt_first_vrt_features,
    }


class ManifestSettingError(ValueError):
    """A bundle setting given to the exporter that the engine could not honour."""


# What the model is for, so the gateway's `tasks` query and the playground can say so: our
# Shapes models record theirs in config.json under CAPABILITIES_KEY; a checkpoint without it
# is taken for PaDT Pro (the paper's four tasks, free chat from its Qwen2.5-VL base, and
# conversations of several turns). `multi_turn` false: trained on one question per image, so
# the engine sends the last question alone (a checkpoint that predates the key: true).
CAPABILITIES_KEY = "padt_capabilities"
DEFAULT_CAPABILITIES = {
    "tasks": ["rec", "res", "ovd", "ric"],
    "free_chat": True,
    "multi_turn": True,
}


def capabilities(config: Any) -> dict[str, Any]:
    declared = getattr(config, CAPABILITIES_KEY, None) or DEFAULT_CAPABILITIES
    tasks, free_chat = declared.get("tasks"), declared.get("free_chat")
    multi_turn = declared.get("multi_turn", True)
    if not (isinstance(tasks, list) and all(isinstance(t, str) and t for t in tasks)):
        raise ManifestSettingError(f"{CAPABILITIES_KEY}.tasks must be a list of task names")
    for key, value in (("free_chat", free_chat), ("multi_turn", multi_turn)):
        if not isinstance(value, bool):
            raise ManifestSettingError(f"{CAPABILITIES_KEY}.{key} must be true or false")
    return {"tasks": list(tasks), "free_chat": free_chat, "multi_turn": multi_turn}


def max_long_side(config: Any, override: int | None, factor: int) -> int:
    """`override`, else the config's MAX_LONG_SIDE_KEY, else DEFAULT_MAX_LONG_SIDE; a positive
    multiple of `factor` (patch * merge), so that smart_resize never rounds past it."""
    value = override
    if value is None:
        value = getattr(config, MAX_LONG_SIDE_KEY, None) or DEFAULT_MAX_LONG_SIDE
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value % factor:
        raise ManifestSettingError(
            f"max_long_side must be a positive multiple of {factor}, got {value!r}"
        )
    return value


def image_processor(
    checkpoint_dir: Path, config: Any = None, max_long_side_px: int | None = None
) -> dict[str, Any]:
    """Settings from preprocessor_config.json when present, else Qwen2.5-VL's defaults. Our
    own models may set `padt_pre_resize_long_side` in config.json (null: no pre-resize) and
    MAX_LONG_SIDE_KEY; `max_long_side_px` overrides the latter (see max_long_side)."""
    values: dict[str, Any] = {}
    path = checkpoint_dir / "preprocessor_config.json"
    if path.is_file():
        values = json.loads(path.read_text())
    size = values.get("size") or {}
    patch, merge = int(values.get("patch_size", 14)), int(values.get("merge_size", 2))
    return {
        "min_pixels": int(values.get("min_pixels", size.get("shortest_edge", 3136))),
        "max_pixels": int(values.get("max_pixels", size.get("longest_edge", 12845056))),
        "patch_size": patch,
        "merge_size": merge,
        "temporal_patch_size": int(values.get("temporal_patch_size", 2)),
        "image_mean": list(values.get("image_mean", [0.48145466, 0.4578275, 0.40821073])),
        "image_std": list(values.get("image_std", [0.26862954, 0.26130258, 0.27577711])),
        "rescale_factor": float(values.get("rescale_factor", 1 / 255)),
        "resample": "bicubic",
        # before smart_resize, the PaDT demo resizes the long side to 644 px (LANCZOS,
        # each side int(side * 644 / long side), skipped when the size is unchanged)
        "default_long_side": getattr(config, "padt_pre_resize_long_side", DEFAULT_LONG_SIDE),
        "max_long_side": max_long_side(config, max_long_side_px, patch * merge),
        "pre_resize_resample": "lanczos",
    }


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    shape = value.type.tensor_type.shape
    return [d.dim_param if d.dim_param else int(d.dim_value) for d in shape.dim]


def graph_entry(file_name: str, proto: onnx.ModelProto) -> dict[str, Any]:
    def describe(values) -> list[dict[str, Any]]:
        return [
            {
                "name": v.name,
                "dtype": _ELEM_TYPES[v.type.tensor_type.elem_type],
                "shape": _dims(v),
            }
            for v in values
        ]

    return {
        "file": file_name,
        "inputs": describe(proto.graph.input),
        "outputs": describe(proto.graph.output),
    }


def file_entry(path: Path, root: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return {
        "path": path.relative_to(root).as_posix(),
        "sha256": digest.hexdigest(),
        "bytes": path.stat().st_size,
    }


def write(bundle_dir: Path, manifest: dict[str, Any]) -> Path:
    files = sorted(p for p in bundle_dir.rglob("*") if p.is_file() and p.name != MANIFEST)
    manifest["files"] = [file_entry(p, bundle_dir) for p in files]
    path = bundle_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path
