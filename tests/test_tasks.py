"""Tests for lmlib.tasks: the distance task, the three classifiers, training and evaluation."""

import pytest
import torch
from torch import nn

from lmlib.tasks import (ClassifierConfig, CNNClassifier, GRUClassifier, SelfAttentionClassifier,
                         accuracy_by_distance, distance_experiment, distance_task_batch,
                         task_vocab_size, train_classifier)

L, NV = 12, 4  # tiny task: 11 values then the question
CONFIG = ClassifierConfig(vocab_size=task_vocab_size(L, NV), d_model=16, n_classes=NV, max_len=L,
                          n_heads=2, d_ff=16)
MODELS = (CNNClassifier, GRUClassifier, SelfAttentionClassifier)


def make(cls, config=CONFIG, seed=0):
    torch.manual_seed(seed)
    return cls(config)


class Oracle(nn.Module):
    """A stub that reads the question and answers correctly: logits one-hot at x[L-1-d]."""

    def __init__(self, n_values, wrong_beyond=None):
        super().__init__()
        self.n_values, self.wrong_beyond = n_values, wrong_beyond

    def forward(self, x):
        B, L = x.shape
        d = x[:, -1] - self.n_values + 1  # "?d" = n_values + d - 1
        answer = x[torch.arange(B), L - 1 - d]
        if self.wrong_beyond is not None:  # answer (answer + 1) % n_values for d > wrong_beyond
            answer = torch.where(d > self.wrong_beyond, (answer + 1) % self.n_values, answer)
        return nn.functional.one_hot(answer, self.n_values).float()


# 1. The task ---------------------------------------------------------------------
def test_batch_places_question_last_and_label_d_back():
    g = torch.Generator().manual_seed(0)
    x, y = distance_task_batch(200, L, 5, NV, g)
    assert x.shape == (200, L) and y.shape == (200,)
    assert x.dtype == torch.long and y.dtype == torch.long
    assert (x[:, :-1] < NV).all() and (x[:, :-1] >= 0).all()  # values before the question
    assert (x[:, -1] == NV + 5 - 1).all()  # every question is "?5"
    assert torch.equal(y, x[:, L - 1 - 5])  # the value 5 positions before the question
    assert len(set(y.tolist())) == NV  # all labels occur


def test_batch_mixes_distances_and_labels_recompute():
    g = torch.Generator().manual_seed(1)
    dists = [1, 3, 11]
    x, y = distance_task_batch(300, L, dists, NV, g)
    d = x[:, -1] - NV + 1  # decode the question
    assert set(d.tolist()) == set(dists)
    for i in range(len(x)):  # recompute every label from its own question, one by one
        assert y[i].item() == x[i, L - 1 - d[i].item()].item()
    assert int(x.max()) < task_vocab_size(L, NV)


def test_batch_is_deterministic_with_a_generator():
    a = distance_task_batch(8, L, [1, 2, 3], NV, torch.Generator().manual_seed(7))
    b = distance_task_batch(8, L, [1, 2, 3], NV, torch.Generator().manual_seed(7))
    c = distance_task_batch(8, L, [1, 2, 3], NV, torch.Generator().manual_seed(8))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


# 2. The models -------------------------------------------------------------------
@pytest.mark.parametrize("n_layers, kernel_size, expected", [(1, 3, 3), (2, 3, 5), (3, 3, 7),
                                                              (2, 5, 9), (4, 2, 5)])
def test_cnn_receptive_field_formula(n_layers, kernel_size, expected):
    cfg = ClassifierConfig(vocab_size=10, d_model=8, n_layers=n_layers, kernel_size=kernel_size)
    assert CNNClassifier(cfg).receptive_field == expected


def test_cnn_sees_exactly_its_receptive_field():
    cnn = make(CNNClassifier).eval()
    rf = cnn.receptive_field  # 5: the last output sees x[L-5 .. L-1]
    x, _ = distance_task_batch(4, L, 2, NV, torch.Generator().manual_seed(0))
    base = cnn(x)
    outside, inside = x.clone(), x.clone()
    outside[:, L - 1 - rf] = (outside[:, L - 1 - rf] + 1) % NV  # just beyond the field
    inside[:, L - rf] = (inside[:, L - rf] + 1) % NV  # its oldest token
    assert torch.equal(cnn(outside), base)
    assert not torch.allclose(cnn(inside), base)


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("B, T", [(1, L), (5, L), (3, 6)])
def test_models_output_batch_by_classes(cls, B, T):
    model = make(cls)
    x, _ = distance_task_batch(B, T, 1, NV, torch.Generator().manual_seed(0))
    out = model(x)
    assert out.shape == (B, NV) and torch.isfinite(out).all()


def test_gru_answers_from_its_last_state():
    gru = make(GRUClassifier).eval()
    x, _ = distance_task_batch(3, L, 1, NV, torch.Generator().manual_seed(0))
    _, h = gru.gru(gru.embedding(x))
    assert torch.allclose(gru(x), gru.head(h[0]))


def test_attention_weights_shape_rows_and_same_logits():
    model = make(SelfAttentionClassifier).eval()
    x, _ = distance_task_batch(3, L, 4, NV, torch.Generator().manual_seed(0))
    logits, attn = model(x, return_attn=True)
    assert attn.shape == (3, CONFIG.n_heads, L, L)
    assert torch.allclose(attn.sum(-1), torch.ones(3, CONFIG.n_heads, L), atol=1e-6)
    assert torch.allclose(logits, model(x), atol=1e-6)  # explicit and fused paths agree


