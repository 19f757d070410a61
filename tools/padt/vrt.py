"""Read a generated answer: text plus objects (maximal runs of VRT ids).

An object's label is the most recent double-quoted text before its run ("" if none), as
the reference parser reads it; its features are the hidden states of the steps that
predicted its VRTs. One difference, kept on purpose (docs/decisions.md): a quote that a VRT
run closes (`"cat <VRTs>`) gives the label without its trailing space; the reference keeps
the space.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")


def vrt_text(patch: int) -> str:
    """How a VRT is written in answer text (the reference tokenizer's added-token spelling)."""
    return f"<|VRT_{patch}|>"


@dataclass
class ParsedObject:
    label: str
    patches: list[int]  # VRT indices, relative to `patch_offset` (patch j of the image)
    steps: list[int]  # positions of the run in the generated ids
    features: Tensor | None  # [k, D] hidden states that predicted the run, if given


@dataclass
class ParsedAnswer:
    text: str  # answer with each VRT written as <|VRT_j|>, stop token excluded
    objects: list[ParsedObject]


class _LabelReader:
    """Tracks quoted text across the answer the way the reference does: an opening quote
    starts a label, a closing quote ends it, and a VRT run closes an unclosed one."""

    def __init__(self) -> None:
        self.label = ""
        self.inside = False
        self.buffer: list[str] = []

    def feed(self, text: str) -> None:
        for char in text:
            if char == '"':
                if self.inside:
                    self.label = "".join(self.buffer).strip()
                self.inside = not self.inside
                self.buffer = []
            elif self.inside:
                self.buffer.append(char)

    def at_run(self) -> str:
        if self.inside:
            self.label = "".join(self.buffer).strip()
            self.inside = False
            self.buffer = []
        return self.label


def object_features(
    hidden_states: Tensor, steps: Sequence[int], prefill_states: Tensor | None = None
) -> Tensor:
    """hidden_states[t] for the run's steps t (the states that predicted its VRTs). Given
    `prefill_states` (every prompt row, the reference's rule for imported checkpoints), a run
    that starts the answer takes all of them in place of its first VRT's row, as the
    reference's parser concatenates the whole prefill step's output."""
    rows = hidden_states[steps[0] : steps[-1] + 1]
    if prefill_states is None or steps[0] != 0:
        return rows
    return torch.cat([prefill_states.to(rows.dtype), rows[1:]])


def tokenizer_stop_ids(tokenizer: PreTrainedTokenizerBase) -> set[int]:
    ids = tokenizer.convert_tokens_to_ids(list(STOP_TOKENS))
    return {i for i in ids if i is not None and i != tokenizer.unk_token_id}


def parse_answer(
    ids: Sequence[int],
    tokenizer: PreTrainedTokenizerBase,
    vocab_size: int,
    hidden_states: Tensor | None = None,
    stop_token_ids: Iterable[int] | None = None,
    patch_offset: int = 0,
    prefill_states: Tensor | None = None,
) -> ParsedAnswer:
    """Split generated `ids` into text and objects.

    vocab_size is V (embedding rows): ids >= V are VRTs, patch = id - V - patch_offset.
    hidden_states[t] must be the state that predicted ids[t]. Parsing ends at the first stop
    token (default: the tokenizer's <|im_end|> and <|endoftext|>). `prefill_states`: see
    object_features (GenerationResult.prefill_hidden_states).
    """
    stops = set(stop_token_ids) if stop_token_ids is not None else tokenizer_stop_ids(tokenizer)
    ids = [int(i) for i in ids]
    end = next((t for t, i in enumerate(ids) if i in stops), len(ids))

    pieces: list[str] = []
    objects: list[ParsedObject] = []
    labels = _LabelReader()
    start = 0
    while start < end:
        is_vrt = ids[start] >= vocab_size
        stop = start
        while stop < end and (ids[stop] >= vocab_size) == is_vrt:
            stop += 1
        if is_vrt:
            patches = [i - vocab_size - patch_offset for i in ids[start:stop]]
            objects.append(
                ParsedObject(
                    label=labels.at_run(),
                    patches=patches,
                    steps=list(range(start, stop)),
                    features=None
                    if hidden_states is None
                    else object_features(hidden_states, range(start, stop), prefill_states),
                )
            )
            pieces.extend(vrt_text(p) for p in patches)
        else:
            text = tokenizer.decode(ids[start:stop], skip_special_tokens=False)
            labels.feed(text)
            pieces.append(text)
        start = stop
    return ParsedAnswer(text="".join(pieces), objects=objects)
