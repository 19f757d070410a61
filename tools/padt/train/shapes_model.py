"""The small PaDT model trained on Shapes: its tokenizer and its scaled-down Qwen2.5-VL config.

Tokenizer: byte-level BPE shaped like Qwen2.5's (same normalizer, split regex, byte mapping,
special tokens and chat template, taken from `padt.tokenizer_build`), trained on the prompts
and answers of the first Shapes train images plus the chat scaffolding. Ids are read from the
tokenizer, never assumed.

Model (`shapes_config`): vision width 128, 4 heads of 32, depth 4, window 112 px (so a 448 px
image has 4 x 4 windows), full attention in blocks 1 and 3, patch 14, merge 2; LLM width 256,
3 layers, 8 heads of 32 with 2 KV heads, mrope [4, 6, 6] (sums to 32/2); decoder width 128
with 4 heads (head_dim 32 = the vision head_dim). About 4M parameters.

Two choices differ from Qwen2.5-VL / PaDT defaults because this model starts from scratch:
- rope_theta 100 (Qwen: 1e6). M-RoPE gives the width section the lowest frequencies; with
  head_dim 32 and theta 1e6 they are 2e-6..2e-4 rad per 28-px cell, so over a 16-cell wide
  image the LLM could hardly tell left from right. With 100 they are 0.003..0.056 rad per
  cell (and text positions, at most a few hundred here, still turn less than a circle at
  the lowest frequency).
- vis_norm starts at weight 0.1 (PaDT: 0, so that a pretrained MLLM's prototypes start at
  zero). From scratch, a zero weight leaves every prototype close to the bias: after 1,900
  steps the weight was still ~0.01, two objects' features differed by 3 % of their norm, and
  the decoder gave every object the same box.

The PaDT demo resizes images to a 644 px long side before processing; our images are
112-448 px and the model is trained on them as they are, so the checkpoint config records
`padt_pre_resize_long_side: null` (no pre-resize).
"""

from __future__ import annotations

from functools import lru_cache

from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from ..config import PadtConfig
from ..export.manifest import CAPABILITIES_KEY, MAX_LONG_SIDE_KEY
from ..modeling import PadtForConditionalGeneration
from ..shapes.vocab import MAX_SIDE
from ..tokenizer_build import CONFIG_ID_TOKENS, qwen_tokenizer, train_qwen_style_bpe

ROW_MULTIPLE = 64
SHAPES_ROPE_THETA = 100.0
VIS_NORM_INIT = 0.1
PRE_RESIZE_KEY = "padt_pre_resize_long_side"
# What the training data teaches: Shapes scenes and the four tasks' prompts (no free chat), in
# single-turn samples (later turns of a chat made its answers worse: no multi-turn).
SHAPES_CAPABILITIES = {
    "tasks": ["rec", "res", "ovd", "ric"],
    "free_chat": False,
    "multi_turn": False,
}


def shapes_corpus(images: int = 400, seed: int = 0) -> list[str]:
    """Prompts, answers (placeholders removed) and captions of the first train images."""
    from ..shapes import generate_split
    from ..shapes.tasks import OVD_NONE, RIC_PROMPT, ovd_prompt
    from ..shapes.vocab import SHAPES

    text = ["You are a helpful assistant.", "system\nuser\nassistant\n", RIC_PROMPT, OVD_NONE]
    text.append(ovd_prompt(list(SHAPES)))
    for sample in generate_split("train", images, seed=seed):
        for entry in sample.referring + sample.ovd + sample.captions:
            text.append(entry["prompt"])
            text.append(entry["answer_template"].replace("<|Obj_", "").replace("|>", ""))
    return text


def build_shapes_bpe(vocab_size: int = 640, images: int = 400, seed: int = 0) -> Tokenizer:
    return train_qwen_style_bpe(shapes_corpus(images, seed), vocab_size)


@lru_cache(maxsize=2)
def _bpe_json(vocab_size: int, images: int) -> str:
    return build_shapes_bpe(vocab_size, images).to_str()


def build_shapes_tokenizer(vocab_size: int = 640, images: int = 400) -> PreTrainedTokenizerFast:
    """Qwen2.5-VL-Instruct-like tokenizer (eos <|im_end|>, pad <|endoftext|>, chat template)."""
    return qwen_tokenizer(_bpe_json(vocab_size, images))


