"""Batched decode in the LLM graph (bundle format 3): B sequences in one run, each with its own
cache length (right-padded past), prototypes (padded, -inf bias on the padding) and positions,
give each the logits, hidden state and new cache rows it gets alone. This pins onnxruntime's CPU
GroupQueryAttention semantics the engine's step scheduler relies on: seqlens_k[b] is sequence
b's own total length - 1, rows past it are neither read nor disturbed."""

import numpy as np
import pytest
from export_support import tiny_bundle

from padt.ort_pipeline import OrtPadt

ATOL = 1e-5


@pytest.fixture(scope="module")
def bundle():
    return OrtPadt(tiny_bundle())


def _run(bundle, ids, positions, prototypes, bias, seqlens, total, past):
    feeds = {
        "input_ids": ids.astype(np.int64),
        "image_embeds": np.zeros((0, prototypes.shape[-1]), np.float32),
        "position_ids": positions.astype(np.int64),
        "prototypes": prototypes.astype(np.float32),
        "vrt_bias": bias.astype(np.float32),
        "seqlens_k": np.asarray(seqlens, np.int32),
        "total_sequence_length": np.array(total, np.int32),
    }
    for i in range(bundle.llm_cfg["num_layers"]):
        feeds[f"past_key_values.{i}.key"] = past[2 * i]
        feeds[f"past_key_values.{i}.value"] = past[2 * i + 1]
    layers = 2 * bundle.llm_cfg["num_layers"]
    logits, hidden, *outs = bundle.sessions["llm"].run(None, feeds)
    present, appended = outs[:layers], outs[layers:]
    # Each sequence's appended rows (format 5: the packed q|k|v, k then v heads last) are its
    # present rows at its own length.
    kv, hd = bundle.llm_cfg["num_kv_heads"], bundle.llm_cfg["head_dim"]
    assert len(appended) == layers // 2
    for i, rows in enumerate(appended):
        heads = rows.reshape(rows.shape[0], rows.shape[1], -1, hd)
        for b, n in enumerate(np.asarray(seqlens)):
            assert np.array_equal(heads[b, 0, -2 * kv : -kv], present[2 * i][b, :, n])
            assert np.array_equal(heads[b, 0, -kv:], present[2 * i + 1][b, :, n])
    return logits, hidden, present


def _prefill(bundle, rng, length, rows):
    """One sequence alone (B = 1): its prompt mixes text ids and VRT ids of its own prototypes."""
    V = bundle.vocab_rows
    protos = rng.standard_normal((rows, 64)).astype(np.float32)
    ids = rng.integers(0, 200, length)
    ids[[2, length - 1]] = V + rng.integers(0, rows, 2)
    positions = np.tile(np.arange(length), (3, 1))
    bias = np.zeros(rows, np.float32)
    logits, _, past = bundle.step(
        ids[None],
        np.zeros((0, 64), np.float32),
        positions,
        length,
        bundle._empty_past(),
        protos,
        bias,
    )
    return {"protos": protos, "length": length, "past": past, "logits": logits}


def _alone(bundle, seq, token):
    n = seq["length"]
    rows = len(seq["protos"])
    logits, hidden, present = _run(
        bundle,
        np.array([[token]]),
        np.full((3, 1, 1), n),
        seq["protos"][None],
        np.zeros((1, rows)),
        [n],
        n + 1,
        seq["past"],
    )
    return logits[0, 0], hidden[0, 0], present


def _batched(bundle, seqs, tokens, rng):
    """Every sequence's next token in one run: pasts right-padded with noise (it must not be
    read), prototypes zero-padded with -inf bias."""
    lengths = [s["length"] for s in seqs]
    longest, rows = max(lengths), max(len(s["protos"]) for s in seqs)
    past = []
    for layer in range(len(seqs[0]["past"])):
        parts = []
        for s in seqs:
            p = s["past"][layer]
            pad = rng.standard_normal((1, p.shape[1], longest - p.shape[2], p.shape[3]))
            parts.append(np.concatenate([p, 100 * pad.astype(p.dtype)], axis=2))
        past.append(np.concatenate(parts))
    protos = np.zeros((len(seqs), rows, 64), np.float32)
    bias = np.full((len(seqs), rows), -np.inf, np.float32)
    for b, s in enumerate(seqs):
        protos[b, : len(s["protos"])] = s["protos"]
        bias[b, : len(s["protos"])] = 0
    positions = np.array(lengths).reshape(1, -1, 1).repeat(3, axis=0)
    # Format 5: VRT ids index all sequences' prototype rows flattened (V + b * P + r).
    ids = np.array([t if t < bundle.vocab_rows else t + b * rows for b, t in enumerate(tokens)])
    return _run(
        bundle,
        ids.reshape(-1, 1),
        positions,
        protos,
        bias,
        lengths,
        longest + 1,
        past,
    )


def test_a_batch_gives_each_sequence_what_it_gets_alone(bundle):
    rng = np.random.default_rng(11)
    V = bundle.vocab_rows
    seqs = [_prefill(bundle, rng, 9, 5), _prefill(bundle, rng, 17, 8), _prefill(bundle, rng, 4, 3)]
    for step in range(3):
        # A VRT id on the middle step: each sequence embeds its own prototype row.
        tokens = [V + 1 if step == 1 else 20 + b for b in range(len(seqs))]
        logits, hidden, present = _batched(bundle, seqs, tokens, rng)
        assert logits.shape[:2] == (len(seqs), 1)
        for b, seq in enumerate(seqs):
            one_logits, one_hidden, one_present = _alone(bundle, seq, tokens[b])
            width = V + len(seq["protos"])
            assert np.abs(logits[b, 0, :width] - one_logits).max() < ATOL
            assert np.all(logits[b, 0, width:] == -np.inf)
            assert np.abs(hidden[b, 0] - one_hidden).max() < ATOL
            n = seq["length"] + 1
            for got, want in zip(present, one_present, strict=True):
                assert np.abs(got[b, :, :n] - want[0]).max() < ATOL
            seq.update(length=n, past=one_present)


def test_the_longest_sequence_sets_the_cache_length(bundle):
    rng = np.random.default_rng(12)
    seqs = [_prefill(bundle, rng, 6, 2), _prefill(bundle, rng, 13, 4)]
    _, _, present = _batched(bundle, seqs, [5, 6], rng)
    assert {p.shape[2] for p in present} == {14}
    assert {p.shape[0] for p in present} == {2}
