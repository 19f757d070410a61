"""Samples: a scene with its COCO annotations and the PaDT task entries.

Every image is generated from its own seed, (seed, split, index), so any image can be
made alone, in any order, in parallel, and the same arguments always give the same
bytes. Annotation ids are image_id * 100 + k, unique without a running counter.
Objects are listed left to right (by visible-box centre x, then y); that order fixes
the order of objects of one category in an OVD answer.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..rle import mask_to_rle
from .captions import assemble, caption_pieces
from .referring import referring_expressions
from .scene import Scene, SceneObject, layout
from .tasks import RIC_PROMPT, ovd_answer, ovd_prompt, rec_answer, rec_prompt
from .vocab import CATEGORY_IDS, SHAPES

SPLITS = {"train": 0, "val": 1, "test": 2}
MAX_OVD_CATEGORIES = 6


@dataclass
class Sample:
    image: dict  # COCO image: id, file_name, width, height (+ background)
    pixels: np.ndarray  # uint8 (H, W, 3), RGB
    annotations: list[dict]  # COCO annotations (+ category name, colour, size, z, hidden)
    masks: list[np.ndarray]  # bool (H, W) visible masks, aligned with annotations
    referring: list[dict]
    ovd: list[dict]
    captions: list[dict]


def image_rng(split: str, index: int, seed: int = 0) -> np.random.Generator:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, not {split!r}")
    return np.random.default_rng(np.random.SeedSequence([seed, SPLITS[split], index]))


def _bbox(o: SceneObject) -> list[int]:
    """[x, y, w, h] of the visible mask, in pixels, as pycocotools' toBbox gives it."""
    rs, cs = o.region
    m = o.visible[rs, cs]
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    return [cs.start + x0, rs.start + y0, x1 - x0 + 1, y1 - y0 + 1]


def _ovd_categories(rng: np.random.Generator, present: list[str]) -> list[str]:
    """1 to 6 shape names; most lists mix present and absent categories, some hold
    only absent ones."""
    have = sorted(set(present), key=SHAPES.index)
    absent = [s for s in SHAPES if s not in have]
    k = int(rng.integers(1, MAX_OVD_CATEGORIES + 1))
    if absent and rng.random() < 0.15:
        chosen = list(rng.choice(absent, size=min(k, len(absent)), replace=False))
    else:
        n_have = int(rng.integers(1, min(k, len(have)) + 1))
        n_absent = min(k - n_have, len(absent))
        chosen = list(rng.choice(have, size=n_have, replace=False))
        if n_absent:
            chosen += list(rng.choice(absent, size=n_absent, replace=False))
    return [str(chosen[i]) for i in rng.permutation(len(chosen))]


def _annotations(scene: Scene, image_id: int) -> tuple[list[dict], list[np.ndarray]]:
    """COCO annotations and visible masks, objects ordered left to right."""
    boxes = [_bbox(o) for o in scene.objects]
    order = sorted(range(len(boxes)), key=lambda k: _centre(boxes[k]))
    anns, masks = [], []
    for k, n in enumerate(order):
        o = scene.objects[n]
        area = int(o.visible[o.region].sum())
        anns.append(
            {
                "id": image_id * 100 + k,
                "image_id": image_id,
                "category_id": CATEGORY_IDS[o.shape],
                "bbox": boxes[n],
                "area": area,
                "segmentation": mask_to_rle(o.visible),
                "iscrowd": 0,
                "category": o.shape,
                "colour": o.colour,
                "size": o.size,
                "z": o.z,
                "hidden": round(1 - area / o.full_area, 4),
            }
        )
        masks.append(o.visible)
    return anns, masks


def _centre(box: list[int]) -> tuple[float, float]:
    x, y, w, h = box
    return x + w / 2, y + h / 2


def _referring(rng: np.random.Generator, anns: list[dict], image_id: int) -> list[dict]:
    return [
        {
            "image_id": image_id,
            "expression": expr,
            "annotation_id": anns[i]["id"],
            "kind": kind,
            "prompt": rec_prompt(expr),
            "answer_template": rec_answer(expr),
        }
        for expr, i, kind in referring_expressions(anns, rng)
    ]


def _ovd(rng: np.random.Generator, anns: list[dict], image_id: int) -> list[dict]:
    present = [a["category"] for a in anns]
    asked = _ovd_categories(rng, present)
    template, order = ovd_answer(asked, present)
    return [
        {
            "image_id": image_id,
            "categories": asked,
            "prompt": ovd_prompt(asked),
            "answer_template": template,
            "annotation_ids": [anns[i]["id"] for i in order],
        }
    ]


def _captions(
    rng: np.random.Generator, anns: list[dict], image_id: int, background: str
) -> list[dict]:
    caption, template, phrases, order = assemble(caption_pieces(anns, background, rng))
    ids = [a["id"] for a in anns]
    return [
        {
            "image_id": image_id,
            "prompt": RIC_PROMPT,
            "caption": caption,
            "answer_template": template,
            "annotation_ids": [ids[i] for i in order],
            "phrases": [
                {
                    "text": p["text"],
                    "start": p["start"],
                    "end": p["end"],
                    "annotation_ids": [ids[i] for i in p["objects"]],
                }
                for p in phrases
            ],
        }
    ]


def generate_sample(split: str, index: int, seed: int = 0) -> Sample:
    """The index-th image (0-based) of a split; its image id is index + 1."""
    rng = image_rng(split, index, seed)
    scene = layout(rng)
    image_id = index + 1
    anns, masks = _annotations(scene, image_id)
    image = {
        "id": image_id,
        "file_name": f"{image_id:06d}.png",
        "width": scene.width,
        "height": scene.height,
        "background": scene.background,
    }
    return Sample(
        image,
        scene.pixels,
        anns,
        masks,
        _referring(rng, anns, image_id),
        _ovd(rng, anns, image_id),
        _captions(rng, anns, image_id, scene.background),
    )


def generate_split(split: str, count: int, seed: int = 0, start: int = 0) -> Iterator[Sample]:
    """Samples start .. start + count - 1 of a split, generated on the fly."""
    for index in range(start, start + count):
        yield generate_sample(split, index, seed)
