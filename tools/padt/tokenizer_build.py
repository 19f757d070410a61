"""A small byte-level BPE tokenizer shaped like Qwen2.5's, for tiny test checkpoints.

Same normalizer, pre-tokenizer regex, byte-level mapping and special-token strings as
Qwen2.5-VL, trained on a seeded corpus of PaDT prompts and answers. Its ids differ from
Qwen's, so nothing downstream may assume Qwen's numbers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from functools import lru_cache

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, trainers
from tokenizers import pre_tokenizers as pre
from transformers import PreTrainedTokenizerFast
from transformers.models.qwen2.tokenization_qwen2_fast import Qwen2TokenizerFast

# The PadtConfig token-id fields and the Qwen special token each names (every model the
# tools build reads its ids from its tokenizer by these names).
CONFIG_ID_TOKENS = {
    "bos_token_id": "<|endoftext|>",
    "eos_token_id": "<|im_end|>",
    "pad_token_id": "<|endoftext|>",
    "image_token_id": "<|image_pad|>",
    "video_token_id": "<|video_pad|>",
    "vision_start_token_id": "<|vision_start|>",
    "vision_end_token_id": "<|vision_end|>",
    "vision_token_id": "<|vision_pad|>",
}

# Qwen2's pre-tokenizer split pattern.
QWEN2_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
    r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Qwen2.5's added tokens, in Qwen's order; the flag says whether the token is "special".
QWEN_ADDED_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
)

# Qwen2.5-VL's chat template (chat_template.json of the Instruct checkpoints).
QWEN2_5_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
    "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}"
    "Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

COLOURS = ("red", "green", "blue", "yellow", "purple", "orange", "black", "white", "gray", "pink")
SHAPES = ("circle", "square", "triangle", "rectangle", "star", "ellipse", "hexagon", "diamond")
SIZES = ("small", "large", "big", "tiny")
PLACES = ("left", "right", "top", "bottom", "center", "middle")
OBJECTS = ("person", "cat", "dog", "car", "horse", "bus", "bicycle", "chair", "bottle", "cup")


def _phrase(rng: random.Random) -> str:
    words = [rng.choice(COLOURS), rng.choice(SHAPES)]
    if rng.random() < 0.5:
        words.insert(0, rng.choice(SIZES))
    if rng.random() < 0.4:
        words += ["on", "the", rng.choice(PLACES)]
    return " ".join(words)


def _corpus(seed: int, lines: int) -> list[str]:
    rng = random.Random(seed)
    text = [
        "You are a helpful assistant.",
        "system user assistant",
        "Please describe this image.",
        "No objects from the list are present in the image",
    ]
    for _ in range(lines):
        expr = _phrase(rng)
        labels = rng.sample(SHAPES + OBJECTS, rng.randint(1, 3))
        count = rng.randint(1, 4)
        text += [
            "Please carefully check the image and detect the object this sentence describes: "
            f'"{expr}".',
            f'The "{expr}" refers to  in this image.',
            "Please carefully check the image and detect the following objects: "
            + "["
            + ", ".join(f'"{lab}"' for lab in labels)
            + "].",
            f'There is 1 "{labels[0]}" () in this image.',
            f'There are {count} "{labels[-1]}" (, ) in this image.',
            f'In this image, there are {count} "{labels[0]}" (), {count + 1} "{labels[-1]}" ().',
            f"A {expr} () is next to a {_phrase(rng)} ().",
        ]
    return text


def train_qwen_style_bpe(corpus: Iterable[str], vocab_size: int) -> Tokenizer:
    """A byte-level BPE with Qwen2's normalizer, split regex and byte mapping, trained on
    `corpus`, with Qwen's added tokens appended after the learned vocabulary."""
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre.Sequence(
        [
            pre.Split(Regex(QWEN2_SPLIT_PATTERN), behavior="isolated", invert=False),
            pre.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    for content, special in QWEN_ADDED_TOKENS:
        token = AddedToken(content, lstrip=False, rstrip=False, normalized=False, special=special)
        if special:
            tok.add_special_tokens([token])
        else:
            tok.add_tokens([token])
    return tok


def build_bpe(seed: int = 0, vocab_size: int = 480, lines: int = 200) -> Tokenizer:
    """The tiny checkpoints' tokenizer, trained on a seeded corpus of PaDT prompts."""
    return train_qwen_style_bpe(_corpus(seed, lines), vocab_size)


@lru_cache(maxsize=4)
def _cached_bpe_json(seed: int) -> str:
    return build_bpe(seed).to_str()


def build_tiny_tokenizer(seed: int = 0) -> PreTrainedTokenizerFast:
    """A transformers tokenizer configured as Qwen2.5-VL-Instruct's (eos <|im_end|>, pad <|endoftext|>)."""
    return qwen_tokenizer(_cached_bpe_json(seed))


def qwen_tokenizer(tokenizer_json: str) -> PreTrainedTokenizerFast:
    """A trained BPE (tokenizer.json text) as a Qwen2.5-VL-Instruct-like tokenizer: eos
    <|im_end|>, pad <|endoftext|>, Qwen's specials and chat template."""
    specials = [content for content, special in QWEN_ADDED_TOKENS if special]
    return Qwen2TokenizerFast(
        tokenizer_object=Tokenizer.from_str(tokenizer_json),
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=specials[1:],
        errors="replace",
        add_prefix_space=False,
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
        model_max_length=32768,
        chat_template=QWEN2_5_VL_CHAT_TEMPLATE,
    )
