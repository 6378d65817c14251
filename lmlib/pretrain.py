"""Pretraining a language model on a token stream: batches, evaluation, resumable checkpoints.

Lecture L19: GPT's pretraining is nothing but next-token prediction on a lot of text.
Texts are encoded and joined into one long stream, each text followed by the end-of-text
id (as GPT-2 does with <|endoftext|>); a training batch is B random windows of T+1
tokens, the first T the input and the last T the targets. The loop is lmlib.training.fit.

Checkpoints are folders of safetensors and JSON, never pickle:
    config.json, model.safetensors       the model (GPT.save), loadable on its own
    tokenizer.json, lmlib_tokenizer.json the tokenizer it was trained with
    optimizer.safetensors, trainer.json  optimizer moments, step, RNG, losses: for --resume
A resumed run draws the same batches (each step's batch is seeded by seed and step) and
restores the optimizer and RNG state, so it ends with the same weights as an
uninterrupted one. With machine=lmlib.distributed.setup() the same loop runs on a GPU or on
several processes under torchrun (DDP), each training on its share of the global batch.

Shapes: B batch, T window (context) length, N stream length.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from .base import (as_str_list, check_bool, check_callable, check_float, check_generator, check_int,
                   check_module, check_path, eval_mode)
from .training import fit

if TYPE_CHECKING:
    from .distributed import Machine


def token_stream(tokenizer, texts: Sequence[str], progress: bool = False) -> torch.Tensor:
    """Encode texts and join them, each followed by tokenizer.eos_id -> (N,) LongTensor."""
    texts = as_str_list(texts, "texts")  # a bare str is refused: its characters would be the texts
    ids = tokenizer.encode_batch(texts, add_eos=True, progress=progress)
    return torch.tensor([t for seq in ids for t in seq], dtype=torch.long)  # (N,)


def _check_stream(stream: object, name: str, block_size: int) -> None:
    if not isinstance(stream, torch.Tensor):
        raise TypeError(f"{name} must be a 1-D LongTensor of token ids (see token_stream), got "
                        f"{type(stream).__name__}")
    if stream.dim() != 1 or stream.dtype != torch.long:
        raise ValueError(f"{name} must be a 1-D LongTensor of token ids (see token_stream), got "
                         f"shape {tuple(stream.shape)}, dtype {stream.dtype}")
    if stream.numel() < block_size + 1:
        raise ValueError(f"{name} has {stream.numel()} tokens, fewer than block_size + 1 = "
                         f"{block_size + 1}")


def random_batch(stream: torch.Tensor, batch_size: int, block_size: int,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """B random windows of the stream -> inputs x (B, T) and next-token targets y (B, T)."""
    check_int(batch_size, "batch_size", low=1)
    check_int(block_size, "block_size", low=1)
    check_generator(generator, "generator")
    _check_stream(stream, "stream", block_size)
    starts = torch.randint(0, stream.numel() - block_size, (batch_size,), generator=generator)
    rows = starts[:, None] + torch.arange(block_size + 1)  # (B, T+1) positions in the stream
    window = stream[rows]  # (B, T+1)
    return window[:, :-1], window[:, 1:]  # (B, T), (B, T)


@torch.no_grad()
def evaluate(model: nn.Module, stream: torch.Tensor, block_size: int, batch_size: int = 32,
             max_batches: int | None = None) -> float:
    """Mean next-token loss (nats) over consecutive, non-overlapping windows of the stream.

    Deterministic (no sampling): the same stream always gives the same number; exp() of it
    is the perplexity. max_batches limits the work to the first max_batches * batch_size
    windows.
    """
    check_module(model, "model")
    check_int(block_size, "block_size", low=1)
    _check_block_size(model, block_size)
    check_int(batch_size, "batch_size", low=1)
    check_int(max_batches, "max_batches", low=1, allow_none=True)
    _check_stream(stream, "stream", block_size)
    n = (stream.numel() - 1) // block_size  # whole windows only
    if max_batches is not None:
        n = min(n, max_batches * batch_size)
    x = stream[:n * block_size].view(n, block_size)  # (n, T)
    y = stream[1:n * block_size + 1].view(n, block_size)  # (n, T)
    device = next(model.parameters()).device
    total = 0.0
    with eval_mode(model):
        for i in range(0, n, batch_size):
            loss = model(x[i:i + batch_size].to(device), y[i:i + batch_size].to(device)).loss
            total += loss.item() * x[i:i + batch_size].numel()
    return total / (n * block_size)


def _check_block_size(model: nn.Module, block_size: int, name: str = "block_size") -> None:
    """block_size must fit the model's context (config.max_len), where the model has one."""
    max_len = getattr(getattr(model, "config", None), "max_len", None)
    if isinstance(max_len, int) and block_size > max_len:
        raise ValueError(f"{name}={block_size} exceeds the model's context config.max_len="
                         f"{max_len}; use a block_size <= {max_len}")


