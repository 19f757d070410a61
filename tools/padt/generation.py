"""Autoregressive decoding with PaDT's dynamic vocabulary (text rows + the current image's VRTs).

Batch of one. Keeps, for every generated token, the final-norm hidden state that predicted
it (the decoder's input for VRT tokens). Positions follow transformers' get_rope_index for
the prompt; a decode step at cache length L uses L + rope_delta on all three axes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor
from transformers.cache_utils import DynamicCache

from .modeling import EncodedImage, PadtForConditionalGeneration, all_prototypes

FinishReason = Literal["stop", "length"]
DEFAULT_MAX_NEW_TOKENS = 1024


@dataclass
class GenerationResult:
    ids: list[int]  # generated ids; the stop token, if reached, is the last one
    hidden_states: Tensor  # [len(ids), D]: row t is the state that predicted ids[t]
    prompt_length: int
    finish_reason: FinishReason
    images: list[EncodedImage]
    current_image: int  # index into images whose VRTs were allowed
    text_vocab_rows: int  # V: ids >= V are VRTs
    timings: dict[str, float] = field(default_factory=dict)  # seconds, plus tokens_per_s

    @property
    def patch_offset(self) -> int:
        """VRT index of the current image's first patch (images are concatenated)."""
        return sum(img.num_patches for img in self.images[: self.current_image])


def default_stop_ids(model: PadtForConditionalGeneration) -> set[int]:
    """im_end / endoftext as the checkpoint declares them (generation_config, config)."""
    stops: set[int] = set()
    for source in (model.generation_config.eos_token_id, model.config.eos_token_id):
        if isinstance(source, int):
            stops.add(source)
        elif source is not None:
            stops.update(int(i) for i in source)
    return stops


def _field(inputs: Any, name: str) -> Any:
    if isinstance(inputs, Mapping):
        return inputs.get(name)
    return getattr(inputs, name, None)


class TokenPicker:
    """Greedy, or temperature + top-p sampling from a seeded generator."""

    def __init__(self, do_sample: bool, temperature: float, top_p: float, seed: int | None):
        if not do_sample and (temperature != 1.0 or top_p != 1.0):
            raise ValueError("temperature and top_p need do_sample=True")
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        if not 0 < top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        self.do_sample, self.temperature, self.top_p = do_sample, temperature, top_p
        self.generator = torch.Generator().manual_seed(seed if seed is not None else 0)

    def __call__(self, logits: Tensor) -> int:
        if not self.do_sample:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits.float() / self.temperature, dim=-1).cpu()
        if self.top_p < 1:
            sorted_probs, order = torch.sort(probs, descending=True)
            # Keep the smallest prefix whose mass reaches top_p (always the first token).
            keep = (sorted_probs.cumsum(-1) - sorted_probs) < self.top_p
            probs = torch.zeros_like(probs).scatter(-1, order[keep], sorted_probs[keep])
        return int(torch.multinomial(probs, 1, generator=self.generator))


@torch.inference_mode()
def generate(
    model: PadtForConditionalGeneration,
    inputs: Any,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    *,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int | None = None,
    stop_token_ids: Iterable[int] | None = None,
    current_image: int = -1,
) -> GenerationResult:
    """Generate one answer. `inputs`: PadtInputs or a mapping with input_ids, attention_mask,
    pixel_values, image_grid_thw. `current_image` picks the image whose VRTs are allowed
    (default: the last one)."""
    if max_new_tokens < 1:
        raise ValueError("max_new_tokens must be >= 1")
    pick = TokenPicker(do_sample, temperature, top_p, seed)
    stops = set(stop_token_ids) if stop_token_ids is not None else default_stop_ids(model)
    device = model.device
    input_ids = _field(inputs, "input_ids").to(device)
    if input_ids.dim() != 2 or input_ids.shape[0] != 1:
        raise ValueError("generate takes one conversation (input_ids of shape [1, L])")
    attention_mask = _field(inputs, "attention_mask")
    attention_mask = (
        torch.ones_like(input_ids) if attention_mask is None else attention_mask.to(device)
    )
    pixel_values, grid = _field(inputs, "pixel_values"), _field(inputs, "image_grid_thw")

    started = time.perf_counter()
    images = (
        []
        if pixel_values is None
        else model.encode_images(pixel_values.to(device), grid.to(device))
    )
    prototypes = all_prototypes(images, model.model.embed_tokens.weight)
    allowed = model.vrt_logit_mask(images, current_image)
    encoded = time.perf_counter()

    position_ids, rope_delta = model.get_rope_index(
        input_ids, image_grid_thw=grid.to(device) if images else None, attention_mask=attention_mask
    )
    cache = DynamicCache()
    out = model.model(
        inputs_embeds=model.embed_prompt(input_ids, images),
        position_ids=position_ids,
        attention_mask=attention_mask,
        past_key_values=cache,
        use_cache=True,
    )
    hidden = out.last_hidden_state[:, -1]
    prefilled = time.perf_counter()

    ids: list[int] = []
    states: list[Tensor] = []
    finish: FinishReason = "length"
    while True:
        token = pick(model.padt_logits(hidden, prototypes, allowed)[0])
        ids.append(token)
        states.append(hidden[0])
        if token in stops:
            finish = "stop"
            break
        if len(ids) >= max_new_tokens:
            break
        step = torch.tensor([[token]], device=device)
        position = (cache.get_seq_length() + rope_delta).view(1, 1, 1).expand(3, 1, 1)
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones((1, 1))], dim=1)
        out = model.model(
            inputs_embeds=model.embed_ids(step, prototypes),
            position_ids=position.to(device),
            attention_mask=attention_mask,
            past_key_values=cache,
            use_cache=True,
        )
        hidden = out.last_hidden_state[:, -1]
    finished = time.perf_counter()

    decode_s = finished - prefilled
    return GenerationResult(
        ids=ids,
        hidden_states=torch.stack(states),
        prompt_length=input_ids.shape[1],
        finish_reason=finish,
        images=images,
        current_image=(current_image % len(images)) if images else 0,
        text_vocab_rows=model.text_vocab_rows,
        timings={
            "encode_s": encoded - started,
            "prefill_s": prefilled - encoded,
            "decode_s": decode_s,
            "tokens_per_s": (len(ids) - 1) / decode_s if decode_s > 0 and len(ids) > 1 else 0.0,
        },
    )
