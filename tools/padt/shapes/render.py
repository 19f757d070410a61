"""Antialiased shape coverage and textured backgrounds.

A shape is drawn at SUPERSAMPLE times the image resolution into a canvas the size of
its own bounding box, then box-filtered down: the result is a coverage map in [0, 1]
(the alpha used to composite it), and its pixels with coverage >= 0.5 are the
object's mask. Mask and picture therefore come from the same rendering.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4


@dataclass(frozen=True)
class Sprite:
    """A rendered shape: coverage (float32, h x w, in [0, 1]) and mask (coverage >= 0.5),
    to be pasted with its top-left corner at an integer pixel position."""

    coverage: np.ndarray
    mask: np.ndarray


def _regular(n: int, radius: float, phase: float) -> list[tuple[float, float]]:
    return [
        (
            radius * math.cos(phase + 2 * math.pi * k / n),
            radius * math.sin(phase + 2 * math.pi * k / n),
        )
        for k in range(n)
    ]


def outline(shape: str, size: float) -> list[tuple[float, float]] | None:
    """Vertices centred on the origin (y down) of a shape that fits a size x size
    square before rotation; None for the circle (drawn as an ellipse)."""
    h = size / 2
    if shape == "circle":
        return None
    if shape == "square":
        s = 0.86 * h
        return [(-s, -s), (s, -s), (s, s), (-s, s)]
    if shape == "triangle":
        # Equilateral, pointing up, side = size, centred on its box.
        tri_h = size * math.sqrt(3) / 2
        return [(0.0, -tri_h / 2), (h, tri_h / 2), (-h, tri_h / 2)]
    if shape == "star":
        outer = _regular(5, h, -math.pi / 2)
        inner = _regular(5, 0.46 * h, -math.pi / 2 + math.pi / 5)
        pts = [p for pair in zip(outer, inner, strict=True) for p in pair]
        return [(x, y + 0.095 * h) for x, y in pts]  # centre its bounding box
    if shape == "hexagon":
        return _regular(6, h, 0.0)
    if shape == "diamond":
        return [(0.0, -h), (0.7 * h, 0.0), (0.0, h), (-0.7 * h, 0.0)]
    if shape == "cross":
        a = h / 3
        return [
            (-a, -h), (a, -h), (a, -a), (h, -a), (h, a), (a, a),
            (a, h), (-a, h), (-a, a), (-h, a), (-h, -a), (-a, -a),
        ]  # fmt: skip
    raise ValueError(f"unknown shape {shape!r}")


def max_rotation(shape: str) -> float:
    """Largest rotation (radians) that keeps the shape unmistakable: a square turned
    45 degrees would read as a diamond, a diamond is never turned."""
    return {"circle": 0.0, "square": 0.2, "diamond": 0.0, "hexagon": 0.5}.get(shape, 0.3)


def render_shape(shape: str, size: float, angle: float, offset: tuple[float, float]) -> Sprite:
    """Rasterise a shape whose centre lies at `offset` (sub-pixel, in [0, 1)) from an
    integer grid point; the sprite's top-left corner sits 1 px outside its ink."""
    ss = SUPERSAMPLE
    pts = outline(shape, size)
    if pts is None:
        r = size / 2
        xmin, ymin, xmax, ymax = -r, -r, r, r
    else:
        c, s = math.cos(angle), math.sin(angle)
        pts = [(x * c - y * s, x * s + y * c) for x, y in pts]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        xmin, ymin, xmax, ymax = min(xs), min(ys), max(xs), max(ys)
    ox, oy = offset
    x0, y0 = math.floor(xmin + ox) - 1, math.floor(ymin + oy) - 1
    x1, y1 = math.ceil(xmax + ox) + 1, math.ceil(ymax + oy) + 1
    canvas = Image.new("L", ((x1 - x0) * ss, (y1 - y0) * ss), 0)
    draw = ImageDraw.Draw(canvas)
    cx, cy = (ox - x0) * ss, (oy - y0) * ss
    if pts is None:
        r = size / 2 * ss
        draw.ellipse((cx - r, cy - r, cx + r - 1, cy + r - 1), fill=255)
    else:
        draw.polygon([(cx + x * ss, cy + y * ss) for x, y in pts], fill=255)
    cov = np.asarray(canvas.reduce(ss), dtype=np.float32) / 255.0
    return Sprite(coverage=cov, mask=cov >= 0.5)


def _tone(rng: np.random.Generator, lo: float, hi: float, chroma: float) -> np.ndarray:
    """A low-saturation colour: grey level in [lo, hi] plus a small tint, so that no
    background reads as one of the object colours."""
    grey = rng.uniform(lo, hi)
    return np.clip(grey + rng.uniform(-chroma, chroma, 3), 0, 255).astype(np.float32)


def _coords(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Broadcastable pixel coordinates: ys (h, 1), xs (1, w), float32."""
    return (
        np.arange(height, dtype=np.float32)[:, None],
        np.arange(width, dtype=np.float32)[None, :],
    )


def _ramp(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A linear ramp in [0, 1] along a random direction, shape (h, w)."""
    theta = rng.uniform(0, 2 * math.pi)
    ys, xs = _coords(height, width)
    t = xs * np.float32(math.cos(theta)) + ys * np.float32(math.sin(theta))
    t -= t.min()
    return t / max(float(t.max()), 1.0)


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per pixel a + (b - a) * t, channels first: (3, h, w) from t (h, w)."""
    return a[:, None, None] + (b - a)[:, None, None] * t[None]


def background(rng: np.random.Generator, kind: str, height: int, width: int) -> np.ndarray:
    """A textured background, float32 channels-first (3, h, w), in [0, 255]."""
    a = _tone(rng, 70, 235, 16)
    b = np.clip(a + rng.choice((-1, 1)) * rng.uniform(25, 60) + rng.uniform(-12, 12, 3), 0, 255)
    b = b.astype(np.float32)
    if kind == "gradient":
        return _mix(a, b, _ramp(rng, height, width))
    if kind == "stripes":
        theta = rng.uniform(0, math.pi)
        period = rng.uniform(8, 32)
        ys, xs = _coords(height, width)
        phase = xs * np.float32(math.cos(theta) / period) + ys * np.float32(
            math.sin(theta) / period
        )
        duty = rng.uniform(0.3, 0.7)  # fraction of each period in the second tone
        t = ((phase - np.floor(phase)) < duty).astype(np.float32)
        return _mix(a, b, t * np.float32(rng.uniform(0.4, 0.8)))
    if kind == "checker":
        cell = int(rng.integers(8, 41))
        ys = (np.arange(height) + rng.integers(cell)) // cell
        xs = (np.arange(width) + rng.integers(cell)) // cell
        t = ((ys[:, None] + xs[None, :]) % 2).astype(np.float32)
        return _mix(a, b, t * np.float32(rng.uniform(0.3, 0.7)))
    if kind == "noise":
        # Smooth value noise (a coarse random grid, bicubically upsampled) plus grain.
        gh, gw = int(rng.integers(3, 12)), int(rng.integers(3, 12))
        grid = (rng.random((gh, gw)) * 255).astype(np.uint8)
        t = np.asarray(Image.fromarray(grid).resize((width, height), Image.BICUBIC), np.float32)
        out = _mix(a, b, t * np.float32(1 / 255))
        out += rng.integers(-14, 15, (height, width), dtype=np.int16)[None]
        return out
    raise ValueError(f"unknown background {kind!r}")


BACKGROUNDS = ("gradient", "noise", "stripes", "checker")
