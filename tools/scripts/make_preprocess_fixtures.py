"""Golden files for the engine's image path (packages/engine/test/image-*.test.ts).

Writes a few seeded synthetic images to packages/engine/test/fixtures/images/ and,
for each, what the Python reference makes of it:

- ``decoded``: the RGB uint8 pixels PIL gives (after the conversions the engine
  declares: EXIF orientation applied, alpha flattened onto white the way
  qwen_vl_utils' ``to_rgb`` does, grey/CMYK converted by PIL's ``convert("RGB")``);
- ``resize``: PIL ``Image.resize`` outputs (bicubic and Lanczos, up and down), for the
  resampler test;
- ``preprocess``: the Qwen2VLImageProcessor (transformers 4.50.3) output, with and
  without the PaDT demo's pre-resize of the long side to 644 px.

Tensors are summarised (sha256 of the little-endian bytes, sum, a few slices) to keep
the JSON small. Run from the repository root with
`PYTHONPATH=tools tools/.venv/bin/python tools/scripts/make_preprocess_fixtures.py`
(it uses padt.processing for qwen_vl_utils' smart_resize).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from transformers.models.qwen2_vl.image_processing_qwen2_vl import (
    Qwen2VLImageProcessor,
    smart_resize,
)

# qwen_vl_utils is not installed here: its smart_resize is our one copy's at_least_one_cell form.
from padt.processing import fetch_image_size

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "packages/engine/test/fixtures"
IMG_DIR = OUT_DIR / "images"
SLICE = 12
LONG_SIDES = (644, None)


def scene(width: int, height: int, seed: int) -> np.ndarray:
    """A smooth scene with a few hard edges and mild noise: realistic enough to exercise
    the filters' ringing and clipping, small enough once compressed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.empty((height, width, 3))
    for c in range(3):
        fx, fy, ph = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6.28)
        img[..., c] = 128 + 90 * np.sin(fx * xx / width * 6.28 + ph) * np.cos(
            fy * yy / height * 6.28
        )
    for _ in range(4):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        w, h = (
            rng.integers(width // 8 + 1, width // 2 + 2),
            rng.integers(height // 8 + 1, height // 2 + 2),
        )
        img[y0 : y0 + h, x0 : x0 + w] = rng.integers(0, 256, 3)
    cx, cy, r = width * 0.6, height * 0.4, min(width, height) * 0.25
    img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = (255, 255, 255)
    img += rng.normal(0, 4, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def save(name: str, im: Image.Image, **kwargs: object) -> None:
    buf = io.BytesIO()
    fmt = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[name.rsplit(".", 1)[1]]
    im.save(buf, format=fmt, **kwargs)
    (IMG_DIR / name).write_bytes(buf.getvalue())


def make_images() -> None:
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    save("rgb_37x53.png", Image.fromarray(scene(37, 53, 1)))
    save("rgb_200x150.png", Image.fromarray(scene(200, 150, 2)))
    save("rgb_448x336.jpg", Image.fromarray(scene(448, 336, 3)), quality=90)
    save("rgb_500x333.webp", Image.fromarray(scene(500, 333, 4)), quality=80)
    save("rgb_1000x700.jpg", Image.fromarray(scene(1000, 700, 5)), quality=70)
    save("grey_300x200.png", Image.fromarray(scene(300, 200, 6)).convert("L"))
    rgba = Image.fromarray(scene(240, 180, 7)).convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, 240).astype(np.uint8), (180, 1))
    alpha[60:120, 80:160] = 0
    rgba.putalpha(Image.fromarray(alpha))
    save("rgba_240x180.png", rgba)
    # Stored 320 wide x 240 high; orientation 6 means "rotate 90 degrees clockwise to
    # display", so the image as shown is 240 x 320.
    exif = Image.Exif()
    exif[0x0112] = 6
    save("exif6_320x240.jpg", Image.fromarray(scene(320, 240, 8)), quality=90, exif=exif.tobytes())
    save("cmyk_200x160.jpg", Image.fromarray(scene(200, 160, 9)).convert("CMYK"), quality=90)
    # Aspect 1:3 and 3:1, and odd sides that every path enlarges (the 644 pre-resize, the
    # 28 px minimum): the resampler's border windows and uneven tap counts.
    save("rgb_60x180.png", Image.fromarray(scene(60, 180, 10)))
    save("rgb_180x60.jpg", Image.fromarray(scene(180, 60, 11)), quality=90)
    save("rgb_29x31.png", Image.fromarray(scene(29, 31, 12)))
    # Stored 150 x 50 (3:1); orientation 8 ("rotate 90 degrees counter-clockwise to display")
    # shows it 50 x 150 (1:3).
    exif8 = Image.Exif()
    exif8[0x0112] = 8
    save("exif8_150x50.jpg", Image.fromarray(scene(150, 50, 13)), quality=90, exif=exif8.tobytes())


def load_rgb(path: Path) -> Image.Image:
    """The engine's declared decode. Deviations from the reference, on purpose:
    EXIF orientation is applied (the reference ignores it and sees photos sideways);
    RGBA is flattened onto white like qwen_vl_utils.to_rgb (the processor's own
    convert("RGB") would drop alpha and expose whatever colour transparent pixels hold)."""
    im = ImageOps.exif_transpose(Image.open(path))
    if im.mode == "RGBA":
        white = Image.new("RGB", im.size, (255, 255, 255))
        white.paste(im, mask=im.split()[3])
        return white
    return im.convert("RGB")


def summary(arr: np.ndarray) -> dict[str, object]:
    flat = np.ascontiguousarray(arr)
    rows = flat.reshape(flat.shape[0], -1)
    mid = rows.shape[0] // 2
    return {
        "shape": list(flat.shape),
        "sha256": hashlib.sha256(flat.astype(flat.dtype.newbyteorder("<")).tobytes()).hexdigest(),
        "sum": float(flat.astype(np.float64).sum()),
        "first": rows[0, :SLICE].tolist(),
        "middleRow": mid,
        "middle": rows[mid, :SLICE].tolist(),
        "lastTail": rows[-1, -SLICE:].tolist(),
    }


def demo_pre_resize(im: Image.Image, long_side: int) -> Image.Image:
    """PaDT eval/test_demo.py: process_vision_info (qwen_vl_utils fetch_image: smart_resize
    then PIL's default bicubic resize), then LANCZOS to long side 644 with int() truncation,
    applied to every image (small ones are enlarged)."""
    h, w = fetch_image_size(im.height, im.width)
    im = im.resize((w, h))
    scale = long_side / max(im.width, im.height)
    return im.resize((int(im.width * scale), int(im.height * scale)), Image.Resampling.LANCZOS)


def min_side_rule(im: Image.Image) -> Image.Image:
    """PaDT's eval and training scripts enlarge images with a side under 28 px (LANCZOS,
    shorter side to 28, int() truncation) before the processor, which refuses them."""
    w, h = im.size
    if w >= 28 and h >= 28:
        return im
    if w < h:
        size = (28, int(h * (28 / w)))
    else:
        size = (int(w * (28 / h)), 28)
    return im.resize(size, Image.Resampling.LANCZOS)


def resize_cases(w: int, h: int) -> list[tuple[int, int, str]]:
    return [
        (max(1, w // 3), max(1, h // 2), "bicubic"),
        (w * 2 + 1, h + 7, "bicubic"),
        (w, max(1, h - 5), "bicubic"),
        (max(1, (w * 2) // 3), h * 2, "lanczos"),
    ]


# (height, width) pairs: exact halves of 28 (42, 70, 98, 126, 154, 1050: where Python's
# round differs from Math.round), the min/max pixel bounds, and sizes the processor refuses.
SMART_RESIZE_CASES = [
    (42, 70), (70, 42), (98, 126), (154, 1050), (28, 28), (30, 33), (53, 37), (150, 200),
    (333, 500), (700, 1000), (644, 483), (4000, 3000), (8000, 6000), (20000, 100), (27, 400),
    (28, 5601), (14, 14), (1, 300),
]  # fmt: skip


def smart_resize_table() -> list[dict[str, object]]:
    rows = []
    for h, w in SMART_RESIZE_CASES:
        row: dict[str, object] = {"height": h, "width": w}
        for key, fn, args in (
            ("transformers", smart_resize, (h, w, 28, 3136, 12845056)),
            ("qwenVlUtils", fetch_image_size, (h, w)),
        ):
            try:
                row[key] = list(fn(*args))
            except ValueError:
                row[key] = None
        rows.append(row)
    return rows


def main() -> None:
    make_images()
    processor = Qwen2VLImageProcessor(min_pixels=3136, max_pixels=12845056)
    filters = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
    out: dict[str, object] = {
        "generator": "tools/scripts/make_preprocess_fixtures.py",
        "pillow": Image.__version__,
        "smartResize": smart_resize_table(),
        "images": [],
    }
    for path in sorted(IMG_DIR.iterdir()):
        rgb = load_rgb(path)
        decoded = np.asarray(rgb)
        entry: dict[str, object] = {
            "file": path.name,
            "bytes": path.stat().st_size,
            "width": rgb.width,
            "height": rgb.height,
            "decoded": summary(decoded),
            "resize": [],
            "preprocess": [],
        }
        for w, h, name in resize_cases(rgb.width, rgb.height):
            resized = np.asarray(rgb.resize((w, h), filters[name]))
            entry["resize"].append({"width": w, "height": h, "filter": name, **summary(resized)})
        for long_side in LONG_SIDES:
            src = demo_pre_resize(rgb, long_side) if long_side else min_side_rule(rgb)
            result = processor(images=[src], return_tensors="np")
            pixels = result["pixel_values"].astype(np.float32)
            _, gh, gw = (int(v) for v in result["image_grid_thw"][0])
            entry["preprocess"].append(
                {
                    "longSide": long_side,
                    "preResized": [src.height, src.width],
                    "resized": [gh * 14, gw * 14],
                    "gridThw": [1, gh, gw],
                    **summary(pixels),
                }
            )
        out["images"].append(entry)
    text = json.dumps(out, separators=(",", ":"))
    (OUT_DIR / "preprocess.json").write_text(text + "\n")
    total = sum(p.stat().st_size for p in IMG_DIR.iterdir())
    print(
        f"wrote {len(out['images'])} images ({total} bytes) and preprocess.json ({len(text)} bytes)"
    )


if __name__ == "__main__":
    main()
