"""Grid math for Qwen2.5-VL / PaDT, in numpy only.

This module is the specification that the TypeScript engine mirrors: everything
that depends on the image grid and is fed to the ONNX graphs as an input is
computed here (window permutation, window/full attention segments, vision rotary
tables, 3-D LLM positions, the dynamic-vocabulary logit mask).

Conventions: an image of ``grid_h x grid_w`` 14-px patches (both even) has
``n = grid_h * grid_w`` patch rows in *merge-block order* (each 2x2 block of
patches, blocks in raster order) and ``n // 4`` merge units in *raster order*.
The vision tower permutes merge units into *window order* (windows of
``window_merge x window_merge`` merge units, raster order of windows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PATCH = 14
MERGE = 2
FACTOR = PATCH * MERGE


def smart_resize(
    height: int,
    width: int,
    factor: int = FACTOR,
    min_pixels: int = 56 * 56,
    max_pixels: int = 14 * 14 * 4 * 16384,
    *,
    at_least_one_cell: bool = False,
) -> tuple[int, int]:
    """Qwen2-VL's resize rule, the repository's one smart_resize. ``round`` is Python's (half
    to even): the TS engine mirrors it. transformers' image processor refuses a side under
    ``factor``; qwen_vl_utils (``at_least_one_cell``, what the PaDT demo's fetch_image runs)
    rounds it up to one cell instead."""
    if not at_least_one_cell and (height < factor or width < factor):
        raise ValueError(f"height {height} or width {width} is smaller than {factor}")
    if max(height, width) / min(height, width) > 200:
        raise ValueError("absolute aspect ratio must be smaller than 200")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def window_index(
    grid_h: int, grid_w: int, window_size: int = 112, patch: int = PATCH, merge: int = MERGE
) -> tuple[np.ndarray, np.ndarray]:
    """Window order of one image's merge units.

    Returns ``(index, seqlens)``: ``index[k]`` is the raster merge-unit index at
    window position ``k`` (int64, length ``grid_h*grid_w/4``), and ``seqlens`` the
    number of merge units in each window, *including the empty windows* that the
    padding rule creates: each side is padded by ``wm - side % wm`` (a whole
    window when the side divides evenly), exactly like transformers.
    """
    wm = window_size // merge // patch
    lh, lw = grid_h // merge, grid_w // merge
    pad_h = wm - lh % wm
    pad_w = wm - lw % wm
    nwh, nww = (lh + pad_h) // wm, (lw + pad_w) // wm
    padded = np.full((lh + pad_h, lw + pad_w), -1, dtype=np.int64)
    padded[:lh, :lw] = np.arange(lh * lw, dtype=np.int64).reshape(lh, lw)
    blocks = padded.reshape(nwh, wm, nww, wm).transpose(0, 2, 1, 3).reshape(nwh * nww, wm * wm)
    seqlens = (blocks >= 0).sum(axis=1).astype(np.int64)
    flat = blocks.reshape(-1)
    return flat[flat >= 0], seqlens


def inverse_index(index: np.ndarray) -> np.ndarray:
    """``argsort`` of a permutation: maps window order back to raster order."""
    inv = np.empty_like(index)
    inv[index] = np.arange(index.shape[0], dtype=index.dtype)
    return inv


@dataclass(frozen=True)
class VisionInputs:
    """Grid-dependent inputs of the vision graph for one or more images."""

    window_index: np.ndarray  # [U] int64, merge units in window order (offset per image)
    reverse_index: np.ndarray  # [U] int64, inverse permutation
    cu_window_seqlens: np.ndarray  # [W+1] int64, patch rows, empty windows removed
    cu_seqlens: np.ndarray  # [I+1] int64, patch rows per image
    window_segments: np.ndarray  # [N] int64, window id of each row (format 3's graph input)
    full_segments: np.ndarray  # [N] int64, image id of each patch row
    window_slots: np.ndarray  # [W, Lw] int64, patch row in each window slot, -1 = padding
    window_rows: np.ndarray  # [N] int64, flat slot (w * Lw + j) of each patch row
    cos: np.ndarray  # [N, head_dim] float32, window order
    sin: np.ndarray  # [N, head_dim] float32, window order


def cu_window_seqlens(
    grids: list[tuple[int, int]], window_size: int = 112, patch: int = PATCH, merge: int = MERGE
) -> np.ndarray:
    """Cumulative window lengths in patch rows over several images, as transformers
    computes them after ``unique_consecutive`` (empty windows vanish)."""
    out = [0]
    unit = merge * merge
    for gh, gw in grids:
        _, seqlens = window_index(gh, gw, window_size, patch, merge)
        for s in seqlens:
            if s > 0:
                out.append(out[-1] + int(s) * unit)
    return np.asarray(out, dtype=np.int64)


def segments_from_cu(cu: np.ndarray) -> np.ndarray:
    """Segment id per row from cumulative lengths: rows attend within their segment."""
    lengths = np.diff(cu)
    return np.repeat(np.arange(lengths.shape[0], dtype=np.int64), lengths)


def window_slots(cu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Windows as a padded batch: ``slots`` [W, Lw] holds the (window-ordered) patch rows of
    window w left-aligned, -1 after its end (Lw: the longest window; edge windows are
    shorter); ``rows`` [N] is the flat slot of each row, to put the batch back in row order.
    The vision graph attends within each window of this batch instead of over all rows."""
    lengths = np.diff(cu)
    width = int(lengths.max()) if lengths.shape[0] else 0
    slots = np.full((lengths.shape[0], width), -1, dtype=np.int64)
    rows = np.empty(int(cu[-1]), dtype=np.int64)
    for w, (start, length) in enumerate(zip(cu[:-1], lengths, strict=True)):
        slots[w, :length] = np.arange(start, start + length)
        rows[start : start + length] = w * width + np.arange(length)
    return slots, rows


def block_mask(segments: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Dense additive mask [N, N]: 0 inside a segment, dtype's min elsewhere.

    The vision graph builds the same mask itself from ``full_segments`` (its windowed
    blocks attend per window since format 4, see window_slots); this is for tests and for
    engines that prefer to feed masks."""
    same = segments[:, None] == segments[None, :]
    return np.where(same, 0.0, np.finfo(dtype).min).astype(dtype)


def vision_rotary(
    grid_h: int, grid_w: int, head_dim: int, theta: float = 10000.0, merge: int = MERGE
) -> tuple[np.ndarray, np.ndarray]:
    """Rotary angles per patch row in merge-block order: [N, head_dim // 2] float32.

    Row angles use frequencies ``1 / theta**(2i/d)`` with ``d = head_dim // 2`` on
    the patch row for the first ``d/2`` entries and on the patch column for the next.
    """
    dim = head_dim // 2
    inv_freq = (1.0 / (np.float32(theta) ** (np.arange(0, dim, 2, dtype=np.float32) / dim))).astype(
        np.float32
    )
    hpos = np.arange(grid_h).reshape(grid_h, 1).repeat(grid_w, axis=1)
    wpos = np.arange(grid_w).reshape(1, grid_w).repeat(grid_h, axis=0)

    def blocks(a: np.ndarray) -> np.ndarray:
        return (
            a.reshape(grid_h // merge, merge, grid_w // merge, merge).transpose(0, 2, 1, 3).ravel()
        )

    hp, wp = blocks(hpos).astype(np.float32), blocks(wpos).astype(np.float32)
    return np.concatenate([np.outer(hp, inv_freq), np.outer(wp, inv_freq)], axis=1).astype(
        np.float32
    )


def vision_inputs(
    grids: list[tuple[int, int]],
    head_dim: int,
    window_size: int = 112,
    theta: float = 10000.0,
    patch: int = PATCH,
    merge: int = MERGE,
) -> VisionInputs:
    """All grid-dependent inputs of the vision graph for images ``grids`` (14-px units),
    whose patch rows are concatenated in order."""
    unit = merge * merge
    idx_parts, rot_parts, full_parts = [], [], []
    offset = 0
    for i, (gh, gw) in enumerate(grids):
        idx, _ = window_index(gh, gw, window_size, patch, merge)
        idx_parts.append(idx + offset)
        offset += idx.shape[0]
        rot = vision_rotary(gh, gw, head_dim, theta, merge).reshape(-1, unit, head_dim // 2)
        rot_parts.append(rot[idx].reshape(-1, head_dim // 2))
        full_parts.append(np.full(gh * gw, i, dtype=np.int64))
    widx = np.concatenate(idx_parts)
    rot = np.concatenate(rot_parts)
    emb = np.concatenate([rot, rot], axis=1)
    cu_w = cu_window_seqlens(grids, window_size, patch, merge)
    cu_f = np.concatenate([[0], np.cumsum([gh * gw for gh, gw in grids])]).astype(np.int64)
    slots, rows = window_slots(cu_w)
    return VisionInputs(
        window_index=widx,
        reverse_index=inverse_index(widx),
        cu_window_seqlens=cu_w,
        cu_seqlens=cu_f,
        window_segments=segments_from_cu(cu_w),
        full_segments=np.concatenate(full_parts),
        window_slots=slots,
        window_rows=rows,
        cos=np.cos(emb).astype(np.float32),
        sin=np.sin(emb).astype(np.float32),
    )


def rope_index(
    input_ids: np.ndarray,
    image_grids: list[tuple[int, int]],
    image_token_id: int,
    vision_start_token_id: int,
    merge: int = MERGE,
) -> tuple[np.ndarray, int]:
    """3-D LLM positions [3, L] (t, h, w) and ``rope_delta`` for one sequence.

    Text tokens take ``st + i`` on all axes; an image's merged tokens (a run of
    image_token_id right after vision_start) take ``(st, st + row, st + col)``,
    where ``st`` is the previous maximum + 1. ``rope_delta = max + 1 - L``.
    """
    ids = np.asarray(input_ids, dtype=np.int64).ravel()
    n = ids.shape[0]
    pos = np.zeros((3, n), dtype=np.int64)
    starts = np.nonzero(ids == vision_start_token_id)[0]
    image_starts = [s + 1 for s in starts if s + 1 < n and ids[s + 1] == image_token_id]
    if len(image_starts) != len(image_grids):
        raise ValueError(f"{len(image_starts)} images in the ids, {len(image_grids)} grids given")
    cur, nxt = 0, 0  # cur: next token index; nxt: next position value
    for s, (gh, gw) in zip(image_starts, image_grids, strict=True):
        text_len = s - cur
        pos[:, cur:s] = nxt + np.arange(text_len)
        st = nxt + text_len
        lh, lw = gh // merge, gw // merge
        count = lh * lw
        pos[0, s : s + count] = st
        pos[1, s : s + count] = st + np.repeat(np.arange(lh), lw)
        pos[2, s : s + count] = st + np.tile(np.arange(lw), lh)
        cur = s + count
        nxt = st + max(lh, lw)
    pos[:, cur:] = nxt + np.arange(n - cur)
    delta = int(pos.max()) + 1 - n if n else 0
    return pos, delta


def decode_position(cache_len: int, rope_delta: int) -> np.ndarray:
    """Position [3, 1] of the token fed at cache length ``cache_len``."""
    return np.full((3, 1), cache_len + rope_delta, dtype=np.int64)


def vrt_bias(image_token_counts: list[int], current: int, dtype=np.float32) -> np.ndarray:
    """Additive bias over the VRT rows [sum(counts)]: 0 for the patches of image
    ``current``, -inf for every other image's patches. Text rows are never masked."""
    total = int(sum(image_token_counts))
    bias = np.full(total, -np.inf, dtype=dtype)
    start = int(sum(image_token_counts[:current]))
    bias[start : start + image_token_counts[current]] = 0.0
    return bias


def vrt_logit_mask(vocab_rows: int, image_token_counts: list[int], current: int) -> np.ndarray:
    """Full additive mask over ``[text rows ; VRT rows]`` (length V + sum(counts))."""
    return np.concatenate(
        [np.zeros(vocab_rows, dtype=np.float32), vrt_bias(image_token_counts, current)]
    )


def row_of_cell(
    window_index: np.ndarray, grid_h: int, grid_w: int, placement: str, merge: int = MERGE
) -> np.ndarray:
    """Decoder input [N]: the high-res row shown in each 14-px cell (raster order).

    "window" (the reference, kept for imported checkpoints) shows row i at cell i, which
    is not where that patch is; "spatial" shows each patch's own row.
    """
    if placement == "window":
        return np.arange(grid_h * grid_w, dtype=np.int64)
    if placement != "spatial":
        raise ValueError(f"unknown mask placement {placement!r}")
    unit = merge * merge
    units = np.repeat(np.asarray(window_index, dtype=np.int64), unit)
    sub = np.arange(units.shape[0], dtype=np.int64) % unit
    w28 = grid_w // merge
    row14 = (units // w28) * merge + sub // merge
    col14 = (units % w28) * merge + sub % merge
    return inverse_index(row14 * grid_w + col14)
