"""One small training loop for every model in the book (seq2seq, the chapter-4 classifiers,
the Transformer): gradient steps with clipping, a tqdm.auto bar showing the running loss,
and seeded randomness that leaves the caller's global RNG untouched.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


FLOAT_DTYPES = (torch.float32, torch.float64)


def check_float_dtype(dtype: object, name: str = "dtype") -> torch.dtype:
    """Return `dtype` if it is torch.float32 or torch.float64, else a clear error naming `name`.

    The book's tiny models train in float64: their results then do not depend on the CPU's
    SIMD kernels or the thread count (float32 rounding differs between them, and 300 steps
    of training grow that into different accuracies).
    """
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name}: expected torch.float32 or torch.float64, got {dtype!r}")
    return dtype


def reproducible_uniform_(tensor: torch.Tensor, bound: float,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill `tensor` in place from U(-bound, bound), with the same bits on every CPU.

    torch's own uniform_ computes low + u * (high - low) in SIMD kernels whose rounding
    (fused multiply-add or not) depends on the CPU, so the same seed gives initial weights
    that differ in the last bit on different machines, and training grows that into other
    results. torch.rand's float64 draws are exact everywhere; the separate, correctly
    rounded operations below keep them so.
    """
    if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
        raise TypeError(f"tensor: expected a floating-point torch.Tensor, got {type(tensor).__name__}")
    if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not 0 < bound < float("inf"):
        raise ValueError(f"bound: expected a finite number > 0, got {bound!r}")
    u = torch.rand(tensor.shape, dtype=torch.float64, generator=generator)  # [0, 1)
    with torch.no_grad():
        return tensor.copy_(u.mul(2.0).sub(1.0).mul(bound))


def reproducible_normal_(tensor: torch.Tensor, std: float,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill `tensor` in place from N(0, std^2) with the same bits on every CPU (drawn in
    float64, where torch's normal kernels agree across CPUs, then rounded once)."""
    if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
        raise TypeError(f"tensor: expected a floating-point torch.Tensor, got {type(tensor).__name__}")
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not 0 < std < float("inf"):
        raise ValueError(f"std: expected a finite number > 0, got {std!r}")
    z = torch.randn(tensor.shape, dtype=torch.float64, generator=generator)
    with torch.no_grad():
        return tensor.copy_(z.mul(std))


def fit(model: nn.Module, loss_fn: Callable[[int], torch.Tensor], steps: int,
        optimizer: torch.optim.Optimizer, clip: float = 1.0, scheduler=None,
        seed: int | None = None, progress: bool = True, desc: str = "training",
        start: int = 0, rng_state: torch.Tensor | None = None,
        callback: Callable[[int, float], None] | None = None) -> list[float]:
    """Run updates loss_fn(step) for step in [start, steps) with gradient-norm clipping.

    Returns every step's loss. With `seed`, randomness inside the model (dropout) is
    seeded in a forked RNG, so the caller's global random state is left as it was; a
    resumed run passes `start` and the `rng_state` saved at that step instead (then it
    continues exactly as if never interrupted). `callback(step, loss)` runs after each
    update, inside the forked RNG (torch.get_rng_state() there is the state to save).
    The model's train/eval mode is restored.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < steps:
        raise ValueError(f"start must be an int in [0, steps={steps}), got {start!r}")
    if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip > 0:
        raise ValueError(f"clip must be a number > 0, got {clip!r}")
    from tqdm.auto import tqdm  # imported here: importing the module needs no progress bar

    was_training, history = model.training, []
    model.train()
    with torch.random.fork_rng(devices=[]):
        if rng_state is not None:
            torch.set_rng_state(rng_state)
        elif seed is not None:
            torch.manual_seed(seed)
        bar = tqdm(range(start, steps), desc=desc, disable=not progress, initial=start,
                   total=steps)
        for step in bar:
            loss = loss_fn(step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            # Clipping keeps one exploding gradient (RNNs especially) from undoing the training so far.
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            history.append(loss.item())
            if step % 10 == 0 or step == steps - 1:
                bar.set_postfix(loss=f"{sum(history[-10:]) / len(history[-10:]):.3f}")
            if callback is not None:
                callback(step, history[-1])
    model.train(was_training)
    return history
