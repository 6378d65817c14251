"""lmlib.pretrain: token streams, batches, evaluation, the LR schedule, resumable checkpoints."""

import json
import math

import pytest
import torch

from lmlib.data import load_corpus
from lmlib.gpt import GPT, GPTConfig
from lmlib.pretrain import (evaluate, load_training_state, lr_at, random_batch,
                            save_training_state, token_stream, train_lm)
from lmlib.tokenizer import Tokenizer, train_tokenizer


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(load_corpus("ko_daily")[:800], "bpe", vocab_size=600)


@pytest.fixture(scope="module")
def streams(tok):
    sents = load_corpus("ko_daily")
    return token_stream(tok, sents[:800]), token_stream(tok, sents[800:900])


def model(tok, dropout=0.0):
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=tok.vocab_size, max_len=16, d_model=32, n_heads=2,
                         n_layers=2, dropout=dropout, eos_id=tok.eos_id))


def test_token_stream_ends_every_text_with_eos(tok):
    s = token_stream(tok, ["안녕하세요", "좋은 아침"])
    assert s.dtype == torch.long and s.dim() == 1
    assert s.tolist() == tok.encode("안녕하세요") + [tok.eos_id] + tok.encode("좋은 아침") + [tok.eos_id]
    with pytest.raises(TypeError, match="texts"):
        token_stream(tok, "안녕")


def test_random_batch_targets_are_inputs_shifted(streams):
    x, y = random_batch(streams[0], 5, 16, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 16)
    assert torch.equal(x[:, 1:], y[:, :-1])
    x2, _ = random_batch(streams[0], 5, 16, torch.Generator().manual_seed(0))
    assert torch.equal(x, x2)
    with pytest.raises(ValueError, match="fewer than block_size"):
        random_batch(torch.arange(10), 2, 16)


def test_evaluate_is_the_mean_loss_over_windows(tok, streams):
    m = model(tok).eval()
    val = streams[1]
    n = (val.numel() - 1) // 16
    x, y = val[:n * 16].view(n, 16), val[1:n * 16 + 1].view(n, 16)
    with torch.no_grad():
        want = m(x, y).loss.item()
    assert evaluate(m, val, 16, batch_size=7) == pytest.approx(want, rel=1e-5)
    assert abs(evaluate(m, val, 16) - math.log(tok.vocab_size)) < 1.0  # untrained: ~ uniform


