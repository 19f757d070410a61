"""Statistics of a split's first images: python -m padt.shapes stats --split train --count 200"""

from collections import Counter

import numpy as np
from PIL import Image

from .dataset import Sample

CELL = 28  # the model's merged-patch size in pixels


def foreground_cells(mask: np.ndarray) -> int:
    """Cells of the 28-px grid the object occupies at the model's input scale, about as the
    reference preprocessing counts them: the mask resized (bilinear) to the sides
    rounded to multiples of 28, a cell is foreground when it is >= 1/28 covered."""
    h, w = mask.shape
    rh, rw = max(CELL, round(h / CELL) * CELL), max(CELL, round(w / CELL) * CELL)
    m = np.ascontiguousarray(mask, dtype=np.uint8) * np.uint8(255)
    m = np.asarray(Image.fromarray(m).resize((rw, rh), Image.BILINEAR), np.int32)
    cells = m.reshape(rh // CELL, CELL, rw // CELL, CELL).sum((1, 3))
    return int((cells >= 255 * CELL).sum())  # mean >= 255 / 28 over 28 * 28 pixels


def _range(values) -> str:
    v = np.asarray(values)
    return f"min {v.min():g}, median {np.median(v):g}, mean {v.mean():.2f}, max {v.max():g}"


def summarise(samples: list[Sample]) -> list[str]:
    anns = [a for s in samples for a in s.annotations]
    hidden = np.array([a["hidden"] for a in anns])
    ws = [s.image["width"] for s in samples]
    hs = [s.image["height"] for s in samples]
    refs = [r for s in samples for r in s.referring]
    ovd = [o for s in samples for o in s.ovd]
    absent = [
        bool(set(o["categories"]) - {a["category"] for a in s.annotations})
        for s in samples
        for o in s.ovd
    ]
    cells = [foreground_cells(m) for s in samples for m in s.masks]
    per_image = Counter(len(s.annotations) for s in samples)
    lines = [
        f"images: {len(samples)}; width {_range(ws)}; height {_range(hs)}",
        f"  sides not multiples of 28: {sum(w % 28 != 0 or h % 28 != 0 for w, h in zip(ws, hs, strict=True))}",
        f"  backgrounds: {dict(Counter(s.image['background'] for s in samples))}",
        f"objects: {len(anns)}; per image {_range([len(s.annotations) for s in samples])}",
        f"  histogram: {dict(sorted(per_image.items()))}",
        f"  shapes: {dict(Counter(a['category'] for a in anns))}",
        f"  colours: {dict(Counter(a['colour'] for a in anns))}",
        f"  sizes: {dict(Counter(a['size'] for a in anns))}",
    ]
    for size in ("small", "large"):
        area = [a["area"] for a in anns if a["size"] == size]
        if area:
            lines.append(f"  {size} visible area px: {_range(area)}")
    lines += [
        f"  28-px foreground cells per object: {_range(cells)}",
        f"occlusion: {np.mean(hidden > 0):.1%} of objects partly hidden "
        f"({np.mean(hidden > 0.1):.1%} by more than 10 %), "
        f"mean hidden fraction of those {hidden[hidden > 0].mean() if (hidden > 0).any() else 0:.3f}, "
        f"max {hidden.max():.3f}; images with occlusion "
        f"{np.mean([any(a['hidden'] > 0 for a in s.annotations) for s in samples]):.1%}",
        f"referring: {len(refs)} ({len(refs) / len(samples):.1f}/image), "
        f"{dict(Counter(r['kind'] for r in refs))}",
        f"ovd: {len(ovd)}; list lengths {dict(sorted(Counter(len(o['categories']) for o in ovd).items()))}; "
        f"with absent categories {np.mean(absent):.1%}; none present "
        f"{np.mean([not o['annotation_ids'] for o in ovd]):.1%}",
        f"captions: {sum(len(s.captions) for s in samples)}; grounded phrases "
        f"{sum(len(c['phrases']) for s in samples for c in s.captions)}",
    ]
    return lines
