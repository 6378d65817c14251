"""lmlib.checkpoint: a damaged or edited checkpoint folder is refused, with the file named."""

import json

import pytest
import torch

from lmlib.gpt import GPT, GPTConfig


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=30, max_len=8, d_model=8, n_heads=2, n_layers=1))
    model.save(tmp_path)
    return tmp_path


def test_round_trip_and_the_recorded_sha256(saved):
    meta = json.loads((saved / "config.json").read_text())
    assert list(meta["sha256"]) == ["model.safetensors"] and len(meta["sha256"]["model.safetensors"]) == 64
    model = GPT.load(saved)
    assert model.config.vocab_size == 30


@pytest.fixture
def saved_with_tokenizer(tmp_path):
    from lmlib.tokenizer import train_tokenizer

    tok = train_tokenizer(["발 없는 말이 천 리 간다", "낮말은 새가 듣고 밤말은 쥐가 듣는다"] * 3,
                          kind="bpe", vocab_size=300)
    torch.manual_seed(0)
    GPT(GPTConfig(vocab_size=len(tok), max_len=8, d_model=8, n_heads=2, n_layers=1)).save(
        tmp_path, tokenizer=tok)
    return tmp_path


def test_the_tokenizer_is_fingerprinted_with_the_model(saved_with_tokenizer):
    folder = saved_with_tokenizer
    meta = json.loads((folder / "config.json").read_text())
    assert sorted(meta["sha256"]) == ["lmlib_tokenizer.json", "model.safetensors", "tokenizer.json"]
    GPT.load(folder)
    # Another vocabulary of the same size (one piece renamed) is refused, naming the file.
    path = folder / "tokenizer.json"
    text = path.read_text(encoding="utf-8")
    assert '"<0x41>"' in text
    path.write_text(text.replace('"<0x41>"', '"<0x41x>"', 1), encoding="utf-8")
    with pytest.raises(ValueError, match="tokenizer.json does not match the SHA-256"):
        GPT.load(folder)


def test_a_tokenizer_added_to_a_folder_saved_without_one_is_refused(saved):
    from lmlib.tokenizer import train_tokenizer

    # The size fits the model (30 ids), so only the missing fingerprint can tell.
    tok = train_tokenizer(["가나다라마바사아자차카타파하"] * 2, kind="wordpiece", vocab_size=30,
                          min_frequency=1)
    assert len(tok) == 30
    tok.save(saved)
    with pytest.raises(ValueError, match="tokenizer.json was not saved with this model"):
        GPT.load(saved)


def test_an_older_config_format_says_how_to_update_it(saved):
    meta = json.loads((saved / "config.json").read_text())
    meta["weights_sha256"] = meta.pop("sha256")["model.safetensors"]
    (saved / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="record_sha256.py"):
        GPT.load(saved)


def test_one_flipped_byte_in_the_weights_is_refused(saved):
    path = saved / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # inside the last tensor's data: loads fine, gives other numbers
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match the SHA-256"):
        GPT.load(saved)


def test_a_typo_key_in_the_config_is_refused(saved):
    meta = json.loads((saved / "config.json").read_text())
    meta["config"]["n_layer"] = meta["config"].pop("n_layers")
    (saved / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"config keys GPTConfig does not know: \['n_layer'\]"):
        GPT.load(saved)


def test_truncated_files_name_themselves(saved):
    text = (saved / "config.json").read_text()
    (saved / "config.json").write_text(text[:len(text) // 2])
    with pytest.raises(ValueError, match="config.json is not valid JSON"):
        GPT.load(saved)


def test_truncated_weights_without_a_recorded_hash_name_the_file(saved):
    meta = json.loads((saved / "config.json").read_text())
    del meta["sha256"]  # as in a folder written by hand, without hashes
    (saved / "config.json").write_text(json.dumps(meta))
    path = saved / "model.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="model.safetensors could not be loaded"):
        GPT.load(saved)


def test_every_shipped_checkpoint_records_the_sha256_of_its_weights_and_tokenizer():
    from lmlib.checkpoint import file_sha256
    from lmlib.data import available_checkpoints, checkpoint_dir

    for name in available_checkpoints():
        folder = checkpoint_dir(name)
        meta = json.loads((folder / "config.json").read_text())
        assert sorted(meta["sha256"]) == ["lmlib_tokenizer.json", "model.safetensors", "tokenizer.json"], name
        assert all(file_sha256(folder / f) == h for f, h in meta["sha256"].items()), name
