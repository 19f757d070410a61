"""Each exported graph against the PyTorch reference (padt.modeling), float32 bundles.

Tolerances (max abs difference, float32 on CPU): vision E/high-res and prototypes 1e-4,
embeddings exact, LLM hidden states / logits / KV 1e-4, decoder boxes 1e-5, score and
mask logits 1e-4. The grids have several windows whose order differs from raster order,
and sides that divide evenly into windows (the padding rule's extra empty window).
"""

import numpy as np
import pytest
import torch
from export_support import ReferenceLlm, reference, tiny_bundle

from padt import grid
from padt.ort_pipeline import OrtPadt

GRIDS = [(8, 8), (10, 14), (16, 12), (18, 22)]
ATOL = 1e-4


@pytest.fixture(scope="module")
def model():
    return reference()[0]


@pytest.fixture(scope="module")
def bundle():
    return OrtPadt(tiny_bundle())


def _pixels(grids, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(sum(h * w for h, w in grids), 1176, generator=g)


def _np(x) -> np.ndarray:
    return (x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)).astype(np.float64)


def _max(a, b) -> float:
    return float(np.abs(_np(a) - _np(b)).max())


@pytest.mark.parametrize("grids", [[g] for g in GRIDS] + [[(10, 14), (8, 8), (16, 12)]])
def test_vision_and_prototypes(model, bundle, grids):
    pixels = _pixels(grids)
    thw = torch.tensor([[1, h, w] for h, w in grids])
    ref = model.encode_images(pixels, thw)
    got = bundle.encode_images(pixels.numpy(), grids)
    for r, o in zip(ref, got, strict=True):
        assert _max(o.embeds, r.embeds) < ATOL
        assert _max(o.high_res, r.high_res) < ATOL
        assert _max(o.prototypes, r.prototypes) < ATOL
        assert _max(o.cos, r.cos) < 1e-6 and _max(o.sin, r.sin) < 1e-6
        np.testing.assert_array_equal(o.window_index, r.window_index.numpy())


def test_vision_graph_several_images_in_one_run(model, bundle):
    """The graph itself takes several images at once (full attention per image)."""
    grids = [(10, 14), (18, 22)]
    pixels = _pixels(grids, seed=1)
    vi = grid.vision_inputs(grids, 16)
    embeds, high_res = bundle.sessions["vision"].run(
        None,
        {
            "pixel_values": pixels.numpy(),
            "window_index": vi.window_index,
            "reverse_index": vi.reverse_index,
            "window_slots": vi.window_slots,
            "window_rows": vi.window_rows,
            "full_segments": vi.full_segments,
            "cos": vi.cos,
            "sin": vi.sin,
        },
    )
    ref = model.encode_images(pixels, torch.tensor([[1, h, w] for h, w in grids]))
    assert _max(embeds, torch.cat([r.embeds for r in ref])) < ATOL
    assert _max(high_res, torch.cat([r.high_res for r in ref])) < ATOL


def test_embed_exact(model, bundle):
    """The LLM graph's in-graph embedding: text ids take the token embedding's rows, VRT ids
    (V + r) prototype row r, image placeholders (V + R + i) image row i. Checked by the
    hidden states against the reference fed those rows itself."""
    V = model.text_vocab_rows
    rng = np.random.default_rng(7)
    protos = rng.standard_normal((4, 64)).astype(np.float32)
    rows = rng.standard_normal((3, 64)).astype(np.float32)
    ids = np.array([[1, V + 2, V + 4 + 0, 7, V + 4 + 2, V + 0]], np.int64)
    table = np.concatenate([model.model.embed_tokens.weight.detach().numpy(), protos, rows])
    positions = np.tile(np.arange(6), (3, 1))
    _, via_ids, _ = bundle.step(
        ids, rows, positions, 6, bundle._empty_past(), protos, np.zeros(4, np.float32)
    )
    with torch.no_grad():
        ref = model.model(
            inputs_embeds=torch.from_numpy(table[ids]),
            position_ids=torch.from_numpy(positions).view(3, 1, 6),
        )
    assert _max(via_ids, ref.last_hidden_state) < ATOL


