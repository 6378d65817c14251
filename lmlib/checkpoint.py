"""What the pretrained models share: config checks, and folders of config.json + safetensors.

A model saved here is a folder with config.json ({"model": class name, "config": the
dataclass's fields, plus any extra constructor arguments, and "sha256": the SHA-256 of every
other file save wrote}), model.safetensors (the weights; no pickle, a tied matrix stored
once) and, when save is given one, the tokenizer's files. load verifies every recorded
hash, so damaged weights or a tokenizer copied in from another model are refused, naming
the file. lmlib.gpt.GPT and the lmlib.bert models use it; lmlib.pretrain adds the
optimizer state for resuming.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from dataclasses import MISSING, asdict, fields
from pathlib import Path

from torch import nn

from .base import check_path, read_json
from .text import TokenizerBase, WordTokenizer
from .tokenizer import Tokenizer

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
TOKENIZER_FILES = Tokenizer.files + WordTokenizer.files  # what lmlib's tokenizers save


def check_config(config, sizes: tuple[str, ...]) -> None:
    """The checks every Transformer config needs: positive int sizes, d_model divisible by
    n_heads, dropout in [0, 1), layer_norm_eps > 0 (each error names the field)."""
    for name in sizes:
        v = getattr(config, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    if config.d_model % config.n_heads != 0:
        raise ValueError(f"d_model must be divisible by n_heads: got d_model={config.d_model}, "
                         f"n_heads={config.n_heads}")
    if isinstance(config.dropout, bool) or not isinstance(config.dropout, (int, float)) \
            or not 0.0 <= config.dropout < 1.0:
        raise ValueError(f"dropout must be a float in [0, 1), got {config.dropout!r}")
    if not isinstance(config.layer_norm_eps, float) or not config.layer_norm_eps > 0 \
            or not math.isfinite(config.layer_norm_eps):
        raise ValueError(f"layer_norm_eps must be a finite float > 0, got {config.layer_norm_eps!r}")


def check_token_id(config, name: str) -> None:
    """config.<name> must be None or a valid id of the vocabulary."""
    v = getattr(config, name)
    if v is not None and (isinstance(v, bool) or not isinstance(v, int)
                          or not 0 <= v < config.vocab_size):
        raise ValueError(f"{name} must be None or an int in [0, vocab_size={config.vocab_size}), "
                         f"got {v!r}")


class Saveable(nn.Module):
    """save/load and num_parameters for a model built as cls(config, **extra)."""

    config_class: type  # the config dataclass, set by each model class

    def num_parameters(self) -> int:
        """Trainable parameters, a tied matrix counted once."""
        return sum(p.numel() for p in self.parameters())

    def _meta(self) -> dict:
        """What config.json holds; subclasses add their extra constructor arguments."""
        return {"model": type(self).__name__, "config": asdict(self.config)}

    def save(self, path: str | Path, tokenizer=None) -> None:
        """Write model.safetensors (no pickle) and config.json into the folder `path`; with
        `tokenizer` (an lmlib tokenizer of the model's vocabulary), its files too. config.json
        records the SHA-256 of every file written, the tokenizer's fingerprint included."""
        from safetensors.torch import save_model

        path = check_path(path, "path")
        if tokenizer is not None:
            _check_saveable_tokenizer(tokenizer, self.config)
        path.mkdir(parents=True, exist_ok=True)
        save_model(self, str(path / WEIGHTS_FILE))  # a tied matrix is stored once
        written = [WEIGHTS_FILE]
        if tokenizer is not None:
            tokenizer.save(path)
            written += list(tokenizer.files)
        meta = self._meta() | {"sha256": {name: file_sha256(path / name) for name in written}}
        (path / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path, map_location: str = "cpu"):
        """The model saved by `save` in the folder `path`."""
        from safetensors.torch import load_model

        path = check_path(path, "path")
        _check_map_location(map_location)
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            if not (path / name).is_file():
                raise FileNotFoundError(f"{path / name} not found: `path` must be a folder "
                                        f"written by {cls.__name__}.save")
        meta = read_json(path / CONFIG_FILE, f"{cls.__name__}.save")
        if not isinstance(meta.get("config"), dict):
            raise ValueError(f"{path / 'config.json'} must hold {{\"model\": ..., \"config\": "
                             f"{{...}}}} as {cls.__name__}.save writes it")
        if meta.get("model") != cls.__name__:
            raise ValueError(f"{path / 'config.json'} describes a {meta.get('model')!r}, "
                             f"not a {cls.__name__}")
        known = {f.name for f in fields(cls.config_class)}
        unknown = sorted(set(meta["config"]) - known)
        if unknown:
            raise ValueError(f"{path / 'config.json'} has config keys {cls.config_class.__name__} "
                             f"does not know: {unknown} (known: {sorted(known)})")
        required = sorted(f.name for f in fields(cls.config_class)
                          if f.default is MISSING and f.default_factory is MISSING)
        missing = [k for k in required if k not in meta["config"]]
        if missing:
            raise ValueError(f"{path / 'config.json'} lacks the config keys {missing} that "
                             f"{cls.config_class.__name__} needs; the file is damaged or edited")
        _check_recorded_sha256(path, meta, cls.__name__)
        extra = {k: v for k, v in meta.items() if k not in ("model", "config", "sha256")}
        takes = set(inspect.signature(cls.__init__).parameters) - {"self", "config"}
        unknown = sorted(set(extra) - takes)
        if unknown:
            raise ValueError(f"{path / 'config.json'} has keys {cls.__name__} does not take: "
                             f"{unknown} (it takes: {sorted(takes)})")
        try:
            config = cls.config_class(**meta["config"])
            model = cls(config, **extra)
        except (TypeError, ValueError) as err:  # each names the field; add the file
            raise ValueError(f"{path / 'config.json'}: {err}") from None
        _check_tokenizer(path, config)
        try:
            load_model(model, str(path / WEIGHTS_FILE), device=map_location)
        except Exception as err:  # safetensors' own errors name no file
            raise ValueError(f"{path / 'model.safetensors'} could not be loaded into a "
                             f"{cls.__name__} of this config.json: {err}") from None
        return model


def file_sha256(file: str | Path) -> str:
    """SHA-256 (hex) of one file, as config.json records it for every file of a checkpoint."""
    file = check_path(file, "file")
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: file must be an existing file")
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_recorded_sha256(path: Path, meta: dict, cls_name: str) -> None:
    """Every file config.json records must be there with the recorded SHA-256, and a
    tokenizer in the folder must be one the model was saved with."""
    where = path / CONFIG_FILE
    if "weights_sha256" in meta:
        raise ValueError(f"{where} records weights_sha256, the format of an older lmlib; "
                         f"record the hashes again with: python scripts/record_sha256.py {path}")
    recorded = meta.get("sha256")
    if recorded is None:  # a folder written by hand: nothing to verify
        return
    if not isinstance(recorded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) == 64 for k, v in recorded.items()):
        raise ValueError(f"{where}: sha256 must map file names to the hex SHA-256 strs that "
                         f"{cls_name}.save writes, got {recorded!r}")
    for name, digest in recorded.items():
        if Path(name).name != name:
            raise ValueError(f"{where}: sha256 names {name!r}, not a file of the folder")
        if not (path / name).is_file():
            raise FileNotFoundError(f"{path / name} not found, though {where} records it: "
                                    f"copy the checkpoint folder again")
        if file_sha256(path / name) != digest:
            raise ValueError(f"{path / name} does not match the SHA-256 recorded in {where}: "
                             f"the file was damaged or edited, or comes from another model; "
                             f"copy the checkpoint folder again")
    strangers = [name for name in TOKENIZER_FILES if (path / name).is_file() and name not in recorded]
    if strangers:
        raise ValueError(f"{path / strangers[0]} was not saved with this model ({where} records "
                         f"no such file): the tokenizer may belong to another model; save them "
                         f"together with model.save(path, tokenizer=tok)")


