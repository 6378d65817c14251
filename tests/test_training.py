"""lmlib.training.fit: the one training loop the chapters share."""

import pytest
import torch
from torch import nn

from lmlib.training import fit


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
