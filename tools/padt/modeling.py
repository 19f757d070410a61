"""PaDT = Qwen2.5-VL + visual prototypes (dynamic vocabulary) + the PaDT decoder.

State-dict layout is transformers 4.50's (`visual.*`, `model.*`, `lm_head.*`) plus
`vis_norm.*`, `vis_proj.{0,1}.weight` and `vl_decoder.*`, as in the public checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VLForConditionalGeneration

from .config import PadtConfig
from .decoder import DecoderOutput, PadtDecoder, spatial_row_of_cell
from .vision import run_vision_tower

PROTOTYPE_RANK = 64  # vis_proj bottleneck width in the public checkpoints


@dataclass
class EncodedImage:
    """One image after the vision tower: everything generation and the decoder need."""

    embeds: Tensor  # E [N/4, D] merger output, raster merge order (fed at <|image_pad|>)
    prototypes: Tensor  # P [N/4, D] VRT embeddings and output rows, raster merge order
    high_res: Tensor  # [N, Dv] pre-merger hidden states, window order
    cos: Tensor  # [N, head_dim_v] vision rotary cos, window order
    sin: Tensor  # [N, head_dim_v] vision rotary sin, window order
    grid_thw: tuple[int, int, int]  # (1, H/14, W/14)
    window_index: Tensor  # [N/4] raster merge unit at each window position

    @property
    def grid_h14(self) -> int:
        return self.grid_thw[1]

    @property
    def grid_w14(self) -> int:
        return self.grid_thw[2]

    @property
    def num_patches(self) -> int:
        """Number of VRT rows (28-px cells) of this image."""
        return self.prototypes.shape[0]


class PadtForConditionalGeneration(Qwen2_5_VLForConditionalGeneration):
    config_class = PadtConfig

    def __init__(self, config: PadtConfig) -> None:
        super().__init__(config)
        settings = config.decoder_settings
        vision = config.vision_config
        if settings.hidden_size != vision.hidden_size:
            raise ValueError("vl_decoder hidden_size must equal the vision hidden size")
        if settings.head_dim != vision.hidden_size // vision.num_heads:
            # The decoder applies the vision rotary tables to its own heads.
            raise ValueError("vl_decoder head_dim must equal the vision head_dim")
        if config.use_visual_prototype_projection:
            self.vis_norm = nn.LayerNorm(config.hidden_size, eps=1e-5)
            self.vis_proj = nn.Sequential(
                nn.Linear(config.hidden_size, PROTOTYPE_RANK, bias=False),
                nn.Linear(PROTOTYPE_RANK, config.hidden_size, bias=False),
            )
        self.vl_decoder = PadtDecoder(settings)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, nn.LayerNorm):
            # The reference starts vis_norm at zero so prototypes begin as zero vectors.
            nn.init.zeros_(module.weight)
            nn.init.zeros_(module.bias)

    # --- vocabulary ----------------------------------------------------------------------

    @property
    def text_vocab_rows(self) -> int:
        """V: embedding rows; VRT j of the conversation's images has token id V + j."""
        return self.model.embed_tokens.weight.shape[0]

    def text_output_weight(self) -> Tensor:
        if self.config.tie_word_embeddings:
            return self.model.embed_tokens.weight
        return self.lm_head.weight

    # --- images ----------------------------------------------------------------------------

    def make_prototypes(self, embeds: Tensor) -> Tensor:
        if not self.config.use_visual_prototype_projection:
            return embeds.clone()
        normed = self.vis_norm(embeds)
        return normed + self.vis_proj(normed)

    @torch.no_grad()
    def encode_images(self, pixel_values: Tensor, image_grid_thw: Tensor) -> list[EncodedImage]:
        """Inference only (no autograd); training composes run_vision_tower + make_prototypes."""
        out = run_vision_tower(self.visual, pixel_values, image_grid_thw)
        prototypes = self.make_prototypes(out.embeds)
        unit = self.config.vision_config.spatial_merge_size**2
        images: list[EncodedImage] = []
        patch_start = unit_start = 0
        for t, h, w in image_grid_thw.tolist():
            n = t * h * w
            m = n // unit
            images.append(
                EncodedImage(
                    embeds=out.embeds[unit_start : unit_start + m],
                    prototypes=prototypes[unit_start : unit_start + m],
                    high_res=out.high_res[patch_start : patch_start + n],
                    cos=out.cos[patch_start : patch_start + n],
                    sin=out.sin[patch_start : patch_start + n],
                    grid_thw=(t, h, w),
                    window_index=out.window_index[unit_start : unit_start + m] - unit_start,
                )
            )
            patch_start += n
            unit_start += m
        return images

    # --- LLM inputs and outputs -------------------------------------------------------------

    def embed_ids(self, input_ids: Tensor, prototypes: Tensor) -> Tensor:
        """Embeddings of text ids and of VRT ids (>= V, rows of the concatenated prototypes)."""
        table = torch.cat([self.model.embed_tokens.weight, prototypes.to(self.dtype)])
        return table[input_ids]

    def embed_prompt(self, input_ids: Tensor, images: Sequence[EncodedImage]) -> Tensor:
        """Prompt embeddings: <|image_pad|> positions take E (not P), images in order."""
        embeds = self.embed_ids(input_ids, all_prototypes(images, self.model.embed_tokens.weight))
        image_positions = input_ids == self.config.image_token_id
        features = sum(img.num_patches for img in images)
        if int(image_positions.sum()) != features:
            raise ValueError(
                f"{int(image_positions.sum())} image tokens for {features} image features"
            )
        if images:
            image_embeds = torch.cat([img.embeds for img in images]).to(embeds.dtype)
            mask = image_positions.unsqueeze(-1).expand_as(embeds)
            embeds = embeds.masked_scatter(mask, image_embeds)
        return embeds

    def vrt_logit_mask(self, images: Sequence[EncodedImage], current: int = -1) -> Tensor:
        """[V + sum N/4] bool: every text row, and only the current image's VRT rows."""
        sizes = [img.num_patches for img in images]
        allowed = torch.zeros(self.text_vocab_rows + sum(sizes), dtype=torch.bool)
        allowed[: self.text_vocab_rows] = True
        if images:
            if not -len(images) <= current < len(images):
                raise IndexError(f"image {current} of {len(images)}")
            current %= len(images)
            start = self.text_vocab_rows + sum(sizes[:current])
            allowed[start : start + sizes[current]] = True
        return allowed.to(self.device)

    def padt_logits(self, hidden: Tensor, prototypes: Tensor, allowed: Tensor) -> Tensor:
        """h . [W_text ; P]^T with disallowed rows at -inf."""
        weight = torch.cat([self.text_output_weight(), prototypes.to(self.dtype)])
        logits = hidden @ weight.T
        return logits.masked_fill(~allowed, float("-inf"))

    # --- decoder ----------------------------------------------------------------------------

    def row_of_cell(self, image: EncodedImage) -> Tensor | None:
        """None keeps the reference's window-order mask placement."""
        if self.config.padt_mask_placement == "window":
            return None
        merge = self.config.vision_config.spatial_merge_size
        return spatial_row_of_cell(image.window_index, image.grid_h14, image.grid_w14, merge)

    @torch.no_grad()
    def decode_objects(self, features: Sequence[Tensor], image: EncodedImage) -> DecoderOutput:
        """Run the decoder per object (reference path) for objects of one image."""
        return self.vl_decoder(
            [f.to(self.dtype) for f in features],
            image.prototypes,
            image.high_res,
            image.cos,
            image.sin,
            image.grid_h14,
            image.grid_w14,
            self.row_of_cell(image),
        )


def all_prototypes(images: Sequence[EncodedImage], like: Tensor) -> Tensor:
    """The images' prototypes concatenated in order (VRT ids index this)."""
    if not images:
        return like.new_zeros((0, like.shape[-1]))
    return torch.cat([img.prototypes for img in images])
