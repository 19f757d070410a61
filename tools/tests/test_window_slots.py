"""Windows as a padded batch (format 4's window_slots / window_rows): the windowed vision
blocks attend per window, which must equal attention over all rows with the block mask."""

import numpy as np
import torch

from padt import grid
from padt.export.attention import KeyPaddedAttention, MultiHeadAttention


def test_window_slots_pad_short_windows():
    slots, rows = grid.window_slots(np.array([0, 3, 4, 6]))
    np.testing.assert_array_equal(slots, [[0, 1, 2], [3, -1, -1], [4, 5, -1]])
    np.testing.assert_array_equal(rows, [0, 1, 2, 3, 6, 7])


def test_per_window_attention_equals_block_masked_attention():
    vi = grid.vision_inputs([(10, 14), (8, 8)], head_dim=16)
    n, dim, heads = vi.cos.shape[0], 32, 2
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(n, dim, generator=g) for _ in range(3))
    mask = torch.from_numpy(grid.block_mask(grid.segments_from_cu(vi.cu_window_seqlens)))
    want = MultiHeadAttention.apply(q[None], k[None], v[None], mask[None, None], heads)[0]
    slots = torch.from_numpy(vi.window_slots)
    windows, width = slots.shape
    assert windows == len(vi.cu_window_seqlens) - 1 and width == 64
    batch = [t[slots.clamp(min=0)] for t in (q, k, v)]
    out = KeyPaddedAttention.apply(*batch, (slots >= 0).to(torch.int32), heads)
    got = out.reshape(windows * width, dim)[torch.from_numpy(vi.window_rows)]
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