def test_llm_graph_is_fused(bundle):
    """One GroupQueryAttention per layer and nothing else touching the cache (the decomposed
    attention concatenated, expanded and transposed it every step), and no mask input."""
    import onnx

    proto = onnx.load(str(bundle.dir / "llm.onnx"), load_external_data=False)
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("GroupQueryAttention") == bundle.llm_cfg["num_layers"]
    cache = {i.name for i in proto.graph.input if i.name.startswith("past_key_values.")}
    readers = {n.op_type for n in proto.graph.node if cache & set(n.input)}
    assert readers == {"GroupQueryAttention"}
    names = {i.name for i in proto.graph.input}
    assert "attention_mask" not in names and "inputs_embeds" not in names


def test_llm_layers_are_fused(bundle):
    """Per layer: q|k|v concatenated feeding GroupQueryAttention packed (no key/value inputs;
    no Concat of weights, which onnxruntime would fold into a second copy of them),
    both norms with their residual add as SkipSimplifiedLayerNormalization (the final norm
    too), and the M-RoPE tables built once for all layers (one Cos, one Sin)."""
    import onnx

    proto = onnx.load(str(bundle.dir / "llm.onnx"), load_external_data=False)
    layers = bundle.llm_cfg["num_layers"]
    ops = [n.op_type for n in proto.graph.node]
    gqa = [n for n in proto.graph.node if n.op_type == "GroupQueryAttention"]
    assert all(n.input[1] == "" and n.input[2] == "" for n in gqa)
    assert ops.count("SkipSimplifiedLayerNormalization") == 2 * layers
    assert ops.count("Cos") == 1 and ops.count("Sin") == 1
    producers = {o: n for n in proto.graph.node for o in n.output}
    reshape = [producers[n.input[0]] for n in gqa]
    assert all(n.op_type == "Reshape" for n in reshape)
    weights = {i.name for i in proto.graph.initializer}
    assert not [n for n in proto.graph.node if n.op_type == "Concat" and set(n.input) <= weights]


def test_vision_graph_is_fused(bundle):
    """The patch Conv3d is a MatMul, and each block's attention one MultiHeadAttention."""
    import onnx

    proto = onnx.load(str(bundle.dir / "vision.onnx"), load_external_data=False)
    ops = [n.op_type for n in proto.graph.node]
    assert "Conv" not in ops and "Softmax" not in ops
    assert ops.count("MultiHeadAttention") == bundle.manifest["vision"]["depth"]


