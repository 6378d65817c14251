"""GPT: a decoder-only Transformer language model, module for module the shape of GPT-2.

Lecture L19-L20. GPT keeps only the Transformer's decoder and drops its cross-attention
(there is no encoder to read): a stack of blocks of masked (causal) self-attention and a
feed-forward network, trained to predict the next token at every position. Generation
feeds the model's own output back in, one token at a time.

Details follow GPT-2 (Radford et al. 2019), so real GPT-2 weights load unchanged:
pre-LN blocks  x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))  and a final ln_f; learned
positions; tanh-approximate GELU; LayerNorm eps 1e-5; the output layer shares the token
embedding matrix (tied). Attribute paths equal Hugging Face's GPT2LMHeadModel
(transformer.wte/wpe/h.{i}.ln_1/attn.c_attn/attn.c_proj/ln_2/mlp.c_fc/mlp.c_proj/ln_f,
lm_head); HF stores the four projections as Conv1D (in, out), so `from_hf` transposes them.

Attention is written out when its weights are requested (return_attn=True) and otherwise
runs torch's fused kernel; a key/value cache lets generation compute only the new token.

Shapes: B batch, T new (query) positions, S key positions (cache + new), C model width
(d_model), nh heads, hs head size (C // nh), V vocabulary size, L layers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .attention import causal_mask, scaled_dot_product_attention
from .base import (check_bool, check_float, check_id_tensor, check_int, check_special_ids,
                   check_token_id, eval_mode)
from .base import EOS_ID
from .checkpoint import Saveable, check_config

KVCache = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values (B, nh, S, hs)


@dataclass
class GPTConfig:
    """Sizes of a GPT (defaults: the course model; see PRESETS for GPT-2 and GPT-3)."""

    vocab_size: int  # V, special tokens included
    max_len: int = 128  # context length: the size of the position table (GPT-2: 1024)
    d_model: int = 128  # model width C
    n_heads: int = 4  # attention heads nh (d_model % n_heads == 0)
    n_layers: int = 4  # decoder blocks L
    d_ff: int | None = None  # feed-forward inner width; None means 4 * d_model (GPT-2)
    dropout: float = 0.0  # on embeddings, attention weights and block outputs (GPT-2: 0.1)
    layer_norm_eps: float = 1e-5
    eos_id: int | None = EOS_ID  # ends a text (lmlib's </s>; GPT-2's <|endoftext|> is 50256)

    def __post_init__(self) -> None:
        if self.d_ff is None:
            self.d_ff = 4 * check_int(self.d_model, "d_model", low=1)
        check_config(self, ("vocab_size", "max_len", "d_model", "n_heads", "n_layers", "d_ff"))
        check_special_ids(self, ("eos_id",), allow_none=True)


# Published sizes (Radford et al. 2019; Brown et al. 2020, Table 2.1), as GPTConfig keyword dicts.
PRESETS: dict[str, dict] = {
    "gpt2": dict(vocab_size=50257, max_len=1024, d_model=768, n_heads=12, n_layers=12, eos_id=50256),
    "gpt2-medium": dict(vocab_size=50257, max_len=1024, d_model=1024, n_heads=16, n_layers=24,
                        eos_id=50256),
    "gpt2-large": dict(vocab_size=50257, max_len=1024, d_model=1280, n_heads=20, n_layers=36,
                       eos_id=50256),
    "gpt2-xl": dict(vocab_size=50257, max_len=1024, d_model=1600, n_heads=25, n_layers=48,
                    eos_id=50256),
    "gpt3": dict(vocab_size=50257, max_len=2048, d_model=12288, n_heads=96, n_layers=96,
                 eos_id=50256),
}


def count_parameters(config: GPTConfig) -> int:
    """The parameter count of GPT(config) from its sizes alone (tied output layer counted once).

    Per block: attention 4C^2 + 4C (c_attn 3C^2+3C, c_proj C^2+C), feed-forward
    2*C*d_ff + d_ff + C, two LayerNorms 4C. Plus token and position tables (V + max_len) C
    and ln_f 2C. With d_ff = 4C a block is 12C^2 + 13C: the 12 L C^2 of the scaling papers.
    """
    if not isinstance(config, GPTConfig):
        raise TypeError(f"config must be a GPTConfig, got {type(config).__name__}")
    C, F_, L = config.d_model, config.d_ff, config.n_layers
    block = (4 * C * C + 4 * C) + (2 * C * F_ + F_ + C) + 4 * C
    return L * block + (config.vocab_size + config.max_len) * C + 2 * C


class GPTOutput(NamedTuple):
    """What GPT.forward returns; fields that were not asked for are None."""

    logits: torch.Tensor  # (B, T, V)
    loss: torch.Tensor | None  # mean cross-entropy over targets != -100
    attentions: list[torch.Tensor] | None  # per layer (B, nh, T, S)
    past_key_values: KVCache | None  # the cache to pass back in for the next tokens


class CausalSelfAttention(nn.Module):
    """Masked multi-head self-attention: position t reads positions <= t only."""

    def __init__(self, c: GPTConfig) -> None:
        super().__init__()
        self.n_heads, self.head_size, self.dropout = c.n_heads, c.d_model // c.n_heads, c.dropout
        self.c_attn = nn.Linear(c.d_model, 3 * c.d_model)  # W_q, W_k, W_v side by side
        self.c_proj = nn.Linear(c.d_model, c.d_model)  # W_o
        self.resid_dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None,
                return_attn: bool = False):
        """x (B, T, C) -> (y (B, T, C), weights (B, nh, T, S) or None, (k, v) for the cache)."""
        (B, T, C), nh, hs = x.shape, self.n_heads, self.head_size
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        if past is not None:  # keys/values of the earlier positions, computed once
            k = torch.cat([past[0], k], dim=2)  # (B, nh, S, hs)
            v = torch.cat([past[1], v], dim=2)  # (B, nh, S, hs)
        S = k.size(2)
        p = self.dropout if self.training else 0.0
        if return_attn:  # written out, so the weights can be handed back
            mask = causal_mask(T, S, device=x.device)  # (T, S)
            y, w = scaled_dot_product_attention(q, k, v, mask, p, training=self.training)
        elif T == 1:  # one new token may read every key: no mask needed
            y, w = F.scaled_dot_product_attention(q, k, v, dropout_p=p), None
        elif S == T:
            y, w = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True), None
        else:
            mask = causal_mask(T, S, device=x.device)
            y, w = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p), None
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, nh, T, hs) -> (B, T, C)
        return self.resid_dropout(self.c_proj(y)), w, (k, v)


class MLP(nn.Module):
    """Position-wise feed-forward network: C -> d_ff -> C with tanh-approximate GELU."""

    def __init__(self, c: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(c.d_model, c.d_ff)
        self.act = nn.GELU(approximate="tanh")  # GPT-2's "gelu_new"
        self.c_proj = nn.Linear(c.d_ff, c.d_model)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))  # (B, T, C)


class Block(nn.Module):
    """One decoder block without cross-attention, pre-LN: normalise, transform, add."""

    def __init__(self, c: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)
        self.mlp = MLP(c)

    def forward(self, x: torch.Tensor, past=None, return_attn: bool = False):
        a, w, present = self.attn(self.ln_1(x), past, return_attn)
        x = x + a  # (B, T, C): the residual stream
        x = x + self.mlp(self.ln_2(x))
        return x, w, present


def _check_idx(idx: object, vocab_size: int) -> None:
    check_id_tensor(idx, "idx", vocab_size)


def _check_targets(targets: object, idx: torch.Tensor, vocab_size: int) -> None:
    if not isinstance(targets, torch.Tensor) or targets.shape != idx.shape \
            or targets.dtype != torch.long:
        got = f"{tuple(targets.shape)} {targets.dtype}" if isinstance(targets, torch.Tensor) \
            else type(targets).__name__
        error = ValueError if isinstance(targets, torch.Tensor) else TypeError
        raise error(f"targets must be a LongTensor shaped like idx {tuple(idx.shape)}, got {got}")
    bad = ((targets < 0) & (targets != -100)) | (targets >= vocab_size)
    if bool(bad.any()):
        raise ValueError(f"targets holds {int(targets[bad][0])}: expected ids in [0, {vocab_size}) "
                         f"or -100 (ignored)")


class GPT(Saveable):
    """A decoder-only Transformer language model with GPT-2's module names."""

    config_class = GPTConfig  # for Saveable.load

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config must be a GPTConfig, got {type(config).__name__}")
        c = self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c.vocab_size, c.d_model),  # token embeddings
            wpe=nn.Embedding(c.max_len, c.d_model),  # learned position embeddings
            drop=nn.Dropout(c.dropout),
            h=nn.ModuleList(Block(c) for _ in range(c.n_layers)),
            ln_f=nn.LayerNorm(c.d_model, eps=c.layer_norm_eps),
        ))
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied: one matrix reads and writes tokens
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            # GPT-2: scale the projections that write into the residual stream by 1/sqrt(2L),
            # so the stream's variance does not grow with depth.
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * c.n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None,
                return_attn: bool = False, past_key_values: KVCache | None = None,
                use_cache: bool = False) -> GPTOutput:
        """idx (B, T) -> GPTOutput(logits (B, T, V), loss, attentions, past_key_values).

        targets (B, T): the next token at each position (-100 = ignore), gives the mean loss.
        past_key_values: the cache from an earlier call; idx then holds only the new tokens.
        """
        c = self.config
        _check_idx(idx, c.vocab_size)
        B, T = idx.shape
        past_len = 0
        if past_key_values is not None:
            if not isinstance(past_key_values, list) or len(past_key_values) != c.n_layers:
                error = ValueError if isinstance(past_key_values, list) else TypeError
                raise error(f"past_key_values must be the list of {c.n_layers} (k, v) pairs "
                            f"returned with use_cache=True, got {type(past_key_values).__name__}")
            past_len = past_key_values[0][0].size(2)
        if past_len + T > c.max_len:
            raise ValueError(f"idx is too long: sequence length {past_len + T} exceeds the context "
                             f"config.max_len={c.max_len}")
        if targets is not None:
            _check_targets(targets, idx, c.vocab_size)

        pos = torch.arange(past_len, past_len + T, device=idx.device)  # (T,)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))  # (B, T, C)
        attentions, presents = [], []
        for i, block in enumerate(self.transformer.h):
            past = past_key_values[i] if past_key_values is not None else None
            x, w, present = block(x, past, return_attn)
            attentions.append(w)
            presents.append(present)
        logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, C) @ (C, V) -> (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, c.vocab_size), targets.reshape(-1),
                                   ignore_index=-100)
        return GPTOutput(logits, loss, attentions if return_attn else None,
                         presents if use_cache else None)

    @torch.no_grad()
    def token_logprobs(self, idx: torch.Tensor) -> torch.Tensor:
        """log P(idx[:, t+1] | idx[:, :t+1]) for every t -> (B, T-1), in eval mode."""
        _check_idx(idx, self.config.vocab_size)
        if idx.size(1) < 2:
            raise ValueError(f"idx needs at least 2 tokens (a context and a next token), "
                             f"got shape {tuple(idx.shape)}")
        with eval_mode(self):
            logp = self(idx[:, :-1]).logits.log_softmax(-1)  # (B, T-1, V)
        return logp.gather(-1, idx[:, 1:, None]).squeeze(-1)  # (B, T-1)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor | list[int], max_new_tokens: int, greedy: bool = False,
                 temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                 seed: int | None = None, eos_id: int | None = -1, crop: bool = False,
                 use_cache: bool = True) -> torch.Tensor:
        """Continue idx (T,) or (B, T) by up to max_new_tokens tokens -> (B, T + n).

        greedy takes the most probable token; otherwise sample from the distribution after
        temperature, top_k and top_p (see `next_token_probs`), with a torch.Generator seeded
        by `seed`. A row stops at eos_id (default config.eos_id; None never stops) and is
        padded with it while other rows go on. A prompt plus max_new_tokens longer than the
        context raises, unless crop=True: then the model sees only the last max_len tokens.
        """
        c = self.config
        if isinstance(idx, list):
            bad = [x for x in idx if isinstance(x, bool) or not isinstance(x, int)]
            if bad:
                raise TypeError(f"idx must be a list of int token ids, got {type(bad[0]).__name__} "
                                f"{bad[0]!r} (a float id would be truncated silently)")
            idx = torch.tensor([idx], dtype=torch.long, device=self.transformer.wte.weight.device)
        elif isinstance(idx, torch.Tensor) and idx.dim() == 1:
            idx = idx[None, :]
        _check_idx(idx, c.vocab_size)
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) \
                or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be an int >= 1, got {max_new_tokens!r}")
        for flag, name in ((greedy, "greedy"), (crop, "crop"), (use_cache, "use_cache")):
            check_bool(flag, name)
        check_int(seed, "seed", allow_none=True)
        if not greedy:
            _check_sampling(temperature, top_k, top_p)
        eos_id = c.eos_id if eos_id == -1 else check_token_id(eos_id, "eos_id", c.vocab_size,
                                                              allow_none=True)
        if not crop and idx.size(1) + max_new_tokens > c.max_len:
            raise ValueError(
                f"prompt length {idx.size(1)} + max_new_tokens {max_new_tokens} exceeds the "
                f"context config.max_len={c.max_len}; pass crop=True to let the model see only "
                f"the last {c.max_len} tokens")
        gen = None
        if seed is not None:
            gen = torch.Generator(device=idx.device).manual_seed(seed)

        with eval_mode(self):
            done = torch.zeros(idx.size(0), dtype=torch.bool, device=idx.device)
            cache, fed = None, 0  # `fed`: how many tokens of idx the cache already holds
            for _ in range(max_new_tokens):
                if idx.size(1) > c.max_len or not use_cache:  # cropped window: no cache
                    out = self(idx[:, -c.max_len:])
                    cache = None
                else:
                    out = self(idx[:, fed:], past_key_values=cache, use_cache=True)
                    cache, fed = out.past_key_values, idx.size(1)
                logits = out.logits[:, -1, :]  # (B, V): the next token's scores
                if greedy:
                    nxt = logits.argmax(-1, keepdim=True)  # (B, 1)
                else:
                    probs = next_token_probs(logits, temperature, top_k, top_p)
                    nxt = torch.multinomial(probs, 1, generator=gen)  # (B, 1)
                if eos_id is not None:
                    nxt = nxt.masked_fill(done[:, None], eos_id)
                    done |= nxt[:, 0] == eos_id
                idx = torch.cat([idx, nxt], dim=1)
                if eos_id is not None and bool(done.all()):
                    break
        return idx

    # -- Hugging Face GPT-2 -------------------------------------------------------------

    @classmethod
    def from_hf(cls, model) -> GPT:
        """A GPT holding the weights of a transformers GPT2LMHeadModel (or GPT2Model)."""
        if not isinstance(model, nn.Module) or not hasattr(model, "config"):
            raise TypeError(f"model must be a transformers GPT2LMHeadModel or GPT2Model, got "
                            f"{type(model).__name__}")
        config = _config_from_hf(model.config)
        gpt = cls(config)
        sd = {k if k.startswith(("transformer.", "lm_head")) else f"transformer.{k}": v
              for k, v in model.state_dict().items()}
        ours = gpt.state_dict()
        new = {}
        for key in ours:
            src = sd.get(key, sd.get("transformer.wte.weight") if key == "lm_head.weight" else None)
            if src is None:
                raise ValueError(f"the Hugging Face model has no weight for {key!r}")
            if key.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")):
                src = src.t()  # Conv1D stores (in, out); nn.Linear wants (out, in)
            if src.shape != ours[key].shape:
                raise ValueError(f"{key}: Hugging Face shape {tuple(src.shape)} != "
                                 f"{tuple(ours[key].shape)}")
            new[key] = src
        gpt.load_state_dict(new)
        return gpt.to(next(model.parameters()).device)

    @classmethod
    def from_pretrained(cls, name: str) -> GPT:
        """Load GPT-2 weights from the Hugging Face hub (needs internet), e.g. "gpt2"."""
        if not isinstance(name, str) or not name:
            error = ValueError if isinstance(name, str) else TypeError
            raise error(f"name must be a model name on the Hugging Face hub, got {name!r}")
        from transformers import GPT2LMHeadModel  # lazy: importing lmlib.gpt needs no transformers

        try:
            hf = GPT2LMHeadModel.from_pretrained(name)
        except OSError as e:
            raise OSError(f"could not load {name!r} from the Hugging Face hub (is there an "
                          f"internet connection?): {e}") from e
        return cls.from_hf(hf)


