"""Scene layout: objects placed in z-order with capped occlusion, then composited.

Each object is rendered once (shape, size, rotation, sub-pixel offset) and then tried
at random integer positions. A position is accepted when every object already placed
keeps at least 1 - MAX_HIDDEN of its own mask visible, and when the new object does
not touch an object of the same colour (two overlapping red shapes would merge into
one blob with no visible boundary). The ground truth of an object is its visible mask:
its own mask minus the masks of every object drawn above it.
"""

import io
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .render import BACKGROUNDS, Sprite, background, max_rotation, render_shape
from .vocab import (
    COLOUR_NAMES,
    COLOURS,
    MAX_HIDDEN,
    MAX_OBJECTS,
    MAX_SIDE,
    MIN_SIDE,
    SCALE_MIN,
    SCALE_SPAN,
    SHAPES,
    SIZES,
)

PLACEMENT_TRIES = 25


@dataclass
class SceneObject:
    shape: str
    colour: str
    size: str | None  # "small" | "large" relative to the scene's other objects; None when
    # the scene holds one class only (no size word then tells objects apart)
    nominal: float  # side of the square the shape was drawn in, px
    rgb: np.ndarray  # float32 (3,)
    sprite: Sprite
    x: int  # sprite top-left in the image
    y: int
    z: int  # drawing order, 0 = bottom
    visible: np.ndarray = field(repr=False, default=None)  # bool (H, W), set by layout()

    @cached_property
    def full_area(self) -> int:
        return int(self.sprite.mask.sum())

    @property
    def region(self) -> tuple[slice, slice]:
        """The sprite's rows and columns in the image; the visible mask lies inside."""
        h, w = self.sprite.mask.shape
        return slice(self.y, self.y + h), slice(self.x, self.x + w)


@dataclass
class Scene:
    width: int
    height: int
    background: str
    objects: list[SceneObject]  # in z-order, bottom first
    pixels: np.ndarray  # uint8 (H, W, 3)


def _object_colour(rng: np.random.Generator, name: str) -> np.ndarray:
    base = np.asarray(COLOURS[name], np.float32)
    return np.clip(base * rng.uniform(0.88, 1.08) + rng.uniform(-10, 10, 3), 0, 255).astype(
        np.float32
    )


BLUR_P, JPEG_P = 0.25, 0.3
OUTLINE_P = 0.3
CLUTTER_MAX = 6


def outline_ring(rng: np.random.Generator, coverage: np.ndarray) -> np.ndarray | None:
    """Some objects get a border 1-3 px wide: coverage minus its erosion, or None."""
    if rng.random() >= OUTLINE_P:
        return None
    width = int(rng.integers(1, 4))
    im = Image.fromarray((coverage * 255).astype(np.uint8))
    inner = np.asarray(im.filter(ImageFilter.MinFilter(2 * width + 1)), np.float32) / 255
    return np.clip(coverage - inner, 0, 1)


def clutter(rng: np.random.Generator, img: np.ndarray) -> None:
    """Non-target marks on the background (thin lines, dots, arcs) in low-saturation tones,
    so that "not an object" is more than "flat or textured": drawn in place on the float
    channels-first image, under the objects, never in the masks."""
    n = int(rng.integers(0, CLUTTER_MAX + 1))
    if n == 0:
        return
    _, height, width = img.shape
    marks = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(marks)
    for _ in range(n):
        x0, y0 = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        x1, y1 = x0 + rng.uniform(-60, 60), y0 + rng.uniform(-60, 60)
        kind = int(rng.integers(3))
        if kind == 0:
            draw.line((x0, y0, x1, y1), fill=255, width=int(rng.integers(1, 3)))
        elif kind == 1:
            r = float(rng.uniform(1, 3))
            draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=255)
        else:
            box = (min(x0, x1), min(y0, y1), max(x0, x1) + 1, max(y0, y1) + 1)
            draw.arc(box, float(rng.uniform(0, 360)), float(rng.uniform(0, 360)), fill=255)
    alpha = np.asarray(marks, np.float32) * np.float32(rng.uniform(0.3, 0.8) / 255)
    grey = np.float32(rng.uniform(30, 225))
    tint = (grey + rng.uniform(-12, 12, 3)).astype(np.float32)
    img *= 1 - alpha[None]
    img += alpha[None] * tint[:, None, None]


def degrade(rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
    """Camera-like damage on some images: a mild Gaussian blur, JPEG artefacts. Masks stay
    those of the clean rendering (the objects have not moved)."""
    blur, jpeg = rng.random() < BLUR_P, rng.random() < JPEG_P
    radius, quality = float(rng.uniform(0.4, 1.2)), int(rng.integers(40, 90))
    if not (blur or jpeg):
        return pixels
    im = Image.fromarray(pixels)
    if blur:
        im = im.filter(ImageFilter.GaussianBlur(radius))
    if jpeg:
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=quality)
        im = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return np.asarray(im, np.uint8).copy()


