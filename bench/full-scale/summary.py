"""The rehearsal's table from its results file (bench/full-scale/run.sh writes it).

tools/.venv/bin/python bench/full-scale/summary.py .data/full-scale/results-L36.jsonl
"""

import json
import sys
from collections import defaultdict

GB = 1e9


def main(paths: list[str]) -> None:
    rows = [json.loads(line) for p in paths for line in open(p) if line.strip()]
    by_form: dict[str, dict] = defaultdict(dict)
    for r in rows:
        if r["phase"] == "checkpoint":
            print(
                f"checkpoint: {r['seconds']:.0f} s, peak RSS {r['peak_rss_bytes'] / GB:.1f} GB"
            )
        else:
            by_form[r["form"]][r["phase"]] = r
    steps = next(
        (
            f["steps"]
            for f in by_form.values()
            if "bandwidth_gb_s" in f.get("steps", {})
        ),
        None,
    )
    if steps:
        print(
            f"streaming bandwidth {steps['bandwidth_gb_s']:.1f} GB/s, {steps['threads']} threads"
        )
    head = (
        "form",
        "export s",
        "export RSS GB",
        "weights GB",
        "ready s",
        "peak RSS GB",
        "RSS/weights",
        "REC prompt",
        "prefill s",
        "REC step s",
        "step@434 s",
        "x floor",
        "step@4000 s",
        "x floor",
        "step() @434 / @4000 s",
    )
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for form, f in by_form.items():
        ex, en, st = f.get("export"), f.get("engine"), f.get("steps")
        en = None if en and en.get("failed") else en
        if f.get("engine", {}).get("failed"):
            form += " (engine failed: OOM?)"
        weights = ex["sizes"]["bundle_weight_bytes"] if ex else float("nan")
        cells = [form]
        cells += (
            [f"{ex['seconds']:.0f}", f"{ex['peak_rss_bytes'] / GB:.1f}"]
            if ex
            else ["-", "-"]
        )
        cells.append(f"{weights / GB:.2f}")
        if en:
            rec = en["rec"]
            cells += [
                f"{en['ready_s']:.1f}",
                f"{en['peak_rss_bytes'] / GB:.1f}",
                f"{en['peak_rss_bytes'] / weights:.2f}",
                str(rec["prompt_tokens"]),
                f"{rec['prefill_ms'] / 1000:.1f}",
                f"{rec['step_s']:.3f}",
            ]
        else:
            cells += ["-"] * 6
        at = {x["T"]: x for x in (st or {}).get("steps", [])}
        for T in (434, 4000):
            cells += (
                [f"{at[T]['step_s']:.3f}", f"{at[T]['x_floor']:.2f}"]
                if T in at
                else ["-", "-"]
            )
        # Results written before the decode path was timed have no present_step_s.
        present = [
            f"{at[T]['present_step_s']:.3f}"
            for T in (434, 4000)
            if "present_step_s" in at.get(T, {})
        ]
        cells.append(" / ".join(present) or "-")
        print(" | ".join(cells))


if __name__ == "__main__":
    main(sys.argv[1:])
