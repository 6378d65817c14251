"""BERT: a Transformer encoder pretrained by filling in masked words (Devlin et al. 2018).

Lecture L21-L25. BERT keeps only the Transformer's encoder: every position reads every
other one, left and right. It is pretrained on two tasks at once, masked word prediction
(MLM: guess the 15% of tokens hidden behind [MASK]) and next sentence prediction (NSP:
is sentence B the one that follows A?), then fine-tuned with one small new layer on top.

    ids (B, T) -> Embeddings: token + position + segment, LayerNorm, dropout  -> (B, T, C)
               -> n_layers x BertLayer: self-attention, feed-forward, each post-LN
                  x = LayerNorm(x + dropout(sublayer(x)))                   -> (B, T, C)
               -> BertPooler: tanh(dense(h[:, 0])), the [CLS] vector         -> (B, C)

Two outputs: the hidden states (B, T, C), one vector per token (MLM reads them), and the
pooled vector (B, C) of the whole input (NSP and sentence classifiers read it).

Details follow the original BERT so real checkpoints load unchanged: exact (erf) GELU,
LayerNorm eps 1e-12, learned positions, the MLM decoder tied to the word embeddings.
Attribute paths equal Hugging Face's BertForPreTraining / BertModel /
BertForSequenceClassification (bert.embeddings.word_embeddings,
bert.encoder.layer.{i}.attention.self.query, ..., cls.predictions, cls.seq_relationship,
classifier), so `from_hf` copies a state dict key by key. The MLM/NSP data pipeline
(masking, sentence pairs, [CLS] a [SEP] b [SEP]) is in lmlib.bert_data.

Shapes: B batch, T sequence length (queries and keys), C model width (d_model), nh heads,
hs head size (C // nh), V vocabulary size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .attention import scaled_dot_product_attention
from .base import PAD_ID, check_bool, check_float, check_id_tensor, check_int, check_special_ids
from .checkpoint import Saveable, check_config


@dataclass
class BertConfig:
    """Sizes of a BERT (defaults: the course model; see PRESETS for BERT-base and -large)."""

    vocab_size: int  # V, special tokens included
    max_len: int = 128  # longest input: the size of the position table (BERT: 512)
    d_model: int = 128  # model width C (hidden_size)
    n_heads: int = 4  # attention heads nh (d_model % n_heads == 0)
    n_layers: int = 4  # encoder layers
    d_ff: int | None = None  # feed-forward inner width (intermediate_size); None: 4 * d_model
    dropout: float = 0.1  # on embeddings, attention weights and sublayer outputs
    type_vocab_size: int = 2  # segments: A = 0, B = 1
    layer_norm_eps: float = 1e-12
    pad_id: int | None = PAD_ID  # <pad>: its embedding row starts at 0 and gets no gradient

    def __post_init__(self) -> None:
        if self.d_ff is None:
            self.d_ff = 4 * check_int(self.d_model, "d_model", low=1)
        check_config(self, ("vocab_size", "max_len", "d_model", "n_heads", "n_layers", "d_ff",
                            "type_vocab_size"))
        check_special_ids(self, ("pad_id",), allow_none=True)


# Published sizes (Devlin et al. 2018, §3; KLUE: Park et al. 2021), as BertConfig keyword dicts.
PRESETS: dict[str, dict] = {
    "bert-base": dict(vocab_size=30522, max_len=512, d_model=768, n_heads=12, n_layers=12,
                      d_ff=3072),
    "bert-large": dict(vocab_size=30522, max_len=512, d_model=1024, n_heads=16, n_layers=24,
                       d_ff=4096),
    "klue-bert-base": dict(vocab_size=32000, max_len=512, d_model=768, n_heads=12, n_layers=12,
                           d_ff=3072),
}


def count_parameters(config: BertConfig, head: str = "base", n_labels: int = 2) -> int:
    """Parameters of BertModel ("base"), BertForPreTraining ("pretraining") or
    BertForSequenceClassification ("classifier") from the sizes alone.

    Embeddings (V + max_len + type_vocab_size) C + 2C; per layer 4C^2 + 2 C d_ff + 9C + d_ff
    (Q, K, V, output projections, two LayerNorms, the feed-forward network); pooler C^2 + C.
    The MLM head adds C^2 + 3C + V (its decoder matrix is the word embeddings, counted once),
    NSP 2C + 2, the classifier n_labels (C + 1).
    """
    if not isinstance(config, BertConfig):
        raise TypeError(f"config must be a BertConfig, got {type(config).__name__}")
    check_int(n_labels, "n_labels", low=2)
    C, F_, L, V = config.d_model, config.d_ff, config.n_layers, config.vocab_size
    base = (V + config.max_len + config.type_vocab_size) * C + 2 * C \
        + L * (4 * C * C + 2 * C * F_ + 9 * C + F_) + C * C + C
    extra = {"base": 0, "pretraining": C * C + 3 * C + V + 2 * C + 2,
             "classifier": n_labels * (C + 1)}
    if head not in extra:
        raise ValueError(f"head must be one of {tuple(extra)}, got {head!r}")
    return base + extra[head]


class BertModelOutput(NamedTuple):
    """What BertModel.forward returns; fields that were not asked for are None."""

    last_hidden_state: torch.Tensor  # (B, T, C)
    pooled: torch.Tensor  # (B, C): tanh(dense(h[:, 0])), the [CLS] vector
    hidden_states: list[torch.Tensor] | None  # embeddings output + each layer's: n_layers + 1
    attentions: list[torch.Tensor] | None  # per layer (B, nh, T, T)


class PreTrainingOutput(NamedTuple):
    """What BertForPreTraining.forward returns; a loss is None without its labels."""

    mlm_logits: torch.Tensor  # (B, T, V)
    nsp_logits: torch.Tensor  # (B, 2): IsNext (0), NotNext (1)
    loss: torch.Tensor | None  # mlm_loss + nsp_loss, whichever were computed
    mlm_loss: torch.Tensor | None
    nsp_loss: torch.Tensor | None
    hidden_states: list[torch.Tensor] | None
    attentions: list[torch.Tensor] | None


class ClassifierOutput(NamedTuple):
    """What BertForSequenceClassification.forward returns."""

    logits: torch.Tensor  # (B, n_labels)
    loss: torch.Tensor | None
    attentions: list[torch.Tensor] | None


# -- the encoder ------------------------------------------------------------------------

class Embeddings(nn.Module):
    """Token + learned position + segment embeddings, then LayerNorm and dropout."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.d_model, padding_idx=c.pad_id)
        self.position_embeddings = nn.Embedding(c.max_len, c.d_model)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.d_model)
        self.LayerNorm = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)  # HF's (TF's) spelling
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(input_ids.size(1), device=input_ids.device)  # (T,)
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos) \
            + self.token_type_embeddings(token_type_ids)  # (B, T, C) + (T, C) + (B, T, C)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """Multi-head self-attention without a causal mask: every position reads every real key."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.n_heads, self.head_size, self.dropout = c.n_heads, c.d_model // c.n_heads, c.dropout
        self.query = nn.Linear(c.d_model, c.d_model)  # W_q
        self.key = nn.Linear(c.d_model, c.d_model)  # W_k
        self.value = nn.Linear(c.d_model, c.d_model)  # W_v

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, return_attn: bool = False):
        """x (B, T, C), mask (B, 1, 1, T) True = real key -> (y (B, T, C), weights or None)."""
        (B, T, C), nh, hs = x.shape, self.n_heads, self.head_size
        q = self.query(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = self.key(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = self.value(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        p = self.dropout if self.training else 0.0
        if return_attn:  # written out, so the weights can be handed back
            y, w = scaled_dot_product_attention(q, k, v, mask, p, training=self.training)
        else:  # the same computation, fused by torch
            y, w = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p), None
        return y.transpose(1, 2).contiguous().view(B, T, C), w  # (B, nh, T, hs) -> (B, T, C)


class BertSelfOutput(nn.Module):
    """W_o, then post-LN: LayerNorm(x + dropout(W_o y))."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.d_model, c.d_model)  # W_o
        self.LayerNorm = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(x + self.dropout(self.dense(y)))  # (B, T, C)


class BertAttention(nn.Module):
    """The attention sublayer: self-attention (`self.self`, HF's name) and its output."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(c)  # a submodule called "self", as in HF's paths
        self.output = BertSelfOutput(c)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, return_attn: bool = False):
        y, w = self.self(x, mask, return_attn)
        return self.output(y, x), w


class BertIntermediate(nn.Module):
    """First half of the feed-forward network: C -> d_ff with exact (erf) GELU."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.d_model, c.d_ff)
        self.act = nn.GELU()  # exact; GPT-2's tanh approximation would break parity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.dense(x))  # (B, T, d_ff)


class BertOutput(nn.Module):
    """Second half of the feed-forward network, d_ff -> C, then post-LN with the residual."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.d_ff, c.d_model)
        self.LayerNorm = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(x + self.dropout(self.dense(h)))  # (B, T, C)


class BertLayer(nn.Module):
    """One encoder layer: attention sublayer, then feed-forward sublayer, both post-LN."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, return_attn: bool = False):
        a, w = self.attention(x, mask, return_attn)
        return self.output(self.intermediate(a), a), w  # (B, T, C), (B, nh, T, T) or None


class Encoder(nn.Module):
    """The stack of BertLayers (`encoder.layer`)."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(c) for _ in range(c.n_layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, return_attn: bool = False,
                return_hidden: bool = False):
        """-> (last hidden state (B, T, C), hidden states or None, attentions or None)."""
        hidden, attentions = [x], []
        for layer in self.layer:
            x, w = layer(x, mask, return_attn)
            hidden.append(x)
            attentions.append(w)
        return x, hidden if return_hidden else None, attentions if return_attn else None


class BertPooler(nn.Module):
    """The whole input as one vector: tanh(dense(h[:, 0])), read at [CLS]."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.d_model, c.d_model)
        self.activation = nn.Tanh()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(h[:, 0]))  # (B, T, C) -> (B, C)


def _init_weights(module: nn.Module) -> None:
    """BERT's initialisation: N(0, 0.02) weights, zero biases, the <pad> row zero."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.Embedding) and module.padding_idx is not None:
        with torch.no_grad():
            module.weight[module.padding_idx].zero_()


def _describe(x: object) -> str:
    return f"{tuple(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__


def _error(x: object) -> type[Exception]:
    """ValueError for a tensor of the wrong shape, dtype or values; TypeError for a non-tensor."""
    return ValueError if isinstance(x, torch.Tensor) else TypeError


def _check_inputs(c: BertConfig, input_ids: object, token_type_ids: object,
                  attention_mask: object) -> None:
    check_id_tensor(input_ids, "input_ids", c.vocab_size, max_len=c.max_len)
    shape = tuple(input_ids.shape)
    if token_type_ids is not None:
        if not isinstance(token_type_ids, torch.Tensor) or tuple(token_type_ids.shape) != shape \
                or token_type_ids.dtype != torch.long:
            raise _error(token_type_ids)(f"token_type_ids must be a LongTensor shaped like "
                                         f"input_ids {shape}, got {_describe(token_type_ids)}")
        if token_type_ids.min() < 0 or token_type_ids.max() >= c.type_vocab_size:
            raise ValueError(f"token_type_ids must be in [0, type_vocab_size={c.type_vocab_size}), "
                             f"got values up to {int(token_type_ids.max())}")
    if attention_mask is not None:
        if not isinstance(attention_mask, torch.Tensor) or tuple(attention_mask.shape) != shape:
            raise _error(attention_mask)(f"attention_mask must be a tensor shaped like input_ids "
                                         f"{shape} (1 = real token, 0 = padding), got "
                                         f"{_describe(attention_mask)}")
        if not ((attention_mask == 0) | (attention_mask == 1)).all():
            raise ValueError("attention_mask must hold only 0 (padding) and 1 (real token)")


def _check_labels(labels: object, name: str, shape: tuple[int, ...], n: int,
                  ignore: bool = False) -> None:
    ok = isinstance(labels, torch.Tensor) and tuple(labels.shape) == shape \
        and labels.dtype == torch.long
    if ok:
        real = labels[labels != -100] if ignore else labels
        ok = real.numel() == 0 or (real.min() >= 0 and real.max() < n)
    if not ok:
        what = f"values in [0, {n})" + (" or -100 (not predicted)" if ignore else "")
        raise _error(labels)(f"{name} must be a LongTensor of shape {shape} with {what}, "
                             f"got {_describe(labels)}")


class _Saveable(Saveable):
    """save/load and num_parameters (lmlib.checkpoint), shared by the three top-level models."""

    config_class = BertConfig


class BertModel(_Saveable):
    """The BERT encoder: Embeddings, Encoder, BertPooler (HF's BertModel paths)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        if not isinstance(config, BertConfig):
            raise TypeError(f"config must be a BertConfig, got {type(config).__name__}")
        self.config = config
        self.embeddings = Embeddings(config)
        self.encoder = Encoder(config)
        self.pooler = BertPooler(config)
        self.apply(_init_weights)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None, return_attn: bool = False,
                return_hidden: bool = False) -> BertModelOutput:
        """input_ids (B, T) -> BertModelOutput(last_hidden_state (B, T, C), pooled (B, C), ...).

        token_type_ids (B, T): segment 0 for [CLS] a [SEP], 1 for b [SEP]; default all 0.
        attention_mask (B, T): 1 = real token, 0 = padding (no query reads a padded key);
        default all 1, as in Hugging Face: pass it whenever the batch is padded.
        A row with no real token at all gets attention weights 0 (HF spreads them evenly).
        """
        _check_inputs(self.config, input_ids, token_type_ids, attention_mask)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        mask = None
        if attention_mask is not None and not bool(attention_mask.all()):  # padding to hide
            mask = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T): True = real key
        # (all ones hides nothing: no mask then, so the fused kernel needs no mask either)
        x = self.embeddings(input_ids, token_type_ids)  # (B, T, C)
        h, hidden, attentions = self.encoder(x, mask, return_attn, return_hidden)
        return BertModelOutput(h, self.pooler(h), hidden, attentions)

    @classmethod
    def from_hf(cls, model) -> BertModel:
        """A BertModel holding the weights of a transformers BertModel (or of any model
        with a `.bert`, e.g. BertForPreTraining)."""
        base = model.bert if hasattr(model, "bert") else model
        ours = cls(_config_from_hf(base.config))
        return _copy_hf_weights(ours, base)

    @classmethod
    def from_pretrained(cls, name: str) -> BertModel:
        """Load BERT weights from the Hugging Face hub (needs internet), e.g. "klue/bert-base"."""
        return cls.from_hf(_hf_from_pretrained("BertModel", name))


class PredictionTransform(nn.Module):
    """The MLM head's first step: dense, exact GELU, LayerNorm (C -> C)."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.d_model, c.d_model)
        self.act = nn.GELU()
        self.LayerNorm = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.act(self.dense(h)))  # (B, T, C)


