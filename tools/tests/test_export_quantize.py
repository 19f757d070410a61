"""Weight-only quantisation (padt.export.quantize, the exporter's --quantize): the block
packing against its dequantisation, the graph rewrite (every weight MatMul of the LLM graph
becomes MatMulNBits on the same weight), an int4 bundle that loads and answers in
onnxruntime, and refused settings. int8 bundles run only in onnxruntime-node 1.30 (this
onnxruntime 1.21 has no 8-bit CPU kernel): packages/engine/test/engine-quantized.test.ts."""

import hashlib
import json
import shutil

import numpy as np
import onnx
import pytest
from export_support import tiny_bundle, tiny_checkpoint
from onnx import numpy_helper

from padt.export.__main__ import main
from padt.export.quantize import (
    QuantizeError,
    QuantizeSettings,
    dequantize_rows,
    quantize_bundle,
    quantize_rows,
)
from padt.export.writer import split_fused_name
from padt.ort_pipeline import OrtPadt


@pytest.mark.parametrize("bits", [4, 8])
def test_blocks_dequantize_within_half_a_step(bits):
    """K = 80 is not a multiple of the block: the last block is padded, and cut off again."""
    w = np.random.default_rng(bits).standard_normal((24, 80)).astype(np.float32)
    packed, scales, zeros = quantize_rows(w, bits, 32)
    assert packed.shape == (24, 3, 32 * bits // 8) and scales.shape == (24 * 3,)
    assert zeros.shape == (24 * (3 if bits == 8 else 2),)
    back = dequantize_rows(packed, scales, zeros, bits, 80)
    step = np.repeat(scales.reshape(24, 3), 32, axis=1)[:, :80]
    assert np.all(np.abs(back - w) <= step / 2 + 1e-6)


def _initializers(bundle_dir, graph="llm"):
    proto = onnx.load(bundle_dir / f"{graph}.onnx", load_external_data=False)
    onnx.external_data_helper.load_external_data_for_model(proto, str(bundle_dir))
    return proto, {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}


def _weight_matmuls(proto) -> int:
    """MatMuls whose B is a weight, or weights concatenated and transposed (the exporter's
    Linear layers, fused or not)."""
    weights = {t.name for t in proto.graph.initializer if len(t.dims) == 2}
    for node in proto.graph.node:
        if node.op_type in ("Transpose", "Concat") and all(i in weights for i in node.input):
            weights.add(node.output[0])
    return sum(
        n.op_type in ("MatMul", "FusedMatMul") and n.input[1] in weights for n in proto.graph.node
    )


def test_every_weight_matmul_becomes_matmulnbits_on_the_same_weight(tmp_path):
    src = tiny_bundle()
    out = tmp_path / "int8"
    shutil.copytree(src, out)
    doc = quantize_bundle(out, QuantizeSettings(8, 16))
    before, weights = _initializers(src)
    after, stored = _initializers(out)
    nbits = [n for n in after.graph.node if n.op_type == "MatMulNBits"]
    assert len(nbits) == doc["quantization"]["matmuls"] == _weight_matmuls(before)
    assert _weight_matmuls(after) == 0
    for node in nbits:
        attrs = {a.name: a.i for a in node.attribute}
        assert (attrs["bits"], attrs["block_size"]) == (8, 16)
        # fused projections (q, k, v) are one MatMul on their weights' rows, concatenated
        # (stored concatenated since format 5, named by writer.fused_name)
        name = node.input[1].removesuffix(".q8.blocks")
        original = weights[name]
        if parts := split_fused_name(name):
            projections = [n.rsplit(".", 2)[-2] for n, _ in parts]
            assert projections == ["q_proj", "k_proj", "v_proj"]
            assert sum(rows for _, rows in parts) == original.shape[0]
        packed, scales, zeros = (stored[i] for i in node.input[1:])
        assert scales.dtype == np.float32
        back = dequantize_rows(packed, scales, zeros, 8, attrs["K"])
        assert back.shape == original.shape == (attrs["N"], attrs["K"])
        step = np.repeat(scales.reshape(attrs["N"], -1), 16, axis=1)[:, : attrs["K"]]
        assert np.all(np.abs(back - original) <= step / 2 + 1e-6)
    # the tied embedding's rows stay float for the Gather; no other float weight is left
    floats = {n for n, a in stored.items() if a.dtype == np.float32 and a.ndim == 2}
    assert floats == {"padt.model.embed_tokens.weight"}
    # the other graphs' weights moved unchanged
    for graph in ("vision", "prototypes", "decoder"):
        a, b = _initializers(src, graph)[1], _initializers(out, graph)[1]
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert doc["files"] == json.loads((out / "padt.json").read_text())["files"]
    assert (out / "weights.bin").stat().st_size < (src / "weights.bin").stat().st_size


def _prompt(t):
    ids = [t["im_start"], 5, t["vision_start"], *[t["image_pad"]] * 35, t["vision_end"], 9]
    return [*ids, t["im_end"], t["im_start"], 12]


def test_int4_export_loads_and_answers_close_to_fp32(tmp_path, capsys):
    """The exporter's --quantize int4 (block 32, accuracy level 4). The tiny random model's
    final hidden states reach |h| ~2.8; with its fp32 answer forced, int4 moves them by
    0.67 at most (measured)."""
    out = tmp_path / "int4"
    assert main(["export", str(tiny_checkpoint()), str(out), "--quantize", "int4"]) == 0
    assert "weights.bin" in capsys.readouterr().out
    manifest = json.loads((out / "padt.json").read_text())
    assert manifest["quantization"] == {
        "method": "MatMulNBits",
        "bits": 4,
        "block_size": 32,
        "symmetric": False,
        "accuracy_level": 4,
        "graphs": ["llm"],
        "matmuls": _weight_matmuls(onnx.load(tiny_bundle() / "llm.onnx", load_external_data=False)),
    }
    for f in manifest["files"]:
        assert hashlib.sha256((out / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    a, b = OrtPadt(tiny_bundle()), OrtPadt(out)
    ids = _prompt(a.tokens)
    pixels = np.random.default_rng(0).standard_normal((140, 1176)).astype(np.float32)
    ra = a.generate(ids, pixels, [(10, 14)], max_new_tokens=6)
    rb = b.generate(ids, pixels, [(10, 14)], forced=ra.ids)
    diff = float(np.abs(ra.hidden_states - rb.hidden_states).max())
    assert 0 < diff < 1.0
    free = b.generate(ids, pixels, [(10, 14)], max_new_tokens=6)
    assert len(free.ids) == len(ra.ids)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (QuantizeSettings(3), "bits must be one of"),
        (QuantizeSettings(4, 24), "power of two"),
        (QuantizeSettings(4, 8), "power of two"),
        (QuantizeSettings(8, 32, 7), "accuracy_level"),
    ],
)
def test_bad_settings_change_nothing(tmp_path, settings, message):
    out = tmp_path / "bundle"
    shutil.copytree(tiny_bundle(), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(QuantizeError, match=message):
        quantize_bundle(out, settings)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_quantised_bundle_is_not_quantised_again(tmp_path):
    out = tmp_path / "bundle"
    shutil.copytree(tiny_bundle(), out)
    quantize_bundle(out, QuantizeSettings(4))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(QuantizeError, match="already quantised"):
        quantize_bundle(out, QuantizeSettings(8))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_cli_refuses_a_bad_block_size_before_writing(tmp_path, capsys):
    out = tmp_path / "never"
    args = ["export", str(tiny_checkpoint()), str(out), "--quantize", "int8"]
    assert main([*args, "--quant-block-size", "48"]) == 2
    assert "QuantizeError" in capsys.readouterr().err
    assert not out.exists()
