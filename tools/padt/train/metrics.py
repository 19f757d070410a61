"""Quality metrics on Shapes (PADT_MODEL.md section 6), pure functions on plain values.

Boxes are COCO [x, y, w, h] in pixels. Predicted boxes are rounded with Python's round()
(`padt.postprocess.round_box`), as the reference evaluation writes them, before any metric.

- REC Acc@0.5: fraction of referring queries whose first predicted object's box has IoU
  >= 0.5 with the referred object (no object predicted = miss).
- RES: per query mask IoU of the first predicted object's mask (no object = IoU 0);
  mIoU = their mean (what the reference script calls cIoU), cIoU = sum of intersections /
  sum of unions over all queries.
- OVD: pycocotools COCOeval (bbox) mAP@[.5:.95] and AP50. Each test image is asked its own
  category list; its ground truth is the objects of the asked categories only, so a category
  not asked in an image has neither ground truth nor detections there. Detection = one per
  predicted object, category = its quoted label, score = sigmoid(score logit).
- RIC grounded-phrase accuracy: the answer is read as groups `(<VRTs>, <VRTs>, ...)`; a
  group's phrase is the answer text since the previous group (or the start). A ground-truth
  phrase (text, objects) is correct when an unused group exists whose phrase ends with the
  ground-truth text (case-insensitive, on a word boundary), with as many objects as the
  phrase has, that match the phrase's objects one-to-one with box IoU >= 0.5 (greedy by
  highest IoU). Accuracy = correct phrases / ground-truth phrases. Also reported: grounded
  object recall (ground-truth objects matched one-to-one, IoU >= 0.5, by any predicted box).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Sequence

import numpy as np

Box = Sequence[float]
_RUN = re.compile(r"(?:<\|VRT_\d+\|>)+")
_GROUP = re.compile(r"\(\s*(\x00\d+\x00(?:\s*,\s*\x00\d+\x00)*)\s*\)")


def box_iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = (float(v) for v in a)
    bx, by, bw, bh = (float(v) for v in b)
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def mask_inter_union(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int]:
    pred, gt = pred.astype(bool), gt.astype(bool)
    return int((pred & gt).sum()), int((pred | gt).sum())


def rec_accuracy(pred_boxes: Sequence[Box | None], gt_boxes: Sequence[Box]) -> float:
    if not gt_boxes:
        return 0.0
    hits = [
        p is not None and box_iou(p, g) >= 0.5 for p, g in zip(pred_boxes, gt_boxes, strict=True)
    ]
    return float(np.mean(hits))


def res_ious(inter_unions: Sequence[tuple[int, int]]) -> dict[str, float]:
    """mIoU (mean of per-query IoU) and cIoU (sum I / sum U); an empty union counts IoU 1."""
    if not inter_unions:
        return {"mIoU": 0.0, "cIoU": 0.0}
    ious = [i / u if u else 1.0 for i, u in inter_unions]
    total_i = sum(i for i, _ in inter_unions)
    total_u = sum(u for _, u in inter_unions)
    return {"mIoU": float(np.mean(ious)), "cIoU": total_i / total_u if total_u else 1.0}


def coco_box_map(
    images: Sequence[dict], annotations: Sequence[dict], categories: Sequence[dict], dets: list
) -> dict[str, float]:
    """COCOeval bbox: {'mAP', 'AP50'}. annotations need id, image_id, category_id, bbox,
    area, iscrowd; dets need image_id, category_id, bbox, score."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not dets or not annotations:
        return {"mAP": 0.0, "AP50": 0.0}
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {
            "images": list(images),
            "annotations": [dict(a) for a in annotations],
            "categories": list(categories),
        }
        gt.createIndex()
        res = gt.loadRes([dict(d) for d in dets])
        ev = COCOeval(gt, res, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {"mAP": max(0.0, float(ev.stats[0])), "AP50": max(0.0, float(ev.stats[1]))}


def answer_groups(text: str) -> list[tuple[str, list[int]]]:
    """(phrase text before the group, object indices) for each `( <run>, <run> )` group of
    an answer whose VRTs are written <|VRT_j|>; objects are numbered in answer order."""
    counter = iter(range(10**9))
    marked = _RUN.sub(lambda _: f"\x00{next(counter)}\x00", text)
    groups, previous = [], 0
    for match in _GROUP.finditer(marked):
        phrase = re.sub(r"\x00\d+\x00", " ", marked[previous : match.start()]).strip(" ,;:.")
        objects = [int(v) for v in re.findall(r"\x00(\d+)\x00", match.group(1))]
        groups.append((phrase, objects))
        previous = match.end()
    return groups


def _ends_with_phrase(candidate: str, phrase: str) -> bool:
    c, p = candidate.lower().rstrip(), phrase.lower().strip()
    if not p or not c.endswith(p):
        return False
    before = c[: len(c) - len(p)]
    return not before or not before[-1].isalnum()


def match_one_to_one(pred: Sequence[Box], gt: Sequence[Box], threshold: float = 0.5) -> int:
    """Greedy one-to-one matching by highest IoU; returns the number of matched pairs."""
    pairs = sorted(
        ((box_iou(p, g), i, j) for i, p in enumerate(pred) for j, g in enumerate(gt)),
        reverse=True,
    )
    used_p, used_g, matched = set(), set(), 0
    for iou, i, j in pairs:
        if iou < threshold:
            break
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        matched += 1
    return matched


def grounded_phrases(
    answer_text: str,
    pred_boxes: Sequence[Box],
    phrases: Sequence[tuple[str, Sequence[Box]]],
) -> tuple[int, int]:
    """(correct phrases, total phrases) for one caption; see the module docstring."""
    groups = answer_groups(answer_text)
    used: set[int] = set()
    correct = 0
    for text, gt_boxes in phrases:
        for g, (candidate, objects) in enumerate(groups):
            if g in used or not _ends_with_phrase(candidate, text):
                continue
            used.add(g)
            if len(objects) == len(gt_boxes) and all(o < len(pred_boxes) for o in objects):
                boxes = [pred_boxes[o] for o in objects]
                correct += int(match_one_to_one(boxes, gt_boxes) == len(gt_boxes))
            break
    return correct, len(phrases)
