"""Record in config.json the SHA-256 of model.safetensors, for checkpoints saved before
lmlib.checkpoint.Saveable.save wrote it (lmlib then refuses weights that do not match).

    .venv/bin/python scripts/record_weights_sha256.py lmlib/checkpoints/bert_nsmc ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", type=Path)
    args = p.parse_args(argv)
    from lmlib.checkpoint import weights_sha256

    for folder in args.folders:
        meta = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        meta["weights_sha256"] = weights_sha256(folder)
        (folder / "config.json").write_text(json.dumps(meta, indent=2) + "\n")
        print(f"{folder}: {meta['weights_sha256']}")


if __name__ == "__main__":
    main()
