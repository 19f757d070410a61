"""PaDT decoder: public parameter names, reference mask assembly, and per-object == batched.

Tolerances (float32): atol 1e-5 / rtol 1e-4 between the per-object and batched paths.
"""

from __future__ import annotations

import pytest
import reference_support  # noqa: F401  (sets torch threads for the tiny models)
import torch

from padt.config import DecoderSettings
from padt.decoder import PadtDecoder

SETTINGS = DecoderSettings(
    hidden_size=64, intermediate_size=96, llm_hidden_state=48, num_heads=4, spatial_merge_size=2
)
H14, W14 = 6, 8
N = H14 * W14
ATOL, RTOL = 1e-5, 1e-4


@pytest.fixture(scope="module")
def decoder() -> PadtDecoder:
    torch.manual_seed(0)
    model = PadtDecoder(SETTINGS).eval()
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0, 0.2)
    return model


@pytest.fixture(scope="module")
def image_inputs() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    angles = torch.randn(N, SETTINGS.head_dim // 2, generator=gen)
    angles = torch.cat([angles, angles], dim=-1)
    return {
        "prototypes": torch.randn(N // 4, SETTINGS.llm_hidden_state, generator=gen),
        "high_res": torch.randn(N, SETTINGS.hidden_size, generator=gen),
        "cos": angles.cos(),
        "sin": angles.sin(),
    }


def _block_keys(prefix: str) -> set[str]:
    keys = {f"{prefix}.norm{i}.weight" for i in range(1, 7)}
    for attn in ("self_attn", "cross_attn_query_to_image", "cross_attn_image_to_query"):
        for proj in ("q_proj", "k_proj", "v_proj", "proj"):
            keys |= {f"{prefix}.{attn}.{proj}.weight", f"{prefix}.{attn}.{proj}.bias"}
    keys |= {f"{prefix}.mlp.{i}.{p}" for i in (0, 2) for p in ("weight", "bias")}
    return keys


def _linear(*names: str) -> set[str]:
    return {f"{n}.{p}" for n in names for p in ("weight", "bias")}


def test_parameter_names_match_public_checkpoint(decoder: PadtDecoder) -> None:
    # Names read from the reference's padt_decoder.py module structure.
    expected = (
        {"vp_embedding.weight", "bbox_score_mask_tokens.weight", "input_projection.0.weight"}
        | _linear("input_projection.1", "input_projection.3")
        | _block_keys("low_res_transformer")
        | _block_keys("high_res_transformer1")
        | _block_keys("high_res_transformer2")
        | {"high_res_norm.weight"}
        | _linear("bbox_prediction.0", "bbox_prediction.2", "bbox_prediction.4")
        | _linear("score_prediction")
        | _linear("mask_output_upscaling1.0", "mask_output_upscaling2.0")
        | {"mask_output_upscaling1.1.weight"}
        | _linear("mask_output_mlp.0", "mask_output_mlp.2", "mask_output_mlp.4")
    )
    assert set(decoder.state_dict()) == expected
    assert decoder.bbox_score_mask_tokens.weight.shape == (3, 64)
    assert decoder.mask_output_mlp[4].weight.shape == (64 // 16, 64)
    assert decoder.mask_output_upscaling2[0].weight.shape == (64 // 16 * 4, 64 // 4)


def _objects() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(2)
    features = torch.randn(4, 6, SETTINGS.llm_hidden_state, generator=gen)
    mask = torch.zeros(4, 6, dtype=torch.bool)
    mask[0, :1] = True
    mask[1, :3] = True
    mask[2, :] = True
    mask[3, [1, 4]] = True  # padding need not be a suffix
    features[~mask] = float("nan")  # padding must never leak into results
    return features, mask


@pytest.mark.parametrize("permute_cells", [False, True])
def test_batched_equals_per_object(
    decoder: PadtDecoder, image_inputs: dict[str, torch.Tensor], permute_cells: bool
) -> None:
    features, mask = _objects()
    row_of_cell = (
        torch.randperm(N, generator=torch.Generator().manual_seed(3)) if permute_cells else None
    )
    with torch.no_grad():
        per_object = decoder(
            [features[i][mask[i]] for i in range(len(mask))],
            **image_inputs,
            grid_h14=H14,
            grid_w14=W14,
            row_of_cell=row_of_cell,
        )
        boxes, scores, masks = decoder.forward_batch(
            features, mask, **image_inputs, grid_h14=H14, grid_w14=W14, row_of_cell=row_of_cell
        )
    assert boxes.shape == (4, 4) and scores.shape == (4,) and masks.shape == (4, 4 * H14, 4 * W14)
    assert torch.isfinite(masks).all()
    torch.testing.assert_close(boxes, per_object.boxes, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(scores, per_object.score_logits, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(masks, per_object.mask_logits, atol=ATOL, rtol=RTOL)
    assert ((boxes >= 0) & (boxes <= 1)).all()


def test_grid_sizes_may_be_tensors(
    decoder: PadtDecoder, image_inputs: dict[str, torch.Tensor]
) -> None:
    features, mask = _objects()
    with torch.no_grad():
        as_ints = decoder.forward_batch(features, mask, **image_inputs, grid_h14=H14, grid_w14=W14)
        as_tensors = decoder.forward_batch(
            features, mask, **image_inputs, grid_h14=torch.tensor(H14), grid_w14=torch.tensor(W14)
        )
    for a, b in zip(as_ints, as_tensors, strict=True):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_batched_forward_traces(
    decoder: PadtDecoder, image_inputs: dict[str, torch.Tensor]
) -> None:
    """No data-dependent control flow: a trace at B=2, K=3 serves B=4, K=6."""
    features, mask = _objects()
    args = [image_inputs[k] for k in ("prototypes", "high_res", "cos", "sin")]

    class Batched(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.decoder = decoder

        def forward(self, f, m, p, h, c, s):
            return self.decoder.forward_batch(f, m, p, h, c, s, H14, W14)

    run = Batched().eval()
    small_mask = torch.ones(2, 3, dtype=torch.bool)
    with torch.no_grad():
        traced = torch.jit.trace(run, (torch.randn(2, 3, 48), small_mask, *args), check_trace=False)
        expected = run(features, mask, *args)
        got = traced(features, mask, *args)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, atol=ATOL, rtol=RTOL)


def _reference_mask_chain(
    decoder: PadtDecoder, token: torch.Tensor, memory: torch.Tensor
) -> torch.Tensor:
    """The reference's reshape/permute chain for one object, transcribed from PADT_MODEL.md §3."""
    n, d = memory.shape
    e = d // 16
    vector = decoder.mask_output_mlp(token)
    up = decoder.mask_output_upscaling1(memory).reshape(n, 2, 2, d // 4).permute(1, 2, 0, 3)
    up = decoder.mask_output_upscaling2(up).reshape(2, 2, n, 2, 2, e)
    up = up.permute(0, 3, 1, 4, 2, 5).flatten(0, 1).flatten(1, 2)  # [4 (2a+c), 4 (2b+d), N, e]
    logits = (up.permute(2, 0, 1, 3) * vector).sum(-1)  # [N, 4, 4]
    rows, cols = torch.arange(n) // W14, torch.arange(n) % W14
    padded = torch.zeros(1, 4, 4, H14, W14)
    padded[torch.zeros(n, dtype=torch.long), :, :, rows, cols] = logits
    return padded.permute(0, 3, 1, 4, 2).reshape(4 * H14, 4 * W14)


def test_mask_assembly_matches_reference_chain(decoder: PadtDecoder) -> None:
    gen = torch.Generator().manual_seed(4)
    token, memory = torch.randn(64, generator=gen), torch.randn(N, 64, generator=gen)
    with torch.no_grad():
        ours = decoder._mask_map(token, memory, H14, W14, None)
        reference = _reference_mask_chain(decoder, token, memory)
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=1e-5)


def test_low_res_positions_take_every_fourth_window_row(decoder: PadtDecoder) -> None:
    cos, sin = torch.randn(N, 16), torch.randn(N, 16)
    low_cos, low_sin = decoder._low_res_rotary(cos, sin)
    assert torch.equal(low_cos, cos[::4]) and torch.equal(low_sin, sin[::4])


def test_high_res_memory_repeats_low_res_rows(decoder: PadtDecoder) -> None:
    low, high = torch.randn(N // 4, 64), torch.randn(N, 64)
    with torch.no_grad():
        ours = decoder._high_res_memory(low, high)
        expected = decoder.high_res_norm(low.repeat_interleave(4, dim=0) + high)
    torch.testing.assert_close(ours, expected, atol=0, rtol=0)


def test_no_objects(decoder: PadtDecoder, image_inputs: dict[str, torch.Tensor]) -> None:
    out = decoder([], **image_inputs, grid_h14=H14, grid_w14=W14)
    assert out.boxes.shape == (0, 4) and out.mask_logits.shape == (0, 4 * H14, 4 * W14)
