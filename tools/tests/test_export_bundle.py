"""The exporter's command line, errors, manifest and fp16 bundles."""

import hashlib
import json

import numpy as np
import onnx
import pytest
import torch
from export_support import reference, tiny_bundle, tiny_checkpoint

from padt.checkpoint import CheckpointError
from padt.export import BundleDirError, export_bundle
from padt.export.__main__ import main
from padt.export.writer import split_fused_name
from padt.ort_pipeline import OrtPadt


def test_cli_exports_and_reports_sizes_and_time(tmp_path, capsys):
    out = tmp_path / "bundle"
    assert main(["export", str(tiny_checkpoint()), str(out), "--dtype", "fp16"]) == 0
    printed = capsys.readouterr().out
    assert "weights.bin" in printed and "bytes" in printed
    assert "exported" in printed and printed.rstrip().endswith(" s")
    manifest = json.loads((out / "padt.json").read_text())
    assert manifest["dtype"] == "fp16" and manifest["kv_dtype"] == "float16"


def test_not_a_padt_checkpoint(tmp_path, capsys):
    plain = tmp_path / "qwen"
    plain.mkdir()
    (plain / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl"}))
    with pytest.raises(CheckpointError, match="not a PaDT checkpoint"):
        export_bundle(plain, tmp_path / "out")
    assert main(["export", str(plain), str(tmp_path / "out")]) == 2
    assert "NotAPadtCheckpointError" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    with pytest.raises(CheckpointError):
        export_bundle(tmp_path / "missing", tmp_path / "out")


def test_non_empty_output_dir(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(BundleDirError, match="--force"):
        export_bundle(tiny_checkpoint(), out)
    assert (out / "keep.txt").exists()
    export_bundle(tiny_checkpoint(), out, force=True)
    assert not (out / "keep.txt").exists() and (out / "padt.json").exists()
    with pytest.raises(BundleDirError, match="holds the checkpoint"):
        export_bundle(tiny_checkpoint(), tiny_checkpoint(), force=True)
    assert (tiny_checkpoint() / "config.json").exists()


def test_manifest_contents():
    bundle = tiny_bundle()
    manifest = json.loads((bundle / "padt.json").read_text())
    model, tokenizer, _ = reference()
    assert manifest["format_version"] == 5
    assert manifest["llm"]["vocab_rows"] == model.text_vocab_rows
    tokens = manifest["special_tokens"]
    for key, text in (("im_start", "<|im_start|>"), ("image_pad", "<|image_pad|>")):
        assert tokens[key] == tokenizer.convert_tokens_to_ids(text)
    assert tokens["eos"] == [tokens["im_end"], tokens["endoftext"]]
    assert manifest["mask_placement"] == "window"
    assert manifest["image_processor"]["default_long_side"] == 644
    assert set(manifest["graphs"]) == {"vision", "prototypes", "llm", "decoder"}
    llm_inputs = {i["name"]: i for i in manifest["graphs"]["llm"]["inputs"]}
    assert llm_inputs["past_key_values.0.key"]["shape"] == ["batch", 2, "past", 16]
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == {p.name for p in bundle.iterdir()} - {"padt.json"}
    for path, entry in listed.items():
        data = (bundle / path).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_fp16_bundle_close_to_fp32():
    """fp16 LLM (vision, prototypes, decoder stay fp32): same greedy ids on a short
    prompt, hidden states within 1e-2 of the fp32 bundle (|h| is about 3)."""
    a, b = OrtPadt(tiny_bundle()), OrtPadt(tiny_bundle("fp16"))
    assert b.manifest["graphs"]["vision"]["inputs"][0]["dtype"] == "float32"
    t = a.tokens
    ids = [t["im_start"], 5, t["vision_start"], *[t["image_pad"]] * 35, t["vision_end"], 9]
    ids += [t["im_end"], t["im_start"], 12]
    pixels = np.random.default_rng(0).standard_normal((140, 1176)).astype(np.float32)
    ra = a.generate(ids, pixels, [(10, 14)], max_new_tokens=6)
    rb = b.generate(ids, pixels, [(10, 14)], max_new_tokens=6)
    assert ra.ids == rb.ids
    assert np.abs(ra.hidden_states - rb.hidden_states).max() < 1e-2


def test_untied_spatial_checkpoint():
    """An untied LM head (its own weight in the LLM graph) and the corrected "spatial"
    mask placement (row_of_cell input) export and match the reference."""
    import torch

    kwargs = {"tied": False, "placement": "spatial"}
    model = reference(**kwargs)[0]
    bundle = OrtPadt(tiny_bundle(**kwargs))
    assert bundle.manifest["mask_placement"] == "spatial"
    assert not bundle.manifest["llm"]["tie_word_embeddings"]
    pixels = torch.randn(18 * 22, 1176, generator=torch.Generator().manual_seed(5))
    image = model.encode_images(pixels, torch.tensor([[1, 18, 22]]))[0]
    o_image = bundle.encode_images(pixels.numpy(), [(18, 22)])[0]
    features = [torch.randn(k, 64, generator=torch.Generator().manual_seed(k)) for k in (2, 4)]
    with torch.no_grad():
        ref = model.decode_objects(features, image)
    got = bundle.decode_objects([f.numpy() for f in features], o_image)
    assert np.abs(got.mask_logits - ref.mask_logits.numpy()).max() < 1e-4
    assert np.abs(got.boxes - ref.boxes.numpy()).max() < 1e-5
    V = model.text_vocab_rows
    ids = np.array([5, 6, V + 3])
    protos = o_image.prototypes
    logits, hidden, _ = bundle.step(
        bundle.graph_ids(ids, len(protos)),
        np.zeros((0, 64), np.float32),
        np.tile(np.arange(3), (3, 1)),
        3,
        bundle._empty_past(),
        protos,
        np.zeros(len(protos), np.float32),
    )
    with torch.no_grad():
        ref_h = model.model(
            inputs_embeds=model.embed_ids(torch.from_numpy(ids)[None], image.prototypes),
            position_ids=torch.arange(3).view(1, 1, 3).expand(3, 1, 3),
        )
        ref_logits = model.padt_logits(
            ref_h.last_hidden_state[:, -1],
            image.prototypes,
            torch.ones(V + len(protos), dtype=torch.bool),
        )
    assert np.abs(hidden - ref_h.last_hidden_state.numpy()).max() < 1e-4
    assert np.abs(logits - ref_logits[0].numpy()).max() < 1e-4


def test_qkv_weights_are_stored_once_concatenated():
    """Format 5: each layer's q, k and v weights (and biases) are one initializer, their rows
    in order (writer.fused_name), read by one MatMul; no Concat of weights is left for
    onnxruntime to fold into a second copy at load, and weights.bin holds each byte once."""
    bundle = tiny_bundle()
    proto = onnx.load(bundle / "llm.onnx", load_external_data=False)
    inits = {t.name: t for t in proto.graph.initializer}
    fused = sorted(n for n in inits if "+" in n)
    layers = json.loads((bundle / "padt.json").read_text())["llm"]["num_layers"]
    assert len(fused) == 2 * layers  # weight and bias
    for name in fused:
        parts = split_fused_name(name)
        assert [p.rsplit(".", 2)[-2] for p, _ in parts] == ["q_proj", "k_proj", "v_proj"]
        assert sum(rows for _, rows in parts) == inits[name].dims[0]
        assert not any(p in inits for p, _ in parts)
    assert not any(
        n.op_type == "Concat" and all(i in inits for i in n.input) for n in proto.graph.node
    )
    model, _, _ = reference()
    attn = model.model.layers[0].self_attn
    weight = next(n for n in fused if n.startswith("padt.model.layers.0.") and "weight" in n)
    offset, length = (
        int(e.value) for e in inits[weight].external_data if e.key in ("offset", "length")
    )
    stored = np.fromfile(bundle / "weights.bin", np.float32, length // 4, offset=offset)
    want = torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight])
    assert np.array_equal(stored, want.detach().numpy().reshape(-1))


def test_lm_head_reads_views_of_the_tied_table(tmp_path):
    """The tied token embedding: the Gather alone reads the table's own initializer, the LM
    head reads views of the same bytes (writer.matmuls_on_views_of_gathered_tables), so that
    onnxruntime frees the stored copy it repacks; in row slices, the logits are the same."""
    import shutil

    from padt.export.writer import PREFIX_OF_VIEWS, matmuls_on_views_of_gathered_tables

    bundle = tiny_bundle()
    proto = onnx.load(bundle / "llm.onnx", load_external_data=False)
    table = "padt.model.embed_tokens.weight"
    readers = [n for n in proto.graph.node if table in n.input]
    assert [n.op_type for n in readers] == ["Gather"]
    head = [n for n in proto.graph.node if any(i.endswith(f"]:{table}") for i in n.input)]
    assert [n.op_type for n in head] == ["FusedMatMul"]
    inits = {t.name: t for t in proto.graph.initializer}
    view, whole = inits[head[0].input[1]], inits[table]
    assert view.name.startswith(PREFIX_OF_VIEWS) and list(view.dims) == list(whole.dims)
    assert {e.key: e.value for e in view.external_data} == {
        e.key: e.value for e in whole.external_data
    }
    # Undo the view, then cut the table into slices of 7 rows: same logits to float rounding.
    head[0].input[1] = table
    proto.graph.initializer.remove(view)
    row_bytes = whole.dims[1] * 4
    assert matmuls_on_views_of_gathered_tables(proto, slice_bytes=7 * row_bytes) == 1
    slices = [t for t in proto.graph.initializer if t.name.startswith(PREFIX_OF_VIEWS)]
    assert len(slices) == -(-whole.dims[0] // 7)
    sliced = tmp_path / "sliced"
    shutil.copytree(bundle, sliced)
    onnx.save(proto, sliced / "llm.onnx")
    a, b = OrtPadt(bundle), OrtPadt(sliced)
    ids = np.array([5, 6, 7])
    protos = np.random.default_rng(1).standard_normal((4, whole.dims[1])).astype(np.float32)
    args = (np.zeros((0, whole.dims[1]), np.float32), np.tile(np.arange(3), (3, 1)), 3)
    out = [
        m.step(m.graph_ids(ids, 4), *args, m._empty_past(), protos, np.zeros(4, np.float32))
        for m in (a, b)
    ]
    assert np.abs(out[0][0] - out[1][0]).max() < 1e-5
