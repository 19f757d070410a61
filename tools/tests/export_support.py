"""Tiny checkpoints and bundles shared by the export tests (built once per session)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import torch

from padt.checkpoint import load_padt, save_padt
from padt.export import export_bundle
from padt.processing import make_processor
from padt.tiny import build_tiny_model, make_tiny_config
from padt.tokenizer_build import build_tiny_tokenizer

_ROOT = Path(tempfile.mkdtemp(prefix="padt-export-tests-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)


@functools.cache
def tiny_checkpoint(
    tied: bool = True, placement: str = "window", prototype_scale: float = 1.0, seed: int = 0
) -> Path:
    """A tiny random checkpoint. ``prototype_scale`` multiplies vis_norm's weight and bias
    (so prototypes, hence VRT logits, grow): the same weights then feed both the PyTorch
    reference and the exported bundle, which makes random models emit VRTs."""
    tokenizer = build_tiny_tokenizer()
    config = make_tiny_config(tokenizer, tie_word_embeddings=tied, padt_mask_placement=placement)
    model, tokenizer = build_tiny_model(seed, config)
    with torch.no_grad():
        model.vis_norm.weight.mul_(prototype_scale)
        model.vis_norm.bias.mul_(prototype_scale)
    path = _ROOT / f"ckpt-{int(tied)}-{placement}-{prototype_scale}-{seed}"
    save_padt(model, tokenizer, path, processor=make_processor(tokenizer))
    return path


@functools.cache
def tiny_bundle(dtype: str = "fp32", **checkpoint) -> Path:
    ckpt = tiny_checkpoint(**checkpoint)
    out = _ROOT / f"bundle-{ckpt.name}-{dtype}"
    export_bundle(ckpt, out, dtype=dtype)
    return out


@functools.cache
def reference(**checkpoint):
    """(model, tokenizer, processor) of the PyTorch reference, float32, eager attention."""
    return load_padt(tiny_checkpoint(**checkpoint), attn_implementation="eager")
