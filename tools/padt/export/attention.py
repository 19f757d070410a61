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

import math

import torch
from torch import Tensor
from torch.onnx import symbolic_helper

DOMAIN = "com.microsoft"


class GroupQueryAttention(torch.autograd.Function):
    """``query`` packs q, k and v ([B, L, (H + 2 KV) * hd]: the layout of one fused QKV
    projection), so the node takes no separate key and value inputs."""

    @staticmethod
    def forward(
        ctx,
        packed: Tensor,
        past_key: Tensor,
        past_value: Tensor,
        seqlens_k: Tensor,
        total_sequence_length: Tensor,
        num_heads: int,
        kv_num_heads: int,
        scale: float,
    ) -> tuple[Tensor, Tensor, Tensor]:
        b, length, width = packed.shape
        head_dim = width // (num_heads + 2 * kv_num_heads)
        heads = packed.view(b, length, -1, head_dim).transpose(1, 2)
        q, k, v = heads.split([num_heads, kv_num_heads, kv_num_heads], dim=1)
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
        weights = torch.softmax(scores, dim=-1).to(packed.dtype)
        out = torch.matmul(weights, values).transpose(1, 2).reshape(b, length, num_heads * head_dim)
        return out, present_key, present_value

    @staticmethod
    def symbolic(
        g,
        packed,
        past_key,
        past_value,
        seqlens_k,
        total_sequence_length,
        num_heads: int,
        kv_num_heads: int,
        scale: float,
    ):
        absent = symbolic_helper._optional_input_placeholder_tensor(g)
        out, present_key, present_value = g.op(
            f"{DOMAIN}::GroupQueryAttention",
            packed,
            absent,
            absent,
            past_key,
            past_value,
            seqlens_k,
            total_sequence_length,
            num_heads_i=num_heads,
            kv_num_heads_i=kv_num_heads,
            scale_f=scale,
            outputs=3,
        )
        out.setType(packed.type())
        present_key.setType(past_key.type())
        present_value.setType(past_value.type())
        return out, present_key, present_value


