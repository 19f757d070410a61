"""The exporter's memory bound: exporting needs no memory beyond the checkpoint itself.

An fp32 bundle of a bf16 checkpoint is the worst case (every LLM weight doubles in size on
the way out). The export runs in a fresh process that reports its anonymous resident memory
right after loading the checkpoint and its peak over the export. Before placeholder tracing
and streamed conversion the growth on this checkpoint was 722 MB (the LLM cast to fp32 in
memory, then a second fp32 copy held by torch.onnx's shape inference); now it is ~20 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from padt.checkpoint import save_padt
from padt.config import PadtConfig
from padt.processing import make_processor
from padt.tiny import build_tiny_model, make_tiny_config
from padt.tokenizer_build import build_tiny_tokenizer

_CHILD = r"""
import json, sys, threading, time
from pathlib import Path
import padt.export.bundle as bundle
from padt.checkpoint import load_padt

def anon_mb():
    # Anonymous resident memory: what the process itself allocated. File pages of a
    # memory-mapped checkpoint are the checkpoint, and the kernel can drop them.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

seen = {"peak": 0.0}
def poll():
    while True:
        seen["peak"] = max(seen["peak"], anon_mb())
        time.sleep(0.002)

def load_and_measure(*args, **kwargs):
    out = load_padt(*args, **kwargs)
    seen["after_load"] = anon_mb()
    seen["peak"] = 0.0
    threading.Thread(target=poll, daemon=True).start()
    return out
bundle.load_padt = load_and_measure
bundle.export_bundle(sys.argv[1], sys.argv[2], dtype="fp32")
time.sleep(0.05)
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def bf16_checkpoint(tmp_path_factory) -> tuple[Path, int]:
    """A random checkpoint whose LLM is about 90 M parameters, saved in bfloat16."""
    tokenizer = build_tiny_tokenizer()
    small = make_tiny_config(tokenizer).to_dict()
    config = PadtConfig(
        **{
            **small,
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_hidden_layers": 6,
            "num_attention_heads": 16,
            "num_key_value_heads": 4,
            "rope_scaling": {"type": "mrope", "mrope_section": [8, 12, 12]},
            "vision_config": {**small["vision_config"], "out_hidden_size": 1024},
        }
    )
    model, tokenizer = build_tiny_model(0, config)
    model.to(torch.bfloat16)
    path = tmp_path_factory.mktemp("bf16") / "ckpt"
    save_padt(model, tokenizer, path, processor=make_processor(tokenizer))
    llm_bytes = sum(p.numel() * 2 for p in model.model.parameters())
    return path, llm_bytes


def test_fp32_export_of_bf16_checkpoint_stays_near_checkpoint_size(bf16_checkpoint, tmp_path):
    path, llm_bytes = bf16_checkpoint
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(tmp_path / "bundle")],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    growth_mb = seen["peak"] - seen["after_load"]
    llm_mb = llm_bytes / 2**20
    # Any copy of the LLM's weights, in any dtype, would add at least llm_mb.
    assert growth_mb < 0.25 * llm_mb, (growth_mb, llm_mb, seen)
    print(f"export growth {growth_mb:.0f} MB over a {llm_mb:.0f} MB bf16 LLM")
