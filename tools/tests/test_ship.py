"""Shipping a trained run: bundle, Shapes goldens and a model card made from the run's own
files and a real evaluation (a micro run here; the shipped model is checked by test_golden)."""

import json

import pytest
import torch

from padt.golden import SHAPES_FIXTURE
from padt.shapes.vocab import MAX_OBJECTS, MAX_SIDE, MIN_SIDE, SCALE_MIN, SIZES
from padt.train import profile
from padt.train.card import CARD, train_flags
from padt.train.card_sections import (
    LeverTableError,
    kept_rows,
    lever_table,
    profile_table,
    subsets_table,
    training_segments,
    val_curve,
)
from padt.train.ship import ship
from padt.train.trainer import parse_args, train

MICRO = ["--micro", "--batch", "1", "--threads", "1", "--log-every", "100", "--warmup", "1"]


def _rows(lrs):
    return [{"step": i + 1, "lr": lr} for i, lr in enumerate(lrs)]


def _val(step, rec, score):
    return {
        "step": step,
        "score": score,
        "rec": {"acc@0.5": rec},
        "res": {"cIoU": 0.5},
        "ovd": {"mAP": 0.25},
        "ric": {"grounded_phrase_acc": 0.125},
    }


LEVERS = [
    {"lever": "scene probe", "arm": "off", "from_step": 0, "steps": 500,
     "metrics": {"val REC": 0.25, "box IoU": 0.5}, "note": "baseline arm"},
    {"lever": "scene probe", "arm": "on", "from_step": 0, "steps": 500,
     "metrics": {"val REC": 0.375, "token CE": 0.3125}, "note": ""},
]  # fmt: skip
PROFILE = {
    "batch": 8, "steps": 5, "threads": 2, "init_from": None, "torch": "2.x",
    "parts_ms": {"backward": 750.0, "vision tower": 250.0}, "total_ms": 1000.0,
}  # fmt: skip


def test_a_resume_with_a_longer_schedule_starts_a_new_segment():
    # The resumed step (4) still runs at the restored LR; the jump shows on step 5.
    rows = _rows([1e-3, 5e-4, 5e-5, 5e-5, 7e-4, 6e-4])
    assert training_segments(rows) == [
        {"first": 1, "last": 3, "peak_lr": 1e-3},
        {"first": 4, "last": 6, "peak_lr": 7e-4},
    ]
    assert training_segments(_rows([1e-4, 1e-3, 5e-4])) == [
        {"first": 1, "last": 3, "peak_lr": 1e-3}
    ]


def test_steps_logged_again_after_a_resume_count_once():
    steps = [1, 2, 3, 4, 3, 4, 5, 6, 5, 6, 7]
    kept, resumes = kept_rows([{"step": s, "n": i} for i, s in enumerate(steps)])
    assert [r["step"] for r in kept] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["n"] for r in kept] == [0, 1, 4, 5, 8, 9, 10], "the re-run rows are the kept ones"
    assert resumes == [3, 5]


def test_rec_subsets_with_their_query_counts_and_targets():
    result = {"rec_subsets": {
        "objects>=5": {"queries": 12, "acc@0.5": 0.875},
        "objects<5": {"queries": 30, "acc@0.5": 0.5},
        "<40px": {"queries": 7, "acc@0.5": 0.25},
        ">=40px": {"queries": 35, "acc@0.5": 0.75},
    }}  # fmt: skip
    table = subsets_table(result)
    assert "| 5 or more objects in the image | 0.8750 | 12 | 0.85 (met) |" in table
    assert "| fewer than 5 objects | 0.5000 | 30 | - |" in table
    assert "| target under 40 px (longer side of its box) | 0.2500 | 7 | 0.85 (missed) |" in table
    assert "| target of 40 px or more | 0.7500 | 35 | - |" in table
    assert "not in this evaluation result" in subsets_table({})


def test_val_curve_has_the_baseline_each_step_once_and_the_shipped_one():
    rows = [_val(500, 0.25, 0.2), _val(1000, 0.125, 0.1), _val(1000, 0.5, 0.3)]
    table = val_curve(rows, {"score": 0.15, "note": "v1"}, shipped_step=1000).splitlines()
    assert table[0] == "| step | score | REC Acc@0.5 | RES cIoU | OVD mAP | RIC phrases |"
    assert table[2:] == [
        "| previous bundle | 0.1500 | - | - | - | - |",
        "| 500 | 0.2000 | 0.2500 | 0.5000 | 0.2500 | 0.1250 |",
        "| 1000 (shipped) | 0.3000 | 0.5000 | 0.5000 | 0.2500 | 0.1250 |",
    ]
    assert "Not validated" in val_curve([], None, None)


def test_lever_table_has_one_row_per_arm_and_the_union_of_metrics():
    lines = lever_table(LEVERS).splitlines()
    assert lines[0] == "| lever | arm | from step | steps | val REC | box IoU | token CE | note |"
    assert lines[2] == "| scene probe | off | 0 | 500 | 0.2500 | 0.5000 | - | baseline arm |"
    assert lines[3] == "| scene probe | on | 0 | 500 | 0.3750 | - | 0.3125 |  |"
    assert "no levers.json" in lever_table(None)


