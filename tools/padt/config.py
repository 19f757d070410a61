"""PaDT configuration: a Qwen2.5-VL config plus the `vl_decoder` settings of the public checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLConfig

MaskPlacement = Literal["window", "spatial"]
MASK_PLACEMENTS: tuple[MaskPlacement, ...] = ("window", "spatial")
# Which hidden states become the features of an object whose run starts at the answer's first
# token (docs/decisions.md): "last_prompt_row", ours, the state that predicted the token;
# "all_prompt_rows", the reference's (every prompt row of the prefill step), for imported
# checkpoints whose numbers must match the original code.
FirstVrtFeatures = Literal["last_prompt_row", "all_prompt_rows"]
FIRST_VRT_FEATURES: tuple[FirstVrtFeatures, ...] = ("last_prompt_row", "all_prompt_rows")
# The reference's decoder picks its attention class by `vl_decoder.attn_implementation` and
# knows only this one: checkpoints without the key do not load in the original code.
DECODER_ATTN_IMPLEMENTATION = "flash_attention_2"


@dataclass(frozen=True)
class DecoderSettings:
    """The numbers that shape the PaDT decoder's weights."""

    hidden_size: int
    intermediate_size: int
    llm_hidden_state: int
    num_heads: int
    spatial_merge_size: int

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DecoderSettings:
        missing = [k for k in cls.__dataclass_fields__ if k not in values]
        if missing:
            raise ValueError(f"vl_decoder config lacks {missing}")
        settings = cls(**{k: int(values[k]) for k in cls.__dataclass_fields__})
        if settings.hidden_size % settings.num_heads:
            raise ValueError("vl_decoder hidden_size must be a multiple of num_heads")
        if settings.hidden_size % 16:
            # The mask head splits the hidden size into 4 and then 16 parts.
            raise ValueError("vl_decoder hidden_size must be a multiple of 16")
        return settings


class PadtConfig(Qwen2_5_VLConfig):
    """Qwen2.5-VL config with PaDT's additions.

    model_type stays "qwen2_5_vl" because the public checkpoints' config.json says so.
    `padt_mask_placement` is ours: "window" reproduces the reference (mask cells follow the
    window-ordered high-res rows, not their image positions); "spatial" puts each 4x4 cell
    where its patch is. Imported checkpoints keep "window". `padt_first_vrt_features` is ours
    too (see FIRST_VRT_FEATURES).
    """

    def __init__(
        self,
        vl_decoder: dict[str, Any] | None = None,
        use_visual_prototype_projection: bool = True,
        padt_mask_placement: MaskPlacement = "window",
        padt_first_vrt_features: FirstVrtFeatures = "last_prompt_row",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if padt_mask_placement not in MASK_PLACEMENTS:
            raise ValueError(f"padt_mask_placement must be one of {MASK_PLACEMENTS}")
        if padt_first_vrt_features not in FIRST_VRT_FEATURES:
            raise ValueError(f"padt_first_vrt_features must be one of {FIRST_VRT_FEATURES}")
        self.use_visual_prototype_projection = bool(use_visual_prototype_projection)
        self.padt_mask_placement = padt_mask_placement
        self.padt_first_vrt_features = padt_first_vrt_features
        # Like the reference, the merge size and LLM width always follow the base model.
        decoder = dict(vl_decoder) if vl_decoder is not None else self._default_decoder()
        decoder["spatial_merge_size"] = self.vision_config.spatial_merge_size
        decoder["llm_hidden_state"] = self.hidden_size
        decoder.setdefault("attn_implementation", DECODER_ATTN_IMPLEMENTATION)
        self.vl_decoder = decoder

    def _default_decoder(self) -> dict[str, Any]:
        vision = self.vision_config
        return {
            "hidden_size": vision.hidden_size,
            "intermediate_size": vision.intermediate_size,
            "num_heads": vision.num_heads,
        }

    @property
    def decoder_settings(self) -> DecoderSettings:
        return DecoderSettings.from_dict(self.vl_decoder)


def is_padt_config_dict(values: dict[str, Any]) -> bool:
    """A config.json belongs to a PaDT checkpoint when it carries a `vl_decoder` mapping."""
    return isinstance(values.get("vl_decoder"), dict)


__all__ = [
    "DECODER_ATTN_IMPLEMENTATION",
    "FIRST_VRT_FEATURES",
    "MASK_PLACEMENTS",
    "DecoderSettings",
    "FirstVrtFeatures",
    "MaskPlacement",
    "PadtConfig",
    "is_padt_config_dict",
]
