"""Tests for lmlib.transformer: shapes, masks, attention invariants, decoding, training."""

import math

import pytest
import torch

from lmlib.seq2seq import pad_batch
from lmlib.transformer import (
    Transformer,
    TransformerConfig,
    copy_task_batch,
    free_running_steps,
    sinusoidal_positions,
    teacher_forcing_steps,
    train,
)

PAD, BOS, EOS = 0, 2, 3


def tiny(**kw):
    """A seeded tiny model: 12 ids (8 symbols), C=16, 2 heads, 2 layers, eval mode."""
    cfg = dict(d_model=16, n_heads=2, n_layers=2, d_ff=32, max_len=16, dropout=0.1)
    cfg.update(kw)
    torch.manual_seed(0)
    return Transformer(TransformerConfig(12, 12, **cfg)).eval()


def ragged_batch():
    """Sources of lengths 5, 2, 4 (S=5) and teacher-forced targets of lengths 4, 2, 3 (T=4)."""
    src, _ = pad_batch([[4, 5, 6, 7, 8], [9, 10], [11, 4, 5, 6]])
    tgt_in, _ = pad_batch([[BOS, 5, 6, 7], [BOS, 9], [BOS, 11, 4]])
    return src, tgt_in


# 1. Shapes and the attention dict --------------------------------------------------------
def test_shapes_and_attention_format():
    model = tiny()
    src, tgt_in = ragged_batch()
    logits, attn = model(src, tgt_in, return_attn=True)
    assert logits.shape == (3, 4, 12)
    assert set(attn) == {"encoder", "decoder_self", "cross"}
    for key, shape in (("encoder", (3, 2, 5, 5)), ("decoder_self", (3, 2, 4, 4)),
                       ("cross", (3, 2, 4, 5))):
        assert len(attn[key]) == 2  # one tensor per layer
        assert all(w.shape == shape for w in attn[key])
    assert model(src, tgt_in)[1] is None


def test_sinusoidal_positions():
    pe = sinusoidal_positions(10, 8)
    assert pe.shape == (10, 8)
    assert torch.allclose(pe[0], torch.tensor([0.0, 1.0] * 4))  # sin 0, cos 0
    assert torch.allclose(pe[:, 0], torch.sin(torch.arange(10.0)))  # frequency 1
    assert torch.allclose(pe[3, 6], torch.tensor(math.sin(3 / 10000 ** (6 / 8))))


def test_embeddings_tied_and_scaled():
    model = tiny()
    assert model.lm_head.weight is model.tgt_embed.weight
    # unit-scale token vectors after the sqrt(C) scaling, like the positions
    scaled = model.tgt_embed.weight * math.sqrt(16)
    assert 0.7 < scaled.std().item() < 1.3


# 2. Masks ----------------------------------------------------------------------------
def test_padding_invariance():
    model = tiny()
    src, tgt_in = ragged_batch()
    batch_logits, _ = model(src, tgt_in)
    for b, (n_src, n_tgt) in enumerate([(5, 4), (2, 2), (4, 3)]):
        alone, _ = model(src[b:b + 1, :n_src], tgt_in[b:b + 1, :n_tgt])
        assert torch.allclose(alone[0], batch_logits[b, :n_tgt], atol=1e-5)


def test_encode_mask_from_lengths_or_pad():
    model = tiny()
    src, _ = ragged_batch()
    mem_pad, mask_pad, _ = model.encode(src)
    mem_len, mask_len, _ = model.encode(src, torch.tensor([5, 2, 4]))
    assert mask_pad.shape == (3, 1, 1, 5) and torch.equal(mask_pad, mask_len)
    assert torch.equal(mem_pad, mem_len)


def test_causal_future_target_does_not_change_earlier_logits():
    model = tiny()
    src = torch.tensor([[4, 5, 6, 7]])
    a, _ = model(src, torch.tensor([[BOS, 5, 6, 7, 8]]))
    b, _ = model(src, torch.tensor([[BOS, 5, 6, 11, 4]]))  # positions 3 and 4 changed
    assert torch.allclose(a[:, :3], b[:, :3], atol=1e-6)
    assert not torch.allclose(a[:, 3], b[:, 3], atol=1e-3)


def test_attention_invariants():
    model = tiny()
    src, tgt_in = ragged_batch()
    _, attn = model(src, tgt_in, return_attn=True)
    src_pad = (src == PAD)[:, None, None, :]  # (B, 1, 1, S)
    for w in attn["encoder"] + attn["decoder_self"] + attn["cross"]:
        assert torch.allclose(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-6)
    for w in attn["encoder"] + attn["cross"]:
        assert (w.masked_select(src_pad) == 0).all()  # padded source keys get weight 0
        assert w.masked_select(~src_pad).min() > 0
    above = ~torch.ones(4, 4, dtype=torch.bool).tril()
    for w in attn["decoder_self"]:
        assert (w[..., above] == 0).all()  # no peeking at later target positions


