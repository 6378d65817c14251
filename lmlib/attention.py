"""Attention: a query reads a weighted average of values, weighted by how well it matches each key.

Lecture (L16-L18, 어텐션): a decoder step no longer squeezes the whole source into one
vector; it asks a question (query, 쿼리) of every source position's key (키) and reads
their values (값) in proportion to the answers. Attention (cross-attention) takes its
queries from one sequence and keys/values from another (the seq2seq decoder reading
the encoder); self-attention (셀프 어텐션) takes all three from the same sequence.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + mask) V

Each row of softmax(...) is a probability distribution over the keys: it is >= 0 and
sums to 1, and a masked key gets exactly 0. Dividing by sqrt(d) keeps the scores'
variance near 1 so the softmax does not saturate as the width d grows.

Mask convention (one mechanism everywhere): `mask` is either a bool tensor with True
where attention is ALLOWED (torch.nn.functional.scaled_dot_product_attention's bool
attn_mask) or a float tensor ADDED to the scores (0 keeps, -inf removes). A query
whose keys are all masked gets weights 0 and output 0, never NaN.

References: Bahdanau, Cho, Bengio 2015, "Neural Machine Translation by Jointly Learning
to Align and Translate" (additive attention); Vaswani et al. 2017, "Attention Is All
You Need" (scaled dot-product and multi-head attention).

Shapes: B batch, T query length, S key/source length, C model width (d_model),
nh heads, hs head size (C // nh); `...` any leading batch dimensions.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .base import check_float, length_mask


def _shape(x: torch.Tensor) -> tuple[int, ...]:
    return tuple(x.shape)


def _check_tensor(x: object, name: str, min_dim: int = 0) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < min_dim:
        raise ValueError(f"{name} must have at least {min_dim} dimensions, got shape {_shape(x)}")


def _check_mask(mask: object, target: tuple[int, ...], target_desc: str) -> None:
    """A mask must be a bool or float tensor broadcastable to `target` (no extra dims)."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be None or a torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise ValueError(f"mask must be bool (True = attend) or float (added to the scores), "
                         f"got dtype {mask.dtype}")
    try:
        ok = mask.dim() <= len(target) and torch.broadcast_shapes(mask.shape, target) == target
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(f"mask of shape {_shape(mask)} is not broadcastable to "
                         f"{target_desc} = {target}")


