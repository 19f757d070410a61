"""PaDT training losses (PADT_MODEL.md section 5), written from the definitions.

- token CE with the robust VRT rule: at a VRT target position the logits of the object's
  *other* foreground patches are -inf, so predicting any of them is not penalised as a
  competitor; per-sample mean over completion tokens, then batch mean;
- box: (1 - GIoU) + L1 on (cx, cy, w, h), both summed over boxes / number of boxes
  (L1 summed over the 4 coordinates);
- score: MSE(sigmoid(s) * 2 - 1, GIoU.detach()), sum / number of boxes;
- mask: dice + sigmoid focal (alpha 0.25, gamma 2) on the 4x map, with a validity mask so
  padded cells count in neither term.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def cxcywh_to_xyxy(b: Tensor) -> Tensor:
    cx, cy, w, h = b.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def xyxy_to_cxcywh(b: Tensor) -> Tensor:
    x0, y0, x1, y1 = b.unbind(-1)
    return torch.stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], dim=-1)


def box_iou_giou(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Element-wise IoU and GIoU of xyxy boxes [n, 4] (w, h clamped at 0)."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.max(a[:, :2], b[:, :2])
    rb = torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area_a + area_b - inter
    iou = inter / union.clamp(min=1e-7)
    hull = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).clamp(min=0).prod(-1)
    giou = iou - (hull - union) / hull.clamp(min=1e-7)
    return iou, giou


def box_loss(
    pred_cxcywh: Tensor, gt_xyxy: Tensor, weights: tuple[float, float] = (1.0, 1.0)
) -> tuple[Tensor, Tensor, Tensor]:
    """(loss, giou [n], iou [n]). loss = wg mean(1 - GIoU) + wl sum|L1| / n; the reference
    weighs both 1 (`weights`, a training choice: DETR-style runs use (2, 5))."""
    n = max(pred_cxcywh.shape[0], 1)
    iou, giou = box_iou_giou(cxcywh_to_xyxy(pred_cxcywh.float()), gt_xyxy.float())
    l1 = (pred_cxcywh.float() - xyxy_to_cxcywh(gt_xyxy.float())).abs().sum()
    return (weights[0] * (1 - giou).sum() + weights[1] * l1) / n, giou, iou


def score_loss(score_logits: Tensor, giou: Tensor) -> Tensor:
    n = max(score_logits.shape[0], 1)
    pred = score_logits.float().sigmoid() * 2 - 1
    return ((pred - giou.detach().float()) ** 2).sum() / n


def dice_loss(logits: Tensor, target: Tensor, valid: Tensor) -> Tensor:
    """Mean over objects of 1 - (2 sum(p t) + 1) / (sum p + sum t + 1) over valid cells."""
    p = logits.float().sigmoid().flatten(1) * valid.flatten(1)
    t = target.float().flatten(1) * valid.flatten(1)
    num = 2 * (p * t).sum(-1) + 1
    den = p.sum(-1) + t.sum(-1) + 1
    return (1 - num / den).mean()


def focal_loss(
    logits: Tensor, target: Tensor, valid: Tensor, alpha: float = 0.25, gamma: float = 2.0
) -> Tensor:
    """Sigmoid focal loss averaged over each object's valid cells, then over objects."""
    x, t, v = logits.float().flatten(1), target.float().flatten(1), valid.float().flatten(1)
    p = x.sigmoid()
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    a_t = alpha * t + (1 - alpha) * (1 - t)
    loss = a_t * ce * (1 - p_t) ** gamma
    return ((loss * v).sum(-1) / v.sum(-1).clamp(min=1)).mean()


def mask_loss(logits: Tensor, target: Tensor, valid: Tensor) -> Tensor:
    return dice_loss(logits, target, valid) + focal_loss(logits, target, valid)


def robust_token_ce(
    logits: Tensor, targets: Tensor, token_mask: Tensor, blocked: Tensor | None
) -> Tensor:
    """logits [B, L, C] (disallowed entries already -inf), targets [B, L], token_mask [B, L]
    (1 = completion token), blocked [B, L, C] bool: entries set to -inf before the softmax
    (an object's other foreground patches at its VRT targets). Per-sample mean, batch mean."""
    if blocked is not None:
        logits = logits.masked_fill(blocked, float("-inf"))
    logp = logits.float().log_softmax(-1)
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    nll = torch.where(token_mask.bool(), nll, torch.zeros_like(nll))
    per_sample = nll.sum(-1) / token_mask.float().sum(-1).clamp(min=1)
    return per_sample.mean()
