"""Decoder outputs -> what a user sees, converted as the reference evaluation does.

Box: (cx, cy, w, h) in [0, 1] -> x = max(cx - w/2, 0), y = max(cy - h/2, 0),
w = min(w, 1), h = min(h, 1), times the original image size. Mask: bilinear upsampling of
the 4x map to the original size, sigmoid > 0.5, COCO RLE. Score: sigmoid of the logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .generation import GenerationResult
from .modeling import PadtForConditionalGeneration
from .vrt import ParsedAnswer

Box = tuple[float, float, float, float]


@dataclass
class DecodedObject:
    label: str
    patches: list[int]  # VRT indices within the image (28-px cells, raster order)
    box: Box  # x, y, w, h in original-image pixels (not rounded)
    score: float  # sigmoid(score logit)
    mask: np.ndarray  # bool [height, width] of the original image


def box_to_pixels(box_cxcywh: Tensor, width: int, height: int) -> Box:
    cx, cy, w, h = (float(v) for v in box_cxcywh)
    x, y = max(cx - w / 2, 0.0), max(cy - h / 2, 0.0)
    return (x * width, y * height, min(w, 1.0) * width, min(h, 1.0) * height)


def round_box(box: Box) -> tuple[int, int, int, int]:
    """The reference eval rounds each value with Python's round (half to even)."""
    return tuple(round(v) for v in box)  # type: ignore[return-value]


def mask_to_pixels(mask_logits: Tensor, width: int, height: int) -> np.ndarray:
    """[4*H14, 4*W14] logits -> bool [height, width] (bilinear, align_corners=False)."""
    resized = F.interpolate(mask_logits[None, None].float(), size=(height, width), mode="bilinear")[
        0, 0
    ]
    return (resized.sigmoid() > 0.5).cpu().numpy()


@torch.no_grad()
def decode_answer(
    model: PadtForConditionalGeneration,
    result: GenerationResult,
    parsed: ParsedAnswer,
    image_size: tuple[int, int],
) -> list[DecodedObject]:
    """Run the decoder (reference per-object path) on the parsed objects of the current
    image; image_size is the original (width, height)."""
    if any(obj.features is None for obj in parsed.objects):
        raise ValueError("parse_answer was called without hidden_states")
    if not parsed.objects:
        return []
    image = result.images[result.current_image]
    out = model.decode_objects([obj.features for obj in parsed.objects], image)
    width, height = image_size
    return [
        DecodedObject(
            label=obj.label,
            patches=obj.patches,
            box=box_to_pixels(out.boxes[i], width, height),
            score=float(out.score_logits[i].sigmoid()),
            mask=mask_to_pixels(out.mask_logits[i], width, height),
        )
        for i, obj in enumerate(parsed.objects)
    ]