def _prompt(bundle, grids, vrts=()):
    t = bundle.tokens
    ids = [t["im_start"], 5, 6, t["im_end"], 7, t["im_start"], 8]
    for gh, gw in grids:
        ids += [t["vision_start"]] + [t["image_pad"]] * (gh * gw // 4) + [t["vision_end"]] + [9, 10]
    return ids + [t["im_end"], 11, t["im_start"], 12] + list(vrts)


@pytest.mark.parametrize("grids", [[(10, 14)], [(8, 8), (18, 22)], []])
def test_llm_prefill_and_decode(model, bundle, grids):
    """Prefill a prompt (ending in VRT ids, so their input embeddings are P rows), then
    decode three steps (a text id, a VRT id, a text id) on the KV cache."""
    pixels = _pixels(grids, seed=2)
    thw = torch.tensor([[1, h, w] for h, w in grids]) if grids else None
    images = model.encode_images(pixels, thw) if grids else []
    o_images = bundle.encode_images(pixels.numpy(), grids) if grids else []
    V = model.text_vocab_rows
    n_vrt = sum(i.num_patches for i in images)
    vrts = [V + n_vrt - 1, V + n_vrt // 2] if grids else []
    ids = _prompt(bundle, grids, vrts)
    ref = ReferenceLlm(model, ids, images, thw)
    o_protos = (
        np.concatenate([i.prototypes for i in o_images]) if grids else np.zeros((0, 64), np.float32)
    )
    counts = [i.num_patches for i in o_images]
    bias = grid.vrt_bias(counts, len(counts) - 1) if grids else np.zeros(0, np.float32)
    o_pos, o_delta = grid.rope_index(
        np.array(ids), grids, bundle.tokens["image_pad"], bundle.tokens["vision_start"]
    )
    np.testing.assert_array_equal(o_pos, ref.position_ids[:, 0].numpy())
    assert o_delta == ref.delta
    rows = np.concatenate([i.embeds for i in o_images]) if grids else np.zeros((0, 64), np.float32)
    logits, hidden, past = bundle.step(
        bundle.graph_ids(np.array(ids), len(o_protos)),
        rows,
        o_pos,
        len(ids),
        bundle._empty_past(),
        o_protos,
        bias,
    )
    assert _max(hidden[0], ref.hidden[0]) < ATOL
    finite = torch.isfinite(ref.logits).numpy()
    np.testing.assert_array_equal(np.isfinite(logits), finite)
    assert _max(logits[finite], ref.logits.numpy()[finite]) < ATOL
    for layer in range(len(ref.cache.key_cache)):
        assert _max(past[2 * layer], ref.cache.key_cache[layer]) < ATOL
        assert _max(past[2 * layer + 1], ref.cache.value_cache[layer]) < ATOL

    steps = [13, V + max(n_vrt - 2, 0), 14] if grids else [13, 14, 15]
    for token in steps:
        length = ref.length
        ref.step(token)
        logits, hidden, past = bundle.step(
            np.array([[token]], np.int64),
            np.zeros((0, 64), np.float32),
            grid.decode_position(length, o_delta),
            length + 1,
            past,
            o_protos,
            bias,
        )
        assert _max(hidden[0], ref.hidden[0]) < ATOL
        assert _max(logits[finite], ref.logits.numpy()[finite]) < ATOL
        assert int(np.argmax(logits)) == int(torch.argmax(ref.logits))


@pytest.mark.parametrize("gh,gw", [(10, 14), (18, 22), (8, 8)])
def test_decoder_batched_vs_reference_per_object(model, bundle, gh, gw):
    """The decoder graph, all objects padded into one run, against the reference's
    per-object path (different numbers of VRTs per object)."""
    pixels = _pixels([(gh, gw)], seed=3)
    image = model.encode_images(pixels, torch.tensor([[1, gh, gw]]))[0]
    o_image = bundle.encode_images(pixels.numpy(), [(gh, gw)])[0]
    g = torch.Generator().manual_seed(4)
    features = [torch.randn(k, 64, generator=g) for k in (5, 1, 3)]
    ref = model.decode_objects(features, image)
    got = bundle.decode_objects([f.numpy() for f in features], o_image)
    assert got.mask_logits.shape == (3, 4 * gh, 4 * gw)
    assert _max(got.boxes, ref.boxes) < 1e-5
    assert _max(got.score_logits, ref.score_logits) < ATOL
    assert _max(got.mask_logits, ref.mask_logits) < ATOL


def test_llm_chunked_prefill_equals_one_prefill(bundle):
    """A prompt fed in two chunks (the second with a non-empty past, e.g. a new chat turn
    on a kept cache) gives the same hidden states as one prefill (1e-5)."""
    rng = np.random.default_rng(6)
    ids = rng.integers(0, 200, (1, 12))
    positions = np.tile(np.arange(12), (3, 1))
    none = np.zeros((0, 64), np.float32)
    empty = none, np.zeros(0, np.float32)
    _, whole, _ = bundle.step(ids, none, positions, 12, bundle._empty_past(), *empty)
    _, first, past = bundle.step(
        ids[:, :7], none, positions[:, :7], 7, bundle._empty_past(), *empty
    )
    _, second, _ = bundle.step(ids[:, 7:], none, positions[:, 7:], 12, past, *empty)
    assert np.abs(np.concatenate([first, second], axis=1) - whole).max() < 1e-5
