"""The committed fixtures are current: the export is deterministic for
save_tiny_checkpoint(seed=0) (tests/fixtures/padt-tiny-random), and the goldens regenerate
from the committed bundles, the random one and the shipped Shapes model (models/). Regenerate
with ``cd tools && .venv/bin/python -m padt.golden --make-fixture ../tests/fixtures`` and
``.venv/bin/python -m padt.golden ../models/padt-tiny-shapes --shapes-fixture ../tests/fixtures``
(``padt.train.ship`` does the latter when it ships a model)."""

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from padt.export import export_bundle
from padt.golden import (
    FIXTURE_NAME,
    SHAPES_FIXTURE,
    SHAPES_MAX_NEW_TOKENS,
    committed_cases,
    load_processor,
    make_goldens,
)
from padt.processing import build_inputs
from padt.tiny import save_tiny_checkpoint

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SHIPPED = ROOT / "models" / SHAPES_FIXTURE
SHIPPED_GOLDEN = FIXTURES / f"{SHAPES_FIXTURE}.golden.json"
BUNDLE = FIXTURES / FIXTURE_NAME
GOLDEN = FIXTURES / f"{FIXTURE_NAME}.golden.json"
REGENERATE = "regenerate with: .venv/bin/python -m padt.golden --make-fixture ../tests/fixtures"


def test_fixture_size():
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total < 4 * 1024 * 1024


def test_fixture_bundle_is_current(tmp_path):
    checkpoint = save_tiny_checkpoint(tmp_path / FIXTURE_NAME, seed=0)
    fresh = tmp_path / "bundle"
    export_bundle(checkpoint, fresh, dtype="fp32")
    committed = json.loads((BUNDLE / "padt.json").read_text())
    assert json.loads((fresh / "padt.json").read_text()) == committed, REGENERATE


def _close(a, b, path="") -> None:
    """Ints, strings and digests exactly; floats within 1e-4 (relative for large sums),
    since ONNX Runtime's float results may differ in the last bits across CPUs."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            if k == "sha256" and "pixel_values" not in path:
                continue  # digests of runtime outputs: compared through their values
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-4), f"{path}: {a} != {b}"
    else:
        assert a == b, path


@pytest.mark.skipif(not GOLDEN.is_file(), reason="fixture not generated")
def test_goldens_are_current():
    committed = json.loads(GOLDEN.read_text())
    _close(make_goldens(BUNDLE), committed)
    cases = committed["cases"]
    assert any(case["objects"] for case in cases), "goldens should exercise the object path"
    assert any(len(case["images"]) == 2 for case in cases)


@pytest.mark.skipif(not GOLDEN.is_file(), reason="fixture not generated")
def test_goldens_hold_the_fidelity_edges():
    """Issue 16's cases: a transparent PNG (composited on white: its pixels differ from the
    alpha-dropping conversion), a repetition penalty that changes the greedy ids of the same
    image and prompt, and an answer that starts with a VRT under both first-VRT rules."""
    cases = {c["name"]: c for c in json.loads(GOLDEN.read_text())["cases"]}
    image = Image.open(FIXTURES / f"{FIXTURE_NAME}.images" / "rec_rgba_240x180_0.png")
    assert image.mode == "RGBA" and np.asarray(image)[..., 3].min() == 0
    _, processor = load_processor(BUNDLE)
    dropped = build_inputs(
        processor, processor.tokenizer, [image.convert("RGB")], _turn(cases["rec_rgba_240x180"])
    )
    assert cases["rec_rgba_240x180"]["pixel_values"]["sha256"] != _digest(dropped.pixel_values)

    penalty = cases["ovd_repetition_penalty"]
    assert penalty["generation"] == {"repetition_penalty": 1.05}
    assert penalty["input_ids"] == cases["ovd_448x336"]["input_ids"]
    assert penalty["generated_ids"] != cases["ovd_448x336"]["generated_ids"]

    ours, theirs = cases["rec_first_vrt_last_row"], cases["rec_first_vrt_all_rows"]
    assert theirs["first_vrt_features"] == "all_prompt_rows" and "first_vrt_features" not in ours
    assert ours["generated_ids"] == theirs["generated_ids"]
    assert (
        ours["generated_ids"][0]
        >= json.loads((BUNDLE / "padt.json").read_text())["llm"]["vocab_rows"]
    )
    k = len(ours["objects"][0]["steps"])
    assert ours["objects"][0]["features"]["shape"][0] == k
    assert theirs["objects"][0]["features"]["shape"][0] == k - 1 + len(theirs["input_ids"])
    assert ours["objects"][0]["box_xywh"] != theirs["objects"][0]["box_xywh"]


def _turn(case) -> list[dict]:
    content = [{"type": "image"} for _ in case["images"]] + [
        {"type": "text", "text": case["prompt"]}
    ]
    return [{"role": "user", "content": content}]


def _digest(pixels) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels.numpy(), np.float32).tobytes()).hexdigest()


@pytest.mark.skipif(not SHIPPED_GOLDEN.is_file(), reason="no Shapes model shipped")
def test_shipped_goldens_are_current():
    committed = json.loads(SHIPPED_GOLDEN.read_text())
    cases = committed_cases(committed, FIXTURES / f"{SHAPES_FIXTURE}.images")
    _close(make_goldens(SHIPPED, cases, SHAPES_MAX_NEW_TOKENS), committed)
    by_task = {case["task"]: case for case in committed["cases"]}
    assert by_task.keys() == {"REC", "OVD", "RIC"}
    assert all(case["objects"] for case in by_task.values()), "a trained model answers with objects"
