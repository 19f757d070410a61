"""Validation during training: one score per checkpoint, and the best checkpoint kept.

The score is the mean over the four tasks of each metric's fraction of its target, capped at
1 (REC Acc@0.5 / 0.90, RES cIoU / 0.75, OVD mAP / 0.50, RIC grounded phrases / 0.80), so no
task can buy back another's shortfall beyond its own target.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

TARGETS = {
    ("rec", "acc@0.5"): 0.90,
    ("res", "cIoU"): 0.75,
    ("ovd", "mAP"): 0.50,
    ("ric", "grounded_phrase_acc"): 0.80,
}
BEST = "best"


def score(result: dict) -> float:
    return sum(min(1.0, result[t][m] / target) for (t, m), target in TARGETS.items()) / len(TARGETS)


def val_metrics(checkpoint: Path, images: int) -> dict:
    from .evaluate import evaluate

    full = evaluate(checkpoint, split="val", count=images, referring_per_image=2)
    result = {task: full[task] for task, _ in TARGETS}
    result["images"] = images
    result["score"] = score(full)
    return result


def keep_if_best(out: Path, result: dict) -> float:
    """Copies out/model to out/best when `result` beats out/best's recorded score; returns
    the best score after this one."""
    best_dir, record = out / BEST, out / BEST / "val.json"
    best = json.loads(record.read_text())["score"] if record.is_file() else float("-inf")
    if result["score"] <= best:
        return best
    tmp = out / f"{BEST}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(out / "model", tmp)
    (tmp / "val.json").write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(best_dir, ignore_errors=True)
    tmp.rename(best_dir)
    return result["score"]