def lr_at(step: int, lr: float, warmup: int, steps: int, min_lr_ratio: float = 0.1) -> float:
    """Linear warmup for `warmup` steps, then cosine decay to lr * min_lr_ratio at `steps`."""
    check_int(step, "step", low=0)
    check_float(lr, "lr", low=0, low_open=True)
    check_int(steps, "steps", low=1)
    check_int(warmup, "warmup", low=0)  # warmup > steps is allowed: a short run that never peaks
    check_float(min_lr_ratio, "min_lr_ratio", low=0, high=1)
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def save_training_state(path: str | Path, optimizer: torch.optim.Optimizer, step: int,
                        rng_state: torch.Tensor, history: dict) -> None:
    """optimizer.safetensors (its tensors) + trainer.json (step, hyperparameters, losses)."""
    from safetensors.torch import save_file

    path = check_path(path, "path")
    _check_optimizer(optimizer)
    check_int(step, "step", low=0)
    if not isinstance(rng_state, torch.Tensor) or rng_state.dtype != torch.uint8:
        raise TypeError(f"rng_state must be a uint8 torch.Tensor (torch.get_rng_state()), got "
                        f"{type(rng_state).__name__}")
    if not isinstance(history, dict):
        raise TypeError(f"history must be a dict (of JSON values), got {type(history).__name__}")
    try:  # before writing anything: a half-written state would not load
        json.dumps(history)
    except (TypeError, ValueError) as err:
        raise TypeError(f"history must hold JSON values only (lists, numbers, str): {err}") from None
    path.mkdir(parents=True, exist_ok=True)
    sd = optimizer.state_dict()
    tensors = {"rng_state": rng_state.clone()}
    for i, state in sd["state"].items():
        for key, value in state.items():
            t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            tensors[f"state.{i}.{key}"] = t.detach().cpu().clone().contiguous()
    save_file(tensors, str(path / "optimizer.safetensors"))
    meta = {"step": step, "param_groups": sd["param_groups"], "history": history}
    (path / "trainer.json").write_text(json.dumps(meta, indent=1) + "\n")


def _check_optimizer(optimizer: object) -> None:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")


def load_training_state(path: str | Path, optimizer: torch.optim.Optimizer):
    """Restore what save_training_state wrote -> (step, rng_state, history)."""
    from safetensors.torch import load_file

    path = check_path(path, "path")
    _check_optimizer(optimizer)
    for file in ("trainer.json", "optimizer.safetensors"):
        if not (path / file).is_file():
            raise FileNotFoundError(f"no training state in {path}: {path / file} is missing "
                                    f"(save_training_state writes it)")
    meta = json.loads((path / "trainer.json").read_text())
    tensors = load_file(str(path / "optimizer.safetensors"))
    state: dict[int, dict] = {}
    for name, t in tensors.items():
        if name.startswith("state."):
            _, i, key = name.split(".", 2)
            state.setdefault(int(i), {})[key] = t
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta["step"], tensors["rng_state"], meta["history"]


