"""Tests for lmlib.seq2seq: shapes, padding invariance, attention invariants, decoding, training."""

import pytest
import torch

from lmlib.seq2seq import (
    Seq2Seq,
    Seq2SeqConfig,
    accuracy_by_length,
    bottleneck_experiment,
    pad_batch,
    reverse_task_batch,
    token_accuracy,
    train,
)

PAD, BOS, EOS = 0, 2, 3


def tiny(attention=True, **kw):
    """A seeded tiny model: 12 ids (8 symbols), D=8, C=16."""
    cfg = Seq2SeqConfig(12, 12, d_model=8, d_hidden=16, attention=attention, **kw)
    torch.manual_seed(0)
    return Seq2Seq(cfg).eval()


def ragged_batch():
    """Three sources of lengths 5, 2, 4 (padded to S=5) and teacher-forced targets (T=4)."""
    src, lengths = pad_batch([[4, 5, 6, 7, 8], [9, 10], [11, 4, 5, 6]])
    tgt_in = torch.tensor([[BOS, 5, 6, 7], [BOS, 9, PAD, PAD], [BOS, 11, 4, PAD]])
    return src, lengths, tgt_in


# 1. Shapes ----------------------------------------------------------------------------
@pytest.mark.parametrize("attention", [False, True])
def test_shapes(attention):
    model = tiny(attention, n_layers=2)
    src, lengths, tgt_in = ragged_batch()
    logits, attn = model(src, lengths, tgt_in, return_attn=True)
    assert logits.shape == (3, 4, 12)
    assert (attn.shape == (3, 4, 5)) if attention else attn is None
    assert model(src, lengths, tgt_in)[1] is None  # weights only when asked
    outputs, final = model.encoder(src, lengths)
    assert outputs.shape == (3, 5, 16) and final.shape == (2, 3, 16)
    assert outputs[1, 2:].abs().max() == 0  # padded positions of the length-2 source are zeros


# 2. Padding does not leak ----------------------------------------------------------------
@pytest.mark.parametrize("n_layers", [1, 2])
def test_padding_does_not_change_encoder_final_state(n_layers):
    model = tiny(n_layers=n_layers)
    src, lengths, _ = ragged_batch()
    _, final = model.encoder(src, lengths)  # (L, 3, C)
    for b in range(3):
        n = int(lengths[b])
        out_alone, final_alone = model.encoder(src[b:b + 1, :n], lengths[b:b + 1])
        torch.testing.assert_close(final[:, b], final_alone[:, 0], atol=1e-6, rtol=0)
        torch.testing.assert_close(model.encoder(src, lengths)[0][b, :n], out_alone[0],
                                   atol=1e-6, rtol=0)


@pytest.mark.parametrize("attention", [False, True])
def test_padding_does_not_change_the_logits(attention):
    model = tiny(attention)
    src, lengths, tgt_in = ragged_batch()
    logits, _ = model(src, lengths, tgt_in)
    alone, _ = model(src[1:2, :2], lengths[1:2], tgt_in[1:2])
    torch.testing.assert_close(logits[1], alone[0], atol=1e-6, rtol=0)


# 3. Attention invariants ------------------------------------------------------------------
def test_attention_rows_sum_to_one_and_skip_padding():
    model = tiny()
    src, lengths, tgt_in = ragged_batch()
    _, attn = model(src, lengths, tgt_in, return_attn=True)  # (B, T, S)
    torch.testing.assert_close(attn.sum(-1), torch.ones(3, 4))
    assert attn[1, :, 2:].abs().max() == 0 and attn[2, :, 4:].abs().max() == 0
    assert (attn[0] > 0).all()  # the longest source has no padding: every weight is used


