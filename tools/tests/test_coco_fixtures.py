"""The COCO fixtures the TypeScript tests compare against, recomputed with pycocotools 2.0.8.

tools/scripts/make_coco_fixtures.py wrote them; here the numbers are recomputed from the
committed inputs (so a hand-edited number fails) and the inputs from the seed (so the
script and the committed files cannot drift apart).
"""

import base64
import importlib.util
import json
import zlib
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

ROOT = Path(__file__).resolve().parents[2]
EVAL_FIXTURES = ROOT / "packages/eval/test/fixtures"
RLE_FIXTURE = ROOT / "packages/mask/test/fixtures/rle.json"


@pytest.fixture(scope="module")
def script():
    path = ROOT / "tools/scripts/make_coco_fixtures.py"
    spec = importlib.util.spec_from_file_location("make_coco_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(path: Path):
    return json.loads(path.read_text())


def test_coco_stats_recomputed_from_the_committed_files(script):
    gt = load(EVAL_FIXTURES / "coco_gt.json")
    dt = load(EVAL_FIXTURES / "coco_dt.json")
    recorded = load(EVAL_FIXTURES / "coco_stats.json")
    assert recorded["pycocotools"] == "2.0.8"
    assert script.coco_stats(gt, dt) == recorded["modes"]


def test_rle_fixture_recomputed_from_the_committed_masks():
    fx = load(RLE_FIXTURE)
    masks = []
    for case in fx["masks"]:
        m = np.asfortranarray(
            np.unpackbits(
                np.frombuffer(
                    zlib.decompress(base64.b64decode(case["bits"])),
                    np.uint8,
                )
            )[: case["height"] * case["width"]].reshape((case["height"], case["width"]), order="F")
        )
        masks.append(m)
        rle = mask_utils.encode(m)
        assert rle["counts"].decode() == case["string"]
        assert int(mask_utils.area(rle)) == case["area"]
        assert mask_utils.toBbox(rle).tolist() == case["bbox"]
        assert (mask_utils.decode(rle) == m).all()
    for case in fx["countsOnly"]:
        rle = mask_utils.frPyObjects(
            {"size": [case["height"], case["width"]], "counts": case["counts"]},
            case["height"],
            case["width"],
        )
        assert rle["counts"].decode() == case["string"]
    for pair in fx["pairs"]:
        a, b = (mask_utils.encode(masks[i]) for i in (pair["a"], pair["b"]))
        assert mask_utils.iou([a, b], [b, a], [0, 1]).tolist() == pair["iou"]
        assert mask_utils.merge([a, b], 0)["counts"].decode() == pair["union"]
        assert mask_utils.merge([a, b], 1)["counts"].decode() == pair["intersection"]
    box = fx["boxIou"]
    assert mask_utils.iou(box["dt"], box["gt"], box["iscrowd"]).tolist() == box["iou"]


def test_the_script_reproduces_the_committed_inputs(script):
    rng = np.random.default_rng(script.SEED)
    assert script.rle_fixture(rng) == load(RLE_FIXTURE)
    gt, dt = script.coco_fixture(rng)
    assert gt == load(EVAL_FIXTURES / "coco_gt.json")
    assert dt == load(EVAL_FIXTURES / "coco_dt.json")
