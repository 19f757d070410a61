"""Training-only signals: the dense scene probe's per-cell targets and losses, starting from a
bundle's weights, and keeping the best validated checkpoint."""

import json

import numpy as np
import torch

from padt.checkpoint import load_padt
from padt.export import export_bundle
from padt.processing import make_processor
from padt.shapes import generate_sample
from padt.shapes.vocab import COLOUR_NAMES, SHAPES, SIZE_NAMES
from padt.train.data import IGNORE, area_fraction, cell_labels, make_batch
from padt.train.shapes_model import MICRO_SIZES, build_shapes_model, build_shapes_tokenizer
from padt.train.step import SceneProbe, compute_losses
from padt.train.trainer import parse_args, train
from padt.train.validation import keep_if_best, score

MICRO = ["--micro", "--batch", "1", "--threads", "1", "--log-every", "100", "--val-every", "0"]


def test_cell_labels_follow_the_masks():
    sample = generate_sample("train", 3)
    h, w = 8, 10
    cells = cell_labels(sample, h, w)
    frac = np.stack([area_fraction(m, h, w).reshape(-1) for m in sample.masks])
    for c in range(h * w):
        k = int(cells.instance[c])
        if k == IGNORE:
            assert int(cells.colour[c]) == IGNORE
            continue
        assert k == int(frac[:, c].argmax()) and frac[k, c] >= 0.3
        a = sample.annotations[k]
        assert int(cells.shape[c]) == SHAPES.index(a["category"])
        assert int(cells.colour[c]) == COLOUR_NAMES.index(a["colour"])
        want = SIZE_NAMES.index(a["size"]) if a["size"] else IGNORE
        assert int(cells.size[c]) == want
    background = cells.shape == len(SHAPES)
    assert bool(background.any()) and bool((frac.sum(0)[background.numpy()] < 0.05).all())


def test_scene_probe_teaches_the_vision_tower():
    tok = build_shapes_tokenizer(images=20)
    model = build_shapes_model(tok, sizes=MICRO_SIZES).train()
    items = make_batch(2, 2, 0, tok, make_processor(tok).image_processor, model.text_vocab_rows)
    probe = SceneProbe(model.config.hidden_size, len(SHAPES), len(COLOUR_NAMES), len(SIZE_NAMES))
    with_probe = compute_losses(model, items, tok.pad_token_id, False, None, probe)
    assert float(with_probe.scene) > 0
    model.zero_grad()
    with_probe.scene.backward()
    tower = [p.grad for p in model.visual.parameters()]
    assert all(g is not None for g in tower) and any(float(g.abs().sum()) > 0 for g in tower)
    assert all(p.grad is not None for p in probe.parameters())
    without = compute_losses(model, items, tok.pad_token_id, False)
    assert float(without.scene) == 0.0


def test_init_from_a_bundle_starts_from_its_weights(tmp_path):
    first = tmp_path / "first"
    train(parse_args(["--out", str(first), "--steps", "1"] + MICRO))
    bundle = tmp_path / "bundle"
    export_bundle(first / "model", bundle)
    second = tmp_path / "second"
    args = ["--out", str(second), "--steps", "3", "--stop-after", "1", "--resume"]
    train(parse_args(args + ["--init-from", str(bundle)] + MICRO))
    exported, _, _ = load_padt(first / "model")
    imported, _, _ = load_padt(second / "init")
    for key, value in exported.state_dict().items():
        assert torch.equal(value, imported.state_dict()[key]), key
    assert (second / "state.pt").is_file()
    # A second --resume continues the run's own state, not the bundle.
    train(parse_args(args[:4] + ["--steps", "3", "--resume", "--init-from", str(bundle)] + MICRO))
    steps = [json.loads(x)["step"] for x in (second / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]


def _result(rec, cic, ap, ric):
    return {
        "rec": {"acc@0.5": rec},
        "res": {"cIoU": cic},
        "ovd": {"mAP": ap},
        "ric": {"grounded_phrase_acc": ric},
    }


def test_score_caps_each_task_at_its_target():
    assert score(_result(0.9, 0.75, 0.5, 0.8)) == 1.0
    assert score(_result(1.0, 0.0, 0.0, 0.0)) == 0.25
    assert abs(score(_result(0.45, 0.0, 0.0, 0.0)) - 0.125) < 1e-9


def test_keep_if_best_copies_only_improvements(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w").write_text("a")
    assert keep_if_best(tmp_path, {"score": 0.3}) == 0.3
    (tmp_path / "model" / "w").write_text("b")
    assert keep_if_best(tmp_path, {"score": 0.2}) == 0.3
    assert (tmp_path / "best" / "w").read_text() == "a"
    assert keep_if_best(tmp_path, {"score": 0.4}) == 0.4
    assert (tmp_path / "best" / "w").read_text() == "b"
    assert json.loads((tmp_path / "best" / "val.json").read_text())["score"] == 0.4
