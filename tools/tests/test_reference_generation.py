"""Generation on the tiny checkpoint: determinism, stopping, KV cache, dynamic vocabulary.

Tolerance: cached hidden states equal a full no-cache forward to atol 1e-5 (float32).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from reference_support import noise_image, tiny_checkpoint_dir, tiny_loaded, user_turn
from transformers.generation.logits_process import (
    LogitsProcessorList,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from padt.checkpoint import load_padt
from padt.generation import (
    DecodingSettings,
    TokenPicker,
    decoding_settings,
    default_stop_ids,
    generate,
)
from padt.golden import synthetic_cases
from padt.modeling import all_prototypes
from padt.processing import build_inputs

DESCRIBE = "Please describe this image."


@pytest.fixture(scope="module")
def one_image():
    model, tokenizer, processor = tiny_loaded()
    return build_inputs(
        processor, tokenizer, [noise_image(180, 150)], user_turn(DESCRIBE), long_side=None
    )


@pytest.fixture(scope="module")
def two_images():
    model, tokenizer, processor = tiny_loaded()
    # Enough patches per image that temperature sampling picks VRTs now and then.
    images = [noise_image(300, 200, seed=1), noise_image(252, 196, seed=2)]
    return build_inputs(processor, tokenizer, images, user_turn(DESCRIBE, 2), long_side=None)


def test_greedy_is_deterministic(one_image) -> None:
    model = tiny_loaded()[0]
    first = generate(model, one_image, max_new_tokens=24)
    second = generate(model, one_image, max_new_tokens=24)
    assert first.ids == second.ids
    assert torch.equal(first.hidden_states, second.hidden_states)
    assert first.finish_reason == "length" and len(first.ids) == 24
    assert first.hidden_states.shape == (24, model.config.hidden_size)
    assert set(first.timings) == {"encode_s", "prefill_s", "decode_s", "tokens_per_s"}
    # The random tiny model mixes text and VRTs: golden files get objects to decode.
    assert any(i >= model.text_vocab_rows for i in first.ids)
    assert any(i < model.text_vocab_rows for i in first.ids)


def test_stops_on_a_stop_token(one_image) -> None:
    model = tiny_loaded()[0]
    ids = generate(model, one_image, max_new_tokens=12).ids
    step = next(t for t in range(1, len(ids)) if ids[t] not in ids[:t])
    stopped = generate(model, one_image, max_new_tokens=12, stop_token_ids=[ids[step]])
    assert stopped.finish_reason == "stop"
    assert stopped.ids == ids[: step + 1]


def test_default_stop_ids_come_from_the_checkpoint() -> None:
    model, tokenizer, _ = tiny_loaded()
    expected = set(tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"]))
    assert default_stop_ids(model) == expected


def test_cached_states_equal_a_full_forward(one_image) -> None:
    model = tiny_loaded()[0]
    result = generate(model, one_image, max_new_tokens=10)
    full_ids = torch.cat([one_image.input_ids, torch.tensor([result.ids[:-1]])], dim=1)
    with torch.no_grad():
        position_ids, _ = model.get_rope_index(full_ids, image_grid_thw=one_image.image_grid_thw)
        out = model.model(
            inputs_embeds=model.embed_prompt(full_ids, result.images),
            position_ids=position_ids,
            use_cache=False,
        )
    start = one_image.input_ids.shape[1] - 1
    expected = out.last_hidden_state[0, start : start + len(result.ids)]
    torch.testing.assert_close(result.hidden_states, expected, atol=1e-5, rtol=1e-4)


def test_text_logits_equal_the_stock_qwen_forward(one_image) -> None:
    """Prefill path (E at image pads, get_rope_index positions) == transformers' own forward."""
    model = tiny_loaded()[0]
    with torch.no_grad():
        stock = (
            super(type(model), model)
            .forward(
                input_ids=one_image.input_ids,
                attention_mask=one_image.attention_mask,
                pixel_values=one_image.pixel_values,
                image_grid_thw=one_image.image_grid_thw,
            )
            .logits[0, -1]
        )
    result = generate(model, one_image, max_new_tokens=1)
    with torch.inference_mode():
        allowed = model.vrt_logit_mask(result.images)
        prototypes = all_prototypes(result.images, stock)
        ours = model.padt_logits(result.hidden_states, prototypes, allowed)[0]
    torch.testing.assert_close(ours[: model.text_vocab_rows], stock, atol=1e-5, rtol=1e-4)
    model.rope_deltas = None  # the stock forward caches it on the module