def _fits(
    objs: list[SceneObject], vis: list[np.ndarray], counts: list[int], new: SceneObject
) -> bool:
    h, w = new.sprite.mask.shape
    x0, y0, x1, y1 = new.x, new.y, new.x + w, new.y + h
    for o, v, n in zip(objs, vis, counts, strict=True):
        oh, ow = o.sprite.mask.shape
        ix0, iy0 = max(x0, o.x), max(y0, o.y)
        ix1, iy1 = min(x1, o.x + ow), min(y1, o.y + oh)
        if ix0 >= ix1 or iy0 >= iy1:
            continue
        if o.colour == new.colour:
            return False
        covered = v[iy0:iy1, ix0:ix1] & new.sprite.mask[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0]
        hidden = int(covered.sum())
        if hidden == 0:
            continue
        remaining = n - hidden
        if remaining < (1 - MAX_HIDDEN) * o.full_area:
            return False
    return True


def layout(rng: np.random.Generator) -> Scene:
    width = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
    height = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
    kind = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    wanted = int(rng.integers(1, MAX_OBJECTS + 1))
    short = min(width, height)
    # sqrt: more weight on larger scales than uniform, so tiny scenes stay a minority
    top = max(SCALE_MIN, short / SCALE_SPAN)
    base = SCALE_MIN + (top - SCALE_MIN) * float(np.sqrt(rng.random()))
    objs: list[SceneObject] = []
    vis: list[np.ndarray] = []  # visible masks so far, full image, same order as objs
    counts: list[int] = []  # their pixel counts
    for _ in range(wanted):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        colour = COLOUR_NAMES[int(rng.integers(len(COLOUR_NAMES)))]
        size = "large" if rng.random() < 0.45 else "small"
        lo, hi = (base * f for f in SIZES[size])
        hi = min(hi, (short - 4) / 1.12)  # rotated extent <= 1.12 x nominal
        if hi < lo:  # a large object does not fit this image
            size, (lo, hi) = "small", tuple(base * f for f in SIZES["small"])
        nominal = float(rng.uniform(lo, hi))
        rot = max_rotation(shape)
        angle = float(rng.uniform(-rot, rot)) if rot else 0.0
        sprite = render_shape(shape, nominal, angle, (float(rng.random()), float(rng.random())))
        sh, sw = sprite.mask.shape
        if sw > width or sh > height:
            continue
        obj = SceneObject(
            shape, colour, size, nominal, _object_colour(rng, colour), sprite, 0, 0, 0
        )
        for _ in range(PLACEMENT_TRIES):
            obj.x = int(rng.integers(0, width - sw + 1))
            obj.y = int(rng.integers(0, height - sh + 1))
            if _fits(objs, vis, counts, obj):
                break
        else:
            continue
        m = np.zeros((height, width), bool, order="F")  # Fortran: what RLE encoding wants
        r = obj.region
        m[r] = sprite.mask
        for k, v in enumerate(vis):
            counts[k] -= int((v[r] & sprite.mask).sum())
            v[r] &= ~sprite.mask
        obj.z = len(objs)
        objs.append(obj)
        vis.append(m)
        counts.append(obj.full_area)
    if not objs:  # always at least one object: a small one always fits
        return layout(rng)
    relative = len({o.size for o in objs}) > 1
    for o, v in zip(objs, vis, strict=True):
        o.visible = v
        o.size = o.size if relative else None
    pixels = _composite(rng, kind, width, height, objs)
    return Scene(width, height, kind, objs, pixels)


def _composite(
    rng: np.random.Generator, kind: str, width: int, height: int, objs: list[SceneObject]
) -> np.ndarray:
    """Background, then each object alpha-blended by its coverage, then grain; returns
    uint8 (H, W, 3). Works channels-first: numpy is slow on a trailing axis of 3."""
    img = background(rng, kind, height, width)
    clutter(rng, img)
    for o in objs:
        h, w = o.sprite.coverage.shape
        a = o.sprite.coverage[None]
        # A soft shading ramp across the object so faces are not perfectly flat.
        shade = 1 + rng.uniform(-0.12, 0.12) * np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        fill = o.rgb[:, None, None] * shade[None]
        ring = outline_ring(rng, o.sprite.coverage)
        if ring is not None:  # a darker (or lighter) border of the same hue
            tone = np.float32(rng.choice((rng.uniform(0.35, 0.7), rng.uniform(1.15, 1.3))))
            fill = fill + ring[None] * (np.clip(o.rgb * tone, 0, 255)[:, None, None] - fill)
        region = img[:, o.y : o.y + h, o.x : o.x + w]
        region *= 1 - a
        region += a * fill
    k = int(rng.integers(2, 9))  # sensor-like grain over everything, uniform in [-k, k]
    img += rng.integers(-k, k + 1, (height, width), dtype=np.int16)[None]
    img += 0.5
    np.clip(img, 0, 255, out=img)
    out = np.empty((height, width, 3), np.uint8)
    for c in range(3):  # faster than a transposed copy
        out[..., c] = img[c]
    return degrade(rng, out)
