"""padt.grid against transformers 4.50.3's own Qwen2.5-VL functions (exact equality,
except rotary tables: float32, within 1e-6)."""

import numpy as np
import pytest
import torch
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import (
    Qwen2_5_VisionTransformerPretrainedModel,
)
from transformers.models.qwen2_vl.image_processing_qwen2_vl import (
    smart_resize as hf_smart_resize,
)

from padt import grid

# 14-px grids: window order differs from raster order whenever a side exceeds one
# window (8 patches = 4 merge units); 8x8 and 16x12 divide evenly (extra empty window).
GRIDS = [(8, 8), (10, 14), (16, 12), (18, 22), (4, 6)]
IMAGE_PAD, VISION_START, VISION_END = 151655, 151652, 151653


@pytest.fixture(scope="module")
def hf_config():
    cfg = Qwen2_5_VLConfig(
        vocab_size=151936,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
        image_token_id=IMAGE_PAD,
        video_token_id=151656,
        vision_start_token_id=VISION_START,
        vision_config={
            "depth": 1,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_heads": 4,
            "out_hidden_size": 64,
            "window_size": 112,
            "fullatt_block_indexes": [0],
        },
    )
    return cfg


@pytest.fixture(scope="module")
def hf_vision(hf_config):
    return Qwen2_5_VisionTransformerPretrainedModel._from_config(hf_config.vision_config)


def test_smart_resize_matches_transformers():
    sizes = [(200, 150), (448, 336), (333, 517), (42, 42), (5000, 3000), (28, 5600), (70, 98)]
    sizes += [(h, w) for h in range(28, 300, 7) for w in (30, 57, 98, 141)]
    for h, w in sizes:
        assert grid.smart_resize(h, w, max_pixels=12845056) == hf_smart_resize(
            h, w, min_pixels=3136, max_pixels=12845056
        )
    # exact halves round to even, as in Python
    assert grid.smart_resize(42, 70) == hf_smart_resize(42, 70, min_pixels=3136)
    assert grid.smart_resize(1000, 1000, max_pixels=200_000) == hf_smart_resize(
        1000, 1000, max_pixels=200_000
    )


def test_one_smart_resize_serves_both_reference_rules():
    """The table the TS engine tests against was written by a separate qwen_vl_utils copy;
    the one smart_resize reproduces both of its columns (transformers refuses a side under
    28 px, qwen_vl_utils rounds it up to one cell)."""
    import json
    from pathlib import Path

    from padt.processing import fetch_image_size

    fixtures = Path(__file__).resolve().parents[2] / "packages/engine/test/fixtures"
    table = json.loads((fixtures / "preprocess.json").read_text())["smartResize"]
    assert any(row["transformers"] is None and row["qwenVlUtils"] for row in table)
    for row in table:
        h, w = row["height"], row["width"]
        if row["qwenVlUtils"] is None:  # aspect ratio over 200: both refuse
            with pytest.raises(ValueError):
                fetch_image_size(h, w)
        else:
            assert list(fetch_image_size(h, w)) == row["qwenVlUtils"], (h, w)
        if row["transformers"] is None:
            with pytest.raises(ValueError):
                grid.smart_resize(h, w, 28, 3136, 12845056)
        else:
            assert list(grid.smart_resize(h, w, 28, 3136, 12845056)) == row["transformers"]


@pytest.mark.parametrize("gh,gw", GRIDS)
def test_window_index_single(hf_vision, gh, gw):
    thw = torch.tensor([[1, gh, gw]])
    ref_idx, ref_cu = hf_vision.get_window_index(thw)
    idx, seqlens = grid.window_index(gh, gw)
    np.testing.assert_array_equal(idx, ref_idx.numpy())
    ref_cu_unique = torch.unique_consecutive(torch.tensor(ref_cu)).numpy()
    np.testing.assert_array_equal(grid.cu_window_seqlens([(gh, gw)]), ref_cu_unique)
    assert seqlens.sum() * 4 == gh * gw
    if max(gh, gw) > 8:
        assert not np.array_equal(idx, np.arange(idx.shape[0])), "window order == raster order"
    np.testing.assert_array_equal(grid.inverse_index(idx), torch.argsort(ref_idx).numpy())


