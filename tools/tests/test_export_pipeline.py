"""End to end: padt.ort_pipeline (bundle + onnxruntime, as the TypeScript engine will
drive it) against the PyTorch reference (padt.generation.generate + padt.postprocess).

What each test proves:
- test_greedy_generation_*: one full greedy generation per case, same prompt and
  image through both paths: identical ids; the tiny random model
  at vis_norm scale 3 answers with a run of VRTs (one object), which both paths then decode: boxes within
  1e-4 (pixels of the original image / size, i.e. normalised), scores within 1e-4,
  masks IoU >= 0.999. At scale 0.5 it answers with text only (no object path).
- test_forced_answer_objects: random models do not write REC/OVD-shaped answers, so
  an answer with quotes and several VRT runs (two images, VRTs of the last one) is
  force-fed through both: the reference in ONE forward pass over prompt + answer (no
  KV cache), the ORT pipeline step by step on its KV cache. It proves the hidden
  states that feed the decoder, the run grouping and labels, and the batched decoder
  graph against the reference's per-object decoder; it does not prove that greedy
  decoding would choose those tokens.
"""

import numpy as np
import pytest
import torch
from export_support import reference, tiny_bundle
from PIL import Image, ImageDraw

from padt.generation import generate
from padt.ort_pipeline import OrtPadt, box_to_pixels, mask_to_pixels, vrt_runs
from padt.postprocess import decode_answer
from padt.processing import build_inputs
from padt.vrt import parse_answer

REC = 'Please carefully check the image and detect the object this sentence describes: "{}".'


