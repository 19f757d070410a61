"""COCO RLE of a mask, as the PaDT reference writes it (counts as a str): the one encoder the
reference's post-processing, the golden files and the Shapes generator share. pycocotools
does the encoding; no torch, so the data generator stays light."""

from __future__ import annotations

import numpy as np
from pycocotools import mask as coco_mask


def mask_to_rle(mask: np.ndarray) -> dict[str, object]:
    """[height, width] mask (bool or 0/1) -> {"size": [h, w], "counts": str}."""
    rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}
