"""Run transformers' Qwen2.5-VL vision tower and keep what PaDT's decoder needs.

The stock forward returns only the merger output. PaDT also needs the pre-merger hidden
states and the rotary tables, both still in window order. We compose the tower's own
pieces (patch_embed, rot_pos_emb, get_window_index, blocks, merger) instead of patching
its forward, so a stock Qwen2.5-VL in the same process is unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import (
    Qwen2_5_VisionTransformerPretrainedModel,
)


@dataclass
class VisionOutput:
    embeds: Tensor  # [sum N/4, D] merger output, raster merge order
    high_res: Tensor  # [sum N, Dv] last block output, window order (per image)
    cos: Tensor  # [sum N, head_dim] window order
    sin: Tensor  # [sum N, head_dim] window order
    window_index: Tensor  # [sum N/4] raster merge unit at each window position (global)


def run_vision_tower(
    visual: Qwen2_5_VisionTransformerPretrainedModel, pixel_values: Tensor, grid_thw: Tensor
) -> VisionOutput:
    unit = visual.spatial_merge_unit
    hidden = visual.patch_embed(pixel_values.type(visual.dtype))
    rotary = visual.rot_pos_emb(grid_thw)
    window_index, cu_window = visual.get_window_index(grid_thw)
    cu_window = torch.unique_consecutive(
        torch.tensor(cu_window, device=hidden.device, dtype=torch.int32)
    )

    seq_len = hidden.shape[0]
    hidden = hidden.reshape(seq_len // unit, unit, -1)[window_index].reshape(seq_len, -1)
    rotary = rotary.reshape(seq_len // unit, unit, -1)[window_index].reshape(seq_len, -1)
    angles = torch.cat((rotary, rotary), dim=-1)
    cos, sin = angles.cos(), angles.sin()

    cu_full = torch.repeat_interleave(grid_thw[:, 1] * grid_thw[:, 2], grid_thw[:, 0])
    cu_full = F.pad(cu_full.cumsum(dim=0, dtype=torch.int32), (1, 0), value=0)
    for layer, block in enumerate(visual.blocks):
        cu = cu_full if layer in visual.fullatt_block_indexes else cu_window
        hidden = block(hidden, cu_seqlens=cu, position_embeddings=(cos, sin))

    merged = visual.merger(hidden)[torch.argsort(window_index)]
    return VisionOutput(merged, hidden, cos, sin, window_index)
