"""scripts/nbexec.py: the notebook client's message waits poll in slices (no stall on a missed wake-up)."""

import asyncio
import queue
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import nbexec  # noqa: E402


def run(coro):
    """asyncio.run in a thread of its own: an earlier test (nbclient, jupyter_core) may leave an
    event loop running in this one, where asyncio.run refuses to start."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Channel:
    """A message that is only seen by a poll that starts after `ready_at` (as after a missed edge)."""

    def __init__(self, ready_at):
        self.ready_at, self.timeouts = ready_at, []

    async def get_msg(self, timeout=None):
        self.timeouts.append(timeout)
        if time.monotonic() >= self.ready_at:
            return {"msg": "reply"}
        await asyncio.sleep(timeout)  # the missed wake-up: sleeps the whole timeout
        raise queue.Empty


def test_a_reply_missed_by_one_poll_is_found_by_the_next_slice(monkeypatch):
    monkeypatch.setattr(nbexec, "SLICE_S", 0.05)
    ch = Channel(ready_at=time.monotonic() + 0.12)
    t0 = time.monotonic()
    got = run(nbexec._sliced(ch.get_msg)(timeout=600))
    assert got == {"msg": "reply"} and time.monotonic() - t0 < 1
    assert all(t <= 0.05 for t in ch.timeouts) and len(ch.timeouts) >= 3


def test_the_deadline_still_holds(monkeypatch):
    monkeypatch.setattr(nbexec, "SLICE_S", 0.05)
    ch = Channel(ready_at=float("inf"))
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        run(nbexec._sliced(ch.get_msg)(timeout=0.2))
    assert 0.2 <= time.monotonic() - t0 < 1


def test_no_timeout_waits_in_slices(monkeypatch):
    monkeypatch.setattr(nbexec, "SLICE_S", 0.05)
    ch = Channel(ready_at=time.monotonic() + 0.1)
    assert run(nbexec._sliced(ch.get_msg)(timeout=None)) == {"msg": "reply"}
    assert set(ch.timeouts) == {0.05}
