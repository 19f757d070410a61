"""Window-order quirks of the reference, reproduced; and the corrected (spatial) mask placement.

The image is 280 x 168 px: a 12 x 20 grid of 14-px patches, 6 x 10 merge units, so 2 x 3
windows of 4 x 4 units and a window order that differs from raster order. Each window-
ordered row's patch position is read back from the vision rotary tables (cos/sin).
"""

from __future__ import annotations

import copy

import pytest
import torch
from reference_support import noise_image, tiny_loaded, user_turn

from padt.decoder import spatial_row_of_cell
from padt.processing import build_inputs

H14, W14 = 12, 20


@pytest.fixture(scope="module")
def encoded():
    model, tokenizer, processor = tiny_loaded()
    inputs = build_inputs(
        processor, tokenizer, [noise_image(280, 168)], user_turn("Hi"), long_side=None
    )
    assert inputs.image_grid_thw.tolist() == [[1, H14, W14]]
    (image,) = model.encode_images(inputs.pixel_values, inputs.image_grid_thw)
    return model, inputs, image


def positions(image) -> tuple[torch.Tensor, torch.Tensor]:
    """(row14, col14) of each window-ordered row. Rotary layout per row: 4 row frequencies,
    4 column frequencies, repeated; index 1 / 5 have frequency 0.1 (no wrap-around)."""
    angle = torch.atan2(image.sin, image.cos)
    return (angle[:, 1] / 0.1).round().long(), (angle[:, 5] / 0.1).round().long()


def test_high_res_rows_are_in_window_order(encoded) -> None:
    _, _, image = encoded
    rows, cols = positions(image)
    raster = torch.arange(H14 * W14)
    assert not torch.equal(rows * W14 + cols, raster)
    assert torch.equal(torch.sort(rows * W14 + cols).values, raster)  # a permutation


def test_merger_output_matches_stock_forward(encoded) -> None:
    model, inputs, image = encoded
    with torch.no_grad():
        stock = model.visual(inputs.pixel_values, grid_thw=inputs.image_grid_thw)
        merged = model.visual.merger(image.high_res)[torch.argsort(image.window_index)]
    torch.testing.assert_close(image.embeds, stock, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(image.embeds, merged, atol=1e-6, rtol=1e-5)


def test_low_res_rotary_pairing_quirk(encoded) -> None:
    """Low-res memory row j is raster merge unit j, but its rotary row is window row 4j."""
    model, _, image = encoded
    low_cos, _ = model.vl_decoder._low_res_rotary(image.cos, image.sin)
    assert torch.equal(low_cos, image.cos[::4])
    rows, cols = positions(image)
    units = torch.arange(image.num_patches)
    raster_row, raster_col = (units // (W14 // 2)) * 2, (units % (W14 // 2)) * 2
    mismatched = (rows[::4] != raster_row) | (cols[::4] != raster_col)
    assert mismatched.any()  # the pairing is not spatial, as in the reference
    unit = image.window_index
    assert torch.equal(rows[::4], (unit // (W14 // 2)) * 2) and torch.equal(
        cols[::4], (unit % (W14 // 2)) * 2
    )


def test_spatial_row_of_cell_puts_each_patch_in_its_cell(encoded) -> None:
    _, _, image = encoded
    row_of_cell = spatial_row_of_cell(image.window_index, H14, W14)
    rows, cols = positions(image)
    cells = torch.arange(H14 * W14)
    assert torch.equal(rows[row_of_cell], cells // W14) and torch.equal(
        cols[row_of_cell], cells % W14
    )


def test_mask_placement_flag(encoded) -> None:
    model, _, image = encoded
    features = [
        torch.randn(3, model.config.hidden_size, generator=torch.Generator().manual_seed(0))
    ]
    assert model.config.padt_mask_placement == "window" and model.row_of_cell(image) is None
    window = model.decode_objects(features, image)
    spatial_model = copy.copy(model)
    spatial_model.config = copy.deepcopy(model.config)
    spatial_model.config.padt_mask_placement = "spatial"
    spatial = spatial_model.decode_objects(features, image)
    torch.testing.assert_close(spatial.boxes, window.boxes, atol=0, rtol=0)
    row_of_cell = spatial_model.row_of_cell(image)

    def cells(mask: torch.Tensor) -> torch.Tensor:  # [4*H14, 4*W14] -> [H14*W14, 4, 4]
        return mask.reshape(H14, 4, W14, 4).transpose(1, 2).reshape(H14 * W14, 4, 4)

    # Window placement shows row i in cell i; spatial shows row_of_cell[c] in cell c.
    assert torch.equal(cells(spatial.mask_logits[0]), cells(window.mask_logits[0])[row_of_cell])
    assert not torch.equal(spatial.mask_logits, window.mask_logits)
