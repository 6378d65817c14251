"""Self-attention vs CNN vs RNN, measured: recall the token d positions back.

Lecture L17 (셀프 어텐션 vs CNN vs RNN): to relate two words d positions apart, a CNN
needs enough layers for its receptive field (수용 영역) to span d (each layer of kernel
k adds k-1); an RNN must carry the earlier word through d steps in one fixed-size
state, where it fades as newer words arrive; one self-attention layer reads any
position directly, in one step, whatever d is.

The task (distance_task_batch): seq_len-1 random value tokens, then a question token
"?d" that asks "which value stood d positions before me?". The label is that value,
x[L-1-d], so the answer depends on two tokens d apart: the question and its target.
Every model answers at the question, the last position: the CNN from its last output
(it sees the last receptive_field tokens), the GRU from its last state, the attention
model from the question's output. The question comes last, so the GRU cannot know
which value it will need: it has to keep them all, and the older ones fade.
(If the target were marked when it appears, the GRU would store just that one and its
update gate would skip everything else: on such a task it stays near 100% at every d.)

Ids: values 0..n_values-1; question "?d" = n_values + d - 1 for d = 1..seq_len-1, so
vocab_size = n_values + seq_len - 1 (task_vocab_size). Chance is 1 / n_values.

Shape legend: B batch, L sequence length (T = S = L in attention), C model width
(d_model), nh heads, K classes (n_classes = n_values).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .attention import MultiHeadAttention
from .base import check_callable, check_float, check_int, check_module, eval_mode
from .training import check_float_dtype, fit, init_reproducibly

LabelledBatch = tuple[torch.Tensor, torch.Tensor]  # x (B, L) token ids, y (B,) labels


def task_vocab_size(seq_len: int, n_values: int) -> int:
    """Number of ids the task uses: n_values values plus one question per distance 1..seq_len-1."""
    check_int(seq_len, "seq_len", low=2)
    check_int(n_values, "n_values", low=2)
    return n_values + seq_len - 1


def distance_task_batch(batch_size: int, seq_len: int, distance: int | Sequence[int],
                        n_values: int = 4, generator: torch.Generator | None = None) -> LabelledBatch:
    """x (B, L): random values, then the question "?d" last; y (B,) = x[:, L-1-d].

    `distance` is one int, or a list of ints from which each sample draws its own
    uniformly (training mixes distances, evaluation takes one at a time).
    """
    check_int(batch_size, "batch_size", low=1)
    check_int(seq_len, "seq_len", low=2)
    check_int(n_values, "n_values", low=2)
    dists = [distance] if isinstance(distance, int) and not isinstance(distance, bool) else distance
    if isinstance(dists, (str, bytes)) or not isinstance(dists, Sequence) or not dists:
        raise ValueError(f"distance must be an int or a non-empty list of ints, got {distance!r}")
    for d in dists:
        if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= seq_len - 1:
            raise ValueError(f"distance must be in 1..seq_len-1 = 1..{seq_len - 1} (the target "
                             f"must lie before the question), got {d!r}")
    pick = torch.randint(len(dists), (batch_size,), generator=generator)  # (B,)
    d = torch.tensor(dists, dtype=torch.long)[pick]  # (B,)
    x = torch.randint(n_values, (batch_size, seq_len), generator=generator)  # (B, L)
    x[:, -1] = n_values + d - 1  # the question "?d" replaces the last value
    y = x[torch.arange(batch_size), seq_len - 1 - d]  # (B,): the value d positions back
    return x, y


@dataclass
class ClassifierConfig:
    """One config for the three classifiers, so that they share a width and a vocabulary."""

    vocab_size: int = 35  # task_vocab_size(seq_len=32, n_values=4)
    d_model: int = 32  # embedding size and hidden width of every model
    n_classes: int = 4  # = n_values: the answer is a value
    max_len: int = 32  # longest sequence (the attention model's position embeddings)
    n_layers: int = 2  # CNN depth
    kernel_size: int = 3  # CNN kernel
    n_heads: int = 2  # attention heads
    d_ff: int = 32  # attention model's feed-forward width

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_classes", "max_len", "n_layers",
                     "kernel_size", "n_heads", "d_ff"):
            check_int(getattr(self, name), name, low=2 if name == "n_classes" else 1)
        if self.d_model % self.n_heads != 0:
            raise ValueError(f"d_model must be divisible by n_heads: got d_model={self.d_model}, "
                             f"n_heads={self.n_heads}")


def _check_config(config: object, cls: type) -> ClassifierConfig:
    if not isinstance(config, ClassifierConfig):
        raise TypeError(f"config must be a ClassifierConfig, got {type(config).__name__}; build one "
                        f"with ClassifierConfig(**...) for {cls.__name__}")
    return config


def _check_input(x: object, config: ClassifierConfig) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a (B, L) tensor of token ids with L >= 1, got {type(x).__name__}")
    if x.dim() != 2 or x.is_floating_point() or x.shape[1] < 1:
        raise ValueError(f"x must be a (B, L) tensor of token ids with L >= 1, got shape "
                         f"{tuple(x.shape)}, dtype {x.dtype}")
    if x.numel() and not 0 <= int(x.min()) <= int(x.max()) < config.vocab_size:
        raise ValueError(f"x must hold ids in 0..vocab_size-1 = 0..{config.vocab_size - 1}, "
                         f"got ids {int(x.min())}..{int(x.max())}")


class CNNClassifier(nn.Module):
    """n_layers causal Conv1d (kernel k) + ReLU; answers from the last position's output."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config, C = _check_config(config, type(self)), config.d_model
        self.embedding = nn.Embedding(config.vocab_size, C)
        self.convs = nn.ModuleList(nn.Conv1d(C, C, config.kernel_size)
                                   for _ in range(config.n_layers))
        self.head = nn.Linear(C, config.n_classes)
        init_reproducibly(self)  # torch's default init, drawn with the same bits on every CPU

    @property
    def receptive_field(self) -> int:
        """Tokens the last output sees, 1 + n_layers * (kernel_size - 1): it can answer d < this."""
        return 1 + self.config.n_layers * (self.config.kernel_size - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, L) -> logits (B, K)."""
        _check_input(x, self.config)
        h = self.embedding(x).transpose(1, 2)  # (B, L, C) -> (B, C, L): Conv1d wants channels first
        for conv in self.convs:
            # Pad k-1 zeros on the left only: output t sees inputs t-k+1..t, never the future.
            h = F.relu(conv(F.pad(h, (self.config.kernel_size - 1, 0))))  # (B, C, L)
        return self.head(h[:, :, -1])  # the last position: (B, C) -> (B, K)


class GRUClassifier(nn.Module):
    """A left-to-right GRU; answers from its last state, the only summary of the whole past."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config, C = _check_config(config, type(self)), config.d_model
        self.embedding = nn.Embedding(config.vocab_size, C)
        self.gru = nn.GRU(C, C, batch_first=True)
        self.head = nn.Linear(C, config.n_classes)
        init_reproducibly(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, L) -> logits (B, K)."""
        _check_input(x, self.config)
        _, h_last = self.gru(self.embedding(x))  # h_last (1, B, C): the state after the last token
        return self.head(h_last[0])  # (B, C) -> (B, K)


class SelfAttentionClassifier(nn.Module):
    """One encoder layer (self-attention + feed-forward, post-LN) on token + position embeddings."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config, C = _check_config(config, type(self)), config.d_model
        self.embedding = nn.Embedding(config.vocab_size, C)
        # Learned positions: attention by itself is blind to order, and "d back" is a position.
        self.position = nn.Embedding(config.max_len, C)
        self.attn = MultiHeadAttention(C, config.n_heads)
        self.ln1 = nn.LayerNorm(C)
        self.ff = nn.Sequential(nn.Linear(C, config.d_ff), nn.ReLU(), nn.Linear(config.d_ff, C))
        self.ln2 = nn.LayerNorm(C)
        self.head = nn.Linear(C, config.n_classes)
        init_reproducibly(self)

    def forward(self, x: torch.Tensor, return_attn: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """x (B, L) -> logits (B, K); with return_attn also the weights (B, nh, L, L).

        Only the last row of the weights, the question's, is used (and trained): it
        shows where the question looked.
        """
        _check_input(x, self.config)
        L = x.shape[1]
        if L > self.config.max_len:
            raise ValueError(f"x has length L={L} > max_len={self.config.max_len}; "
                             f"build the model with a larger max_len")
        h = self.embedding(x) + self.position(torch.arange(L, device=x.device))  # (B, L, C)
        a, attn = self.attn(h, return_attn=return_attn)  # (B, L, C), (B, nh, L, L) or None
        h = self.ln1(h + a)  # (B, L, C)
        h = self.ln2(h + self.ff(h))  # (B, L, C)
        logits = self.head(h[:, -1])  # the question's position: (B, C) -> (B, K)
        return (logits, attn) if return_attn else logits


def train_classifier(model: nn.Module, batch_fn: Callable[[int], LabelledBatch], steps: int,
                     lr: float = 5e-3, seed: int | None = None,
                     progress: bool = True) -> list[float]:
    """Adam on the cross-entropy for `steps` steps; batch_fn(step) -> (x, y); returns every loss.

    With `seed`, any randomness inside the model is seeded in a forked RNG, so the
    caller's global random state is left as it was.
    """
    check_module(model, "model")
    check_callable(batch_fn, "batch_fn", what="a function step -> (x, y)")
    check_int(steps, "steps", low=1)
    check_float(lr, "lr", low=0, low_open=True)  # finite too: lr=inf makes every weight nan
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def loss_fn(step: int) -> torch.Tensor:
        x, y = batch_fn(step)
        return F.cross_entropy(model(x), y)

    return fit(model, loss_fn, steps, optimizer, clip=1.0, seed=seed, progress=progress,
               desc=f"training {type(model).__name__}")


@torch.no_grad()
def accuracy_by_distance(model: nn.Module, distances: Sequence[int], n_per_distance: int = 500,
                         seq_len: int = 32, n_values: int = 4,
                         seed: int = 1234) -> dict[int, float]:
    """Accuracy on n_per_distance fresh samples per distance (the same samples for every model)."""
    check_module(model, "model")
    check_int(n_per_distance, "n_per_distance", low=1)
    check_int(seq_len, "seq_len", low=2)
    if isinstance(distances, (str, bytes)) or not isinstance(distances, Sequence):
        raise TypeError(f"distances must be a non-empty list of ints, got {distances!r}")
    if not distances:
        raise ValueError(f"distances must be a non-empty list of ints, got {distances!r}")
    for i, d in enumerate(distances):
        check_int(d, f"distances[{i}]", low=1)
        if d > seq_len - 1:
            raise ValueError(f"distances[{i}] must be in 1..seq_len-1 = 1..{seq_len - 1} (the "
                             f"target must lie before the question), got {d}")
    result = {}
    with eval_mode(model):
        for d in distances:  # distance_task_batch checks each d
            g = torch.Generator().manual_seed(seed + int(d))  # the samples depend on (seed, d) only
            x, y = distance_task_batch(n_per_distance, seq_len, d, n_values, g)
            result[int(d)] = (model(x).argmax(dim=-1) == y).float().mean().item()
    return result


MODELS = {"cnn": CNNClassifier, "gru": GRUClassifier, "attention": SelfAttentionClassifier}


def distance_experiment(seed: int = 0, steps: int = 800, batch_size: int = 64, lr: float = 5e-3,
                        seq_len: int = 32, max_distance: int = 24, n_values: int = 4,
                        d_model: int = 32, n_eval: int = 500, progress: bool = False,
                        dtype: torch.dtype = torch.float64) -> dict:
    """Train a CNN, a GRU and one self-attention layer with the same budget; accuracy per distance.

    All three start from torch.manual_seed(seed) and see the same batches (distances
    uniform in 1..max_distance). They train in `dtype` (float64 by default, so that every CPU
    kernel and thread count gives the same table; see seq2seq.bottleneck_experiment). Returns a dict with
      "distances": [1..max_distance]; "cnn", "gru", "attention": accuracy per distance;
      "chance": 1 / n_values; "receptive_field": the CNN's;
      "seconds": the three trainings, "seconds_by_model": {name: seconds};
      "params": {name: count}; "losses": {name: loss per step};
      "models": {name: trained model, in eval mode}. For a heatmap of where the
      question looks: _, attn = models["attention"](x, return_attn=True); attn[:, :, -1].
    """
    check_int(seq_len, "seq_len", low=2)
    check_int(max_distance, "max_distance", low=1)
    check_int(n_eval, "n_eval", low=1)
    if max_distance > seq_len - 1:
        raise ValueError(f"max_distance must be <= seq_len-1 = {seq_len - 1}, got {max_distance}")
    config = ClassifierConfig(vocab_size=task_vocab_size(seq_len, n_values), d_model=d_model,
                              n_classes=n_values, max_len=seq_len)
    distances = list(range(1, max_distance + 1))
    results: dict = {"distances": distances, "chance": 1 / n_values, "params": {}, "losses": {},
                     "models": {}, "seconds_by_model": {}}
    for name, cls in MODELS.items():
        with torch.random.fork_rng(devices=[]):  # seeded init, global RNG left untouched
            torch.manual_seed(seed)
            model = cls(config).to(check_float_dtype(dtype))
        g = torch.Generator().manual_seed(seed)  # the same batches for all three models
        start = time.perf_counter()
        results["losses"][name] = train_classifier(
            model, lambda step: distance_task_batch(batch_size, seq_len, distances, n_values, g),
            steps, lr=lr, seed=seed, progress=progress)
        results["seconds_by_model"][name] = time.perf_counter() - start
        results["models"][name] = model.eval()
        results["params"][name] = sum(p.numel() for p in model.parameters())
    results["seconds"] = sum(results["seconds_by_model"].values())
    results["receptive_field"] = results["models"]["cnn"].receptive_field
    for name, model in results["models"].items():
        acc = accuracy_by_distance(model, distances, n_eval, seq_len, n_values, seed=seed + 1000)
        results[name] = [acc[d] for d in distances]
    return results
