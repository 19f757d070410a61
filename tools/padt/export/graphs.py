"""Traceable wrappers, one per ONNX graph of the bundle.

Each wrapper reuses the PyTorch modules of the reference model (transformers'
Qwen2.5-VL layers and padt's decoder) and replaces only what cannot be traced for
a dynamic grid: the Python-list window logic, cu_seqlens loops and the cache
object. Every grid-dependent tensor is an input (computed by padt.grid).

Boundary dtypes: every float input and output is float32, except the KV cache
(past/present), which is in the LLM's dtype (float16 in fp16 bundles).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import apply_rotary_pos_emb_vision


def segment_mask(segments: Tensor, dtype: torch.dtype) -> Tensor:
    """Additive [N, N] mask: 0 where two rows share a segment id, dtype's min elsewhere."""
    same = segments.unsqueeze(1) == segments.unsqueeze(0)
    zero = torch.zeros((), dtype=dtype)
    return torch.where(same, zero, torch.full((), torch.finfo(dtype).min, dtype=dtype))


def _vision_attention(attn: nn.Module, x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor) -> Tensor:
    """transformers' eager vision attention with the block mask given as a tensor."""
    n, dim = x.shape
    heads = attn.num_heads
    q, k, v = attn.qkv(x).reshape(n, 3, heads, dim // heads).permute(1, 0, 2, 3).unbind(0)
    q, k = apply_rotary_pos_emb_vision(q, k, cos, sin)
    q, k, v = (t.transpose(0, 1) for t in (q, k, v))
    scores = torch.matmul(q, k.transpose(1, 2)) / math.sqrt(dim // heads) + mask
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
    out = torch.matmul(weights, v).transpose(0, 1).reshape(n, dim)
    return attn.proj(out)


class VisionGraph(nn.Module):
    """Patch rows -> merger output E (raster merge order) and pre-merger hidden states
    (window order). One or several images; rows of image i carry full_segments == i."""

    input_names = (
        "pixel_values",
        "window_index",
        "reverse_index",
        "window_segments",
        "full_segments",
        "cos",
        "sin",
    )
    output_names = ("image_embeds", "high_res")

    def __init__(self, padt: nn.Module) -> None:
        super().__init__()
        self.padt = padt
        self.unit = padt.visual.spatial_merge_unit
        self.full_blocks = set(padt.visual.fullatt_block_indexes)

    def forward(
        self,
        pixel_values: Tensor,
        window_index: Tensor,
        reverse_index: Tensor,
        window_segments: Tensor,
        full_segments: Tensor,
        cos: Tensor,
        sin: Tensor,
    ) -> tuple[Tensor, Tensor]:
        visual = self.padt.visual
        dtype = visual.patch_embed.proj.weight.dtype
        x = visual.patch_embed(pixel_values.to(dtype))
        n, dim = x.shape
        x = x.reshape(-1, self.unit, dim)[window_index].reshape(n, dim)
        window_mask = segment_mask(window_segments, dtype)
        full_mask = segment_mask(full_segments, dtype)
        for i, block in enumerate(visual.blocks):
            mask = full_mask if i in self.full_blocks else window_mask
            x = x + _vision_attention(block.attn, block.norm1(x), cos, sin, mask)
            x = x + block.mlp(block.norm2(x))
        embeds = visual.merger(x)[reverse_index]
        return embeds.float(), x.float()


class PrototypeGraph(nn.Module):
    """E [n, D] -> visual prototypes P [n, D]."""

    input_names = ("image_embeds",)
    output_names = ("prototypes",)

    def __init__(self, padt: nn.Module) -> None:
        super().__init__()
        self.padt = padt

    def forward(self, image_embeds: Tensor) -> Tensor:
        return self.padt.make_prototypes(image_embeds).float()


class EmbedGraph(nn.Module):
    """Text token ids [B, L] (all < V) -> input embeddings [B, L, D]."""

    input_names = ("input_ids",)
    output_names = ("inputs_embeds",)

    def __init__(self, padt: nn.Module) -> None:
        super().__init__()
        self.padt = padt

    def forward(self, input_ids: Tensor) -> Tensor:
        return self.padt.model.embed_tokens(input_ids).float()


class _TraceCache:
    """The smallest stand-in for transformers' Cache that the attention layers call:
    concatenates the past keys/values given as graph inputs and records the present."""

    def __init__(self, past: list[tuple[Tensor, Tensor]]) -> None:
        self.past = past
        self.present: list[tuple[Tensor, Tensor] | None] = [None] * len(past)

    def update(self, key: Tensor, value: Tensor, layer_idx: int, cache_kwargs=None):
        past_key, past_value = self.past[layer_idx]
        key = torch.cat([past_key, key], dim=2)
        value = torch.cat([past_value, value], dim=2)
        self.present[layer_idx] = (key, value)
        return key, value


def causal_mask(attention_mask: Tensor, query_len: int, dtype: torch.dtype) -> Tensor:
    """[B, 1, L, T] additive mask: query i (absolute T - L + i) sees key j <= it with
    attention_mask[b, j] == 1. Sizes come from .shape, so tracing keeps them dynamic."""
    total = attention_mask.shape[1]
    key_pos = torch.arange(total, device=attention_mask.device)
    query_pos = torch.arange(query_len, device=attention_mask.device) + (total - query_len)
    allowed = key_pos.unsqueeze(0) <= query_pos.unsqueeze(1)  # [L, T]
    allowed = allowed.unsqueeze(0) & attention_mask.bool().unsqueeze(1)  # [B, L, T]
    zero = torch.zeros((), dtype=dtype)
    neg = torch.full((), torch.finfo(dtype).min, dtype=dtype)
    return torch.where(allowed, zero, neg).unsqueeze(1)


class LlmGraph(nn.Module):
    """Qwen2.5-VL LLM with a KV cache; serves prefill (L tokens, empty past) and decode.

    Outputs: logits of the last position over [text rows ; VRT rows] (VRT logit j =
    h . P[j] + vrt_bias[j]) so that argmax is directly the token id; the final-norm
    hidden states of every position; the present keys/values of every layer.
    """

    def __init__(self, padt: nn.Module) -> None:
        super().__init__()
        self.padt = padt
        self.num_layers = len(padt.model.layers)

    @property
    def input_names(self) -> tuple[str, ...]:
        base = ("inputs_embeds", "position_ids", "attention_mask", "prototypes", "vrt_bias")
        return base + tuple(
            f"past_key_values.{i}.{kv}" for i in range(self.num_layers) for kv in ("key", "value")
        )

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("logits", "hidden_states") + tuple(
            f"present.{i}.{kv}" for i in range(self.num_layers) for kv in ("key", "value")
        )

    def forward(
        self,
        inputs_embeds: Tensor,
        position_ids: Tensor,
        attention_mask: Tensor,
        prototypes: Tensor,
        vrt_bias: Tensor,
        *past: Tensor,
    ) -> tuple[Tensor, ...]:
        lm = self.padt.model
        text_weight = self.padt.text_output_weight()
        dtype = text_weight.dtype
        hidden = inputs_embeds.to(dtype)
        cache = _TraceCache([(past[2 * i], past[2 * i + 1]) for i in range(self.num_layers)])
        mask = causal_mask(attention_mask, hidden.shape[1], dtype)
        rotary = lm.rotary_emb(hidden, position_ids)
        for layer in lm.layers:
            hidden = layer(
                hidden,
                attention_mask=mask,
                position_ids=position_ids,
                past_key_value=cache,
                use_cache=True,
                position_embeddings=rotary,
            )[0]
        hidden = lm.norm(hidden)
        last = hidden[:, -1:, :]
        text_logits = torch.matmul(last, text_weight.t()).float()
        vrt_logits = torch.matmul(last.float(), prototypes.t()) + vrt_bias
        logits = torch.cat([text_logits, vrt_logits], dim=-1)
        present = [t for pair in cache.present for t in pair]
        return (logits, hidden.float(), *present)


class DecoderGraph(nn.Module):
    """PaDT decoder over B padded objects of one image.

    ``row_of_cell`` [N] picks the high-res row shown in each 14-px cell (identity for
    the reference's window placement); ``mask_grid`` is a [H14, W14] tensor whose
    shape alone carries the grid (its values are ignored).
    """

    input_names = (
        "features",
        "feature_mask",
        "prototypes",
        "high_res",
        "cos",
        "sin",
        "row_of_cell",
        "mask_grid",
    )
    output_names = ("boxes", "score_logits", "mask_logits")

    def __init__(self, padt: nn.Module) -> None:
        super().__init__()
        self.padt = padt

    def forward(
        self,
        features: Tensor,
        feature_mask: Tensor,
        prototypes: Tensor,
        high_res: Tensor,
        cos: Tensor,
        sin: Tensor,
        row_of_cell: Tensor,
        mask_grid: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        boxes, scores, masks = self.padt.vl_decoder.forward_batch(
            features,
            feature_mask,
            prototypes,
            high_res,
            cos,
            sin,
            mask_grid.shape[0],
            mask_grid.shape[1],
            row_of_cell,
        )
        return boxes.float(), scores.float(), masks.float()
