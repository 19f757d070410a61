"""A tiny random PaDT checkpoint (well under 2 MB) for tests and golden files.

Same architecture and file layout as the public checkpoints, at toy sizes: vision depth 4,
width 64, 4 heads of 16, window 112 px, full attention in blocks 1 and 3; LLM width 64,
2 layers, 4 heads, 2 KV heads, mrope [2, 3, 3]; decoder width 64 with 4 heads so that its
head_dim equals the vision head_dim. Deterministic for a given seed. Weights are stored as
float16 (about 1.3 MB on disk; `load_padt` upcasts to float32) and the in-memory model of
`build_tiny_model` is rounded the same way, so both give identical numbers.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from transformers import PreTrainedTokenizerFast

from .checkpoint import save_padt
from .config import MaskPlacement, PadtConfig
from .modeling import PadtForConditionalGeneration
from .processing import make_processor
from .tokenizer_build import CONFIG_ID_TOKENS, build_tiny_tokenizer

# Embedding rows are padded past the tokenizer's length, as Qwen's are (151936 > 151665),
# so code that confuses "tokenizer length" with V fails on the tiny model too.
ROW_MULTIPLE = 64


def _padded_rows(tokens: int) -> int:
    return -(-tokens // ROW_MULTIPLE) * ROW_MULTIPLE


def make_tiny_config(
    tokenizer: PreTrainedTokenizerFast | None = None,
    *,
    tie_word_embeddings: bool = True,
    padt_mask_placement: MaskPlacement = "window",
) -> PadtConfig:
    tok = tokenizer if tokenizer is not None else build_tiny_tokenizer()
    ids = {name: tok.convert_tokens_to_ids(name) for name in CONFIG_ID_TOKENS.values()}
    return PadtConfig(
        vocab_size=_padded_rows(len(tok)),
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        rms_norm_eps=1e-6,
        rope_theta=1_000_000.0,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
        tie_word_embeddings=tie_word_embeddings,
        initializer_range=0.08,
        vision_config={
            "depth": 4,
            "hidden_size": 64,
            "intermediate_size": 96,
            "num_heads": 4,
            "in_channels": 3,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": [1, 3],
            "out_hidden_size": 64,
            "hidden_act": "silu",
            "tokens_per_second": 2,
            "initializer_range": 0.08,
        },
        vl_decoder={
            "name": "PaDTDecoder",
            "hidden_size": 64,
            "intermediate_size": 96,
            "num_heads": 4,
            "use_mask_loss": True,
        },
        use_visual_prototype_projection=True,
        padt_mask_placement=padt_mask_placement,
        architectures=["PadtForConditionalGeneration"],
        torch_dtype="float32",
        **{attr: ids[name] for attr, name in CONFIG_ID_TOKENS.items()},
    )


def build_tiny_model(
    seed: int = 0, config: PadtConfig | None = None
) -> tuple[PadtForConditionalGeneration, PreTrainedTokenizerFast]:
    tokenizer = build_tiny_tokenizer()
    config = config if config is not None else make_tiny_config(tokenizer)
    torch.manual_seed(seed)
    model = PadtForConditionalGeneration(config)
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        # A trained vis_norm is far from its zero init. These scales put prototype rows near
        # text rows in size, so the random model's greedy answers mix text and VRT runs.
        model.vis_norm.weight.normal_(0, 0.1, generator=generator)
        model.vis_norm.bias.normal_(0, 0.05, generator=generator)
        for module in model.vl_decoder.modules():
            if isinstance(module, nn.Embedding):
                module.weight.normal_(0, 1.0, generator=generator)
        # Stored as float16 to stay small; round now so the in-memory model equals the file.
        for param in model.parameters():
            param.copy_(param.half().float())
    model.generation_config.eos_token_id = [
        tokenizer.convert_tokens_to_ids("<|im_end|>"),
        tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    ]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = config.bos_token_id
    return model.eval(), tokenizer


def save_tiny_checkpoint(path: str | Path, seed: int = 0) -> Path:
    """Write a tiny random PaDT checkpoint in the public layout and return its directory."""
    model, tokenizer = build_tiny_model(seed)
    out = Path(path)
    save_padt(model.half(), tokenizer, out, processor=make_processor(tokenizer))
    return out
