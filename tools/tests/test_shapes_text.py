"""Shapes task entries: referring expressions refer uniquely (re-parsed and re-evaluated
here from the annotations alone), prompts and answer templates follow the reference
preprocessing exactly, caption phrases index their caption."""

import json
import re
from collections import defaultdict

import pytest

from padt.shapes import generate_split
from padt.shapes.tasks import ovd_answer
from padt.shapes.vocab import COLOUR_NAMES, NUMBER_WORDS, PLURALS, SHAPES

N = 120
SIZE = "small|large"
COLOUR = "|".join(COLOUR_NAMES)
NOUN = "|".join(SHAPES + ("shape", "object"))
EXTREME = "leftmost|rightmost|topmost|bottommost|largest|smallest"
REL = "left of|right of|above|below"
DESC = rf"(?:({SIZE}) )?(?:({COLOUR}) )?({NOUN})"
EXPR = re.compile(rf"^the (?:({EXTREME}) )?{DESC}(?: ({REL}) the {DESC})?$")
REF = re.compile(r" \((<\|Obj_\d+\|>(?:, <\|Obj_\d+\|>)*)\)")


@pytest.fixture(scope="module")
def samples():
    return list(generate_split("test", N))


def _centre(a):
    x, y, w, h = a["bbox"]
    return x + w / 2, y + h / 2


def _match(anns, size, colour, noun):
    return [
        a
        for a in anns
        if (size is None or a["size"] == size)
        and (colour is None or a["colour"] == colour)
        and (noun in ("shape", "object") or a["category"] == noun)
    ]


def _loosely(a, b, rel):
    """Any reading of 'a <rel> b' at all: a's centre on that side of b's centre."""
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    return {"left of": ax < bx, "right of": ax > bx, "above": ay < by, "below": ay > by}[rel]


def _resolve(expr, anns):
    """The objects an expression can denote; unique reference means exactly one."""
    m = EXPR.match(expr)
    assert m, expr
    extreme, size, colour, noun, rel, *anchor = m.groups()
    cands = _match(anns, size, colour, noun)
    if rel:
        anchors = _match(anns, *anchor)
        assert len(anchors) == 1, expr
        return [c for c in cands if c is not anchors[0] and _loosely(c, anchors[0], rel)]
    if extreme:
        key = {
            "leftmost": lambda a: _centre(a)[0],
            "rightmost": lambda a: -_centre(a)[0],
            "topmost": lambda a: _centre(a)[1],
            "bottommost": lambda a: -_centre(a)[1],
            "largest": lambda a: -a["area"],
            "smallest": lambda a: a["area"],
        }[extreme]
        best = min(key(c) for c in cands)
        winners = [c for c in cands if key(c) == best]
        assert len(cands) >= 2, expr  # an extreme among one object would be odd
        return winners
    return cands


def test_every_expression_refers_uniquely(samples):
    kinds = defaultdict(int)
    for s in samples:
        by_id = {a["id"]: a for a in s.annotations}
        for r in s.referring:
            kinds[r["kind"]] += 1
            found = _resolve(r["expression"], s.annotations)
            assert [a["id"] for a in found] == [r["annotation_id"]], r["expression"]
            assert by_id[r["annotation_id"]]["image_id"] == s.image["id"] == r["image_id"]
    assert all(kinds[k] > 50 for k in ("attribute", "relation", "extreme")), kinds


def test_relational_expressions_hold_clearly(samples):
    """Beyond uniqueness: the referent is clearly on that side of the anchor (its centre
    is past the anchor's edge)."""
    for s in samples:
        by_id = {a["id"]: a for a in s.annotations}
        for r in s.referring:
            m = EXPR.match(r["expression"])
            if not m.group(5):
                continue
            a, b = by_id[r["annotation_id"]], _match(s.annotations, *m.groups()[5:])[0]
            (ax, ay), (bx, by, bw, bh) = _centre(a), b["bbox"]
            rel = m.group(5)
            assert {
                "left of": ax < bx,
                "right of": ax > bx + bw,
                "above": ay < by,
                "below": ay > by + bh,
            }[rel], r["expression"]


def test_every_object_has_an_expression(samples):
    for s in samples:
        referred = {r["annotation_id"] for r in s.referring}
        assert referred == {a["id"] for a in s.annotations}


def test_rec_prompt_and_answer(samples):
    r = samples[0].referring[0]
    e = r["expression"]
    assert r["prompt"] == (
        f'Please carefully check the image and detect the object this sentence describes: "{e}".'
    )
    assert r["answer_template"] == f'The "{e}" refers to <|Obj_0|> in this image.'