SHAPES_SIZES = {
    "vision_hidden": 128,
    "vision_intermediate": 384,
    "vision_heads": 4,
    "vision_depth": 4,
    "fullatt": [1, 3],
    "llm_hidden": 256,
    "llm_intermediate": 640,
    "llm_layers": 3,
    "llm_heads": 8,
    "llm_kv_heads": 2,
    "mrope": [4, 6, 6],
    "decoder_intermediate": 384,
}

MICRO_SIZES = {
    "vision_hidden": 32,
    "vision_intermediate": 48,
    "vision_heads": 2,
    "vision_depth": 2,
    "fullatt": [1],
    "llm_hidden": 32,
    "llm_intermediate": 48,
    "llm_layers": 1,
    "llm_heads": 2,
    "llm_kv_heads": 1,
    "mrope": [2, 3, 3],
    "decoder_intermediate": 48,
}


def shapes_config(
    tokenizer: PreTrainedTokenizerFast,
    sizes: dict | None = None,
    mask_placement: str = "spatial",
) -> PadtConfig:
    s = dict(SHAPES_SIZES if sizes is None else sizes)
    ids = {attr: tokenizer.convert_tokens_to_ids(name) for attr, name in CONFIG_ID_TOKENS.items()}
    head_dim = s["llm_hidden"] // s["llm_heads"]
    if sum(s["mrope"]) * 2 != head_dim:
        raise ValueError(f"mrope_section {s['mrope']} must sum to head_dim/2 = {head_dim // 2}")
    config = PadtConfig(
        vocab_size=-(-len(tokenizer) // ROW_MULTIPLE) * ROW_MULTIPLE,
        hidden_size=s["llm_hidden"],
        intermediate_size=s["llm_intermediate"],
        num_hidden_layers=s["llm_layers"],
        num_attention_heads=s["llm_heads"],
        num_key_value_heads=s["llm_kv_heads"],
        max_position_embeddings=4096,
        rms_norm_eps=1e-6,
        rope_theta=SHAPES_ROPE_THETA,
        rope_scaling={"type": "mrope", "mrope_section": list(s["mrope"])},
        tie_word_embeddings=True,
        initializer_range=0.02,
        vision_config={
            "depth": s["vision_depth"],
            "hidden_size": s["vision_hidden"],
            "intermediate_size": s["vision_intermediate"],
            "num_heads": s["vision_heads"],
            "in_channels": 3,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": list(s["fullatt"]),
            "out_hidden_size": s["llm_hidden"],
            "hidden_act": "silu",
            "tokens_per_second": 2,
            "initializer_range": 0.02,
        },
        vl_decoder={
            "name": "PaDTDecoder",
            "hidden_size": s["vision_hidden"],
            "intermediate_size": s["decoder_intermediate"],
            "num_heads": s["vision_heads"],
            "use_mask_loss": True,
        },
        use_visual_prototype_projection=True,
        padt_mask_placement=mask_placement,
        architectures=["PadtForConditionalGeneration"],
        torch_dtype="float32",
        **ids,
    )
    setattr(config, PRE_RESIZE_KEY, None)
    setattr(config, MAX_LONG_SIDE_KEY, MAX_SIDE)  # trained on sides up to this: the bundle's cap
    setattr(config, CAPABILITIES_KEY, dict(SHAPES_CAPABILITIES))
    return config


def pre_resize_long_side(config: PadtConfig) -> int | None:
    """The checkpoint's pre-resize long side; checkpoints without the key use the demo's 644."""
    from ..processing import DEFAULT_LONG_SIDE

    return getattr(config, PRE_RESIZE_KEY, DEFAULT_LONG_SIDE)


def build_shapes_model(
    tokenizer: PreTrainedTokenizerFast,
    seed: int = 0,
    sizes: dict | None = None,
    mask_placement: str = "spatial",
) -> PadtForConditionalGeneration:
    import torch

    torch.manual_seed(seed)
    model = PadtForConditionalGeneration(shapes_config(tokenizer, sizes, mask_placement))
    with torch.no_grad():
        model.vis_norm.weight.fill_(VIS_NORM_INIT)
    stops = [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    stops.append(tokenizer.convert_tokens_to_ids("<|endoftext|>"))
    model.generation_config.eos_token_id = stops
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = model.config.bos_token_id
    return model


def count_parameters(model: PadtForConditionalGeneration) -> int:
    return sum(p.numel() for p in model.parameters())