class MaskedWordPredictions(nn.Module):
    """The MLM head: transform, then scores over the vocabulary with the word embeddings."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.transform = PredictionTransform(c)
        # decoder.weight is tied to the word embeddings by BertForPreTraining; its bias is
        # `self.bias`, one vector under two names (HF's state dict lists both).
        self.decoder = nn.Linear(c.d_model, c.vocab_size)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))
        self.decoder.bias = self.bias

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(h))  # (B, T, C) @ (C, V) -> (B, T, V)


class SeqRelationship(nn.Linear):
    """The NSP head: Linear(C, 2) on the pooled [CLS] vector -> IsNext (0) / NotNext (1)."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__(c.d_model, 2)


class PreTrainingHeads(nn.Module):
    """`cls`: the two pretraining heads, as HF nests them."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.predictions = MaskedWordPredictions(c)
        self.seq_relationship = SeqRelationship(c)


class BertForPreTraining(_Saveable):
    """BERT with its two pretraining heads, MLM and NSP (HF's BertForPreTraining paths)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.bert = BertModel(config)
        self.config = config
        self.cls = PreTrainingHeads(config)
        self.cls.apply(_init_weights)
        nn.init.zeros_(self.cls.predictions.bias)
        # tied: the matrix that reads a token in is the one that scores it at the output
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None, mlm_labels: torch.Tensor | None = None,
                nsp_labels: torch.Tensor | None = None, return_attn: bool = False,
                return_hidden: bool = False) -> PreTrainingOutput:
        """input_ids (B, T) -> PreTrainingOutput(mlm_logits (B, T, V), nsp_logits (B, 2), ...).

        mlm_labels (B, T): the original id at masked positions, -100 elsewhere (not predicted).
        nsp_labels (B,): 0 = b follows a (IsNext), 1 = b is random (NotNext), as HF.
        loss = mlm_loss + nsp_loss, each computed only when its labels are given.
        """
        out = self.bert(input_ids, token_type_ids, attention_mask, return_attn, return_hidden)
        mlm_logits = self.cls.predictions(out.last_hidden_state)  # (B, T, V)
        nsp_logits = self.cls.seq_relationship(out.pooled)  # (B, 2)
        mlm_loss = nsp_loss = loss = None
        if mlm_labels is not None:
            _check_labels(mlm_labels, "mlm_labels", tuple(input_ids.shape), self.config.vocab_size,
                          ignore=True)
            mlm_loss = F.cross_entropy(mlm_logits.view(-1, mlm_logits.size(-1)),
                                       mlm_labels.view(-1), ignore_index=-100)
            loss = mlm_loss
        if nsp_labels is not None:
            _check_labels(nsp_labels, "nsp_labels", (input_ids.size(0),), 2)
            nsp_loss = F.cross_entropy(nsp_logits, nsp_labels)
            loss = nsp_loss if loss is None else loss + nsp_loss
        return PreTrainingOutput(mlm_logits, nsp_logits, loss, mlm_loss, nsp_loss,
                                 out.hidden_states, out.attentions)

    def pretraining_loss(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None,
                         attention_mask: torch.Tensor | None, mlm_labels: torch.Tensor,
                         nsp_labels: torch.Tensor) -> torch.Tensor:
        """forward(...).loss, computing the MLM head only where mlm_labels != -100.

        The same number as forward's loss, but the (B, T, V) logits of the 85% of positions
        that are not predicted are never computed: pretraining runs about twice as fast.
        """
        _check_labels(mlm_labels, "mlm_labels", tuple(input_ids.shape), self.config.vocab_size,
                      ignore=True)
        _check_labels(nsp_labels, "nsp_labels", (input_ids.size(0),), 2)
        chosen = mlm_labels != -100  # (B, T)
        if not bool(chosen.any()):  # the mean over no position would be nan
            raise ValueError("mlm_labels masks no position (every value is -100): the MLM loss "
                             "needs at least one predicted token (is every text in the batch empty?)")
        out = self.bert(input_ids, token_type_ids, attention_mask)
        mlm_logits = self.cls.predictions(out.last_hidden_state[chosen])  # (M, C) -> (M, V)
        mlm_loss = F.cross_entropy(mlm_logits, mlm_labels[chosen])
        return mlm_loss + F.cross_entropy(self.cls.seq_relationship(out.pooled), nsp_labels)

    @classmethod
    def from_hf(cls, model) -> BertForPreTraining:
        """A BertForPreTraining holding the weights of a transformers BertForPreTraining."""
        if not getattr(model.config, "tie_word_embeddings", True):
            raise ValueError("this BERT config is not supported by lmlib.bert: needs "
                             "tie_word_embeddings=True (the MLM decoder is the word embeddings)")
        return _copy_hf_weights(cls(_config_from_hf(model.config)), model)

    @classmethod
    def from_pretrained(cls, name: str) -> BertForPreTraining:
        """Load BERT with its pretraining heads from the Hugging Face hub (needs internet)."""
        return cls.from_hf(_hf_from_pretrained("BertForPreTraining", name))


