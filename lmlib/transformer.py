"""The Transformer: an encoder-decoder built from attention alone (Vaswani et al. 2017).

Lecture L13-L15. The encoder reads the source with self-attention (every source position
looks at every other one); the decoder writes the target with masked self-attention (a
position sees only the positions before it) and cross-attention to the encoder's output,
the "memory". No recurrence: word order comes from sinusoidal positions added to the
embeddings, and all positions of a sequence are computed at once.

  * encoder input = the source sentence; decoder input = the target PREFIX <s> y1 .. y_t-1;
    the decoder predicts y_t at every position (tgt_out = y1 .. yn </s>).
  * Training uses teacher forcing (교사 강요): the decoder reads the GOLD prefix, so all T
    predictions come out of one forward pass (the causal mask keeps each position from
    seeing its own answer). At inference there is no gold: the decoder reads its OWN
    previous predictions, one step at a time, and an early mistake stays in its input
    (exposure bias). `teacher_forcing_steps` and `free_running_steps` show both, step by step.

Details as in the paper unless said: post-LN sublayers, LayerNorm(x + Dropout(sublayer(x)));
embeddings scaled by sqrt(d_model); ReLU feed-forward; Adam(0.9, 0.98, 1e-9) with warmup.
The decoder's input embedding and its output layer share one weight matrix (paper §3.4;
the source has its own vocabulary here, so the encoder embedding stays separate).

Shapes: B batch, S source length, T target length, C model width (d_model), nh heads,
hs head size (C // nh), V target vocabulary size. Special ids follow lmlib.text.Vocab:
<pad>=0 <unk>=1 <s>=2 </s>=3; sequences are batch_first and right-padded with pad_id.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .attention import MultiHeadAttention, causal_mask, padding_mask
from .base import (as_int_list, check_callable, check_float, check_id_tensor, check_int,
                   check_special_ids, check_token_id, eval_mode)
from .base import BOS_ID, EOS_ID, PAD_ID
from .seq2seq import reverse_task_batch
from .training import fit, reproducible_normal_, reproducible_uniform_


@dataclass
class TransformerConfig:
    """Sizes and special ids of an encoder-decoder Transformer."""

    src_vocab_size: int  # source vocabulary size, special tokens included
    tgt_vocab_size: int  # target vocabulary size V, special tokens included
    d_model: int = 64  # model width C
    n_heads: int = 4  # attention heads nh (d_model % n_heads == 0)
    n_layers: int = 2  # encoder layers and decoder layers (each)
    d_ff: int = 128  # inner width of the feed-forward sublayer
    max_len: int = 64  # longest source / decoder input (size of the position table)
    dropout: float = 0.1  # on embeddings, sublayer outputs and attention weights
    pad_id: int = PAD_ID  # <pad>
    bos_id: int = BOS_ID  # <s>, the decoder's first input
    eos_id: int = EOS_ID  # </s>, ends every target

    def __post_init__(self) -> None:
        sizes = ("src_vocab_size", "tgt_vocab_size", "d_model", "n_heads", "n_layers",
                 "d_ff", "max_len")
        for name in sizes:
            check_int(getattr(self, name), name, low=1)
        if self.d_model % self.n_heads != 0:
            raise ValueError(f"d_model must be divisible by n_heads: got d_model={self.d_model}, "
                             f"n_heads={self.n_heads}")
        if self.d_model % 2 != 0:
            raise ValueError(f"d_model must be even (sin/cos position pairs), got {self.d_model}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) \
                or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be a float in [0, 1), got {self.dropout!r}")
        # The decoder reads and writes all three special ids; the encoder only pads.
        check_special_ids(self, ("pad_id",), vocab="src_vocab_size")
        check_special_ids(self, ("pad_id", "bos_id", "eos_id"), vocab="tgt_vocab_size")


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(same) -> (max_len, d_model)."""
    check_int(max_len, "max_len", low=1)
    check_int(d_model, "d_model", low=2)
    if d_model % 2:
        raise ValueError(f"need max_len >= 1 and an even d_model >= 2, got {max_len}, {d_model}")
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]  # (max_len, 1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2) / d_model)  # (d/2,)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(pos * freq)  # (max_len, d/2): even dims
    pe[:, 1::2] = torch.cos(pos * freq)  # (max_len, d/2): odd dims
    return pe


