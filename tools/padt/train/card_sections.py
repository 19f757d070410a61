"""The model card's tables, each rendered from a run's own files or an evaluation result:
quality and its subsets, the validation curve, the step profile, the lever table, the loss
curve and the LR history. padt.train.card puts them together."""

from __future__ import annotations

from .evaluate import MANY_OBJECTS, SMALL_PX, SUBSETS
from .validation import TARGETS as VAL_TARGETS

# The test split's targets are validation's; the hard subsets have their own.
SUBSET_TARGETS = {f"objects>={MANY_OBJECTS}": 0.85, f"<{SMALL_PX}px": 0.85}
SUBSET_NAMES = {
    f"objects>={MANY_OBJECTS}": f"{MANY_OBJECTS} or more objects in the image",
    f"objects<{MANY_OBJECTS}": f"fewer than {MANY_OBJECTS} objects",
    f"<{SMALL_PX}px": f"target under {SMALL_PX} px (longer side of its box)",
    f">={SMALL_PX}px": f"target of {SMALL_PX} px or more",
}
TASK_NAMES = {"rec": "REC Acc@0.5", "res": "RES cIoU", "ovd": "OVD mAP", "ric": "RIC phrases"}
LEVER_FIELDS = {"lever": str, "arm": str, "from_step": int, "steps": int, "metrics": dict}


class LeverTableError(ValueError):
    """levers.json does not follow the schema in padt/train/README.md."""


def verdict(value: float, target: float) -> str:
    return f"{target:.2f} ({'met' if value >= target else 'missed'})"


def quality_table(result: dict) -> str:
    rec, res, ovd, ric = result["rec"], result["res"], result["ovd"], result["ric"]
    rows = [
        ("REC Acc@0.5", rec["acc@0.5"], VAL_TARGETS["rec", "acc@0.5"], f"{rec['queries']} queries"),
        ("RES mean IoU", res["mIoU"], None, f"{res['queries']} queries"),
        ("RES cumulative IoU", res["cIoU"], VAL_TARGETS["res", "cIoU"], "same answers as REC"),
        ("OVD box mAP", ovd["mAP"], VAL_TARGETS["ovd", "mAP"], f"{ovd['images']} images"),
        ("OVD box AP50", ovd["AP50"], None, f"{ovd['detections']} detections"),
        ("RIC grounded-phrase acc", ric["grounded_phrase_acc"], VAL_TARGETS["ric", "grounded_phrase_acc"], f"{ric['phrases']} phrases"),
        ("RIC object recall", ric["grounded_object_recall"], None, "objects found by a caption"),
    ]  # fmt: skip
    return "\n".join(
        ["| metric | value | target | |", "| --- | --- | --- | --- |"]
        + [
            f"| {name} | {value:.4f} | "
            + (verdict(value, target) if target is not None else "-")
            + f" | {note} |"
            for name, value, target, note in rows
        ]
    )


def subsets_table(result: dict) -> str:
    """REC by the image's object count and the target's size; evaluations made before
    evaluate.py had subsets say so instead."""
    subsets = result.get("rec_subsets")
    if not subsets:
        return "REC by subset: not in this evaluation result (re-run padt.train.evaluate)."
    lines = ["| REC subset | Acc@0.5 | queries | target |", "| --- | --- | --- | --- |"]
    for tag in (t for t in SUBSETS if t in subsets):
        acc, target = subsets[tag]["acc@0.5"], SUBSET_TARGETS.get(tag)
        lines.append(
            f"| {SUBSET_NAMES[tag]} | {acc:.4f} | {subsets[tag]['queries']} | "
            + (verdict(acc, target) if target is not None else "-")
            + " |"
        )
    return "\n".join(lines)


def weakest_task(result: dict) -> tuple[str, float, float]:
    """The task furthest below its target (value / target), as (name, value, target)."""
    (task, metric), target = min(
        VAL_TARGETS.items(), key=lambda kv: result[kv[0][0]][kv[0][1]] / kv[1]
    )
    return TASK_NAMES[task], result[task][metric], target


