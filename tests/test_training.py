"""lmlib.training.fit: the one training loop the chapters share."""

import pytest
import torch
from torch import nn

import os
import subprocess
import sys

from lmlib.training import check_float_dtype, fit, reproducible_normal_, reproducible_uniform_


def regression():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.1), nn.Linear(8, 1))
    return model, lambda step: ((model(x).squeeze(-1) - y) ** 2).mean()


def test_loss_falls_and_mode_is_restored():
    model, loss_fn = regression()
    model.eval()
    history = fit(model, loss_fn, 200, torch.optim.Adam(model.parameters(), lr=1e-2), progress=False)
    assert len(history) == 200 and history[-1] < 0.2 * history[0]
    assert model.training is False


def test_seeded_runs_are_identical_and_leave_the_global_rng_alone():
    runs = []
    for _ in range(2):
        model, loss_fn = regression()
        torch.manual_seed(123)
        before = torch.random.get_rng_state()
        runs.append(fit(model, loss_fn, 20, torch.optim.SGD(model.parameters(), lr=0.05), seed=7, progress=False))
        assert torch.equal(torch.random.get_rng_state(), before)
    assert runs[0] == runs[1]


class RecordingSGD(torch.optim.SGD):
    """SGD that records, at each update, the lr of every param group it steps with."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def step(self, closure=None):
        self.seen.append([g["lr"] for g in self.param_groups])
        return super().step(closure)


def test_the_optimizer_steps_with_schedule_of_each_step_on_every_group():
    model, loss_fn = regression()
    groups = [{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 7.0}]
    opt = RecordingSGD(groups, lr=1.0)
    asked = []

    def schedule(step):
        asked.append(step)
        return 0.1 / (step + 1)

    fit(model, loss_fn, 6, opt, schedule=schedule, progress=False)
    assert asked == list(range(6))  # once per step, in order
    assert opt.seen == [[0.1 / (s + 1)] * 2 for s in range(6)]  # exactly, on both groups


def test_a_resumed_fit_asks_the_schedule_from_the_start_step_only():
    model, loss_fn = regression()
    opt = RecordingSGD(model.parameters(), lr=1.0)
    fit(model, loss_fn, 5, opt, schedule=lambda s: 0.01 * s, start=3, progress=False)
    assert opt.seen == [[0.03], [0.04]]


def test_without_a_schedule_the_optimizer_keeps_its_lr():
    model, loss_fn = regression()
    opt = RecordingSGD(model.parameters(), lr=0.05)
    fit(model, loss_fn, 3, opt, progress=False)
    assert opt.seen == [[0.05]] * 3


def test_transformer_and_pretrain_schedules_are_the_papers():
    import math

    from lmlib.pretrain import lr_at as cosine_lr
    from lmlib.transformer import lr_at as paper_lr

    lr, warmup = 5e-3, 40
    # the exact floats torch's LambdaLR gave before (base_lr * factor)
    assert [paper_lr(s, lr, warmup) for s in range(300)] == \
        [lr * min((s + 1) / warmup, math.sqrt(warmup / (s + 1))) for s in range(300)]
    assert max(paper_lr(s, lr, warmup) for s in range(300)) == paper_lr(warmup - 1, lr, warmup) == lr
    assert cosine_lr(0, 1.0, 10, 110) == pytest.approx(0.1)


@pytest.mark.parametrize("bad, error", [(-0.1, ValueError), (float("nan"), ValueError),
                                        (float("inf"), ValueError), (None, TypeError),
                                        ("0.1", TypeError), (True, TypeError)])
def test_a_bad_schedule_value_stops_before_that_step_and_names_it(bad, error):
    model, loss_fn = regression()
    model.eval()
    opt = RecordingSGD(model.parameters(), lr=1.0)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(error, match=r"schedule\(0\) returned .* at step 0"):
        fit(model, loss_fn, 5, opt, schedule=lambda s: bad, progress=False)
    assert opt.seen == [] and all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert model.training is False  # the mode is restored on the error too
    opt = RecordingSGD(model.parameters(), lr=1.0)
    with pytest.raises(error, match=r"schedule\(3\) returned .* at step 3"):
        fit(model, loss_fn, 5, opt, schedule=lambda s: bad if s == 3 else 0.01, progress=False)
    assert len(opt.seen) == 3


def test_schedule_must_be_callable_and_the_old_scheduler_argument_is_gone():
    model, loss_fn = regression()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    with pytest.raises(TypeError, match="schedule must be None or a function"):
        fit(model, loss_fn, 2, opt, schedule=0.1, progress=False)
    with pytest.raises(TypeError, match="scheduler"):
        fit(model, loss_fn, 2, opt, scheduler=None, progress=False)


def test_fit_restores_every_part_of_the_model_to_its_mode():
    model, loss_fn = regression()
    model.train()
    model[1].eval()  # a part kept in eval mode by the caller
    seen = []
    fit(model, loss_fn, 2, torch.optim.SGD(model.parameters(), lr=0.01),
        callback=lambda step, loss: seen.append(model[1].training), progress=False)
    assert seen == [True, True]  # fit trains in training mode
    assert model.training and model[0].training and not model[1].training


@pytest.mark.parametrize("kwargs, match", [({"steps": 0}, "steps"), ({"steps": True}, "steps"),
                                           ({"steps": 3, "clip": 0}, "clip")])
def test_bad_arguments_name_themselves(kwargs, match):
    model, loss_fn = regression()
    with pytest.raises(ValueError, match=match):
        fit(model, loss_fn, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), **kwargs)


def test_reproducible_init_has_the_right_distribution():
    g = torch.Generator().manual_seed(0)
    u = reproducible_uniform_(torch.empty(200, 300), 0.5, generator=g)
    assert -0.5 <= u.min() and u.max() < 0.5 and abs(u.mean()) < 0.01
    assert abs(u.var().item() - 0.5 ** 2 / 3) < 0.002  # U(-a, a) has variance a^2 / 3
    z = reproducible_normal_(torch.empty(200, 300, dtype=torch.float64), 0.1, generator=g)
    assert z.dtype == torch.float64 and abs(z.std().item() - 0.1) < 0.002 and abs(z.mean()) < 0.002


def test_reproducible_init_follows_the_seed():
    a = reproducible_uniform_(torch.empty(5, 5), 1.0, torch.Generator().manual_seed(3))
    b = reproducible_uniform_(torch.empty(5, 5), 1.0, torch.Generator().manual_seed(3))
    c = reproducible_uniform_(torch.empty(5, 5), 1.0, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


_INIT_BITS = """
import hashlib, torch
from lmlib.transformer import Transformer, TransformerConfig
torch.manual_seed(0)
m = Transformer(TransformerConfig(50, 40, d_model=32, n_heads=4, n_layers=1, d_ff=64))
print(hashlib.sha256(torch.cat([p.detach().flatten() for p in m.parameters()]).numpy().tobytes()).hexdigest())
"""


def test_transformer_init_has_the_same_bits_under_every_simd_kernel():
    """torch's own uniform_/normal_ round differently per kernel; the book's init does not."""
    digests = set()
    for kernel in ("default", "avx2"):
        env = dict(os.environ, ATEN_CPU_CAPABILITY=kernel)
        out = subprocess.run([sys.executable, "-c", _INIT_BITS], env=env, capture_output=True, text=True,
                             check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1, digests


@pytest.mark.parametrize("call, name", [
    (lambda: reproducible_uniform_([1.0], 1.0), "tensor"),
    (lambda: reproducible_uniform_(torch.zeros(2, dtype=torch.long), 1.0), "tensor"),
    (lambda: reproducible_uniform_(torch.zeros(2), 0), "bound"),
    (lambda: reproducible_uniform_(torch.zeros(2), float("nan")), "bound"),
    (lambda: reproducible_normal_(torch.zeros(2), -1.0), "std"),
    (lambda: check_float_dtype(torch.float16), "dtype"),
    (lambda: check_float_dtype("float64"), "dtype"),
])
def test_init_and_dtype_checks_name_the_argument(call, name):
    with pytest.raises((TypeError, ValueError), match=name):
        call()


def test_init_reproducibly_draws_torch_default_distributions():
    from lmlib.training import init_reproducibly

    torch.manual_seed(0)
    m = nn.ModuleDict({"lin": nn.Linear(400, 30), "conv": nn.Conv1d(8, 8, 3), "gru": nn.GRU(16, 50),
                       "emb": nn.Embedding(100, 16, padding_idx=0), "ln": nn.LayerNorm(16)})
    init_reproducibly(m)
    assert m["lin"].weight.abs().max() <= 1 / 400 ** 0.5 and m["lin"].weight.std() > 0.5 / 400 ** 0.5 / 3 ** 0.5
    assert m["conv"].weight.abs().max() <= 1 / 24 ** 0.5  # fan_in = channels x kernel
    assert all(p.abs().max() <= 1 / 50 ** 0.5 for p in m["gru"].parameters())
    assert abs(m["emb"].weight[1:].std().item() - 1) < 0.05 and m["emb"].weight[0].abs().sum() == 0
    assert torch.equal(m["ln"].weight, torch.ones(16)) and torch.equal(m["ln"].bias, torch.zeros(16))


def test_init_reproducibly_refuses_parameters_it_does_not_know():
    from lmlib.training import init_reproducibly

    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(3))

    with pytest.raises(TypeError, match="Odd"):
        init_reproducibly(nn.Sequential(nn.Linear(2, 2), Odd()))
    with pytest.raises(TypeError, match="module"):
        init_reproducibly("model")


_MODEL_BITS = """
import hashlib, torch
from lmlib.seq2seq import Seq2Seq, Seq2SeqConfig
from lmlib.tasks import MODELS, ClassifierConfig
torch.manual_seed(0)
models = [Seq2Seq(Seq2SeqConfig(14, 14, d_model=16, d_hidden=16, attention=True))]
models += [cls(ClassifierConfig(vocab_size=20, d_model=16, n_classes=4, max_len=8)) for cls in MODELS.values()]
print([hashlib.sha256(torch.cat([p.detach().flatten() for p in m.parameters()]).numpy().tobytes()).hexdigest()
       for m in models])
