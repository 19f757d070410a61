"""A micro training run: the loss falls, and --resume reproduces an uninterrupted run."""

import json

from padt.checkpoint import load_padt
from padt.train.trainer import parse_args, train

MICRO = ["--micro", "--batch", "1", "--threads", "1", "--log-every", "100"]


def _log(out):
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_three_steps_on_one_batch_decrease_the_loss(tmp_path):
    out = tmp_path / "fixed"
    args = ["--out", str(out), "--steps", "3", "--fixed-batch", "--lr", "3e-3", "--warmup", "1"]
    train(parse_args(args + MICRO + ["--ckpt-every", "3"]))
    # The model's own losses (the auxiliary position probe's heads start untrained).
    losses = [sum(row[k] for k in ("ce", "box", "score", "mask")) for row in _log(out)]
    assert len(losses) == 3
    assert losses[2] < losses[0]
    model, tokenizer, _ = load_padt(out / "model")  # public layout, loadable
    assert model.config.padt_pre_resize_long_side is None
    assert model.config.padt_mask_placement == "spatial"


def test_resume_reproduces_the_uninterrupted_step_4(tmp_path):
    base = ["--steps", "4", "--warmup", "2", "--ckpt-every", "3"] + MICRO
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(parse_args(["--out", str(whole)] + base))
    train(parse_args(["--out", str(split), "--stop-after", "3"] + base))
    assert len(_log(split)) == 3
    train(parse_args(["--out", str(split), "--resume"] + base))
    a, b = _log(whole), _log(split)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    for key in ("loss", "ce", "box", "score", "mask", "position", "lr"):
        assert b[3][key] == a[3][key], key


def test_every_parameter_gets_a_gradient():
    from padt.processing import make_processor
    from padt.train.data import make_batch
    from padt.train.shapes_model import MICRO_SIZES, build_shapes_model, build_shapes_tokenizer
    from padt.train.step import compute_losses

    tok = build_shapes_tokenizer(images=20)
    model = build_shapes_model(tok, sizes=MICRO_SIZES).train()
    items = make_batch(1, 2, 0, tok, make_processor(tok).image_processor, model.text_vocab_rows)
    for warmup in (True, False):
        model.zero_grad()
        compute_losses(model, items, tok.pad_token_id, warmup).total.backward()
        missing = [n for n, p in model.named_parameters() if p.grad is None]
        assert not missing, missing
