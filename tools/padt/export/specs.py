"""Example inputs and dynamic axes of each graph, for tracing.

Example sizes avoid 1 and coincidences between axes (a traced size that equals
another axis could be mistaken for it): grid 10x14 (window order differs from raster
order), 3 past + 5 new tokens, 7 prototypes, 2 objects of 3 VRTs.
"""

from __future__ import annotations

import torch

from .. import grid
from .graphs import DecoderGraph, LlmGraph, PrototypeGraph, VisionGraph

TRACE_GRID = (10, 14)


def vision_args(padt) -> tuple[tuple, dict]:
    vc = padt.config.vision_config
    head_dim = vc.hidden_size // vc.num_heads
    gh, gw = TRACE_GRID
    vi = grid.vision_inputs([TRACE_GRID], head_dim, vc.window_size, patch=vc.patch_size)
    row = vc.in_channels * vc.temporal_patch_size * vc.patch_size**2
    args = (
        torch.zeros(gh * gw, row),
        *(
            torch.from_numpy(a)
            for a in (
                vi.window_index,
                vi.reverse_index,
                vi.window_slots,
                vi.window_rows,
                vi.full_segments,
                vi.cos,
                vi.sin,
            )
        ),
    )
    axes = {
        "pixel_values": {0: "patches"},
        "window_index": {0: "units"},
        "reverse_index": {0: "units"},
        "window_slots": {0: "windows", 1: "window_length"},
        "window_rows": {0: "patches"},
        "full_segments": {0: "patches"},
        "cos": {0: "patches"},
        "sin": {0: "patches"},
        "image_embeds": {0: "units"},
        "high_res": {0: "patches"},
    }
    return args, axes


def prototype_args(padt) -> tuple[tuple, dict]:
    d = padt.config.hidden_size
    return (torch.zeros(35, d),), {"image_embeds": {0: "units"}, "prototypes": {0: "units"}}


def llm_args(padt, dtype: torch.dtype) -> tuple[tuple, dict]:
    cfg = padt.config
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    # Batch 2 so that nothing is specialised to one sequence (the engine decodes several).
    batch, past, new, protos, image_rows = 2, 3, 5, 7, 6
    kv = [
        torch.zeros(batch, cfg.num_key_value_heads, past, head_dim, dtype=dtype)
        for _ in range(2 * cfg.num_hidden_layers)
    ]
    positions = torch.arange(past, past + new).view(1, 1, -1).expand(3, batch, new).contiguous()
    vocab = padt.text_vocab_rows
    # Text, a prototype row and an image row: every branch of the in-graph embedding.
    image = vocab + batch * protos + 1
    ids = torch.tensor([[1, vocab + 2, image, 3, 4]] * batch, dtype=torch.int64)
    args = (
        ids,
        torch.zeros(image_rows, cfg.hidden_size),
        positions,
        torch.zeros(batch, protos, cfg.hidden_size),
        torch.zeros(batch, protos),
        torch.full((batch,), past + new - 1, dtype=torch.int32),
        torch.tensor(past + new, dtype=torch.int32),
        *kv,
    )
    axes = {
        "input_ids": {0: "batch", 1: "seq"},
        "image_embeds": {0: "image_rows"},
        "position_ids": {1: "batch", 2: "seq"},
        "prototypes": {0: "batch", 1: "vrt_rows"},
        "vrt_bias": {0: "batch", 1: "vrt_rows"},
        "seqlens_k": {0: "batch"},
        "logits": {0: "batch", 2: "vocab_total"},
        "hidden_states": {0: "batch", 1: "seq"},
    }
    for i in range(cfg.num_hidden_layers):
        axes[f"appended.{i}"] = {0: "batch", 1: "seq"}
        for name in ("key", "value"):
            axes[f"past_key_values.{i}.{name}"] = {0: "batch", 2: "past"}
            axes[f"present.{i}.{name}"] = {0: "batch", 2: "present"}
    return args, axes


def decoder_args(padt) -> tuple[tuple, dict]:
    cfg = padt.config
    vc = cfg.vision_config
    head_dim = vc.hidden_size // vc.num_heads
    gh, gw = TRACE_GRID
    n = gh * gw
    args = (
        torch.zeros(2, 3, cfg.hidden_size),
        torch.ones(2, 3, dtype=torch.bool),
        torch.zeros(n // 4, cfg.hidden_size),
        torch.zeros(n, vc.hidden_size),
        torch.zeros(n, head_dim),
        torch.zeros(n, head_dim),
        torch.arange(n),
        torch.zeros(gh, gw, dtype=torch.uint8),
    )
    axes = {
        "features": {0: "objects", 1: "vrts"},
        "feature_mask": {0: "objects", 1: "vrts"},
        "prototypes": {0: "units"},
        "high_res": {0: "patches"},
        "cos": {0: "patches"},
        "sin": {0: "patches"},
        "row_of_cell": {0: "patches"},
        "mask_grid": {0: "grid_h14", 1: "grid_w14"},
        "boxes": {0: "objects"},
        "score_logits": {0: "objects"},
        "mask_logits": {0: "objects", 1: "mask_h", 2: "mask_w"},
    }
    return args, axes


GRAPHS = {
    "vision": (VisionGraph, vision_args),
    "prototypes": (PrototypeGraph, prototype_args),
    "decoder": (DecoderGraph, decoder_args),
    "llm": (LlmGraph, llm_args),
}