"""


def test_seq2seq_and_task_models_init_has_the_same_bits_under_every_simd_kernel():
    outs = {subprocess.run([sys.executable, "-c", _MODEL_BITS], env=dict(os.environ, ATEN_CPU_CAPABILITY=k),
                           capture_output=True, text=True, check=True).stdout for k in ("default", "avx2")}
    assert len(outs) == 1, outs


_CPU = """
import hashlib, torch
from lmlib.training import reproducible_cpu
print(reproducible_cpu())
torch.manual_seed(0)
a, b = torch.randn(257, 300, dtype=torch.float64), torch.randn(300, 129, dtype=torch.float64)
print(torch.get_num_threads(), hashlib.sha256((a @ b).numpy().tobytes()).hexdigest())
"""


def _intel() -> bool:
    from lmlib.training import _cpu_vendor

    return _cpu_vendor() == "GenuineIntel"


# SHA-256 of _CPU's float64 product under the COMPATIBLE pin, as computed on an AMD EPYC (AVX-512)
# with torch's MKL: every x86 CPU must give these bits, or the chapters' stored tables will not
# reproduce there (nbval would fail too, with less to say about why).
_COMPATIBLE_DIGEST = "489191943dd98a9cf193509821af2e27015069201ad25c959ac7e035ccecb96b"


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="torch without MKL")
def test_reproducible_cpu_gives_the_same_matrix_product_on_every_mkl_code_path_and_cpu():
    outs = {subprocess.run([sys.executable, "-c", _CPU], env=dict(os.environ, MKL_ENABLE_INSTRUCTIONS=m),
                           capture_output=True, text=True, check=True).stdout for m in ("", "AVX2", "SSE4_2")}
    assert outs == {f"1 thread(s), MKL COMPATIBLE code path\n1 {_COMPATIBLE_DIGEST}\n"}, outs


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="torch without MKL")
def test_without_the_pin_mkl_gives_other_bits():
    # The pin is what makes the digest above: MKL's own kernels round differently (on Intel
    # CPUs they also differ between MKL_ENABLE_INSTRUCTIONS settings), so the test can fail.
    unpinned = _CPU.replace("print(reproducible_cpu())", "")
    settings = ("AVX2", "SSE4_2") if _intel() else ("",)
    raw = {subprocess.run([sys.executable, "-c", unpinned], env=dict(os.environ, MKL_ENABLE_INSTRUCTIONS=m),
                          capture_output=True, text=True, check=True).stdout.split()[-1] for m in settings}
    assert _COMPATIBLE_DIGEST not in raw
    if _intel():
        assert len(raw) == 2


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="torch without MKL")
def test_reproducible_cpu_warns_when_mkl_already_ran():
    code = ("import torch, warnings; a = torch.randn(64, 64, dtype=torch.float64); a @ a\n"
            "from lmlib.training import reproducible_cpu\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always'); print(reproducible_cpu(2)); print(w[0].message)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "MKL not pinned (MKL already ran a matrix product" in out and "restart the kernel" in out


@pytest.mark.parametrize("threads", [0, -1, 1.0, True, "1"])
def test_reproducible_cpu_checks_threads(threads):
    from lmlib.training import reproducible_cpu

    with pytest.raises(ValueError, match="threads"):
        reproducible_cpu(threads)


def test_fit_stops_on_a_nan_loss_before_the_update():
    from lmlib.training import fit

    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(4, 3)

    def loss_fn(step):
        out = model(x).mean()
        return out * float("nan") if step == 2 else out ** 2

    with pytest.raises(FloatingPointError, match="step 2"):
        fit(model, loss_fn, 5, opt, progress=False)
    assert all(torch.isfinite(p).all() for p in model.parameters())
