"""Evaluation metrics on hand-made cases."""

import numpy as np
import pytest

from padt.train import metrics


def test_box_iou_and_rec_accuracy():
    assert metrics.box_iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert metrics.box_iou([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(50 / 150)
    assert metrics.box_iou([0, 0, 10, 10], [20, 20, 5, 5]) == 0.0
    gt = [[0, 0, 10, 10]] * 4
    pred = [[0, 0, 10, 10], [1, 1, 10, 10], [5, 0, 10, 10], None]
    # IoU 1, 81/119 = 0.68, 1/3, miss
    assert metrics.rec_accuracy(pred, gt) == 0.5


def test_res_mean_and_cumulative_iou_differ():
    small_perfect = metrics.mask_inter_union(np.ones((2, 2)), np.ones((2, 2)))  # 4 / 4
    big_half = metrics.mask_inter_union(
        np.pad(np.ones((10, 5)), ((0, 0), (0, 5))), np.ones((10, 10))
    )  # 50 / 100
    assert small_perfect == (4, 4) and big_half == (50, 100)
    out = metrics.res_ious([small_perfect, big_half])
    assert out["mIoU"] == pytest.approx(0.75)
    assert out["cIoU"] == pytest.approx(54 / 104)


def test_coco_map_perfect_and_half():
    images = [{"id": 1, "width": 100, "height": 100}]
    anns = [
        {
            "id": 1,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, 20, 20],
            "area": 400,
            "iscrowd": 0,
        },
        {
            "id": 2,
            "image_id": 1,
            "category_id": 1,
            "bbox": [50, 50, 20, 20],
            "area": 400,
            "iscrowd": 0,
        },
    ]
    cats = [{"id": 1, "name": "circle"}]
    perfect = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 20, 20], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [50, 50, 20, 20], "score": 0.8},
    ]
    assert metrics.coco_box_map(images, anns, cats, perfect)["mAP"] == pytest.approx(1.0)
    one = perfect[:1]
    result = metrics.coco_box_map(images, anns, cats, one)
    assert result["AP50"] == pytest.approx(0.5, abs=0.01)
    assert metrics.coco_box_map(images, anns, cats, [])["mAP"] == 0.0


def test_answer_groups_and_grounded_phrases():
    v = "<|VRT_1|><|VRT_2|>"
    text = f"A red circle ({v}) is left of two blue stars ({v}, {v}), and a cross ({v}) is visible."
    groups = metrics.answer_groups(text)
    assert groups == [
        ("A red circle", [0]),
        ("is left of two blue stars", [1, 2]),
        ("and a cross", [3]),
    ]
    boxes = [[0, 0, 10, 10], [20, 0, 10, 10], [40, 0, 10, 10], [60, 0, 10, 10]]
    phrases = [
        ("A red circle", [[0, 0, 10, 10]]),
        ("two blue stars", [[41, 0, 10, 10], [20, 0, 10, 10]]),  # order-free, IoU >= 0.5
        ("a cross", [[0, 60, 10, 10]]),  # wrong place
        ("a green square", [[0, 0, 10, 10]]),  # not in the answer
    ]
    assert metrics.grounded_phrases(text, boxes, phrases) == (2, 4)
    # a phrase must end the group's text on a word boundary
    assert metrics.grounded_phrases(text, boxes, [("ross", [[60, 0, 10, 10]])]) == (0, 1)
    # wrong number of objects in the group
    assert metrics.grounded_phrases(text, boxes, [("two blue stars", [[20, 0, 10, 10]])]) == (0, 1)


def test_match_one_to_one_is_one_to_one():
    pred = [[0, 0, 10, 10], [0, 0, 10, 10]]
    assert metrics.match_one_to_one(pred, [[0, 0, 10, 10]]) == 1
    assert metrics.match_one_to_one(pred, [[0, 0, 10, 10], [1, 0, 10, 10]]) == 2
