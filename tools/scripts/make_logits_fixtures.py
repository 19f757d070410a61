"""Write packages/engine/test/fixtures/logits_processors.json: transformers' processed scores.

For fixed random scores over a dynamic vocabulary (text rows, then VRT rows of which some are
masked at -inf, as the LLM graph gives them) and a sequence of ids (prompt ids with repeats,
image pads, VRT ids), records what transformers 4.50's own `generate` pipeline does to them:
the LogitsProcessorList that `GenerationMixin._get_logits_processor` builds from a
GenerationConfig, in its order. The engine's generation/logits_process.ts must give the same
float32 scores (-inf written as null).

Run: tools/.venv/bin/python tools/scripts/make_logits_fixtures.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import GenerationConfig
from transformers.generation.logits_process import LogitsProcessorList
from transformers.generation.utils import GenerationMixin

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "packages/engine/test/fixtures/logits_processors.json"
TEXT_ROWS, VRT_ROWS = 256, 48
MASKED = slice(TEXT_ROWS, TEXT_ROWS + 16)  # another image's VRT rows

# (name, GenerationConfig keys): what the checkpoint and the request together ask for.
SETTINGS = [
    ("greedy_penalty_1.05", {"repetition_penalty": 1.05}),
    ("greedy_penalty_0.8", {"repetition_penalty": 0.8}),
    (
        "qwen_instruct_sampling",
        {"do_sample": True, "repetition_penalty": 1.05, "temperature": 0.1, "top_k": 1},
    ),
    (
        "all_warpers",
        {
            "do_sample": True,
            "repetition_penalty": 1.3,
            "temperature": 0.7,
            "top_k": 20,
            "top_p": 0.8,
        },
    ),
    ("top_p_only", {"do_sample": True, "top_k": 0, "top_p": 0.9}),
    ("default_top_k", {"do_sample": True, "temperature": 1.5}),
]


class _Generator(GenerationMixin):
    """Just enough of a model for _get_logits_processor (no guidance, no encoder)."""


def processors(settings: dict) -> LogitsProcessorList:
    config = GenerationConfig(**settings)
    config._eos_token_tensor = None  # what generate's _prepare_special_tokens sets without eos
    return _Generator()._get_logits_processor(
        generation_config=config,
        input_ids_seq_length=0,
        encoder_input_ids=torch.zeros((1, 0), dtype=torch.long),
        prefix_allowed_tokens_fn=None,
        logits_processor=LogitsProcessorList(),
        device="cpu",
    )


def _values(scores: torch.Tensor) -> list[float | None]:
    return [None if np.isneginf(v) else float(v) for v in scores.numpy().astype(np.float32)]


def main() -> None:
    rng = np.random.default_rng(16)
    steps = []
    for step in range(4):
        scores = (rng.standard_normal(TEXT_ROWS + VRT_ROWS) * (1 + step)).astype(np.float32)
        scores[MASKED] = -np.inf
        prompt = [1, 2, 3, 3, 9, 200, 200, 200, 7]  # 200: an image pad, repeated
        answer = [int(i) for i in rng.integers(0, TEXT_ROWS + VRT_ROWS, 3 + 2 * step)]
        # A VRT of the current image, and one of the masked image (a visual reference).
        sequence = prompt + [TEXT_ROWS + 20, MASKED.start + 1] + answer
        steps.append({"scores": scores, "sequence": sequence})
    cases = []
    for name, settings in SETTINGS:
        chain = processors(settings)
        out = []
        for s in steps:
            ids = torch.tensor([s["sequence"]])
            processed = chain(ids, torch.from_numpy(s["scores"].copy())[None])[0]
            out.append(_values(processed))
        cases.append(
            {
                "name": name,
                "settings": settings,
                "processors": [type(p).__name__ for p in chain],
                "expected": out,
            }
        )
    doc = {
        "transformers": transformers.__version__,
        "vocab": TEXT_ROWS + VRT_ROWS,
        "steps": [
            {"scores": _values(torch.from_numpy(s["scores"])), "sequence": s["sequence"]}
            for s in steps
        ],
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(OUT, [(c["name"], c["processors"]) for c in cases])


if __name__ == "__main__":
    main()