def train_steps(model: nn.Module, batch_loss: Callable[[int], torch.Tensor], steps: int,
                lr: float = 3e-3, warmup: int = 100, weight_decay: float = 0.1,
                evaluate_fn: Callable[[], float | dict] | None = None, eval_every: int = 200,
                out_dir: str | Path | None = None, tokenizer=None, save_every: int | None = None,
                resume: bool = False, seed: int = 0, progress: bool = True,
                desc: str = "pretraining", machine: Machine | None = None) -> dict:
    """AdamW steps on batch_loss(step) (its batch must depend only on the step, for resuming).

    Warmup then cosine learning rate (lr_at, passed to fit as its schedule); evaluate_fn()
    every eval_every steps and at the end, in eval mode (the model's mode is restored after);
    with out_dir, saves the model (+ tokenizer) and the training state every save_every steps
    (default eval_every) and at the end; resume=True continues from out_dir's training state.
    Returns {"train_loss": [...], "val": [[step, value], ...]}.

    machine (lmlib.distributed.setup()): with several processes, batch_loss(step) is this
    process's share of the step's batch; its gradients are averaged across the processes
    (DDP), the logged loss is the mean over them, and only the main process saves and shows
    progress. Every process evaluates and returns the same history.
    """
    check_module(model, "model")
    check_callable(batch_loss, "batch_loss", what="a function step -> loss tensor")
    check_int(steps, "steps", low=1)
    check_float(lr, "lr", low=0, low_open=True)
    check_int(warmup, "warmup", low=0)  # 0: no warmup (finetune_bert's steps // 10 on a short run)
    check_float(weight_decay, "weight_decay", low=0)
    check_callable(evaluate_fn, "evaluate_fn", allow_none=True)
    check_int(eval_every, "eval_every", low=1)
    check_int(save_every, "save_every", low=1, allow_none=True)
    check_bool(resume, "resume")
    if out_dir is not None:
        out_dir = check_path(out_dir, "out_dir")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir, the folder to resume from")
    if machine is not None:
        model.to(machine.device)
        batch_loss = machine.data_parallel(model, batch_loss)
        progress = progress and machine.is_main
    # Weight decay on matrices only, not on biases and LayerNorm gains (as GPT-2/nanoGPT).
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))
    start, rng_state, history = 0, None, {"train_loss": [], "val": []}
    if resume:
        if not (Path(out_dir) / "trainer.json").is_file():
            raise FileNotFoundError(f"nothing to resume: {Path(out_dir) / 'trainer.json'} missing")
        from safetensors.torch import load_model

        load_model(model, str(Path(out_dir) / "model.safetensors"))
        meta = json.loads((Path(out_dir) / "trainer.json").read_text())
        if meta["step"] >= steps:  # finished: the weights are all a report needs
            return meta["history"]
        start, rng_state, history = load_training_state(out_dir, optimizer)
    save_every = save_every or eval_every

    def save(step: int) -> None:
        if out_dir is None or (machine is not None and not machine.is_main):
            return
        model.save(out_dir, tokenizer=tokenizer)
        save_training_state(out_dir, optimizer, step, torch.get_rng_state(), history)

    def schedule(step: int) -> float:  # fit sets it before each step's update
        return lr_at(step, lr, warmup, steps)

    def callback(step: int, loss: float) -> None:
        history["train_loss"].append(loss if machine is None else machine.mean(loss))
        done = step + 1
        if evaluate_fn is not None and (done % eval_every == 0 or done == steps):
            with eval_mode(model):
                history["val"].append([done, evaluate_fn()])
        if done % save_every == 0 or done == steps:
            save(done)

    fit(model, batch_loss, steps, optimizer, clip=1.0, schedule=schedule, seed=seed,
        progress=progress, desc=desc, start=start, rng_state=rng_state, callback=callback)
    return history


def step_generator(seed: int, step: int) -> torch.Generator:
    """The generator for one step's batch: the same (seed, step) always draws the same batch."""
    check_int(seed, "seed", low=0)
    check_int(step, "step", low=0)
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def train_lm(model: nn.Module, train_stream: torch.Tensor, val_stream: torch.Tensor, steps: int,
             batch_size: int = 32, block_size: int | None = None, eval_batches: int = 20,
             seed: int = 0, machine: Machine | None = None, **kwargs) -> dict:
    """Train a next-token model (GPT) on random windows of train_stream (see train_steps).

    The validation value is `evaluate` on val_stream (mean loss, eval_batches batches).
    batch_size is the global batch: with a machine of N processes, each draws the same
    batch_size windows and trains on its batch_size / N of them.
    Other keyword arguments (lr, warmup, eval_every, out_dir, resume, ...) go to train_steps.
    """
    check_module(model, "model")
    check_int(batch_size, "batch_size", low=1)
    check_int(block_size, "block_size", low=1, allow_none=True)
    check_int(eval_batches, "eval_batches", low=1, allow_none=True)
    check_int(seed, "seed", low=0)
    block_size = block_size or model.config.max_len
    _check_block_size(model, block_size)
    _check_stream(train_stream, "train_stream", block_size)
    _check_stream(val_stream, "val_stream", block_size)

    def batch_loss(step: int) -> torch.Tensor:
        x, y = random_batch(train_stream, batch_size, block_size, step_generator(seed, step))
        if machine is not None:  # this process's rows, on its device
            rows = machine.shard(batch_size)
            x, y = x[rows].to(machine.device), y[rows].to(machine.device)
        return model(x, y).loss

    def evaluate_fn() -> float:
        return evaluate(model, val_stream, block_size, batch_size, eval_batches)

    if machine is not None:
        machine.shard(batch_size)  # a clear error now, not at the first step
    return train_steps(model, batch_loss, steps, evaluate_fn=evaluate_fn, seed=seed,
                       machine=machine, **kwargs)


