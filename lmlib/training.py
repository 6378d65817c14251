"""One small training loop for every model in the book (seq2seq, the chapter-4 classifiers,
the Transformer, GPT and BERT through lmlib.pretrain): gradient steps with clipping, the
learning rate from a schedule (the one place a training changes it), a tqdm.auto bar
showing the running loss, and seeded randomness that leaves the caller's global RNG
untouched.

Also what makes the chapters' tiny trainings give the same numbers on every CPU: training
is chaotic, so a last-bit difference anywhere (initial weights, a matrix product) grows over a
few hundred steps into a different table. Three things remove every such difference on x86
CPUs, Intel or AMD: float64 (``check_float_dtype``), initial weights drawn bit-identically
(``init_reproducibly``: torch's own init kernels round differently per SIMD kernel), and one
thread with MKL's matrix products pinned to its vendor-neutral COMPATIBLE code path
(``reproducible_cpu``).
"""

from __future__ import annotations

import ctypes
import math
import numbers
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from .base import check_callable, check_module, train_mode


FLOAT_DTYPES = (torch.float32, torch.float64)


def check_float_dtype(dtype: object, name: str = "dtype") -> torch.dtype:
    """Return `dtype` if it is torch.float32 or torch.float64, else a clear error naming `name`.

    The book's tiny models train in float64: float32 rounding differs between CPU kernels and
    thread counts, and a few hundred steps of training grow that into different accuracies
    (with reproducible_cpu and init_reproducibly, float64 results agree bit for bit).
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


def init_reproducibly(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Re-draw every parameter of `module` from torch's default distributions, bit-identically
    on every CPU: Linear/Conv weights and biases U(+-1/sqrt(fan_in)), GRU/LSTM/RNN weights
    U(+-1/sqrt(hidden)), Embedding N(0, 1) with the padding row zeroed, LayerNorm 1 and 0.

    Draws come from torch's global RNG (or `generator`), module by module in definition order.
    A module of any other kind with parameters of its own is an error (it would keep weights
    drawn by the CPU-dependent kernels).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    for m in module.modules():
        own = list(m.parameters(recurse=False))
        if not own:
            continue
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            bound = 1 / math.sqrt(m.weight[0].numel())  # = kaiming_uniform_(a=sqrt(5)), torch's default
            for p in own:
                reproducible_uniform_(p, bound, generator)
        elif isinstance(m, nn.RNNBase):
            for p in own:
                reproducible_uniform_(p, 1 / math.sqrt(m.hidden_size), generator)
        elif isinstance(m, nn.Embedding):
            reproducible_normal_(m.weight, 1.0, generator)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        else:
            raise TypeError(f"module: init_reproducibly does not know how to draw the parameters of "
                            f"{type(m).__name__}")
    return module


# MKL's "conditional numerical reproducibility" (CNR): the same code path, hence the same bits,
# on every CPU that runs it. Constants from mkl_cbwr.h. COMPATIBLE is the one branch MKL runs on
# every x86 CPU, Intel's and AMD's alike; the ISA branches (AVX2 = 10, ...) are refused on
# non-Intel CPUs with -3, and there MKL's own choice of kernel differs from Intel's.
_MKL_CBWR_COMPATIBLE = 3
_MKL_CBWR_ERRORS = {-1: "invalid settings", -2: "invalid input",
                    -3: "this CPU does not run MKL's COMPATIBLE branch",
                    -8: "MKL already ran a matrix product in this process"}


def _cpu_vendor() -> str:
    """The x86 vendor string (GenuineIntel, AuthenticAMD, ...) from /proc/cpuinfo, or ""."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def reproducible_cpu(threads: int = 1) -> str:
    """Make this process's CPU arithmetic for tiny models reproducible; returns what it did.

    Sets torch to `threads` threads (1 for the book's tiny models: on an idle 2-core machine
    1.2-1.3x slower than 2 threads, but 2.4-3.6x faster when another program keeps one
    core busy; `python -m bench --only tiny_threads`) and pins MKL's matrix products to its
    COMPATIBLE code path, the one MKL promises gives the same bits on every x86 CPU: an
    AVX-512 Xeon, an AMD EPYC and a laptop compute the same products, so a chapter's training
    gives the same table everywhere. (Intel's AVX2 branch, pinned before, is refused on AMD
    CPUs, where MKL's own kernels gave chapter 5 other numbers.) The price: large float64
    products run about 2-3x slower than MKL's fastest kernels; the book's models are small
    enough that a chapter takes a few seconds more. Call it before the first matrix product
    of the process (first thing in a chapter); later, MKL cannot switch, and a warning says
    to restart. On a torch built without MKL (ARM, Apple), results may differ slightly from
    the book's, and a warning says so.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads: expected an int >= 1, got {threads!r}")
    torch.set_num_threads(threads)
    os.environ["MKL_CBWR"] = "COMPATIBLE"  # read by MKL at its first call, if it has not run yet
    status = _mkl_cbwr_set(_MKL_CBWR_COMPATIBLE)
    if status == 0:
        return f"{threads} thread(s), MKL COMPATIBLE code path"
    why = _MKL_CBWR_ERRORS.get(status, f"code {status}") if isinstance(status, int) else status
    warnings.warn(f"reproducible_cpu: could not pin MKL's code path ({why}); this CPU's results may "
                  "differ slightly from the book's. In a notebook, restart the kernel and run the "
                  "chapter from the top.", RuntimeWarning, stacklevel=2)
    return f"{threads} thread(s), MKL not pinned ({why})"


def _mkl_cbwr_set(branch: int) -> int | str:
    """mkl_cbwr_set from the MKL that torch links statically: 0 on success, MKL's error code,
    or a str saying why it could not be called."""
    if not torch.backends.mkl.is_available():
        return "torch was built without MKL"
    lib = Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"
    try:
        fn = ctypes.CDLL(str(lib)).mkl_serv_cbwr_set
    except (OSError, AttributeError):
        return f"no mkl_serv_cbwr_set in {lib.name}"
    fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_int]
    return int(fn(branch))


def fit(model: nn.Module, loss_fn: Callable[[int], torch.Tensor], steps: int,
        optimizer: torch.optim.Optimizer, clip: float = 1.0,
        schedule: Callable[[int], float] | None = None,
        seed: int | None = None, progress: bool = True, desc: str = "training",
        start: int = 0, rng_state: torch.Tensor | None = None,
        callback: Callable[[int, float], None] | None = None) -> list[float]:
    """Run updates loss_fn(step) for step in [start, steps) with gradient-norm clipping.

    Returns every step's loss. `schedule(step)` is the learning rate of step `step` itself
    (not a multiplier): fit sets it on every param group of the optimizer before
    loss_fn(step) and that step's update, so the optimizer steps with exactly schedule(step)
    (None keeps the optimizer's own lr). This is the one place the book's trainings change
    a learning rate; a value that is not a finite number >= 0 stops training with an error
    naming the step. A non-finite loss stops it too (FloatingPointError naming the step),
    before that update.

    With `seed`, randomness inside the model (dropout) is seeded in a forked RNG, so the
    caller's global random state is left as it was; a resumed run passes `start` and the
    `rng_state` saved at that step instead (then it continues exactly as if never
    interrupted: schedule depends on the step alone). `callback(step, loss)` runs after each
    update, inside the forked RNG (torch.get_rng_state() there is the state to save).
    The model trains in training mode; its (and its parts') previous mode is restored after,
    also when an error stops training.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < steps:
        raise ValueError(f"start must be an int in [0, steps={steps}), got {start!r}")
    if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip > 0:
        raise ValueError(f"clip must be a number > 0, got {clip!r}")
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule must be None or a function step -> learning rate, got "
                        f"{type(schedule).__name__}")
    check_module(model, "model")
    check_callable(loss_fn, "loss_fn", what="a function step -> loss tensor")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    check_callable(callback, "callback", allow_none=True, what="a function (step, loss) -> None")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"seed must be an int or None, got {seed!r}")
    if rng_state is not None and not isinstance(rng_state, torch.Tensor):
        raise TypeError(f"rng_state must be None or a torch.Tensor (torch.get_rng_state()), got "
                        f"{type(rng_state).__name__}")
    from tqdm.auto import tqdm  # imported here: importing the module needs no progress bar

    history: list[float] = []
    with train_mode(model), torch.random.fork_rng(devices=[]):
        if rng_state is not None:
            torch.set_rng_state(rng_state)
        elif seed is not None:
            torch.manual_seed(seed)
        bar = tqdm(range(start, steps), desc=desc, disable=not progress, initial=start,
                   total=steps)
        for step in bar:
            if schedule is not None:
                lr = scheduled_lr(schedule, step)
                for group in optimizer.param_groups:
                    group["lr"] = lr
            loss = loss_fn(step)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                got = (f"a tensor of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor)
                       else f"{type(loss).__name__} {loss!r}"[:80])
                raise TypeError(f"loss_fn({step}) returned {got} at step {step}; expected a scalar "
                                f"loss tensor (one that backward() can run on)")
            value = loss.item()
            if not math.isfinite(value):  # one NaN update would make every weight NaN
                raise FloatingPointError(
                    f"loss_fn({step}) returned {value} at step {step}; stopped before that "
                    f"update, so the weights are still those after step {step - 1} (a batch "
                    f"with nothing to predict, or a learning rate that is too high?)")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            # Clipping keeps one exploding gradient (RNNs especially) from undoing the training so far.
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            history.append(value)
            if step % 10 == 0 or step == steps - 1:
                bar.set_postfix(loss=f"{sum(history[-10:]) / len(history[-10:]):.3f}")
            if callback is not None:
                callback(step, history[-1])
    return history


def scheduled_lr(schedule: Callable[[int], float], step: int) -> float:
    """schedule(step), checked: a finite number >= 0, else an error naming the step."""
    lr = schedule(step)
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"schedule({step}) returned {type(lr).__name__} {lr!r} at step {step}; "
                        f"expected a learning rate, a number >= 0")
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"schedule({step}) returned {lr!r} at step {step}; expected a finite "
                         f"learning rate >= 0 (stopped before that step's update)")
    return float(lr)
