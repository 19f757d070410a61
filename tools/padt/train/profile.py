"""Where one training step's time goes: data generation, image processing, vision tower,
LLM, decoder, the probes' heads, backward and the optimizer.

    python -m padt.train.profile [--init-from BUNDLE_OR_CHECKPOINT] --batch 8 --steps 5 \
        [--json RUN_DIR/profile.json]

Forward parts are timed by wrapping the calls compute_losses makes (vision tower, LLM,
decoder, probe losses); the rest of the forward (losses, logits
over the dynamic vocabulary, padding) is reported as "losses and glue". Run it on an
otherwise idle machine: it measures wall time. `--json` also writes the table (what
padt.train.ship puts in the model card when the run directory has a profile.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from ..processing import make_processor
from ..shapes import generate_sample
from ..shapes.vocab import COLOUR_NAMES, SHAPES, SIZE_NAMES
from . import step as step_module
from .data import make_batch, step_rng
from .shapes_model import build_shapes_model, build_shapes_tokenizer
from .step import PositionProbe, SceneProbe, compute_losses


class _Timer:
    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.totals[name] += time.perf_counter() - started

        return timed


def profile(batch: int, steps: int, seed: int, init_from: Path | None) -> dict[str, float]:
    if init_from is not None:
        from .trainer import _initial_weights

        model, tokenizer = _initial_weights(init_from, Path("/tmp/padt-profile"))
    else:
        tokenizer = build_shapes_tokenizer()
        model = build_shapes_model(tokenizer, seed=seed)
    model.train()
    processor = make_processor(tokenizer)
    probe = PositionProbe(model.vl_decoder.settings.hidden_size, model.config.hidden_size)
    scene = SceneProbe(model.config.hidden_size, len(SHAPES), len(COLOUR_NAMES), len(SIZE_NAMES))
    params = [*model.parameters(), *probe.parameters(), *scene.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    timer = _Timer()
    # Instance attributes shadow the methods for this run only; the vision tower is composed
    # from its parts by step.encode_image through vision.run_vision_tower.
    model.model.forward = timer.wrap("LLM", model.model.forward)
    decoder = model.vl_decoder
    decoder.forward_batch = timer.wrap("decoder", decoder.forward_batch)
    for obj, method in ((probe, "memory_loss"), (probe, "vrt_loss"), (scene, "loss")):
        setattr(obj, method, timer.wrap("probes", getattr(obj, method)))
    original_tower = step_module.run_vision_tower
    step_module.run_vision_tower = timer.wrap("vision tower", original_tower)
    t = timer.totals
    for step in range(steps + 1):  # step 0 warms up allocators and is not counted
        if step == 1:
            t.clear()
        started = time.perf_counter()
        rng = step_rng(seed, step)
        for i in rng.integers(0, 1_000_000, size=batch):
            generate_sample("train", int(i), seed=seed)
        generated = time.perf_counter()
        items = make_batch(
            step, batch, seed, tokenizer, processor.image_processor, model.text_vocab_rows
        )
        made = time.perf_counter()
        t["data generation"] += generated - started
        # make_batch generates the samples again, then processes them
        t["image processing and targets"] += max(0.0, (made - generated) - (generated - started))
        forward_parts = sum(t[k] for k in ("vision tower", "LLM", "decoder", "probes"))
        result = compute_losses(model, items, tokenizer.pad_token_id, False, probe, scene)
        forwarded = time.perf_counter()
        glue = (forwarded - made) - (
            sum(t[k] for k in ("vision tower", "LLM", "decoder", "probes")) - forward_parts
        )
        t["losses and glue"] += glue
        optimizer.zero_grad(set_to_none=True)
        result.total.backward()
        backward = time.perf_counter()
        t["backward"] += backward - forwarded
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        t["optimizer"] += time.perf_counter() - backward
    step_module.run_vision_tower = original_tower
    return {k: v / steps for k, v in t.items()}


def profile_record(per_step: dict[str, float], batch: int, steps: int, init_from) -> dict:
    """The JSON form of the table: milliseconds per step for each part and in all."""
    return {
        "batch": batch,
        "steps": steps,
        "threads": torch.get_num_threads(),
        "init_from": None if init_from is None else str(init_from),
        "torch": torch.__version__,
        "parts_ms": {k: round(v * 1000, 1) for k, v in per_step.items()},
        "total_ms": round(sum(per_step.values()) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m padt.train.profile", description=__doc__)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--init-from", type=Path)
    p.add_argument("--json", type=Path, help="also write the per-part ms table here")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    per_step = profile(args.batch, args.steps, args.seed, args.init_from)
    total = sum(per_step.values())
    print(f"batch {args.batch}, {args.steps} steps, {torch.get_num_threads()} threads")
    print("| part | ms/step | share |\n| --- | --- | --- |")
    for name, seconds in sorted(per_step.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {seconds * 1000:.0f} | {seconds / total:.0%} |")
    print(f"| total | {total * 1000:.0f} | 100% |")
    print(f"np {np.__version__}, torch {torch.__version__}")
    if args.json:
        record = profile_record(per_step, args.batch, args.steps, args.init_from)
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
