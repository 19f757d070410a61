"""The PyTorch reference on the bench workload; prints one JSON line of measurements.

Run by bench/engine/run.mjs with tools/.venv's python:
  reference.py <checkpoint_dir> <image> <prompt> <max_new_tokens> <repeats> <threads>
"""

import json
import resource
import sys
import time

import torch
from PIL import Image

from padt.checkpoint import load_padt
from padt.generation import generate
from padt.postprocess import decode_answer
from padt.processing import build_inputs
from padt.vrt import parse_answer


def main() -> None:
    checkpoint, image_path, prompt, max_new, repeats, threads = sys.argv[1:7]
    torch.set_num_threads(int(threads))
    model, tokenizer, processor = load_padt(checkpoint)
    image = Image.open(image_path)
    messages = [
        {
            "role": "user",
            "content": [{"type": "image"}, {"type": "text", "text": prompt}],
        }
    ]
    runs = []
    for i in range(int(repeats) + 1):
        started = time.perf_counter()
        inputs = build_inputs(processor, tokenizer, [image], messages)
        result = generate(model, inputs, max_new_tokens=int(max_new))
        parsed = parse_answer(
            result.ids,
            tokenizer,
            result.text_vocab_rows,
            result.hidden_states,
            None,
            result.patch_offset,
        )
        decode_answer(model, result, parsed, image.size)
        total = time.perf_counter() - started
        if i == 0:
            continue  # warm-up
        runs.append(
            {
                "prefill_ms": result.timings["prefill_s"] * 1000,
                "decode_tokens_per_s": result.timings["tokens_per_s"],
                "end_to_end_ms": total * 1000,
                "tokens": len(result.ids),
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"runs": runs, "peak_rss_mb": peak_mb}))


if __name__ == "__main__":
    main()