def _check_map_location(map_location: object) -> None:
    import torch

    if not isinstance(map_location, (str, torch.device)):
        raise TypeError(f"map_location must be a device name such as 'cpu' or 'cuda:0', "
                        f"got {type(map_location).__name__}")
    try:
        torch.device(map_location)
    except RuntimeError as err:
        raise ValueError(f"map_location must be a device name such as 'cpu' or 'cuda:0', "
                         f"got {map_location!r} ({err})") from None


def _check_saveable_tokenizer(tokenizer, config) -> None:
    if not isinstance(tokenizer, TokenizerBase):
        raise TypeError(f"tokenizer must be an lmlib tokenizer (lmlib.tokenizer.Tokenizer or "
                        f"lmlib.text.WordTokenizer), got {type(tokenizer).__name__}")
    n = getattr(config, "vocab_size", None)
    if isinstance(n, int) and len(tokenizer) != n:
        raise ValueError(f"tokenizer has {len(tokenizer)} ids but the model's vocab_size is {n}: "
                         f"save a model with the tokenizer it was trained with")


def _check_tokenizer(path: Path, config) -> None:
    """A tokenizer.json saved beside the weights must fit the model: as many ids as its
    vocabulary (a tokenizer copied from another model would give wrong tokens silently)."""
    tok = path / "tokenizer.json"
    if not tok.is_file() or not isinstance(getattr(config, "vocab_size", None), int):
        return
    try:
        from tokenizers import Tokenizer as HFTokenizer

        n = HFTokenizer.from_file(str(tok)).get_vocab_size(with_added_tokens=True)
    except ImportError:
        return
    except Exception as err:  # tokenizers' own errors name no file
        raise ValueError(f"{tok} could not be read ({err}); the file is damaged: copy the "
                         f"checkpoint folder again") from None
    if n != config.vocab_size:
        raise ValueError(f"{tok} has {n} ids but the model's vocab_size is {config.vocab_size}: "
                         f"the tokenizer belongs to another model; save the model's own tokenizer "
                         f"in its folder")
