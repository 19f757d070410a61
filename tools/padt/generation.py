"""Autoregressive decoding with PaDT's dynamic vocabulary (text rows + the current image's VRTs).

Batch of one. Keeps, for every generated token, the final-norm hidden state that predicted
it (the decoder's input for VRT tokens). Positions follow transformers' get_rope_index for
the prompt; a decode step at cache length L uses L + rope_delta on all three axes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor
from transformers.cache_utils import DynamicCache
from transformers.generation.logits_process import (
    LogitsProcessorList,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from .modeling import EncodedImage, PadtForConditionalGeneration, all_prototypes
from .vrt import object_features

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
    # [prompt_length, D], every prompt row of the prefill step: kept only under the
    # reference's first-VRT rule (config padt_first_vrt_features "all_prompt_rows")
    prefill_hidden_states: Tensor | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds, plus tokens_per_s

    @property
    def patch_offset(self) -> int:
        """VRT index of the current image's first patch (images are concatenated)."""
        return sum(img.num_patches for img in self.images[: self.current_image])

    def object_features(self, steps: Sequence[int]) -> Tensor:
        """The decoder's input for an object whose VRTs were generated at `steps`."""
        return object_features(self.hidden_states, steps, self.prefill_hidden_states)


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


@dataclass(frozen=True)
class DecodingSettings:
    """What transformers' generate applies to each step's scores, in its own order:
    repetition penalty (greedy or not), then, when sampling, temperature, top-k and top-p."""

    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 1.0
    repetition_penalty: float = 1.0

    def processors(self) -> LogitsProcessorList:
        """transformers' own processors, as `_get_logits_processor` lists them."""
        out = LogitsProcessorList()
        if self.repetition_penalty != 1.0:
            out.append(RepetitionPenaltyLogitsProcessor(self.repetition_penalty))
        if self.do_sample:
            if self.temperature != 1.0:
                out.append(TemperatureLogitsWarper(self.temperature))
            if self.top_k != 0:
                out.append(TopKLogitsWarper(self.top_k))
            if self.top_p < 1.0:
                out.append(TopPLogitsWarper(self.top_p))
        return out


def decoding_settings(
    generation_config: Any,
    do_sample: bool = False,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float | None = None,
) -> DecodingSettings:
    """Explicit arguments over the checkpoint's generation_config (generation_config.json),
    over transformers' defaults. `do_sample` is not read from the checkpoint: the PaDT
    reference calls generate(do_sample=False). Explicit sampling settings without
    do_sample are refused rather than ignored."""
    if not do_sample and (temperature not in (None, 1.0) or top_p not in (None, 1.0) or top_k):
        raise ValueError("temperature, top_k and top_p need do_sample=True")

    def pick(value: Any, name: str, default: Any) -> Any:
        if value is not None:
            return value
        stored = getattr(generation_config, name, None)
        return default if stored is None else stored

    settings = DecodingSettings(
        do_sample=do_sample,
        temperature=float(pick(temperature, "temperature", 1.0)),
        top_k=int(pick(top_k, "top_k", 50)),
        top_p=float(pick(top_p, "top_p", 1.0)),
        repetition_penalty=float(pick(repetition_penalty, "repetition_penalty", 1.0)),
    )
    if settings.repetition_penalty <= 0:
        raise ValueError("repetition_penalty must be > 0")
    if do_sample:
        if settings.temperature <= 0:
            raise ValueError("temperature must be > 0")
        if not 0 < settings.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if settings.top_k < 0:
            raise ValueError("top_k must be >= 0")
    return settings


class TokenPicker:
    """transformers' processors on the step's scores (every id of the sequence so far, prompt
    and VRT ids included, feeds the repetition penalty), then argmax, or a draw from the
    softmax with a seeded generator."""

    def __init__(self, settings: DecodingSettings, seed: int | None):
        self.do_sample = settings.do_sample
        self.processors = settings.processors()
        self.generator = torch.Generator().manual_seed(seed if seed is not None else 0)

    def scores(self, sequence: Tensor, logits: Tensor) -> Tensor:
        """[1, L] ids so far, [vocab] logits -> [1, vocab] processed float32 scores."""
        return self.processors(sequence, logits.float()[None])

    def __call__(self, sequence: Tensor, logits: Tensor) -> int:
        scores = self.scores(sequence, logits)[0]
        if not self.do_sample:
            return int(torch.argmax(scores))
        probs = torch.softmax(scores, dim=-1).cpu()
        return int(torch.multinomial(probs, 1, generator=self.generator))


@torch.inference_mode()
def generate(
    model: PadtForConditionalGeneration,
    inputs: Any,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    *,
    do_sample: bool = False,
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    repetition_penalty: float | None = None,
    seed: int | None = None,
    stop_token_ids: Iterable[int] | None = None,
    current_image: int = -1,
) -> GenerationResult:
    """Generate one answer. `inputs`: PadtInputs or a mapping with input_ids, attention_mask,
    pixel_values, image_grid_thw. `current_image` picks the image whose VRTs are allowed
    (default: the last one). Sampling settings and the repetition penalty default to the
    checkpoint's generation_config (see decoding_settings); decoding is greedy unless
    do_sample."""
    if max_new_tokens < 1:
        raise ValueError("max_new_tokens must be >= 1")
    settings = decoding_settings(
        model.generation_config, do_sample, temperature, top_k, top_p, repetition_penalty
    )
    pick = TokenPicker(settings, seed)
    all_rows = model.config.padt_first_vrt_features == "all_prompt_rows"
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
    prefill_states = out.last_hidden_state[0] if all_rows else None
    prefilled = time.perf_counter()

    ids: list[int] = []
    states: list[Tensor] = []
    finish: FinishReason = "length"
    sequence = input_ids.cpu()
    while True:
        token = pick(sequence, model.padt_logits(hidden, prototypes, allowed)[0].cpu())
        ids.append(token)
        states.append(hidden[0])
        if token in stops:
            finish = "stop"
            break
        if len(ids) >= max_new_tokens:
            break
        step = torch.tensor([[token]], device=device)
        sequence = torch.cat([sequence, step.cpu()], dim=1)
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
        prefill_hidden_states=prefill_states,
        timings={
            "encode_s": encoded - started,
            "prefill_s": prefilled - encoded,
            "decode_s": decode_s,
            "tokens_per_s": (len(ids) - 1) / decode_s if decode_s > 0 and len(ids) > 1 else 0.0,
        },
    )
