"""The shipped model's MODEL_CARD.md, made from the run directory's own files (state.pt's
args, log.jsonl, val.jsonl, baseline-val.json, best/val.json, and profile.json and
levers.json when the run has them), the evaluation result, the bundle's manifest and the
Shapes generator's constants: no number in it is typed in by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..golden import SHAPES_FIXTURE
from ..shapes.dataset import MAX_OVD_CATEGORIES, SPLITS
from ..shapes.relations import EXTREMES, RELATIONS
from ..shapes.render import BACKGROUNDS
from ..shapes.scene import BLUR_P, CLUTTER_MAX, JPEG_P, OUTLINE_P
from ..shapes.vocab import (
    COLOURS,
    MAX_HIDDEN,
    MAX_OBJECTS,
    MAX_SIDE,
    MIN_SIDE,
    SCALE_MIN,
    SCALE_SPAN,
    SHAPES,
    SIZES,
)
from .card_sections import (
    check_levers,
    kept_rows,
    lever_table,
    loss_curve,
    profile_table,
    quality_table,
    subsets_table,
    training_segments,
    val_curve,
    weakest_task,
)

CARD = "MODEL_CARD.md"
VAL_SEED = 0  # padt.train.validation evaluates the val split with evaluate's default seed
# Flags of `python -m padt.train` that only tests use, or that the commands set themselves.
_NOT_REPRODUCED = {"out", "steps", "resume", "micro", "stop_after", "fixed_batch"}


@dataclass
class RunFiles:
    """What a `python -m padt.train` directory says about the checkpoint being shipped."""

    args: dict
    log_rows: list[dict]
    val_rows: list[dict]
    baseline: dict | None  # the previous bundle's val result (baseline-val.json)
    shipped: str  # the checkpoint's directory name (best or model)
    shipped_step: int | None  # its validated step (CHECKPOINT/val.json), if any
    profile: dict | None  # profile.json (python -m padt.train.profile --json)
    levers: list[dict] | None  # levers.json (schema: padt/train/README.md)


def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def read_run(run_dir: Path, checkpoint: Path) -> RunFiles:
    import torch

    state = torch.load(run_dir / "state.pt", map_location="cpu", weights_only=False)
    shipped_val = _json(checkpoint / "val.json")
    levers = _json(run_dir / "levers.json")
    return RunFiles(
        args=state["args"],
        log_rows=_jsonl(run_dir / "log.jsonl"),
        val_rows=_jsonl(run_dir / "val.jsonl"),
        baseline=_json(run_dir / "baseline-val.json"),
        shipped=checkpoint.name,
        shipped_step=shipped_val["step"] if shipped_val else None,
        profile=_json(run_dir / "profile.json"),
        levers=None if levers is None else check_levers(levers),
    )


def train_flags(args: dict) -> str:
    """The run's own flags for `python -m padt.train`, those left at their defaults omitted."""
    from .trainer import parse_args

    defaults = vars(parse_args(["--out", "-", "--steps", "1"]))
    flags = []
    for key, value in args.items():
        if key in _NOT_REPRODUCED or value is None or value == defaults.get(key):
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif isinstance(value, list | tuple):
            flags.append(f"{flag} " + " ".join(f"{v:g}" for v in value))
        elif value is not False:
            flags.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    return " ".join(flags)


def _data_section() -> str:
    small, large = SIZES["small"], SIZES["large"]
    ratio = MAX_SIDE / MIN_SIDE
    return f"""`python -m padt.shapes` (v2 generator), generated from (seed, split, index) and never
stored, so the {", ".join(SPLITS)} splits never share an image:

- images with width and height drawn independently in {MIN_SIDE}-{MAX_SIDE} px (aspect ratios
  1:{ratio:g} to {ratio:g}:1), backgrounds {", ".join(BACKGROUNDS)} with grain, plus 0-{CLUTTER_MAX}
  non-target marks (lines, dots, arcs) under the objects;
- 1-{MAX_OBJECTS} objects of {len(SHAPES)} shapes ({", ".join(SHAPES)}) and {len(COLOURS)}
  colours ({", ".join(COLOURS)}), antialiased, {OUTLINE_P:.0%} of them outlined, partly
  occluded (at most {MAX_HIDDEN:.0%} hidden); {BLUR_P:.0%} of images mildly blurred and
  {JPEG_P:.0%} JPEG-compressed;
- sizes drawn continuously: a base scale per scene from {SCALE_MIN:g} px up to the short side /
  {SCALE_SPAN:g}, each object small ({small[0]:g}-{small[1]:g} x base) or large
  ({large[0]:g}-{large[1]:g} x base), so objects run from about {SCALE_MIN * small[0]:.0f} px
  to {large[1] / SCALE_SPAN:.0%} of the short side; "small" and "large" mean relative size
  among the objects of one image (at least {large[0] / small[1]:g}x apart), and a scene with one
  size class uses no size words;
- referring expressions by attributes, relations ({", ".join(RELATIONS)}) and extremes
  ({", ".join(EXTREMES)}); OVD lists of 1-{MAX_OVD_CATEGORIES} categories with absent ones;
  captions with grounded phrases."""


