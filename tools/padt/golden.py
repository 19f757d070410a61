"""Golden files: what the TypeScript engine must reproduce, without PyTorch.

``python -m padt.golden <bundle_dir> <out.json>`` runs fixed synthetic cases through
the reference preprocessing (transformers' Qwen2.5-VL processor via
padt.processing.build_inputs) and the bundle (padt.ort_pipeline, which the parity
tests tie to the PyTorch reference), and records compactly: the preprocessed
pixel tensor (shape, sha256 of its float32 bytes, sum, a few rows), prompt ids,
3-D positions, per image the grid / window index / cu seqlens, generated ids, VRT
features (shape, sum, a few values), and each object's box, score and mask (RLE).

``python -m padt.golden --make-fixture <dir>`` writes the committed fixture:
``<dir>/padt-tiny-random/`` (save_tiny_checkpoint(seed=0) exported as fp32) and
``<dir>/padt-tiny-random.golden.json``.

``python -m padt.golden <shipped_bundle> --shapes-fixture <dir>`` writes the goldens of the
shipped Shapes model on Shapes test images: ``<dir>/padt-tiny-shapes.golden.json`` and
``<dir>/padt-tiny-shapes.images/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from transformers import Qwen2TokenizerFast

from . import grid
from .ort_pipeline import OrtPadt, box_to_pixels, mask_to_pixels, vrt_runs
from .processing import make_processor
from .rle import mask_to_rle
from .vrt import parse_answer

GOLDEN_VERSION = 1
MAX_NEW_TOKENS = 16
FIXTURE_NAME = "padt-tiny-random"
PROMPTS = {
    "REC": 'Please carefully check the image and detect the object this sentence describes: "{}".',
    "OVD": "Please carefully check the image and detect the following objects: {}.",
    "RIC": "Please describe this image.",
}
SHAPES_MAX_NEW_TOKENS = 256  # a Shapes answer with 8 objects of 5 VRTs each stays well below
SHAPES_FIXTURE = "padt-tiny-shapes"


@dataclass(frozen=True)
class Case:
    name: str
    task: str
    prompt: str
    images: tuple[Image.Image, ...]
    long_side: int | None  # the pre-resize long side (None: the image as it is)
    task_input: dict  # what a client sends the task plugin for this prompt (GraphQL TaskInput)
    # Request overrides of the bundle's generation settings, by manifest name
    # ({"repetition_penalty": 1.3}), and of its first-VRT rule; recorded only when set.
    generation: dict[str, float] | None = None
    first_vrt_features: str | None = None


def synthetic_cases() -> list[Case]:
    """Synthetic pictures at awkward sizes, for any bundle. 333x517 is not a multiple of 28
    and skips the 644-px pre-resize, so smart_resize rounds it directly. Then the fidelity
    edges: a transparent image (composited on white before any resize), a repetition
    penalty (transformers' semantics over prompt and VRT ids), and an answer whose first
    token is a VRT under both first-VRT rules (on the random fixture, the image of seed 5
    gets one)."""
    specs = [
        ("rec_200x150", [(200, 150)], "REC", "red circle", 644),
        ("ovd_448x336", [(448, 336)], "OVD", '["cat", "dog"]', 644),
        ("ric_333x517", [(333, 517)], "RIC", None, None),
        ("rec_two_images", [(200, 150), (448, 336)], "REC", "blue square", 644),
    ]
    return [
        Case(
            name,
            task,
            PROMPTS[task].format(arg) if arg is not None else PROMPTS[task],
            tuple(synthetic_image(w, h, seed=i + 7 * len(name)) for i, (w, h) in enumerate(sizes)),
            long_side,
            _task_input(task, arg),
        )
        for name, sizes, task, arg, long_side in specs
    ] + _edge_cases()


def rgba_image(width: int, height: int, seed: int) -> Image.Image:
    """A synthetic picture with an alpha gradient and a fully transparent hole whose hidden
    colour is not white: dropping the alpha instead of compositing shows in the pixels."""
    image = synthetic_image(width, height, seed).convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, width).astype(np.uint8), (height, 1))
    alpha[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3] = 0
    image.putalpha(Image.fromarray(alpha))
    return image


def _edge_cases() -> list[Case]:
    rec = PROMPTS["REC"].format("red circle")
    rec_input = _task_input("REC", "red circle")
    first_vrt = (synthetic_image(200, 150, seed=5),)
    return [
        Case("rec_rgba_240x180", "REC", rec, (rgba_image(240, 180, 3),), 644, rec_input),
        # The ovd_448x336 case with Qwen2.5-VL-Instruct's penalty: its greedy ids repeat VRTs
        # without it and change from the second token with it.
        Case(
            "ovd_repetition_penalty",
            "OVD",
            PROMPTS["OVD"].format('["cat", "dog"]'),
            (synthetic_image(448, 336, seed=7 * len("ovd_448x336")),),
            644,
            _task_input("OVD", '["cat", "dog"]'),
            generation={"repetition_penalty": 1.05},
        ),
        Case("rec_first_vrt_last_row", "REC", rec, first_vrt, 644, rec_input),
        Case(
            "rec_first_vrt_all_rows",
            "REC",
            rec,
            first_vrt,
            644,
            rec_input,
            first_vrt_features="all_prompt_rows",
        ),
    ]


def _task_input(task: str, arg: str | None) -> dict:
    """The GraphQL TaskInput of a prompt (arg: the expression, or the JSON category list)."""
    if task == "REC":
        return {"rec": {"expression": arg}}
    if task == "OVD":
        return {"ovd": {"categories": json.loads(arg)}}
    return {"ric": {}}


# (task, Shapes test image index): small images of 1-4 objects (the PNGs are committed),
# sides that are not multiples of 28.
SHAPES_CASES = (("REC", 3), ("OVD", 6), ("RIC", 10))


def shapes_cases(seed: int = 0) -> list[Case]:
    """Shapes test images with their first prompt of a task: goldens in which a trained
    Shapes model answers with real objects."""
    from .shapes.dataset import generate_sample

    cases = []
    for task, index in SHAPES_CASES:
        sample = generate_sample("test", index, seed)
        entry = {"REC": sample.referring, "OVD": sample.ovd, "RIC": sample.captions}[task][0]
        arg = {"REC": entry.get("expression"), "OVD": json.dumps(entry.get("categories"))}
        name, image = f"shapes_{task.lower()}_{index}", (Image.fromarray(sample.pixels),)
        task_input = _task_input(task, arg.get(task))
        cases.append(Case(name, task, entry["prompt"], image, None, task_input))
    return cases


def committed_cases(golden: dict, images_dir: Path) -> list[Case]:
    """The cases of a committed golden file, with the PNGs written next to it: checks the
    pipeline on the shipped model whatever the Shapes generator now draws (a generator change
    takes effect in the goldens only when a new model is shipped)."""
    cases = []
    for c in golden["cases"]:
        count = len(c["images"])
        images = tuple(
            Image.open(images_dir / f"{c['name']}_{k}.png").convert("RGB") for k in range(count)
        )
        cases.append(
            Case(
                c["name"],
                c["task"],
                c["prompt"],
                images,
                c["long_side"],
                c["task_input"],
                c.get("generation"),
                c.get("first_vrt_features"),
            )
        )
    return cases


# (height, width, max_pixels): exact halves (round half to even), both pixel bounds.
SMART_RESIZE_CASES = [
    (42, 70, None),
    (70, 98, None),
    (150, 200, None),
    (483, 644, None),
    (517, 333, None),
    (1000, 1000, 200_000),
    (30, 30, None),
    (28, 5600, None),
    (5000, 3000, None),
]


def synthetic_image(width: int, height: int, seed: int) -> Image.Image:
    """A deterministic picture: background plus a few filled shapes (no randomness
    beyond numpy's seeded generator, so TypeScript tests can load the same PNGs)."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for k in range(4):
        x0, y0 = int(rng.integers(0, width * 2 // 3)), int(rng.integers(0, height * 2 // 3))
        x1 = x0 + int(rng.integers(8, width // 2))
        y1 = y0 + int(rng.integers(8, height // 2))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if k % 2 else draw.rectangle)((x0, y0, x1, y1), fill=fill)
    return image


def _round(values, digits: int = 6) -> list:
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


def _tensor_summary(array: np.ndarray, rows: tuple[int, ...] = (0, -1)) -> dict[str, Any]:
    a = np.ascontiguousarray(array, dtype=np.float32)
    return {
        "shape": list(a.shape),
        "sha256": hashlib.sha256(a.tobytes()).hexdigest(),
        "sum": round(float(a.astype(np.float64).sum()), 4),
        "rows": {str(r): _round(a[r][:8]) for r in rows if a.shape[0]},
    }


def load_processor(bundle_dir: Path):
    tokenizer = Qwen2TokenizerFast(tokenizer_file=str(bundle_dir / "tokenizer.json"))
    tokenizer.chat_template = (bundle_dir / "chat_template.jinja").read_text()
    manifest = json.loads((bundle_dir / "padt.json").read_text())
    ip = manifest["image_processor"]
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

    image_processor = Qwen2VLImageProcessor(
        min_pixels=ip["min_pixels"],
        max_pixels=ip["max_pixels"],
        patch_size=ip["patch_size"],
        temporal_patch_size=ip["temporal_patch_size"],
        merge_size=ip["merge_size"],
        image_mean=ip["image_mean"],
        image_std=ip["image_std"],
    )
    return tokenizer, make_processor(tokenizer, image_processor, tokenizer.chat_template)


def run_case(
    bundle: OrtPadt, tokenizer, processor, case: Case, max_new_tokens: int
) -> dict[str, Any]:
    from .processing import build_inputs

    images = list(case.images)
    sizes = [image.size for image in images]
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": case.prompt}]
    messages = [{"role": "user", "content": content}]
    inputs = build_inputs(processor, tokenizer, images, messages, long_side=case.long_side)
    ids = inputs.input_ids[0].numpy()
    grids = [(int(h), int(w)) for _, h, w in inputs.image_grid_thw.tolist()]
    pixels = inputs.pixel_values.numpy()
    settings = case.generation or {}
    result = bundle.generate(
        ids,
        pixels,
        grids,
        max_new_tokens=max_new_tokens,
        repetition_penalty=settings.get("repetition_penalty"),
        first_vrt_features=case.first_vrt_features,
    )

    vc = bundle.vision_cfg
    per_image = []
    for (gh, gw), image, size in zip(grids, result.images, sizes, strict=True):
        per_image.append(
            {
                "original_size": list(size),
                "grid_thw": [1, gh, gw],
                "window_index": image.window_index.tolist(),
                "cu_window_seqlens": grid.cu_window_seqlens([(gh, gw)], vc["window_size"]).tolist(),
                "image_embeds": _tensor_summary(image.embeds),
                "prototypes": _tensor_summary(image.prototypes),
                "high_res": _tensor_summary(image.high_res),
            }
        )

    V = bundle.vocab_rows
    offset = sum(img.num_patches for img in result.images[: result.current_image])
    parsed = parse_answer(result.ids, tokenizer, V, None, bundle.tokens["eos"], offset)
    runs = vrt_runs(result.ids, V, bundle.tokens["eos"])
    current = result.images[result.current_image]
    width, height = sizes[result.current_image]
    decoded = bundle.decode_objects([result.object_features(r) for r in runs], current)
    objects = []
    for i, (obj, run) in enumerate(zip(parsed.objects, runs, strict=True)):
        mask = mask_to_pixels(decoded.mask_logits[i], width, height)
        objects.append(
            {
                "label": obj.label,
                "patches": obj.patches,
                "steps": run,
                "features": _tensor_summary(result.object_features(run)),
                "box_cxcywh": _round(decoded.boxes[i]),
                "box_xywh": _round(box_to_pixels(decoded.boxes[i], width, height), 4),
                "score_logit": round(float(decoded.score_logits[i]), 6),
                "score": round(float(1 / (1 + np.exp(-decoded.score_logits[i]))), 6),
                "mask_logits": _tensor_summary(decoded.mask_logits[i]),
                "mask_rle": mask_to_rle(mask),
            }
        )
    overrides = {"generation": case.generation, "first_vrt_features": case.first_vrt_features}
    return {
        "name": case.name,
        "task": case.task,
        "prompt": case.prompt,
        "task_input": case.task_input,
        "long_side": case.long_side,
        **{k: v for k, v in overrides.items() if v is not None},
        "rendered_prompt": inputs.text,
        "pixel_values": _tensor_summary(pixels, rows=(0, 1, pixels.shape[0] // 2, -1)),
        "images": per_image,
        "input_ids": ids.tolist(),
        "position_ids": result.position_ids.tolist(),
        "rope_delta": result.rope_delta,
        "current_image": result.current_image,
        "generated_ids": result.ids,
        "answer_text": parsed.text,
        "vrt_hidden_states": _tensor_summary(result.hidden_states),
        "objects": objects,
    }


def make_goldens(
    bundle_dir: str | Path, cases: list[Case] | None = None, max_new_tokens: int = MAX_NEW_TOKENS
) -> dict[str, Any]:
    bundle_dir = Path(bundle_dir)
    cases = synthetic_cases() if cases is None else cases
    bundle = OrtPadt(bundle_dir)
    tokenizer, processor = load_processor(bundle_dir)
    ip = bundle.manifest["image_processor"]
    return {
        "golden_version": GOLDEN_VERSION,
        "bundle": bundle.manifest["model"]["name"],
        "max_new_tokens": max_new_tokens,
        "smart_resize": [
            {
                "in": [h, w],
                "max_pixels": m or ip["max_pixels"],
                "out": list(
                    grid.smart_resize(
                        h, w, min_pixels=ip["min_pixels"], max_pixels=m or ip["max_pixels"]
                    )
                ),
            }
            for h, w, m in SMART_RESIZE_CASES
        ],
        "cases": [run_case(bundle, tokenizer, processor, c, max_new_tokens) for c in cases],
    }


def write_goldens(
    bundle_dir: str | Path,
    out: str | Path,
    cases: list[Case] | None = None,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> Path:
    out = Path(out)
    goldens = make_goldens(bundle_dir, cases, max_new_tokens)
    out.write_text(json.dumps(goldens, separators=(",", ":")) + "\n")
    return out


def write_case_images(out_dir: str | Path, cases: list[Case] | None = None) -> list[Path]:
    """The cases' images as PNG files (``<case>_<k>.png``), for tests without PIL."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in synthetic_cases() if cases is None else cases:
        for k, image in enumerate(case.images):
            path = out_dir / f"{case.name}_{k}.png"
            image.save(path, format="PNG")
            paths.append(path)
    return paths


def make_fixture(fixtures_dir: str | Path, seed: int = 0) -> Path:
    """Regenerate the committed tiny bundle and its goldens under ``fixtures_dir``."""
    from .export import export_bundle
    from .tiny import save_tiny_checkpoint

    fixtures_dir = Path(fixtures_dir)
    bundle_dir = fixtures_dir / FIXTURE_NAME
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = save_tiny_checkpoint(Path(tmp) / FIXTURE_NAME, seed=seed)
        export_bundle(checkpoint, bundle_dir, dtype="fp32", force=True)
    write_goldens(bundle_dir, fixtures_dir / f"{FIXTURE_NAME}.golden.json")
    write_case_images(fixtures_dir / f"{FIXTURE_NAME}.images")
    return bundle_dir


def write_shapes_fixture(bundle_dir: str | Path, fixtures_dir: str | Path) -> Path:
    """Goldens of a trained Shapes bundle on Shapes test images, next to the other fixture."""
    fixtures_dir = Path(fixtures_dir)
    cases = shapes_cases()
    images = fixtures_dir / f"{SHAPES_FIXTURE}.images"
    shutil.rmtree(images, ignore_errors=True)
    write_case_images(images, cases)
    out = fixtures_dir / f"{SHAPES_FIXTURE}.golden.json"
    return write_goldens(bundle_dir, out, cases, SHAPES_MAX_NEW_TOKENS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m padt.golden")
    parser.add_argument("bundle_dir", nargs="?")
    parser.add_argument("out", nargs="?")
    parser.add_argument("--make-fixture", metavar="FIXTURES_DIR")
    parser.add_argument("--shapes-fixture", metavar="FIXTURES_DIR")
    args = parser.parse_args(argv)
    if args.make_fixture:
        shutil.rmtree(Path(args.make_fixture) / FIXTURE_NAME, ignore_errors=True)
        print(make_fixture(args.make_fixture))
        return 0
    if args.shapes_fixture and args.bundle_dir:
        print(write_shapes_fixture(args.bundle_dir, args.shapes_fixture))
        return 0
    if not (args.bundle_dir and args.out):
        parser.error(
            "give <bundle_dir> <out.json>, <bundle_dir> --shapes-fixture <dir>, "
            "or --make-fixture <dir>"
        )
    print(write_goldens(args.bundle_dir, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