def test_lr_schedule_warms_up_then_decays():
    lrs = [lr_at(s, 1.0, warmup=10, steps=110) for s in range(110)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lr_at(110, 1.0, 10, 110) == pytest.approx(0.1)


def test_training_lowers_the_validation_loss_and_saves_a_checkpoint(tok, streams, tmp_path):
    m = model(tok)
    before = evaluate(m, streams[1], 16)
    hist = train_lm(m, *streams, steps=60, batch_size=16, lr=3e-3, warmup=5, eval_every=30,
                    out_dir=tmp_path, tokenizer=tok, progress=False)
    assert len(hist["train_loss"]) == 60 and [s for s, _ in hist["val"]] == [30, 60]
    assert hist["val"][-1][1] < before - 1.0
    back = GPT.load(tmp_path)
    assert torch.equal(back.transformer.wte.weight, m.transformer.wte.weight)
    assert Tokenizer.load(tmp_path).encode("좋은 아침") == tok.encode("좋은 아침")
    assert json.loads((tmp_path / "trainer.json").read_text())["step"] == 60


def test_a_resumed_run_ends_exactly_where_an_uninterrupted_one_does(tok, streams, tmp_path):
    straight = model(tok, dropout=0.1)  # dropout: the RNG state must be restored too
    train_lm(straight, *streams, steps=8, batch_size=4, eval_every=4, progress=False, seed=3)
    first = model(tok, dropout=0.1)
    train_lm(first, *streams, steps=4, batch_size=4, eval_every=4, out_dir=tmp_path,
             progress=False, seed=3)
    # "interrupted" after step 4; a fresh process rebuilds the model and resumes to 8 steps
    resumed = model(tok, dropout=0.1)
    hist = train_lm(resumed, *streams, steps=8, batch_size=4, eval_every=4, out_dir=tmp_path,
                    resume=True, progress=False, seed=3)
    assert len(hist["train_loss"]) == 8
    for a, b in zip(straight.parameters(), resumed.parameters()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
    assert not torch.equal(first.transformer.wte.weight, resumed.transformer.wte.weight)


def test_training_state_roundtrip_has_no_pickle(tmp_path, tok):
    m = model(tok)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    m(torch.zeros(1, 4, dtype=torch.long), torch.zeros(1, 4, dtype=torch.long)).loss.backward()
    opt.step()
    state = torch.get_rng_state()
    save_training_state(tmp_path, opt, 1, state, {"train_loss": [1.0]})
    assert (tmp_path / "optimizer.safetensors").read_bytes()[:8] != b"\x80\x02\x8a\x0a"  # not pickle
    opt2 = torch.optim.AdamW(model(tok).parameters(), lr=5.0)
    step, rng, hist = load_training_state(tmp_path, opt2)
    assert step == 1 and hist == {"train_loss": [1.0]} and torch.equal(rng, state)
    assert opt2.param_groups[0]["lr"] == 1e-3
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert torch.equal(s1[0]["exp_avg"], s2[0]["exp_avg"])


def test_resume_needs_a_folder(tok, streams, tmp_path):
    with pytest.raises(ValueError, match="out_dir"):
        train_lm(model(tok), *streams, steps=2, resume=True, progress=False)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train_lm(model(tok), *streams, steps=2, out_dir=tmp_path, resume=True, progress=False)


@pytest.mark.parametrize("kwargs", [dict(batch_size=0), dict(batch_size=2.0), dict(max_batches=0)])
def test_evaluate_checks_batch_size_and_max_batches(kwargs):
    from lmlib.gpt import GPT, GPTConfig
    from lmlib.pretrain import evaluate

    model = GPT(GPTConfig(vocab_size=20, max_len=8, d_model=8, n_heads=2, n_layers=1))
    stream = torch.randint(0, 20, (100,))
    error = TypeError if kwargs == dict(batch_size=2.0) else ValueError  # wrong type / range
    with pytest.raises(error, match="batch_size|max_batches"):
        evaluate(model, stream, 8, **kwargs)


def test_steps_for_budget_times_the_step_and_leaves_model_and_rng_as_they_were(tok, streams):
    from lmlib.pretrain import steps_for_budget

    train_ids, _ = streams
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, max_len=16, d_model=16, n_heads=2,
                          n_layers=1, dropout=0.1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    calls = []

    def loss(step):
        calls.append(step)
        x, y = random_batch(train_ids, 4, 16, torch.Generator().manual_seed(step))
        return model(x, y).loss

    budget = steps_for_budget(model, loss, seconds=60.0, probe_steps=5, safety=0.5)
    assert calls == list(range(8))  # 3 untimed, then the 5 timed ones
    assert budget["steps"] == max(1, int(0.5 * 60.0 / budget["seconds_per_step"]))
    assert budget["seconds_per_step"] > 0 and budget["probe_steps"] == 5
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)


@pytest.mark.parametrize("kwargs, message", [
    ({"seconds": 0}, "seconds"), ({"probe_steps": 0}, "probe_steps"), ({"safety": 1.5}, "safety")])
def test_steps_for_budget_names_a_bad_argument(tok, kwargs, message):
    from lmlib.pretrain import steps_for_budget

    model = GPT(GPTConfig(vocab_size=tok.vocab_size, max_len=8, d_model=8, n_heads=2, n_layers=1))
    args = {"seconds": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        steps_for_budget(model, lambda s: model(torch.zeros(1, 4, dtype=torch.long)).logits.sum(),
                         **args)


def _masked_batch(step):
    """A batch that is a function of its step alone, as the pretraining scripts' are."""
    g = torch.Generator().manual_seed(step)
    return {"ids": torch.randint(0, 50, (4, 6), generator=g), "step": torch.tensor(step)}


def test_prefetched_batches_are_the_same_with_any_number_of_workers():
    from lmlib.pretrain import prefetched

    serial = list(prefetched(_masked_batch, 3, 11))
    assert [s for s, _ in serial] == list(range(3, 11))
    for workers in (1, 2):
        ahead = list(prefetched(_masked_batch, 3, 11, workers=workers))
        assert [s for s, _ in ahead] == list(range(3, 11))
        for (_, a), (_, b) in zip(serial, ahead):
            assert torch.equal(a["ids"], b["ids"]) and int(b["step"]) == int(a["step"])


def test_prefetched_names_a_bad_argument():
    from lmlib.pretrain import prefetched

    with pytest.raises(ValueError, match="stop"):
        prefetched(_masked_batch, 5, 2)
    with pytest.raises(ValueError, match="workers"):
        prefetched(_masked_batch, 0, 2, workers=-1)
    with pytest.raises(TypeError, match="make"):
        prefetched("batch", 0, 2)


def test_resuming_a_finished_run_needs_only_its_weights_and_history(tok, streams, tmp_path):
    done = model(tok)
    hist = train_lm(done, *streams, steps=4, batch_size=4, eval_every=2, out_dir=tmp_path,
                    progress=False)
    (tmp_path / "optimizer.safetensors").unlink()  # what a shipped checkpoint leaves out
    again = model(tok)
    assert train_lm(again, *streams, steps=4, batch_size=4, eval_every=2, out_dir=tmp_path,
                    resume=True, progress=False) == hist
    for a, b in zip(done.parameters(), again.parameters()):
        assert torch.equal(a, b)