class FeedForward(nn.Module):
    """Position-wise feed-forward: Linear(C, d_ff) -> ReLU -> Linear(d_ff, C)."""

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))  # (B, T, d_ff) -> (B, T, C)


class EncoderLayer(nn.Module):
    """Self-attention, then feed-forward; each as LayerNorm(x + Dropout(sublayer(x)))."""

    def __init__(self, c: TransformerConfig) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(c.d_model, c.n_heads, c.dropout)
        self.ln1 = nn.LayerNorm(c.d_model)
        self.ffn = FeedForward(c.d_model, c.d_ff)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, src_mask: torch.Tensor, return_attn: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, S, C), src_mask (B, 1, 1, S) -> (B, S, C), attn (B, nh, S, S) or None."""
        a, attn = self.self_attn(x, x, src_mask, return_attn)
        x = self.ln1(x + self.dropout(a))  # (B, S, C)
        x = self.ln2(x + self.dropout(self.ffn(x)))  # (B, S, C)
        return x, attn


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention to the memory, feed-forward (all post-LN)."""

    def __init__(self, c: TransformerConfig) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(c.d_model, c.n_heads, c.dropout)
        self.ln1 = nn.LayerNorm(c.d_model)
        self.cross_attn = MultiHeadAttention(c.d_model, c.n_heads, c.dropout)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.ffn = FeedForward(c.d_model, c.d_ff)
        self.ln3 = nn.LayerNorm(c.d_model)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, y: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor,
                src_mask: torch.Tensor, return_attn: bool = False):
        """y (B, T, C), memory (B, S, C) -> (B, T, C), self (B, nh, T, T), cross (B, nh, T, S)."""
        a, self_w = self.self_attn(y, y, tgt_mask, return_attn)
        y = self.ln1(y + self.dropout(a))  # (B, T, C)
        a, cross_w = self.cross_attn(y, memory, src_mask, return_attn)  # queries y, keys memory
        y = self.ln2(y + self.dropout(a))  # (B, T, C)
        y = self.ln3(y + self.dropout(self.ffn(y)))  # (B, T, C)
        return y, self_w, cross_w


def _check_ids(x: object, name: str, vocab_size: int, max_len: int) -> None:
    check_id_tensor(x, name, vocab_size, dims="(B, length)", max_len=max_len)


