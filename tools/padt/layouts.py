"""PaDT Pro 3B's layout: the numbers of the public checkpoint's config.json, with its
`vl_decoder` as the reference trainer writes it (padt_sft_trainer.py). One constant for the
shape test (tests/test_reference_checkpoint.py) and the full-scale checkpoint
(bench/full-scale/make_checkpoint.py); copy it before changing a value."""

PADT_PRO_3B = {
    "vocab_size": 151936,
    "hidden_size": 2048,
    "intermediate_size": 11008,
    "num_hidden_layers": 36,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
    "max_position_embeddings": 128000,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1_000_000.0,
    "tie_word_embeddings": True,
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
    "initializer_range": 0.02,
    "vision_config": {
        "depth": 32,
        "hidden_size": 1280,
        "intermediate_size": 3420,
        "num_heads": 16,
        "in_channels": 3,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "out_hidden_size": 2048,
        "fullatt_block_indexes": [7, 15, 23, 31],
        "window_size": 112,
        "hidden_act": "silu",
        "tokens_per_second": 2,
    },
    "vl_decoder": {
        "name": "PaDTDecoder",
        "attn_implementation": "flash_attention_2",
        "hidden_size": 1280,
        "intermediate_size": 3420,
        "llm_hidden_state": 2048,
        "num_heads": 16,
        "spatial_merge_size": 2,
        "use_mask_loss": True,
    },
    "use_visual_prototype_projection": True,
}
