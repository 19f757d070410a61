"""Traceable wrappers, one per ONNX graph of the bundle.

Each wrapper reuses the PyTorch modules of the reference model (transformers'
Qwen2.5-VL layers and padt's decoder) and replaces only what cannot be traced for
a dynamic grid: the Python-list window logic, cu_seqlens loops and the cache
object. Every grid-dependent tensor is an input (computed by padt.grid).

Boundary dtypes: every float input and output is float32, except the KV cache
(past/present), which is in the LLM's dtype (float16 in fp16 bundles).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .attention import (
    KeyPaddedAttention,
    MultiHeadAttention,
    add_and_norm,
    attention_layer,
    mrope_rotary,
    rotate_half_matrix,
)


def segment_mask(segments: Tensor, dtype: torch.dtype) -> Tensor:
    """Additive [1, 1, N, N] mask (MultiHeadAttention's attention bias): 0 where two rows
    share a segment id, dtype's min elsewhere."""
    same = segments.unsqueeze(1) == segments.unsqueeze(0)
    zero = torch.zeros((), dtype=dtype)
    mask = torch.where(same, zero, torch.full((), torch.finfo(dtype).min, dtype=dtype))
    return mask.reshape(1, 1, *mask.shape)


def _vision_qkv(
    attn: nn.Module, x: Tensor, rotary: tuple[Tensor, Tensor], rotate: Tensor
) -> Tensor:
    """[N, 3 (q|k|v), heads, hd]: q, k and v rotated together (``rotary``: vision_rotary's
    tables, identity on v)."""
    n, dim = x.shape
    cos, sin = rotary
    qkv = attn.qkv(x).reshape(n, 3, attn.num_heads, dim // attn.num_heads)
    return qkv * cos + torch.matmul(qkv, rotate) * sin


def _full_attention(
    attn: nn.Module, x: Tensor, rotary: tuple[Tensor, Tensor], rotate: Tensor, mask: Tensor
) -> Tensor:
    """transformers' eager vision attention over all rows, images kept apart by ``mask``."""
    n, dim = x.shape
    qkv = _vision_qkv(attn, x, rotary, rotate)
    q, k, v = (t.reshape(1, n, dim) for t in qkv.split(1, dim=1))
    return attn.proj(MultiHeadAttention.apply(q, k, v, mask, attn.num_heads).reshape(n, dim))


def _window_attention(
    attn: nn.Module,
    x: Tensor,
    rotary: tuple[Tensor, Tensor],
    rotate: Tensor,
    slots: Tensor,
    rows: Tensor,
    key_mask: Tensor,
) -> Tensor:
    """The same attention within each window only: the rows gathered into a padded batch
    of windows [W, Lw] (``slots``; padding keys masked by ``key_mask``), attended per window and
    put back in row order (``rows``). A block mask over all rows would cost N / Lw times
    the work (16x on a 448 px image with 112 px windows)."""
    n, dim = x.shape
    windows, width = slots.shape
    qkv = _vision_qkv(attn, x, rotary, rotate)
    batch = qkv.reshape(n, 3 * dim)[slots.clamp(min=0)].reshape(windows, width, 3, dim)
    q, k, v = (t.reshape(windows, width, dim) for t in batch.split(1, dim=2))
    out = KeyPaddedAttention.apply(q, k, v, key_mask, attn.num_heads)
    out = out.reshape(windows * width, dim)
    return attn.proj(out[rows])


def vision_rotary(cos: Tensor, sin: Tensor) -> tuple[Tensor, Tensor]:
    """The vision graph's cos/sin inputs [N, hd] for rows of [N, 3 (q|k|v), heads, hd],
    once for all blocks: 1 and 0 on v, which passes unrotated (v * 1 + rot(v) * 0 == v)."""
    rotated = torch.tensor([1.0, 1.0, 0.0]).reshape(1, 3, 1, 1)
    cos, sin = cos[:, None, None, :], sin[:, None, None, :]
    return cos * rotated + (1.0 - rotated), sin * rotated


class VisionGraph(nn.Module):
    """Patch rows -> merger output E (raster merge order) and pre-merger hidden states
    (window order). One or several images; rows of image i carry full_segments == i.
    Windowed blocks attend per window (format 4: ``window_slots`` / ``window_rows``, from
    padt.grid.window_slots), full-attention blocks over each image."""

    input_names = (
        "pixel_values",
        "window_index",
        "reverse_index",
        "window_slots",
        "window_rows",
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
        window_slots: Tensor,
        window_rows: Tensor,
        full_segments: Tensor,
        cos: Tensor,
        sin: Tensor,
    ) -> tuple[Tensor, Tensor]:
        visual = self.padt.visual
        dtype = visual.patch_embed.proj.weight.dtype
        # The patch Conv3d (stride = kernel) is one MatMul of the patch rows by its weight
        # flattened in the rows' (channel, time, y, x) order: onnxruntime's Conv took 8x longer.
        embed = visual.patch_embed.proj.weight
        x = torch.nn.functional.linear(pixel_values.to(dtype), embed.reshape(embed.shape[0], -1))
        n, dim = x.shape
        x = x.reshape(-1, self.unit, dim)[window_index].reshape(n, dim)
        key_mask = (window_slots >= 0).to(torch.int32)
        full_mask = segment_mask(full_segments, dtype)
        rotary = vision_rotary(cos, sin)
        vision = self.padt.config.vision_config
        rotate = rotate_half_matrix(vision.hidden_size // vision.num_heads, dtype)
        for i, block in enumerate(visual.blocks):
            h = block.norm1(x)
            if i in self.full_blocks:
                x = x + _full_attention(block.attn, h, rotary, rotate, full_mask)
            else:
                x = x + _window_attention(
                    block.attn, h, rotary, rotate, window_slots, window_rows, key_mask
                )
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

    Batched (format 3): B sequences decode in one run, each with its own prototypes and
    cache length; prefill runs one sequence (B = 1) and is the only call with image rows.
    ``input_ids`` [B, L] index one id space (format 5): ids < V are text rows of the token
    embedding, V + j is row j of all sequences' ``prototypes`` [B, P, D] flattened (sequence
    b's row r is j = b * P + r: a visual reference token), V + B * P + i is row i of
    ``image_embeds`` [I, D] (an image placeholder). For B = 1 that is format 4's V + r and
    V + P + i. Attention is onnxruntime's GroupQueryAttention (attention.py): ``seqlens_k`` [B]
    (each sequence's total length - 1, int32) and ``total_sequence_length`` (int32 scalar, the
    longest) replace an attention mask; the cache is [B, kv_heads, S, head_dim] with each
    sequence's rows right-padded to S, and may be one preallocated buffer bound as past and
    present.

    Outputs: logits [B, 1, V + P] of each sequence's last position over [text rows ; VRT
    rows] (VRT logit j = h . P[b, j] + vrt_bias[b, j]; padding rows carry -inf in vrt_bias, so
    a sequence never sees another's image) so that argmax is directly the token id; the
    final-norm hidden states [B, L, D] of every position; the present keys/values of every
    layer; and per layer ``appended.{i}`` [B, L, (H + 2 KV) * head_dim] (format 5), the rotated
    q|k|v rows GroupQueryAttention took packed: its k and v heads are the rows this call
    appended to the cache. A caller that keeps the cache itself fetches these instead of
    ``present`` (onnxruntime-node copies every fetched output into a new array, and the whole
    cache per step is what batched decode cannot afford); being the attention's own input they
    cost no node (format 3/4 gathered them out of ``present``: ~14 nodes per step).
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
        layers = [(i, kv) for i in range(self.num_layers) for kv in ("key", "value")]
        return (
            ("logits", "hidden_states")
            + tuple(f"present.{i}.{kv}" for i, kv in layers)
            + tuple(f"appended.{i}" for i in range(self.num_layers))
        )

    def embed(self, input_ids: Tensor, image_embeds: Tensor, prototypes: Tensor) -> Tensor:
        """[B, L, D] in the LLM's dtype: text rows, prototype rows, image rows by id.

        One table of the non-text rows, [every sequence's prototypes, flattened (B * P) ;
        image rows (I) ; a zero row], indexed by id - V, text ids clamped to its last (zero)
        row; the text rows from the token embedding. Only constant shapes (no Shape/Expand
        arithmetic on B or P): this ran ~60 nodes per decode step as per-sequence tables."""
        lm = self.padt.model
        dtype = self.padt.text_output_weight().dtype
        vocab = self.padt.text_vocab_rows
        width = lm.embed_tokens.embedding_dim  # a Python int: a constant Reshape
        text = lm.embed_tokens(torch.clamp(input_ids, max=vocab - 1))
        zero = torch.zeros(1, width, dtype=prototypes.dtype)
        table = torch.cat([prototypes.reshape(-1, width), image_embeds, zero]).to(dtype)
        # Negative for text ids: -1 is the zero row (Gather counts from the end).
        other = table[torch.clamp(input_ids - vocab, min=-1)]
        return torch.where((input_ids < vocab).unsqueeze(-1), text.to(dtype), other)

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
        attn = lm.layers[0].self_attn
        rotary = mrope_rotary(
            lm.rotary_emb,
            position_ids,
            self.padt.config.rope_scaling["mrope_section"],
            attn.num_heads,
            attn.num_key_value_heads,
            hidden.dtype,
        )
        rotate = rotate_half_matrix(attn.head_dim, hidden.dtype)
        present: list[Tensor] = []
        appended: list[Tensor] = []
        pending = None
        for i, layer in enumerate(lm.layers):
            hidden, pending, key, value, packed = attention_layer(
                layer,
                hidden,
                pending,
                rotary,
                rotate,
                past[2 * i],
                past[2 * i + 1],
                seqlens_k,
                total_sequence_length,
            )
            present += [key, value]
            appended.append(packed)
        hidden, _ = add_and_norm(lm.norm, hidden, pending)
        last = hidden[:, -1:, :]
        text_logits = torch.matmul(last, text_weight.t()).float()
        vrt_logits = torch.matmul(last.float(), prototypes.transpose(1, 2)) + vrt_bias.unsqueeze(1)
        logits = torch.cat([text_logits, vrt_logits], dim=-1)
        return (logits, hidden.float(), *present, *appended)


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
