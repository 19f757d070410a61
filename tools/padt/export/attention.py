"""Causal self-attention of the LLM graph as onnxruntime's fused GroupQueryAttention.

Exported as one ``com.microsoft::GroupQueryAttention`` node per layer: the KV cache stays
at the KV-head count (no repeat_kv expand), in onnxruntime's [B, kv_heads, S, head_dim]
layout (no per-step transpose), the causal mask is the kernel's own (none built per step),
and when the caller binds ``present`` to the same buffer as ``past`` (a preallocated cache
of the context length) the kernel writes the new rows in place instead of concatenating.
M-RoPE is applied to q and k before the node (its three position sections do not fit the
kernel's 1-D rotary), so ``do_rotary`` stays off; its tables are merged once for all layers.

Under PyTorch (tracing, and the wrapper's own tests) ``forward`` computes the same thing
eagerly with the non-shared semantics: ``past`` holds exactly the earlier positions.
"""

from __future__ import annotations

import torch
from torch import Tensor

DOMAIN = "com.microsoft"


class GroupQueryAttention(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        past_key: Tensor,
        past_value: Tensor,
        seqlens_k: Tensor,
        total_sequence_length: Tensor,
        num_heads: int,
        kv_num_heads: int,
        scale: float,
    ) -> tuple[Tensor, Tensor, Tensor]:
        b, length, _ = query.shape
        head_dim = query.shape[-1] // num_heads
        q = query.view(b, length, num_heads, head_dim).transpose(1, 2)
        k = key.view(b, length, kv_num_heads, head_dim).transpose(1, 2)
        v = value.view(b, length, kv_num_heads, head_dim).transpose(1, 2)
        present_key = torch.cat([past_key, k], dim=2)
        present_value = torch.cat([past_value, v], dim=2)
        total = present_key.shape[2]
        rep = num_heads // kv_num_heads
        keys = present_key.repeat_interleave(rep, dim=1)
        values = present_value.repeat_interleave(rep, dim=1)
        scores = torch.matmul(q.float(), keys.float().transpose(-1, -2)) * scale
        query_pos = torch.arange(length) + (total - length)
        visible = torch.arange(total).unsqueeze(0) <= query_pos.unsqueeze(1)
        scores = scores.masked_fill(~visible, float("-inf"))
        weights = torch.softmax(scores, dim=-1).to(query.dtype)
        out = torch.matmul(weights, values).transpose(1, 2).reshape(b, length, num_heads * head_dim)
        return out, present_key, present_value

    @staticmethod
    def symbolic(
        g,
        query,
        key,
        value,
        past_key,
        past_value,
        seqlens_k,
        total_sequence_length,
        num_heads: int,
        kv_num_heads: int,
        scale: float,
    ):
        out, present_key, present_value = g.op(
            f"{DOMAIN}::GroupQueryAttention",
            query,
            key,
            value,
            past_key,
            past_value,
            seqlens_k,
            total_sequence_length,
            num_heads_i=num_heads,
            kv_num_heads_i=kv_num_heads,
            scale_f=scale,
            outputs=3,
        )
        out.setType(query.type())
        present_key.setType(past_key.type())
        present_value.setType(past_value.type())
        return out, present_key, present_value


def mrope_tables(cos: Tensor, sin: Tensor, mrope_section: list[int]) -> tuple[Tensor, Tensor]:
    """transformers' M-RoPE section merge (apply_multimodal_rotary_pos_emb), done once for all
    layers: [3, B, L, hd] tables -> [B, L, 1, hd], broadcast over heads in [B, L, H, hd]."""
    sections = mrope_section * 2

    def merge(t: Tensor) -> Tensor:
        parts = t.split(sections, dim=-1)
        return torch.cat([m[i % 3] for i, m in enumerate(parts)], dim=-1).unsqueeze(2)

    return merge(cos), merge(sin)


def rotate_half_matrix(head_dim: int, dtype: torch.dtype) -> Tensor:
    """R with x @ R == rotate_half(x) == cat(-x2, x1): a signed permutation, so the product is
    exact, and one MatMul replaces two Slices, a Neg and a Concat per tensor per layer."""
    half = head_dim // 2
    r = torch.zeros(head_dim, head_dim, dtype=dtype)
    idx = torch.arange(half)
    r[idx + half, idx] = -1.0
    r[idx, idx + half] = 1.0
    return r


def attention_layer(
    layer: torch.nn.Module,
    hidden: Tensor,
    sizes: tuple,
    rotary: tuple[Tensor, Tensor],
    rotate: Tensor,
    past_key: Tensor,
    past_value: Tensor,
    seqlens_k: Tensor,
    total_sequence_length: Tensor,
) -> tuple[Tensor, Tensor, Tensor]:
    """One Qwen2.5-VL decoder layer (transformers' modules, its attention fused). ``rotary``:
    mrope_tables' cos and sin; ``rotate``: rotate_half_matrix; ``sizes``: (B, L) of the ids. q and k stay in [B, L, H, hd],
    the layout GroupQueryAttention takes flattened, so nothing is transposed."""
    attn = layer.self_attn
    # Sizes read once from the same tensor: every layer's reshapes then build identical shape
    # tensors, which onnxruntime's common-subexpression pass merges into one.
    b, length = sizes
    residual = hidden
    x = layer.input_layernorm(hidden)
    cos, sin = rotary
    q = attn.q_proj(x).reshape(b, length, attn.num_heads, attn.head_dim)
    k = attn.k_proj(x).reshape(b, length, attn.num_key_value_heads, attn.head_dim)
    q = (q * cos + torch.matmul(q, rotate) * sin).reshape(b, length, -1)
    k = (k * cos + torch.matmul(k, rotate) * sin).reshape(b, length, -1)
    out, present_key, present_value = GroupQueryAttention.apply(
        q,
        k,
        attn.v_proj(x),
        past_key,
        past_value,
        seqlens_k,
        total_sequence_length,
        attn.num_heads,
        attn.num_key_value_heads,
        attn.head_dim**-0.5,
    )
    hidden = residual + attn.o_proj(out)
    hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
    return hidden, present_key, present_value
