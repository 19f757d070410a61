"""Quality of a PaDT checkpoint on Shapes with the PyTorch reference (generation + decoder).

    python -m padt.train.evaluate CHECKPOINT_DIR --split test --count N [--out result.json]

Per image: up to --referring referring expressions (REC box and RES mask from the same
answer), its OVD query and its caption request (RIC). Metrics: see padt.train.metrics.
Images are not pre-resized when the checkpoint config says `padt_pre_resize_long_side: null`
(our Shapes models); checkpoints without that key get the demo's 644 px.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from PIL import Image

from ..checkpoint import load_padt
from ..export.manifest import DEFAULT_MAX_LONG_SIDE, MAX_LONG_SIDE_KEY
from ..generation import generate
from ..postprocess import decode_answer, round_box
from ..processing import build_inputs
from ..shapes import generate_split
from ..shapes.vocab import CATEGORY_IDS, SHAPES
from ..vrt import parse_answer
from . import metrics
from .shapes_model import pre_resize_long_side

SMALL_PX = 40  # "objects under 40 px": the longer side of the visible box
MANY_OBJECTS = 5
SUBSETS = (
    f"objects>={MANY_OBJECTS}",
    f"objects<{MANY_OBJECTS}",
    f"<{SMALL_PX}px",
    f">={SMALL_PX}px",
)


def subset_tags(objects: int, bbox: list[float]) -> set[str]:
    """The breakdowns a query counts in: by the image's object count and the target's size."""
    many = f"objects>={MANY_OBJECTS}" if objects >= MANY_OBJECTS else f"objects<{MANY_OBJECTS}"
    small = f"<{SMALL_PX}px" if max(bbox[2], bbox[3]) < SMALL_PX else f">={SMALL_PX}px"
    return {many, small}


MAX_TOKENS = {"referring": 96, "ovd": 256, "captions": 256}
TASKS = tuple(MAX_TOKENS)


def answer(model, tokenizer, processor, image, prompt, long_side, max_new_tokens):
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
    cap = getattr(model.config, MAX_LONG_SIDE_KEY, DEFAULT_MAX_LONG_SIDE)
    inputs = build_inputs(processor, tokenizer, [image], messages, long_side, cap)
    result = generate(model, inputs, max_new_tokens=max_new_tokens)
    parsed = parse_answer(
        result.ids,
        tokenizer,
        result.text_vocab_rows,
        hidden_states=result.hidden_states,
        patch_offset=result.patch_offset,
    )
    return parsed, decode_answer(model, result, parsed, image.size)


def evaluate(
    checkpoint: Path,
    split: str = "test",
    count: int = 100,
    seed: int = 0,
    referring_per_image: int = 2,
    device: str = "cpu",
    log_every: int = 0,
    tasks: tuple[str, ...] = TASKS,
    mask_placement: str | None = None,
) -> dict:
    """`mask_placement` overrides the checkpoint's at inference (to measure RES both ways on
    one model); `tasks` limits what is asked (the metrics of the others are then empty)."""
    model, tokenizer, processor = load_padt(checkpoint)
    model.to(device)
    if mask_placement:
        model.config.padt_mask_placement = mask_placement
    long_side = pre_resize_long_side(model.config)
    rec_pred, rec_gt, res_iu, rec_tags = [], [], [], []
    ovd_images, ovd_anns, ovd_dets = [], [], []
    phrases_ok = phrases_all = objects_ok = objects_all = 0
    started = time.perf_counter()
    for n, sample in enumerate(generate_split(split, count, seed=seed)):
        image = Image.fromarray(sample.pixels)
        anns = {a["id"]: (a, m) for a, m in zip(sample.annotations, sample.masks, strict=True)}
        for entry in sample.referring[:referring_per_image] if "referring" in tasks else []:
            _, objs = answer(
                model, tokenizer, processor, image, entry["prompt"], long_side, MAX_TOKENS["referring"]
            )  # fmt: skip
            ann, gt_mask = anns[entry["annotation_id"]]
            rec_gt.append(ann["bbox"])
            rec_tags.append(subset_tags(len(sample.annotations), ann["bbox"]))
            rec_pred.append(round_box(objs[0].box) if objs else None)
            if objs:
                res_iu.append(metrics.mask_inter_union(objs[0].mask, gt_mask))
            else:
                res_iu.append((0, int(gt_mask.sum())))
        for entry in sample.ovd if "ovd" in tasks else []:
            _, objs = answer(
                model, tokenizer, processor, image, entry["prompt"], long_side, MAX_TOKENS["ovd"]
            )  # fmt: skip
            asked = set(entry["categories"])
            ovd_images.append(dict(sample.image))
            ovd_anns.extend(a for a in sample.annotations if a["category"] in asked)
            ovd_dets.extend(
                {
                    "image_id": sample.image["id"],
                    "category_id": CATEGORY_IDS[o.label],
                    "bbox": list(round_box(o.box)),
                    "score": o.score,
                }
                for o in objs
                if o.label in CATEGORY_IDS
            )
        for entry in sample.captions if "captions" in tasks else []:
            parsed, objs = answer(
                model, tokenizer, processor, image, entry["prompt"], long_side, MAX_TOKENS["captions"]
            )  # fmt: skip
            boxes = [round_box(o.box) for o in objs]
            phrases = [
                (p["text"], [anns[i][0]["bbox"] for i in p["annotation_ids"]])
                for p in entry["phrases"]
            ]
            ok, total = metrics.grounded_phrases(parsed.text, boxes, phrases)
            phrases_ok, phrases_all = phrases_ok + ok, phrases_all + total
            gt_boxes = [a["bbox"] for a in sample.annotations]
            objects_ok += metrics.match_one_to_one(boxes, gt_boxes)
            objects_all += len(gt_boxes)
        if log_every and (n + 1) % log_every == 0:
            print(f"{n + 1}/{count} images, {time.perf_counter() - started:.0f}s", flush=True)
    categories = [{"id": CATEGORY_IDS[s], "name": s} for s in SHAPES]
    ovd = metrics.coco_box_map(ovd_images, ovd_anns, categories, ovd_dets)
    res = metrics.res_ious(res_iu)
    return {
        "checkpoint": str(checkpoint),
        "split": split,
        "images": count,
        "seed": seed,
        "pre_resize_long_side": long_side,
        "mask_placement": model.config.padt_mask_placement,
        "rec": {"queries": len(rec_gt), "acc@0.5": metrics.rec_accuracy(rec_pred, rec_gt)},
        "rec_subsets": {
            tag: {
                "queries": len(picked),
                "acc@0.5": metrics.rec_accuracy(
                    [rec_pred[i] for i in picked], [rec_gt[i] for i in picked]
                ),
            }
            for tag in SUBSETS
            if (picked := [i for i, tags in enumerate(rec_tags) if tag in tags])
        },
        "res": {"queries": len(res_iu), "mIoU": res["mIoU"], "cIoU": res["cIoU"]},
        "ovd": {"images": len(ovd_images), "detections": len(ovd_dets), **ovd},
        "ric": {
            "phrases": phrases_all,
            "grounded_phrase_acc": phrases_ok / phrases_all if phrases_all else 0.0,
            "grounded_object_recall": objects_ok / objects_all if objects_all else 0.0,
        },
        "seconds": round(time.perf_counter() - started, 1),
    }


def summary(result: dict) -> str:
    return "\n".join(
        [
            f"Shapes {result['split']} ({result['images']} images) - {result['checkpoint']}",
            f"  REC  Acc@0.5          {result['rec']['acc@0.5']:.4f}  ({result['rec']['queries']} queries)",
            *(
                f"  REC  {tag:17} {v['acc@0.5']:.4f}  ({v['queries']} queries)"
                for tag, v in result.get("rec_subsets", {}).items()
            ),
            f"  RES  mIoU             {result['res']['mIoU']:.4f}",
            f"  RES  cIoU (cumulative) {result['res']['cIoU']:.4f}",
            f"  OVD  mAP              {result['ovd']['mAP']:.4f}",
            f"  OVD  AP50             {result['ovd']['AP50']:.4f}",
            f"  RIC  grounded phrases {result['ric']['grounded_phrase_acc']:.4f}  ({result['ric']['phrases']} phrases)",
            f"  RIC  object recall    {result['ric']['grounded_object_recall']:.4f}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m padt.train.evaluate")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--referring", type=int, default=2, help="referring queries per image")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--out", type=Path, help="write the JSON here too")
    p.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    p.add_argument("--mask-placement", choices=["spatial", "window"], help="override the model's")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = evaluate(
        args.checkpoint,
        args.split,
        args.count,
        args.seed,
        args.referring,
        args.device,
        10,
        tuple(args.tasks),
        args.mask_placement,
    )
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