def test_sampling_is_seeded(one_image) -> None:
    model = tiny_loaded()[0]
    kwargs = {"max_new_tokens": 16, "do_sample": True, "temperature": 1.5, "top_p": 0.9}
    assert (
        generate(model, one_image, seed=7, **kwargs).ids
        == generate(model, one_image, seed=7, **kwargs).ids
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"temperature": 0.5},
        {"top_p": 0.5},
        {"do_sample": True, "temperature": 0.0},
        {"do_sample": True, "top_p": 0.0},
        {"max_new_tokens": 0},
    ],
)
def test_unsupported_options_are_rejected(one_image, kwargs) -> None:
    with pytest.raises(ValueError):
        generate(tiny_loaded()[0], one_image, **kwargs)


def test_image_pads_take_merger_output_and_vrts_take_prototypes(two_images) -> None:
    model = tiny_loaded()[0]
    images = model.encode_images(two_images.pixel_values, two_images.image_grid_thw)
    ids = two_images.input_ids
    embeds = model.embed_prompt(ids, images)[0]
    pads = ids[0] == model.config.image_token_id
    torch.testing.assert_close(embeds[pads], torch.cat([img.embeds for img in images]))
    vrt = model.text_vocab_rows + images[0].num_patches + 2  # patch 2 of the second image
    row = model.embed_ids(torch.tensor([[vrt]]), all_prototypes(images, embeds))[0, 0]
    torch.testing.assert_close(row, images[1].prototypes[2])


def test_logit_mask_allows_only_the_current_image(two_images) -> None:
    model = tiny_loaded()[0]
    images = model.encode_images(two_images.pixel_values, two_images.image_grid_thw)
    v, first, second = model.text_vocab_rows, images[0].num_patches, images[1].num_patches
    allowed = model.vrt_logit_mask(images, current=0)
    assert allowed[:v].all() and allowed[v : v + first].all() and not allowed[v + first :].any()
    allowed = model.vrt_logit_mask(images)  # default: the last image
    assert allowed[:v].all() and not allowed[v : v + first].any() and allowed[v + first :].all()
    hidden = torch.randn(3, model.config.hidden_size)
    logits = model.padt_logits(hidden, all_prototypes(images, hidden), allowed)
    assert (
        torch.isinf(logits[:, v : v + first]).all() and torch.isfinite(logits[:, v + first :]).all()
    )
    assert logits.shape == (3, v + first + second)


@pytest.mark.parametrize("current", [0, 1])
def test_generated_vrts_stay_in_the_current_image(two_images, current: int) -> None:
    model = tiny_loaded()[0]
    result = generate(
        model,
        two_images,
        max_new_tokens=40,
        do_sample=True,
        temperature=4.0,
        seed=1,
        current_image=current,
    )
    sizes = [img.num_patches for img in result.images]
    lo = model.text_vocab_rows + sum(sizes[:current])
    vrts = [i for i in result.ids if i >= model.text_vocab_rows]
    assert vrts and all(lo <= i < lo + sizes[current] for i in vrts)
    assert result.patch_offset == sum(sizes[:current])


def test_batches_are_rejected(one_image) -> None:
    batch = {"input_ids": one_image.input_ids.repeat(2, 1), "attention_mask": None}
    with pytest.raises(ValueError):
        generate(tiny_loaded()[0], batch)


def test_text_only_conversation() -> None:
    model, tokenizer, processor = tiny_loaded()
    messages = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    inputs = build_inputs(processor, tokenizer, [], messages)
    assert inputs.pixel_values is None
    result = generate(model, inputs, max_new_tokens=5)
    assert result.images == [] and all(i < model.text_vocab_rows for i in result.ids)


