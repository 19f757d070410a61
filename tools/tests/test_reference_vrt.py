"""Parsing generated ids into text and objects, with the tiny tokenizer."""

from __future__ import annotations

import pytest
import torch
from reference_support import tiny_loaded

from padt.vrt import object_features, parse_answer

V = 512  # the tiny checkpoint's embedding rows


@pytest.fixture(scope="module")
def tokenizer():
    model, tok, _ = tiny_loaded()
    assert model.text_vocab_rows == V
    return tok


def ids_of(tokenizer, *parts) -> list[int]:
    """Text parts are tokenized; ints are VRT patch indices."""
    ids: list[int] = []
    for part in parts:
        ids += (
            [V + part]
            if isinstance(part, int)
            else tokenizer.encode(part, add_special_tokens=False)
        )
    return ids


def test_several_objects_with_labels(tokenizer) -> None:
    ids = ids_of(
        tokenizer,
        'In this image, there are 2 "circle" (',
        1,
        2,
        ", ",
        5,
        '), 1 "red square" (',
        7,
        ").",
    )
    ids.append(tokenizer.convert_tokens_to_ids("<|im_end|>"))
    hidden = torch.arange(len(ids), dtype=torch.float32)[:, None].repeat(1, 4)
    parsed = parse_answer(ids, tokenizer, V, hidden_states=hidden)
    assert [o.label for o in parsed.objects] == ["circle", "circle", "red square"]
    assert [o.patches for o in parsed.objects] == [[1, 2], [5], [7]]
    first = parsed.objects[0]
    assert torch.equal(first.features[:, 0], torch.tensor(first.steps, dtype=torch.float32))
    assert parsed.text == (
        'In this image, there are 2 "circle" (<|VRT_1|><|VRT_2|>, <|VRT_5|>), '
        '1 "red square" (<|VRT_7|>).'
    )


def test_no_label_without_quotes(tokenizer) -> None:
    parsed = parse_answer(
        ids_of(tokenizer, "A red circle (", 3, ") is next to a square (", 4, ")."), tokenizer, V
    )
    assert [o.label for o in parsed.objects] == ["", ""]
    assert all(o.features is None for o in parsed.objects)


def test_unclosed_quote_takes_the_text_so_far(tokenizer) -> None:
    # The reference keeps the trailing space ("red circle refers to "); ours strips it
    # (docs/decisions.md).
    parsed = parse_answer(
        ids_of(tokenizer, 'The "red circle refers to ', 9, 10, ' and "blue', 11), tokenizer, V
    )
    assert [o.label for o in parsed.objects] == ["red circle refers to", "blue"]


def test_run_at_the_end_and_label_carried_over(tokenizer) -> None:
    parsed = parse_answer(
        ids_of(tokenizer, 'The "star" refers to ', 0, " and ", 3, 4), tokenizer, V
    )
    assert [o.patches for o in parsed.objects] == [[0], [3, 4]]
    assert [o.label for o in parsed.objects] == ["star", "star"]
    assert parsed.text.endswith("<|VRT_3|><|VRT_4|>")


@pytest.mark.parametrize("ids", [[], ["<|im_end|>"], ["<|endoftext|>", 5]])
def test_empty_answer(tokenizer, ids) -> None:
    converted = [V + i if isinstance(i, int) else tokenizer.convert_tokens_to_ids(i) for i in ids]
    parsed = parse_answer(converted, tokenizer, V)
    assert parsed.text == "" and parsed.objects == []


def test_parsing_ends_at_the_first_stop_token(tokenizer) -> None:
    ids = ids_of(tokenizer, 'The "cat" refers to ', 2) + [
        tokenizer.convert_tokens_to_ids("<|im_end|>")
    ]
    ids += ids_of(tokenizer, 'The "dog" refers to ', 3)
    parsed = parse_answer(ids, tokenizer, V)
    assert [(o.label, o.patches) for o in parsed.objects] == [("cat", [2])]


def test_patch_offset_for_later_images(tokenizer) -> None:
    parsed = parse_answer(ids_of(tokenizer, "A dog (", 30, 31, ")"), tokenizer, V, patch_offset=24)
    assert parsed.objects[0].patches == [6, 7]


def test_first_object_features_under_both_rules(tokenizer) -> None:
    """Ours: the states that predicted the run. The reference's rule (prefill_states given):
    a run at step 0 takes every prompt row instead of its first state; later runs are
    unaffected."""
    hidden = torch.arange(6 * 2, dtype=torch.float32).view(6, 2)
    prompt = -torch.arange(4 * 2, dtype=torch.float32).view(4, 2)
    assert torch.equal(object_features(hidden, [0, 1, 2]), hidden[0:3])
    assert torch.equal(object_features(hidden, [0, 1, 2], prompt), torch.cat([prompt, hidden[1:3]]))
    assert torch.equal(object_features(hidden, [4, 5], prompt), hidden[4:6])
    ids = [V + 1, V + 2] + tokenizer.encode(" and ", add_special_tokens=False) + [V + 3]
    parsed = parse_answer(ids, tokenizer, V, torch.zeros(len(ids), 2), prefill_states=prompt)
    assert [o.features.shape[0] for o in parsed.objects] == [5, 1]
