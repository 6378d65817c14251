"""Record in config.json the SHA-256 of a checkpoint's weights and tokenizer files, as
lmlib.checkpoint.Saveable.save(path, tokenizer=tok) writes them, for folders saved by an
older lmlib (which recorded only "weights_sha256") or saved without their tokenizer.
Weights and tokenizer are not touched; lmlib then refuses any file that does not match.

    .venv/bin/python scripts/record_sha256.py lmlib/checkpoints/bert_nsmc ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", type=Path)
    args = p.parse_args(argv)
    from lmlib.checkpoint import CONFIG_FILE, WEIGHTS_FILE, file_sha256
    from lmlib.tokenizer import Tokenizer

    for folder in args.folders:
        meta = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        old = meta.pop("weights_sha256", None)
        if old is not None and old != file_sha256(folder / WEIGHTS_FILE):
            raise SystemExit(f"{folder / WEIGHTS_FILE} does not match the weights_sha256 its "
                             f"config.json recorded: the weights changed; not recording them")
        names = [WEIGHTS_FILE] + [n for n in Tokenizer.files if (folder / n).is_file()]
        meta["sha256"] = {n: file_sha256(folder / n) for n in names}
        (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        print(f"{folder}: {meta['sha256']}")


if __name__ == "__main__":
    main()
