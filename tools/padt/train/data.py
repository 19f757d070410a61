"""Training items from Shapes samples: task choice, VRT picking, teacher-forcing ids, targets.

Everything random here comes from one numpy Generator handed in by the caller (seeded by
(seed, step)), so a step's batch is a pure function of the seed and the step number and a
resumed run sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from ..shapes import Sample, generate_sample
from ..shapes.vocab import COLOUR_NAMES, SHAPES, SIZE_NAMES

PICKS_PER_OBJECT = 5
MAX_DECODED = 4  # decoder losses on at most this many objects per item (CPU cost)
FOREGROUND_FRACTION = 1.0 / 28.0
CELL = 28
TASKS = ("referring", "ovd", "captions")
DEFAULT_TASK_WEIGHTS = (0.45, 0.3, 0.25)
_PLACEHOLDER = re.compile(r"<\|Obj_(\d+)\|>")


@dataclass
class TrainObject:
    picked: list[int]  # VRT target patches (raster 28-px cells), in answer order
    foreground: list[int]  # every foreground patch of the object
    box_xyxy: Tensor  # [4] normalised to the image size
    mask: Tensor  # float [4*H14, 4*W14] ground truth on the decoder's 4x map (spatial)


@dataclass
class TrainItem:
    pixel_values: Tensor  # [N, 1176]
    grid_thw: tuple[int, int, int]
    prompt_ids: list[int]
    completion_ids: list[int]  # text ids and VRT ids (V + patch), ending with <|im_end|>
    vrt_object: list[int]  # per completion token: object index for VRT targets, else -1
    objects: list[TrainObject]
    task: str
    decoded: list[int]  # objects whose box/score/mask losses this visit computes
    cells: CellLabels | None = None  # dense per-cell targets of the scene probe


IGNORE = -100  # cross_entropy's ignore_index: cells too mixed to label
OBJECT_CELL = 0.3  # an object owns a cell it covers at least this fraction of
BACKGROUND_CELL = 0.05  # a cell is background when all objects cover less than this


@dataclass
class CellLabels:
    """Per 28-px cell of the model's grid (raster order), what the generator knows is there:
    shape (len(SHAPES) = background), colour, size and instance (object index); IGNORE
    where no label applies (colour/size/instance of background, mixed cells)."""

    shape: Tensor  # int64 [N]
    colour: Tensor
    size: Tensor
    instance: Tensor


def foreground_patches(mask: np.ndarray, grid_h28: int, grid_w28: int) -> list[int]:
    """Raster indices of the 28-px cells (of the resized image's grid) whose area fraction
    covered by the mask is >= 1/28. The mask is area-averaged onto the grid. An object with
    no such cell keeps its best-covered cell."""
    frac = area_fraction(mask, grid_h28, grid_w28)
    cells = np.flatnonzero(frac.reshape(-1) >= FOREGROUND_FRACTION)
    if cells.size == 0:
        cells = np.array([int(np.argmax(frac))])
    return [int(c) for c in cells]


def area_fraction(mask: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    m = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32))[None, None]
    return F.adaptive_avg_pool2d(m, (out_h, out_w))[0, 0].numpy()


def cell_labels(sample: Sample, grid_h28: int, grid_w28: int) -> CellLabels:
    n = grid_h28 * grid_w28
    if not sample.masks:
        frac = np.zeros((0, n), np.float32)
    else:
        frac = np.stack([area_fraction(m, grid_h28, grid_w28).reshape(-1) for m in sample.masks])
    total = frac.sum(0) if len(frac) else np.zeros(n, np.float32)
    owner = frac.argmax(0) if len(frac) else np.zeros(n, np.int64)
    owned = (frac.max(0) >= OBJECT_CELL) if len(frac) else np.zeros(n, bool)
    background = total < BACKGROUND_CELL
    anns = sample.annotations

    def per_object(values: list[int | None]) -> Tensor:
        out = np.full(n, IGNORE, np.int64)
        if values:
            known = np.asarray([IGNORE if v is None else v for v in values], np.int64)
            out[owned] = known[owner[owned]]
        return torch.from_numpy(out)

    shape = per_object([SHAPES.index(a["category"]) for a in anns])
    shape[torch.from_numpy(background)] = len(SHAPES)
    return CellLabels(
        shape=shape,
        colour=per_object([COLOUR_NAMES.index(a["colour"]) for a in anns]),
        size=per_object([SIZE_NAMES.index(a["size"]) if a["size"] else None for a in anns]),
        instance=per_object(list(range(len(anns)))),
    )


def mask_target(mask: np.ndarray, grid_h14: int, grid_w14: int) -> Tensor:
    """Ground-truth mask on the decoder's (4*H14, 4*W14) map: area fraction > 0.5."""
    return torch.from_numpy(area_fraction(mask, 4 * grid_h14, 4 * grid_w14) > 0.5).float()


def pick_patches(foreground: list[int], rng: np.random.Generator, k: int = PICKS_PER_OBJECT):
    replace = len(foreground) < k
    return [int(p) for p in rng.choice(np.array(foreground), size=k, replace=replace)]


def template_to_ids(
    template: str, object_patches: list[list[int]], tokenizer, vocab_rows: int
) -> tuple[list[int], list[int]]:
    """Answer template -> completion ids: each `<|Obj_k|>` becomes V + p for the picked
    patches p of object k; text pieces are tokenized separately (as added VRT tokens split
    the text in the reference). Appends <|im_end|>. Returns (ids, object index per id or -1)."""
    ids: list[int] = []
    owner: list[int] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(template):
        piece = template[pos : match.start()]
        if piece:
            text_ids = tokenizer.encode(piece, add_special_tokens=False)
            ids += text_ids
            owner += [-1] * len(text_ids)
        k = int(match.group(1))
        ids += [vocab_rows + p for p in object_patches[k]]
        owner += [k] * len(object_patches[k])
        pos = match.end()
    tail = template[pos:]
    if tail:
        text_ids = tokenizer.encode(tail, add_special_tokens=False)
        ids += text_ids
        owner += [-1] * len(text_ids)
    ids.append(tokenizer.convert_tokens_to_ids("<|im_end|>"))
    owner.append(-1)
    return ids, owner


def choose_entry(sample: Sample, rng: np.random.Generator, weights=DEFAULT_TASK_WEIGHTS):
    """(task, prompt, answer template, annotation ids in placeholder order)."""
    w = np.array(weights, dtype=float)
    if not sample.referring:
        w[0] = 0.0
    task = TASKS[int(rng.choice(len(TASKS), p=w / w.sum()))]
    if task == "referring":
        entry = sample.referring[int(rng.integers(len(sample.referring)))]
        return task, entry["prompt"], entry["answer_template"], [entry["annotation_id"]]
    entry = getattr(sample, task)[0]
    return task, entry["prompt"], entry["answer_template"], list(entry["annotation_ids"])


def prompt_ids(tokenizer, chat_template: str, prompt: str, image_tokens: int) -> list[int]:
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
    text = tokenizer.apply_chat_template(
        messages, chat_template=chat_template, tokenize=False, add_generation_prompt=True
    )
    text = text.replace("<|image_pad|>", "<|image_pad|>" * image_tokens)
    return tokenizer.encode(text, add_special_tokens=False)


def make_item(
    sample: Sample,
    rng: np.random.Generator,
    tokenizer,
    image_processor,
    vocab_rows: int,
    weights=DEFAULT_TASK_WEIGHTS,
    max_decoded: int = MAX_DECODED,
) -> TrainItem:
    task, prompt, template, ann_ids = choose_entry(sample, rng, weights)
    processed = image_processor(images=[Image.fromarray(sample.pixels)], return_tensors="pt")
    t, h14, w14 = (int(v) for v in processed["image_grid_thw"][0])
    h28, w28 = h14 // 2, w14 // 2
    index = {a["id"]: i for i, a in enumerate(sample.annotations)}
    width, height = sample.image["width"], sample.image["height"]
    objects = []
    for ann_id in ann_ids:
        i = index[ann_id]
        fg = foreground_patches(sample.masks[i], h28, w28)
        x, y, w, h = sample.annotations[i]["bbox"]
        box = torch.tensor([x / width, y / height, (x + w) / width, (y + h) / height])
        objects.append(
            TrainObject(pick_patches(fg, rng), fg, box, mask_target(sample.masks[i], h14, w14))
        )
    completion, owner = template_to_ids(
        template, [o.picked for o in objects], tokenizer, vocab_rows
    )
    chat_template = tokenizer.chat_template
    decoded = list(range(len(objects)))
    if len(objects) > max_decoded:
        decoded = sorted(int(k) for k in rng.choice(len(objects), max_decoded, replace=False))
    return TrainItem(
        pixel_values=processed["pixel_values"],
        grid_thw=(t, h14, w14),
        prompt_ids=prompt_ids(tokenizer, chat_template, prompt, h28 * w28),
        completion_ids=completion,
        vrt_object=owner,
        objects=objects,
        task=task,
        decoded=decoded,
        cells=cell_labels(sample, h28, w28),
    )


def step_rng(seed: int, step: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, 7919, step]))


def make_batch(
    step: int,
    batch: int,
    seed: int,
    tokenizer,
    image_processor,
    vocab_rows: int,
    train_images: int = 1_000_000,
    weights=DEFAULT_TASK_WEIGHTS,
    max_decoded: int = MAX_DECODED,
) -> list[TrainItem]:
    """The batch of training step `step` (0-based): a pure function of (seed, step)."""
    rng = step_rng(seed, step)
    indices = rng.integers(0, train_images, size=batch)
    return [
        make_item(
            generate_sample("train", int(i), seed=seed),
            rng,
            tokenizer,
            image_processor,
            vocab_rows,
            weights,
            max_decoded,
        )
        for i in indices
    ]
