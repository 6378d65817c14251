"""Tests for lmlib.attention: a case by hand, parity with fused attention, invariants, errors."""

import math
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from lmlib.attention import (AdditiveAttention, MultiHeadAttention, causal_mask, padding_mask,
                             scaled_dot_product_attention)

ATOL = 1e-6
B, NH, T, S, HS = 2, 3, 4, 5, 8


def qkv(T: int = T, S: int = S, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(B, NH, n, HS, generator=g) for n in (T, S, S))


def masks(T: int = T, S: int = S) -> dict[str, torch.Tensor | None]:
    """One of each kind: none, causal (bool), padding (bool), float (added to the scores)."""
    g = torch.Generator().manual_seed(1)
    return {
        "none": None,
        "causal": causal_mask(T, S),
        "padding": padding_mask(torch.tensor([S, 2]), S),
        "float": torch.randn(B, 1, T, S, generator=g),
    }


def mha(seed: int = 0, **kw) -> MultiHeadAttention:
    torch.manual_seed(seed)
    return MultiHeadAttention(d_model=NH * HS, n_heads=NH, **kw)


# 1. Textbook case, by hand -----------------------------------------------------------
def test_scaled_dot_product_attention_by_hand():
    q = torch.tensor([[1.0, 0.0], [0.0, 2.0]])  # (T=2, d=2)
    k = torch.tensor([[1.0, 1.0], [0.0, 1.0]])  # (S=2, d=2)
    v = torch.tensor([[10.0, 0.0], [0.0, 20.0]])
    # q0.k0 = 1, q0.k1 = 0; q1.k0 = 2, q1.k1 = 2; divide by sqrt(2)
    e = math.exp(1 / math.sqrt(2))
    w0 = [e / (e + 1), 1 / (e + 1)]
    expected_w = torch.tensor([w0, [0.5, 0.5]])  # equal scores -> equal weights
    expected_out = torch.tensor([[10 * w0[0], 20 * w0[1]], [5.0, 10.0]])
    out, w = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(w, expected_w, atol=1e-6, rtol=0)
    torch.testing.assert_close(out, expected_out, atol=1e-5, rtol=0)
    # With a causal mask query 0 sees only key 0: all its weight, and v0 exactly.
    out, w = scaled_dot_product_attention(q, k, v, mask=causal_mask(2))
    assert w[0].tolist() == [1.0, 0.0]
    assert out[0].tolist() == [10.0, 0.0]


# 2. Parity with torch's fused scaled_dot_product_attention ------------------------------
@pytest.mark.parametrize("kind", ["none", "causal", "padding", "float"])
def test_explicit_matches_torch_sdpa(kind):
    q, k, v = qkv()
    mask = masks()[kind]
    out, w = scaled_dot_product_attention(q, k, v, mask=mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=0)
    torch.testing.assert_close(out, w @ v, atol=ATOL, rtol=0)  # out is the weighted average


@pytest.mark.parametrize("kind", ["none", "causal", "padding", "float"])
@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("cross", [False, True])
def test_mha_explicit_path_matches_fused_path(kind, train, cross):
    m = mha().train(train)  # dropout=0, so train mode changes nothing either
    g = torch.Generator().manual_seed(2)
    x = torch.randn(B, T, NH * HS, generator=g)
    x_kv = torch.randn(B, S, NH * HS, generator=g) if cross else None
    mask = masks(T, S if cross else T)[kind]
    out_fused, none = m(x, x_kv, mask=mask)
    out, attn = m(x, x_kv, mask=mask, return_attn=True)
    assert none is None
    assert attn.shape == (B, NH, T, S if cross else T)
    torch.testing.assert_close(out, out_fused, atol=ATOL, rtol=0)