def _penalty_case():
    """The goldens' ovd_repetition_penalty case (the same tiny checkpoint, seed 0)."""
    case = next(c for c in synthetic_cases() if c.name == "ovd_repetition_penalty")
    model, tokenizer, processor = tiny_loaded()
    messages = user_turn(case.prompt)
    inputs = build_inputs(processor, tokenizer, list(case.images), messages, case.long_side)
    return case, inputs


def test_the_penalty_gives_the_goldens_ids() -> None:
    """PyTorch reference = ORT pipeline (the goldens) = the TypeScript engine
    (engine-parity.test.ts), with the penalty; without it the answer differs."""
    case, inputs = _penalty_case()
    model = tiny_loaded()[0]
    golden = Path(__file__).resolve().parents[2] / "tests/fixtures/padt-tiny-random.golden.json"
    want = next(c for c in json.loads(golden.read_text())["cases"] if c["name"] == case.name)
    penalty = case.generation["repetition_penalty"]
    with_penalty = generate(model, inputs, max_new_tokens=16, repetition_penalty=penalty)
    assert with_penalty.ids == want["generated_ids"]
    assert generate(model, inputs, max_new_tokens=16).ids != with_penalty.ids


def test_the_checkpoints_generation_config_applies(tmp_path) -> None:
    """generation_config.json's repetition_penalty applies to greedy decoding, as
    transformers' generate applies it; an explicit argument overrides it."""
    ckpt = shutil.copytree(tiny_checkpoint_dir(), tmp_path / "ckpt")
    path = ckpt / "generation_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "repetition_penalty": 1.05}))
    model = load_padt(ckpt)[0]
    case, inputs = _penalty_case()
    reference = tiny_loaded()[0]
    assert model.generation_config.repetition_penalty == 1.05
    assert (
        generate(model, inputs, max_new_tokens=16).ids
        == generate(reference, inputs, max_new_tokens=16, repetition_penalty=1.05).ids
    )
    assert (
        generate(model, inputs, max_new_tokens=16, repetition_penalty=1.0).ids
        == generate(reference, inputs, max_new_tokens=16).ids
    )


def test_scores_are_transformers_processors_in_its_order() -> None:
    config = tiny_loaded()[0].generation_config
    settings = decoding_settings(
        config, do_sample=True, temperature=0.7, top_k=20, top_p=0.8, repetition_penalty=1.3
    )
    expected = LogitsProcessorList(
        [
            RepetitionPenaltyLogitsProcessor(1.3),
            TemperatureLogitsWarper(0.7),
            TopKLogitsWarper(20),
            TopPLogitsWarper(0.8),
        ]
    )
    logits = torch.randn(600, generator=torch.Generator().manual_seed(3))
    logits[550:] = float("-inf")  # masked VRT rows stay masked
    sequence = torch.tensor([[5, 7, 7, 520, 3, 555]])  # a VRT id, and a masked one
    got = TokenPicker(settings, seed=0).scores(sequence, logits)
    torch.testing.assert_close(got, expected(sequence, logits[None].clone()), rtol=0, atol=0)
    assert torch.isinf(got[0, 550:]).all()


def test_settings_come_from_the_checkpoint_unless_given() -> None:
    stored = SimpleNamespace(temperature=0.1, top_k=1, top_p=0.001, repetition_penalty=1.05)
    assert decoding_settings(stored) == DecodingSettings(False, 0.1, 1, 0.001, 1.05)
    assert decoding_settings(stored, True, 0.9, 0, 1.0, 1.0) == DecodingSettings(
        True, 0.9, 0, 1.0, 1.0
    )
    assert decoding_settings(SimpleNamespace()) == DecodingSettings()
    for bad in ({"repetition_penalty": 0.0}, {"do_sample": True, "top_k": -1}, {"top_k": 5}):
        with pytest.raises(ValueError):
            decoding_settings(stored, **bad)
