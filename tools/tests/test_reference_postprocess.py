"""Reference-eval conversions (box, mask, score, RLE) and the whole answer pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pycocotools import mask as coco_mask
from reference_support import noise_image, tiny_loaded, user_turn

from padt.generation import generate
from padt.postprocess import box_to_pixels, decode_answer, mask_to_pixels, round_box
from padt.processing import build_inputs
from padt.rle import mask_to_rle
from padt.vrt import parse_answer


def test_box_is_clamped_like_the_reference() -> None:
    box = box_to_pixels(torch.tensor([0.1, 0.9, 0.4, 1.0]), 200, 100)
    # x = max(0.1 - 0.2, 0), y = 0.9 - 0.5; the box arrives as float32
    assert box == pytest.approx((0.0, 40.0, 80.0, 100.0), abs=1e-4)
    assert round_box((2.5, 3.5, 0.5, 1.5)) == (2, 4, 0, 2)  # Python's round: half to even


def test_mask_threshold_and_size() -> None:
    logits = torch.full((8, 12), -1.0)
    logits[:4, :6] = 1.0
    mask = mask_to_pixels(logits, width=30, height=20)
    assert mask.shape == (20, 30) and mask.dtype == bool
    assert mask[:8, :13].all() and not mask[12:, :].any() and not mask[:, 17:].any()
    assert not mask_to_pixels(torch.zeros(8, 12), 30, 20).any()  # sigmoid(0) is not > 0.5


def test_rle_round_trip() -> None:
    mask = np.zeros((20, 30), dtype=bool)
    mask[3:9, 4:20] = True
    rle = mask_to_rle(mask)
    assert rle["size"] == [20, 30] and isinstance(rle["counts"], str)
    decoded = coco_mask.decode({"size": rle["size"], "counts": rle["counts"].encode()})
    assert np.array_equal(decoded.astype(bool), mask)


def test_answer_to_objects() -> None:
    model, tokenizer, processor = tiny_loaded()
    image = noise_image(180, 150)
    inputs = build_inputs(
        processor, tokenizer, [image], user_turn("Please describe this image."), long_side=252
    )
    result = generate(model, inputs, max_new_tokens=8)
    parsed = parse_answer(
        result.ids,
        tokenizer,
        result.text_vocab_rows,
        hidden_states=result.hidden_states,
        patch_offset=result.patch_offset,
    )
    assert parsed.objects, parsed.text
    objects = decode_answer(model, result, parsed, image.size)
    assert len(objects) == len(parsed.objects)
    for obj in objects:
        x, y, w, h = obj.box
        assert 0 <= x <= 180 and 0 <= y <= 150 and 0 <= w <= 180 and 0 <= h <= 150
        assert obj.mask.shape == (150, 180) and 0 < obj.score < 1
        assert all(0 <= p < result.images[0].num_patches for p in obj.patches)

    # The batched decoder path gives the same objects.
    img = result.images[0]
    features = torch.nn.utils.rnn.pad_sequence(
        [o.features for o in parsed.objects], batch_first=True
    )
    lengths = torch.tensor([len(o.steps) for o in parsed.objects])
    feature_mask = torch.arange(features.shape[1])[None] < lengths[:, None]
    with torch.no_grad():
        boxes, scores, masks = model.vl_decoder.forward_batch(
            features,
            feature_mask,
            img.prototypes,
            img.high_res,
            img.cos,
            img.sin,
            img.grid_h14,
            img.grid_w14,
        )
    for i, obj in enumerate(objects):
        assert np.allclose(box_to_pixels(boxes[i], 180, 150), obj.box, atol=1e-3)
        assert abs(float(scores[i].sigmoid()) - obj.score) < 1e-5