def test_gradients_flow_through_both_paths_and_agree():
    x = torch.randn(B, T, NH * HS, generator=torch.Generator().manual_seed(3))
    grads = []
    for return_attn in (False, True):
        m = mha()
        xi = x.clone().requires_grad_(True)
        out, _ = m(xi, mask=causal_mask(T), return_attn=return_attn)
        out.pow(2).sum().backward()
        assert xi.grad is not None and xi.grad.abs().sum() > 0
        grads.append((xi.grad, m.W_q.weight.grad, m.W_k.weight.grad, m.W_v.weight.grad))
    for fused, explicit in zip(*grads):
        assert fused is not None and fused.abs().sum() > 0
        torch.testing.assert_close(explicit, fused, atol=1e-5, rtol=0)


# 3. Invariants ----------------------------------------------------------------------------
def test_rows_sum_to_one():
    q, k, v = qkv()
    for kind, mask in masks().items():
        _, w = scaled_dot_product_attention(q, k, v, mask=mask)
        assert (w >= 0).all(), kind
        torch.testing.assert_close(w.sum(-1), torch.ones(B, NH, T), atol=ATOL, rtol=0)


def test_causal_weights_above_the_diagonal_are_exactly_zero():
    m = mha()
    x = torch.randn(B, T, NH * HS, generator=torch.Generator().manual_seed(4))
    _, attn = m(x, mask=causal_mask(T), return_attn=True)
    above = torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)
    assert (attn[..., above] == 0).all()
    assert (attn[..., ~above] > 0).all()  # everything allowed gets some weight
    assert (attn[..., 0, 0] == 1).all()  # the first token can only look at itself


def test_padded_keys_get_exactly_zero_weight():
    m = mha()
    x = torch.randn(B, T, NH * HS, generator=torch.Generator().manual_seed(5))
    lengths = torch.tensor([T, 2])
    _, attn = m(x, mask=padding_mask(lengths), return_attn=True)
    assert (attn[1, :, :, 2:] == 0).all()
    assert (attn[1, :, :, :2] > 0).all() and (attn[0] > 0).all()
    # Padding does not change what the real tokens compute: run sequence 1 alone, unpadded.
    out_pad, _ = m(x, mask=padding_mask(lengths))
    out_alone, _ = m(x[1:, :2])
    torch.testing.assert_close(out_pad[1, :2], out_alone[0], atol=ATOL, rtol=0)


def test_fully_masked_row_gives_zeros_not_nan():
    q, k, v = (t.requires_grad_(True) for t in qkv())
    mask = torch.ones(T, S, dtype=torch.bool)
    mask[1] = False  # query 1 may attend to nothing
    fmask = torch.zeros(T, S).masked_fill(~mask, float("-inf"))
    for m in (mask, fmask):
        out, w = scaled_dot_product_attention(q, k, v, mask=m)
        assert (w[..., 1, :] == 0).all() and (out[..., 1, :] == 0).all()
        torch.testing.assert_close(w[..., 0, :].sum(-1), torch.ones(B, NH), atol=ATOL, rtol=0)
        out.sum().backward()
        assert all(torch.isfinite(t.grad).all() for t in (q, k, v))
        assert (q.grad[..., 1, :] == 0).all()  # no score reached the output: no gradient either
        q.grad = k.grad = v.grad = None
    # Both MHA paths (output 0 before W_o, so W_o's bias after it) and additive attention.
    layer = mha()
    x = torch.randn(B, T, NH * HS)
    row = torch.ones(T, T, dtype=torch.bool)
    row[2] = False
    for return_attn in (False, True):
        out, _ = layer(x, mask=row, return_attn=return_attn)
        assert torch.isfinite(out).all()
        torch.testing.assert_close(out[:, 2], layer.W_o.bias.expand(B, -1), atol=ATOL, rtol=0)
    add = AdditiveAttention(3, 4, 5)
    context, w = add(torch.randn(2, 3), torch.randn(2, 6, 4),
                     mask=padding_mask(torch.tensor([6, 0])))
    assert (w[1] == 0).all() and (context[1] == 0).all() and torch.isfinite(context).all()


