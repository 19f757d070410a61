"""Model inputs from (images, chat messages), with transformers' Qwen2.5-VL processor.

The image processor does smart_resize (multiples of 28, pixel bounds), PIL bicubic, x/255,
CLIP normalisation and the merge-block patch order. Before it, the PaDT demo resizes each
image as its demo does: qwen_vl_utils' fetch_image first rounds the sides to multiples of 28
(its own smart_resize, PIL's default bicubic), then the long side goes to 644 px (LANCZOS,
sides truncated with int()), because the decoder was trained at COCO scale; `long_side=None`
skips both steps. Either way, transparent images are first composited on white (to_rgb).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image
from torch import Tensor
from transformers import PreTrainedTokenizerBase
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

from .grid import smart_resize

DEFAULT_LONG_SIDE = 644
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
QWEN_IMAGE_SETTINGS: dict[str, Any] = {
    "min_pixels": 3136,
    "max_pixels": 12845056,
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "image_mean": CLIP_MEAN,
    "image_std": CLIP_STD,
}


def make_processor(
    tokenizer: PreTrainedTokenizerBase,
    image_processor: Qwen2VLImageProcessor | None = None,
    chat_template: str | None = None,
) -> Qwen2_5_VLProcessor:
    """Qwen2.5-VL processor; defaults to Qwen's image settings and the tokenizer's template."""
    return Qwen2_5_VLProcessor(
        image_processor=image_processor or Qwen2VLImageProcessor(**QWEN_IMAGE_SETTINGS),
        tokenizer=tokenizer,
        chat_template=chat_template or tokenizer.chat_template,
    )


def fetch_image_size(height: int, width: int) -> tuple[int, int]:
    """qwen_vl_utils' smart_resize with its defaults (factor 28, 4..16384 cells): (h, w)."""
    return smart_resize(height, width, 28, 4 * 28 * 28, 16384 * 28 * 28, at_least_one_cell=True)


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited on white: qwen_vl_utils' to_rgb (what the PaDT
    demo feeds the processor; RGBA pasted on white with the alpha as mask), which the
    TypeScript engine does too. The processor's own convert("RGB") would drop the alpha and
    show whatever colour transparent pixels hold. Unlike qwen_vl_utils, grey + alpha and
    palette images with a transparent colour are composited as well, as the engine does."""
    if image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
    if image.mode != "RGBA":
        return image.convert("RGB")
    white = Image.new("RGB", image.size, (255, 255, 255))
    white.paste(image, mask=image.getchannel("A"))
    return white


def pre_resize(image: Image.Image, long_side: int | None = DEFAULT_LONG_SIDE) -> Image.Image:
    """The PaDT demo's resizes: qwen_vl_utils' fetch_image (bicubic to multiples of 28),
    then the long side to `long_side` (also upscales), LANCZOS. Transparency is composited
    on white first (to_rgb), as fetch_image does."""
    image = to_rgb(image)
    if long_side is None:
        return image
    h, w = fetch_image_size(image.height, image.width)
    image = image.resize((w, h), Image.Resampling.BICUBIC)
    width, height = image.size
    scale = long_side / max(width, height)
    size = (int(width * scale), int(height * scale))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS)


def cap_long_side(image: Image.Image, max_long_side: int | None) -> Image.Image:
    """The bundle's input cap (docs/bundle-format.md, `image_processor.max_long_side`): a
    longer side is brought down to the cap, each side `max(min(side, 28), side * cap // L)`,
    LANCZOS, as the TypeScript engine does."""
    longest = max(image.size)
    if max_long_side is None or longest <= max_long_side:
        return image
    size = tuple(max(min(side, 28), side * max_long_side // longest) for side in image.size)
    return image.resize(size, Image.Resampling.LANCZOS)


@dataclass
class PadtInputs:
    """One conversation ready for `padt.generation.generate` (batch of one)."""

    input_ids: Tensor  # [1, L]
    attention_mask: Tensor  # [1, L]
    pixel_values: Tensor | None  # [sum N, 1176]
    image_grid_thw: Tensor | None  # [images, 3]
    image_sizes: list[tuple[int, int]]  # original (width, height) per image
    text: str  # the rendered prompt


def _count_images(messages: Sequence[Mapping[str, Any]]) -> int:
    count = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            continue
        for part in content or []:
            if part.get("type") == "image" or "image" in part or "image_url" in part:
                count += 1
    return count


def build_inputs(
    processor: Qwen2_5_VLProcessor,
    tokenizer: PreTrainedTokenizerBase,
    images: Sequence[Image.Image],
    messages: Sequence[Mapping[str, Any]],
    long_side: int | None = DEFAULT_LONG_SIDE,
    max_long_side: int | None = None,
) -> PadtInputs:
    """Render the chat template (with the generation prompt) and process the images
    (pre-resize, then the bundle's cap when given).

    `images` are the conversation's images in the order their parts appear in `messages`.
    """
    if _count_images(messages) != len(images):
        raise ValueError(f"messages reference {_count_images(messages)} images, got {len(images)}")
    text = tokenizer.apply_chat_template(
        list(messages),
        chat_template=processor.chat_template,
        tokenize=False,
        add_generation_prompt=True,
    )
    resized = [cap_long_side(pre_resize(image, long_side), max_long_side) for image in images]
    batch = processor(
        text=[text], images=resized or None, return_tensors="pt", add_special_tokens=False
    )
    return PadtInputs(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        pixel_values=batch.get("pixel_values"),
        image_grid_thw=batch.get("image_grid_thw"),
        image_sizes=[image.size for image in images],
        text=text,
    )