class MultiHeadAttention(torch.autograd.Function):
    """Self-attention of q, k, v [B, N, D] with an additive bias [1, 1, N, N] (the vision
    tower's image mask; see KeyPaddedAttention for a per-entry mask) as one
    ``com.microsoft::MultiHeadAttention``: onnxruntime scales, adds the bias and takes the
    softmax inside the kernel instead of three passes over the [heads, N, N] scores."""

    @staticmethod
    def forward(ctx, q: Tensor, k: Tensor, v: Tensor, bias: Tensor, num_heads: int) -> Tensor:
        b, n, dim = q.shape
        q, k, v = (t.reshape(b, n, num_heads, dim // num_heads).transpose(1, 2) for t in (q, k, v))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dim // num_heads) + bias
        weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        return torch.matmul(weights, v).transpose(1, 2).reshape(b, n, dim)

    @staticmethod
    def symbolic(g, q, k, v, bias, num_heads: int):
        absent = symbolic_helper._optional_input_placeholder_tensor(g)
        out = g.op(
            f"{DOMAIN}::MultiHeadAttention", q, k, v, absent, absent, bias, num_heads_i=num_heads
        )
        out.setType(q.type())
        return out


class KeyPaddedAttention(torch.autograd.Function):
    """Self-attention of a padded batch q, k, v [B, L, D], keys where ``key_mask`` [B, L]
    (int32) is 0 left out, as one ``com.microsoft::MultiHeadAttention`` with its 2-D key
    padding mask. Not an attention bias [B, 1, L, L]: onnxruntime 1.21's CPU kernel applies
    batch 0's bias to every batch entry."""

    @staticmethod
    def forward(ctx, q: Tensor, k: Tensor, v: Tensor, key_mask: Tensor, num_heads: int) -> Tensor:
        fill = torch.full((), torch.finfo(q.dtype).min, dtype=q.dtype)
        bias = torch.where(key_mask[:, None, None, :] != 0, torch.zeros((), dtype=q.dtype), fill)
        return MultiHeadAttention.forward(ctx, q, k, v, bias, num_heads)

    @staticmethod
    def symbolic(g, q, k, v, key_mask, num_heads: int):
        absent = symbolic_helper._optional_input_placeholder_tensor(g)
        out = g.op(
            f"{DOMAIN}::MultiHeadAttention", q, k, v, absent, key_mask, num_heads_i=num_heads
        )
        out.setType(q.type())
        return out


class KeepLeadingReshape(torch.autograd.Function):
    """x [B, L, ...] -> [B, L, *tail], exported as one Reshape by the constant shape
    [-1, 0, *tail] (ONNX: 0 copies L, -1 is then B): no Shape/Gather/Concat arithmetic, and
    the tail stays static, so onnxruntime can infer GroupQueryAttention's output width from
    a packed query (it reads it as 0 when the width is not static). torch's exporter asserts
    on a shape with a 0 and no -1, hence -1 for B rather than 0."""

    @staticmethod
    def forward(ctx, x: Tensor, tail: tuple[int, ...]) -> Tensor:
        return x.reshape(x.shape[0], x.shape[1], *tail)

    @staticmethod
    def symbolic(g, x, tail: tuple[int, ...]):
        shape = g.op("Constant", value_t=torch.tensor([-1, 0, *tail], dtype=torch.int64))
        return g.op("Reshape", x, shape)


class PackedProjection(torch.autograd.Function):
    """x @ [W1; W2; ...]^T + [b1; b2; ...]: several Linear layers of one input as one MatMul
    (the attention's q, k and v projections: GroupQueryAttention takes them packed). Eagerly
    (and while tracing, on placeholder weights) each Linear runs by itself and the outputs are
    concatenated, so no concatenated weight is ever computed; the graph gets
    MatMul(x, Transpose(Concat(W...))) + Concat(b...), and the exporter stores each Concat of
    weights as one initializer (writer._fold_weight_concats)."""

    @staticmethod
    def forward(ctx, x: Tensor, *weights_and_biases: Tensor) -> Tensor:
        pairs = zip(weights_and_biases[0::2], weights_and_biases[1::2], strict=True)
        return torch.cat([torch.nn.functional.linear(x, w, b) for w, b in pairs], dim=-1)

    @staticmethod
    def symbolic(g, x, *weights_and_biases):
        weight = g.op("Concat", *weights_and_biases[0::2], axis_i=0)
        bias = g.op("Concat", *weights_and_biases[1::2], axis_i=0)
        out = g.op("MatMul", x, g.op("Transpose", weight, perm_i=[1, 0]))
        return g.op("Add", out, bias)


def packed_projection(x: Tensor, linears: list[torch.nn.Module]) -> Tensor:
    """PackedProjection of ``linears`` (each with a bias)."""
    return PackedProjection.apply(x, *(t for lin in linears for t in (lin.weight, lin.bias)))


def rms_norm(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    """transformers' Qwen2RMSNorm.forward."""
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(x.dtype)


class SkipRmsNorm(torch.autograd.Function):
    """``skip + x`` and its RMSNorm as one ``com.microsoft::SkipSimplifiedLayerNormalization``
    (outputs: the normed sum, and the sum itself, the next residual): onnxruntime fuses a
    plain RMSNorm by itself but leaves the residual Add before it as a node of its own."""

    @staticmethod
    def forward(ctx, x: Tensor, skip: Tensor, weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
        total = skip + x
        return rms_norm(total, weight, eps), total

    @staticmethod
    def symbolic(g, x, skip, weight, eps: float):
        out, _, _, total = g.op(
            f"{DOMAIN}::SkipSimplifiedLayerNormalization",
            x,
            skip,
            weight,
            epsilon_f=eps,
            outputs=4,
        )
        out.setType(x.type())
        total.setType(x.type())
        return out, total


def add_and_norm(
    norm: torch.nn.Module, hidden: Tensor, pending: Tensor | None
) -> tuple[Tensor, Tensor]:
    """(norm(hidden + pending), hidden + pending); ``pending`` None: nothing to add."""
    if pending is None:
        return norm(hidden), hidden
    return SkipRmsNorm.apply(pending, hidden, norm.weight, norm.variance_epsilon)


def mrope_rotary(
    rotary_emb: torch.nn.Module,
    position_ids: Tensor,
    mrope_section: list[int],
    heads: int,
    kv_heads: int,
    dtype: torch.dtype,
) -> tuple[Tensor, Tensor]:
    """cos and sin of M-RoPE for the packed q|k|v heads, once per step for all layers:
    [B, L, H + 2 KV, hd], 1 and 0 on the v heads, which pass unrotated
    (v * 1 + rot(v) * 0 == v exactly).

    transformers computes every section's angles and then picks each frequency's section
    (rotary_emb + apply_multimodal_rotary_pos_emb: ~35 nodes once optimised). Here one MatMul
    of the positions [B, L, 3] by a [3, hd] table that holds inv_freq[i] in the row of i's
    section and 0 in the others gives the merged angles directly, and exactly: each sum has
    one non-zero term, the same product the reference forms."""
    section_of = [s for s, n in enumerate(mrope_section) for _ in range(n)]
    pick = torch.tensor([[float(s == row) for s in section_of] for row in range(3)])
    table = pick * rotary_emb.inv_freq.float()
    table = torch.cat([table, table], dim=-1)
    angles = torch.matmul(position_ids.permute(1, 2, 0).float(), table)
    # Angle 0 on the v heads: cos 1 and sin 0 there, exactly.
    rotated = torch.tensor([[1.0]] * (heads + kv_heads) + [[0.0]] * kv_heads)
    angles = angles.unsqueeze(2) * rotated
    cos, sin = angles.cos(), angles.sin()
    scaling = float(rotary_emb.attention_scaling)
    if scaling != 1.0:
        cos, sin = cos * scaling, sin * scaling
    return cos.to(dtype), sin.to(dtype)


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
    pending: Tensor | None,
    rotary: tuple[Tensor, Tensor],
    rotate: Tensor,
    past_key: Tensor,
    past_value: Tensor,
    seqlens_k: Tensor,
    total_sequence_length: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """One Qwen2.5-VL decoder layer (transformers' modules, its attention fused) on the
    residual stream ``hidden`` + ``pending`` (the previous layer's MLP output, None before the
    first layer): returns the stream, this layer's MLP output (added by the next norm, see
    add_and_norm), the present key and value, and the rotated packed q|k|v rows
    [B, L, (H + 2 KV) * hd] the attention took (its k and v heads: the rows appended to the
    cache). ``rotary``: mrope_rotary's cos and sin;
    ``rotate``: rotate_half_matrix.

    q, k and v come from one MatMul on their weights concatenated (PackedProjection: stored
    concatenated at export, so neither tracing nor onnxruntime's load makes a second copy;
    test_export_memory) and are rotated together in [B, L, H + 2 KV, hd], the layout
    GroupQueryAttention takes packed."""
    attn = layer.self_attn
    x, hidden = add_and_norm(layer.input_layernorm, hidden, pending)
    cos, sin = rotary
    heads = attn.num_heads + 2 * attn.num_key_value_heads
    qkv = packed_projection(x, [attn.q_proj, attn.k_proj, attn.v_proj])
    qkv = KeepLeadingReshape.apply(qkv, (heads, attn.head_dim))
    qkv = KeepLeadingReshape.apply(
        qkv * cos + torch.matmul(qkv, rotate) * sin, (heads * attn.head_dim,)
    )
    out, present_key, present_value = GroupQueryAttention.apply(
        qkv,
        past_key,
        past_value,
        seqlens_k,
        total_sequence_length,
        attn.num_heads,
        attn.num_key_value_heads,
        attn.head_dim**-0.5,
    )
    x, hidden = add_and_norm(layer.post_attention_layernorm, hidden, attn.o_proj(out))
    return hidden, layer.mlp(x), present_key, present_value, qkv
