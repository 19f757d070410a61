"""Ship a trained Shapes checkpoint as the platform's embedded default model.

    python -m padt.train.ship RUN_DIR --out ../models/padt-tiny-shapes \
        --fixtures ../tests/fixtures [--eval EVAL_JSON | --count N]

RUN_DIR is a `python -m padt.train` output directory (model/, state.pt, log.jsonl). Writes:
- OUT/: the fp32 bundle (padt.export), refused above the size budget;
- FIXTURES/padt-tiny-shapes.golden.json and .images/: goldens the TypeScript engine must
  reproduce on Shapes test images (padt.golden);
- OUT/MODEL_CARD.md (padt.train.card): quality on the Shapes test split measured with the
  PyTorch reference (`padt.train.evaluate`, run here unless --eval gives its JSON) with its
  subsets, the validation curve, profile, lever table, data, training history and commands
  read from the run's files, and the limits.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..export import export_bundle
from ..golden import write_shapes_fixture
from .card import CARD, model_card, read_run
from .evaluate import evaluate
from .shapes_model import SHAPES_CAPABILITIES

MAX_BUNDLE_BYTES = 30 * 1024 * 1024


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
    from ..checkpoint import load_padt

    default = "best" if (run_dir / "best").is_dir() else "model"
    checkpoint = run_dir / (checkpoint_name or default)
    run = read_run(run_dir, checkpoint)  # a malformed run file fails before anything is written
    result = (
        json.loads(eval_json.read_text())
        if eval_json
        else evaluate(checkpoint, count=count, seed=seed)
    )
    # The trainer's record of what Shapes data teaches, not the checkpoint's: a run resumed from
    # an older bundle carries that bundle's capabilities in its config.
    exported = export_bundle(
        checkpoint,
        out,
        dtype="fp32",
        force=True,
        model_name=out.name,
        capabilities=SHAPES_CAPABILITIES,
    )
    size = sum(f["bytes"] for f in exported.files)
    if size > MAX_BUNDLE_BYTES:
        raise SystemExit(
            f"{out} is {size / 2**20:.1f} MB, over the {MAX_BUNDLE_BYTES >> 20} MB budget"
        )
    write_shapes_fixture(out, fixtures)
    model, _, _ = load_padt(checkpoint)
    manifest = json.loads((out / "padt.json").read_text())
    parameters = sum(p.numel() for p in model.parameters())
    card = model_card(model.config, parameters, size / 2**20, run, result, manifest)
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