def causal_mask(T: int, S: int | None = None, device=None) -> torch.Tensor:
    """Bool (T, S) mask, True where key j <= query i + (S - T): no peeking at later keys."""
    S = T if S is None else S
    for name, n in (("T", T), ("S", S)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be an int >= 1, got {n!r}")
    if S < T:  # the last T of S positions are the queries (a cache holds the first S - T)
        raise ValueError(f"S (key length) must be >= T (query length), got T={T}, S={S}")
    # Query i sits at absolute position i + (S - T) and may see every key up to it.
    return torch.ones(T, S, dtype=torch.bool, device=device).tril(diagonal=S - T)  # (T, S)


def padding_mask(lengths: torch.Tensor, S: int | None = None) -> torch.Tensor:
    """Bool (B, 1, 1, S) mask from sequence lengths (B,), True for real (non-pad) keys."""
    if not isinstance(lengths, torch.Tensor):
        raise TypeError(f"lengths must be a 1-D integer tensor (B,), got {type(lengths).__name__}")
    return length_mask(lengths, S)[:, None, None, :]  # (B, 1, 1, S): over heads and queries


def _dead_rows(mask: torch.Tensor | None) -> torch.Tensor | None:
    """Bool (..., T, 1): query rows whose every key is masked out; None if there are none."""
    if mask is None:
        return None
    blocked = ~mask if mask.dtype == torch.bool else torch.isneginf(mask)
    dead = blocked.all(dim=-1, keepdim=True)  # computed on the mask: (T, S), not (B, nh, T, S)
    return dead if bool(dead.any()) else None


def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """softmax over the last dim after masking; rows with no allowed key give all zeros."""
    if mask is not None:
        if mask.dtype == torch.bool:
            # As an additive bias (0 / -inf) built at the mask's own, usually small, size:
            # one broadcast add over the scores, whose backward is free, instead of a
            # masked_fill over all of (..., T, S) and another in the backward pass.
            mask = torch.zeros(mask.shape, dtype=scores.dtype, device=scores.device) \
                .masked_fill_(~mask, float("-inf"))
        scores = scores + mask
    dead = _dead_rows(mask)
    if dead is None:  # the usual case: every query has a key to read
        return torch.softmax(scores, dim=-1)
    # softmax of an all -inf row is 0/0 = NaN; give such rows finite scores, then zero them.
    weights = torch.softmax(scores.masked_fill(dead, 0.0), dim=-1)
    return weights.masked_fill(dead, 0.0)


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None, dropout_p: float = 0.0,
                                 training: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d) + mask) v written out -> (out (..., T, dv), weights (..., T, S)).

    `weights` are the softmax probabilities (before dropout); with dropout in training
    the output uses the dropped-out, rescaled weights, as torch's fused version does.
    """
    for name, x in (("q", q), ("k", k), ("v", v)):
        _check_tensor(x, name, 2)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last dimension d: got q {_shape(q)} "
                         f"and k {_shape(k)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same key length S (dim -2): got k {_shape(k)} "
                         f"and v {_shape(v)}")
    try:
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(f"q, k, v leading (batch) dimensions do not broadcast: got "
                         f"q {_shape(q)}, k {_shape(k)}, v {_shape(v)}") from None
    T, S = q.shape[-2], k.shape[-2]
    if mask is not None:
        _check_mask(mask, (*batch, T, S), "(..., T, S)")
    check_float(dropout_p, "dropout_p", low=0.0, high=1.0)

    # q k^T / sqrt(d), with the 1/sqrt(d) applied to q: the same numbers, on T*d entries
    # instead of T*S (as torch's own kernels do); (..., T, d) @ (..., d, S) -> (..., T, S)
    scores = (q * (1.0 / math.sqrt(q.shape[-1]))) @ k.transpose(-2, -1)
    weights = _masked_softmax(scores, mask)  # (..., T, S), rows sum to 1 (or are all 0)
    dropped = F.dropout(weights, dropout_p) if training and dropout_p > 0 else weights
    out = dropped @ v  # (..., T, S) @ (..., S, dv) -> (..., T, dv)
    return out, weights


class AdditiveAttention(nn.Module):
    """Bahdanau (additive) attention: score(q, k_j) = v^T tanh(W_q q + W_k k_j)."""

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int) -> None:
        super().__init__()
        dims = (("query_dim", query_dim), ("key_dim", key_dim), ("hidden_dim", hidden_dim))
        for name, n in dims:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"{name} must be an int >= 1, got {n!r}")
        self.query_dim, self.key_dim, self.hidden_dim = query_dim, key_dim, hidden_dim
        # No biases, as in the paper (v_a^T tanh(W_a s + U_a h)).
        self.W_q = nn.Linear(query_dim, hidden_dim, bias=False)
        self.W_k = nn.Linear(key_dim, hidden_dim, bias=False)
        self.v = nn.Linear(hidden_dim, 1, bias=False)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor | None = None,
                keys_proj: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, dq), keys (B, S, dk) -> (context (B, dk), weights (B, S)).

        mask: (B, S) (or padding_mask's (B, 1, 1, S)), bool True = real key, or float added.
        keys_proj: W_k(keys), (B, S, hidden); the keys do not change between decoder
        steps, so a decoder can compute it once and pass it in at every step.
        """
        _check_tensor(query, "query")
        _check_tensor(keys, "keys")
        if query.dim() != 2 or query.shape[1] != self.query_dim:
            raise ValueError(f"query must be (B, query_dim={self.query_dim}), got {_shape(query)}")
        B = query.shape[0]
        if keys.dim() != 3 or keys.shape[0] != B or keys.shape[2] != self.key_dim:
            raise ValueError(f"keys must be (B={B}, S, key_dim={self.key_dim}), got {_shape(keys)}")
        S = keys.shape[1]
        if keys_proj is None:
            keys_proj = self.W_k(keys)  # (B, S, hidden)
        elif not isinstance(keys_proj, torch.Tensor) or keys_proj.shape != (B, S, self.hidden_dim):
            got = (_shape(keys_proj) if isinstance(keys_proj, torch.Tensor)
                   else type(keys_proj).__name__)
            raise ValueError(f"keys_proj must be W_k(keys) of shape (B, S, hidden_dim) = "
                             f"{(B, S, self.hidden_dim)}, got {got}")
        if mask is not None:
            if isinstance(mask, torch.Tensor) and mask.dim() == 4 and mask.shape[1:3] == (1, 1):
                mask = mask[:, 0, 0, :]  # padding_mask's (B, 1, 1, S) -> (B, S)
            _check_mask(mask, (B, S), "(B, S)")

        # (B, 1, hidden) + (B, S, hidden): the query's projection is shared by every key
        hidden = torch.tanh(self.W_q(query)[:, None, :] + keys_proj)  # (B, S, hidden)
        scores = self.v(hidden).squeeze(-1)  # (B, S, 1) -> (B, S)
        weights = _masked_softmax(scores, mask)  # (B, S)
        context = (weights[:, None, :] @ keys).squeeze(1)  # (B, 1, S) @ (B, S, dk) -> (B, dk)
        return context, weights


