"""PaDT reference model in PyTorch (transformers 4.50 Qwen2.5-VL + PaDT's additions).

Public interface (kept stable for the ONNX exporter and the golden files):

- ``padt.checkpoint.load_padt(path, dtype=torch.float32)`` -> (model, tokenizer, processor);
  ``padt.checkpoint.save_padt(model, tokenizer, path, processor=None)``; errors derive
  from ``padt.checkpoint.CheckpointError``.
- ``padt.tiny.make_tiny_config()``, ``padt.tiny.build_tiny_model(seed=0)``,
  ``padt.tiny.save_tiny_checkpoint(path, seed=0)``: a tiny random checkpoint.
- ``padt.modeling.PadtForConditionalGeneration``: ``encode_images(pixel_values,
  image_grid_thw)`` -> list of ``EncodedImage`` (embeds E, prototypes P, high_res,
  cos, sin, grid_thw, window_index); ``embed_ids``, ``embed_prompt``,
  ``vrt_logit_mask``, ``padt_logits``, ``decode_objects``.
- ``padt.decoder.PadtDecoder``: ``forward`` (per object, as the reference) and
  ``forward_batch(features, feature_mask, prototypes, high_res, cos, sin, grid_h14,
  grid_w14, row_of_cell=None)`` -> (boxes [B,4], score_logits [B], mask_logits
  [B,4*H14,4*W14]).
- ``padt.processing.build_inputs(processor, tokenizer, images, messages, long_side=644)``.
- ``padt.generation.generate(model, inputs, max_new_tokens=1024, ...)`` -> GenerationResult.
- ``padt.vrt.parse_answer(ids, tokenizer, vocab_size, hidden_states=None, ...)``.
- ``padt.postprocess.decode_answer(model, result, parsed, image_size)``: boxes in pixels,
  masks, scores; ``padt.rle.mask_to_rle`` for COCO RLE.
"""