def test_fused_and_explicit_attention_agree():
    model = tiny()
    src, tgt_in = ragged_batch()
    fused, _ = model(src, tgt_in)
    explicit, _ = model(src, tgt_in, return_attn=True)
    assert torch.allclose(fused, explicit, atol=1e-5)


def test_loss_ignores_padding_and_smoothing():
    model = tiny()
    src, tgt_in = ragged_batch()
    tgt_out, _ = pad_batch([[5, 6, 7, EOS], [9, EOS], [11, 4, EOS]])
    loss = model.loss(src, tgt_in, tgt_out)
    logits, _ = model(src, tgt_in)
    logp = logits.log_softmax(-1)
    by_hand = -torch.stack([logp[b, t, tgt_out[b, t]] for b in range(3) for t in range(4)
                            if tgt_out[b, t] != PAD]).mean()
    assert torch.allclose(loss, by_hand, atol=1e-6)
    assert model.loss(src, tgt_in, tgt_out, label_smoothing=0.1).item() != pytest.approx(
        loss.item())


# 3. Teacher forcing vs free running ------------------------------------------------------
def test_teacher_forcing_steps_match_loss():
    model = tiny().train()  # the function must switch to eval mode itself (dropout off)
    src_ids, tgt_ids = [4, 5, 6, 7], [8, 9, 10]
    steps = teacher_forcing_steps(model, src_ids, tgt_ids, top_k=3)
    assert model.training  # mode restored
    assert [s["gold"] for s in steps] == [8, 9, 10, EOS]
    assert [s["decoder_input"] for s in steps] == [[BOS], [BOS, 8], [BOS, 8, 9], [BOS, 8, 9, 10]]
    model.eval()
    loss = model.loss(torch.tensor([src_ids]), torch.tensor([[BOS, 8, 9, 10]]),
                      torch.tensor([[8, 9, 10, EOS]]))
    assert sum(s["loss"] for s in steps) / len(steps) == pytest.approx(loss.item(), abs=1e-5)
    for s in steps:
        assert s["encoder_input"] == src_ids
        assert s["gold_prob"] == pytest.approx(math.exp(-s["loss"]), rel=1e-5)
        probs = [p for _, p in s["topk"]]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True)
        assert s["pred"] == s["topk"][0][0]


def test_free_running_steps_follow_greedy():
    model = tiny()
    src_ids, tgt_ids = [4, 5, 6, 7], [8, 9]
    steps = free_running_steps(model, src_ids, tgt_ids, max_len=6)
    greedy = model.greedy_decode(torch.tensor([src_ids]), max_len=6)[0]
    assert len(steps) == len(greedy)
    for t, s in enumerate(steps):
        assert s["decoder_input"] == [BOS] + greedy[:t]  # its own predictions, not the gold
        assert s["pred"] == greedy[t]
        assert s["gold"] == ([8, 9, EOS][t] if t < 3 else None)
        assert (s["loss"] is None) == (s["gold"] is None)
    # the first step reads only <s> in both modes, so both give the same distribution
    first_tf = teacher_forcing_steps(model, src_ids, tgt_ids)[0]
    assert steps[0]["loss"] == pytest.approx(first_tf["loss"], abs=1e-6)


# 4. Decoding -----------------------------------------------------------------------------
def test_beam_size_one_is_greedy():
    model = tiny()
    src = torch.tensor([[4, 5, 6, 7, 8], [9, 10, 11, 4, 5], [6, 6, 7, 0, 0]])
    assert model.beam_decode(src, beam_size=1, max_len=8) == model.greedy_decode(src, max_len=8)


def test_decoding_validates_max_len():
    model = tiny()
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(torch.tensor([[4, 5]]), max_len=17)
    with pytest.raises(ValueError, match="max_len"):
        model(torch.full((1, 17), 4), torch.tensor([[BOS]]))


# 5. Training: the copy task --------------------------------------------------------------
COPY_V, COPY_MAX = 10, 5  # 6 symbols, sources of 1..5 tokens


