"""Reference side of bench/engine/preprocess.mjs: the Python reference's preprocessing
(tools/padt/processing.py: PIL decode, to_rgb, the demo's pre-resize, then transformers'
Qwen2VLImageProcessor) timed in process, one request per stdin line.

Usage: preprocess_reference.py OUT_DIR. It first writes the bench images to OUT_DIR and prints
{"ready": true, "images": [...]}; then, for each line {"file": path, "long_side": 644 | null},
it runs the preprocessing once and prints {"ms": elapsed, "shape": [...], "sha256": hex}.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

from padt.processing import QWEN_IMAGE_SETTINGS, pre_resize
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

# (width, height): a 448 px square and a 1080p frame, each as PNG and as JPEG.
SIZES = ((448, 448), (1920, 1080))


def scene(width: int, height: int, seed: int) -> np.ndarray:
    """Smooth gradients, hard-edged blocks and noise: compresses like a photo, not a flat
    colour, so the decoders do real work."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.stack(
        [
            128
            + 100 * np.sin(xx / width * 6.28 * (c + 1) + c) * np.cos(yy / height * 4.0)
            for c in range(3)
        ],
        axis=-1,
    )
    for _ in range(6):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        img[y0 : y0 + height // 5, x0 : x0 + width // 5] = rng.integers(0, 256, 3)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def write_images(out: Path) -> list[dict[str, object]]:
    images = []
    for i, (w, h) in enumerate(SIZES):
        im = Image.fromarray(scene(w, h, i))
        for fmt, ext, kwargs in (("PNG", "png", {}), ("JPEG", "jpg", {"quality": 90})):
            path = out / f"bench_{w}x{h}.{ext}"
            im.save(path, format=fmt, **kwargs)
            images.append(
                {
                    "file": str(path),
                    "width": w,
                    "height": h,
                    "bytes": path.stat().st_size,
                }
            )
    return images


def main() -> None:
    out = Path(sys.argv[1])
    processor = Qwen2VLImageProcessor(**QWEN_IMAGE_SETTINGS)
    images = write_images(out)
    data = {image["file"]: Path(str(image["file"])).read_bytes() for image in images}
    print(
        json.dumps(
            {
                "ready": True,
                "images": images,
                "pillow": PIL.__version__,
                "numpy": np.__version__,
                "python": sys.version.split()[0],
            }
        ),
        flush=True,
    )
    for line in sys.stdin:
        request = json.loads(line)
        encoded = data[request["file"]]
        started = time.perf_counter()
        image = pre_resize(Image.open(io.BytesIO(encoded)), request["long_side"])
        pixels = processor(images=[image], return_tensors="np")["pixel_values"]
        ms = (time.perf_counter() - started) * 1000
        digest = hashlib.sha256(
            np.ascontiguousarray(pixels, dtype="<f4").tobytes()
        ).hexdigest()
        print(
            json.dumps({"ms": ms, "shape": list(pixels.shape), "sha256": digest}),
            flush=True,
        )


if __name__ == "__main__":
    main()
