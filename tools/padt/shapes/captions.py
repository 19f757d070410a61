"""Region-grounded captions (RIC) in the reference's style.

Objects are grouped by their description ("two green squares"); every object appears
in exactly one grounded phrase. A caption is built from pieces of text, some of them
phrases with object indices, so that the plain caption, the answer template (each
phrase followed by " (<|Obj_k|>, ...)") and each phrase's character span in the plain
caption come from the same pieces.
"""

from collections.abc import Sequence

import numpy as np

from .relations import RELATIONS, Ann, centre, relation_holds
from .vocab import BACKGROUND_WORDS, NUMBER_WORDS, PLURALS, article

Piece = tuple[str, list[int] | None]  # text, and the objects it grounds (None: plain text)


def _group_phrase(anns: Sequence[Ann], ids: list[int], with_size: bool) -> str:
    a = anns[ids[0]]
    words = ([a["size"]] if with_size else []) + [a["colour"]]
    if len(ids) == 1:
        head = " ".join(words + [a["category"]])
        return f"{article(head)} {head}"
    return " ".join([NUMBER_WORDS[len(ids)]] + words + [PLURALS[a["category"]]])


def _groups(anns: Sequence[Ann], with_size: bool) -> list[list[int]]:
    """Objects grouped by description, groups ordered by their leftmost member."""
    groups: dict[tuple, list[int]] = {}
    for i, a in enumerate(anns):
        key = (a["size"] if with_size else None, a["colour"], a["category"])
        groups.setdefault(key, []).append(i)
    return sorted(groups.values(), key=lambda g: min(centre(anns[i])[0] for i in g))


def _enum(items: list[list[Piece]]) -> list[Piece]:
    out: list[Piece] = []
    for k, item in enumerate(items):
        if k:
            out.append((" and " if k == len(items) - 1 else ", ", None))
        out.extend(item)
    return out


def _capitalise(pieces: list[Piece]) -> list[Piece]:
    text, ids = pieces[0]
    return [(text[:1].upper() + text[1:], ids)] + pieces[1:]


def _verb(groups: list[list[int]]) -> str:
    return "is" if len(groups) == 1 and len(groups[0]) == 1 else "are"


def caption_pieces(anns: Sequence[Ann], background: str, rng: np.random.Generator) -> list[Piece]:
    with_size = bool(rng.random() < 0.7) and all(a["size"] is not None for a in anns)
    groups = _groups(anns, with_size)
    if rng.random() < 0.5:
        groups = [groups[k] for k in rng.permutation(len(groups))]
    phrases = [[(_group_phrase(anns, g, with_size), g)] for g in groups]
    bg = BACKGROUND_WORDS[background]

    # A relation between two single objects, when one clearly holds.
    pairs = [
        (p, q, rel)
        for p in range(len(groups))
        for q in range(len(groups))
        if p != q and len(groups[p]) == 1 and len(groups[q]) == 1
        for rel in RELATIONS
        if relation_holds(anns[groups[p][0]], anns[groups[q][0]], rel)
    ]
    template = int(rng.integers(5 if pairs else 4))
    if template == 0:
        return [("The image shows ", None), *_enum(phrases), (".", None)]
    if template == 1:
        return [("The image shows ", None), *_enum(phrases), (f" on a {bg} background.", None)]
    if template == 2:
        verb = _verb(groups[:1])
        return [(f"There {verb} ", None), *_enum(phrases), (" in this image.", None)]
    if template == 3:
        body = _capitalise(_enum(phrases))
        return [*body, (f" {_verb(groups)} placed on a {bg} background.", None)]
    p, q, rel = pairs[int(rng.integers(len(pairs)))]
    rest = [phrases[k] for k in range(len(groups)) if k not in (p, q)]
    out = [*_capitalise(phrases[p]), (f" is {rel} ", None), *phrases[q]]
    if rest:
        verb = _verb([groups[k] for k in range(len(groups)) if k not in (p, q)])
        out += [(", and ", None), *_enum(rest), (f" {verb} also visible.", None)]
    else:
        out.append((".", None))
    return out


def assemble(pieces: list[Piece]) -> tuple[str, str, list[dict], list[int]]:
    """(caption, answer template, phrases with spans and object indices, object indices
    in placeholder order)."""
    caption, template, phrases, order = "", "", [], []
    for text, ids in pieces:
        start = len(caption)
        caption += text
        template += text
        if ids is not None:
            refs = []
            for i in ids:
                refs.append(f"<|Obj_{len(order)}|>")
                order.append(i)
            template += " (" + ", ".join(refs) + ")"
            phrases.append({"text": text, "start": start, "end": len(caption), "objects": ids})
    return caption, template, phrases, order