@pytest.mark.parametrize(
    "levers, field",
    [
        ({"lever": "x"}, "list"),
        ([{**LEVERS[0], "steps": "500"}], "steps"),
        ([{**LEVERS[0], "metrics": {"val REC": "high"}}], "metrics.val REC"),
        ([{k: v for k, v in LEVERS[0].items() if k != "arm"}], "arm"),
    ],
)
def test_a_malformed_lever_table_is_refused(levers, field):
    with pytest.raises(LeverTableError, match=field):
        lever_table(levers)


def test_a_malformed_levers_json_fails_before_anything_is_written(tmp_path):
    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    torch.save({"args": {}}, run / "state.pt")
    (run / "levers.json").write_text(json.dumps([{"lever": "x"}]))
    out = tmp_path / "out"
    with pytest.raises(LeverTableError, match="arm"):
        ship(run, out, tmp_path, count=1)
    assert not out.exists()


def test_profile_table_present_and_absent():
    table = profile_table(PROFILE)
    assert "batch 8, 5 steps, 2 threads" in table
    assert (
        "| backward | 750 | 75% |\n| vision tower | 250 | 25% |\n| total | 1000 | 100% |" in table
    )
    assert "Not measured for this run" in profile_table(None)


def test_the_profiler_writes_the_table_the_card_reads(tmp_path, capsys):
    path = tmp_path / "profile.json"
    assert (
        profile.main(["--batch", "1", "--steps", "1", "--threads", "1", "--json", str(path)]) == 0
    )
    record = json.loads(path.read_text())
    assert {"data generation", "vision tower", "LLM", "backward", "optimizer"} <= set(
        record["parts_ms"]
    )
    assert record["total_ms"] == pytest.approx(sum(record["parts_ms"].values()), abs=1)
    assert "| total |" in profile_table(record)
    assert f"| total | {record['total_ms']:.0f} | 100% |" in capsys.readouterr().out


def test_train_flags_are_the_runs_own_non_default_ones():
    args = vars(parse_args(["--out", "../x", "--steps", "9", "--lr", "6e-4", "--resume",
                            "--init-from", "../m", "--task-weights", "0.5", "0.25", "0.25"]))  # fmt: skip
    assert train_flags(args) == "--init-from ../m --lr 0.0006 --task-weights 0.5 0.25 0.25"


def test_ship_writes_the_bundle_goldens_and_card(tmp_path):
    run = tmp_path / "run"
    train(parse_args(["--out", str(run), "--steps", "2", "--ckpt-every", "2"] + MICRO))
    (run / "val.jsonl").write_text(json.dumps(_val(2, 0.25, 0.125)) + "\n")
    (run / "baseline-val.json").write_text(json.dumps({"score": 0.0625, "note": "old bundle"}))
    (run / "levers.json").write_text(json.dumps(LEVERS))
    # As in a run resumed from a bundle exported before `multi_turn` existed.
    config = run / "model" / "config.json"
    older = json.loads(config.read_text())
    del older["padt_capabilities"]["multi_turn"]
    config.write_text(json.dumps(older))
    out, fixtures = tmp_path / "models" / "shipped", tmp_path / "fixtures"
    fixtures.mkdir()
    result = ship(run, out, fixtures, count=1, seed=5)
    manifest = json.loads((out / "padt.json").read_text())
    assert manifest["model"]["name"] == "shipped"
    assert manifest["capabilities"] == {
        "tasks": ["rec", "res", "ovd", "ric"],
        "free_chat": False,
        "multi_turn": False,
    }
    assert (out / "weights.bin").is_file()
    golden = json.loads((fixtures / f"{SHAPES_FIXTURE}.golden.json").read_text())
    assert [c["task"] for c in golden["cases"]] == ["REC", "OVD", "RIC"]
    for case in golden["cases"]:
        assert (fixtures / f"{SHAPES_FIXTURE}.images" / f"{case['name']}_0.png").is_file()
    card = (out / CARD).read_text()
    assert f"| REC Acc@0.5 | {result['rec']['acc@0.5']:.4f} | 0.90 (" in card
    assert f"| RES cumulative IoU | {result['res']['cIoU']:.4f} |" in card
    assert "1 test images of seed 5, a seed chosen after training" in card
    assert "| REC subset | Acc@0.5 | queries | target |" in card
    assert "| previous bundle | 0.0625 |" in card and "| 2 | 0.1250 | 0.2500 |" in card
    assert "Shipped: `model/`" in card, "a micro run has no best/"
    assert "| scene probe | on | 0 | 500 | 0.3750 | - | 0.3125 |  |" in card
    assert "Not measured for this run" in card, "no profile.json in this run"
    assert f"drawn independently in {MIN_SIDE}-{MAX_SIDE} px" in card
    assert f"1-{MAX_OBJECTS} objects" in card
    assert f"about {SCALE_MIN * SIZES['small'][0]:.0f} px" in card
    assert "2 of 2 planned steps in" in card
    assert f"padt.train --out {run} --steps 2 " in card and "--micro" not in card
    assert "--seed 5 --count 1 --out" in card
    assert "Free chat is out of scope" in card and "above 448 px" in card
    assert "declares `multi_turn: false`" in card
    assert "weakest" in card
    assert "| 1-2 | " in card, "the loss curve"
    assert "{" not in card.split("```")[0], "every placeholder is filled"
    (run / "profile.json").write_text(json.dumps(PROFILE))
    ship(run, out, fixtures, eval_json=_write(tmp_path / "eval.json", result))
    assert "| backward | 750 | 75% |" in (out / CARD).read_text()


def _write(path, data):
    path.write_text(json.dumps(data))
    return path
