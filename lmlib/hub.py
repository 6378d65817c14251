"""Where the Colab-only cells get real pretrained models: the Hugging Face hub, or its local cache.

Chapters 6 and 8 load public Korean models (skt/kogpt2-base-v2, klue/bert-base) into
lmlib's own classes. Those cells run only where the model can be had:

- with ``HF_HUB_OFFLINE=1`` (CI's imitation of Colab, a classroom without internet),
  exactly when the repository is in the local hub cache;
- otherwise when the hub's host answers (Colab, a laptop online).

Nothing here downloads; ``transformers``' own ``from_pretrained`` does that afterwards.
"""

from __future__ import annotations

import os
import socket

HUB_HOST = "huggingface.co"
_TRUE = {"1", "true", "yes", "on"}


def offline() -> bool:
    """True when the hub is switched off by the environment (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    return any(os.environ.get(v, "").strip().lower() in _TRUE
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def cached(repo_id: str, filename: str = "config.json", cache_dir: str | os.PathLike | None = None) -> bool:
    """True when ``filename`` of the model repository ``repo_id`` is in the local hub cache
    (``cache_dir``, default: huggingface_hub's, i.e. HF_HUB_CACHE or HF_HOME/hub)."""
    _check_repo_id(repo_id)
    if not isinstance(filename, str) or not filename:  # TypeError for '' too, as the tests pin it
        raise TypeError(f"filename: expected a file name such as 'config.json', got {filename!r}")
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir: expected a folder path or None, got {type(cache_dir).__name__}")
    from huggingface_hub import try_to_load_from_cache  # imported here: lmlib stays light

    path = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir)
    return isinstance(path, str) and os.path.isfile(path)


def reachable(timeout: float = 3.0) -> bool:
    """True when a TCP connection to the hub's host opens within ``timeout`` seconds."""
    _check_timeout(timeout)
    try:
        socket.create_connection((HUB_HOST, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def available(repo_id: str, timeout: float = 3.0, cache_dir: str | os.PathLike | None = None) -> bool:
    """Can ``from_pretrained(repo_id)`` work here? Offline: only from the cache; online: if the hub answers."""
    _check_timeout(timeout)  # checked even where it is not used (offline), so a bad value never hides
    if cached(repo_id, cache_dir=cache_dir):
        return True
    return not offline() and reachable(timeout)


def _check_timeout(timeout) -> None:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0 \
            or timeout == float("inf"):
        raise ValueError(f"timeout: expected a finite number of seconds > 0, got {timeout!r}")


def _check_repo_id(repo_id) -> None:
    if not isinstance(repo_id, str):
        raise TypeError(f"repo_id: expected a str such as 'klue/bert-base', got {type(repo_id).__name__}")
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or any(c.isspace() for c in repo_id):
        raise ValueError(f"repo_id: expected 'owner/name' such as 'klue/bert-base', got {repo_id!r}")