def steps_for_budget(model: nn.Module, batch_loss: Callable[[int], torch.Tensor],
                     seconds: float, probe_steps: int = 20, safety: float = 0.85,
                     device: torch.device | str | None = None) -> dict:
    """How many training steps fit in `seconds` here: a schedule tied to the budget (Cramming).

    Geiping & Goldstein (2022) fix the compute budget, not the step count, and let the
    learning-rate schedule end exactly when the budget does. This times probe_steps AdamW
    updates of batch_loss(step) (after 3 untimed ones, which warm up kernels and caches) and
    returns {"seconds", "probe_steps", "seconds_per_step", "steps"} with
    steps = floor(safety * seconds / seconds_per_step) (at least 1; safety leaves room for
    evaluations and checkpoints). The model's weights and the global random state are put
    back afterwards, so the run that follows is exactly the one `--steps <steps>` makes: the
    report records the steps, and that command reproduces the run on any machine.
    batch_loss may build its batch inside; that time counts, as it does in training.
    """
    import copy
    import time

    check_module(model, "model")
    check_callable(batch_loss, "batch_loss", what="a function step -> loss tensor")
    check_float(seconds, "seconds", low=0, low_open=True)
    check_int(probe_steps, "probe_steps", low=1)
    check_float(safety, "safety", low=0, low_open=True, high=1)
    if device is not None:
        model.to(device)
    device = next(model.parameters()).device
    weights = copy.deepcopy(model.state_dict())
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)

    def update(step: int) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = batch_loss(step)
        loss.item()  # as fit does: waits for the device
        loss.backward()
        optimizer.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    was_training = model.training
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        model.train()
        for step in range(3):
            update(step)
        sync()
        t = time.perf_counter()
        for step in range(3, 3 + probe_steps):
            update(step)
        sync()
        per_step = (time.perf_counter() - t) / probe_steps
    model.load_state_dict(weights)
    model.train(was_training)
    return {"seconds": seconds, "probe_steps": probe_steps, "seconds_per_step": per_step,
            "steps": max(1, int(safety * seconds / per_step))}


class _StepBatches(torch.utils.data.Dataset):
    """Item i is (start + i, make(start + i)): the batches of steps [start, stop)."""

    def __init__(self, make: Callable[[int], object], start: int, stop: int) -> None:
        self.make, self.start, self.stop = make, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i: int):
        return self.start + i, self.make(self.start + i)


def prefetched(make: Callable[[int], object], start: int, stop: int, workers: int = 0):
    """(step, make(step)) for step in [start, stop), in order, built ahead by `workers` processes.

    make(step) must depend on its step alone (as every batch here does: step_generator), so
    the batches are the same with any number of workers; workers=0 builds each one in this
    process when it is asked for. With workers, torch's DataLoader forks them (they must not
    touch CUDA: make builds CPU tensors) and keeps 4 batches per worker ready, so a GPU step
    need not wait for the Python that masks and pads the next batch.
    """
    check_callable(make, "make", what="a function step -> batch")
    check_int(start, "start", low=0)
    check_int(stop, "stop", low=start)
    check_int(workers, "workers", low=0)
    if workers == 0:
        return ((step, make(step)) for step in range(start, stop))
    import multiprocessing

    context = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return iter(torch.utils.data.DataLoader(
        _StepBatches(make, start, stop), batch_size=None, shuffle=False, num_workers=workers,
        prefetch_factor=4, multiprocessing_context=context, persistent_workers=False))
