"""The committed fixture (repo tests/fixtures/padt-tiny-random + .golden.json) is current:
the export is deterministic for save_tiny_checkpoint(seed=0), and the goldens
regenerate from the committed bundle. Regenerate both with
``cd tools && .venv/bin/python -m padt.golden --make-fixture ../tests/fixtures``."""

import json
import math
from pathlib import Path

import pytest

from padt.export import export_bundle
from padt.golden import FIXTURE_NAME, make_goldens
from padt.tiny import save_tiny_checkpoint

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
BUNDLE = FIXTURES / FIXTURE_NAME
GOLDEN = FIXTURES / f"{FIXTURE_NAME}.golden.json"
REGENERATE = "regenerate with: .venv/bin/python -m padt.golden --make-fixture ../tests/fixtures"


def test_fixture_size():
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total < 3 * 1024 * 1024


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
    assert len(cases[-1]["images"]) == 2
