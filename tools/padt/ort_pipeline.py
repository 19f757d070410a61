"""Drive an exported bundle with onnxruntime, step by step as the TypeScript engine does.

No torch here: grid inputs come from padt.grid, decoding is greedy over the
dynamic vocabulary with a KV cache (after the bundle's repetition penalty, as transformers
applies it), and objects are decoded by the decoder graph, batched per image. Mask
post-processing is numpy (bilinear, align_corners=False).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from . import grid

_NP_DTYPES = {"float32": np.float32, "float16": np.float16}


@dataclass
class OrtImage:
    embeds: np.ndarray  # E [N/4, D] raster merge order
    prototypes: np.ndarray  # P [N/4, D]
    high_res: np.ndarray  # [N, Dv] window order
    cos: np.ndarray  # [N, hd] window order
    sin: np.ndarray
    grid: tuple[int, int]  # (H14, W14)
    window_index: np.ndarray  # [N/4]

    @property
    def num_patches(self) -> int:
        return self.prototypes.shape[0]


@dataclass
class OrtGeneration:
    ids: list[int]
    hidden_states: np.ndarray  # [len(ids), D]: row t predicted ids[t]
    images: list[OrtImage]
    current_image: int
    position_ids: np.ndarray  # [3, L] prompt positions
    rope_delta: int
    # [L, D] every prompt row, under the reference's first-VRT rule ("all_prompt_rows")
    prefill_hidden_states: np.ndarray | None = None

    def object_features(self, steps: Sequence[int]) -> np.ndarray:
        """As padt.vrt.object_features: the states that predicted the run; a run that starts
        the answer takes every prompt row for its first VRT under the reference's rule."""
        rows = self.hidden_states[steps[0] : steps[-1] + 1]
        if self.prefill_hidden_states is None or steps[0] != 0:
            return rows
        return np.concatenate([self.prefill_hidden_states, rows[1:]])


@dataclass
class OrtObjects:
    boxes: np.ndarray  # [n, 4] cx, cy, w, h in [0, 1]
    score_logits: np.ndarray  # [n]
    mask_logits: np.ndarray  # [n, 4*H14, 4*W14]


