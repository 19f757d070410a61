"""Time a bundle's vision graph alone, 1 thread, interleaved with a second bundle's if given.

    cd tools && PYTHONPATH=. /work/bin/quiet .venv/bin/python ../bench/engine/vision_graph.py \
        ../models/padt-tiny-shapes [OTHER_BUNDLE]

Feeds whatever grid inputs the graph declares (format 3's ``window_segments`` or format 4's
``window_slots`` / ``window_rows``), so a copy of an older bundle can be compared with the
current one; prints medians per image size and the largest output difference between them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from padt import grid

SIDES = (16, 20, 32)  # patches per side: 224, 280, 448 px
RUNS = 15


def session(bundle: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(bundle / "vision.onnx"), options)


def feeds(sess: ort.InferenceSession, pixels: np.ndarray, vi: grid.VisionInputs) -> dict:
    names = {i.name for i in sess.get_inputs()}
    every = {"pixel_values": pixels, **{k: getattr(vi, k) for k in names - {"pixel_values"}}}
    return {k: every[k] for k in names}


def main(argv: list[str]) -> None:
    bundles = [Path(a) for a in argv]
    head_dim = json.loads((bundles[0] / "padt.json").read_text())["vision"]["head_dim"]
    sessions = [session(b) for b in bundles]
    for side in SIDES:
        vi = grid.vision_inputs([(side, side)], head_dim)
        pixels = np.random.default_rng(0).standard_normal((side * side, 1176), np.float32)
        inputs = [feeds(s, pixels, vi) for s in sessions]
        outs = [s.run(None, f) for s, f in zip(sessions, inputs, strict=True)]
        times: list[list[float]] = [[] for _ in sessions]
        for _ in range(RUNS):
            for s, f, t in zip(sessions, inputs, times, strict=True):
                start = time.perf_counter()
                s.run(None, f)
                t.append(time.perf_counter() - start)
        medians = ", ".join(
            f"{b.name} {np.median(t) * 1e3:.2f} ms" for b, t in zip(bundles, times, strict=True)
        )
        diff = max(float(np.abs(a - b).max()) for a, b in zip(outs[0], outs[-1], strict=True))
        print(
            f"{side * 14} px ({side * side} patches): {medians}; max output difference {diff:.2e}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