class MultiHeadAttention(nn.Module):
    """Multi-head attention: nh scaled dot-product attentions on C/nh-wide slices, then W_o."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        for name, n in (("d_model", d_model), ("n_heads", n_heads)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"{name} must be an int >= 1, got {n!r}")
        if d_model % n_heads != 0:
            raise ValueError(f"d_model must be divisible by n_heads: got d_model={d_model}, "
                             f"n_heads={n_heads} (d_model % n_heads = {d_model % n_heads})")
        check_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.d_model, self.n_heads, self.head_size = d_model, n_heads, d_model // n_heads
        self.dropout = dropout  # on the attention weights, in training only
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x_q: torch.Tensor, x_kv: torch.Tensor | None = None,
                mask: torch.Tensor | None = None,
                return_attn: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x_q (B, T, C), x_kv (B, S, C) or None -> (out (B, T, C), attn (B, nh, T, S) or None)."""
        _check_tensor(x_q, "x_q")
        if x_q.dim() != 3 or x_q.shape[-1] != self.d_model:
            raise ValueError(f"x_q must be (B, T, C={self.d_model}), got {_shape(x_q)}")
        if not x_q.is_floating_point():  # token ids go through an embedding first
            raise ValueError(f"x_q must be a float tensor (the inputs' vectors), got dtype "
                             f"{x_q.dtype}")
        x_kv = x_q if x_kv is None else x_kv
        _check_tensor(x_kv, "x_kv")
        if not x_kv.is_floating_point():
            raise ValueError(f"x_kv must be a float tensor (the inputs' vectors), got dtype "
                             f"{x_kv.dtype}")
        if x_kv.dim() != 3 or x_kv.shape[0] != x_q.shape[0] or x_kv.shape[-1] != self.d_model:
            raise ValueError(f"x_kv must be (B={x_q.shape[0]}, S, C={self.d_model}), "
                             f"got {_shape(x_kv)}")
        (B, T, C), S, nh, hs = x_q.shape, x_kv.shape[1], self.n_heads, self.head_size
        if mask is not None:
            _check_mask(mask, (B, nh, T, S), "(B, nh, T, S)")

        # Project, then split the width C into nh heads of size hs.
        q = self.W_q(x_q).view(B, T, nh, hs).transpose(1, 2)  # (B, T, nh, hs) -> (B, nh, T, hs)
        k = self.W_k(x_kv).view(B, S, nh, hs).transpose(1, 2)  # (B, S, nh, hs) -> (B, nh, S, hs)
        v = self.W_v(x_kv).view(B, S, nh, hs).transpose(1, 2)  # (B, S, nh, hs) -> (B, nh, S, hs)
        p = self.dropout if self.training else 0.0
        if return_attn:  # the explicit version, which can hand back its weights
            y, attn = scaled_dot_product_attention(q, k, v, mask, p, training=self.training)
        else:  # the same computation, fused by torch (fully masked rows give 0 there too)
            if mask is not None and mask.dtype != torch.bool:
                mask = mask.to(q.dtype)  # the fused kernel wants a float mask in q's dtype
            y, attn = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p), None
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, nh, hs) -> (B, T, C)
        return self.W_o(y), attn  # (B, T, C)
