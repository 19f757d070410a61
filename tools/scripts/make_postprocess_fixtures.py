"""Fixtures for the engine's mask post-processing: torch's bilinear resize + threshold.

Run: tools/.venv/bin/python tools/scripts/make_postprocess_fixtures.py
Writes packages/engine/test/fixtures/postprocess.json.
"""

import json
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parents[2] / "packages/engine/test/fixtures/postprocess.json"


def runs(mask_cm: np.ndarray) -> list[int]:
    """Uncompressed column-major run lengths, starting with zeros (COCO's convention)."""
    flat = mask_cm.reshape(-1)
    counts, current, length = [], 0, 0
    for v in flat:
        if v != current:
            counts.append(length)
            current, length = v, 0
        length += 1
    counts.append(length)
    return counts


def main() -> None:
    rng = np.random.default_rng(0)
    cases = []
    # (map rows, map cols, valid rows, valid cols, out h, out w): up- and downsampling, crops.
    for rows, cols, vr, vc, h, w in [
        (16, 24, 16, 24, 37, 53),
        (16, 24, 12, 20, 150, 200),
        (32, 32, 32, 28, 20, 17),
        (8, 8, 8, 8, 8, 8),
    ]:
        # Smooth logits (blobs), like a real mask head, plus noise.
        yy, xx = np.mgrid[0:rows, 0:cols]
        logits = 3 * np.sin(yy / 3.0) * np.cos(xx / 4.0) + rng.normal(0, 0.5, (rows, cols))
        # Rounded first, so the JSON holds exactly the values torch saw.
        logits = np.round(logits, 6).astype(np.float32)
        t = torch.from_numpy(logits)[None, None, :vr, :vc]
        up = torch.nn.functional.interpolate(t, size=(h, w), mode="bilinear")[0, 0]
        mask = (up.sigmoid() > 0.5).numpy().astype(np.uint8)
        cases.append(
            {
                "map": [rows, cols],
                "valid": [vr, vc],
                "out": [h, w],
                "logits": [float(v) for v in logits.reshape(-1)],
                "counts": runs(np.asfortranarray(mask).T),
                "area": int(mask.sum()),
            }
        )
    OUT.write_text(json.dumps({"cases": cases}, separators=(",", ":")))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
