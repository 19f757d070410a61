"""Shared, cached fixtures for the reference-model tests (one tiny checkpoint per process)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from padt.checkpoint import load_padt
from padt.tiny import save_tiny_checkpoint

# The tiny models are far too small for intra-op threads to pay off on shared CPUs.
torch.set_num_threads(1)


@lru_cache(maxsize=1)
def tiny_checkpoint_dir() -> Path:
    root = Path(tempfile.mkdtemp(prefix="padt-tiny-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return save_tiny_checkpoint(root / "tiny", seed=0)


@lru_cache(maxsize=1)
def tiny_loaded():
    """(model, tokenizer, processor) loaded from the cached tiny checkpoint."""
    return load_padt(tiny_checkpoint_dir())


def noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def user_turn(text: str, images: int = 1) -> list[dict]:
    content = [{"type": "image"} for _ in range(images)] + [{"type": "text", "text": text}]
    return [{"role": "user", "content": content}]