class ElectraOutput(NamedTuple):
    """What ElectraForPreTraining.forward returns (per-token numbers only where meaningful)."""

    loss: torch.Tensor  # mlm_loss + rtd_weight * rtd_loss
    mlm_loss: torch.Tensor  # the generator's MLM loss on the masked positions
    rtd_loss: torch.Tensor  # the discriminator's mean binary cross-entropy over real tokens
    mlm_correct: torch.Tensor  # (M,) bool: the generator's top-1 equals the original token
    rtd_correct: torch.Tensor  # (N,) bool per real token: replaced-or-not predicted right
    replaced: torch.Tensor  # (B, T) bool: the token the discriminator saw is not the original


class ElectraForPreTraining(_Saveable):
    """Replaced-token detection (ELECTRA, Clark et al. 2020): BERT pretraining that learns
    from every token, not only the 15% masked, which suits a small compute budget.

        masked ids (B, T) -> generator: a BertModel of `generator_layers` layers sharing the
                             embeddings, and an MLM head tied to them -> a sample at each mask
        corrupted ids (B, T) = the original with the masked positions replaced by the samples
                          -> discriminator `bert` (the model fine-tuned later) -> dense, GELU,
                             Linear(C, 1) per token: was this token replaced?
        loss = MLM loss of the generator + rtd_weight * binary cross-entropy of the
               discriminator over every real token (the paper's weight is 50)

    A sample that happens to equal the original counts as original. No NSP. The samples are
    drawn without gradient (the generator learns only from its MLM loss). `bert` has the
    BertModel paths, so BertForSequenceClassification.from_pretraining takes this model.
    """

    def __init__(self, config: BertConfig, generator_layers: int = 1,
                 rtd_weight: float = 50.0) -> None:
        super().__init__()
        if not isinstance(config, BertConfig):
            raise TypeError(f"config must be a BertConfig, got {type(config).__name__}")
        if isinstance(generator_layers, bool) or not isinstance(generator_layers, int) \
                or not 1 <= generator_layers <= config.n_layers:
            raise ValueError(f"generator_layers must be an int in [1, n_layers={config.n_layers}], "
                             f"got {generator_layers!r}")
        self.rtd_weight = check_float(rtd_weight, "rtd_weight", low=0, low_open=True)
        self.config, self.generator_layers = config, generator_layers
        self.bert = BertModel(config)  # the discriminator
        self.generator = BertModel(dataclasses.replace(config, n_layers=generator_layers))
        self.generator.embeddings = self.bert.embeddings  # shared, as in the paper
        self.generator_head = MaskedWordPredictions(config)
        self.generator_head.apply(_init_weights)
        nn.init.zeros_(self.generator_head.bias)
        self.generator_head.decoder.weight = self.bert.embeddings.word_embeddings.weight
        self.discriminator_head = nn.Sequential(nn.Linear(config.d_model, config.d_model),
                                                nn.GELU(), nn.Linear(config.d_model, 1))
        self.discriminator_head.apply(_init_weights)

    def _meta(self) -> dict:
        return {**super()._meta(), "generator_layers": self.generator_layers,
                "rtd_weight": self.rtd_weight}

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None,
                attention_mask: torch.Tensor | None, mlm_labels: torch.Tensor,
                generator: torch.Generator | None = None) -> ElectraOutput:
        """input_ids: the masked input (lmlib.bert_data.pretraining_batch), mlm_labels (B, T)
        the original id at masked positions and -100 elsewhere; `generator` seeds the samples."""
        _check_labels(mlm_labels, "mlm_labels", tuple(input_ids.shape), self.config.vocab_size,
                      ignore=True)
        chosen = mlm_labels != -100  # (B, T)
        if not bool(chosen.any()):
            raise ValueError("mlm_labels masks no position: ELECTRA needs masked tokens to "
                             "replace (is every text in the batch empty?)")
        gen = self.generator(input_ids, token_type_ids, attention_mask).last_hidden_state
        gen_logits = self.generator_head(gen[chosen])  # (M, C) -> (M, V)
        mlm_loss = F.cross_entropy(gen_logits, mlm_labels[chosen])
        with torch.no_grad():
            probs = gen_logits.float().softmax(-1)  # (M, V)
            sampled = torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (M,)
        original = torch.where(chosen, mlm_labels, input_ids)  # (B, T)
        corrupted = original.clone()
        corrupted[chosen] = sampled
        replaced = corrupted != original  # (B, T)
        h = self.bert(corrupted, token_type_ids, attention_mask).last_hidden_state
        logits = self.discriminator_head(h).squeeze(-1)  # (B, T)
        real = torch.ones_like(chosen) if attention_mask is None else attention_mask.bool()
        rtd_loss = F.binary_cross_entropy_with_logits(logits[real], replaced[real].float())
        return ElectraOutput(mlm_loss + self.rtd_weight * rtd_loss, mlm_loss, rtd_loss,
                             gen_logits.argmax(-1) == mlm_labels[chosen],
                             (logits[real] > 0) == replaced[real], replaced)