@pytest.mark.parametrize("attention", [False, True])
def test_forward_matches_the_step_loop(attention):
    """forward() (one GRU call for the plain decoder) gives greedy_decode's step() numbers."""
    model = tiny(attention)
    src, lengths, tgt_in = ragged_batch()
    logits, attn = model(src, lengths, tgt_in, return_attn=True)
    enc_outputs, hidden, mask = model.encode(src, lengths)
    fixed = None if attention else hidden[-1]
    for t in range(tgt_in.size(1)):
        step_logits, hidden, w = model.decoder.step(tgt_in[:, t], hidden, enc_outputs, mask,
                                                    fixed_context=fixed)
        torch.testing.assert_close(step_logits, logits[:, t], atol=1e-6, rtol=0)
        if attention:
            torch.testing.assert_close(w, attn[:, t], atol=1e-6, rtol=0)


# 4. Greedy decoding ---------------------------------------------------------------------
def test_greedy_decode_stops_at_eos_and_at_max_len():
    model = tiny()
    src, lengths, _ = ragged_batch()
    with torch.no_grad():
        model.decoder.out.bias[EOS] = 1e4  # </s> wins at once
    ids, attn = model.greedy_decode(src, lengths, max_len=7)
    assert ids == [[EOS]] * 3
    assert [a.shape for a in attn] == [(1, 5), (1, 2), (1, 4)]
    with torch.no_grad():
        model.decoder.out.bias[EOS] = -1e4  # </s> never wins
    ids, _ = model.greedy_decode(src, lengths, max_len=7)
    assert [len(x) for x in ids] == [7, 7, 7] and all(EOS not in x for x in ids)


@pytest.fixture(scope="module")
def overfit():
    """A tiny attention model trained on ONE fixed batch of the reverse task (seeded)."""
    cfg = Seq2SeqConfig(10, 10, d_model=16, d_hidden=32, attention=True)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = Seq2Seq(cfg)
    batch = reverse_task_batch(8, 2, 5, 10, torch.Generator().manual_seed(0))
    history = train(model, lambda step: batch, steps=100, lr=1e-2, seed=0, progress=False)
    return model.eval(), batch, history


def test_overfits_one_batch(overfit):
    _, _, history = overfit
    assert history[0] > 1.5  # about ln(10) = 2.3 at the start
    assert max(history[-5:]) < 0.05


def test_greedy_decode_ragged_batch(overfit):
    """Sources of different lengths give outputs of different lengths, each ending at </s>."""
    model, (src, lengths, _, tgt_out), _ = overfit
    ids, attn = model.greedy_decode(src, lengths, max_len=20)
    assert len(set(lengths.tolist())) > 1  # the batch is really ragged
    for b in range(len(ids)):
        n = int(lengths[b])
        assert ids[b] == tgt_out[b, :n + 1].tolist()  # reversed source, then </s>, then stop
        assert attn[b].shape == (n + 1, n)
        torch.testing.assert_close(attn[b].sum(-1), torch.ones(n + 1))


def test_train_is_seeded(overfit):
    model, batch, history = overfit
    cfg = model.config
    with torch.random.fork_rng():
        torch.manual_seed(0)
        again = Seq2Seq(cfg)
    state = torch.random.get_rng_state()
    h2 = train(again, lambda step: batch, steps=5, lr=1e-2, seed=0, progress=False)
    assert h2 == history[:5]  # same numbers, bit for bit
    assert torch.equal(state, torch.random.get_rng_state())  # the caller's RNG is untouched


def test_train_loss_decreases_on_a_trivial_task():
    """Copy one-symbol sources: the loss history falls steadily."""
    model = tiny(attention=False)
    g = torch.Generator().manual_seed(0)
    history = train(model, lambda step: reverse_task_batch(16, 1, 1, 12, g), steps=60,
                    lr=1e-2, seed=0, progress=False)
    assert len(history) == 60 and all(isinstance(x, float) for x in history)
    first, mid, last = (sum(history[i:i + 10]) / 10 for i in (0, 25, 50))
    assert first > mid > last and last < 0.3 * first


