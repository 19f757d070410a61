"""A bundle back to a PyTorch checkpoint in the public layout: the inverse of export_bundle.

    python -m padt.export.importer BUNDLE_DIR --out CHECKPOINT_DIR

Why: training runs for many hours and its state under .data/ does not always survive to the
next machine; the committed bundle does. The trainer continues from the bundle's weights
(`python -m padt.train --init-from BUNDLE_DIR`) when its own state is gone.

The config is rebuilt from the manifest (architecture, special tokens, image settings) and
the weight shapes; the weights are the graphs' initializers, each named `padt.<state key>`
by the exporter. Only fp32 bundles import exactly (fp16 ones are refused: their LLM weights
were rounded).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from transformers import Qwen2TokenizerFast, Qwen2VLImageProcessor

from ..checkpoint import TIED_KEY, save_padt
from ..config import PadtConfig
from ..modeling import PadtForConditionalGeneration
from ..processing import QWEN_IMAGE_SETTINGS, make_processor
from ..tokenizer_build import CONFIG_ID_TOKENS
from ..train.shapes_model import PRE_RESIZE_KEY
from .generation import TRANSFORMERS_DEFAULTS
from .manifest import CAPABILITIES_KEY, MAX_LONG_SIDE_KEY
from .writer import location, split_fused_name

PREFIX = "padt."
# Config ids by token (eos comes from the manifest's list); the manifest lists only those the
# engine needs, the tokenizer has all.
_ID_TOKENS = {k: v for k, v in CONFIG_ID_TOKENS.items() if k != "eos_token_id"}


class BundleImportError(ValueError):
    pass


def bundle_weights(bundle_dir: Path, manifest: dict) -> dict[str, np.ndarray]:
    """Every initializer of the bundle's graphs, by its state-dict key."""
    weights: dict[str, np.ndarray] = {}
    blob = np.memmap(bundle_dir / manifest["weights_file"], dtype=np.uint8, mode="r")
    for entry in manifest["graphs"].values():
        proto = onnx.load(str(bundle_dir / entry["file"]), load_external_data=False)
        for init in proto.graph.initializer:
            key = init.name[len(PREFIX) :]
            if not init.name.startswith(PREFIX) or key in weights:
                continue
            if init.data_location != onnx.TensorProto.EXTERNAL:
                weights[key] = numpy_helper.to_array(init)
                continue
            start, length = location(init)
            dtype = onnx.helper.tensor_dtype_to_np_dtype(init.data_type)
            raw = blob[start : start + length].view(dtype)
            array = np.array(raw).reshape(tuple(init.dims))
            parts = split_fused_name(init.name)
            if parts is None:
                weights[key] = array
                continue
            # Weights the exporter stored concatenated (q|k|v): split back by their rows.
            at = 0
            for name, rows in parts:
                weights[name[len(PREFIX) :]] = array[at : at + rows]
                at += rows
    return weights


def config_from_manifest(manifest: dict, weights: dict[str, np.ndarray], tokenizer) -> PadtConfig:
    v, llm, dec = manifest["vision"], manifest["llm"], manifest["decoder"]
    eos = manifest["special_tokens"]["eos"]
    config = PadtConfig(
        vocab_size=int(weights["model.embed_tokens.weight"].shape[0]),
        hidden_size=llm["hidden_size"],
        intermediate_size=int(weights["model.layers.0.mlp.gate_proj.weight"].shape[0]),
        num_hidden_layers=llm["num_layers"],
        num_attention_heads=llm["num_heads"],
        num_key_value_heads=llm["num_kv_heads"],
        max_position_embeddings=llm.get("max_position_embeddings", 32768),
        rms_norm_eps=llm["rms_norm_eps"],
        rope_theta=llm["rope_theta"],
        rope_scaling={"type": "mrope", "mrope_section": list(llm["mrope_section"])},
        tie_word_embeddings=llm["tie_word_embeddings"],
        vision_config={
            "depth": v["depth"],
            "hidden_size": v["hidden_size"],
            "intermediate_size": v["intermediate_size"],
            "num_heads": v["num_heads"],
            "in_channels": v["in_channels"],
            "patch_size": v["patch_size"],
            "spatial_merge_size": v["spatial_merge_size"],
            "temporal_patch_size": v["temporal_patch_size"],
            "window_size": v["window_size"],
            "fullatt_block_indexes": list(v["fullatt_block_indexes"]),
            "out_hidden_size": v["out_hidden_size"],
            "hidden_act": "silu",
            "tokens_per_second": 2,  # Qwen2.5-VL checkpoints' value (video positions only)
        },
        vl_decoder={
            "name": "PaDTDecoder",
            "hidden_size": dec["hidden_size"],
            "intermediate_size": dec["intermediate_size"],
            "num_heads": dec["num_heads"],
            "use_mask_loss": True,
        },
        use_visual_prototype_projection=manifest["use_visual_prototype_projection"],
        padt_mask_placement=manifest["mask_placement"],
        padt_first_vrt_features=manifest.get("first_vrt_features", "last_prompt_row"),
        architectures=["PadtForConditionalGeneration"],
        torch_dtype="float32",
        eos_token_id=eos[0] if isinstance(eos, list) else eos,
        **{attr: tokenizer.convert_tokens_to_ids(name) for attr, name in _ID_TOKENS.items()},
    )
    setattr(config, PRE_RESIZE_KEY, manifest["image_processor"].get("default_long_side"))
    # The bundle's cap on the vision input, so that exporting the checkpoint again keeps it.
    if manifest["image_processor"].get("max_long_side"):
        setattr(config, MAX_LONG_SIDE_KEY, manifest["image_processor"]["max_long_side"])
    if "capabilities" in manifest:
        setattr(config, CAPABILITIES_KEY, manifest["capabilities"])
    return config


