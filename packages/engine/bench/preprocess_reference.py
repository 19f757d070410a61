"""Reference side of bench/preprocess.mjs: writes the bench images and times the Python
reference (PIL decode + Qwen2VLImageProcessor, transformers 4.50.3) on them.

Usage: preprocess_reference.py OUT_DIR ITERATIONS; prints one JSON object on stdout.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

SIZES = ((640, 480), (1920, 1080), (4032, 3024))


def write_images(out: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for w, h in SIZES:
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) % 256)], axis=-1)
        img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
        path = out / f"bench_{w}x{h}.jpg"
        Image.fromarray(img).save(path, quality=90)
        paths.append(path)
    return paths


def demo_pre_resize(im: Image.Image, long_side: int) -> Image.Image:
    """The PaDT demo's resizes (see packages/engine/src/models/padt/pre_resize.ts)."""
    factor = 28
    h = max(factor, round(im.height / factor) * factor)
    w = max(factor, round(im.width / factor) * factor)
    im = im.resize((w, h))
    scale = long_side / max(im.width, im.height)
    return im.resize(
        (int(im.width * scale), int(im.height * scale)), Image.Resampling.LANCZOS
    )


def main() -> None:
    out, iterations = Path(sys.argv[1]), int(sys.argv[2])
    processor = Qwen2VLImageProcessor(min_pixels=3136, max_pixels=12845056)
    results = []
    for path in write_images(out):
        data = path.read_bytes()
        timings = {}
        for long_side in (644, None):

            def run(long_side: int | None = long_side) -> None:
                im = Image.open(io.BytesIO(data)).convert("RGB")
                if long_side:
                    im = demo_pre_resize(im, long_side)
                processor(images=[im], return_tensors="np")

            run()  # warm-up
            start = time.perf_counter()
            for _ in range(iterations):
                run()
            timings["null" if long_side is None else str(long_side)] = (
                (time.perf_counter() - start) * 1000 / iterations
            )
        results.append({"file": str(path), "ms": timings})
    print(json.dumps({"images": results}))


if __name__ == "__main__":
    main()