def _image(w, h, seed):
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(3):
        x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
        box = (x0, y0, x0 + int(rng.integers(10, w // 2)), y0 + int(rng.integers(10, h // 2)))
        draw.ellipse(box, fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return img


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def _inputs(proc, tok, images, text):
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": text}]
    return build_inputs(proc, tok, images, [{"role": "user", "content": content}], long_side=None)


def _ort_objects(bundle, result, features_runs, size):
    image = result.images[result.current_image]
    out = bundle.decode_objects(features_runs, image)
    w, h = size
    return [
        (
            box_to_pixels(out.boxes[i], w, h),
            out.score_logits[i],
            mask_to_pixels(out.mask_logits[i], w, h),
        )
        for i in range(len(features_runs))
    ]


def _compare_objects(ref_objects, ort_objects, size):
    assert len(ref_objects) == len(ort_objects)
    w, h = size
    for r, (box, score_logit, mask) in zip(ref_objects, ort_objects, strict=True):
        assert np.abs(np.array(box) / [w, h, w, h] - np.array(r.box) / [w, h, w, h]).max() < 1e-4
        assert abs(1 / (1 + np.exp(-float(score_logit))) - r.score) < 1e-4
        assert mask.shape == r.mask.shape
        assert _iou(mask, r.mask) >= 0.999


@pytest.mark.parametrize("scale,expect_objects", [(3.0, True), (0.5, False)])
def test_greedy_generation_matches_reference(scale, expect_objects):
    model, tok, proc = reference(prototype_scale=scale)
    bundle = OrtPadt(tiny_bundle(prototype_scale=scale))
    img = _image(200, 150, seed=1)
    inputs = _inputs(proc, tok, [img], REC.format("red circle"))
    ref = generate(model, inputs, max_new_tokens=20)
    grids = [(int(h), int(w)) for _, h, w in inputs.image_grid_thw.tolist()]
    got = bundle.generate(
        inputs.input_ids[0].numpy(), inputs.pixel_values.numpy(), grids, max_new_tokens=20
    )
    assert got.ids == ref.ids
    assert np.abs(got.hidden_states - ref.hidden_states.numpy()).max() < 1e-4

    V = model.text_vocab_rows
    parsed = parse_answer(ref.ids, tok, V, ref.hidden_states, patch_offset=ref.patch_offset)
    runs = vrt_runs(got.ids, V, bundle.tokens["eos"])
    assert [o.steps for o in parsed.objects] == runs
    assert bool(runs) == expect_objects
    ref_objects = decode_answer(model, ref, parsed, img.size)
    ort_objects = _ort_objects(bundle, got, [got.hidden_states[r] for r in runs], img.size)
    _compare_objects(ref_objects, ort_objects, img.size)


def test_forced_answer_objects():
    model, tok, proc = reference()
    bundle = OrtPadt(tiny_bundle())
    images = [_image(200, 150, seed=2), _image(252, 196, seed=3)]
    inputs = _inputs(proc, tok, images, 'Find "cat" and "dog".')
    V = model.text_vocab_rows
    grids = [(int(h), int(w)) for _, h, w in inputs.image_grid_thw.tolist()]
    first = grids[0][0] * grids[0][1] // 4
    last = grids[1][0] * grids[1][1] // 4
    vrt = [V + first + j for j in (0, last - 1, 7, 8, 3)]
    words = tok.encode(' There is "cat" (', add_special_tokens=False)
    more = tok.encode('), "dog" (', add_special_tokens=False)
    end = tok.encode(").", add_special_tokens=False) + [bundle.tokens["im_end"]]
    answer = words + vrt[:2] + more + vrt[2:] + end

    got = bundle.generate(
        inputs.input_ids[0].numpy(), inputs.pixel_values.numpy(), grids, forced=answer
    )
    assert got.ids == answer

    # reference: one forward pass over prompt + answer, no cache
    full = torch.cat([inputs.input_ids, torch.tensor([answer[:-1]])], dim=1)
    images_t = model.encode_images(inputs.pixel_values, inputs.image_grid_thw)
    pos, _ = model.get_rope_index(full, image_grid_thw=inputs.image_grid_thw)
    with torch.no_grad():
        out = model.model(inputs_embeds=model.embed_prompt(full, images_t), position_ids=pos)
    prompt_len = inputs.input_ids.shape[1]
    ref_hidden = out.last_hidden_state[0, prompt_len - 1 :]
    assert np.abs(got.hidden_states - ref_hidden.numpy()).max() < 1e-4

    ref_result = generate(model, inputs, max_new_tokens=1)  # for images / current_image
    parsed = parse_answer(answer, tok, V, ref_hidden, patch_offset=ref_result.patch_offset)
    assert [o.label for o in parsed.objects] == ["cat", "dog"]
    assert [o.patches for o in parsed.objects] == [[0, last - 1], [7, 8, 3]]
    runs = vrt_runs(got.ids, V, bundle.tokens["eos"])
    assert [o.steps for o in parsed.objects] == runs
    size = images[1].size
    ref_objects = decode_answer(model, ref_result, parsed, size)
    ort_objects = _ort_objects(bundle, got, [got.hidden_states[r] for r in runs], size)
    _compare_objects(ref_objects, ort_objects, size)


def test_greedy_with_a_repetition_penalty_matches_reference():
    """transformers' penalty over every id so far (prompt, image pads, VRTs): at scale 3 the
    image of seed 1 starts with a VRT that repeats greedily, and 1.05 changes the answer
    from the second token on, the same way in both paths."""
    model, tok, proc = reference(prototype_scale=3.0)
    bundle = OrtPadt(tiny_bundle(prototype_scale=3.0))
    inputs = _inputs(proc, tok, [_image(200, 150, seed=1)], REC.format("red circle"))
    grids = [(int(h), int(w)) for _, h, w in inputs.image_grid_thw.tolist()]
    args = (inputs.input_ids[0].numpy(), inputs.pixel_values.numpy(), grids)
    plain = generate(model, inputs, max_new_tokens=12)
    ref = generate(model, inputs, max_new_tokens=12, repetition_penalty=1.05)
    got = bundle.generate(*args, max_new_tokens=12, repetition_penalty=1.05)
    assert ref.ids != plain.ids
    assert got.ids == ref.ids
    assert bundle.generate(*args, max_new_tokens=12).ids == plain.ids


@pytest.mark.parametrize("rule", ["last_prompt_row", "all_prompt_rows"])
def test_an_answer_that_starts_with_a_vrt_under_both_rules(rule):
    """The first object's features: the state that predicted its first VRT (ours), or every
    prompt row of the prefill step followed by the others (the reference's, behind the
    manifest's first_vrt_features); both paths agree under each rule."""
    model, tok, proc = reference(prototype_scale=3.0)
    bundle = OrtPadt(tiny_bundle(prototype_scale=3.0))
    img = _image(200, 150, seed=1)
    inputs = _inputs(proc, tok, [img], REC.format("red circle"))
    grids = [(int(h), int(w)) for _, h, w in inputs.image_grid_thw.tolist()]
    saved = model.config.padt_first_vrt_features
    model.config.padt_first_vrt_features = rule
    try:
        ref = generate(model, inputs, max_new_tokens=6)
    finally:
        model.config.padt_first_vrt_features = saved
    got = bundle.generate(
        inputs.input_ids[0].numpy(),
        inputs.pixel_values.numpy(),
        grids,
        max_new_tokens=6,
        first_vrt_features=rule,
    )
    V = model.text_vocab_rows
    assert got.ids == ref.ids and ref.ids[0] >= V
    prompt = inputs.input_ids.shape[1]
    parsed = parse_answer(
        ref.ids,
        tok,
        V,
        ref.hidden_states,
        patch_offset=ref.patch_offset,
        prefill_states=ref.prefill_hidden_states,
    )
    (run,) = vrt_runs(got.ids, V, bundle.tokens["eos"])
    features = got.object_features(run)
    extra = prompt - 1 if rule == "all_prompt_rows" else 0
    assert parsed.objects[0].features.shape[0] == features.shape[0] == len(run) + extra
    assert np.abs(features - parsed.objects[0].features.numpy()).max() < 1e-4
    ref_objects = decode_answer(model, ref, parsed, img.size)
    _compare_objects(ref_objects, _ort_objects(bundle, got, [features], img.size), img.size)


def test_the_two_first_vrt_rules_decode_differently():
    bundle = OrtPadt(tiny_bundle(prototype_scale=3.0))
    _, tok, proc = reference(prototype_scale=3.0)
    img = _image(200, 150, seed=1)
    inputs = _inputs(proc, tok, [img], REC.format("red circle"))
    grids = [(int(h), int(w)) for _, h, w in inputs.image_grid_thw.tolist()]
    boxes = []
    for rule in ("last_prompt_row", "all_prompt_rows"):
        got = bundle.generate(
            inputs.input_ids[0].numpy(),
            inputs.pixel_values.numpy(),
            grids,
            max_new_tokens=6,
            first_vrt_features=rule,
        )
        (run,) = vrt_runs(got.ids, bundle.vocab_rows, bundle.tokens["eos"])
        image = got.images[got.current_image]
        boxes.append(bundle.decode_objects([got.object_features(run)], image).boxes[0])
    assert np.abs(boxes[0] - boxes[1]).max() > 1e-3
