"""The manifest's `generation` settings, carried from the checkpoint's generation_config.json.

The PaDT reference decodes with transformers' `generate(..., do_sample=False)`, which still
applies the checkpoint's generation_config: its `repetition_penalty` (Qwen2.5-VL-Instruct
checkpoints set 1.05) changes every step's scores even though decoding is greedy, and its
`temperature`, `top_k` and `top_p` are what a sampled request gets unless it says otherwise.
So the bundle carries those four (transformers' defaults when the file lacks them) and keeps
greedy decoding as its default; the file's own `do_sample` is not carried, since the
reference overrides it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .manifest import ManifestSettingError

GENERATION_CONFIG = "generation_config.json"
DEFAULT_MAX_NEW_TOKENS = 1024
# transformers' GenerationConfig defaults (4.50), what generate uses for a key the file lacks.
TRANSFORMERS_DEFAULTS: dict[str, float | int] = {
    "repetition_penalty": 1.0,
    "temperature": 1.0,
    "top_k": 50,
    "top_p": 1.0,
}


def _read(checkpoint_dir: Path) -> dict[str, Any]:
    path = checkpoint_dir / GENERATION_CONFIG
    if not path.is_file():
        return {}
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestSettingError(f"{path} is not readable JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise ManifestSettingError(f"{path} is not a JSON object")
    return values


def _number(values: dict[str, Any], key: str) -> float | int:
    value = values.get(key)
    default = TRANSFORMERS_DEFAULTS[key]
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ManifestSettingError(f"{GENERATION_CONFIG}: {key} must be a number, got {value!r}")
    if isinstance(default, int):
        if value != int(value):
            raise ManifestSettingError(f"{GENERATION_CONFIG}: {key} must be an integer")
        return int(value)
    return float(value)


def generation_settings(checkpoint_dir: str | Path) -> dict[str, Any]:
    """`max_new_tokens`, `decoding` ("greedy", the reference's call) and the checkpoint's
    repetition_penalty, temperature, top_k and top_p, in the ranges transformers accepts."""
    values = _read(Path(checkpoint_dir))
    out: dict[str, Any] = {"max_new_tokens": DEFAULT_MAX_NEW_TOKENS, "decoding": "greedy"}
    out.update({key: _number(values, key) for key in TRANSFORMERS_DEFAULTS})
    if out["repetition_penalty"] <= 0:
        raise ManifestSettingError("repetition_penalty must be > 0")
    # A temperature of 0 is legal in the file (transformers refuses it only when sampling):
    # the engine then asks a sampled request for its own temperature.
    if out["temperature"] < 0:
        raise ManifestSettingError("temperature must be >= 0")
    if out["top_k"] < 0:
        raise ManifestSettingError("top_k must be >= 0")
    if not 0 <= out["top_p"] <= 1:
        raise ManifestSettingError("top_p must be in [0, 1]")
    return out