def test_window_index_multi_and_rotary(hf_vision):
    grids = [(10, 14), (8, 8), (18, 22)]
    thw = torch.tensor([[1, h, w] for h, w in grids])
    ref_idx, ref_cu = hf_vision.get_window_index(thw)
    vi = grid.vision_inputs(grids, head_dim=16)
    np.testing.assert_array_equal(vi.window_index, ref_idx.numpy())
    np.testing.assert_array_equal(vi.reverse_index, torch.argsort(ref_idx).numpy())
    np.testing.assert_array_equal(
        vi.cu_window_seqlens, torch.unique_consecutive(torch.tensor(ref_cu)).numpy()
    )
    np.testing.assert_array_equal(vi.cu_seqlens, [0, 140, 204, 600])
    # rotary: transformers computes it in raster merge order then permutes per merge unit
    rot = hf_vision.rot_pos_emb(thw)
    n = rot.shape[0]
    rot = rot.reshape(n // 4, 4, -1)[ref_idx].reshape(n, -1)
    emb = torch.cat([rot, rot], dim=-1)
    np.testing.assert_allclose(vi.cos, emb.cos().numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(vi.sin, emb.sin().numpy(), atol=1e-6, rtol=0)
    # masks: the segment-derived mask equals the reference's block mask from cu_seqlens
    for cu, seg in ((vi.cu_window_seqlens, vi.window_segments), (vi.cu_seqlens, vi.full_segments)):
        ref = torch.full((n, n), torch.finfo(torch.float32).min)
        for i in range(1, len(cu)):
            ref[cu[i - 1] : cu[i], cu[i - 1] : cu[i]] = 0
        np.testing.assert_array_equal(grid.block_mask(seg), ref.numpy())


def _prompt(grids, texts):
    ids = [151644, 10, 11, 151645, 12, 151644, 13]
    for (gh, gw), t in zip(grids, texts, strict=True):
        ids += [VISION_START] + [IMAGE_PAD] * (gh * gw // 4) + [VISION_END] + t
    ids += [151645, 14, 151644, 15]
    return ids


@pytest.mark.parametrize(
    "grids",
    [[], [(8, 8)], [(10, 14)], [(18, 22), (16, 12)], [(4, 6), (10, 14), (8, 8)]],
)
def test_rope_index_matches_transformers(hf_config, grids):
    model = Qwen2_5_VLForConditionalGeneration.__new__(Qwen2_5_VLForConditionalGeneration)
    model.config = hf_config
    ids = _prompt(grids, [[20 + i, 21] for i in range(len(grids))])
    thw = torch.tensor([[1, h, w] for h, w in grids]) if grids else None
    ref_pos, ref_delta = Qwen2_5_VLForConditionalGeneration.get_rope_index(
        model, torch.tensor([ids]), image_grid_thw=thw
    )
    pos, delta = grid.rope_index(np.array(ids), grids, IMAGE_PAD, VISION_START)
    np.testing.assert_array_equal(pos, ref_pos[:, 0].numpy())
    assert delta == int(ref_delta.reshape(-1)[0])
    # decode step at cache length L: position L + delta on all axes (transformers' rule)
    L = len(ids) + 3
    np.testing.assert_array_equal(grid.decode_position(L, delta), [[L + delta]] * 3)


def test_vrt_mask():
    counts = [20, 35, 16]
    bias = grid.vrt_bias(counts, 1)
    assert bias.shape == (71,)
    assert np.all(np.isneginf(bias[:20])) and np.all(bias[20:55] == 0)
    assert np.all(np.isneginf(bias[55:]))
    full = grid.vrt_logit_mask(100, counts, 2)
    assert full.shape == (171,) and np.all(full[:100] == 0) and np.all(full[155:] == 0)
    assert np.all(np.isneginf(full[100:155]))


@pytest.mark.parametrize("gh,gw", GRIDS)
def test_row_of_cell_matches_reference(gh, gw):
    from padt.decoder import spatial_row_of_cell

    idx, _ = grid.window_index(gh, gw)
    ref = spatial_row_of_cell(torch.from_numpy(idx), gh, gw).numpy()
    np.testing.assert_array_equal(grid.row_of_cell(idx, gh, gw, "spatial"), ref)
    np.testing.assert_array_equal(grid.row_of_cell(idx, gh, gw, "window"), np.arange(gh * gw))
