"""PaDT training losses and targets on hand-made cases (fast, no model)."""

import math

import numpy as np
import pytest
import torch

from padt.tokenizer_build import build_tiny_tokenizer
from padt.train import losses
from padt.train.data import (
    TrainItem,
    TrainObject,
    foreground_patches,
    mask_target,
    pick_patches,
    template_to_ids,
)
from padt.train.step import blocked_vrt_logits, pad_maps


def test_giou_identical_disjoint_and_nested():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 4.0, 4.0]])
    b = torch.tensor([[0.0, 0.0, 2.0, 2.0], [2.0, 0.0, 3.0, 1.0], [1.0, 1.0, 3.0, 3.0]])
    iou, giou = losses.box_iou_giou(a, b)
    # identical; disjoint: hull 3, union 2 -> 0 - 1/3; nested: 4/16, hull = union
    assert iou.tolist() == pytest.approx([1.0, 0.0, 0.25])
    assert giou.tolist() == pytest.approx([1.0, -1.0 / 3.0, 0.25])


def test_box_loss_is_one_minus_giou_plus_l1_on_cxcywh():
    gt = torch.tensor([[0.1, 0.2, 0.5, 0.6]])  # cxcywh (0.3, 0.4, 0.4, 0.4)
    exact = torch.tensor([[0.3, 0.4, 0.4, 0.4]])
    loss, giou, iou = losses.box_loss(exact, gt)
    assert float(loss) == pytest.approx(0.0, abs=1e-6)
    shifted = torch.tensor([[0.4, 0.4, 0.4, 0.4]])  # moved right by 0.1
    loss, giou, _ = losses.box_loss(shifted, gt)
    inter, union, hull = 0.3 * 0.4, 2 * 0.16 - 0.12, 0.5 * 0.4
    expected_giou = inter / union - (hull - union) / hull
    assert float(giou[0]) == pytest.approx(expected_giou, abs=1e-6)
    assert float(loss) == pytest.approx(1 - expected_giou + 0.1, abs=1e-6)
    weighted, _, _ = losses.box_loss(shifted, gt, (2.0, 5.0))
    assert float(weighted) == pytest.approx(2 * (1 - expected_giou) + 5 * 0.1, abs=1e-6)


def test_score_loss_targets_detached_giou():
    giou = torch.tensor([0.5, -0.5], requires_grad=True)
    logits = torch.tensor([0.0, 0.0], requires_grad=True)  # sigmoid*2-1 = 0
    loss = losses.score_loss(logits, giou)
    assert float(loss) == pytest.approx((0.25 + 0.25) / 2)
    loss.backward()
    assert giou.grad is None or float(giou.grad.abs().sum()) == 0.0
    assert logits.grad is not None


def test_dice_and_focal_values_and_padding_excluded():
    target = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    valid = torch.ones_like(target)
    perfect = (target * 2 - 1) * 50
    assert float(losses.dice_loss(perfect, target, valid)) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.focal_loss(perfect, target, valid)) == pytest.approx(0.0, abs=1e-6)
    zero = torch.zeros_like(target)  # p = 0.5 everywhere
    dice = 1 - (2 * 0.5 + 1) / (4 * 0.5 + 1 + 1)
    assert float(losses.dice_loss(zero, target, valid)) == pytest.approx(dice)
    ce = math.log(2)
    focal = (0.25 * ce * 0.25 + 3 * 0.75 * ce * 0.25) / 4
    assert float(losses.focal_loss(zero, target, valid)) == pytest.approx(focal)
    # Padding: extra cells with any logits and valid = 0 change neither term.
    padded_logits = torch.zeros((1, 2, 4))
    padded_logits[..., 2:] = 7.0
    padded_target = torch.zeros((1, 2, 4))
    padded_target[0, 0, 0] = 1.0
    padded_valid = torch.zeros((1, 2, 4))
    padded_valid[..., :2] = 1.0
    assert float(losses.mask_loss(padded_logits, padded_target, padded_valid)) == pytest.approx(
        float(losses.mask_loss(zero, target, valid))
    )


