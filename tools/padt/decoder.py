"""The PaDT decoder (`vl_decoder`): VRT hidden states of one object -> box, score, mask.

Parameter names equal the public checkpoints' `vl_decoder.*` keys. Two entry points:
`forward` decodes objects one at a time the way the reference does; `forward_batch` decodes
the padded objects of one image at once without data-dependent Python control flow, so it
can be traced to ONNX. Both give the same numbers (tests/test_reference_decoder.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2RMSNorm

from .config import DecoderSettings

NUM_TASK_TOKENS = 3  # box, score, mask
Rotary = tuple[Tensor, Tensor]


def rotate_half(x: Tensor) -> Tensor:
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def apply_rotary(x: Tensor, rotary: Rotary) -> Tensor:
    """Non-interleaved rotary over the full head dim; x is [..., heads, L, hd], cos/sin [L, hd].

    Computed in float32 like the reference (flash-attn's apply_rotary_emb on .float()).
    """
    cos, sin = (t.float() for t in rotary)
    xf = x.float()
    return (xf * cos + rotate_half(xf) * sin).to(x.dtype)


@dataclass
class DecoderOutput:
    boxes: Tensor  # [n, 4] cx, cy, w, h in [0, 1] of the resized image
    score_logits: Tensor  # [n]
    mask_logits: Tensor  # [n, 4*H14, 4*W14]


class DecoderAttention(nn.Module):
    """Multi-head attention where positions enter either additively (before the projection)
    or as rotary (after it), as the reference's flash-attention module does."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = 1.0 / math.sqrt(dim // num_heads)
        self.q_proj = nn.Linear(dim, dim, bias=True)
        self.k_proj = nn.Linear(dim, dim, bias=True)
        self.v_proj = nn.Linear(dim, dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def _heads(self, x: Tensor) -> Tensor:
        # [..., L, D] -> [..., heads, L, hd]
        return x.unflatten(-1, (self.num_heads, -1)).transpose(-3, -2)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        query_add: Tensor | None = None,
        key_add: Tensor | None = None,
        query_rotary: Rotary | None = None,
        key_rotary: Rotary | None = None,
        key_bias: Tensor | None = None,
    ) -> Tensor:
        q = self._heads(self.q_proj(query if query_add is None else query + query_add))
        k = self._heads(self.k_proj(key if key_add is None else key + key_add))
        v = self._heads(self.v_proj(key))
        if query_rotary is not None:
            q = apply_rotary(q, query_rotary)
        if key_rotary is not None:
            k = apply_rotary(k, key_rotary)
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        if key_bias is not None:
            scores = scores + key_bias
        weights = torch.softmax(scores.float(), dim=-1).to(v.dtype)
        out = torch.matmul(weights, v).transpose(-3, -2).flatten(-2)
        return self.proj(out)


class DecoderBlock(nn.Module):
    """Query self-attention, query->memory cross-attention, MLP, then memory->query update."""

    def __init__(self, settings: DecoderSettings) -> None:
        super().__init__()
        dim = settings.hidden_size
        for i in range(1, 7):
            self.add_module(f"norm{i}", Qwen2RMSNorm(dim, eps=1e-6))
        self.self_attn = DecoderAttention(dim, settings.num_heads)
        self.cross_attn_query_to_image = DecoderAttention(dim, settings.num_heads)
        self.mlp = nn.Sequential(
            nn.Linear(dim, settings.intermediate_size),
            nn.GELU(),
            nn.Linear(settings.intermediate_size, dim),
        )
        self.cross_attn_image_to_query = DecoderAttention(dim, settings.num_heads)

    def forward(
        self,
        query: Tensor,
        memory: Tensor,
        query_pos: Tensor,
        memory_rotary: Rotary,
        query_key_bias: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        q_norm = self.norm1(query)
        query = query + self.self_attn(
            q_norm, q_norm, query_add=query_pos, key_add=query_pos, key_bias=query_key_bias
        )
        q_norm, m_norm = self.norm2(query), self.norm3(memory)
        query = query + self.cross_attn_query_to_image(
            q_norm, m_norm, query_add=query_pos, key_rotary=memory_rotary
        )
        query = query + self.mlp(self.norm4(query))
        q_norm, m_norm = self.norm5(query), self.norm6(memory)
        memory = memory + self.cross_attn_image_to_query(
            m_norm, q_norm, key_add=query_pos, query_rotary=memory_rotary, key_bias=query_key_bias
        )
        return query, memory


class PadtDecoder(nn.Module):
    def __init__(self, settings: DecoderSettings) -> None:
        super().__init__()
        dim = settings.hidden_size
        self.settings = settings
        self.merge_unit = settings.spatial_merge_size**2
        self.vp_embedding = nn.Embedding(1, dim)
        self.bbox_score_mask_tokens = nn.Embedding(NUM_TASK_TOKENS, dim)
        self.input_projection = nn.Sequential(
            Qwen2RMSNorm(settings.llm_hidden_state),
            nn.Linear(settings.llm_hidden_state, dim),
            nn.GELU(),
            nn.Linear(dim, dim),
        )
        self.low_res_transformer = DecoderBlock(settings)
        self.high_res_transformer1 = DecoderBlock(settings)
        self.high_res_transformer2 = DecoderBlock(settings)
        self.high_res_norm = Qwen2RMSNorm(dim)
        self.bbox_prediction = nn.Sequential(
            nn.Linear(dim, dim),
            nn.GELU(),
            nn.Linear(dim, dim),
            nn.GELU(),
            nn.Linear(dim, 4),
            nn.Sigmoid(),
        )
        self.score_prediction = nn.Linear(dim, 1)
        self.mask_output_upscaling1 = nn.Sequential(
            nn.Linear(dim, dim // 4 * 4),
            Qwen2RMSNorm(dim // 4 * 4),
            nn.GELU(),
        )
        self.mask_output_upscaling2 = nn.Sequential(
            nn.Linear(dim // 4, dim // 16 * 4),
            nn.GELU(),
        )
        self.mask_output_mlp = nn.Sequential(
            nn.Linear(dim, dim),
            nn.GELU(),
            nn.Linear(dim, dim),
            nn.GELU(),
            nn.Linear(dim, dim // 16),
        )

    # --- shared pieces -------------------------------------------------------------------

    def _low_res_rotary(self, cos: Tensor, sin: Tensor) -> Rotary:
        # Quirk kept for imported checkpoints: every 4th row of the *window-ordered* tables
        # serves the *raster-ordered* low-res memory.
        unit = self.merge_unit
        return (
            cos.unflatten(0, (-1, unit))[:, 0],
            sin.unflatten(0, (-1, unit))[:, 0],
        )

    def _high_res_memory(self, low_res: Tensor, high_res: Tensor) -> Tensor:
        # Each raster low-res row j is added to window-ordered rows 4j..4j+3 (reference quirk).
        repeated = low_res.unsqueeze(-2).expand(
            *low_res.shape[:-1], self.merge_unit, low_res.shape[-1]
        )
        return self.high_res_norm(repeated.flatten(-3, -2) + high_res)

    def _mask_map(
        self,
        mask_token: Tensor,
        memory: Tensor,
        grid_h14: int | Tensor,
        grid_w14: int | Tensor,
        row_of_cell: Tensor | None,
    ) -> Tensor:
        """mask_token [..., D], memory [..., N, D] -> logits [..., 4*H14, 4*W14]."""
        vector = self.mask_output_mlp(mask_token)  # [..., e]
        up1 = self.mask_output_upscaling1(memory).unflatten(-1, (2, 2, -1))  # [..., N, a, b, D/4]
        up2 = self.mask_output_upscaling2(up1).unflatten(-1, (2, 2, -1))  # [..., N, a, b, c, d, e]
        vector = vector[..., None, None, None, None, None, :]
        logits = (up2 * vector).sum(dim=-1)  # [..., N, a, b, c, d]
        # sub-cell row = 2a + c, column = 2b + d
        # [..., N, a, c, b, d] -> [..., N, 16] indexed (2a + c) * 4 + (2b + d)
        cells = logits.permute(*range(logits.dim() - 5), -5, -4, -2, -3, -1).flatten(-4, -1)
        if row_of_cell is not None:
            cells = cells.index_select(-2, row_of_cell.to(cells.device))
        # Row i fills cell (i div W14, i mod W14). With window-ordered rows and no row_of_cell
        # this placement is not spatial: the reference's behaviour, kept for its checkpoints.
        lead = cells.shape[:-2]
        grid = cells.reshape(*lead, grid_h14, grid_w14, 4, 4).transpose(-3, -2)
        return grid.flatten(-4, -3).flatten(-2, -1)

    # --- per object, as the reference --------------------------------------------------

    def forward(
        self,
        object_features: Sequence[Tensor],
        prototypes: Tensor,
        high_res: Tensor,
        cos: Tensor,
        sin: Tensor,
        grid_h14: int,
        grid_w14: int,
        row_of_cell: Tensor | None = None,
    ) -> DecoderOutput:
        """Decode each object ([k_i, D_llm] features) of one image separately.

        prototypes [N/4, D_llm] raster order; high_res [N, Dv], cos/sin [N, hd] window order.
        row_of_cell (optional, [N]) picks the high-res row shown in each 14-px cell.
        """
        boxes, scores, masks = [], [], []
        for features in object_features:
            box, score, mask = self._decode_one(
                features, prototypes, high_res, cos, sin, grid_h14, grid_w14, row_of_cell
            )
            boxes.append(box)
            scores.append(score)
            masks.append(mask)
        if not boxes:
            h4, w4 = 4 * grid_h14, 4 * grid_w14
            empty = high_res.new_zeros
            return DecoderOutput(empty((0, 4)), empty((0,)), empty((0, h4, w4)))
        return DecoderOutput(torch.stack(boxes), torch.stack(scores), torch.stack(masks))

    def _decode_one(
        self,
        features: Tensor,
        prototypes: Tensor,
        high_res: Tensor,
        cos: Tensor,
        sin: Tensor,
        grid_h14: int,
        grid_w14: int,
        row_of_cell: Tensor | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        # The initial queries double as the positional embedding of every block.
        initial = torch.cat(
            [
                self.bbox_score_mask_tokens.weight,
                self.input_projection(features) + self.vp_embedding.weight,
            ]
        )
        low_res = self.input_projection(prototypes)
        query, low_res = self.low_res_transformer(
            initial, low_res, initial, self._low_res_rotary(cos, sin)
        )
        memory = self._high_res_memory(low_res, high_res)
        query, memory = self.high_res_transformer1(query, memory, initial, (cos, sin))
        query, memory = self.high_res_transformer2(query, memory, initial, (cos, sin))
        box = self.bbox_prediction(query[0])
        score = self.score_prediction(query[1])[0]
        mask = self._mask_map(query[2], memory, grid_h14, grid_w14, row_of_cell)
        return box, score, mask

    # --- batched, export-friendly ------------------------------------------------------

    def forward_batch(
        self,
        features: Tensor,
        feature_mask: Tensor,
        prototypes: Tensor,
        high_res: Tensor,
        cos: Tensor,
        sin: Tensor,
        grid_h14: int | Tensor,
        grid_w14: int | Tensor,
        row_of_cell: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Decode B padded objects of one image.

        features [B, K, D_llm] with feature_mask [B, K] (True = real VRT; each object needs at
        least one, padding anywhere); other inputs as in `forward`.
        Returns boxes [B, 4] (cx, cy, w, h in [0, 1]), score_logits [B],
        mask_logits [B, 4*H14, 4*W14].
        """
        batch = features.shape[0]
        dim = self.settings.hidden_size
        features = torch.where(feature_mask.unsqueeze(-1), features, torch.zeros_like(features))
        task_tokens = self.bbox_score_mask_tokens.weight.unsqueeze(0).expand(batch, -1, -1)
        projected = self.input_projection(features) + self.vp_embedding.weight
        initial = torch.cat([task_tokens, projected], dim=1)  # [B, 3+K, D]

        valid = torch.cat([feature_mask.new_ones((batch, NUM_TASK_TOKENS)), feature_mask], dim=1)
        # Padded queries must never be attended to; every row keeps its 3 task tokens.
        key_bias = torch.zeros(valid.shape, dtype=initial.dtype, device=initial.device)
        key_bias = key_bias.masked_fill(~valid, torch.finfo(initial.dtype).min)
        key_bias = key_bias[:, None, None, :]  # [B, 1, 1, 3+K]

        low_res = self.input_projection(prototypes).unsqueeze(0).expand(batch, -1, dim)
        query, low_res = self.low_res_transformer(
            initial, low_res, initial, self._low_res_rotary(cos, sin), key_bias
        )
        memory = self._high_res_memory(low_res, high_res.unsqueeze(0))
        query, memory = self.high_res_transformer1(query, memory, initial, (cos, sin), key_bias)
        query, memory = self.high_res_transformer2(query, memory, initial, (cos, sin), key_bias)
        boxes = self.bbox_prediction(query[:, 0])
        scores = self.score_prediction(query[:, 1]).squeeze(-1)
        masks = self._mask_map(query[:, 2], memory, grid_h14, grid_w14, row_of_cell)
        return boxes, scores, masks


def spatial_row_of_cell(
    window_index: Tensor, grid_h14: int, grid_w14: int, merge: int = 2
) -> Tensor:
    """For each 14-px cell (raster), the window-ordered high-res row that holds that patch.

    window_index[u] is the raster merge unit at window position u (Qwen's get_window_index);
    window-ordered row r = 4u + s holds sub-patch s (raster inside the 2x2 unit).
    """
    w28 = grid_w14 // merge
    unit = window_index.repeat_interleave(merge * merge)
    sub = torch.arange(unit.numel(), device=window_index.device) % (merge * merge)
    row14 = (unit // w28) * merge + sub // merge
    col14 = (unit % w28) * merge + sub % merge
    cell_of_row = row14 * grid_w14 + col14
    assert cell_of_row.numel() == grid_h14 * grid_w14
    return torch.argsort(cell_of_row)
