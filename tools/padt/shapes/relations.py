"""Spatial relations and attribute descriptions, decided from the annotations alone
(category, colour, size, visible-mask bbox, visible area).

Relations are three-valued so that every emitted expression is unambiguous with a
margin: `holds` is what must be true of the referent, `possible` is what must be false
of every other candidate. "A left of B" holds when A's centre lies left of B's left
edge and B's centre right of A's right edge; it is possible as soon as A's centre is
left of B's centre. Between the two, an expression is not emitted.
"""

from collections.abc import Sequence

Ann = dict  # an annotation: category (name), colour, size, bbox [x, y, w, h], area
Desc = tuple[str | None, str | None, str | None]  # (size, colour, shape); None = any

RELATIONS = ("left of", "right of", "above", "below")
EXTREMES = ("leftmost", "rightmost", "topmost", "bottommost", "largest", "smallest")

# How much bigger (visible area) the largest object must be than every other candidate.
AREA_MARGIN = 1.6
# How far (px, or fraction of the referent's extent) ahead of the others an extreme
# object's centre must be.
POSITION_MARGIN_PX, POSITION_MARGIN_FRAC = 8.0, 0.3


def centre(a: Ann) -> tuple[float, float]:
    x, y, w, h = a["bbox"]
    return x + w / 2, y + h / 2


def matches(a: Ann, desc: Desc) -> bool:
    size, colour, shape = desc
    return (
        (size is None or a["size"] == size)
        and (colour is None or a["colour"] == colour)
        and (shape is None or a["category"] == shape)
    )


def select(anns: Sequence[Ann], desc: Desc) -> list[int]:
    return [i for i, a in enumerate(anns) if matches(a, desc)]


def describe(desc: Desc, noun: str = "shape") -> str:
    """'small red circle', 'blue shape', 'large triangle' (no article)."""
    size, colour, shape = desc
    return " ".join(w for w in (size, colour, shape or noun) if w)


def relation_holds(a: Ann, b: Ann, rel: str) -> bool:
    ax, ay, aw, ah = a["bbox"]
    bx, by, bw, bh = b["bbox"]
    if rel == "left of":
        return ax + aw / 2 < bx and bx + bw / 2 > ax + aw
    if rel == "right of":
        return ax + aw / 2 > bx + bw and bx + bw / 2 < ax
    if rel == "above":
        return ay + ah / 2 < by and by + bh / 2 > ay + ah
    if rel == "below":
        return ay + ah / 2 > by + bh and by + bh / 2 < ay
    raise ValueError(f"unknown relation {rel!r}")


def relation_possible(a: Ann, b: Ann, rel: str) -> bool:
    (acx, acy), (bcx, bcy) = centre(a), centre(b)
    if rel == "left of":
        return acx < bcx
    if rel == "right of":
        return acx > bcx
    if rel == "above":
        return acy < bcy
    if rel == "below":
        return acy > bcy
    raise ValueError(f"unknown relation {rel!r}")


def _key(a: Ann, extreme: str) -> float:
    """Smaller is more extreme."""
    cx, cy = centre(a)
    return {
        "leftmost": cx,
        "rightmost": -cx,
        "topmost": cy,
        "bottommost": -cy,
        "largest": -a["area"],
        "smallest": a["area"],
    }[extreme]


def extreme_clear(anns: Sequence[Ann], target: int, others: Sequence[int], extreme: str) -> bool:
    """True when `target` is the extreme one among target + others, by a clear margin."""
    t = anns[target]
    if extreme in ("largest", "smallest"):
        for o in others:
            big, small = (t, anns[o]) if extreme == "largest" else (anns[o], t)
            if big["area"] < AREA_MARGIN * small["area"]:
                return False
        return True
    axis = 0 if extreme in ("leftmost", "rightmost") else 1
    margin = max(POSITION_MARGIN_PX, POSITION_MARGIN_FRAC * t["bbox"][2 + axis])
    return all(_key(anns[o], extreme) - _key(t, extreme) >= margin for o in others)
