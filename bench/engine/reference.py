"""The PyTorch reference side of bench/engine/run.mjs, as a long-lived process.

Started once by run.mjs with tools/.venv's python, so that engine and reference runs can be
interleaved (the machine's state drifts over a minute: two back-to-back blocks measure the
drift as much as the code):

  reference.py <checkpoint_dir> <threads> <long_side|none> <max_long_side|none> <max_new_tokens>
               <images> <image_dir>

Prints one JSON line when ready: the bench images it wrote (Shapes scenes of a test seed no
training run uses, each with a REC prompt), the machine's floors measured at the same thread
count, and what a decode step must read. Then answers each stdin line `{"image": i}` with one
JSON line of measurements of a full REC answer on image i.
"""

import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from padt.checkpoint import load_padt
from padt.generation import generate
from padt.postprocess import decode_answer
from padt.processing import build_inputs
from padt.shapes.dataset import generate_sample
from padt.vrt import parse_answer

# A seed no training, validation or test split of this project uses.
BENCH_SEED = 9101


def _best(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def floors() -> dict:
    """Streaming bandwidth (a 256 MiB copy: bytes read + written) and fp32 GEMM GFLOP/s."""
    a = np.ones(64 * 1024 * 1024, dtype=np.float32)
    b = np.empty_like(a)
    copy_s = _best(lambda: np.copyto(b, a))
    n = 1024
    x = torch.randn(n, n)
    y = torch.randn(n, n)
    gemm_s = _best(lambda: torch.mm(x, y))
    return {"bandwidth_gb_s": 2 * a.nbytes / copy_s / 1e9, "gemm_gflop_s": 2 * n**3 / gemm_s / 1e9}


def step_bytes(model) -> dict:
    """What one decode step reads: the LLM's layer weights and the full vocabulary matrix
    (tied or not, the output projection reads every row), and per cached token the K and V rows
    of every layer. fp32."""
    layers = sum(
        p.numel()
        for n, p in model.named_parameters()
        if n.startswith(("model.layers.", "model.norm"))
    )
    vocab = model.model.embed_tokens.weight.numel()
    cfg = model.config
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    kv_per_token = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * head_dim
    return {"weight_bytes": 4 * (layers + vocab), "kv_bytes_per_token": 4 * kv_per_token}


def write_images(count: int, out_dir: Path) -> list[dict]:
    images = []
    for i in range(count):
        sample = generate_sample("test", i, seed=BENCH_SEED)
        path = out_dir / f"bench_{i}.png"
        Image.fromarray(sample.pixels).save(path)
        images.append(
            {
                "path": str(path),
                "prompt": sample.referring[0]["prompt"],
                "size": [sample.image["width"], sample.image["height"]],
            }
        )
    return images


def main() -> None:
    checkpoint, threads, long_side, max_long_side, max_new, count, image_dir = sys.argv[1:8]
    torch.set_num_threads(int(threads))
    torch.set_num_interop_threads(1)
    opt = lambda s: None if s == "none" else int(s)  # noqa: E731
    model, tokenizer, processor = load_padt(checkpoint)
    model.eval()
    images = write_images(int(count), Path(image_dir))
    print(
        json.dumps(
            {
                "ready": True,
                "images": images,
                "floors": floors(),
                "step": step_bytes(model),
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "omp_threads": os.environ.get("OMP_NUM_THREADS"),
            }
        ),
        flush=True,
    )
    for line in sys.stdin:
        image = images[json.loads(line)["image"]]
        pil = Image.open(image["path"]).convert("RGB")
        messages = [
            {
                "role": "user",
                "content": [{"type": "image"}, {"type": "text", "text": image["prompt"]}],
            }
        ]
        started = time.perf_counter()
        with torch.inference_mode():
            inputs = build_inputs(
                processor,
                tokenizer,
                [pil],
                messages,
                long_side=opt(long_side),
                max_long_side=opt(max_long_side),
            )
            result = generate(model, inputs, max_new_tokens=int(max_new))
            parsed = parse_answer(
                result.ids,
                tokenizer,
                result.text_vocab_rows,
                result.hidden_states,
                None,
                result.patch_offset,
            )
            decoder_started = time.perf_counter()
            objects = decode_answer(model, result, parsed, pil.size)
            decoder_s = time.perf_counter() - decoder_started
        total = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "prompt_tokens": int(result.prompt_length),
                    "tokens": len(result.ids),
                    "ids": [int(i) for i in result.ids],
                    "prefill_ms": result.timings["prefill_s"] * 1000,
                    "decode_ms": result.timings["decode_s"] * 1000,
                    "decode_tokens_per_s": result.timings["tokens_per_s"],
                    "decoder_ms": decoder_s * 1000,
                    "objects": len(objects),
                    "end_to_end_ms": total * 1000,
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