def test_attention_overfits_a_tiny_batch():
    model = make(SelfAttentionClassifier)
    x, y = distance_task_batch(16, L, list(range(1, L)), NV, torch.Generator().manual_seed(0))
    losses = train_classifier(model, lambda step: (x, y), steps=150, lr=1e-2, seed=0,
                              progress=False)
    assert losses[-1] < 0.05 < losses[0]
    assert (model.eval()(x).argmax(-1) == y).all()


# 3. Training and evaluation ------------------------------------------------------
def test_train_classifier_is_seeded_and_leaves_global_rng_and_mode():
    def run(model):
        g = torch.Generator().manual_seed(0)
        return train_classifier(model, lambda s: distance_task_batch(8, L, [1, 2], NV, g),
                                steps=5, seed=0, progress=False)
    model = make(GRUClassifier).eval()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = run(model)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG was not touched
    assert not model.training  # mode restored
    b = run(make(GRUClassifier))
    assert len(a) == 5 and a == b


def test_accuracy_by_distance_on_stubs():
    dists = [1, 2, 3, 7, 11]
    assert accuracy_by_distance(Oracle(NV), dists, 50, L, NV) == {d: 1.0 for d in dists}
    half = accuracy_by_distance(Oracle(NV, wrong_beyond=2), dists, 50, L, NV)
    assert half == {1: 1.0, 2: 1.0, 3: 0.0, 7: 0.0, 11: 0.0}


def test_accuracy_by_distance_restores_mode_and_is_repeatable():
    model = make(CNNClassifier).train()
    a = accuracy_by_distance(model, [1, 4], 40, L, NV, seed=3)
    assert model.training
    assert a == accuracy_by_distance(model, [1, 4], 40, L, NV, seed=3)
    assert set(a) == {1, 4} and all(0.0 <= v <= 1.0 for v in a.values())


def test_distance_experiment_tiny_runs_and_is_deterministic():
    kw = dict(seed=0, steps=20, batch_size=16, seq_len=8, max_distance=6, d_model=16, n_eval=50)
    r = distance_experiment(**kw)
    assert r["distances"] == [1, 2, 3, 4, 5, 6] and r["chance"] == 0.25
    assert r["receptive_field"] == 5
    for name in ("cnn", "gru", "attention"):
        assert len(r[name]) == 6 and all(0.0 <= a <= 1.0 for a in r[name])
        assert len(r["losses"][name]) == 20
        assert not r["models"][name].training
        assert r["params"][name] == sum(p.numel() for p in r["models"][name].parameters())
        assert {p.dtype for p in r["models"][name].parameters()} == {torch.float64}  # the default
    assert r["seconds"] > 0 and set(r["seconds_by_model"]) == {"cnn", "gru", "attention"}
    again = distance_experiment(**kw)
    assert all(r[k] == again[k] for k in ("cnn", "gru", "attention"))


# 4. Errors name the argument -----------------------------------------------------
@pytest.mark.parametrize("kwargs, name", [
    (dict(batch_size=0), "batch_size"),
    (dict(seq_len=1), "seq_len"),
    (dict(n_values=1), "n_values"),
    (dict(distance=0), "distance"),
    (dict(distance=L), "distance"),
    (dict(distance=[]), "distance"),
    (dict(distance=[1, 2.5]), "distance"),
    (dict(distance="3"), "distance"),
])
def test_batch_errors_name_the_argument(kwargs, name):
    args = dict(batch_size=4, seq_len=L, distance=1, n_values=NV)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        distance_task_batch(**args)


@pytest.mark.parametrize("kwargs, name", [
    (dict(d_model=30, n_heads=4), "d_model must be divisible by n_heads"),
    (dict(n_classes=1), "n_classes"),
    (dict(kernel_size=0), "kernel_size"),
    (dict(vocab_size=True), "vocab_size"),
])
def test_config_errors_name_the_argument(kwargs, name):
    error = TypeError if kwargs == dict(vocab_size=True) else ValueError  # wrong type / range
    with pytest.raises(error, match=name):
        ClassifierConfig(**kwargs)


@pytest.mark.parametrize("cls", MODELS)
def test_model_input_errors(cls):
    model = make(cls)
    with pytest.raises(ValueError, match="x must be a \\(B, L\\) tensor"):
        model(torch.zeros(2, L))  # floats, not ids
    with pytest.raises(ValueError, match="vocab_size"):
        model(torch.full((2, L), CONFIG.vocab_size))


def test_attention_rejects_sequences_longer_than_max_len():
    with pytest.raises(ValueError, match="max_len"):
        make(SelfAttentionClassifier)(torch.zeros(1, L + 1, dtype=torch.long))


def test_training_and_evaluation_errors():
    model = make(CNNClassifier)
    batch = lambda step: distance_task_batch(4, L, 1, NV)  # noqa: E731
    with pytest.raises(ValueError, match="steps"):
        train_classifier(model, batch, steps=0, progress=False)
    with pytest.raises(ValueError, match="lr"):
        train_classifier(model, batch, steps=1, lr=0, progress=False)
    with pytest.raises(ValueError, match="distances"):
        accuracy_by_distance(model, [], 10, L, NV)
    with pytest.raises(ValueError, match="n_per_distance"):
        accuracy_by_distance(model, [1], 0, L, NV)
    with pytest.raises(ValueError, match="distance"):
        accuracy_by_distance(model, [L], 10, L, NV)
    with pytest.raises(ValueError, match="max_distance"):
        distance_experiment(seq_len=8, max_distance=8)