def load_course_model(name: str = "gpt_nsmc"):
    """(GPT in eval mode, its Tokenizer, its training report) of a checkpoint shipped with
    lmlib; "gpt_nsmc" is chapter 6's model, made by scripts/pretrain_gpt.py."""
    from .data import checkpoint_dir
    from .tokenizer import Tokenizer

    path = checkpoint_dir(name)
    report = path / "report.json"
    return (GPT.load(path).eval(), Tokenizer.load(path),
            json.loads(report.read_text(encoding="utf-8")) if report.is_file() else None)


def _config_from_hf(hf) -> GPTConfig:
    """GPTConfig from a transformers GPT2Config; refuse variants this GPT does not compute."""
    act = getattr(hf, "activation_function", "gelu_new")
    checks = {
        "activation_function in (gelu_new, gelu_pytorch_tanh)": act in ("gelu_new",
                                                                          "gelu_pytorch_tanh"),
        "scale_attn_weights": getattr(hf, "scale_attn_weights", True),
        "not scale_attn_by_inverse_layer_idx": not getattr(hf, "scale_attn_by_inverse_layer_idx",
                                                           False),
        "not reorder_and_upcast_attn": not getattr(hf, "reorder_and_upcast_attn", False),
        "not add_cross_attention": not getattr(hf, "add_cross_attention", False),
        "tie_word_embeddings": getattr(hf, "tie_word_embeddings", True),
    }
    bad = [k for k, ok in checks.items() if not ok]
    if bad:
        raise ValueError(f"this GPT-2 config is not supported by lmlib.gpt: needs {bad}")
    eos = hf.eos_token_id if isinstance(hf.eos_token_id, int) \
        and 0 <= hf.eos_token_id < hf.vocab_size else None
    return GPTConfig(vocab_size=hf.vocab_size, max_len=hf.n_positions, d_model=hf.n_embd,
                     n_heads=hf.n_head, n_layers=hf.n_layer, d_ff=hf.n_inner or 4 * hf.n_embd,
                     dropout=0.0, layer_norm_eps=float(hf.layer_norm_epsilon), eos_id=eos)


