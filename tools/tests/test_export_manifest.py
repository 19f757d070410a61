"""The manifest's cap on the vision tower's input (image_processor.max_long_side): written by
every export, from --max-long-side, else the checkpoint config's padt_max_long_side, else the
PaDT demo's 644 px; a value the engine could not honour fails before the model is loaded."""

import json
import shutil
from pathlib import Path

import pytest
from export_support import tiny_bundle, tiny_checkpoint

from padt.export import export_bundle
from padt.export.__main__ import main
from padt.export.importer import import_bundle
from padt.export.manifest import (
    DEFAULT_MAX_LONG_SIDE,
    MAX_LONG_SIDE_KEY,
    ManifestSettingError,
    max_long_side,
)


def _image_processor(bundle):
    return json.loads((bundle / "padt.json").read_text())["image_processor"]


def test_an_imported_checkpoint_gets_the_demo_long_side():
    assert DEFAULT_MAX_LONG_SIDE == 644
    assert _image_processor(tiny_bundle())["max_long_side"] == 644


def test_the_checkpoint_config_then_the_flag(tmp_path):
    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint(), ckpt)
    config = json.loads((ckpt / "config.json").read_text())
    (ckpt / "config.json").write_text(json.dumps({**config, MAX_LONG_SIDE_KEY: 448}))
    export_bundle(ckpt, tmp_path / "own")
    assert _image_processor(tmp_path / "own")["max_long_side"] == 448
    assert main(["export", str(ckpt), str(tmp_path / "flag"), "--max-long-side", "896"]) == 0
    assert _image_processor(tmp_path / "flag")["max_long_side"] == 896


def test_the_shipped_shapes_bundle_keeps_its_cap_through_import(tmp_path):
    """models/padt-tiny-shapes is trained at 112-448 px; training continues from its import."""
    shapes = Path(__file__).resolve().parents[2] / "models" / "padt-tiny-shapes"
    assert _image_processor(shapes)["max_long_side"] == 448
    checkpoint = import_bundle(shapes, tmp_path / "ckpt")
    assert json.loads((checkpoint / "config.json").read_text())[MAX_LONG_SIDE_KEY] == 448


def test_a_cap_the_engine_cannot_honour_fails_first(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", str(tiny_checkpoint()), str(out), "--max-long-side", "450"]) == 2
    assert "ManifestSettingError" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("value", [0, -28, 450, True, 44.8])
def test_max_long_side_is_a_positive_multiple_of_the_cell(value):
    with pytest.raises(ManifestSettingError, match="multiple of 28"):
        max_long_side(None, value, 28)


def _generation(bundle):
    return json.loads((bundle / "padt.json").read_text())["generation"]


def test_generation_settings_without_a_file_are_transformers_defaults(tmp_path):
    from padt.export.generation import generation_settings

    assert generation_settings(tmp_path) == {
        "max_new_tokens": 1024,
        "decoding": "greedy",
        "repetition_penalty": 1.0,
        "temperature": 1.0,
        "top_k": 50,
        "top_p": 1.0,
    }
    assert _generation(tiny_bundle())["repetition_penalty"] == 1.0


def test_the_checkpoints_generation_config_is_carried(tmp_path):
    """Qwen2.5-VL-Instruct-style settings: the penalty and the sampling defaults are carried,
    decoding stays greedy (the PaDT reference calls generate(do_sample=False)); the manifest's
    first_vrt_features follows the flag (default: ours)."""
    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint(), ckpt)
    path = ckpt / "generation_config.json"
    settings = {"do_sample": True, "repetition_penalty": 1.05, "temperature": 0.1, "top_k": 1}
    path.write_text(json.dumps({**json.loads(path.read_text()), **settings, "top_p": 0.001}))
    assert (
        main(["export", str(ckpt), str(tmp_path / "b"), "--first-vrt-features", "all_prompt_rows"])
        == 0
    )
    manifest = json.loads((tmp_path / "b" / "padt.json").read_text())
    assert manifest["generation"] == {
        "max_new_tokens": 1024,
        "decoding": "greedy",
        "repetition_penalty": 1.05,
        "temperature": 0.1,
        "top_k": 1,
        "top_p": 0.001,
    }
    assert manifest["first_vrt_features"] == "all_prompt_rows"
    assert json.loads((tiny_bundle() / "padt.json").read_text())["first_vrt_features"] == (
        "last_prompt_row"
    )


@pytest.mark.parametrize(
    "bad", [{"repetition_penalty": 0}, {"top_k": 2.5}, {"top_p": 1.5}, {"temperature": "hot"}]
)
def test_generation_settings_transformers_would_refuse_fail_first(tmp_path, capsys, bad):
    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint(), ckpt)
    (ckpt / "generation_config.json").write_text(json.dumps(bad))
    out = tmp_path / "out"
    assert main(["export", str(ckpt), str(out)]) == 2
    assert "ManifestSettingError" in capsys.readouterr().err
    assert not out.exists()


def test_capabilities_default_to_padt_pro_and_follow_the_config():
    from types import SimpleNamespace

    from padt.export.manifest import CAPABILITIES_KEY, ManifestSettingError, capabilities

    assert capabilities(SimpleNamespace()) == {
        "tasks": ["rec", "res", "ovd", "ric"],
        "free_chat": True,
        "multi_turn": True,
    }
    # A config written before `multi_turn` existed keeps conversations whole.
    older = SimpleNamespace(**{CAPABILITIES_KEY: {"tasks": ["rec"], "free_chat": False}})
    assert capabilities(older) == {"tasks": ["rec"], "free_chat": False, "multi_turn": True}
    shapes = {"tasks": ["rec"], "free_chat": False, "multi_turn": False}
    assert capabilities(SimpleNamespace(**{CAPABILITIES_KEY: shapes})) == shapes
    with pytest.raises(ManifestSettingError):
        capabilities(SimpleNamespace(**{CAPABILITIES_KEY: {"tasks": "rec", "free_chat": False}}))
    with pytest.raises(ManifestSettingError):
        capabilities(SimpleNamespace(**{CAPABILITIES_KEY: {**shapes, "multi_turn": "no"}}))


def test_special_tokens_when_endoftext_is_also_the_unk_token():
    """Checkpoints saved by transformers' Qwen2 tokenizer (the bundle importer's among them)
    name <|endoftext|> as unk_token: it is still a token of the vocabulary, not a missing one."""
    from padt.export.manifest import special_tokens
    from padt.tokenizer_build import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    tokenizer.unk_token = "<|endoftext|>"
    ids = special_tokens(tokenizer)
    assert ids["endoftext"] == tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert ids["eos"] == [ids["im_end"], ids["endoftext"]]