@pytest.fixture(scope="module")
def copy_model():
    cfg = TransformerConfig(COPY_V, COPY_V, d_model=32, n_heads=2, n_layers=1, d_ff=64,
                            max_len=16, dropout=0.0)
    torch.manual_seed(0)
    model = Transformer(cfg)
    g = torch.Generator().manual_seed(0)
    # One thread, whatever earlier tests left: float32 training rounds differently with 2 threads,
    # and with 2 this run ended at 389/391 tokens right (so the test passed or failed by test order).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # about 4 s on one core; final loss ~0.002
        losses = train(model, lambda step: copy_task_batch(64, 1, COPY_MAX, COPY_V, g), 600,
                       lr=3e-3, warmup=30, seed=0, progress=False)
    finally:
        torch.set_num_threads(threads)
    return model.eval(), losses


def test_copy_task_learned(copy_model):
    model, losses = copy_model
    assert sum(losses[-10:]) / 10 < 0.1 < losses[0]
    src, _, tgt_out = copy_task_batch(100, 1, COPY_MAX, COPY_V, torch.Generator().manual_seed(123))
    refs = [[t for t in row if t != PAD] for row in tgt_out.tolist()]  # source + </s>
    outs = model.greedy_decode(src)
    correct = sum(o == r for out, ref in zip(outs, refs) for o, r in zip(out, ref))
    total = sum(max(len(out), len(ref)) for out, ref in zip(outs, refs))
    # >= 0.95, not 1.0: float32 training rounds differently on other CPUs' SIMD kernels, and the
    # few tokens it misses move with them (one CPU: 389/391, another: 384/390); chance is ~1/6
    assert correct / total >= 0.95, f"{correct}/{total}"
    assert model.beam_decode(src[:5], beam_size=3) == refs[:5]


def test_copy_model_free_running_matches_teacher_forcing(copy_model):
    model, _ = copy_model
    src_ids = [4, 9, 5, 5, 8]  # a repeated symbol: the position must decide
    tf = teacher_forcing_steps(model, src_ids, src_ids)
    fr = free_running_steps(model, src_ids, src_ids)
    # a model that never errs reads the same prefixes either way
    assert [s["decoder_input"] for s in fr] == [s["decoder_input"] for s in tf]
    assert [s["pred"] for s in tf] == src_ids + [EOS]


def test_train_is_seeded_and_leaves_global_rng_alone():
    def run(seed):
        model = tiny(dropout=0.3)  # same init each time; dropout makes the seed matter
        g = torch.Generator().manual_seed(1)
        torch.manual_seed(123)  # the global state train() must leave alone
        state = torch.get_rng_state()
        losses = train(model, lambda s: copy_task_batch(8, 1, 4, 12, g), 5, seed=seed,
                       progress=False)
        assert torch.equal(torch.get_rng_state(), state)
        return losses

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_copy_task_batch_format():
    src, tgt_in, tgt_out = copy_task_batch(16, 2, 5, 9, torch.Generator().manual_seed(0))
    assert tgt_in.shape == tgt_out.shape and tgt_in.size(0) == src.size(0) == 16
    assert (tgt_in[:, 0] == BOS).all()
    for s, i, o in zip(src.tolist(), tgt_in.tolist(), tgt_out.tolist()):
        n = sum(t != PAD for t in s)
        assert 2 <= n <= 5 and all(4 <= t < 9 for t in s[:n])
        assert i[1:n + 1] == s[:n] and o[:n + 1] == s[:n] + [EOS]


# 6. Config validation ----------------------------------------------------------------
@pytest.mark.parametrize("kw, message", [
    (dict(d_model=30, n_heads=4), "divisible by n_heads"),
    (dict(d_model=9, n_heads=3), "even"),
    (dict(dropout=1.0), "dropout"),
    (dict(n_layers=0), "n_layers"),
    (dict(bos_id=0), "must differ"),
    (dict(eos_id=12), "eos_id=12"),
])
def test_config_validation(kw, message):
    with pytest.raises(ValueError, match=message):
        TransformerConfig(12, 12, **kw)
    with pytest.raises(TypeError):
        Transformer({"src_vocab_size": 12})


def test_beam_decode_and_teacher_forcing_check_their_numbers():
    from lmlib.transformer import Transformer, TransformerConfig, teacher_forcing_steps

    model = Transformer(TransformerConfig(src_vocab_size=12, tgt_vocab_size=12, d_model=8,
                                          n_heads=2, n_layers=1, d_ff=16, max_len=10))
    src = torch.tensor([[5, 6, 7]])
    with pytest.raises(ValueError, match="length_penalty must be a finite number"):
        model.beam_decode(src, length_penalty=float("nan"))
    for bad in (0, -1, 13):
        with pytest.raises(ValueError, match="top_k must be an int in"):
            teacher_forcing_steps(model, [5, 6], [7, 8], top_k=bad)
