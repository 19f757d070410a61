"""Prompts and answer templates, worded exactly as the reference preprocessing writes
them (PaDT src/preprocess/process_coco.py; PADT_MODEL.md section 4). `<|Obj_k|>` is
the k-th object of the answer; training replaces it with that object's VRTs."""

import json
from collections.abc import Sequence

REC_PROMPT = 'Please carefully check the image and detect the object this sentence describes: "{}".'
REC_ANSWER = 'The "{}" refers to <|Obj_0|> in this image.'
OVD_PROMPT = "Please carefully check the image and detect the following objects: {}."
RIC_PROMPT = "Please describe this image."
OVD_NONE = "No objects from the list are present in the image."


def rec_prompt(expression: str) -> str:
    return REC_PROMPT.format(expression)


def rec_answer(expression: str) -> str:
    return REC_ANSWER.format(expression)


def ovd_prompt(categories: Sequence[str]) -> str:
    return OVD_PROMPT.format(json.dumps(list(categories)))


def ovd_answer(categories: Sequence[str], present: Sequence[str]) -> tuple[str, list[int]]:
    """The answer for the asked `categories` (in their order), given the category of
    each object of the image (`present`, in the image's object order). Returns the
    template and the object indices in placeholder order."""
    groups = [(c, [i for i, p in enumerate(present) if p == c]) for c in categories]
    groups = [(c, ids) for c, ids in groups if ids]
    if not groups:
        return OVD_NONE, []
    parts, order = [], []
    for c, ids in groups:
        refs = []
        for i in ids:
            refs.append(f"<|Obj_{len(order)}|>")
            order.append(i)
        parts.append(f'{len(ids)} "{c}" (' + ", ".join(refs) + ")")
    if len(groups) == 1:
        verb = "is" if len(order) == 1 else "are"
        return f"There {verb} {parts[0]} in this image.", order
    return "In this image, there are " + ", ".join(parts) + ".", order