def test_label_smoothing_is_the_smoothed_cross_entropy_by_hand():
    """ls = 0 is the plain loss; ls > 0 mixes in the mean -log p over the vocabulary."""
    model = tiny()
    src, lengths, tgt_in = ragged_batch()
    tgt_out = torch.tensor([[5, 6, 7, EOS], [9, EOS, PAD, PAD], [11, 4, EOS, PAD]])
    with torch.no_grad():
        logp = model(src, lengths, tgt_in)[0].log_softmax(-1)  # (B, T, V)
        real = tgt_out != PAD
        nll = -logp.gather(-1, tgt_out[..., None])[..., 0][real].mean()
        uniform = -logp.mean(-1)[real].mean()  # cross entropy against the uniform target
        assert torch.allclose(model.loss(src, lengths, tgt_in, tgt_out), nll)
        assert torch.allclose(model.loss(src, lengths, tgt_in, tgt_out, label_smoothing=0.2),
                              0.8 * nll + 0.2 * uniform)
    for bad in (-0.1, 1.0, True, "0.1"):
        with pytest.raises(ValueError, match="label_smoothing"):
            model.loss(src, lengths, tgt_in, tgt_out, label_smoothing=bad)
    g = torch.Generator().manual_seed(0)
    smoothed = train(tiny(attention=False), lambda step: reverse_task_batch(8, 1, 2, 12, g),
                     steps=2, seed=0, progress=False, label_smoothing=0.1)
    g = torch.Generator().manual_seed(0)
    plain = train(tiny(attention=False), lambda step: reverse_task_batch(8, 1, 2, 12, g),
                  steps=2, seed=0, progress=False)
    assert smoothed[0] > plain[0]  # train passes it on: same first batch, smoothed loss is higher


# 5. Batching, the synthetic task and the metric -----------------------------------------
def test_pad_batch():
    ids, lengths = pad_batch([[5, 6, 7], [8], [9, 10]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]] and lengths.tolist() == [3, 1, 2]
    assert ids.dtype == lengths.dtype == torch.long
    with pytest.raises(ValueError, match="non-empty"):
        pad_batch([])


@pytest.mark.parametrize("reverse", [True, False])
def test_reverse_task_batch(reverse):
    src, lengths, tgt_in, tgt_out = reverse_task_batch(32, 2, 6, 12,
                                                       torch.Generator().manual_seed(0), reverse)
    assert lengths.min() >= 2 and lengths.max() <= 6 and len(set(lengths.tolist())) > 1
    for b in range(32):
        n = int(lengths[b])
        s = src[b, :n].tolist()
        assert min(s) >= 4 and max(s) < 12 and (src[b, n:] == PAD).all()
        target = s[::-1] if reverse else s
        assert tgt_in[b, :n + 1].tolist() == [BOS] + target
        assert tgt_out[b, :n + 1].tolist() == target + [EOS]
        assert (tgt_out[b, n + 1:] == PAD).all() and (tgt_in[b, n + 1:] == PAD).all()


def test_token_accuracy_by_hand():
    assert token_accuracy([5, 6, 7], [5, 6, 7]) == (3, 3)
    assert token_accuracy([5, 9, 7], [5, 6, 7]) == (2, 3)
    assert token_accuracy([5, 6], [5, 6, 7]) == (2, 3)  # a missing token is an error
    assert token_accuracy([5, 6, 7, 8], [5, 6, 7]) == (3, 4)  # so is an extra one
    assert token_accuracy([], [5]) == (0, 1)


class _Stub:
    """Answers greedy_decode with the reversed source, optionally dropping its last token."""

    def __init__(self, drop_last):
        self.config = Seq2SeqConfig(12, 12)
        self.drop_last = drop_last

    def greedy_decode(self, src, src_lengths, max_len):
        outs = [src[b, :int(n)].tolist()[::-1] for b, n in enumerate(src_lengths)]
        return [(o[:-1] if self.drop_last else o) + [EOS] for o in outs], None


def test_accuracy_by_length_counts_missing_tokens():
    assert accuracy_by_length(_Stub(False), [3, 5], n_per_length=4) == {3: 1.0, 5: 1.0}
    assert accuracy_by_length(_Stub(True), [3, 5], n_per_length=4) == {3: 2 / 3, 5: 4 / 5}