class OrtPadt:
    def __init__(
        self, bundle_dir: str | Path, providers: Sequence[str] = ("CPUExecutionProvider",)
    ):
        self.dir = Path(bundle_dir)
        self.manifest = json.loads((self.dir / "padt.json").read_text())
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.sessions = {
            name: ort.InferenceSession(
                str(self.dir / g["file"]), options, providers=list(providers)
            )
            for name, g in self.manifest["graphs"].items()
        }
        self.vision_cfg = self.manifest["vision"]
        self.llm_cfg = self.manifest["llm"]
        self.vocab_rows = self.llm_cfg["vocab_rows"]
        self.tokens = self.manifest["special_tokens"]
        self.kv_dtype = _NP_DTYPES[self.manifest["kv_dtype"]]

    # --- vision ------------------------------------------------------------------------

    def encode_images(
        self, pixel_values: np.ndarray, grids: Sequence[tuple[int, int]]
    ) -> list[OrtImage]:
        """One vision run per image (same numbers as one run over all: attention is
        block-diagonal per image), then the prototype projection."""
        vc = self.vision_cfg
        images, start = [], 0
        for gh, gw in grids:
            n = gh * gw
            vi = grid.vision_inputs(
                [(gh, gw)], vc["head_dim"], vc["window_size"], patch=vc["patch_size"]
            )
            embeds, high_res = self.sessions["vision"].run(
                None,
                {
                    "pixel_values": np.ascontiguousarray(
                        pixel_values[start : start + n], np.float32
                    ),
                    "window_index": vi.window_index,
                    "reverse_index": vi.reverse_index,
                    "window_slots": vi.window_slots,
                    "window_rows": vi.window_rows,
                    "full_segments": vi.full_segments,
                    "cos": vi.cos,
                    "sin": vi.sin,
                },
            )
            (prototypes,) = self.sessions["prototypes"].run(None, {"image_embeds": embeds})
            images.append(
                OrtImage(embeds, prototypes, high_res, vi.cos, vi.sin, (gh, gw), vi.window_index)
            )
            start += n
        return images

    # --- LLM ---------------------------------------------------------------------------

    def graph_ids(self, ids: np.ndarray, prototype_rows: int) -> np.ndarray:
        """[L] ids -> [1, L] ids of the LLM graph's in-graph embedding: text ids and VRT ids
        (V + prototype row) as they are; the i-th image placeholder becomes V + R + i."""
        out = np.asarray(ids, dtype=np.int64).copy()
        pads = out == self.tokens["image_pad"]
        out[pads] = self.vocab_rows + prototype_rows + np.arange(int(pads.sum()))
        return out[None]

    def _empty_past(self) -> list[np.ndarray]:
        c = self.llm_cfg
        shape = (1, c["num_kv_heads"], 0, c["head_dim"])
        return [np.zeros(shape, self.kv_dtype) for _ in range(2 * c["num_layers"])]

    def step(
        self,
        ids: np.ndarray,
        image_rows: np.ndarray,
        positions: np.ndarray,
        total_len: int,
        past: list[np.ndarray],
        prototypes: np.ndarray,
        vrt_bias: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """One LLM run; ``ids`` from graph_ids, ``image_rows`` the placeholders' rows."""
        feeds = {
            "input_ids": ids,
            "image_embeds": image_rows.astype(np.float32),
            "position_ids": positions.reshape(3, 1, -1).astype(np.int64),
            "prototypes": prototypes.astype(np.float32)[None],
            "vrt_bias": vrt_bias.astype(np.float32)[None],
            "seqlens_k": np.array([total_len - 1], np.int32),
            "total_sequence_length": np.array(total_len, np.int32),
        }
        for i in range(self.llm_cfg["num_layers"]):
            feeds[f"past_key_values.{i}.key"] = past[2 * i]
            feeds[f"past_key_values.{i}.value"] = past[2 * i + 1]
        layers = 2 * self.llm_cfg["num_layers"]
        logits, hidden, *present = self.sessions["llm"].run(None, feeds)[: 2 + layers]
        return logits[0, -1], hidden, present

    def generate(
        self,
        input_ids: Sequence[int],
        pixel_values: np.ndarray | None,
        grids: Sequence[tuple[int, int]],
        max_new_tokens: int = 1024,
        current_image: int = -1,
        stop_ids: Iterable[int] | None = None,
        forced: Sequence[int] | None = None,
        repetition_penalty: float | None = None,
        first_vrt_features: str | None = None,
    ) -> OrtGeneration:
        """Greedy generation. ``forced`` (tests) feeds the given ids instead of the argmax,
        still recording the hidden state that predicted each of them. The repetition penalty
        and the first-VRT rule default to the manifest's."""
        settings = self.manifest["generation"]
        penalty = settings.get("repetition_penalty", 1.0)
        penalty = penalty if repetition_penalty is None else repetition_penalty
        rule = first_vrt_features or self.manifest.get("first_vrt_features", "last_prompt_row")
        ids = np.asarray(input_ids, dtype=np.int64).ravel()
        stops = set(stop_ids) if stop_ids is not None else set(self.tokens["eos"])
        images = self.encode_images(pixel_values, grids) if grids else []
        d = self.llm_cfg["hidden_size"]
        prototypes = (
            np.concatenate([img.prototypes for img in images])
            if images
            else np.zeros((0, d), np.float32)
        )
        counts = [img.num_patches for img in images]
        current = current_image % len(images) if images else 0
        bias = grid.vrt_bias(counts, current) if images else np.zeros(0, np.float32)
        positions, delta = grid.rope_index(
            ids, list(grids), self.tokens["image_pad"], self.tokens["vision_start"]
        )

        no_rows = np.zeros((0, d), np.float32)
        image_rows = np.concatenate([img.embeds for img in images]) if images else no_rows
        logits, hidden, past = self.step(
            self.graph_ids(ids, len(prototypes)),
            image_rows,
            positions,
            len(ids),
            self._empty_past(),
            prototypes,
            bias,
        )
        prefill = hidden[0] if rule == "all_prompt_rows" else None
        out_ids: list[int] = []
        states: list[np.ndarray] = []
        cache_len = len(ids)
        limit = len(forced) if forced is not None else max_new_tokens
        while True:
            scores = apply_repetition_penalty(logits, [*ids.tolist(), *out_ids], penalty)
            token = int(forced[len(out_ids)]) if forced is not None else int(np.argmax(scores))
            out_ids.append(token)
            states.append(hidden[0, -1])
            if token in stops or len(out_ids) >= limit:
                break
            logits, hidden, past = self.step(
                np.array([[token]], np.int64),
                no_rows,
                grid.decode_position(cache_len, delta),
                cache_len + 1,
                past,
                prototypes,
                bias,
            )
            cache_len += 1
        return OrtGeneration(out_ids, np.stack(states), images, current, positions, delta, prefill)

    # --- decoder -----------------------------------------------------------------------

    def row_of_cell(self, image: OrtImage) -> np.ndarray:
        gh, gw = image.grid
        return grid.row_of_cell(image.window_index, gh, gw, self.manifest["mask_placement"])

    def decode_objects(self, features: Sequence[np.ndarray], image: OrtImage) -> OrtObjects:
        """All objects of one image in one decoder run, padded to the longest."""
        gh, gw = image.grid
        if not features:
            return OrtObjects(
                np.zeros((0, 4), np.float32),
                np.zeros(0, np.float32),
                np.zeros((0, 4 * gh, 4 * gw), np.float32),
            )
        k = max(f.shape[0] for f in features)
        d = features[0].shape[1]
        batch = np.zeros((len(features), k, d), np.float32)
        valid = np.zeros((len(features), k), bool)
        for i, f in enumerate(features):
            batch[i, : f.shape[0]] = f
            valid[i, : f.shape[0]] = True
        boxes, scores, masks = self.sessions["decoder"].run(
            None,
            {
                "features": batch,
                "feature_mask": valid,
                "prototypes": image.prototypes,
                "high_res": image.high_res,
                "cos": image.cos,
                "sin": image.sin,
                "row_of_cell": self.row_of_cell(image),
                "mask_grid": np.zeros((gh, gw), np.uint8),
            },
        )
        return OrtObjects(boxes, scores, masks)


def apply_repetition_penalty(
    scores: np.ndarray, sequence: Sequence[int], penalty: float
) -> np.ndarray:
    """transformers' RepetitionPenaltyLogitsProcessor in float32: each id of the sequence so
    far (prompt, image pads and VRTs included) has its score divided by the penalty when
    positive, multiplied when negative."""
    if penalty == 1.0:
        return scores
    p = np.float32(penalty)
    out = scores.astype(np.float32, copy=True)
    seen = np.unique(np.asarray(sequence, dtype=np.int64))
    picked = out[seen]
    out[seen] = np.where(picked < 0, picked * p, picked / p)
    return out


def vrt_runs(ids: Sequence[int], vocab_rows: int, stops: Iterable[int]) -> list[list[int]]:
    """Positions (in ``ids``) of each maximal run of VRT ids, up to the first stop id."""
    stops = set(stops)
    runs: list[list[int]] = []
    for t, token in enumerate(ids):
        if token in stops:
            break
        if token < vocab_rows:
            continue
        if runs and runs[-1][-1] == t - 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    return runs


def box_to_pixels(box: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    cx, cy, w, h = (float(v) for v in box)
    x, y = max(cx - w / 2, 0.0), max(cy - h / 2, 0.0)
    return (x * width, y * height, min(w, 1.0) * width, min(h, 1.0) * height)


def _bilinear_axis(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of PyTorch's bilinear resize (align_corners=False)."""
    scale = np.float32(size_in) / np.float32(size_out)
    src = (np.arange(size_out, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    src = np.maximum(src, np.float32(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), size_in - 1)
    i1 = np.minimum(i0 + 1, size_in - 1)
    return i0, i1, (src - i0).astype(np.float32)


def mask_to_pixels(mask_logits: np.ndarray, width: int, height: int) -> np.ndarray:
    """[h4, w4] logits -> bool [height, width]: bilinear upsampling, sigmoid > 0.5."""
    m = mask_logits.astype(np.float32)
    y0, y1, wy = _bilinear_axis(m.shape[0], height)
    x0, x1, wx = _bilinear_axis(m.shape[1], width)
    rows = m[y0] * (1 - wy)[:, None] + m[y1] * wy[:, None]
    out = rows[:, x0] * (1 - wx)[None] + rows[:, x1] * wx[None]
    with np.errstate(over="ignore"):
        prob = np.float32(1) / (np.float32(1) + np.exp(-out, dtype=np.float32))
    return prob > np.float32(0.5)
