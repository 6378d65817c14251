"""Training past one process: DistributedDataParallel under torchrun, and a GPU when present.

Not a lecture idea but the engineering that lets the book's training scripts use more
hardware unchanged. `torchrun --nproc_per_node=N script.py ...` starts N copies of the
script and tells each its place (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT);
`setup()` reads them, joins the process group (gloo on CPU, NCCL on CUDA) and picks the
device (cuda:LOCAL_RANK when CUDA is available, else the CPU). Without torchrun it
returns the one-process Machine and changes nothing.

Data parallelism: every process holds the whole model and draws the whole global batch
(so the batches are the ones one process would draw), keeps its share of the rows
(`Machine.shard`), computes the loss on them, and DDP averages the gradients during
backward, so every process takes the same optimizer step. When each share's loss is a
mean over an equal number of rows (or is weighted so, see pretrain_bert.py's MLM loss),
the average of the shares' gradients is the gradient of the global batch's loss: N
processes take the step that one process takes on the whole batch, up to float rounding.
Dropout draws the same random numbers in every process (each starts from the same seed,
and a resumed run restores the main process's state into all), so a run with dropout
matches one process only in distribution; without dropout, step for step.
"""

from __future__ import annotations

import numbers
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from .base import check_callable, check_int, check_module


@dataclass(frozen=True)
class Machine:
    """Where this process trains: its rank among world_size processes, and its device."""

    rank: int = 0  # this process's place, 0 .. world_size - 1; 0 writes files and prints
    world_size: int = 1  # processes training together (torchrun's --nproc_per_node x nodes)
    local_rank: int = 0  # place on this node: the GPU it uses
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    backend: str | None = None  # "gloo" or "nccl" when world_size > 1

    def __post_init__(self):
        check_int(self.world_size, "world_size", low=1)
        check_int(self.rank, "rank", low=0)
        check_int(self.local_rank, "local_rank", low=0)
        if not isinstance(self.device, torch.device):
            raise TypeError(f"device must be a torch.device (e.g. torch.device('cpu')), got "
                            f"{type(self.device).__name__} {self.device!r}")
        if self.backend is not None and not isinstance(self.backend, str):
            raise TypeError(f"backend must be None or a str ('gloo', 'nccl'), got "
                            f"{type(self.backend).__name__} {self.backend!r}")
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank must be in [0, world_size={self.world_size}), got {self.rank}")

    @property
    def distributed(self) -> bool:
        """More than one process: gradients are averaged across them."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """The process that saves checkpoints, writes report.json and prints (rank 0)."""
        return self.rank == 0

    def shard(self, n: int) -> slice:
        """This process's rows of a global batch of n rows: equal, consecutive shares."""
        check_int(n, "n", low=1)
        if n % self.world_size:
            raise ValueError(f"n={n}: a global batch of {n} rows cannot be shared equally by "
                             f"{self.world_size} processes; use a multiple of {self.world_size}")
        k = n // self.world_size
        return slice(self.rank * k, (self.rank + 1) * k)

    def mean(self, value: float) -> float:
        """The mean of a number over all processes (itself for one process): for logging."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"value must be a number (a float), got {type(value).__name__} "
                            f"{value!r}"[:120])
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        return t.item() / self.world_size

    def data_parallel(self, model: nn.Module,
                      batch_loss: Callable[[int], torch.Tensor]) -> Callable[[int], torch.Tensor]:
        """batch_loss(step) run through DistributedDataParallel, so its backward averages the
        gradients of `model` across the processes. batch_loss itself is unchanged (it may call
        any method of model: DDP only needs its forward to be the one that makes the loss)."""
        check_module(model, "model")
        check_callable(batch_loss, "batch_loss", what="a function step -> loss tensor")
        if not self.distributed:
            return batch_loss
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        ddp = DistributedDataParallel(_StepLoss(model, batch_loss), device_ids=ids)
        return ddp

    def barrier(self) -> None:
        """Wait until every process gets here (no-op for one process)."""
        if self.distributed:
            torch.distributed.barrier()

    def describe(self) -> dict:
        """What report.json records: the device, its name, the processes and their backend."""
        if self.device.type == "cuda":
            name = torch.cuda.get_device_name(self.device)
        else:
            name = platform.processor() or platform.machine()
        return {"device": self.device.type, "device_name": name, "world_size": self.world_size,
                "backend": self.backend, "torch_threads": torch.get_num_threads(),
                "torch": torch.__version__}

    def summary(self) -> str:
        """One line for report.json's "machine" and the log."""
        d = self.describe()
        where = (f"{self.world_size} x {d['device_name']} ({self.backend})" if self.distributed
                 else d["device_name"] if self.device.type == "cuda" else "CPU")
        return (f"{platform.machine()}, {d['torch_threads']} torch threads, torch {d['torch']}, "
                f"{where}")


class _StepLoss(nn.Module):
    """A module whose forward(step) is one step's loss: what DistributedDataParallel wraps."""

    def __init__(self, model: nn.Module, batch_loss: Callable[[int], torch.Tensor]):
        super().__init__()
        self.model = model  # registered, so DDP syncs its parameters and buffers
        self.batch_loss = batch_loss

    def forward(self, step: int) -> torch.Tensor:
        return self.batch_loss(step)


def setup(device: str | None = None) -> Machine:
    """This process's Machine: from torchrun's environment (joining the process group), else
    one process. device: "cpu", "cuda", or None for cuda:LOCAL_RANK when CUDA is available."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device not in (None, "cpu", "cuda"):
        raise ValueError(f"device must be 'cpu', 'cuda' or None (automatic), got {device!r}")
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device='cuda' but torch sees no CUDA device")
        dev = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(dev)
    else:
        dev = torch.device("cpu")
    backend = None
    if world_size > 1:
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if not torch.distributed.is_initialized():
            torch.distributed.init_process_group(backend, rank=rank, world_size=world_size)
        backend = torch.distributed.get_backend()
    return Machine(rank=rank, world_size=world_size, local_rank=local_rank, device=dev,
                   backend=backend)


def teardown() -> None:
    """Leave the process group, if this process joined one (end of a script)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
