"""The training loop: AdamW, warmup + cosine LR, gradient clipping, a fixed seed, resumable
checkpoints, a JSONL loss log, and the final model in the public checkpoint layout.

    python -m padt.train --out DIR --steps N [--device cpu|cuda] [--batch B] [--seed S] [--resume]

DIR/state.pt        model, optimizer, scheduler, step, RNG states (every --ckpt-every steps)
DIR/tokenizer/      the tokenizer the run was started with (reused on --resume)
DIR/model/          the latest weights in the public layout (save_padt), exportable
DIR/log.jsonl       one line per step: losses, lr, step time
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import math
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer

from ..checkpoint import load_padt, save_padt
from ..processing import make_processor
from ..shapes.vocab import COLOUR_NAMES, SHAPES, SIZE_NAMES
from .data import DEFAULT_TASK_WEIGHTS, make_batch
from .shapes_model import (
    MICRO_SIZES,
    build_shapes_model,
    build_shapes_tokenizer,
    count_parameters,
)
from .step import PositionProbe, SceneProbe, compute_losses

STATE = "state.pt"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m padt.train", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--steps", required=True, type=int, help="total optimizer steps")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from DIR/state.pt")
    p.add_argument(
        "--init-from",
        type=Path,
        help="start from these weights (a bundle or a checkpoint directory) with a fresh "
        "optimizer and warmup, unless --resume finds DIR/state.pt",
    )
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.05)
    p.add_argument("--warmup", type=int, default=100, help="LR warmup steps")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--decoder-warmup", type=int, default=300, help="steps feeding prototypes")
    p.add_argument("--ckpt-every", type=int, default=100)
    p.add_argument(
        "--val-every",
        type=int,
        default=1000,
        help="evaluate DIR/model on the val split every N steps and keep the best in DIR/best "
        "(0: never)",
    )
    p.add_argument("--val-images", type=int, default=40)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    p.add_argument("--workers", type=int, default=0, help="data processes (0: in-process)")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA)")
    p.add_argument(
        "--position-probe",
        type=float,
        default=1.0,
        help="weight of the auxiliary position losses (0: off; see step.PositionProbe)",
    )
    p.add_argument(
        "--scene-probe",
        type=float,
        default=1.0,
        help="weight of the dense per-cell shape/colour/size/instance losses (0: off; "
        "see step.SceneProbe)",
    )
    p.add_argument("--mask-placement", choices=["spatial", "window"], default="spatial")
    p.add_argument(
        "--box-weights",
        type=float,
        nargs=2,
        default=[1.0, 1.0],
        metavar=("GIOU", "L1"),
        help="weights of the box loss's GIoU and L1 terms (the reference: 1 1)",
    )
    p.add_argument("--task-weights", type=float, nargs=3, default=list(DEFAULT_TASK_WEIGHTS))
    p.add_argument("--micro", action="store_true", help=argparse.SUPPRESS)  # tests
    p.add_argument("--stop-after", type=int, default=0, help=argparse.SUPPRESS)  # tests
    p.add_argument("--fixed-batch", action="store_true", help=argparse.SUPPRESS)  # tests
    return p.parse_args(argv)


def lr_factor(step: int, warmup: int, total: int, min_ratio: float) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def rng_states() -> dict:
    states = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _tokenizer(out: Path, resume: bool, micro: bool):
    directory = out / "tokenizer"
    if resume and (directory / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(str(directory))
    tokenizer = build_shapes_tokenizer(images=20) if micro else build_shapes_tokenizer()
    tokenizer.save_pretrained(str(directory))
    return tokenizer


def _initial_weights(source: Path, out: Path):
    """(model, tokenizer) from a bundle (imported to DIR/init) or a checkpoint directory; the
    tokenizer is saved as the run's own, so that --resume reuses it."""
    if (source / "padt.json").is_file():
        from ..export.importer import import_bundle

        source = import_bundle(source, out / "init")
    model, tokenizer, _ = load_padt(source)
    tokenizer.save_pretrained(str(out / "tokenizer"))
    stops = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
    model.generation_config.eos_token_id = stops
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    print(f"initial weights from {source}", flush=True)
    return model.train(), tokenizer


def save_state(
    path: Path, model, optimizer, scheduler, step: int, args, probe=None, scene=None
) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "probe": probe.state_dict() if probe is not None else None,
            "scene_probe": scene.state_dict() if scene is not None else None,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "rng": rng_states(),
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        },
        tmp,
    )
    os.replace(tmp, path)