def load_pretraining(path) -> BertForPreTraining | ElectraForPreTraining:
    """The pretrained model in the folder `path`, of whichever class config.json names
    (scripts/pretrain_bert.py writes a BertForPreTraining, or with --objective electra an
    ElectraForPreTraining)."""
    import json
    from pathlib import Path

    classes = {c.__name__: c for c in (BertForPreTraining, ElectraForPreTraining)}
    config = Path(path) / "config.json"
    try:
        name = json.loads(config.read_text(encoding="utf-8")).get("model")
    except (OSError, ValueError, AttributeError):
        name = None  # the class's own load gives the precise error
    return classes.get(name, BertForPreTraining).load(path)


class BertForSequenceClassification(_Saveable):
    """The fine-tuning adapter: BERT, dropout, Linear(C, n_labels) on the pooled [CLS] vector."""

    def __init__(self, config: BertConfig, n_labels: int = 2) -> None:
        super().__init__()
        if isinstance(n_labels, bool) or not isinstance(n_labels, int) or n_labels < 2:
            raise ValueError(f"n_labels must be an int >= 2, got {n_labels!r}")
        self.bert = BertModel(config)
        self.config, self.n_labels = config, n_labels
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.d_model, n_labels)
        _init_weights(self.classifier)

    def _meta(self) -> dict:
        return {**super()._meta(), "n_labels": self.n_labels}

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                return_attn: bool = False) -> ClassifierOutput:
        """input_ids (B, T) -> ClassifierOutput(logits (B, n_labels), loss, attentions).

        labels (B,): the class of each input; gives the mean cross-entropy loss.
        """
        out = self.bert(input_ids, token_type_ids, attention_mask, return_attn)
        logits = self.classifier(self.dropout(out.pooled))  # (B, C) @ (C, n_labels)
        loss = None
        if labels is not None:
            _check_labels(labels, "labels", (input_ids.size(0),), self.n_labels)
            loss = F.cross_entropy(logits, labels)
        return ClassifierOutput(logits, loss, out.attentions)

    @classmethod
    def from_pretraining(cls, model: BertForPreTraining | ElectraForPreTraining | BertModel,
                         n_labels: int = 2,
                         dropout: float | None = None) -> BertForSequenceClassification:
        """A new classifier whose `bert` is a copy of the pretrained one (the heads are dropped).

        dropout: the classifier's dropout rate (default: the pretrained config's). A model
        pretrained without dropout (Cramming's recipe) is usually fine-tuned with some.
        """
        base = model.bert if isinstance(model, (BertForPreTraining, ElectraForPreTraining)) \
            else model
        if not isinstance(base, BertModel):
            raise TypeError(f"model must be a BertForPreTraining, ElectraForPreTraining or "
                             f"BertModel, "
                             f"got {type(model).__name__}")
        config = base.config
        if dropout is not None:
            check_float(dropout, "dropout", low=0, high=1, high_open=True)
            config = dataclasses.replace(config, dropout=dropout)
        clf = cls(config, n_labels).to(next(base.parameters()).device)
        clf.bert.load_state_dict(base.state_dict())  # copies: fine-tuning leaves `model` as it was
        return clf

    def freeze_base(self, frozen: bool = True) -> BertForSequenceClassification:
        """Stop (or, frozen=False, restart) gradients into bert.*: only the classifier learns."""
        check_bool(frozen, "frozen")
        for p in self.bert.parameters():
            p.requires_grad_(not frozen)
        return self

    @classmethod
    def from_hf(cls, model) -> BertForSequenceClassification:
        """The classifier of a transformers BertForSequenceClassification."""
        ours = cls(_config_from_hf(model.config), n_labels=model.config.num_labels)
        return _copy_hf_weights(ours, model)

    @classmethod
    def from_pretrained(cls, name: str, n_labels: int = 2) -> BertForSequenceClassification:
        """Pretrained BERT from the hub (needs internet) with a new, random classifier."""
        return cls.from_hf(_hf_from_pretrained("BertForSequenceClassification", name,
                                               num_labels=n_labels))