def test_bottleneck_experiment_runs():
    """The chapter's experiment at a toy size: the structure of what it returns."""
    r = bottleneck_experiment(seed=0, steps=3, batch_size=4, min_len=2, max_len=4,
                              d_model=8, d_hidden=8, n_eval=3)
    assert r["lengths"] == [2, 3, 4]
    for name in ("plain", "attention"):
        assert len(r[name]) == 3 and all(0.0 <= a <= 1.0 for a in r[name])
        assert len(r["losses"][name]) == 3
        assert r["models"][name].config.attention == (name == "attention")
        assert {p.dtype for p in r["models"][name].parameters()} == {torch.float64}  # the default
    assert r["seconds"] > 0


def test_bottleneck_experiment_dtype_is_chosen_and_checked():
    kw = dict(seed=0, steps=2, batch_size=4, min_len=2, max_len=3, d_model=8, d_hidden=8, n_eval=2)
    r = bottleneck_experiment(dtype=torch.float32, **kw)
    assert {p.dtype for p in r["models"]["plain"].parameters()} == {torch.float32}
    with pytest.raises(ValueError, match="dtype"):
        bottleneck_experiment(dtype=torch.float16, **kw)


# 6. Errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, match", [
    (dict(d_hidden=0), "d_hidden"),
    (dict(n_layers=1.5), "n_layers"),
    (dict(dropout=1.0), "dropout"),
    (dict(bos_id=3), "must differ"),
    (dict(eos_id=12), "eos_id=12"),
    (dict(pad_id=-1), "pad_id"),
    (dict(pad_id=20, bos_id=0), "pad_id=20 is not a valid id for src_vocab_size=12"),
])
def test_config_validation(kw, match):
    error = TypeError if kw == dict(n_layers=1.5) else ValueError  # wrong type / out of range
    with pytest.raises(error, match=match):
        Seq2SeqConfig(12, 12, **kw)


def test_config_and_model_type_errors():
    with pytest.raises(TypeError, match="attention"):
        Seq2SeqConfig(12, 12, attention="yes")
    with pytest.raises(TypeError, match="Seq2SeqConfig"):
        Seq2Seq({"src_vocab_size": 12})


def test_bad_inputs_name_the_argument_and_shape():
    model = tiny()
    src, lengths, tgt_in = ragged_batch()
    with pytest.raises(ValueError, match=r"src must be a \(B, length\) LongTensor.*\(5,\)"):
        model(src[0], lengths, tgt_in)
    with pytest.raises(ValueError, match="src must be .*float"):
        model(src.float(), lengths, tgt_in)
    with pytest.raises(ValueError, match=r"src_lengths must be a \(3,\) LongTensor"):
        model(src, lengths[:2], tgt_in)
    with pytest.raises(ValueError, match=r"src_lengths must lie in \[1, S=5\]"):
        model(src, torch.tensor([6, 2, 4]), tgt_in)
    with pytest.raises(ValueError, match="tgt_in must be .* both sizes >= 1"):
        model(src, lengths, tgt_in[:, :0])
    with pytest.raises(ValueError, match="tgt_in has batch size 2, src has 3"):
        model(src, lengths, tgt_in[:2])
    with pytest.raises(ValueError, match=r"outside the vocabulary \[0, 12\)"):
        model(src + 10, lengths, tgt_in)
    with pytest.raises(ValueError, match="tgt_out .* must have tgt_in's shape"):
        model.loss(src, lengths, tgt_in, tgt_in[:, :2])
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(src, lengths, max_len=0)


def test_pad_batch_refuses_float_ids():
    import numpy as np

    from lmlib.seq2seq import pad_batch

    with pytest.raises(TypeError, match=r"seqs\[1\] must hold int token ids, got float"):
        pad_batch([[1, 2], [3.7]])
    with pytest.raises(TypeError, match="got bool"):
        pad_batch([[True]])
    ids, lengths = pad_batch([[np.int64(4), 5], [6]])
    assert ids.tolist() == [[4, 5], [6, 0]] and lengths.tolist() == [2, 1]
