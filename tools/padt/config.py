"""PaDT configuration: a Qwen2.5-VL config plus the `vl_decoder` settings of the public checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLConfig

MaskPlacement = Literal["window", "spatial"]
MASK_PLACEMENTS: tuple[MaskPlacement, ...] = ("window", "spatial")


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
    where its patch is. Imported checkpoints keep "window".
    """

    def __init__(
        self,
        vl_decoder: dict[str, Any] | None = None,
        use_visual_prototype_projection: bool = True,
        padt_mask_placement: MaskPlacement = "window",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if padt_mask_placement not in MASK_PLACEMENTS:
            raise ValueError(f"padt_mask_placement must be one of {MASK_PLACEMENTS}")
        self.use_visual_prototype_projection = bool(use_visual_prototype_projection)
        self.padt_mask_placement = padt_mask_placement
        # Like the reference, the merge size and LLM width always follow the base model.
        decoder = dict(vl_decoder) if vl_decoder is not None else self._default_decoder()
        decoder["spatial_merge_size"] = self.vision_config.spatial_merge_size
        decoder["llm_hidden_state"] = self.hidden_size
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
    "MASK_PLACEMENTS",
    "DecoderSettings",
    "MaskPlacement",
    "PadtConfig",
    "is_padt_config_dict",
]
