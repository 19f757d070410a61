"""Ship a trained Shapes checkpoint as the platform's embedded default model.

    python -m padt.train.ship RUN_DIR --out ../models/padt-tiny-shapes \
        --fixtures ../tests/fixtures [--eval EVAL_JSON | --count N]

RUN_DIR is a `python -m padt.train` output directory (model/, state.pt, log.jsonl). Writes:
- OUT/: the fp32 bundle (padt.export), refused above the size budget;
- FIXTURES/padt-tiny-shapes.golden.json and .images/: goldens the TypeScript engine must
  reproduce on Shapes test images (padt.golden);
- OUT/MODEL_CARD.md: architecture, data, training history read from the run's log,
  the commands, and quality on the Shapes test split measured with the PyTorch reference
  (`padt.train.evaluate`, run here unless --eval gives its JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..export import export_bundle
from ..golden import SHAPES_FIXTURE, write_shapes_fixture
from ..shapes.vocab import COLOURS, MAX_HIDDEN, MAX_OBJECTS, MAX_SIDE, MIN_SIDE, SHAPES, SIZES
from .evaluate import evaluate

MAX_BUNDLE_BYTES = 30 * 1024 * 1024
TARGETS = {"rec": 0.90, "res_ciou": 0.75, "ovd_map": 0.50, "ric": 0.80}
CARD = "MODEL_CARD.md"


def training_segments(log_rows: list[dict]) -> list[dict]:
    """The runs that made the checkpoint, found where the LR schedule restarted (a resume
    with a larger --steps jumps the cosine back up). The first step after a resume still
    runs at the LR restored with the optimizer, so a run begins one row before the jump."""
    starts = [0] + [
        i - 1
        for i in range(2, len(log_rows))
        if log_rows[i]["lr"] > 2 * log_rows[i - 1]["lr"] and log_rows[i]["lr"] > 1e-4
    ]
    ends = [s - 1 for s in starts[1:]] + [len(log_rows) - 1]
    return [
        {
            "first": log_rows[a]["step"],
            "last": log_rows[b]["step"],
            "peak_lr": max(r["lr"] for r in log_rows[a : b + 1]),
        }
        for a, b in zip(starts, ends, strict=True)
    ]


def _mean(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows)


def loss_curve(log_rows: list[dict], points: int = 10, window: int = 100) -> str:
    """A markdown table of the training losses, each a mean over `window` steps."""
    every = window  # the smallest of 100, 200, 500, 1000, 2000, ... giving at most `points` rows
    while len(log_rows) / every > points:
        every *= 2.5 if str(every)[0] == "2" else 2
    every = int(every)
    ends = sorted({*range(every, len(log_rows) + 1, every), len(log_rows)})
    lines = ["| steps | token CE | box | mask | box IoU |", "| --- | --- | --- | --- | --- |"]
    for end in ends:
        rows = log_rows[max(0, end - window) : end]
        lines.append(
            f"| {rows[0]['step']}-{rows[-1]['step']} | {_mean(rows, 'ce'):.3f} | "
            f"{_mean(rows, 'box'):.3f} | {_mean(rows, 'mask'):.3f} | {_mean(rows, 'iou'):.3f} |"
        )
    return "\n".join(lines)


def model_card(
    config, parameters: int, bundle_mb: float, run_args: dict, log_rows: list[dict], result: dict
) -> str:
    vision, decoder = config.vision_config, config.vl_decoder
    hours = sum(r["step_s"] for r in log_rows) / 3600
    segments = training_segments(log_rows)
    rec, res, ovd, ric = result["rec"], result["res"], result["ovd"], result["ric"]

    def verdict(value: float, target: float) -> str:
        return "met" if value >= target else "missed"

    rows = [
        ("REC Acc@0.5", rec["acc@0.5"], TARGETS["rec"], f"{rec['queries']} queries"),
        ("RES mean IoU", res["mIoU"], None, f"{res['queries']} queries"),
        ("RES cumulative IoU", res["cIoU"], TARGETS["res_ciou"], "same answers as REC"),
        ("OVD box mAP", ovd["mAP"], TARGETS["ovd_map"], f"{ovd['images']} images"),
        ("OVD box AP50", ovd["AP50"], None, f"{ovd['detections']} detections"),
        ("RIC grounded-phrase acc", ric["grounded_phrase_acc"], TARGETS["ric"], f"{ric['phrases']} phrases"),
        ("RIC object recall", ric["grounded_object_recall"], None, "objects found by a caption"),
    ]  # fmt: skip
    table = "\n".join(
        f"| {name} | {value:.4f} | "
        + (f"{target:.2f} ({verdict(value, target)})" if target is not None else "-")
        + f" | {note} |"
        for name, value, target, note in rows
    )
    history = "\n".join(
        f"  - steps {s['first']}-{s['last']}: peak LR {s['peak_lr']:.1e}, cosine to "
        f"{run_args['min_lr_ratio']:g} x peak at the run's --steps"
        for s in segments
    )
    return (
        f"""# padt-tiny-shapes

