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
    assert len(meta["weights_sha256"]) == 64
    model = GPT.load(saved)
    assert model.config.vocab_size == 30


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
    del meta["weights_sha256"]  # as in a checkpoint saved before the hash was recorded
    (saved / "config.json").write_text(json.dumps(meta))
    path = saved / "model.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="model.safetensors could not be loaded"):
        GPT.load(saved)


def test_every_shipped_checkpoint_records_its_weights_sha256():
    from lmlib.data import available_checkpoints, checkpoint_dir

    for name in available_checkpoints():
        meta = json.loads((checkpoint_dir(name) / "config.json").read_text())
        assert "weights_sha256" in meta, name
