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

from .attention import attention_layer, mrope_tables, rotate_half_matrix


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


class LlmGraph(nn.Module):
    """Qwen2.5-VL LLM with a KV cache and its input embedding; serves prefill (L tokens,
    empty past) and decode in one session run (docs/bundle-format.md, "llm").

    ``input_ids`` [B, L] index three tables: ids < V are text rows of the token embedding,
    V + r is prototype row r (a visual reference token), V + R + i is row i of
    ``image_embeds`` (an image placeholder; R = prototype rows). Attention is onnxruntime's
    GroupQueryAttention (attention.py): ``seqlens_k`` [B] (total length - 1, int32) and
    ``total_sequence_length`` (int32 scalar) replace an attention mask; the cache is
    [B, kv_heads, S, head_dim] and may be one preallocated buffer bound as past and present.

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
        base = (
            "input_ids",
            "image_embeds",
            "position_ids",
            "prototypes",
            "vrt_bias",
            "seqlens_k",
            "total_sequence_length",
        )
        return base + tuple(
            f"past_key_values.{i}.{kv}" for i in range(self.num_layers) for kv in ("key", "value")
        )

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("logits", "hidden_states") + tuple(
            f"present.{i}.{kv}" for i in range(self.num_layers) for kv in ("key", "value")
        )

    def embed(self, input_ids: Tensor, image_embeds: Tensor, prototypes: Tensor) -> Tensor:
        """[B, L, D] in the LLM's dtype: text rows, prototype rows, image rows by id."""
        lm = self.padt.model
        dtype = self.padt.text_output_weight().dtype
        vocab = self.padt.text_vocab_rows
        is_text = input_ids < vocab
        text = lm.embed_tokens(torch.where(is_text, input_ids, torch.zeros_like(input_ids)))
        # One zero row after the others: text positions gather it, so the table is never
        # empty (a text-only prompt has no prototypes and no image rows).
        zero = torch.zeros(1, prototypes.shape[1], dtype=prototypes.dtype)
        extra = torch.cat([prototypes, image_embeds, zero]).to(dtype)
        spare = torch.full_like(input_ids, extra.shape[0] - 1)
        other = extra[torch.where(is_text, spare, input_ids - vocab)]
        return torch.where(is_text.unsqueeze(-1), text.to(dtype), other)

    def forward(
        self,
        input_ids: Tensor,
        image_embeds: Tensor,
        position_ids: Tensor,
        prototypes: Tensor,
        vrt_bias: Tensor,
        seqlens_k: Tensor,
        total_sequence_length: Tensor,
        *past: Tensor,
    ) -> tuple[Tensor, ...]:
        lm = self.padt.model
        text_weight = self.padt.text_output_weight()
        hidden = self.embed(input_ids, image_embeds, prototypes)
        cos, sin = lm.rotary_emb(hidden, position_ids)
        rotary = mrope_tables(cos, sin, self.padt.config.rope_scaling["mrope_section"])
        rotate = rotate_half_matrix(lm.layers[0].self_attn.head_dim, hidden.dtype)
        sizes = (input_ids.shape[0], input_ids.shape[1])
        present: list[Tensor] = []
        for i, layer in enumerate(lm.layers):
            hidden, key, value = attention_layer(
                layer,
                hidden,
                sizes,
                rotary,
                rotate,
                past[2 * i],
                past[2 * i + 1],
                seqlens_k,
                total_sequence_length,
            )
            present += [key, value]
        hidden = lm.norm(hidden)
        last = hidden[:, -1:, :]
        text_logits = torch.matmul(last, text_weight.t()).float()
        vrt_logits = torch.matmul(last.float(), prototypes.t()) + vrt_bias
        logits = torch.cat([text_logits, vrt_logits], dim=-1)
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
