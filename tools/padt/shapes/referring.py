"""Referring expressions that identify exactly one object, by construction.

Three families, each checked against the whole scene before it is emitted:
- attributes: "the small red circle", "the blue shape", "the triangle";
- relation to a uniquely described anchor: "the blue star left of the green square";
- extremes among several look-alikes: "the largest triangle", "the leftmost red shape".
"""

import itertools
from collections.abc import Sequence

import numpy as np

from .relations import (
    EXTREMES,
    RELATIONS,
    Ann,
    Desc,
    describe,
    extreme_clear,
    relation_holds,
    relation_possible,
    select,
)


def descriptions(a: Ann) -> list[Desc]:
    """Every non-empty subset of the object's (size, colour, shape), as descriptions; the
    size only where the scene has one (relative sizes: see vocab.SIZES)."""
    attrs = (a["size"], a["colour"], a["category"])
    return [
        tuple(v if m else None for v, m in zip(attrs, mask, strict=True))
        for mask in itertools.product((0, 1), repeat=3)
        if any(mask) and not (mask[0] and attrs[0] is None)
    ]


class _Scene:
    """The annotations of one image, with the matches of each description cached."""

    def __init__(self, anns: Sequence[Ann]):
        self.anns = anns
        self.descs = [descriptions(a) for a in anns]
        self._sel: dict[Desc, list[int]] = {}

    def select(self, d: Desc) -> list[int]:
        if d not in self._sel:
            self._sel[d] = select(self.anns, d)
        return self._sel[d]

    def unique(self, i: int) -> list[Desc]:
        return [d for d in self.descs[i] if self.select(d) == [i]]

    def ambiguous(self, i: int) -> list[tuple[Desc, list[int]]]:
        """Descriptions of object i that match other objects too, with those others."""
        out = []
        for d in self.descs[i]:
            cands = self.select(d)
            if len(cands) > 1:
                out.append((d, [c for c in cands if c != i]))
        return out


def _noun(rng: np.random.Generator) -> str:
    return "shape" if rng.random() < 0.7 else "object"


def _relations(sc: _Scene, i: int) -> list[tuple[Desc, str, Desc]]:
    """(description, relation, anchor description): the description matches several
    objects, the anchor's only one; the relation holds for object i and is not even
    possible for the other matches."""
    anns = sc.anns
    holding = [
        (j, rel)
        for j, b in enumerate(anns)
        if j != i
        for rel in RELATIONS
        if relation_holds(anns[i], b, rel)
    ]
    out = []
    if not holding:
        return out
    for d, others in sc.ambiguous(i):
        for j, rel in holding:
            if j in others:
                continue
            if not any(relation_possible(anns[o], anns[j], rel) for o in others):
                out.extend((d, rel, a) for a in sc.unique(j))
    return out


def _extremes(sc: _Scene, i: int) -> list[tuple[str, Desc]]:
    out = []
    for d, others in sc.ambiguous(i):
        for ex in EXTREMES:
            if ex in ("largest", "smallest") and d[0] is not None:
                continue  # "the largest small circle" reads badly
            if extreme_clear(sc.anns, i, others, ex):
                out.append((ex, d))
    return out


def referring_expressions(
    anns: Sequence[Ann], rng: np.random.Generator
) -> list[tuple[str, int, str]]:
    """Per object, up to one attribute expression and one relational or extreme one,
    each chosen at random among the valid ones: (expression, object index, kind)."""
    sc = _Scene(anns)
    out = []
    for i in range(len(anns)):
        attrs = sc.unique(i)
        if attrs:
            d = attrs[int(rng.integers(len(attrs)))]
            out.append(("the " + describe(d, _noun(rng)), i, "attribute"))
        rels, exts = _relations(sc, i), _extremes(sc, i)
        n = len(rels) + len(exts)
        if n:
            k = int(rng.integers(n))
            if k < len(rels):
                d, rel, a = rels[k]
                expr = f"the {describe(d, _noun(rng))} {rel} the {describe(a, _noun(rng))}"
                out.append((expr, i, "relation"))
            else:
                ex, d = exts[k - len(rels)]
                out.append((f"the {ex} {describe(d, _noun(rng))}", i, "extreme"))
    return out
