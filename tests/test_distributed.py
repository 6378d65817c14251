"""lmlib.distributed: 2 CPU processes (torchrun, gloo) train as one process with the same
global batch does. Run as a script, this file is the worker that torchrun starts."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lmlib.distributed import Machine, setup

ROOT = Path(__file__).resolve().parents[1]
STEPS, BATCH = 6, 4  # BATCH: the global batch, 2 rows per process with 2 processes


def tiny_gpt():
    from lmlib.gpt import GPT, GPTConfig

    torch.manual_seed(0)
    # float64, as the book's tiny models: Adam turns a last-bit difference in a gradient that
    # is nearly 0 into a visible step, so float32 weights agree only to about 1e-4
    return GPT(GPTConfig(vocab_size=40, max_len=8, d_model=16, n_heads=2, n_layers=1,
                         eos_id=0)).double()


def streams():
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, 40, (600,), generator=g), torch.randint(0, 40, (100,), generator=g)


def train(machine, steps=STEPS, **kwargs):
    """The tiny GPT trained by train_lm; history["rows"]: each training step's inputs'
    first column, the rows this process computed the loss on."""
    from lmlib.pretrain import train_lm

    model = tiny_gpt()
    rows = []
    model.register_forward_pre_hook(
        lambda m, args: rows.append(args[0][:, 0].tolist()) if m.training else None)
    history = train_lm(model, *streams(), steps=steps, batch_size=BATCH, lr=1e-2, warmup=2,
                       eval_every=3, eval_batches=2, progress=False, seed=5, machine=machine,
                       **kwargs)
    return model, dict(history, rows=rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(nproc: int, *args: str, script: Path = Path(__file__)) -> subprocess.CompletedProcess:
    """`torchrun --nproc_per_node=nproc script args` on CPU, one thread per process."""
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}", str(script), *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def worker(out: Path) -> None:
    """What each torchrun process runs: a fresh run into out/fresh, and a resumed run from
    out/resume (a 3-step checkpoint the test wrote with one process)."""
    torch.set_num_threads(1)
    machine = setup()
    model, history = train(machine, out_dir=out / "fresh")
    _, resumed = train(machine, out_dir=out / "resume", resume=True)
    params = torch.cat([p.detach().flatten() for p in model.parameters()])
    (out / f"rank{machine.rank}.json").write_text(json.dumps({
        "history": history, "resumed": resumed, "params": params.tolist(),
        "machine": machine.describe(), "summary": machine.summary()}))


def test_the_one_process_machine_shares_nothing():
    m = setup(device="cpu")
    assert (m.rank, m.world_size, m.backend, m.device.type) == (0, 1, None, "cpu")
    assert m.shard(5) == slice(0, 5) and m.mean(2.5) == 2.5 and m.is_main
    fn = lambda step: torch.tensor(1.0)  # noqa: E731
    assert m.data_parallel(torch.nn.Linear(1, 1), fn) is fn


def test_shards_are_equal_consecutive_and_cover_the_batch():
    shards = [Machine(rank=r, world_size=3).shard(6) for r in range(3)]
    assert shards == [slice(0, 2), slice(2, 4), slice(4, 6)]
    with pytest.raises(ValueError, match="multiple of 3"):
        Machine(rank=0, world_size=3).shard(4)
    with pytest.raises(ValueError, match="rank"):
        Machine(rank=2, world_size=2)


def test_a_one_process_machine_trains_bit_for_bit_as_no_machine():
    _, without = train(None)
    _, with_machine = train(setup(device="cpu"))
    assert without == with_machine and len(without["rows"][0]) == BATCH


def test_two_processes_train_as_one_process_with_the_same_global_batch(tmp_path):
    from lmlib.gpt import GPT

    one, history = train(None)
    train(None, steps=3, out_dir=tmp_path / "resume")  # a checkpoint written by one process
    torchrun(2, str(tmp_path))
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    # each process computed the loss on its half of the global batch, rank 0 the first half
    assert [a + b for a, b in zip(ranks[0]["history"]["rows"], ranks[1]["history"]["rows"])] \
        == history["rows"]
    assert all(len(r) == BATCH // 2 for r in ranks[0]["history"]["rows"])
    for r in ranks:
        assert len(r["history"]["train_loss"]) == STEPS
        # the loss every step (the mean over the 2 shares) is the one-process loss
        torch.testing.assert_close(torch.tensor(r["history"]["train_loss"]),
                                   torch.tensor(history["train_loss"]), atol=1e-5, rtol=0)
        torch.testing.assert_close(torch.tensor([v for _, v in r["history"]["val"]]),
                                   torch.tensor([v for _, v in history["val"]]), atol=1e-5, rtol=0)
        # and a one-process checkpoint resumed by 2 processes ends where one process does
        torch.testing.assert_close(torch.tensor(r["resumed"]["train_loss"]),
                                   torch.tensor(history["train_loss"]), atol=1e-5, rtol=0)
        assert r["machine"]["world_size"] == 2 and r["machine"]["backend"] == "gloo"
        assert r["machine"]["device"] == "cpu" and "2 x" in r["summary"]
    assert ranks[0]["params"] == ranks[1]["params"]  # DDP: every process took the same steps
    want = torch.cat([p.detach().flatten() for p in one.parameters()])
    got = torch.tensor(ranks[0]["params"], dtype=torch.float64)
    torch.testing.assert_close(got, want, atol=1e-10, rtol=0)
    start = torch.cat([p.detach().flatten() for p in tiny_gpt().parameters()])
    assert (got - start).abs().max() > 1e-2  # the steps moved the weights far past the tolerance
    saved = GPT.load(tmp_path / "fresh")  # the checkpoint rank 0 wrote
    torch.testing.assert_close(saved.transformer.wte.weight,
                               one.transformer.wte.weight.float(), atol=1e-6, rtol=0)
    assert json.loads((tmp_path / "fresh" / "trainer.json").read_text())["step"] == STEPS


def one_and_two_processes(name: str, argv: list[str], tmp_path: Path) -> tuple[dict, dict]:
    """scripts/<name>.py in this process (--device cpu) and under torchrun on 2 processes ->
    (the two reports); checks the machines they record and that their losses agree (1e-5)."""
    from test_scripts import load_script

    one = load_script(name).main(argv + ["--out", str(tmp_path / "one"), "--device", "cpu"])
    torchrun(2, *argv, "--out", str(tmp_path / "two"), script=ROOT / "scripts" / f"{name}.py")
    two = json.loads((tmp_path / "two" / "report.json").read_text())
    assert two["devices"]["world_size"] == 2 and two["devices"]["backend"] == "gloo"
    assert one["devices"]["world_size"] == 1
    torch.testing.assert_close(torch.tensor(two["history"]["train_loss"]),
                               torch.tensor(one["history"]["train_loss"]), atol=1e-5, rtol=0)
    return one, two


def test_pretrain_bert_on_two_processes_matches_one_process(tmp_path):
    """The script unchanged under torchrun: the shares' MLM losses are weighted by their
    masked positions, so the mean is the one-process loss (no dropout: its draws differ)."""
    from test_scripts import write_nsmc

    write_nsmc(tmp_path / "nsmc", 120, 60)
    argv = ["--data-dir", str(tmp_path / "nsmc"), "--corpus", "nsmc-train", "--vocab-size",
            "200", "--d-model", "16",
            "--n-layers", "1", "--n-heads", "2", "--max-len", "16", "--steps", "4",
            "--batch-size", "4", "--warmup", "1", "--eval-every", "2", "--eval-pairs", "20",
            "--dropout", "0", "--threads", "1"]
    one, two = one_and_two_processes("pretrain_bert", argv, tmp_path)
    assert two["args"]["batch_size"] == 4
    for key, value in one["held_out"].items():
        assert two["held_out"][key] == pytest.approx(value, abs=1e-5)
    assert one["history"]["train_loss"][0] != one["history"]["train_loss"][-1]


def test_pretrain_gpt_on_two_processes_matches_one_process(tmp_path):
    """pretrain_gpt.py unchanged under torchrun: rank 0 trains the tokenizer the others load,
    each process takes half of every batch, and rank 0 alone writes the report."""
    from test_scripts import write_nsmc

    write_nsmc(tmp_path / "nsmc", 200, 80)
    argv = ["--data-dir", str(tmp_path / "nsmc"), "--corpus", "nsmc-train", "--vocab-size",
            "300", "--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--max-len", "32",
            "--steps", "4", "--batch-size", "4", "--warmup", "1", "--eval-every", "2",
            "--val-reviews", "40", "--threads", "1"]
    one, two = one_and_two_processes("pretrain_gpt", argv, tmp_path)
    assert two["test"]["gpt"]["perplexity"] == pytest.approx(one["test"]["gpt"]["perplexity"],
                                                             rel=1e-5)
    assert two["test"]["2-gram"] == one["test"]["2-gram"]  # the same tokenizer, the same n-grams


def test_finetune_bert_on_two_processes_matches_one_process(tmp_path):
    """finetune_bert.py unchanged under torchrun: every variant's losses and accuracy equal
    one process's with the same global batch (no dropout, in the base or the classifier: its
    draws differ between processes)."""
    from test_scripts import BAD, GOOD, load_script, write_nsmc

    from lmlib.bert import BertConfig, BertForPreTraining
    from lmlib.tokenizer import train_tokenizer

    tok = train_tokenizer([f"영화 {a} {b}" for a in GOOD + BAD for b in GOOD + BAD],
                          kind="wordpiece", vocab_size=120, min_frequency=1)
    torch.manual_seed(0)
    BertForPreTraining(BertConfig(vocab_size=tok.vocab_size, max_len=16, d_model=16, n_heads=2,
                                  n_layers=1, dropout=0.0, pad_id=tok.pad_id)).save(tmp_path / "bert",
                                                                                 tokenizer=tok)
    write_nsmc(tmp_path / "nsmc", 120, 40)
    argv = ["--data-dir", str(tmp_path / "nsmc"), "--pretrained", str(tmp_path / "bert"),
            "--epochs", "1", "--batch-size", "16", "--max-len", "16", "--val-reviews", "20",
            "--sizes", "--curve-test", "20", "--threads", "1", "--dropout", "0"]
    one = load_script("finetune_bert").main(argv + ["--out", str(tmp_path / "one"),
                                                    "--device", "cpu"])
    torchrun(2, *argv, "--out", str(tmp_path / "two"),
             script=ROOT / "scripts" / "finetune_bert.py")
    two = json.loads((tmp_path / "two" / "report.json").read_text())
    assert two["devices"]["world_size"] == 2 and one["devices"]["world_size"] == 1
    for variant in ("pretrained", "scratch", "frozen"):
        a, b = one["results"][variant], two["results"][variant]
        assert len(a["train_loss"]) == 7 and a["train_loss"][0] != a["train_loss"][-1]
        torch.testing.assert_close(torch.tensor(b["train_loss"]), torch.tensor(a["train_loss"]),
                                   atol=1e-5, rtol=0)
        assert b["test_accuracy"] == a["test_accuracy"]
    assert (tmp_path / "two" / "model.safetensors").is_file()


if __name__ == "__main__":
    worker(Path(sys.argv[1]))