def parameter_table(model: nn.Module) -> list[tuple[str, int]]:
    """(module path, parameters) for the embeddings, each layer, the pooler and the heads;
    a tied matrix is counted where it first appears, so the rows sum to num_parameters()."""
    if isinstance(model, BertModel):
        bert, prefix = model, ""
    elif isinstance(model, (BertForPreTraining, BertForSequenceClassification)):
        bert, prefix = model.bert, "bert."
    else:
        raise TypeError(f"model must be a BertModel, BertForPreTraining or "
                        f"BertForSequenceClassification, got {type(model).__name__}")
    parts = [(f"{prefix}embeddings", bert.embeddings)]
    parts += [(f"{prefix}encoder.layer.{i}", layer) for i, layer in enumerate(bert.encoder.layer)]
    parts.append((f"{prefix}pooler", bert.pooler))
    if isinstance(model, BertForPreTraining):  # the decoder matrix is the word embeddings
        parts += [("cls.predictions", model.cls.predictions),
                  ("cls.seq_relationship", model.cls.seq_relationship)]
    elif isinstance(model, BertForSequenceClassification):
        parts.append(("classifier", model.classifier))
    seen, rows = set(), []
    for name, module in parts:
        new = [p for p in module.parameters() if id(p) not in seen]
        seen.update(id(p) for p in new)
        rows.append((name, sum(p.numel() for p in new)))
    return rows


