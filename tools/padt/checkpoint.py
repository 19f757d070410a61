"""Load and save PaDT checkpoints in the public layout (config.json with `vl_decoder`,
safetensors weights, possibly sharded, tokenizer files and the chat template).

Loading is strict: a checkpoint whose tensor names differ from the model's raises
`KeyMismatchError` listing them, instead of silently leaving random weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from transformers import AutoTokenizer, PreTrainedTokenizerBase
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

from .config import PadtConfig, is_padt_config_dict
from .modeling import PadtForConditionalGeneration
from .processing import QWEN_IMAGE_SETTINGS, make_processor

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
TIED_KEY = "lm_head.weight"


class CheckpointError(Exception):
    """A directory that cannot be loaded as a PaDT checkpoint."""


class CheckpointNotADirectoryError(CheckpointError):
    pass


class MissingConfigError(CheckpointError):
    pass


class InvalidConfigError(CheckpointError):
    pass


class NotAPadtCheckpointError(CheckpointError):
    """config.json has no `vl_decoder`: a plain Qwen2.5-VL or another model."""


class MissingWeightsError(CheckpointError):
    pass


class MissingTokenizerError(CheckpointError):
    pass


class KeyMismatchError(CheckpointError):
    def __init__(self, missing: list[str], unexpected: list[str]) -> None:
        self.missing = missing
        self.unexpected = unexpected
        super().__init__(
            f"checkpoint tensors do not match the model: missing {missing}, unexpected {unexpected}"
        )


def read_config(directory: Path) -> PadtConfig:
    if not directory.is_dir():
        raise CheckpointNotADirectoryError(f"{directory} is not a directory")
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise MissingConfigError(f"{directory} has no config.json")
    try:
        values = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidConfigError(f"{config_path} is not readable JSON: {exc}") from exc
    if not isinstance(values, dict) or not is_padt_config_dict(values):
        raise NotAPadtCheckpointError(f"{config_path} has no vl_decoder: not a PaDT checkpoint")
    try:
        return PadtConfig.from_dict(values)
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidConfigError(f"{config_path}: {exc}") from exc


def weight_files(directory: Path) -> list[Path]:
    """The safetensors files to read: the shards named by the index, or the single file."""
    index = directory / INDEX_FILE
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise MissingWeightsError(f"{index} is not a valid shard index: {exc}") from exc
        shards = [directory / name for name in sorted(set(weight_map.values()))]
        absent = [p.name for p in shards if not p.is_file()]
        if absent:
            raise MissingWeightsError(f"{directory} lacks shards {absent}")
        return shards
    single = directory / SINGLE_FILE
    if single.is_file():
        return [single]
    raise MissingWeightsError(f"{directory} has neither {SINGLE_FILE} nor {INDEX_FILE}")


def stored_keys(files: list[Path]) -> set[str]:
    keys: set[str] = set()
    for path in files:
        with safe_open(str(path), framework="pt") as handle:
            keys.update(handle.keys())
    return keys


def expected_keys(config: PadtConfig) -> set[str]:
    # Built on the meta device: names and shapes only, no memory, no initialisation cost.
    with torch.device("meta"):
        model = PadtForConditionalGeneration(config)
    return set(model.state_dict().keys())


def check_keys(config: PadtConfig, found: set[str]) -> None:
    wanted = expected_keys(config)
    if config.tie_word_embeddings:
        # Tied checkpoints usually omit lm_head.weight; accept it either way.
        wanted.discard(TIED_KEY)
        found = found - {TIED_KEY}
    missing, unexpected = sorted(wanted - found), sorted(found - wanted)
    if missing or unexpected:
        raise KeyMismatchError(missing, unexpected)


def load_tokenizer(directory: Path) -> PreTrainedTokenizerBase:
    if not (directory / "tokenizer.json").is_file():
        raise MissingTokenizerError(f"{directory} has no tokenizer.json")
    try:
        return AutoTokenizer.from_pretrained(str(directory))
    except (OSError, ValueError) as exc:
        raise MissingTokenizerError(f"cannot load the tokenizer in {directory}: {exc}") from exc


def load_processor(directory: Path, tokenizer: PreTrainedTokenizerBase) -> Qwen2_5_VLProcessor:
    if (directory / "preprocessor_config.json").is_file():
        image_processor = Qwen2VLImageProcessor.from_pretrained(str(directory))
    else:
        image_processor = Qwen2VLImageProcessor(**QWEN_IMAGE_SETTINGS)
    template_file = directory / "chat_template.json"
    template = tokenizer.chat_template
    if template_file.is_file():
        template = json.loads(template_file.read_text(encoding="utf-8"))["chat_template"]
    if not template:
        raise MissingTokenizerError(f"{directory} has no chat template")
    return Qwen2_5_VLProcessor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=template
    )


def load_padt(
    path: str | Path, dtype: torch.dtype = torch.float32, attn_implementation: str = "sdpa"
) -> tuple[PadtForConditionalGeneration, PreTrainedTokenizerBase, Qwen2_5_VLProcessor]:
    """(model in eval mode, tokenizer, processor) from a PaDT checkpoint directory."""
    directory = Path(path)
    config = read_config(directory)
    check_keys(config, stored_keys(weight_files(directory)))
    tokenizer = load_tokenizer(directory)
    processor = load_processor(directory, tokenizer)
    model, info = PadtForConditionalGeneration.from_pretrained(
        str(directory),
        config=config,
        torch_dtype=dtype,
        attn_implementation=attn_implementation,
        output_loading_info=True,
    )
    if info["missing_keys"] or info["unexpected_keys"] or info["mismatched_keys"]:
        raise KeyMismatchError(
            sorted(info["missing_keys"]) + [str(m) for m in info["mismatched_keys"]],
            sorted(info["unexpected_keys"]),
        )
    return model.eval(), tokenizer, processor


def save_padt(
    model: PadtForConditionalGeneration,
    tokenizer: PreTrainedTokenizerBase,
    path: str | Path,
    processor: Qwen2_5_VLProcessor | None = None,
    max_shard_size: str | int = "5GB",
) -> Path:
    """Write config, safetensors (sharded above `max_shard_size`), tokenizer, image-processor
    settings and chat_template.json, as the public checkpoints are laid out. The config's
    `vl_decoder` carries `attn_implementation` (PadtConfig sets it), which the original PaDT
    code needs to load the checkpoint."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(directory), safe_serialization=True, max_shard_size=max_shard_size)
    (processor or make_processor(tokenizer)).save_pretrained(str(directory))
    return directory