def _training_section(run: RunFiles, seed: int, count: int) -> str:
    args = run.args
    rows, resumes = kept_rows(run.log_rows)
    segments = training_segments(rows)
    hours = sum(r["step_s"] for r in run.log_rows) / 3600
    rerun = len(run.log_rows) - len(rows)
    weights = " / ".join(f"{w:.0%}" for w in args["task_weights"])
    box = args.get("box_weights")
    history = "\n".join(
        f"  - steps {s['first']}-{s['last']}: peak LR {s['peak_lr']:.1e}, cosine to "
        f"{args['min_lr_ratio']:g} x peak at the run's --steps"
        for s in segments
    )
    flags = train_flags(args)
    out = args["out"]
    commands = [
        f"nice node scripts/python.mjs -m padt.train --out {out} --steps {s['last']} {flags}"
        + (" --resume" if i else "")
        for i, s in enumerate(segments[:-1])
    ]
    commands.append(
        f"nice node scripts/python.mjs -m padt.train --out {out} --steps {args['steps']} {flags}"
        + (" --resume" if args.get("resume") or len(segments) > 1 else "")
    )
    resumed = (
        f", resumed at steps {', '.join(str(s) for s in resumes)} ({rerun} steps run again "
        "from the last state.pt)"
        if resumes
        else ""
    )
    return f"""- tasks, one per image: REC/RES, OVD and RIC drawn {weights}
- losses: the PaDT losses (robust token CE over text + VRT rows, box GIoU + L1
  {"weighted " + " / ".join(f"{w:g}" for w in box) if box else ""}, score, mask) and the
  training-only probes, never exported: position probe (weight {args["position_probe"]}),
  scene probe (weight {args.get("scene_probe", 0)})
- optimizer: AdamW (betas 0.9/0.98, weight decay {args["weight_decay"]}), gradient clip
  {args["clip"]}, LR {args["lr"]:g} with {args["warmup"]} warmup steps, batch {args["batch"]},
  seed {args["seed"]}, device {args.get("device", "cpu")}, threads {args["threads"]},
  data workers {args.get("workers", 0)}
- started from {args.get("init_from") or "random weights"}; validated every
  {args.get("val_every", 0)} steps on {args.get("val_images", 0)} val images, best kept
- {rows[-1]["step"]:,} of {args["steps"]:,} planned steps in {hours:.1f} hours of step time
  (re-run steps included){resumed}; LR history in {len(segments)} segment(s):
{history}

Commands (from the repository root; the script runs in `tools/`, so paths are relative to it;
a resume continues the same batches and RNG; the ship's test seed was chosen after training):

```sh
{chr(10).join(commands)}
node scripts/python.mjs -m padt.train.ship {out} --checkpoint {run.shipped} \\
    --seed {seed} --count {count} --out ../models/padt-tiny-shapes --fixtures ../tests/fixtures
```

The loss curve (`log.jsonl`; training batches, means over 100 steps; box IoU is the decoder's
box against the ground truth on the VRTs the model was fed):

{loss_curve(rows)}"""


def _limits_section(result: dict, manifest: dict) -> str:
    caps, cap = manifest["capabilities"], manifest["image_processor"]["max_long_side"]
    task, value, target = weakest_task(result)
    subsets = result.get("rec_subsets") or {}
    worst = min(subsets.items(), key=lambda kv: kv[1]["acc@0.5"], default=None)
    worst_line = (
        f" Its weakest REC subset is `{worst[0]}` (Acc@0.5 {worst[1]['acc@0.5']:.4f})."
        if worst
        else ""
    )
    chat = (
        "Free chat is out of scope: the manifest declares `free_chat: false`, so the gateway's "
        "`tasks` query and the playground offer only the tasks above."
        if not caps["free_chat"]
        else "The manifest declares free chat, but it was never trained or measured here."
    )
    turns = (
        " So the manifest\n  declares `multi_turn: false`, and the engine sends it the last"
        " question alone, with the\n  conversation's latest image when the question brings"
        " none (the answer's `historyTrim` says\n  what was left out); a follow-up that needs"
        ' the earlier answers ("and the one left of it?")\n  is beyond it.'
        if not caps.get("multi_turn", True)
        else ""
    )
    return f"""- It knows Shapes scenes only (the shapes, colours and backgrounds above); on other
  pictures its answers mean nothing.
- Tasks: {", ".join(t.upper() for t in caps["tasks"])} (manifest `capabilities.tasks`). {chat}
- What it gets wrong most: {task} ({value:.4f} against the {target:.2f} target) is its weakest
  task on the test split.{worst_line}
- Input: images with a longer side above {cap} px are scaled down by the engine to that long
  side (manifest `image_processor.max_long_side`), as in training.
- One question per image: every training sample is a single-turn conversation (one image,
  one question, one answer); shown earlier turns, its answers got worse (asked for "triangle"
  after a RES turn on another image, it answered "In this image." and found nothing; alone,
  it boxes the triangle).{turns}"""


