"""lmlib.gpt: parity with Hugging Face GPT-2 (random weights, nothing downloaded), the cache,
generation and sampling, parameter counts, checkpoints."""

import json

import pytest
import torch

from lmlib.gpt import (GPT, PRESETS, GPTConfig, count_parameters, next_token_probs,
                       top_k_filter, top_p_filter)

transformers = pytest.importorskip("transformers")


def hf_gpt2(**overrides):
    """A tiny random GPT2LMHeadModel, weights re-initialised with std 0.3 (so GELU/eps show)."""
    torch.manual_seed(0)
    cfg = dict(vocab_size=61, n_positions=24, n_embd=64, n_layer=3, n_head=4,
               attn_implementation="eager", bos_token_id=0, eos_token_id=0)
    cfg.update(overrides)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**cfg)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.3)
    return model


@pytest.fixture(scope="module")
def pair():
    hf = hf_gpt2()
    return hf, GPT.from_hf(hf).eval()


def small(**kw):
    torch.manual_seed(0)
    cfg = dict(vocab_size=40, max_len=16, d_model=32, n_heads=4, n_layers=2)
    cfg.update(kw)
    return GPT(GPTConfig(**cfg)).eval()


def test_module_paths_are_hugging_faces(pair):
    hf, gpt = pair
    assert set(gpt.state_dict()) == set(hf.state_dict())