def import_bundle(bundle_dir: str | Path, out_dir: str | Path) -> Path:
    """Write the bundle's model as a checkpoint directory that `load_padt` reads."""
    bundle_dir, out_dir = Path(bundle_dir), Path(out_dir)
    manifest = json.loads((bundle_dir / "padt.json").read_text(encoding="utf-8"))
    if manifest.get("format") != "padt-bundle":
        raise BundleImportError(f"{bundle_dir} is not a PaDT bundle")
    if manifest.get("dtype") != "fp32":
        raise BundleImportError(f"only fp32 bundles import exactly, not {manifest.get('dtype')}")
    weights = bundle_weights(bundle_dir, manifest)
    tokenizer = Qwen2TokenizerFast(
        tokenizer_file=str(bundle_dir / "tokenizer.json"),
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=(bundle_dir / "chat_template.jinja").read_text(encoding="utf-8"),
        clean_up_tokenization_spaces=False,
    )
    config = config_from_manifest(manifest, weights, tokenizer)
    model = PadtForConditionalGeneration(config)
    wanted = set(model.state_dict()) - ({TIED_KEY} if config.tie_word_embeddings else set())
    # Non-persistent buffers (rotary inv_freq) are graph constants, recomputed from the config.
    derived = {name for name, _ in model.named_buffers()} - set(model.state_dict())
    weights = {k: a for k, a in weights.items() if k not in derived}
    missing, unexpected = sorted(wanted - set(weights)), sorted(set(weights) - wanted)
    if missing or unexpected:
        raise BundleImportError(f"weights missing {missing[:5]}, unexpected {unexpected[:5]}")
    state = {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in weights.items()}
    model.load_state_dict(state, strict=False)  # the tied head follows the embedding
    stops = eos if isinstance(eos := manifest["special_tokens"]["eos"], list) else [eos]
    model.generation_config.eos_token_id = stops
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    for key, default in TRANSFORMERS_DEFAULTS.items():
        # Only what differs from transformers' defaults, as save_pretrained writes it.
        if manifest["generation"].get(key, default) != default:
            setattr(model.generation_config, key, manifest["generation"][key])
            # transformers refuses to save sampling settings without do_sample (Qwen's files
            # say true); padt.generation never reads it: decoding stays greedy by default.
            model.generation_config.do_sample |= key != "repetition_penalty"
    settings = manifest["image_processor"]
    image_settings = dict(QWEN_IMAGE_SETTINGS)
    image_settings.update(min_pixels=settings["min_pixels"], max_pixels=settings["max_pixels"])

    processor = make_processor(tokenizer, Qwen2VLImageProcessor(**image_settings))
    return save_padt(model.eval(), tokenizer, out_dir, processor=processor)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m padt.export.importer", description=__doc__)
    p.add_argument("bundle", type=Path)
    p.add_argument("--out", required=True, type=Path)
    args = p.parse_args(argv)
    print(import_bundle(args.bundle, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
