"""One PaDT training forward: vision tower, LLM with teacher forcing, robust token CE and the
decoder losses (PADT_MODEL.md section 5), for a padded batch of TrainItems."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..decoder import spatial_row_of_cell
from ..modeling import EncodedImage, PadtForConditionalGeneration
from ..vision import run_vision_tower
from . import losses
from .data import IGNORE, CellLabels, TrainItem


@dataclass
class StepLosses:
    total: Tensor
    ce: Tensor
    box: Tensor
    score: Tensor
    mask: Tensor
    position: Tensor  # the auxiliary position probe's loss (0 without a probe)
    scene: Tensor  # the dense scene probe's loss (0 without a probe)
    iou: float  # mean box IoU of the batch's objects (a progress indicator)
    objects: int

    def as_floats(self) -> dict[str, float]:
        return {
            "loss": float(self.total),
            "ce": float(self.ce),
            "box": float(self.box),
            "score": float(self.score),
            "mask": float(self.mask),
            "position": float(self.position),
            "scene": float(self.scene),
            "iou": self.iou,
            "objects": self.objects,
        }


def encode_image(
    model: PadtForConditionalGeneration, pixel_values: Tensor, grid_thw: Tensor
) -> EncodedImage:
    """One image through the vision tower and the prototype projection, with autograd
    (`model.encode_images` is inference-only: it runs under torch.no_grad)."""
    out = run_vision_tower(model.visual, pixel_values, grid_thw)
    t, h, w = (int(v) for v in grid_thw[0])
    return EncodedImage(
        embeds=out.embeds,
        prototypes=model.make_prototypes(out.embeds),
        high_res=out.high_res,
        cos=out.cos,
        sin=out.sin,
        grid_thw=(t, h, w),
        window_index=out.window_index,
    )


def blocked_vrt_logits(
    items: list[TrainItem], vocab_rows: int, columns: int, length: int
) -> Tensor:
    """[B, length, columns] bool: at each VRT target, the object's foreground patches other
    than the target itself."""
    blocked = torch.zeros((len(items), length, columns), dtype=torch.bool)
    for b, item in enumerate(items):
        seen: dict[int, int] = {}
        for t, k in enumerate(item.vrt_object):
            if k < 0:
                continue
            obj = item.objects[k]
            target = obj.picked[seen.get(k, 0)]
            seen[k] = seen.get(k, 0) + 1
            cols = torch.tensor([vocab_rows + p for p in obj.foreground if p != target])
            if cols.numel():
                blocked[b, t, cols] = True
    return blocked


def _cell_centres(cells: Tensor, grid_h: int, grid_w: int) -> Tensor:
    """Raster cell indices -> normalised (x, y) centres [n, 2]."""
    return torch.stack([((cells % grid_w) + 0.5) / grid_w, ((cells // grid_w) + 0.5) / grid_h], -1)


class PositionProbe(torch.nn.Module):
    """Training-only auxiliary heads (never exported) that read absolute positions back.

    Why: rotary positions (Qwen2.5-VL's vision tower and LLM, the PaDT decoder) change
    attention weights, never values, so no feature says where it is unless attention
    over tokens of different content writes it in. A decoder whose inputs carry no position
    regresses boxes like DETR does: its output stayed at the mean box for thousands of steps.
    Two places can hold positions and are supervised here:
    - the LLM's hidden state at each VRT target (`vrt`): image tokens attend to the text
      before them with position-dependent weights, and the hidden state that predicts a
      patch can read that patch's position; the decoder then gets positions with its
      features, like point prompts;
    - the decoder memory after the first high-res block (`memory`), written by its
      memory->query update, whose queries are rotated by the rows' positions.
    """

    def __init__(self, decoder_dim: int, llm_dim: int, scale: float = 1.0) -> None:
        super().__init__()
        self.memory = torch.nn.Linear(decoder_dim, 2)
        self.vrt = torch.nn.Linear(llm_dim, 2)
        self.scale = scale  # the losses' weight in the total

    def memory_loss(self, memory: Tensor, image: EncodedImage) -> Tensor:
        """memory [B, N, D] in window order -> mean squared error of each row's cell centre."""
        h14, w14 = image.grid_h14, image.grid_w14
        cell_of_row = torch.argsort(spatial_row_of_cell(image.window_index, h14, w14))
        target = _cell_centres(cell_of_row.to(memory.device), h14, w14)
        return ((self.memory(memory.float()) - target) ** 2).sum(-1).mean()

    def vrt_loss(self, hidden: Tensor, patches: list[int], grid_h28: int, grid_w28: int) -> Tensor:
        """hidden [n, D] at VRT targets, patches: their raster 28-px cells."""
        target = _cell_centres(torch.tensor(patches, device=hidden.device), grid_h28, grid_w28)
        return ((self.vrt(hidden.float()) - target) ** 2).sum(-1).mean()


class SceneProbe(torch.nn.Module):
    """Training-only linear heads (never exported) that read, from every merged 28-px
    vision feature, what the generator knows is there: shape (or background), colour, size,
    and an instance embedding whose cosine similarity says "same object".

    Why: a PaDT answer gives the vision tower a learning signal only through the few VRT
    targets and the LLM's text loss, and the shipped model's wrong REC answers nearly all
    picked an object of another shape. Linear heads make these attributes linearly readable
    in the features the LLM and the prototypes see, at every cell of every image.
    """

    INSTANCE_DIM = 16

    def __init__(self, llm_dim: int, shapes: int, colours: int, sizes: int, scale: float = 1.0):
        super().__init__()
        self.shape = torch.nn.Linear(llm_dim, shapes + 1)
        self.colour = torch.nn.Linear(llm_dim, colours)
        self.size = torch.nn.Linear(llm_dim, sizes)
        self.instance = torch.nn.Linear(llm_dim, self.INSTANCE_DIM)
        self.temperature = torch.nn.Parameter(torch.tensor(10.0))
        self.scale = scale

    def loss(self, embeds: Tensor, cells: CellLabels) -> Tensor:
        x = embeds.float()
        device = x.device
        total = x.new_zeros(())
        for head, target in ((self.shape, cells.shape), (self.colour, cells.colour)):
            total = total + _labelled_ce(head(x), target.to(device))
        total = total + _labelled_ce(self.size(x), cells.size.to(device))
        return total + self._instance_loss(x, cells.instance.to(device))

    def _instance_loss(self, x: Tensor, instance: Tensor) -> Tensor:
        keep = instance != IGNORE
        if int(keep.sum()) < 2:
            return x.new_zeros(())
        z = F.normalize(self.instance(x[keep]), dim=-1)
        ids = instance[keep]
        logits = self.temperature * (z @ z.T) - self.temperature / 2
        same = (ids[:, None] == ids[None, :]).float()
        off_diagonal = 1 - torch.eye(len(ids), device=x.device)
        bce = F.binary_cross_entropy_with_logits(logits, same, reduction="none") * off_diagonal
        # Positives and negatives weigh the same, however lopsided the scene.
        pos, neg = same * off_diagonal, (1 - same) * off_diagonal
        parts = [(bce * w).sum() / w.sum() for w in (pos, neg) if float(w.sum()) > 0]
        return torch.stack(parts).mean()


def _labelled_ce(logits: Tensor, target: Tensor) -> Tensor:
    if not bool((target != IGNORE).any()):
        return logits.new_zeros(())
    return F.cross_entropy(logits, target, ignore_index=IGNORE)


class _MemoryTap:
    """Keeps the memory the first high-res decoder block returns (a forward hook)."""

    def __init__(self, model: PadtForConditionalGeneration) -> None:
        self.memory: Tensor | None = None
        block = model.vl_decoder.high_res_transformer1
        self.handle = block.register_forward_hook(self._keep)

    def _keep(self, _module, _inputs, output) -> None:
        self.memory = output[1]

    def close(self) -> None:
        self.handle.remove()


def compute_losses(
    model: PadtForConditionalGeneration,
    items: list[TrainItem],
    pad_id: int,
    use_prototype_features: bool,
    probe: PositionProbe | None = None,
    scene_probe: SceneProbe | None = None,
    box_weights: tuple[float, float] = (1.0, 1.0),
) -> StepLosses:
    device = model.device
    vocab_rows = model.text_vocab_rows
    grid = torch.tensor([it.grid_thw for it in items], device=device)
    # One image at a time: the stock vision attention masks a [sum N, sum N] matrix over all
    # the images given together, which is quadratic in the batch's total patch count.
    images = [
        encode_image(model, it.pixel_values.to(device), grid[b : b + 1])
        for b, it in enumerate(items)
    ]

    # --- LLM inputs: prompt + completion, right padded ----------------------------------
    seqs = [it.prompt_ids + it.completion_ids for it in items]
    length = max(len(s) for s in seqs)
    input_ids = torch.full((len(items), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(items), length), dtype=torch.long)
    for b, s in enumerate(seqs):
        input_ids[b, : len(s)] = torch.tensor(s)
        attention[b, : len(s)] = 1
    input_ids, attention = input_ids.to(device), attention.to(device)
    embeds = []
    for b, image in enumerate(images):
        n = len(seqs[b])
        e = model.embed_prompt(input_ids[b : b + 1, :n], [image])[0]
        embeds.append(F.pad(e, (0, 0, 0, length - n)))
    inputs_embeds = torch.stack(embeds)
    position_ids, _ = model.get_rope_index(input_ids, image_grid_thw=grid, attention_mask=attention)
    hidden = model.model(
        inputs_embeds=inputs_embeds,
        position_ids=position_ids,
        attention_mask=attention,
        use_cache=False,
    ).last_hidden_state

    # --- completion logits over [text rows ; own image's VRT rows] -----------------------
    clen = max(len(it.completion_ids) for it in items)
    n_max = max(img.num_patches for img in images)
    h_comp = hidden.new_zeros((len(items), clen, hidden.shape[-1]))
    targets = torch.zeros((len(items), clen), dtype=torch.long, device=device)
    token_mask = torch.zeros((len(items), clen), device=device)
    for b, it in enumerate(items):
        start, c = len(it.prompt_ids), len(it.completion_ids)
        h_comp[b, :c] = hidden[b, start - 1 : start - 1 + c]
        targets[b, :c] = torch.tensor(it.completion_ids, device=device)
        token_mask[b, :c] = 1
    text_logits = h_comp @ model.text_output_weight().T
    vrt_logits = h_comp.new_full((len(items), clen, n_max), float("-inf"))
    for b, image in enumerate(images):
        protos = image.prototypes.to(h_comp.dtype)
        vrt_logits[b, :, : image.num_patches] = h_comp[b] @ protos.T
    logits = torch.cat([text_logits, vrt_logits], dim=-1)
    blocked = blocked_vrt_logits(items, vocab_rows, logits.shape[-1], clen).to(device)
    position_losses: list[Tensor] = []
    vrt_losses: list[Tensor] = []
    ce = losses.robust_token_ce(logits, targets, token_mask, blocked)

    if probe is not None:
        for b, it in enumerate(items):
            steps = [t for t, k in enumerate(it.vrt_object) if k >= 0]
            if steps:
                patches = [it.completion_ids[t] - vocab_rows for t in steps]
                h28, w28 = it.grid_thw[1] // 2, it.grid_thw[2] // 2
                vrt_losses.append(probe.vrt_loss(h_comp[b, steps], patches, h28, w28))

    # --- decoder on each object's VRT features -----------------------------------------
    boxes, scores, masks, gt_boxes, gt_masks = [], [], [], [], []
    tap = _MemoryTap(model) if probe is not None else None
    for b, (it, image) in enumerate(zip(items, images, strict=True)):
        if not it.decoded:
            continue
        feats = []
        for k in it.decoded:
            obj = it.objects[k]
            if use_prototype_features:
                feats.append(image.prototypes[torch.tensor(obj.picked, device=device)])
            else:
                steps = [t for t, o in enumerate(it.vrt_object) if o == k]
                feats.append(h_comp[b, torch.tensor(steps, device=device)])
        feats = torch.stack(feats)
        box, score, mask = model.vl_decoder.forward_batch(
            feats.to(model.dtype),
            torch.ones(feats.shape[:2], dtype=torch.bool, device=device),
            image.prototypes,
            image.high_res,
            image.cos,
            image.sin,
            image.grid_h14,
            image.grid_w14,
            model.row_of_cell(image),
        )
        if tap is not None and tap.memory is not None:
            position_losses.append(probe.memory_loss(tap.memory, image))
        boxes.append(box)
        scores.append(score)
        masks.extend(mask.unbind(0))
        gt_boxes.extend(it.objects[k].box_xyxy for k in it.decoded)
        gt_masks.extend(it.objects[k].mask for k in it.decoded)

    if tap is not None:
        tap.close()
    zero = ce.new_zeros(())
    scene = zero
    if scene_probe is not None:
        labelled = [(img, it.cells) for img, it in zip(images, items, strict=True) if it.cells]
        if labelled:
            scene = torch.stack([scene_probe.loss(img.embeds, c) for img, c in labelled]).mean()
    scene_term = scene_probe.scale * scene if scene_probe is not None else 0
    if not boxes:
        return StepLosses(ce + scene_term, ce, zero, zero, zero, zero, scene, 0.0, 0)
    position = sum((torch.stack(x).mean() for x in (position_losses, vrt_losses) if x), zero)
    pred_boxes = torch.cat(boxes)
    gt_xyxy = torch.stack(gt_boxes).to(device)
    box, giou, iou = losses.box_loss(pred_boxes, gt_xyxy, box_weights)
    score = losses.score_loss(torch.cat(scores), giou)
    mask_logits, mask_gt, valid = pad_maps(masks, gt_masks, device)
    mask = losses.mask_loss(mask_logits, mask_gt, valid)
    total = ce + box + score + mask + scene_term
    if probe is not None:
        total = total + probe.scale * position
    return StepLosses(
        total, ce, box, score, mask, position, scene, float(iou.mean()), len(gt_boxes)
    )


def pad_maps(
    preds: list[Tensor], gts: list[Tensor], device: torch.device
) -> tuple[Tensor, Tensor, Tensor]:
    """Stack maps of different sizes at the top-left of a common canvas, with validity."""
    h = max(p.shape[0] for p in preds)
    w = max(p.shape[1] for p in preds)
    logits = preds[0].new_zeros((len(preds), h, w))
    target = torch.zeros((len(preds), h, w), device=device)
    valid = torch.zeros((len(preds), h, w), device=device)
    for i, (p, g) in enumerate(zip(preds, gts, strict=True)):
        logits[i, : p.shape[0], : p.shape[1]] = p
        target[i, : g.shape[0], : g.shape[1]] = g.to(device)
        valid[i, : p.shape[0], : p.shape[1]] = 1
    return logits, target, valid