def train(args: argparse.Namespace) -> dict:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads or os.cpu_count() or 1)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)

    state_path = out / STATE
    resuming = args.resume and state_path.is_file()
    if args.init_from and not resuming:
        model, tokenizer = _initial_weights(args.init_from, out)
        model = model.to(device)
    else:
        tokenizer = _tokenizer(out, args.resume, args.micro)
        model = build_shapes_model(
            tokenizer,
            seed=args.seed,
            sizes=MICRO_SIZES if args.micro else None,
            mask_placement=args.mask_placement,
        ).to(device)
    processor = make_processor(tokenizer)
    model.train()
    probe = None
    if args.position_probe > 0:
        probe = PositionProbe(
            model.vl_decoder.settings.hidden_size, model.config.hidden_size, args.position_probe
        )
        probe.to(device)
    scene = None
    if args.scene_probe > 0:
        scene = SceneProbe(
            model.config.hidden_size,
            len(SHAPES),
            len(COLOUR_NAMES),
            len(SIZE_NAMES),
            args.scene_probe,
        ).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    groups = [
        {"params": decay, "weight_decay": args.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    for head in (probe, scene):
        if head is not None:
            groups.append({"params": list(head.parameters()), "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(
        groups,
        lr=args.lr,
        betas=(0.9, 0.98),
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, args.warmup, args.steps, args.min_lr_ratio)
    )
    step = 0
    if resuming:
        state = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        if probe is not None and state.get("probe"):
            probe.load_state_dict(state["probe"], strict=False)
        if scene is not None and state.get("scene_probe"):
            scene.load_state_dict(state["scene_probe"])
        saved = state["optimizer"]
        sizes = [len(g["params"]) for g in saved["param_groups"]]
        if sizes == [len(g["params"]) for g in optimizer.param_groups]:
            optimizer.load_state_dict(saved)
        else:  # a probe was added or removed: the model's own two groups keep their moments
            own = optimizer.state_dict()
            model_params = sizes[0] + sizes[1]
            own["state"].update({i: v for i, v in saved["state"].items() if i < model_params})
            for group, old in zip(own["param_groups"][:2], saved["param_groups"][:2], strict=True):
                group.update({k: v for k, v in old.items() if k != "params"})
            optimizer.load_state_dict(own)
        scheduler.load_state_dict(state["scheduler"])
        step = int(state["step"])
        set_rng_states(state["rng"])
        print(f"resumed from {state_path} at step {step}", flush=True)
    print(
        f"model: {count_parameters(model):,} parameters, vocab rows {model.text_vocab_rows}, "
        f"tokenizer {len(tokenizer)}, device {device}, threads {torch.get_num_threads()}",
        flush=True,
    )

    log = (out / "log.jsonl").open("a", encoding="utf-8")
    image_processor = processor.image_processor
    pad_id = tokenizer.pad_token_id
    autocast = args.bf16 and device.type == "cuda"
    last: dict = {}
    stop_at = min(args.steps, step + args.stop_after) if args.stop_after else args.steps
    batches = BatchSource(
        args, tokenizer, image_processor, model.text_vocab_rows, range(step, stop_at)
    )
    while step < stop_at:
        started = time.perf_counter()
        items = batches.get(step)
        data_s = time.perf_counter() - started
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            result = compute_losses(
                model,
                items,
                pad_id,
                step < args.decoder_warmup,
                probe,
                scene,
                tuple(args.box_weights),
            )
        optimizer.zero_grad(set_to_none=True)
        result.total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        step += 1
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        elapsed = time.perf_counter() - started
        last = {
            "step": step,
            **result.as_floats(),
            "lr": lr,
            "grad_norm": float(grad_norm),
            "step_s": round(elapsed, 4),
            "data_s": round(data_s, 4),
            "tasks": [it.task for it in items],
        }
        log.write(json.dumps(last) + "\n")
        log.flush()
        if step % args.log_every == 0 or step == 1 or step == stop_at:
            print(
                f"step {step}/{args.steps} loss {last['loss']:.4f} ce {last['ce']:.4f} "
                f"box {last['box']:.4f} score {last['score']:.4f} mask {last['mask']:.4f} "
                f"pos {last['position']:.4f} scene {last['scene']:.4f} "
                f"iou {last['iou']:.3f} lr {lr:.2e} {elapsed:.2f}s/step",
                flush=True,
            )
        if step % args.ckpt_every == 0 or step == stop_at:
            save_state(state_path, model, optimizer, scheduler, step, args, probe, scene)
            if step == args.steps or step % (args.ckpt_every * 5) == 0:
                export_model(model, tokenizer, processor, out / "model")
        if args.val_every and step % args.val_every == 0:
            export_model(model, tokenizer, processor, out / "model")
            validate(out, step, args.val_images)
    log.close()
    batches.close()
    if step >= args.steps:
        export_model(model, tokenizer, processor, out / "model")
    return last


class BatchSource:
    """The batches of the given steps, made in-process or by a bounded pool of processes
    (same batches either way: each is a pure function of (seed, step))."""

    def __init__(self, args, tokenizer, image_processor, vocab_rows: int, steps: range) -> None:
        self.make = functools.partial(
            _batch_for_step,
            batch=args.batch,
            seed=args.seed,
            tokenizer=tokenizer,
            image_processor=image_processor,
            vocab_rows=vocab_rows,
            weights=tuple(args.task_weights),
            fixed=args.fixed_batch,
        )
        self.pool = None
        self.pending: collections.deque = collections.deque()
        self.steps = iter(steps)
        if args.workers > 0:
            ctx = multiprocessing.get_context("spawn")
            self.pool = ctx.Pool(args.workers)
            for _ in range(2 * args.workers):
                self._submit()

    def _submit(self) -> None:
        step = next(self.steps, None)
        if step is not None:
            self.pending.append((step, self.pool.apply_async(self.make, (step,))))

    def get(self, step: int):
        if self.pool is None:
            return self.make(step)
        expected, future = self.pending.popleft()
        assert expected == step, (expected, step)
        self._submit()
        return future.get()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _batch_for_step(step, batch, seed, tokenizer, image_processor, vocab_rows, weights, fixed):
    torch.set_num_threads(1)
    return make_batch(
        0 if fixed else step, batch, seed, tokenizer, image_processor, vocab_rows, weights=weights
    )


def validate(out: Path, step: int, images: int) -> dict:
    """DIR/model on the first val images: appended to DIR/val.jsonl; copied to DIR/best when
    its score (validation.score) is the best so far."""
    from .validation import keep_if_best, val_metrics

    result = val_metrics(out / "model", images)
    result["step"] = step
    best = keep_if_best(out, result)
    with (out / "val.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(result) + "\n")
    print(f"val step {step}: score {result['score']:.4f} (best {best:.4f}) {result}", flush=True)
    return result


def export_model(model, tokenizer, processor, directory: Path) -> None:
    was_training = model.training
    model.eval()
    save_padt(model, tokenizer, directory, processor=processor)
    model.train(was_training)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
