"""Write packages/engine/test/fixtures/grid.json from transformers' own Qwen2.5-VL code.

The engine recomputes the grid-dependent inputs of the vision tower and the LLM (window
index, cu_seqlens, vision rotary tables, 3-D rope positions, multimodal cos/sin) in
TypeScript. This script records what transformers 4.50.3 computes for the same grids, so
the TypeScript tests can check equality without PyTorch. Small grids are stored in full;
large ones as a sha256 of the int32 little-endian bytes plus head/tail slices. Float
tables are sampled rows (the angles behind them are covered by the exact position tests).

Run: tools/.venv/bin/python tools/scripts/make_grid_fixtures.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import transformers
from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import (
    Qwen2_5_VLConfig,
    Qwen2_5_VLVisionConfig,
)
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import (
    Qwen2_5_VisionTransformerPretrainedModel,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLRotaryEmbedding,
)

OUT = Path(__file__).resolve().parents[2] / "packages/engine/test/fixtures/grid.json"
GRIDS = [(8, 8), (8, 12), (10, 14), (16, 12), (18, 22), (32, 46)]
MULTI = [(8, 12), (10, 14)]
FULL_MAX_PATCHES = 200  # grids up to this many 14-px patches are stored in full
SAMPLE_ROWS = 4
HEAD_DIM_V = 80
HEAD_DIM_LLM = 128
MROPE_SECTION = [16, 24, 24]
# Qwen's ids; only the fixture uses them (the engine looks them up by string).
VISION_START, VISION_END, IMAGE_PAD = 151652, 151653, 151655


def ints(a: torch.Tensor | np.ndarray | list[int], full: bool) -> dict:
    arr = np.asarray(a, dtype=np.int64).reshape(-1)
    out: dict = {
        "length": int(arr.size),
        "sha256": hashlib.sha256(arr.astype("<i4").tobytes()).hexdigest(),
    }
    if full:
        out["values"] = arr.tolist()
    else:
        out["head"] = arr[:64].tolist()
        out["tail"] = arr[-64:].tolist()
    return out


def sample_rows(table: torch.Tensor, rows: list[int]) -> list[list[float]]:
    return [[round(float(v), 7) for v in table[r].tolist()] for r in rows]


def row_samples(n: int) -> list[int]:
    step = max(1, n // SAMPLE_ROWS)
    return sorted({*range(0, n, step), n - 1})[: SAMPLE_ROWS + 1]


def vision_model() -> Qwen2_5_VisionTransformerPretrainedModel:
    # Tiny weights, real geometry: head_dim 80, window 112 px, patch 14, merge 2.
    config = Qwen2_5_VLVisionConfig(
        depth=1,
        hidden_size=HEAD_DIM_V,
        num_heads=1,
        intermediate_size=16,
        out_hidden_size=16,
        window_size=112,
        patch_size=14,
        spatial_merge_size=2,
        fullatt_block_indexes=[0],
    )
    return Qwen2_5_VisionTransformerPretrainedModel(config).eval()


def vision_case(model: Qwen2_5_VisionTransformerPretrainedModel, grids: list[tuple[int, int]]):
    grid_thw = torch.tensor([[1, h, w] for h, w in grids])
    n = sum(h * w for h, w in grids)
    full = n <= FULL_MAX_PATCHES
    with torch.no_grad():
        rot = model.rot_pos_emb(grid_thw)  # [N, 40] raster-merge order
        window_index, cu_window = model.get_window_index(grid_thw)
        cu_window_t = torch.unique_consecutive(torch.tensor(cu_window, dtype=torch.int32))
        unit = model.spatial_merge_unit
        # Reordered exactly as Qwen2_5_VisionTransformerPretrainedModel.forward does.
        rot_w = rot.reshape(n // unit, unit, -1)[window_index].reshape(n, -1)
        emb = torch.cat((rot_w, rot_w), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        cu_seqlens = torch.nn.functional.pad(
            torch.tensor([h * w for h, w in grids]).cumsum(0, dtype=torch.int32), (1, 0)
        )
    half = rot.shape[1] // 2
    # inv_freq[0] == 1, so columns 0 and `half` hold the row and column position ids.
    pos = torch.stack([rot_w[:, 0], rot_w[:, half]], dim=-1).round().to(torch.int64)
    rows = row_samples(n)
    return {
        "grids": [list(g) for g in grids],
        "patches": n,
        "windowIndex": ints(window_index, full),
        "reverseIndex": ints(torch.argsort(window_index), full),
        "cuWindowSeqlensRaw": list(cu_window),
        "cuWindowSeqlens": cu_window_t.tolist(),
        "cuSeqlens": cu_seqlens.tolist(),
        "rotaryPositions": ints(pos, full),
        "cosSinRows": rows,
        "cos": sample_rows(cos, rows),
        "sin": sample_rows(sin, rows),
    }


def llm_config() -> Qwen2_5_VLConfig:
    return Qwen2_5_VLConfig(
        vocab_size=151936,
        hidden_size=2 * HEAD_DIM_LLM,
        num_attention_heads=2,
        num_key_value_heads=1,
        num_hidden_layers=1,
        intermediate_size=16,
        rope_theta=1000000.0,
        rope_scaling={"type": "mrope", "mrope_section": MROPE_SECTION},
        vision_config={"spatial_merge_size": 2},
        image_token_id=IMAGE_PAD,
        video_token_id=151656,
        vision_start_token_id=VISION_START,
    )


def sequence(text_runs: list[list[int]], grids: list[tuple[int, int]]) -> list[int]:
    ids = list(text_runs[0])
    for (h, w), text in zip(grids, text_runs[1:], strict=True):
        ids += [VISION_START] + [IMAGE_PAD] * (h * w // 4) + [VISION_END] + text
    return ids


def mrope_tables(config: Qwen2_5_VLConfig, position_ids: torch.Tensor):
    rotary = Qwen2_5_VLRotaryEmbedding(config)
    x = torch.zeros(1, dtype=torch.float32)
    cos, sin = rotary(x, position_ids)  # [3, 1, L, head_dim]
    # The section selection of apply_multimodal_rotary_pos_emb.
    section = MROPE_SECTION * 2
    cos = torch.cat([m[i % 3] for i, m in enumerate(cos.split(section, dim=-1))], dim=-1)
    sin = torch.cat([m[i % 3] for i, m in enumerate(sin.split(section, dim=-1))], dim=-1)
    return cos[0], sin[0]


def rope_case(config: Qwen2_5_VLConfig, text_runs: list[list[int]], grids, tables: bool = False):
    ids = sequence(text_runs, grids)
    owner = SimpleNamespace(config=config)
    input_ids = torch.tensor([ids])
    grid_thw = torch.tensor([[1, h, w] for h, w in grids]) if grids else None
    position_ids, deltas = Qwen2_5_VLForConditionalGeneration.get_rope_index(
        owner, input_ids, grid_thw
    )
    delta = int(deltas.reshape(-1)[0])
    # Decode steps at cache length L use position L + delta on all axes (forward()).
    decode_lengths = [len(ids), len(ids) + 1, 4000, 30000]
    decode = torch.tensor([[L + delta for L in decode_lengths]] * 3).unsqueeze(1)
    rows = row_samples(len(ids))
    sampled = position_ids[:, :, rows]
    both = torch.cat([sampled, decode], dim=-1)
    case = {
        "grids": [list(g) for g in grids],
        "inputIds": ints(ids, True),
        "positionIds": [position_ids[a, 0].tolist() for a in range(3)],
        "ropeDelta": delta,
        "decodeLengths": decode_lengths,
    }
    if tables:
        cos, sin = mrope_tables(config, both)
        case["cosSinPositions"] = [both[a, 0].tolist() for a in range(3)]
        case["cos"] = sample_rows(cos, list(range(cos.shape[0])))
        case["sin"] = sample_rows(sin, list(range(sin.shape[0])))
    return case


def main() -> None:
    torch.manual_seed(0)
    model = vision_model()
    vision = [vision_case(model, [g]) for g in GRIDS]
    vision.append(vision_case(model, MULTI))
    config = llm_config()
    text_a = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198]
    text_b = [785, 1156, 2168, 13, 5005, 279, 2086, 25]
    text_c = [3838, 594, 2155, 30, 151645, 198, 151644, 77091, 198]
    rope = {
        "twoImages": rope_case(config, [text_a, text_b, text_c], MULTI, tables=True),
        "oneLargeImage": rope_case(config, [text_a, text_c], [(32, 46)]),
        "imageFirst": rope_case(config, [[], text_c], [(8, 8)]),
        "textOnly": rope_case(config, [text_a + text_c], []),
    }
    fixture = {
        "generator": "tools/scripts/make_grid_fixtures.py",
        "transformers": transformers.__version__,
        "vision": {
            "patchSize": 14,
            "spatialMergeSize": 2,
            "windowSize": 112,
            "headDim": HEAD_DIM_V,
            "theta": 10000.0,
            "cases": vision,
        },
        "llm": {
            "headDim": HEAD_DIM_LLM,
            "theta": 1000000.0,
            "mropeSection": MROPE_SECTION,
            "imagePadId": IMAGE_PAD,
            "visionStartId": VISION_START,
            "cases": rope,
        },
    }
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