def test_pad_maps_marks_only_real_cells_valid():
    logits, target, valid = pad_maps(
        [torch.ones(2, 3), torch.ones(4, 2)], [torch.ones(2, 3), torch.zeros(4, 2)], "cpu"
    )
    assert logits.shape == (2, 4, 3)
    assert valid.sum().item() == 6 + 8
    assert target[0, :2, :3].sum().item() == 6 and target[0, 2:].sum().item() == 0


def test_robust_ce_blocks_other_foreground_patches():
    # columns: 3 text rows + 4 VRT rows; the target is VRT 1 (column 4), the object's
    # other foreground patch VRT 2 (column 5) has a huge logit.
    logits = torch.tensor([[[0.0, 0.0, 0.0, 0.0, 1.0, 20.0, 0.0]]])
    targets = torch.tensor([[4]])
    mask = torch.ones((1, 1))
    blocked = torch.zeros((1, 1, 7), dtype=torch.bool)
    blocked[0, 0, 5] = True
    plain = losses.robust_token_ce(logits, targets, mask, None)
    robust = losses.robust_token_ce(logits, targets, mask, blocked)
    kept = torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    assert float(robust) == pytest.approx(float(-(kept.log_softmax(0)[4])))
    assert float(plain) > 15


def test_robust_ce_is_a_per_sample_mean_then_batch_mean():
    logits = torch.zeros((2, 3, 4))
    targets = torch.zeros((2, 3), dtype=torch.long)
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    assert float(losses.robust_token_ce(logits, targets, mask, None)) == pytest.approx(math.log(4))


def test_foreground_patches_use_one_28th_of_a_cell():
    mask = np.zeros((56, 84), dtype=bool)  # grid 2 x 3 of 28-px cells
    mask[0:28, 0:28] = True  # cell 0 full
    mask[0:28, 28:29] = True  # cell 1: 28 px of 784 = exactly 1/28
    mask[28:56, 56:57] = True
    mask[28:29, 56:57] = False  # cell 5: 27 px, below 1/28
    assert foreground_patches(mask, 2, 3) == [0, 1]
    lone = np.zeros((56, 84), dtype=bool)
    lone[30, 60] = True  # no cell reaches 1/28: the best-covered cell is kept
    assert foreground_patches(lone, 2, 3) == [5]


def test_mask_target_is_spatial_on_the_4x_map():
    mask = np.zeros((28, 56), dtype=bool)
    mask[:, :28] = True  # left half of a 2 x 4 grid of 14-px patches
    target = mask_target(mask, 2, 4)
    assert target.shape == (8, 16)
    assert target[:, :8].min() == 1 and target[:, 8:].max() == 0


def test_pick_patches_with_and_without_replacement():
    rng = np.random.default_rng(0)
    few = pick_patches([3, 9], rng)
    assert len(few) == 5 and set(few) <= {3, 9}
    many = pick_patches(list(range(10)), rng)
    assert len(many) == 5 and len(set(many)) == 5


def test_template_to_ids_inserts_vrt_ids_and_eos():
    tok = build_tiny_tokenizer()
    vocab_rows = 1000
    ids, owner = template_to_ids(
        'There are 2 "star" (<|Obj_0|>, <|Obj_1|>) in this image.', [[4, 5], [7]], tok, vocab_rows
    )
    assert ids[-1] == tok.convert_tokens_to_ids("<|im_end|>")
    vrt = [(i, o) for i, o in zip(ids, owner, strict=True) if i >= vocab_rows]
    assert vrt == [(1004, 0), (1005, 0), (1007, 1)]
    text = tok.decode([i for i in ids if i < vocab_rows], skip_special_tokens=True)
    assert text == 'There are 2 "star" (, ) in this image.'
    assert sum(o >= 0 for o in owner) == 3


def test_blocked_logits_follow_the_picked_target():
    obj = TrainObject(picked=[2, 2, 5], foreground=[2, 5, 6], box_xyxy=None, mask=None)
    item = TrainItem(None, (1, 6, 6), [], [0, 12, 12, 15, 1], [-1, 0, 0, 0, -1], [obj], "x", [0])
    blocked = blocked_vrt_logits([item], 10, 20, 5)
    assert blocked[0, 0].sum() == 0 and blocked[0, 4].sum() == 0
    assert torch.nonzero(blocked[0, 1]).flatten().tolist() == [15, 16]
    assert torch.nonzero(blocked[0, 3]).flatten().tolist() == [12, 16]