# -- Hugging Face BERT ------------------------------------------------------------------

def _config_from_hf(hf) -> BertConfig:
    """BertConfig from a transformers BertConfig; refuse variants this BERT does not compute."""
    got = {"model_type": getattr(hf, "model_type", "bert"),
           "hidden_act": getattr(hf, "hidden_act", "gelu"),
           "position_embedding_type": getattr(hf, "position_embedding_type", "absolute"),
           "is_decoder": getattr(hf, "is_decoder", False),
           "add_cross_attention": getattr(hf, "add_cross_attention", False)}
    want = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute",
            "is_decoder": False, "add_cross_attention": False}
    bad = [f"{k}={want[k]!r} (got {got[k]!r})" for k in want if got[k] != want[k]]
    if bad:
        raise ValueError(f"this BERT config is not supported by lmlib.bert: needs {bad}")
    # One dropout rate for everything: BERT uses 0.1 for both, and fine-tuning keeps it.
    return BertConfig(vocab_size=hf.vocab_size, max_len=hf.max_position_embeddings,
                      d_model=hf.hidden_size, n_heads=hf.num_attention_heads,
                      n_layers=hf.num_hidden_layers, d_ff=hf.intermediate_size,
                      dropout=float(hf.hidden_dropout_prob), type_vocab_size=hf.type_vocab_size,
                      layer_norm_eps=float(hf.layer_norm_eps), pad_id=hf.pad_token_id)


