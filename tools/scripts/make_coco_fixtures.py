"""Write the COCO RLE and COCO evaluation fixtures from pycocotools 2.0.8.

packages/mask/test/fixtures/rle.json
    Random and edge-case binary masks (column-major bits, packed, zlib, base64) with what
    pycocotools computes for them: uncompressed counts, the compressed string, area, toBbox;
    counts-only cases with large runs; mask IoU (with and without crowd), merge (union and
    intersection) of same-size masks; box IoU with crowd flags; polygons rasterised by
    frPyObjects (each part, and merged as COCO.annToRLE does); boxes rasterised by frBbox.
packages/eval/test/fixtures/coco_gt.json, coco_dt.json, coco_stats.json
    A synthetic, seeded COCO ground truth (31 images, 3 categories, crowd regions, objects in
    every area range, RLE and polygon segmentations, IoUs and areas exactly on thresholds) and
    detections (jittered true positives, duplicates, false positives, tied scores, one image
    over 100 detections), with the 12 COCOeval stats, summarize()'s lines and AP per category
    for: bbox; segm (detections without boxes: area from the mask); segm_boxarea (detections
    with boxes: pycocotools' loadRes then takes the box area as the detection area); and
    segm_from_boxes (detections without masks: loadRes rasterises their boxes as polygons).

The TypeScript tests compare their own results with these numbers; tools/tests/
test_coco_fixtures.py recomputes the numbers from the recorded inputs so they stay honest.

Run: tools/.venv/bin/python tools/scripts/make_coco_fixtures.py
"""

from __future__ import annotations

import base64
import copy
import io
import json
import zlib
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = Path(__file__).resolve().parents[2]
RLE_OUT = ROOT / "packages/mask/test/fixtures/rle.json"
EVAL_DIR = ROOT / "packages/eval/test/fixtures"
SEED = 20251001
CATEGORIES = [{"id": 1, "name": "circle"}, {"id": 2, "name": "square"}, {"id": 5, "name": "star"}]
MODES = ("bbox", "segm", "segm_boxarea", "segm_from_boxes")


def pack_mask(m: np.ndarray) -> str:
    """Column-major bits, np.packbits (big-endian bit order), zlib, base64."""
    bits = np.packbits(np.asarray(m, dtype=np.uint8).flatten(order="F"))
    return base64.b64encode(zlib.compress(bits.tobytes(), 9)).decode("ascii")


def unpack_mask(data: str, h: int, w: int) -> np.ndarray:
    bits = np.frombuffer(zlib.decompress(base64.b64decode(data)), dtype=np.uint8)
    return np.unpackbits(bits)[: h * w].reshape((h, w), order="F")


def encode(m: np.ndarray) -> dict:
    return mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))


def uncompressed_counts(m: np.ndarray) -> list[int]:
    flat = m.flatten(order="F").astype(np.uint8)
    counts, prev, run = [], 0, 0
    for v in flat:
        if v != prev:
            counts.append(run)
            run, prev = 0, v
        run += 1
    counts.append(run)
    return counts


def shape_mask(rng: np.random.Generator, h: int, w: int, cy, cx, ry, rx, kind: str) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    if kind == "ellipse":
        return (((yy - cy) / max(ry, 0.5)) ** 2 + ((xx - cx) / max(rx, 0.5)) ** 2 <= 1).astype(
            np.uint8
        )
    return ((np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= rx)).astype(np.uint8)


