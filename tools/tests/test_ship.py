"""Shipping a trained run: bundle, Shapes goldens and a model card made from the run's own
log and a real evaluation (a micro run here; the shipped model is checked by test_golden)."""

import json

from padt.golden import SHAPES_FIXTURE
from padt.train.ship import CARD, ship, training_segments
from padt.train.trainer import parse_args, train

MICRO = ["--micro", "--batch", "1", "--threads", "1", "--log-every", "100", "--warmup", "1"]


def _rows(lrs):
    return [{"step": i + 1, "lr": lr} for i, lr in enumerate(lrs)]


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


def test_ship_writes_the_bundle_goldens_and_card(tmp_path):
    run = tmp_path / "run"
    train(parse_args(["--out", str(run), "--steps", "2", "--ckpt-every", "2"] + MICRO))
    out, fixtures = tmp_path / "models" / "shipped", tmp_path / "fixtures"
    fixtures.mkdir()
    result = ship(run, out, fixtures, count=1)
    assert json.loads((out / "padt.json").read_text())["model"]["name"] == "shipped"
    assert (out / "weights.bin").is_file()
    golden = json.loads((fixtures / f"{SHAPES_FIXTURE}.golden.json").read_text())
    assert [c["task"] for c in golden["cases"]] == ["REC", "OVD", "RIC"]
    for case in golden["cases"]:
        assert (fixtures / f"{SHAPES_FIXTURE}.images" / f"{case['name']}_0.png").is_file()
    card = (out / CARD).read_text()
    assert f"| REC Acc@0.5 | {result['rec']['acc@0.5']:.4f} | 0.90 (" in card
    assert f"| RES cumulative IoU | {result['res']['cIoU']:.4f} |" in card
    assert "2 steps in" in card and "--steps 2 --threads 2" in card
    assert "| 1-2 | " in card, "the loss curve"
    assert "{" not in card.split("```")[0], "every placeholder is filled"
