"""Tiny checkpoints and bundles shared by the export tests (built once per session)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import torch
from transformers.cache_utils import DynamicCache

from padt.checkpoint import load_padt, save_padt
from padt.export import export_bundle
from padt.modeling import all_prototypes
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


class ReferenceLlm:
    """The PyTorch reference's LLM run the way the exported LLM graph is: a prefill of `ids`
    (with `images` encoded on grids `thw`), then one token per `step`, on a KV cache. After
    each run, `hidden` is the final-norm hidden state of every new position, `logits` the PaDT
    logits (text and VRT) of the last one, and `cache` the KV cache so far."""

    def __init__(self, model, ids, images, thw) -> None:
        self.model = model
        self.protos = all_prototypes(images, model.model.embed_tokens.weight)
        self.allowed = model.vrt_logit_mask(images)
        input_ids = torch.tensor([ids])
        self.position_ids, delta = model.get_rope_index(input_ids, image_grid_thw=thw)
        self.delta = int(delta)
        self.length = len(ids)
        self.cache = DynamicCache()
        self._run(model.embed_prompt(input_ids, images), self.position_ids)

    def step(self, token: int) -> None:
        position = torch.full((3, 1, 1), self.length + self.delta)
        self.length += 1
        self._run(self.model.embed_ids(torch.tensor([[token]]), self.protos), position)

    def _run(self, embeds, position_ids) -> None:
        with torch.no_grad():
            out = self.model.model(
                inputs_embeds=embeds,
                position_ids=position_ids,
                past_key_values=self.cache,
                use_cache=True,
            )
            self.hidden = out.last_hidden_state
            self.logits = self.model.padt_logits(self.hidden[:, -1], self.protos, self.allowed)[0]