def random_blobs(rng: np.random.Generator, h: int, w: int, n: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    for _ in range(n):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(0.5, h / 3 + 1), rng.uniform(0.5, w / 3 + 1)
        m |= shape_mask(rng, h, w, cy, cx, ry, rx, str(rng.choice(["ellipse", "rect"])))
    return m


def rle_masks(rng: np.random.Generator) -> list[np.ndarray]:
    masks = [
        np.zeros((1, 1), np.uint8),
        np.ones((1, 1), np.uint8),
        np.zeros((5, 7), np.uint8),
        np.ones((5, 7), np.uint8),
        (rng.random((1, 40)) < 0.5).astype(np.uint8),
        (rng.random((40, 1)) < 0.5).astype(np.uint8),
    ]
    corner = np.zeros((9, 6), np.uint8)
    corner[0, 0] = corner[8, 5] = 1
    masks.append(corner)
    big = np.zeros((600, 800), np.uint8)
    big[500:520, 700:760] = 1
    big[3:5, 2:4] = 1
    masks.append(big)
    for _ in range(12):
        h, w = int(rng.integers(2, 24)), int(rng.integers(2, 24))
        masks.append((rng.random((h, w)) < rng.uniform(0.1, 0.9)).astype(np.uint8))
    for _ in range(22):
        h, w = int(rng.integers(20, 120)), int(rng.integers(20, 120))
        masks.append(random_blobs(rng, h, w, int(rng.integers(1, 5))))
    return masks


def rle_fixture(rng: np.random.Generator) -> dict:
    masks = rle_masks(rng)
    cases = []
    for m in masks:
        rle = encode(m)
        counts = uncompressed_counts(m)
        assert (
            mask_utils.frPyObjects({"size": list(m.shape), "counts": counts}, *m.shape)["counts"]
            == rle["counts"]
        )
        cases.append(
            {
                "height": int(m.shape[0]),
                "width": int(m.shape[1]),
                "bits": pack_mask(m),
                "counts": counts,
                "string": rle["counts"].decode("ascii"),
                "area": int(mask_utils.area(rle)),
                "bbox": [float(v) for v in mask_utils.toBbox(rle)],
            }
        )
    counts_only = []
    for _ in range(10):
        h = int(rng.integers(1000, 40000))
        n = int(rng.integers(1, 12))
        counts = [int(v) for v in rng.integers(0, 2**26, size=n)]
        w = sum(counts) // h + 1
        counts.append(h * w - sum(counts))
        rle = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
        counts_only.append(
            {
                "height": h,
                "width": w,
                "counts": counts,
                "string": rle["counts"].decode("ascii"),
                "area": int(mask_utils.area(rle)),
                "bbox": [float(v) for v in mask_utils.toBbox(rle)],
            }
        )
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, m in enumerate(masks):
        by_size.setdefault(m.shape, []).append(i)
    # Extra masks of the blob sizes so that pairs exist.
    pairs = []
    for i, m in enumerate(masks[20:], start=20):
        other = random_blobs(rng, *m.shape, int(rng.integers(1, 4)))
        j = len(cases)
        cases.append(
            {
                "height": int(m.shape[0]),
                "width": int(m.shape[1]),
                "bits": pack_mask(other),
                "counts": uncompressed_counts(other),
                "string": encode(other)["counts"].decode("ascii"),
                "area": int(other.sum()),
                "bbox": [float(v) for v in mask_utils.toBbox(encode(other))],
            }
        )
        masks.append(other)
        a, b = encode(m), encode(other)
        ious = mask_utils.iou([a, b], [b, a], [0, 1])
        union = mask_utils.merge([a, b], intersect=0)
        inter = mask_utils.merge([a, b], intersect=1)
        pairs.append(
            {
                "a": i,
                "b": j,
                "iou": [[float(v) for v in row] for row in ious],
                "union": union["counts"].decode("ascii"),
                "intersection": inter["counts"].decode("ascii"),
            }
        )
    merges = []
    for idx in by_size.values():
        if len(idx) >= 2:
            rles = [encode(masks[i]) for i in idx]
            merges.append(
                {
                    "masks": idx,
                    "union": mask_utils.merge(rles, 0)["counts"].decode("ascii"),
                    "intersection": mask_utils.merge(rles, 1)["counts"].decode("ascii"),
                }
            )
    boxes_dt = np.round(rng.uniform([0, 0, 0, 0], [50, 50, 40, 40], size=(12, 4)), 2)
    boxes_gt = np.round(rng.uniform([0, 0, 1, 1], [50, 50, 40, 40], size=(9, 4)), 2)
    boxes_dt[0] = boxes_gt[0]
    crowd = [int(v) for v in rng.integers(0, 2, size=9)]
    box_iou = mask_utils.iou(boxes_dt.tolist(), boxes_gt.tolist(), crowd)
    return {
        "pycocotools": "2.0.8",
        "order": "column-major bits, np.packbits, zlib, base64",
        "polygons": polygon_fixture(np.random.default_rng(SEED + 1)),
        "boxes": box_fixture(np.random.default_rng(SEED + 2)),
        "masks": cases,
        "countsOnly": counts_only,
        "pairs": pairs,
        "merges": merges,
        "boxIou": {
            "dt": boxes_dt.tolist(),
            "gt": boxes_gt.tolist(),
            "iscrowd": crowd,
            "iou": [[float(v) for v in row] for row in box_iou],
        },
    }


def polygon_fixture(rng: np.random.Generator) -> list[dict]:
    """Polygons (frPyObjects + merge, as COCO.annToRLE) and boxes given as 4-number lists."""
    cases = []
    for i in range(24):
        h, w = int(rng.integers(5, 60)), int(rng.integers(5, 60))
        parts = []
        for _ in range(int(rng.integers(1, 3))):
            n = int(rng.integers(3, 9))
            pts = rng.uniform([-3, -3], [w + 3, h + 3], size=(n, 2))
            if i % 4 == 0:
                pts = np.round(pts * 2) / 2  # vertices on half pixels
            parts.append([round(float(v), 3) for v in pts.reshape(-1)])
        cases.append({"height": h, "width": w, "polygons": parts})
    cases.append({"height": 20, "width": 30, "polygons": [[2, 2, 2, 2, 10, 2, 10, 8, 2, 8]]})
    cases.append({"height": 9, "width": 9, "polygons": [[4, 4, 4, 4, 4, 4]]})
    for case in cases:
        rles = mask_utils.frPyObjects(case["polygons"], case["height"], case["width"])
        case["parts"] = [r["counts"].decode("ascii") for r in rles]
        case["string"] = mask_utils.merge(rles)["counts"].decode("ascii")
    return cases


def box_fixture(rng: np.random.Generator) -> list[dict]:
    """Boxes rasterised by frPyObjects on an n x 4 array (rleFrBbox)."""
    cases = []
    for _ in range(12):
        h, w = int(rng.integers(5, 40)), int(rng.integers(5, 40))
        box = [round(float(v), 2) for v in rng.uniform([-2, -2, 0, 0], [w, h, w / 2, h / 2])]
        rle = mask_utils.frPyObjects(np.array([box], dtype=np.double), h, w)[0]
        cases.append(
            {"height": h, "width": w, "bbox": box, "string": rle["counts"].decode("ascii")}
        )
    return cases


def object_mask(rng: np.random.Generator, h: int, w: int, size: str) -> np.ndarray:
    lo, hi = {"small": (3, 15), "medium": (17, 45), "large": (50, 90)}[size]
    for _ in range(100):
        ry, rx = rng.uniform(lo, hi), rng.uniform(lo, hi)
        if 2 * ry < h - 2 and 2 * rx < w - 2:
            break
    cy, cx = rng.uniform(ry, h - ry), rng.uniform(rx, w - rx)
    return shape_mask(rng, h, w, cy, cx, ry, rx, str(rng.choice(["ellipse", "rect"])))


def jitter(rng: np.random.Generator, m: np.ndarray, amount: float) -> np.ndarray:
    h, w = m.shape
    ys, xs = np.nonzero(m)
    cy, cx = ys.mean(), xs.mean()
    ry = (ys.max() - ys.min() + 1) / 2 * rng.uniform(1 - amount, 1 + amount)
    rx = (xs.max() - xs.min() + 1) / 2 * rng.uniform(1 - amount, 1 + amount)
    cy += rng.normal(0, amount * ry)
    cx += rng.normal(0, amount * rx)
    return shape_mask(rng, h, w, cy, cx, ry, rx, str(rng.choice(["ellipse", "rect"])))


def rle_json(m: np.ndarray) -> dict:
    rle = encode(m)
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": rle["counts"].decode("ascii")}


def box_of(m: np.ndarray) -> list[float]:
    return [float(v) for v in mask_utils.toBbox(encode(m))]


def coco_fixture(rng: np.random.Generator) -> tuple[dict, list[dict]]:
    images, anns, dets = [], [], []
    cat_ids = [c["id"] for c in CATEGORIES]
    crowd_left = 4
    for img_id in range(1, 31):
        h, w = int(rng.integers(120, 260)), int(rng.integers(140, 300))
        images.append({"id": img_id * 3, "width": w, "height": h, "file_name": f"{img_id}.png"})
        n = int(rng.integers(0, 6))
        for _ in range(n):
            cat = int(rng.choice(cat_ids))
            size = str(rng.choice(["small", "medium", "large"], p=[0.4, 0.4, 0.2]))
            m = object_mask(rng, h, w, size)
            if m.sum() == 0:
                continue
            area = float(m.sum()) * (float(rng.uniform(0.97, 1.03)) if rng.random() < 0.3 else 1)
            ann = {
                "id": len(anns) + 1,
                "image_id": img_id * 3,
                "category_id": cat,
                "bbox": box_of(m),
                "area": area,
                "iscrowd": 0,
                "segmentation": rle_json(m),
            }
            if rng.random() < 0.05:
                ann["ignore"] = 1  # pycocotools overrides this with iscrowd
            anns.append(ann)
            if rng.random() < 0.8:
                d = jitter(rng, m, 0.15)
                if d.sum():
                    dets.append((img_id * 3, cat, float(rng.uniform(0.3, 1.0)), d))
            if rng.random() < 0.25:
                d = jitter(rng, m, 0.3)
                if d.sum():
                    dets.append((img_id * 3, cat, float(rng.uniform(0.1, 0.7)), d))
        if crowd_left and rng.random() < 0.3:
            crowd_left -= 1
            cat = int(rng.choice(cat_ids))
            m = object_mask(rng, h, w, "large")
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img_id * 3,
                    "category_id": cat,
                    "bbox": box_of(m),
                    "area": float(m.sum()),
                    "iscrowd": 1,
                    "segmentation": {"size": [h, w], "counts": uncompressed_counts(m)},
                }
            )
            for _ in range(int(rng.integers(1, 4))):
                d = jitter(rng, m, 0.5)
                if d.sum():
                    dets.append((img_id * 3, cat, float(rng.uniform(0.2, 0.9)), d))
        for _ in range(int(rng.integers(0, 4))):
            size = str(rng.choice(["small", "medium", "large"]))
            d = object_mask(rng, h, w, size)
            cat = int(rng.choice(cat_ids))
            dets.append((img_id * 3, cat, float(rng.uniform(0.0, 0.6)), d))
    # Tied scores, including across images.
    for i in range(0, len(dets) - 1, 7):
        dets[i + 1] = (*dets[i + 1][:2], dets[i][2], dets[i + 1][3])
    # One image with more than 100 detections of one category.
    img = images[4]
    h, w = img["height"], img["width"]
    for k in range(110):
        m = np.zeros((h, w), np.uint8)
        y, x = int(rng.integers(0, h - 6)), int(rng.integers(0, w - 6))
        m[y : y + int(rng.integers(2, 6)), x : x + int(rng.integers(2, 6))] = 1
        dets.append((img["id"], 2, round(float(rng.uniform(0, 1)), 3 if k % 5 else 1), m))
    if not any(a["image_id"] == img["id"] and a["category_id"] == 2 for a in anns):
        m = object_mask(rng, h, w, "small")
        anns.append(
            {
                "id": len(anns) + 1,
                "image_id": img["id"],
                "category_id": 2,
                "bbox": box_of(m),
                "area": float(m.sum()),
                "iscrowd": 0,
                "segmentation": rle_json(m),
            }
        )
    order = rng.permutation(len(dets))
    results = []
    for i in order:
        image_id, cat, score, m = dets[i]
        bbox = [round(v + float(rng.uniform(-0.5, 0.5)), 2) for v in box_of(m)]
        results.append(
            {
                "image_id": image_id,
                "category_id": cat,
                "score": round(score, 4),
                "bbox": bbox,
                "segmentation": rle_json(m),
            }
        )
    add_boundary_cases(images, anns, results)
    gt = {"images": images, "categories": CATEGORIES, "annotations": anns}
    return gt, results


