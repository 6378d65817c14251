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


def test_scheduler_is_stepped_once_per_update():
    model, loss_fn = regression()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (s + 1))
    fit(model, loss_fn, 5, opt, scheduler=sched, progress=False)
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0 / 6)


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