def test_logits_attentions_and_loss_equal_hugging_face(pair):
    hf, gpt = pair
    idx = torch.randint(0, 61, (3, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = hf(idx, labels=idx, output_attentions=True)
        out = gpt(idx, return_attn=True)
        loss = gpt(idx[:, :-1], idx[:, 1:]).loss
    assert ref.logits.abs().max() > 1.0  # large random weights: a wrong detail would show
    torch.testing.assert_close(out.logits, ref.logits, atol=1e-4, rtol=0)
    assert len(out.attentions) == 3
    for a, b in zip(out.attentions, ref.attentions):
        assert a.shape == (3, 4, 24, 24)
        torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    torch.testing.assert_close(loss, ref.loss, atol=1e-4, rtol=0)


def test_a_wrong_gelu_would_break_parity(pair):
    hf, _ = pair
    gpt = GPT.from_hf(hf).eval()
    for block in gpt.transformer.h:
        block.mlp.act = torch.nn.GELU()  # exact instead of tanh-approximate
    idx = torch.randint(0, 61, (2, 24), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert (gpt(idx).logits - hf(idx).logits).abs().max() > 2e-4  # > 2x the 1e-4 tolerance


def test_from_hf_base_model_without_head(pair):
    hf, gpt = pair
    base = GPT.from_hf(hf.transformer).eval()
    idx = torch.randint(0, 61, (1, 10))
    with torch.no_grad():
        torch.testing.assert_close(base(idx).logits, gpt(idx).logits)


def test_from_hf_refuses_unsupported_variants():
    with pytest.raises(ValueError, match="scale_attn_by_inverse_layer_idx"):
        GPT.from_hf(hf_gpt2(scale_attn_by_inverse_layer_idx=True))
    with pytest.raises(ValueError, match="activation_function"):
        GPT.from_hf(hf_gpt2(activation_function="relu"))


def test_fused_path_equals_explicit_and_weights_are_causal():
    gpt = small()
    idx = torch.randint(0, 40, (2, 16))
    out = gpt(idx, return_attn=True)
    torch.testing.assert_close(gpt(idx).logits, out.logits, atol=1e-5, rtol=0)
    for w in out.attentions:
        torch.testing.assert_close(w.sum(-1), torch.ones(2, 4, 16))
        assert w.triu(diagonal=1).abs().max() == 0  # no position reads a later one


def test_changing_a_later_token_does_not_change_earlier_logits():
    gpt = small()
    a = torch.randint(0, 40, (1, 12))
    b = a.clone()
    b[0, 8] = (b[0, 8] + 1) % 40
    la, lb = gpt(a).logits, gpt(b).logits
    torch.testing.assert_close(la[:, :8], lb[:, :8])
    assert (la[:, 8:] - lb[:, 8:]).abs().max() > 1e-4


def test_kv_cache_gives_the_same_logits(pair):
    _, gpt = pair
    idx = torch.randint(0, 61, (2, 20))
    full = gpt(idx).logits
    first = gpt(idx[:, :7], use_cache=True)
    cache, logits = first.past_key_values, [first.logits]
    for t in range(7, 20):  # one token at a time, as in generation
        out = gpt(idx[:, t:t + 1], past_key_values=cache, use_cache=True)
        cache = out.past_key_values
        logits.append(out.logits)
    torch.testing.assert_close(torch.cat(logits, 1), full, atol=1e-4, rtol=0)
    assert cache[0][0].shape == (2, 4, 20, 16)


def test_greedy_generation_equals_hugging_face_with_and_without_cache(pair):
    hf, gpt = pair
    prompt = torch.tensor([[5, 17, 3, 42]])
    ours = gpt.generate(prompt, 15, greedy=True, eos_id=None)
    no_cache = gpt.generate(prompt, 15, greedy=True, eos_id=None, use_cache=False)
    ref = hf.generate(prompt, max_new_tokens=15, do_sample=False, eos_token_id=None,
                      pad_token_id=0)
    assert ours.shape == (1, 19)
    assert torch.equal(ours, no_cache)
    assert torch.equal(ours, ref)


def test_sampling_is_reproducible_with_a_seed_and_varies_without_one():
    gpt = small()
    a = gpt.generate([1, 2, 3], 10, temperature=1.5, seed=7, eos_id=None)
    b = gpt.generate([1, 2, 3], 10, temperature=1.5, seed=7, eos_id=None)
    c = gpt.generate([1, 2, 3], 10, temperature=1.5, seed=8, eos_id=None)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(a[0, :3], torch.tensor([1, 2, 3]))


def test_generation_stops_at_end_of_text():
    gpt = small()
    with torch.no_grad():
        # ln_f outputs a constant vector along token 7's embedding: id 7 wins at every step
        gpt.transformer.ln_f.weight.zero_()
        gpt.transformer.ln_f.bias.copy_(gpt.lm_head.weight[7] * 50)
    out = gpt.generate([1, 2], 10, greedy=True, eos_id=7)
    assert out.tolist() == [[1, 2, 7]]
    rows = gpt.generate(torch.tensor([[1, 2], [3, 4]]), 5, greedy=True, eos_id=7)
    assert rows.shape == (2, 3)


def test_context_limit_raises_or_crops():
    gpt = small()  # max_len 16
    with pytest.raises(ValueError, match="crop=True"):
        gpt.generate(list(range(1, 15)), 5)
    out = gpt.generate(list(range(1, 21)), 5, greedy=True, crop=True, eos_id=None)
    assert out.shape == (1, 25)
    # cropped: the next token depends on the last 16 tokens only
    alone = gpt.generate(list(range(5, 21)), 1, greedy=True, crop=True, eos_id=None)
    assert out[0, 20] == alone[0, 16]
    with pytest.raises(ValueError, match="max_len=16"):
        gpt(torch.zeros(1, 17, dtype=torch.long))


def test_top_k_top_p_and_temperature():
    logits = torch.tensor([[3.0, 1.0, 2.0, 0.0, -1.0]])
    kept = top_k_filter(logits, 2)
    assert torch.isfinite(kept).tolist() == [[True, False, True, False, False]]
    probs = logits.softmax(-1)[0]  # 0.636, 0.086, 0.234, 0.032, 0.012
    p = top_p_filter(logits, 0.7)  # 0.636 < 0.7, so the second best is needed too
    assert torch.isfinite(p).tolist() == [[True, False, True, False, False]]
    assert torch.isfinite(top_p_filter(logits, 0.5)).sum() == 1  # the top token always stays
    assert probs[0] > 0.5
    for kw in ({}, {"top_k": 3}, {"top_p": 0.9}, {"temperature": 0.5}):
        torch.testing.assert_close(next_token_probs(logits, **kw).sum(-1), torch.ones(1))
    cold, hot = next_token_probs(logits, 0.5), next_token_probs(logits, 2.0)
    assert cold.max() > probs.max() > hot.max()
    with pytest.raises(ValueError, match="temperature"):
        next_token_probs(logits, 0.0)
    with pytest.raises(ValueError, match="top_p"):
        top_p_filter(logits, 1.5)
    with pytest.raises(ValueError, match="top_k"):
        top_k_filter(logits, 0)


def test_parameter_count_formula():
    for kw in ({}, {"d_ff": 48}, {"n_layers": 5, "max_len": 33}):
        c = GPTConfig(**{**dict(vocab_size=40, max_len=16, d_model=32, n_heads=4, n_layers=2), **kw})
        assert count_parameters(c) == GPT(c).num_parameters()
    with torch.device("meta"):  # no memory: shapes only
        gpt2 = GPT(GPTConfig(**PRESETS["gpt2"]))
        ref = transformers.GPT2LMHeadModel(transformers.GPT2Config())
    assert count_parameters(gpt2.config) == gpt2.num_parameters() == ref.num_parameters() \
        == 124_439_808
    assert 174e9 < count_parameters(GPTConfig(**PRESETS["gpt3"])) < 176e9


def test_save_and_load_roundtrip(tmp_path):
    gpt = small(dropout=0.1)
    gpt.save(tmp_path / "ckpt")
    assert json.loads((tmp_path / "ckpt" / "config.json").read_text())["config"]["dropout"] == 0.1
    back = GPT.load(tmp_path / "ckpt").eval()
    idx = torch.randint(0, 40, (2, 16))
    assert torch.equal(back(idx).logits, gpt(idx).logits)
    assert back.lm_head.weight is back.transformer.wte.weight  # still tied after loading
    with pytest.raises(FileNotFoundError, match="GPT.save"):
        GPT.load(tmp_path / "nothing")


def test_overfits_one_batch():
    torch.manual_seed(0)
    gpt = small().train()
    x = torch.randint(0, 40, (4, 16))
    opt = torch.optim.AdamW(gpt.parameters(), lr=1e-2)
    for _ in range(150):
        loss = gpt(x[:, :-1], x[:, 1:]).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="d_model must be divisible by n_heads"):
        GPTConfig(vocab_size=10, d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="eos_id"):
        GPTConfig(vocab_size=10, eos_id=10)
    with pytest.raises(ValueError, match="dropout"):
        GPTConfig(vocab_size=10, dropout=1.0)
    gpt = small()
    with pytest.raises(ValueError, match="idx must be a"):
        gpt(torch.zeros(4))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        gpt(torch.full((1, 3), 40))
    with pytest.raises(ValueError, match="targets"):
        gpt(torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="max_new_tokens"):
        gpt.generate([1], 0)
    with pytest.raises(TypeError, match="config must be a GPTConfig"):
        GPT({"vocab_size": 10})


def test_generate_refuses_float_prompt_ids():
    from lmlib.gpt import GPT, GPTConfig

    model = GPT(GPTConfig(vocab_size=20, max_len=8, d_model=8, n_heads=2, n_layers=1))
    with pytest.raises(TypeError, match="idx must be a list of int token ids, got float"):
        model.generate([1, 2.5], 2, greedy=True)