_HF_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")  # not weights


def _copy_hf_weights(ours: nn.Module, hf: nn.Module):
    """Load hf's state dict into ours key by key (strict), on hf's device."""
    sd = {k: v for k, v in hf.state_dict().items() if not k.endswith(_HF_BUFFERS)}
    mine = ours.state_dict()
    missing = [k for k in mine if k not in sd]
    if missing:
        raise ValueError(f"the Hugging Face model has no weights for {missing}")
    extra = [k for k in sd if k not in mine]
    if extra:
        raise ValueError(f"{type(ours).__name__} has no place for the Hugging Face weights {extra}")
    for k, v in sd.items():
        if v.shape != mine[k].shape:
            raise ValueError(f"{k}: Hugging Face shape {tuple(v.shape)} != {tuple(mine[k].shape)}")
    ours.load_state_dict(sd)
    return ours.to(next(hf.parameters()).device)


def _hf_from_pretrained(class_name: str, name: str, **kwargs):
    if not isinstance(name, str) or not name:
        error = ValueError if isinstance(name, str) else TypeError
        raise error(f"name must be a model name on the Hugging Face hub, got {name!r}")
    import transformers  # lazy: importing lmlib.bert needs no transformers

    try:
        return getattr(transformers, class_name).from_pretrained(name, **kwargs)
    except OSError as e:
        raise OSError(f"could not load {name!r} from the Hugging Face hub (this needs an "
                      f"internet connection): {e}") from e