def _baseline_note(baseline: dict | None) -> str:
    if baseline is None:
        return "\nNo previous bundle was scored on these val images (no baseline-val.json).\n"
    note = baseline.get("note")
    return f"\nPrevious bundle (`baseline-val.json`): {note}.\n" if note else ""


def model_card(
    config, parameters: int, bundle_mb: float, run: RunFiles, result: dict, manifest: dict
) -> str:
    vision, decoder = config.vision_config, config.vl_decoder
    seed = result["seed"]
    return f"""# padt-tiny-shapes

A small PaDT model (Qwen2.5-VL layout + PaDT decoder) trained on synthetic Shapes images,
shipped as PaDT Studio's embedded default so that a fresh machine does real grounding with
no downloads. It answers the four PaDT Pro prompts (REC, RES, OVD, RIC) on Shapes pictures;
it knows nothing else (see Limits).

## Quality (Shapes test split, PyTorch reference)

{result["images"]} test images of seed {seed}, a seed chosen after training
(`padt.train.ship --seed {seed}`) and never used in training or validation: training drew
train-split images of seed {run.args["seed"]}, validation val-split images of seed {VAL_SEED},
and an image is seeded by (seed, split, index). Up to 2 referring expressions, one OVD query
and one caption request per image; greedy decoding; masks placed `{result["mask_placement"]}`.

{quality_table(result)}

REC broken down by the number of objects in the image and the target's size:

{subsets_table(result)}

Reproduce: `node scripts/python.mjs -m padt.train.evaluate {run.args["out"]}/{run.shipped}
--split test --seed {seed} --count {result["images"]}`; the TypeScript pipeline gives the same
numbers with `padt eval rec|res|ovd|ric` (repository README, "The TypeScript pipeline against
the PyTorch reference").

## Validation curve

`val.jsonl`: every {run.args.get("val_every", 0)} steps, {run.args.get("val_images", 0)} val
images; score = mean over the four tasks of each metric's fraction of its target, capped at 1
(`padt.train.validation`). Shipped: `{run.shipped}/`
{f"(validated at step {run.shipped_step})" if run.shipped_step is not None else "(the latest weights, not validated)"}.

{val_curve(run.val_rows, run.baseline, run.shipped_step)}
{_baseline_note(run.baseline)}
## Training profile

{profile_table(run.profile)}

## Levers tried

Short runs from the same weights and seed, same number of examples (`levers.json`):

{lever_table(run.levers)}

## Architecture

{parameters:,} parameters, fp32 bundle {bundle_mb:.1f} MB.

| part | configuration |
| --- | --- |
| vision | width {vision.hidden_size}, depth {vision.depth}, {vision.num_heads} heads (head_dim {vision.hidden_size // vision.num_heads}), MLP {vision.intermediate_size}, window {vision.window_size} px, full attention in blocks {vision.fullatt_block_indexes}, patch {vision.patch_size}, merge {vision.spatial_merge_size} |
| LLM | width {config.hidden_size}, {config.num_hidden_layers} layers, {config.num_attention_heads} heads, {config.num_key_value_heads} KV heads, MLP {config.intermediate_size}, M-RoPE sections {config.rope_scaling["mrope_section"]}, rope_theta {config.rope_theta:g}, tied embeddings |
| decoder | width {decoder["hidden_size"]}, {decoder["num_heads"]} heads, MLP {decoder["intermediate_size"]} |
| vocabulary | {config.vocab_size} text rows (byte-level BPE on Shapes prompts and answers, Qwen2.5's special tokens and chat template), plus one VRT row per image patch |
| images | long side capped at {manifest["image_processor"]["max_long_side"]} px (manifest); mask placement `{config.padt_mask_placement}` |

## Data

{_data_section()}

## Training

{_training_section(run, seed, result["images"])}

## Limits

{_limits_section(result, manifest)}

## Checks

`tests/fixtures/{SHAPES_FIXTURE}.golden.json` holds what this bundle answers on Shapes test
images through onnxruntime (tied to PyTorch by the exporter's parity tests); the TypeScript
engine must reproduce it (`packages/engine/test/engine-parity.test.ts`).
"""