A small PaDT model (Qwen2.5-VL layout + PaDT decoder) trained from scratch on synthetic
Shapes images, shipped as PaDT Studio's embedded default so that a fresh machine does real
grounding with no downloads. It answers the four PaDT Pro prompts (REC, RES, OVD, RIC) on
Shapes-like pictures (flat shapes on textured backgrounds); it knows nothing else.

## Quality (Shapes test split, PyTorch reference)

{result["images"]} test images (seed {result["seed"]}), up to 2 referring expressions, one OVD
query and one caption request per image; greedy decoding; masks placed
`{result["mask_placement"]}`.

| metric | value | target | |
| --- | --- | --- | --- |
{table}

Targets marked missed are not reached by this model: the repository README ("Training the
Shapes model") says why and what would reach them; the loss curve is below.

Reproduce: `node scripts/python.mjs -m padt.train.evaluate ../.data/train/shapes-cpu/model
--split test --count {result["images"]}`; the TypeScript pipeline gives the same numbers with
`padt eval` (repository README, "The TypeScript pipeline against the PyTorch reference").

## Architecture

{parameters:,} parameters, fp32 bundle {bundle_mb:.1f} MB.

| part | configuration |
| --- | --- |
| vision | width {vision.hidden_size}, depth {vision.depth}, {vision.num_heads} heads (head_dim {vision.hidden_size // vision.num_heads}), MLP {vision.intermediate_size}, window {vision.window_size} px, full attention in blocks {vision.fullatt_block_indexes}, patch {vision.patch_size}, merge {vision.spatial_merge_size} |
| LLM | width {config.hidden_size}, {config.num_hidden_layers} layers, {config.num_attention_heads} heads, {config.num_key_value_heads} KV heads, MLP {config.intermediate_size}, M-RoPE sections {config.rope_scaling["mrope_section"]}, rope_theta {config.rope_theta:g}, tied embeddings |
| decoder | width {decoder["hidden_size"]}, {decoder["num_heads"]} heads, MLP {decoder["intermediate_size"]} |
| vocabulary | {config.vocab_size} text rows (byte-level BPE on Shapes prompts and answers, Qwen2.5's special tokens and chat template), plus one VRT row per image patch |
| images | not pre-resized (112-448 px sides as they are); mask placement `{config.padt_mask_placement}` |

## Data

`python -m padt.shapes`: images with sides between {MIN_SIDE} and {MAX_SIDE} px; 1-{MAX_OBJECTS} objects of
{len(SHAPES)} shapes ({", ".join(SHAPES)}), {len(COLOURS)} colours and {len(SIZES)} sizes on textured or noisy
backgrounds, with partial occlusion (at most {MAX_HIDDEN:.0%} hidden); referring
expressions with attributes and spatial relations; OVD lists with absent categories;
captions with grounded phrases. Generated from (seed, split, index), never stored: the
train, val and test splits differ by seed.

## Training

- tasks, one per image: REC/RES, OVD and RIC drawn {" / ".join(f"{w:.0%}" for w in run_args["task_weights"])}
- losses: the PaDT losses (robust token CE over text + VRT rows, box L1 + GIoU, score,
  mask) and the training-only position probe (weight {run_args["position_probe"]})
- optimizer: AdamW (betas 0.9/0.98, weight decay {run_args["weight_decay"]}), gradient clip
  {run_args["clip"]}, {run_args["warmup"]} warmup steps, batch {run_args["batch"]}, seed {run_args["seed"]}
- {log_rows[-1]["step"]:,} steps in {hours:.1f} hours on 2 CPU cores, in {len(segments)} run(s):
{history}

Commands (from the repository root; the script runs in `tools/`, so paths are relative to it;
a resume continues the same batches and RNG):

```sh
nice node scripts/python.mjs -m padt.train --out ../.data/train/shapes-cpu --steps {segments[0]["last"]} --threads 2
"""
        + "".join(
            f"nice node scripts/python.mjs -m padt.train --out ../.data/train/shapes-cpu "
            f"--steps {s['last']} --threads 2 --resume\n"
            for s in segments[1:]
        )
        + f"""node scripts/python.mjs -m padt.train.ship ../.data/train/shapes-cpu \\
    --out ../models/padt-tiny-shapes --fixtures ../tests/fixtures
```

The loss curve (`log.jsonl`; training batches, means over 100 steps; box IoU is the decoder's
box against the ground truth on the VRTs the model was fed):

{loss_curve(log_rows)}

## Checks

`tests/fixtures/{SHAPES_FIXTURE}.golden.json` holds what this bundle answers on Shapes test
images through onnxruntime (tied to PyTorch by the exporter's parity tests); the TypeScript
engine must reproduce it (`packages/engine/test/engine-parity.test.ts`).
"""
    )


def ship(
    run_dir: Path,
    out: Path,
    fixtures: Path,
    eval_json: Path | None = None,
    count: int = 100,
    seed: int = 0,
    checkpoint_name: str | None = None,
) -> dict:
    """`checkpoint_name`: the run's checkpoint to ship, by default its best validated one
    (`best/`, see padt.train.validation) when it has one, else its latest (`model/`).
    `seed`: the test split's seed (choose one never used, after training)."""
    import torch

    from ..checkpoint import load_padt

    default = "best" if (run_dir / "best").is_dir() else "model"
    checkpoint = run_dir / (checkpoint_name or default)
    result = (
        json.loads(eval_json.read_text())
        if eval_json
        else evaluate(checkpoint, count=count, seed=seed)
    )
    exported = export_bundle(checkpoint, out, dtype="fp32", force=True, model_name=out.name)
    size = sum(f["bytes"] for f in exported.files)
    if size > MAX_BUNDLE_BYTES:
        raise SystemExit(
            f"{out} is {size / 2**20:.1f} MB, over the {MAX_BUNDLE_BYTES >> 20} MB budget"
        )
    write_shapes_fixture(out, fixtures)
    model, _, _ = load_padt(checkpoint)
    state = torch.load(run_dir / "state.pt", map_location="cpu", weights_only=False)
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").open(encoding="utf-8")]
    parameters = sum(p.numel() for p in model.parameters())
    card = model_card(model.config, parameters, size / 2**20, state["args"], rows, result)
    (out / CARD).write_text(card)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m padt.train.ship", description=__doc__.split("\n")[0]
    )
    p.add_argument("run_dir", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--fixtures", type=Path, required=True)
    p.add_argument("--eval", type=Path, help="evaluate's JSON for this checkpoint")
    p.add_argument("--count", type=int, default=100, help="test images to evaluate on")
    p.add_argument("--seed", type=int, default=0, help="the test split's seed")
    p.add_argument("--checkpoint", help="best or model (default: best when the run has one)")
    args = p.parse_args(argv)
    ship(args.run_dir, args.out, args.fixtures, args.eval, args.count, args.seed, args.checkpoint)
    print(args.out / CARD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