def _reference_ovd_template(asked, anns):
    """A transcription of PaDT src/preprocess/process_coco.py's answer template."""
    answer_list = []
    for c in asked:
        objs = [a for a in anns if a["category"] == c]
        if objs:
            answer_list.append({"label": c, "objects": objs})
    n = [len(x["objects"]) for x in answer_list]
    if len(n) == 0:
        t = "No objects from the list are present in the image"
    elif len(n) == 1:
        t = "There is " if sum(n) == 1 else "There are "
    else:
        t = "In this image, there are "
    objects = []
    for ci, item in enumerate(answer_list):
        t += str(len(item["objects"])) + ' "%s" (' % item["label"]  # noqa: UP031 (verbatim)
        for oi, obj in enumerate(item["objects"]):
            t += "<|Obj_%d|>" % len(objects)  # noqa: UP031
            objects.append(obj)
            t += ", " if oi < len(item["objects"]) - 1 else ")"
        if ci < len(answer_list) - 1:
            t += ", "
    t += " in this image." if len(n) == 1 else "."
    return t, [o["id"] for o in objects]


def test_ovd_matches_reference(samples):
    with_absent = none_present = 0
    for s in samples:
        present = {a["category"] for a in s.annotations}
        for o in s.ovd:
            asked = o["categories"]
            assert 1 <= len(asked) <= 6 and len(set(asked)) == len(asked)
            assert set(asked) <= set(SHAPES)
            with_absent += bool(set(asked) - present)
            none_present += not set(asked) & present
            assert o["prompt"] == (
                "Please carefully check the image and detect the following objects: "
                + json.dumps(asked)
                + "."
            )
            template, ids = _reference_ovd_template(asked, s.annotations)
            assert o["answer_template"] == template
            assert o["annotation_ids"] == ids
    assert with_absent > N // 2 and none_present > 3


def test_ovd_answer_examples():
    assert ovd_answer(["circle"], ["star"]) == (
        "No objects from the list are present in the image.",
        [],
    )
    assert ovd_answer(["circle", "star"], ["circle"]) == (
        'There is 1 "circle" (<|Obj_0|>) in this image.',
        [0],
    )
    assert ovd_answer(["circle"], ["circle", "star", "circle"]) == (
        'There are 2 "circle" (<|Obj_0|>, <|Obj_1|>) in this image.',
        [0, 2],
    )
    assert ovd_answer(["star", "circle"], ["circle", "star", "circle"]) == (
        'In this image, there are 1 "star" (<|Obj_0|>), 2 "circle" (<|Obj_1|>, <|Obj_2|>).',
        [1, 0, 2],
    )


def test_captions_ground_every_object_once(samples):
    for s in samples:
        (c,) = s.captions
        assert c["prompt"] == "Please describe this image."
        # removing the references gives the plain caption
        assert REF.sub("", c["answer_template"]) == c["caption"]
        # placeholders are numbered in order, and index annotation_ids
        refs = re.findall(r"<\|Obj_(\d+)\|>", c["answer_template"])
        assert (
            [int(k) for k in refs]
            == list(range(len(refs)))
            == list(range(len(c["annotation_ids"])))
        )
        assert sorted(c["annotation_ids"]) == sorted(a["id"] for a in s.annotations)
        # each phrase is followed by its own references, in the same order
        groups = [g.split(", ") for g in REF.findall(c["answer_template"])]
        assert len(groups) == len(c["phrases"])
        flat = [i for p in c["phrases"] for i in p["annotation_ids"]]
        assert flat == c["annotation_ids"]
        for p, g in zip(c["phrases"], groups, strict=True):
            assert len(g) == len(p["annotation_ids"])


def test_caption_phrases_index_and_describe_their_objects(samples):
    templates = set()
    for s in samples:
        by_id = {a["id"]: a for a in s.annotations}
        (c,) = s.captions
        templates.add(
            c["caption"].split(" ")[0] if not c["caption"].startswith(("A ", "An ")) else "A"
        )
        for p in c["phrases"]:
            assert c["caption"][p["start"] : p["end"]] == p["text"]
            objs = [by_id[i] for i in p["annotation_ids"]]
            words = p["text"].lower().split()
            if len(objs) == 1:
                assert words[0] in ("a", "an") and words[-1] == objs[0]["category"]
            else:
                assert words[0] == NUMBER_WORDS[len(objs)]
                assert words[-1] == PLURALS[objs[0]["category"]]
            for o in objs:
                assert o["colour"] in words and o["category"] == objs[0]["category"]
                assert words[1] not in ("small", "large") or words[1] == o["size"]
    assert len(templates) >= 3


def test_caption_relations_are_true(samples):
    pattern = re.compile(r"^(.+?) is (left of|right of|above|below) (an? [a-z ]+?)(?:,|\.)")
    seen = 0
    for s in samples:
        (c,) = s.captions
        m = pattern.match(c["caption"])
        if not m:
            continue
        seen += 1
        by_id = {a["id"]: a for a in s.annotations}
        a, b = (by_id[c["phrases"][k]["annotation_ids"][0]] for k in (0, 1))
        assert c["phrases"][0]["text"] == m.group(1) and c["phrases"][1]["text"] == m.group(3)
        assert _loosely(a, b, m.group(2))
    assert seen > 5