def test_dropout_drops_in_training_only_and_leaves_the_returned_weights_alone():
    q, k, v = qkv()
    out_eval, w_eval = scaled_dot_product_attention(q, k, v, dropout_p=0.5, training=False)
    torch.manual_seed(0)
    out_train, w_train = scaled_dot_product_attention(q, k, v, dropout_p=0.5, training=True)
    torch.testing.assert_close(out_eval, F.scaled_dot_product_attention(q, k, v), atol=ATOL, rtol=0)
    assert not torch.allclose(out_train, out_eval, atol=1e-3)
    torch.testing.assert_close(w_train, w_eval)  # weights are the probabilities, pre-dropout
    m = mha(dropout=0.5).eval()  # eval: both paths deterministic and equal
    x = torch.randn(B, T, NH * HS)
    torch.testing.assert_close(m(x)[0], m(x, return_attn=True)[0], atol=ATOL, rtol=0)
    m.train()
    assert not torch.allclose(m(x, return_attn=True)[0], m.eval()(x)[0], atol=1e-3)


def test_attention_is_not_stashed_on_the_module():
    m = mha()
    m(torch.randn(B, T, NH * HS), return_attn=True)
    assert not [n for n, val in vars(m).items() if isinstance(val, torch.Tensor)]


# 4. Masks ---------------------------------------------------------------------------------
def test_causal_mask_square_and_cached():
    assert causal_mask(3).int().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    # 2 new queries after 3 cached keys: they sit at positions 3 and 4 of S = 5.
    assert causal_mask(2, 5).tolist() == [[True, True, True, True, False], [True] * 5]
    assert causal_mask(1, 4).tolist() == [[True] * 4]  # one decoding step sees everything
    # The last T rows of full causal self-attention equal T queries with causal_mask(T, S).
    q, k, v = qkv(T=S, S=S)
    full, _ = scaled_dot_product_attention(q, k, v, mask=causal_mask(S))
    last, _ = scaled_dot_product_attention(q[..., -2:, :], k, v, mask=causal_mask(2, S))
    torch.testing.assert_close(last, full[..., -2:, :], atol=ATOL, rtol=0)


def test_padding_mask():
    m = padding_mask(torch.tensor([3, 1, 0]))
    assert m.shape == (3, 1, 1, 3) and m.dtype == torch.bool
    assert m[:, 0, 0].tolist() == [[True, True, True], [True, False, False], [False] * 3]
    assert padding_mask(torch.tensor([2]), S=4)[0, 0, 0].tolist() == [True, True, False, False]


# 5. Additive (Bahdanau) attention -----------------------------------------------------------
def test_additive_attention():
    torch.manual_seed(0)
    add = AdditiveAttention(query_dim=3, key_dim=4, hidden_dim=6)
    query, keys = torch.randn(2, 3), torch.randn(2, 5, 4)
    lengths = torch.tensor([5, 3])
    mask = padding_mask(lengths)[:, 0, 0]  # (B, S)
    context, w = add(query, keys, mask=mask)
    assert context.shape == (2, 4) and w.shape == (2, 5)
    torch.testing.assert_close(w.sum(-1), torch.ones(2), atol=ATOL, rtol=0)
    assert (w[1, 3:] == 0).all() and (w[1, :3] > 0).all() and (w[0] > 0).all()
    torch.testing.assert_close(context, torch.einsum("bs,bsd->bd", w, keys), atol=ATOL, rtol=0)
    # The score, written out for one (query, key) pair: v^T tanh(W_q q + W_k k_j).
    scores = torch.stack([torch.stack([
        add.v.weight[0] @ torch.tanh(add.W_q.weight @ query[b] + add.W_k.weight @ keys[b, j])
        for j in range(5)]) for b in range(2)])
    torch.testing.assert_close(w[0], torch.softmax(scores[0], -1), atol=ATOL, rtol=0)
    torch.testing.assert_close(w[1, :3], torch.softmax(scores[1, :3], -1), atol=ATOL, rtol=0)
    # A precomputed keys projection and padding_mask's 4-D shape give the same result.
    c2, w2 = add(query, keys, mask=padding_mask(lengths), keys_proj=add.W_k(keys))
    torch.testing.assert_close(c2, context)
    torch.testing.assert_close(w2, w)
    # keys_proj is really used: if every key projects to 0, all scores tie -> uniform weights.
    _, w3 = add(query, keys, mask=mask, keys_proj=torch.zeros(2, 5, 6))
    torch.testing.assert_close(w3[1], torch.tensor([1 / 3] * 3 + [0.0] * 2), atol=ATOL, rtol=0)
    context.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in add.parameters())


