"""Tiny checkpoint layout, strict loading round trips and every CheckpointError case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from reference_support import tiny_checkpoint_dir, tiny_loaded
from safetensors.torch import load_file, save_file

from padt.checkpoint import (
    CheckpointError,
    CheckpointNotADirectoryError,
    InvalidConfigError,
    KeyMismatchError,
    MissingConfigError,
    MissingTokenizerError,
    MissingWeightsError,
    NotAPadtCheckpointError,
    load_padt,
    save_padt,
)
from padt.tiny import build_tiny_model, make_tiny_config
from padt.tokenizer_build import build_bpe

QWEN_IMAGE_PAD_ID = 151655


@pytest.fixture()
def copy_of_tiny(tmp_path: Path) -> Path:
    target = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint_dir(), target)
    return target


def test_layout_and_size() -> None:
    directory = tiny_checkpoint_dir()
    names = {p.name for p in directory.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    assert {"chat_template.json", "preprocessor_config.json", "generation_config.json"} <= names
    total = sum(p.stat().st_size for p in directory.iterdir())
    assert total < 1.5 * 2**20, total
    config = json.loads((directory / "config.json").read_text())
    assert config["model_type"] == "qwen2_5_vl"
    assert config["use_visual_prototype_projection"] is True
    assert set(config["vl_decoder"]) >= {
        "hidden_size",
        "intermediate_size",
        "llm_hidden_state",
        "num_heads",
        "spatial_merge_size",
    }
    # The reference's decoder picks its attention class by this key (it has no other).
    assert config["vl_decoder"]["attn_implementation"] == "flash_attention_2"


def test_public_key_layout() -> None:
    keys = set(load_file(str(tiny_checkpoint_dir() / "model.safetensors")))
    prefixes = {k.split(".")[0] for k in keys}
    assert prefixes == {"visual", "model", "vis_norm", "vis_proj", "vl_decoder"}
    assert {"vis_norm.weight", "vis_norm.bias", "vis_proj.0.weight", "vis_proj.1.weight"} <= keys
    assert "lm_head.weight" not in keys  # tied, as the 3B checkpoints
    assert "model.embed_tokens.weight" in keys and "visual.merger.mlp.0.weight" in keys


def test_round_trip_is_exact_and_strict() -> None:
    model, tokenizer, processor = tiny_loaded()
    fresh, _ = build_tiny_model(seed=0)
    loaded, built = model.state_dict(), fresh.state_dict()
    assert loaded.keys() == built.keys()
    for name, tensor in built.items():
        assert torch.equal(loaded[name], tensor), name
    assert model.dtype == torch.float32
    assert model.vis_proj[0].weight.shape == (64, 64) and model.vis_proj[1].weight.shape == (64, 64)
    assert model.vis_norm.eps == 1e-5
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    assert processor.chat_template == tokenizer.chat_template


def test_tiny_ids_are_read_from_the_tokenizer() -> None:
    model, tokenizer, _ = tiny_loaded()
    assert model.config.image_token_id == tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert model.config.image_token_id != QWEN_IMAGE_PAD_ID
    assert model.text_vocab_rows > len(tokenizer)  # padded rows, like Qwen's 151936


def test_tokenizer_is_deterministic() -> None:
    assert build_bpe(0).to_str() == build_bpe(0).to_str()


def test_sharded_and_untied_round_trip(tmp_path: Path) -> None:
    config = make_tiny_config(tie_word_embeddings=False)
    model, tokenizer = build_tiny_model(seed=3, config=config)
    save_padt(model, tokenizer, tmp_path, max_shard_size="300KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    loaded, _, _ = load_padt(tmp_path)
    assert not loaded.config.tie_word_embeddings
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_not_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(CheckpointNotADirectoryError):
        load_padt(path)
    with pytest.raises(CheckpointNotADirectoryError):
        load_padt(tmp_path / "absent")


def test_missing_config(copy_of_tiny: Path) -> None:
    (copy_of_tiny / "config.json").unlink()
    with pytest.raises(MissingConfigError):
        load_padt(copy_of_tiny)


def test_invalid_config(copy_of_tiny: Path) -> None:
    (copy_of_tiny / "config.json").write_text("{not json")
    with pytest.raises(InvalidConfigError):
        load_padt(copy_of_tiny)


def test_config_without_decoder_is_not_padt(copy_of_tiny: Path) -> None:
    path = copy_of_tiny / "config.json"
    config = json.loads(path.read_text())
    del config["vl_decoder"]
    path.write_text(json.dumps(config))
    with pytest.raises(NotAPadtCheckpointError):
        load_padt(copy_of_tiny)


def test_missing_weights(copy_of_tiny: Path) -> None:
    (copy_of_tiny / "model.safetensors").unlink()
    with pytest.raises(MissingWeightsError):
        load_padt(copy_of_tiny)


def test_missing_shard(tmp_path: Path) -> None:
    model, tokenizer = build_tiny_model(seed=0)
    save_padt(model, tokenizer, tmp_path, max_shard_size="300KB")
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    victim = sorted(set(index["weight_map"].values()))[-1]
    (tmp_path / victim).unlink()
    with pytest.raises(MissingWeightsError, match=victim):
        load_padt(tmp_path)


def test_missing_tokenizer(copy_of_tiny: Path) -> None:
    (copy_of_tiny / "tokenizer.json").unlink()
    with pytest.raises(MissingTokenizerError):
        load_padt(copy_of_tiny)


def test_key_mismatch_lists_the_keys(copy_of_tiny: Path) -> None:
    path = copy_of_tiny / "model.safetensors"
    tensors = load_file(str(path))
    tensors["vl_decoder.extra.weight"] = torch.zeros(1)
    del tensors["vis_proj.1.weight"]
    save_file(tensors, str(path), metadata={"format": "pt"})
    with pytest.raises(KeyMismatchError) as caught:
        load_padt(copy_of_tiny)
    assert caught.value.missing == ["vis_proj.1.weight"]
    assert caught.value.unexpected == ["vl_decoder.extra.weight"]
    assert isinstance(caught.value, CheckpointError)


def test_public_3b_layout_shapes() -> None:
    from padt.checkpoint import expected_keys
    from padt.config import PadtConfig
    from padt.layouts import PADT_PRO_3B
    from padt.modeling import PadtForConditionalGeneration

    config = PadtConfig(**PADT_PRO_3B)
    assert config.decoder_settings.head_dim == 80
    with torch.device("meta"):
        shapes = {
            k: tuple(v.shape) for k, v in PadtForConditionalGeneration(config).state_dict().items()
        }
    assert shapes["vis_proj.0.weight"] == (64, 2048) and shapes["vis_proj.1.weight"] == (2048, 64)
    assert shapes["vis_norm.weight"] == (2048,) and shapes["vis_norm.bias"] == (2048,)
    assert shapes["vl_decoder.input_projection.1.weight"] == (1280, 2048)
    assert shapes["vl_decoder.mask_output_upscaling1.0.weight"] == (1280, 1280)
    assert shapes["vl_decoder.mask_output_upscaling2.0.weight"] == (320, 320)
    assert shapes["vl_decoder.mask_output_mlp.4.weight"] == (80, 1280)
    assert shapes["vl_decoder.low_res_transformer.mlp.0.weight"] == (3420, 1280)
    assert shapes["model.embed_tokens.weight"] == (151936, 2048)
    assert "lm_head.weight" in expected_keys(config)  # tolerated when absent (tied)


def test_saving_writes_the_decoder_attention_key(tmp_path: Path) -> None:
    """A checkpoint whose config.json lacks vl_decoder.attn_implementation (ours, before)
    gets it when we save it again, so the original code can load it; a value already there
    is kept."""
    model, tokenizer, processor = tiny_loaded()
    source = tmp_path / "old"
    shutil.copytree(tiny_checkpoint_dir(), source)
    config = json.loads((source / "config.json").read_text())
    del config["vl_decoder"]["attn_implementation"]
    (source / "config.json").write_text(json.dumps(config))
    old, old_tokenizer, old_processor = load_padt(source)
    save_padt(old, old_tokenizer, tmp_path / "new", processor=old_processor)
    saved = json.loads((tmp_path / "new" / "config.json").read_text())
    assert saved["vl_decoder"]["attn_implementation"] == "flash_attention_2"

    config["vl_decoder"]["attn_implementation"] = "sdpa"
    (source / "config.json").write_text(json.dumps(config))
    kept = load_padt(source)[0]
    assert kept.config.vl_decoder["attn_implementation"] == "sdpa"
