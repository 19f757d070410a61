"""Model inputs: chat template, image grid, pre-resize and the merge-block patch order."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from reference_support import noise_image, tiny_loaded, user_turn

from padt.processing import CLIP_MEAN, CLIP_STD, build_inputs, pre_resize

REC = 'Please carefully check the image and detect the object this sentence describes: "a red circle".'


def test_prompt_renders_the_qwen_chat_template() -> None:
    _, tokenizer, processor = tiny_loaded()
    inputs = build_inputs(
        processor, tokenizer, [noise_image(180, 150)], user_turn(REC), long_side=None
    )
    assert inputs.image_grid_thw.tolist() == [[1, 10, 12]]  # smart_resize: 140 x 168 px
    pads = "<|image_pad|>" * (10 * 12 // 4)
    expected = (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        f"<|vision_start|>{pads}<|vision_end|>{REC}<|im_end|>\n<|im_start|>assistant\n"
    )
    assert tokenizer.decode(inputs.input_ids[0]) == expected
    assert inputs.attention_mask.all() and inputs.image_sizes == [(180, 150)]


def test_default_pre_resize_follows_the_demo() -> None:
    _, tokenizer, processor = tiny_loaded()
    inputs = build_inputs(processor, tokenizer, [noise_image(300, 200)], user_turn(REC))
    # 300x200 -> 644x429 (int truncation) -> smart_resize 644x420 -> grid 30 x 46
    assert inputs.image_grid_thw.tolist() == [[1, 30, 46]]
    assert inputs.image_sizes == [(300, 200)]
    assert pre_resize(noise_image(1000, 500)).size == (644, 322)
    assert pre_resize(noise_image(100, 50), long_side=None).size == (100, 50)


def _own_patches(image: Image.Image, width: int, height: int) -> np.ndarray:
    """Independent patchify: 2x2 blocks of 14-px patches, blocks in raster order, each row
    (channel, frame, y, x) with the frame repeated."""
    pixels = np.asarray(image.resize((width, height), Image.Resampling.BICUBIC), np.float32) / 255
    pixels = ((pixels - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)
    rows = []
    for by in range(0, height, 28):
        for bx in range(0, width, 28):
            for y, x in ((by, bx), (by, bx + 14), (by + 14, bx), (by + 14, bx + 14)):
                patch = pixels[:, y : y + 14, x : x + 14]
                rows.append(np.stack([patch, patch], axis=1).reshape(-1))
    return np.stack(rows)


def test_pixel_values_are_merge_block_ordered() -> None:
    _, tokenizer, processor = tiny_loaded()
    image = noise_image(90, 61, seed=3)
    inputs = build_inputs(processor, tokenizer, [image], user_turn(REC), long_side=None)
    assert inputs.image_grid_thw.tolist() == [[1, 4, 6]]  # 61 x 90 -> 56 x 84
    np.testing.assert_allclose(inputs.pixel_values.numpy(), _own_patches(image, 84, 56), atol=1e-5)


def test_image_count_must_match_messages() -> None:
    _, tokenizer, processor = tiny_loaded()
    with pytest.raises(ValueError):
        build_inputs(processor, tokenizer, [], user_turn(REC), long_side=None)


def _rgba(width: int = 120, height: int = 90) -> Image.Image:
    """Colour everywhere, an alpha gradient and a fully transparent block over red."""
    rgb = np.asarray(noise_image(width, height, seed=4)).copy()
    rgb[30:60, 40:80] = (255, 0, 0)
    alpha = np.tile(np.linspace(0, 255, width).astype(np.uint8), (height, 1))
    alpha[30:60, 40:80] = 0
    return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")


def test_transparency_is_composited_on_white() -> None:
    """qwen_vl_utils' to_rgb: paste on white with the alpha as mask (not convert("RGB"),
    which shows the hidden red), before the pre-resize and the processor."""
    from padt.processing import to_rgb

    image = _rgba()
    white = Image.new("RGB", image.size, (255, 255, 255))
    white.paste(image, mask=image.split()[3])
    flat = to_rgb(image)
    assert flat.mode == "RGB" and np.array_equal(np.asarray(flat), np.asarray(white))
    assert np.asarray(flat)[45, 60].tolist() == [255, 255, 255]
    assert np.asarray(image.convert("RGB"))[45, 60].tolist() == [255, 0, 0]
    grey = image.convert("LA")
    assert np.array_equal(np.asarray(to_rgb(grey)), np.asarray(to_rgb(grey.convert("RGBA"))))

    _, tokenizer, processor = tiny_loaded()
    for long_side in (None, 644):
        got = build_inputs(processor, tokenizer, [image], user_turn(REC), long_side=long_side)
        want = build_inputs(processor, tokenizer, [white], user_turn(REC), long_side=long_side)
        assert np.array_equal(got.pixel_values.numpy(), want.pixel_values.numpy())
        assert got.image_sizes == [image.size]


def test_cap_long_side_matches_the_bundle_rule():
    """docs/bundle-format.md: each side max(min(side, 28), side * cap // L), LANCZOS."""
    from padt.processing import cap_long_side

    assert cap_long_side(Image.new("RGB", (3000, 2000)), 448).size == (448, 298)
    assert cap_long_side(Image.new("RGB", (8000, 20)), 448).size == (448, 20)
    small = Image.new("RGB", (300, 200))
    assert cap_long_side(small, 448) is small and cap_long_side(small, None) is small