# 6. Errors name the argument and the shapes ----------------------------------------------------
def test_errors_name_the_shapes():
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    with pytest.raises(ValueError, match=r"q and k .*q \(2, 3, 4\) and k \(2, 5, 8\)"):
        scaled_dot_product_attention(q, k, v)
    with pytest.raises(ValueError, match=r"k and v .*k \(2, 5, 4\) and v \(2, 6, 4\)"):
        scaled_dot_product_attention(q, torch.randn(2, 5, 4), torch.randn(2, 6, 4))
    with pytest.raises(ValueError, match=r"mask of shape \(3, 4\) is not broadcastable to "
                                         r"\(\.\.\., T, S\) = \(2, 3, 5\)"):
        scaled_dot_product_attention(q, torch.randn(2, 5, 4), v, mask=causal_mask(3, 4))
    with pytest.raises(ValueError, match=r"mask must be bool .* got dtype torch.int64"):
        scaled_dot_product_attention(q, q, q, mask=torch.ones(3, 3, dtype=torch.long))
    m = mha()  # C = 24, nh = 3
    with pytest.raises(ValueError, match=r"x_kv must be \(B=2, S, C=24\), got \(2, 5, 16\)"):
        m(torch.randn(2, 4, 24), torch.randn(2, 5, 16))
    with pytest.raises(ValueError, match=r"x_q must be \(B, T, C=24\), got \(4, 24\)"):
        m(torch.randn(4, 24))
    with pytest.raises(ValueError, match=r"\(B, nh, T, S\) = \(2, 3, 4, 4\)"):
        m(torch.randn(2, 4, 24), mask=causal_mask(5))
    with pytest.raises(ValueError, match=r"d_model=10, n_heads=3"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match=r"n_heads must be an int >= 1, got 0"):
        MultiHeadAttention(8, 0)
    add = AdditiveAttention(3, 4, 6)
    with pytest.raises(ValueError, match=r"query must be \(B, query_dim=3\), got \(2, 4\)"):
        add(torch.randn(2, 4), torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match=r"keys must be \(B=2, S, key_dim=4\), got \(2, 5, 3\)"):
        add(torch.randn(2, 3), torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match=r"keys_proj .*\(2, 5, 6\), got \(2, 5, 4\)"):
        add(torch.randn(2, 3), torch.randn(2, 5, 4), keys_proj=torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match=r"S \(key length\) must be >= T .*T=4, S=2"):
        causal_mask(4, 2)
    with pytest.raises(ValueError, match=r"lengths must be a 1-D integer tensor .*shape \(2, 1\)"):
        padding_mask(torch.tensor([[2], [3]]))
    with pytest.raises(ValueError, match=r"S must be an int >= lengths.max\(\) = 3, got 2"):
        padding_mask(torch.tensor([1, 3]), S=2)


def test_importing_lmlib_does_not_import_torch():
    code = ("import sys, lmlib, lmlib.ngram; assert 'torch' not in sys.modules, 'torch imported'; "
            "import lmlib.attention; assert 'torch' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
