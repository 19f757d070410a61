"""Bundle -> checkpoint (padt.export.importer): the inverse of the export, exactly."""

import json
import shutil

import pytest
import torch
from export_support import tiny_bundle, tiny_checkpoint

from padt.checkpoint import load_padt
from padt.export.importer import BundleImportError, import_bundle


@pytest.mark.parametrize("checkpoint", [{}, {"tied": False, "placement": "spatial"}])
def test_round_trip_gives_the_same_model(tmp_path, checkpoint):
    original, tok_a, _ = load_padt(tiny_checkpoint(**checkpoint))
    imported, tok_b, proc_b = load_padt(import_bundle(tiny_bundle(**checkpoint), tmp_path / "c"))
    a, b = original.state_dict(), imported.state_dict()
    assert set(a) == set(b)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    for field in ("vocab_size", "rope_theta", "tie_word_embeddings", "padt_mask_placement"):
        assert getattr(imported.config, field) == getattr(original.config, field), field
    vision_a, vision_b = (m.config.vision_config.to_dict() for m in (original, imported))
    vision_a.pop("initializer_range", None)  # initialisation only
    vision_b.pop("initializer_range", None)
    assert vision_b == vision_a
    text = "<|im_start|>user\nthe red circle<|im_end|>"
    assert tok_b(text)["input_ids"] == tok_a(text)["input_ids"]
    assert proc_b.chat_template


def test_fp16_bundles_are_refused(tmp_path):
    with pytest.raises(BundleImportError, match="fp32"):
        import_bundle(tiny_bundle("fp16"), tmp_path / "c")


def test_generation_settings_and_the_first_vrt_rule_come_back(tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle(), bundle)
    manifest = json.loads((bundle / "padt.json").read_text())
    manifest["generation"].update(repetition_penalty=1.05, top_k=1)
    manifest["first_vrt_features"] = "all_prompt_rows"
    (bundle / "padt.json").write_text(json.dumps(manifest))
    model = load_padt(import_bundle(bundle, tmp_path / "c"))[0]
    assert model.generation_config.repetition_penalty == 1.05
    assert model.generation_config.top_k == 1
    assert model.config.padt_first_vrt_features == "all_prompt_rows"
    assert model.config.vl_decoder["attn_implementation"] == "flash_attention_2"