def _val_cells(row: dict) -> list[str]:
    cells = [f"{row['score']:.4f}"]
    for task, metric in VAL_TARGETS:
        cells.append(f"{row[task][metric]:.4f}" if task in row else "-")
    return cells


def val_curve(val_rows: list[dict], baseline: dict | None, shipped_step: int | None) -> str:
    """val.jsonl as a table (one row per validated step, the last one when a resume
    validated a step again), the previous bundle's score on the same images first."""
    if not val_rows and baseline is None:
        return "Not validated during training (no val.jsonl in the run)."
    by_step = {r["step"]: r for r in val_rows}
    head = ["| step | score | " + " | ".join(TASK_NAMES.values()) + " |"]
    lines = head + ["| --- " * (2 + len(TASK_NAMES)) + "|"]
    if baseline is not None:
        lines.append("| previous bundle | " + " | ".join(_val_cells(baseline)) + " |")
    for step in sorted(by_step):
        mark = " (shipped)" if step == shipped_step else ""
        lines.append(f"| {step}{mark} | " + " | ".join(_val_cells(by_step[step])) + " |")
    return "\n".join(lines)


def profile_table(profile: dict | None) -> str:
    if profile is None:
        return (
            "Not measured for this run (no profile.json in the run directory; "
            "`python -m padt.train.profile --json RUN_DIR/profile.json` writes one)."
        )
    parts, total = profile["parts_ms"], profile["total_ms"]
    lines = [
        f"`python -m padt.train.profile`, batch {profile['batch']}, {profile['steps']} steps, "
        f"{profile['threads']} threads, torch {profile['torch']}:",
        "",
        "| part | ms/step | share |",
        "| --- | --- | --- |",
    ]
    for name, ms in sorted(parts.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {ms:.0f} | {ms / total:.0%} |")
    lines.append(f"| total | {total:.0f} | 100% |")
    return "\n".join(lines)


def check_levers(levers: object) -> list[dict]:
    if not isinstance(levers, list):
        raise LeverTableError("levers.json must hold a list of arms")
    for i, arm in enumerate(levers):
        if not isinstance(arm, dict):
            raise LeverTableError(f"levers.json[{i}] must be an object")
        for key, kind in LEVER_FIELDS.items():
            if not isinstance(arm.get(key), kind) or isinstance(arm.get(key), bool):
                raise LeverTableError(f"levers.json[{i}].{key} must be a {kind.__name__}")
        for name, value in arm["metrics"].items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise LeverTableError(f"levers.json[{i}].metrics.{name} must be a number")
        if not isinstance(arm.get("note", ""), str):
            raise LeverTableError(f"levers.json[{i}].note must be a string")
    return levers


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def lever_table(levers: list[dict] | None) -> str:
    """One row per arm; the metric columns are the union of the arms' metric names, in the
    order they first appear."""
    if levers is None:
        return "No lever runs recorded for this model (no levers.json in the run directory)."
    names = list(dict.fromkeys(name for arm in check_levers(levers) for name in arm["metrics"]))
    lines = [
        "| lever | arm | from step | steps | " + "".join(f"{n} | " for n in names) + "note |",
        "| --- " * (5 + len(names)) + "|",
    ]
    for arm in levers:
        cells = [_number(arm["metrics"][n]) if n in arm["metrics"] else "-" for n in names]
        lines.append(
            f"| {arm['lever']} | {arm['arm']} | {arm['from_step']} | {arm['steps']} | "
            + "".join(f"{c} | " for c in cells)
            + f"{arm.get('note', '')} |"
        )
    return "\n".join(lines)


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


def kept_rows(log_rows: list[dict]) -> tuple[list[dict], list[int]]:
    """The log rows of the steps that made the checkpoint, and the steps the run resumed at.
    A resume restarts from the last state.pt, so the steps logged after it and before the
    stop are logged again; the second logging is the one the weights come from."""
    kept: list[dict] = []
    resumes: list[int] = []
    for row in log_rows:
        if kept and row["step"] <= kept[-1]["step"]:
            resumes.append(row["step"])
            while kept and kept[-1]["step"] >= row["step"]:
                kept.pop()
        kept.append(row)
    return kept, resumes


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