# -- sampling ---------------------------------------------------------------------------

def _check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not 0 < temperature < float("inf"):  # inf would make every token equally likely
        raise ValueError(f"temperature must be a finite number > 0 (use greedy=True for the argmax), "
                         f"got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be None or an int >= 1, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float))
                              or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be None or a number in (0, 1], got {top_p!r}")


def _check_logits(logits: object, floating: bool = True) -> None:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits must be a torch.Tensor of scores (..., V), got "
                        f"{type(logits).__name__}")
    if logits.dim() < 1 or (floating and not logits.is_floating_point()):
        raise ValueError(f"logits must be a{' floating-point' if floating else ''} tensor of "
                         f"scores (..., V), got {tuple(logits.shape)} {logits.dtype}")


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits of each row (ties at the k-th value kept); the rest -> -inf."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1 (the top_k tokens to keep), got {k!r}")
    _check_logits(logits)
    k = min(k, logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1): the k-th largest
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus: keep the fewest most-probable tokens whose probabilities sum to >= p."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
        raise ValueError(f"p must be a number in (0, 1] (the top_p mass to keep), got {p!r}")
    _check_logits(logits)
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(-1)
    before = probs.cumsum(-1) - probs  # mass of the tokens ranked above each one
    drop_sorted = before >= p  # already enough mass above: not needed (the top token never drops)
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))


def next_token_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None) -> torch.Tensor:
    """softmax(logits / temperature) restricted to top_k, then top_p -> probabilities (..., V)."""
    _check_sampling(temperature, top_k, top_p)
    _check_logits(logits, floating=False)  # integer scores are fine: dividing makes them floats
    logits = logits / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return logits.softmax(-1)
