"""nbclient's NotebookClient with kernel-message waits that cannot stall on a missed wake-up.

Every tool here that executes a chapter (scripts/execute_notebooks.py, bench/notebooks.py,
scripts/colab_sim.py) builds its client with `notebook_client`.

Why: nbclient waits for a cell's execute_reply with one `shell_channel.get_msg(timeout=cell
timeout)`, an asyncio poll on ZeroMQ's edge-triggered socket. On this project's machines that
wait sometimes misses the reply that has already arrived: seen 2 times in 6 executions
of chapter 5 (2026-12-02), each time after its first widget cell (attention_explorer), with the
kernel idle and the reply waiting in the socket. The wait then lasts the whole cell timeout
(600 s) and ends with the reply found, so the chapter "took" 11 minutes (nbclient issue #312
describes the same stall after ipywidgets cells). Polling in short slices until the same
deadline finds such a message within a second; nothing else about execution changes (same
timeout, same outputs).
"""

from __future__ import annotations

import inspect
import queue
import time
from typing import Any

from nbclient import NotebookClient

SLICE_S = 1.0


def _sliced(original):
    """Wrap a channel's async get_msg(timeout=None) so that it polls in SLICE_S slices."""

    async def get_msg(*args: Any, timeout: float | None = None, **kwargs: Any):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = SLICE_S if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                msg = original(*args, timeout=min(SLICE_S, left), **kwargs)
                return await msg if inspect.isawaitable(msg) else msg  # async channels, or older sync ones
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg


class _PatientClient(NotebookClient):
    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        for channel in (kc.shell_channel, kc.iopub_channel):
            channel.get_msg = _sliced(channel.get_msg)
        return kc


def notebook_client(nb, **kwargs: Any) -> NotebookClient:
    """A NotebookClient for `nb` (same keyword arguments) whose message waits poll in slices."""
    return _PatientClient(nb, **kwargs)
