"""The fused attention (GroupQueryAttention, export/attention.py) in PaDT Pro 3B's attention
layout: width 2048, 16 query heads on 2 KV heads (8 per KV head), head_dim 128, M-RoPE
sections [16, 24, 24], rope_theta 1e6; two layers, a narrow MLP and the tiny vocabulary
keep it small enough for CI (the full layout runs in bench/full-scale). Prefill with an
image, then decode steps on the cache, against the PyTorch reference: hidden states, logits
and the cache (1e-4 relative to their scale), and the same greedy ids."""

import numpy as np
import pytest
import torch
from export_support import ReferenceLlm

from padt import grid
from padt.checkpoint import save_padt
from padt.config import PadtConfig
from padt.export import export_bundle
from padt.layouts import PADT_PRO_3B
from padt.modeling import PadtForConditionalGeneration
from padt.ort_pipeline import OrtPadt
from padt.processing import make_processor
from padt.tiny import make_tiny_config
from padt.tokenizer_build import build_tiny_tokenizer

GRID = (8, 12)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tokenizer = build_tiny_tokenizer()
    settings = make_tiny_config(tokenizer).to_dict()
    attention = ("hidden_size", "num_attention_heads", "num_key_value_heads", "rope_theta")
    settings.update(
        {key: PADT_PRO_3B[key] for key in attention},
        rope_scaling=dict(PADT_PRO_3B["rope_scaling"]),
        intermediate_size=256,
        initializer_range=0.02,
    )
    settings["vision_config"]["out_hidden_size"] = PADT_PRO_3B["hidden_size"]
    config = PadtConfig(**settings)
    torch.manual_seed(3)
    model = PadtForConditionalGeneration(config).eval()
    with torch.no_grad():
        model.vis_norm.weight.normal_(0, 0.1)
    root = tmp_path_factory.mktemp("gqa-3b-layout")
    save_padt(model, tokenizer, root / "ckpt", processor=make_processor(tokenizer))
    export_bundle(root / "ckpt", root / "bundle", dtype="fp32")
    return model, OrtPadt(root / "bundle")


def _close(got, ref) -> None:
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else ref
    scale = max(float(np.abs(ref).max()), 1.0)
    assert float(np.abs(got - ref).max()) < 1e-4 * scale


def test_layout_is_the_3b_attention(pair):
    _, bundle = pair
    llm = bundle.llm_cfg
    assert (llm["num_heads"], llm["num_kv_heads"], llm["head_dim"]) == (16, 2, 128)
    assert llm["mrope_section"] == [16, 24, 24]


def test_prefill_and_decode_match_the_reference(pair):
    model, bundle = pair
    t = bundle.tokens
    units = GRID[0] * GRID[1] // 4
    ids = [t["im_start"], 5, 6, t["vision_start"], *[t["image_pad"]] * units, t["vision_end"]]
    ids += [7, 8, t["im_end"], t["im_start"], 9]
    pixels = torch.randn(GRID[0] * GRID[1], 1176, generator=torch.Generator().manual_seed(1))
    thw = torch.tensor([[1, *GRID]])
    o_images = bundle.encode_images(pixels.numpy(), [GRID])
    ref = ReferenceLlm(model, ids, model.encode_images(pixels, thw), thw)
    o_protos = o_images[0].prototypes
    bias = grid.vrt_bias([units], 0)
    logits, hidden, past = bundle.step(
        bundle.graph_ids(np.array(ids), len(o_protos)),
        o_images[0].embeds,
        ref.position_ids[:, 0].numpy(),
        len(ids),
        bundle._empty_past(),
        o_protos,
        bias,
    )
    finite = torch.isfinite(ref.logits).numpy()
    _close(hidden[0], ref.hidden[0])
    _close(logits[finite], ref.logits.numpy()[finite])
    for layer in range(len(ref.cache.key_cache)):
        _close(past[2 * layer], ref.cache.key_cache[layer])
        _close(past[2 * layer + 1], ref.cache.value_cache[layer])
    V = model.text_vocab_rows
    for token in (13, V + 5, 14):
        length = ref.length
        ref.step(token)
        logits, hidden, past = bundle.step(
            np.array([[token]], np.int64),
            np.zeros((0, 2048), np.float32),
            grid.decode_position(length, ref.delta),
            length + 1,
            past,
            o_protos,
            bias,
        )
        _close(hidden[0], ref.hidden[0])
        _close(logits[finite], ref.logits.numpy()[finite])
        assert int(np.argmax(logits)) == int(torch.argmax(ref.logits))