def rect(h: int, w: int, y: int, x: int, rh: int, rw: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[y : y + rh, x : x + rw] = 1
    return m


def add_boundary_cases(images: list[dict], anns: list[dict], results: list[dict]) -> None:
    """One image whose IoUs and areas sit exactly on thresholds (0.5, 0.75, 32^2, 96^2)."""
    h = w = 200
    image_id = 999
    images.append({"id": image_id, "width": w, "height": h, "file_name": "boundary.png"})
    gts = [
        (1, rect(h, w, 10, 10, 10, 20)),
        (2, rect(h, w, 50, 50, 32, 32)),
        (5, rect(h, w, 100, 100, 96, 96)),
    ]
    for cat, m in gts:
        anns.append(
            {
                "id": len(anns) + 1,
                "image_id": image_id,
                "category_id": cat,
                "bbox": box_of(m),
                "area": float(m.sum()),
                "iscrowd": 0,
                "segmentation": rle_json(m),
            }
        )
    # A polygon ground truth in two parts (COCO's usual form for non-crowd objects).
    anns.append(
        {
            "id": len(anns) + 1,
            "image_id": image_id,
            "category_id": 1,
            "bbox": [40.0, 120.0, 50.5, 40.25],
            "area": 1150.5,
            "iscrowd": 0,
            "segmentation": [
                [40, 120, 90.5, 125.5, 60.25, 160.25],
                [10.5, 150, 30, 150, 20, 170.75],
            ],
        }
    )
    results.append(
        {
            "image_id": image_id,
            "category_id": 1,
            "score": 0.88,
            "bbox": [42.0, 121.0, 45.0, 35.0],
            "segmentation": rle_json(rect(h, w, 121, 42, 35, 45)),
        }
    )
    dets = [
        (1, 0.91, rect(h, w, 10, 10, 10, 10)),  # IoU 0.5
        (2, 0.92, rect(h, w, 50, 50, 24, 32)),  # IoU 0.75
        (2, 0.41, rect(h, w, 150, 10, 32, 32)),  # unmatched, area 32^2
        (5, 0.93, rect(h, w, 100, 100, 96, 96)),  # area 96^2
        (5, 0.42, rect(h, w, 0, 100, 96, 96)),  # unmatched, area 96^2
    ]
    for cat, score, m in dets:
        results.append(
            {
                "image_id": image_id,
                "category_id": cat,
                "score": score,
                "bbox": box_of(m),
                "segmentation": rle_json(m),
            }
        )


def detections_for(mode: str, results: list[dict]) -> list[dict]:
    dets = copy.deepcopy(results)
    if mode == "segm":
        for d in dets:
            del d["bbox"]
    if mode == "segm_from_boxes":
        for d in dets:
            del d["segmentation"]
    return dets


def coco_stats(gt: dict, results: list[dict]) -> dict[str, dict]:
    """Per mode: the 12 COCOeval stats, summarize()'s printed lines, AP per category."""
    out = {}
    with redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
    for mode in MODES:
        log = io.StringIO()
        with redirect_stdout(log):
            coco_dt = coco_gt.loadRes(detections_for(mode, results))
            ev = COCOeval(coco_gt, coco_dt, "bbox" if mode == "bbox" else "segm")
            ev.evaluate()
            ev.accumulate()
        summary = io.StringIO()
        with redirect_stdout(summary):
            ev.summarize()
        per_category = {}
        for k, cat_id in enumerate(ev.params.catIds):
            p = ev.eval["precision"][:, :, k, 0, -1]
            per_category[str(cat_id)] = float(p[p > -1].mean()) if (p > -1).any() else -1.0
        out[mode] = {
            "stats": [float(v) for v in ev.stats],
            "summary": summary.getvalue().splitlines(),
            "perCategoryAP": per_category,
        }
    return out


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n")


def main() -> None:
    rng = np.random.default_rng(SEED)
    write_json(RLE_OUT, rle_fixture(rng))
    gt, results = coco_fixture(rng)
    write_json(EVAL_DIR / "coco_gt.json", gt)
    write_json(EVAL_DIR / "coco_dt.json", results)
    stats = {"pycocotools": "2.0.8", "modes": coco_stats(gt, results)}
    write_json(EVAL_DIR / "coco_stats.json", stats)
    for path in (RLE_OUT, *sorted(EVAL_DIR.glob("coco_*.json"))):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")
    for mode, recorded in stats["modes"].items():
        print(mode, " ".join(f"{v:.4f}" for v in recorded["stats"]))


if __name__ == "__main__":
    main()