class Transformer(nn.Module):
    """Encoder-decoder Transformer: teacher-forced logits for training, greedy/beam decoding."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig, got {type(config).__name__}")
        c = self.config = config
        self.src_embed = nn.Embedding(c.src_vocab_size, c.d_model)
        self.tgt_embed = nn.Embedding(c.tgt_vocab_size, c.d_model)
        self.register_buffer("pos", sinusoidal_positions(c.max_len, c.d_model), persistent=False)
        self.dropout = nn.Dropout(c.dropout)
        self.encoder = nn.ModuleList(EncoderLayer(c) for _ in range(c.n_layers))
        self.decoder = nn.ModuleList(DecoderLayer(c) for _ in range(c.n_layers))
        self.lm_head = nn.Linear(c.d_model, c.tgt_vocab_size, bias=False)
        # Every weight is drawn so that the same seed gives the same bits on every CPU
        # (training.reproducible_uniform_): torch's own init kernels round differently per CPU.
        for m in self.modules():
            if isinstance(m, nn.Linear) and m.bias is not None:  # torch's default bias init
                reproducible_uniform_(m.bias, 1 / math.sqrt(m.in_features))
        for p in self.parameters():
            if p.dim() > 1:  # Xavier/Glorot uniform, as in the Annotated Transformer
                reproducible_uniform_(p, math.sqrt(6.0 / (p.shape[0] + p[0].numel())))
        for emb in (self.src_embed, self.tgt_embed):
            # std 1/sqrt(C): times sqrt(C) the embeddings have unit scale, like the positions
            reproducible_normal_(emb.weight, c.d_model ** -0.5)
        self.lm_head.weight = self.tgt_embed.weight  # tied (paper §3.4)

    def _embed(self, ids: torch.Tensor, table: nn.Embedding) -> torch.Tensor:
        x = table(ids) * math.sqrt(self.config.d_model)  # (B, L, C)
        return self.dropout(x + self.pos[:ids.size(1)])  # (L, C) broadcasts over B

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor | None = None,
               return_attn: bool = False):
        """src (B, S) -> memory (B, S, C), src_mask (B, 1, 1, S), {"encoder": [...]} or None.

        The mask (True = real token) comes from src_lengths if given, else from src != pad_id.
        """
        c = self.config
        _check_ids(src, "src", c.src_vocab_size, c.max_len)
        S = src.size(1)
        src_mask = (padding_mask(src_lengths.to(src.device), S) if src_lengths is not None
                    else (src != c.pad_id)[:, None, None, :])  # (B, 1, 1, S)
        x, attns = self._embed(src, self.src_embed), []
        for layer in self.encoder:
            x, w = layer(x, src_mask, return_attn)  # (B, S, C), (B, nh, S, S)
            attns.append(w)
        return x, src_mask, ({"encoder": attns} if return_attn else None)

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor,
               return_attn: bool = False):
        """tgt_in (B, T) -> logits (B, T, V), {"decoder_self": [...], "cross": [...]} or None."""
        c = self.config
        _check_ids(tgt_in, "tgt_in", c.tgt_vocab_size, c.max_len)
        T = tgt_in.size(1)
        # position t sees positions <= t, and never a padded one
        tgt_mask = causal_mask(T, device=tgt_in.device) & (tgt_in != c.pad_id)[:, None, None, :]
        y, self_ws, cross_ws = self._embed(tgt_in, self.tgt_embed), [], []  # (B, 1, T, T) mask
        for layer in self.decoder:
            y, sw, cw = layer(y, memory, tgt_mask, src_mask, return_attn)  # (B, T, C)
            self_ws.append(sw)
            cross_ws.append(cw)
        logits = self.lm_head(y)  # (B, T, C) @ (C, V) -> (B, T, V)
        return logits, ({"decoder_self": self_ws, "cross": cross_ws} if return_attn else None)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor, return_attn: bool = False
                ) -> tuple[torch.Tensor, dict[str, list[torch.Tensor]] | None]:
        """Teacher forcing: src (B, S), tgt_in = <s> + target (B, T) -> logits (B, T, V), attn.

        attn (if asked): {"encoder": [(B, nh, S, S)], "decoder_self": [(B, nh, T, T)],
        "cross": [(B, nh, T, S)]}, each a list over layers.
        """
        memory, src_mask, enc_attn = self.encode(src, return_attn=return_attn)
        logits, dec_attn = self.decode(tgt_in, memory, src_mask, return_attn)
        return logits, ({**enc_attn, **dec_attn} if return_attn else None)

    def loss(self, src: torch.Tensor, tgt_in: torch.Tensor, tgt_out: torch.Tensor,
             label_smoothing: float = 0.0) -> torch.Tensor:
        """Mean cross entropy of tgt_out = target + </s> (B, T), pad positions ignored."""
        check_float(label_smoothing, "label_smoothing", low=0, high=1, high_open=True)
        c = self.config
        _check_ids(tgt_out, "tgt_out", c.tgt_vocab_size, c.max_len)
        if isinstance(tgt_in, torch.Tensor) and tgt_out.shape != tgt_in.shape:
            raise ValueError("tgt_out must be a tensor of tgt_in's shape (tgt_in shifted left)")
        logits, _ = self(src, tgt_in)  # (B, T, V)
        return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(),  # (B*T, V), (B*T,)
                               ignore_index=self.config.pad_id, label_smoothing=label_smoothing)

    def _max_steps(self, max_len: int | None) -> int:
        limit = self.config.max_len  # the decoder input <s> y1 .. must fit the position table
        if max_len is None:
            return limit
        if isinstance(max_len, bool) or not isinstance(max_len, int) or not 1 <= max_len <= limit:
            raise ValueError(f"max_len must be an int in [1, config.max_len={limit}], got {max_len!r}")
        return max_len

    def _greedy(self, src: torch.Tensor, max_len: int | None) -> tuple[torch.Tensor, list]:
        """Greedy loop (no grad, eval) -> decoder inputs (B, 1 + n), per-step logits [(B, V)]."""
        c, steps = self.config, self._max_steps(max_len)
        memory, src_mask, _ = self.encode(src)  # the encoder runs once
        ys = torch.full((src.size(0), 1), c.bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)  # (B,)
        step_logits = []
        for _ in range(steps):  # steps <= max_len, so the decoder input always fits
            # The whole prefix is decoded again at each step (no cache): simple, O(T^2).
            logits = self.decode(ys, memory, src_mask)[0][:, -1]  # (B, V): the last position
            y = logits.argmax(dim=-1)  # (B,)
            ys = torch.cat([ys, y[:, None]], dim=1)  # (B, t + 1)
            step_logits.append(logits)
            done |= y == c.eos_id
            if done.all():  # later steps would be cut off anyway
                break
        return ys, step_logits

    def greedy_decode(self, src: torch.Tensor, max_len: int | None = None) -> list[list[int]]:
        """Most likely token at each step until </s> (kept) or max_len tokens, per example."""
        with eval_mode(self), torch.no_grad():
            ys, _ = self._greedy(src, max_len)
        out = []
        for row in ys[:, 1:].tolist():  # drop <s>
            out.append(row[:row.index(self.config.eos_id) + 1] if self.config.eos_id in row else row)
        return out

    def beam_decode(self, src: torch.Tensor, beam_size: int = 4, max_len: int | None = None,
                    length_penalty: float = 1.0) -> list[list[int]]:
        """Beam search, one source at a time (a batch is looped over) -> ids ending with </s>.

        Hypotheses are ranked by sum log p / len^length_penalty (len counts </s>; 0 = raw
        sum, which favours short outputs). The search stops when beam_size hypotheses have
        ended with </s> or after max_len tokens; with beam_size=1 it is greedy decoding.
        """
        if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
            raise ValueError(f"beam_size must be an int >= 1, got {beam_size!r}")
        if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)) \
                or not math.isfinite(length_penalty):
            raise ValueError(f"length_penalty must be a finite number (0 = raw sum, 1 = mean per "
                             f"token), got {length_penalty!r}")
        c, steps, k = self.config, self._max_steps(max_len), beam_size
        _check_ids(src, "src", c.src_vocab_size, c.max_len)
        results = []
        with eval_mode(self), torch.no_grad():
            for b in range(src.size(0)):
                memory, src_mask, _ = self.encode(src[b:b + 1])  # (1, S, C), (1, 1, 1, S)
                alive, finished = [([c.bos_id], 0.0)], []  # (ids with <s>, sum log p)
                for _ in range(steps):
                    ys = torch.tensor([ids for ids, _ in alive], device=src.device)  # (k', t)
                    n = len(alive)
                    logits, _ = self.decode(ys, memory.expand(n, -1, -1),
                                            src_mask.expand(n, -1, -1, -1))
                    logp = logits[:, -1].log_softmax(-1)  # (k', V)
                    cand = (torch.tensor([s for _, s in alive], device=logp.device)[:, None]
                            + logp).flatten()  # (k' * V,): the sum of log p of each extension
                    top = cand.topk(min(2 * k, cand.numel()))  # 2k: room for k non-</s> ones
                    new_alive = []
                    for rank, (score, idx) in enumerate(zip(top.values.tolist(),
                                                            top.indices.tolist())):
                        beam, tok = divmod(idx, logp.size(1))
                        ids = alive[beam][0] + [tok]
                        if tok == c.eos_id:
                            if rank < k:  # an ended hypothesis counts only if it made the beam
                                finished.append((ids, score))
                        elif len(new_alive) < k:
                            new_alive.append((ids, score))
                    alive = new_alive
                    if len(finished) >= k or not alive:
                        break
                pool = finished or alive  # nothing ended within max_len: take the best alive
                best = max(pool, key=lambda h: h[1] / (len(h[0]) - 1) ** length_penalty)
                results.append(best[0][1:])  # drop <s>
        return results


# ---------------------------------------------------------------------------
# teacher forcing vs free running, step by step (one sentence pair)
# ---------------------------------------------------------------------------

def _step_dict(t, src_ids, dec_in, gold, logits, top_k):
    probs = logits.softmax(-1)  # (V,)
    p, i = probs.topk(min(top_k, probs.numel()))
    gold_prob = None if gold is None else probs[gold].item()
    return {"step": t, "encoder_input": list(src_ids), "decoder_input": dec_in, "gold": gold,
            "pred": int(i[0]), "topk": list(zip(i.tolist(), p.tolist())), "gold_prob": gold_prob,
            "loss": None if gold is None else -logits.log_softmax(-1)[gold].item()}


def _check_step_args(model: object, src_ids: object, tgt_ids: object, top_k: object
                     ) -> tuple[list[int], list[int]]:
    """The checks teacher_forcing_steps and free_running_steps share -> (src_ids, tgt_ids)."""
    if not isinstance(model, Transformer):
        raise TypeError(f"model must be a Transformer, got {type(model).__name__}")
    c = model.config
    V = c.tgt_vocab_size
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= V:
        raise ValueError(f"top_k must be an int in [1, tgt_vocab_size={V}], got {top_k!r}")
    src_ids = as_int_list(src_ids, "src_ids")
    if len(src_ids) > c.max_len:
        raise ValueError(f"src_ids has {len(src_ids)} ids > config.max_len={c.max_len}")
    tgt_ids = as_int_list(tgt_ids, "tgt_ids", allow_empty=True)
    for name, ids, vocab in (("src_ids", src_ids, "src_vocab_size"),
                             ("tgt_ids", tgt_ids, "tgt_vocab_size")):
        for i, x in enumerate(ids):
            check_token_id(x, f"{name}[{i}]", getattr(c, vocab), vocab)
    return src_ids, tgt_ids


def _gold(model: Transformer, tgt_ids: list[int]) -> list[int]:
    eos = model.config.eos_id
    return list(tgt_ids) if tgt_ids and tgt_ids[-1] == eos else list(tgt_ids) + [eos]


def teacher_forcing_steps(model: Transformer, src_ids: list[int], tgt_ids: list[int],
                          top_k: int = 5) -> list[dict]:
    """One dict per target step; the decoder reads the GOLD prefix <s> + gold[:t].

    tgt_ids is the target without <s>; </s> is appended as the last gold token unless it
    is already there. All steps come from ONE forward pass (eval mode), as in training.
    Keys: step, encoder_input, decoder_input, gold, pred, topk [(id, prob)], gold_prob, loss.
    """
    src_ids, tgt_ids = _check_step_args(model, src_ids, tgt_ids, top_k)
    gold = _gold(model, tgt_ids)
    dec_in = [model.config.bos_id] + gold[:-1]
    if len(dec_in) > model.config.max_len:
        raise ValueError(f"tgt_ids has {len(tgt_ids)} ids: with </s> the decoder input is "
                         f"{len(dec_in)} > config.max_len={model.config.max_len}")
    with eval_mode(model), torch.no_grad():
        logits, _ = model(torch.tensor([list(src_ids)]), torch.tensor([dec_in]))  # (1, T, V)
    return [_step_dict(t, src_ids, dec_in[:t + 1], g, logits[0, t], top_k)
            for t, g in enumerate(gold)]


def free_running_steps(model: Transformer, src_ids: list[int], tgt_ids: list[int],
                       top_k: int = 5, max_len: int | None = None) -> list[dict]:
    """Like teacher_forcing_steps, but the decoder reads its OWN greedy predictions.

    gold is the reference token at that position (None past its end), loss -log p(gold).
    Stops after the model writes </s> or max_len tokens (greedy_decode's output).
    """
    src_ids, tgt_ids = _check_step_args(model, src_ids, tgt_ids, top_k)
    gold = _gold(model, tgt_ids)
    with eval_mode(model), torch.no_grad():
        ys, step_logits = model._greedy(torch.tensor([list(src_ids)]), max_len)  # (1, 1 + n)
    ys = ys[0].tolist()
    return [_step_dict(t, src_ids, ys[:t + 1], gold[t] if t < len(gold) else None,
                       step_logits[t][0], top_k)
            for t in range(len(step_logits))]


# ---------------------------------------------------------------------------
# training and the copy task
# ---------------------------------------------------------------------------

# (src, tgt_in, tgt_out): what train()'s batches_fn returns
TransformerBatch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def train(model: Transformer, batches_fn: Callable[[int], TransformerBatch], steps: int,
          lr: float = 1e-3,
          warmup: int = 100, clip: float = 1.0, label_smoothing: float = 0.0,
          seed: int | None = None, progress: bool = True) -> list[float]:
    """Adam(0.9, 0.98) with linear warmup to `lr`, then lr * sqrt(warmup / step) (the paper's
    schedule, peaking at `lr`: lr_at, passed to training.fit as its schedule); returns the
    loss of every step.

    batches_fn(step) -> (src, tgt_in, tgt_out). With `seed`, dropout is seeded inside a
    forked RNG, so the caller's global random state is left as it was.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 1:
        raise ValueError(f"warmup must be an int >= 1, got {warmup!r}")
    check_float(lr, "lr", low=0, low_open=True)
    check_float(clip, "clip", low=0, low_open=True)
    check_float(label_smoothing, "label_smoothing", low=0, high=1, high_open=True)
    check_callable(batches_fn, "batches_fn", what="a function step -> (src, tgt_in, tgt_out)")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9)
    return fit(model, lambda step: model.loss(*batches_fn(step), label_smoothing=label_smoothing),
               steps, optimizer, clip=clip, schedule=lambda step: lr_at(step, lr, warmup),
               seed=seed, progress=progress)


def lr_at(step: int, lr: float, warmup: int) -> float:
    """The paper's learning rate at step `step` (0-based), peaking at `lr` after `warmup` steps:
    lr * min((step + 1) / warmup, sqrt(warmup / (step + 1))), linear up, then 1 / sqrt(step)."""
    return lr * min((step + 1) / warmup, math.sqrt(warmup / (step + 1)))


def copy_task_batch(batch_size: int, min_len: int, max_len: int, vocab_size: int,
                    generator: torch.Generator | None = None) -> TransformerBatch:
    """Random sources over ids 4..vocab_size-1, target = the source -> (src, tgt_in, tgt_out).

    Padded with <pad>=0; tgt_in = <s> + source, tgt_out = source + </s> (seq2seq's task).
    """
    src, _, tgt_in, tgt_out = reverse_task_batch(batch_size, min_len, max_len, vocab_size,
                                                 generator, reverse=False)
    return src, tgt_in, tgt_out
