"""lmlib.base: the shared argument checks, and the public functions that use them."""

import pytest

from lmlib.base import as_str_list, check_int


def test_as_str_list_refuses_a_single_str_and_names_the_argument():
    assert as_str_list(("가", "나"), "words") == ["가", "나"]
    with pytest.raises(TypeError, match="words must be a list of strings, got the str '카페'"):
        as_str_list("카페", "words")
    with pytest.raises(TypeError, match=r"words\[1\] must be a str, got int"):
        as_str_list(["가", 3], "words")
    with pytest.raises(ValueError, match="words is empty"):
        as_str_list([], "words")
    assert as_str_list([], "words", allow_empty=True) == []
    with pytest.raises(TypeError, match="got int"):
        as_str_list(5, "words")


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (1.0, TypeError),
                                        (True, TypeError), ("3", TypeError), (None, TypeError)])
def test_check_int_one_rule_wrong_type_typeerror_out_of_range_valueerror(bad, error):
    with pytest.raises(error, match="top_k must be an int >= 1"):
        check_int(bad, "top_k", low=1)


def test_check_int_accepts_numpy_and_torch_integers_and_returns_an_int():
    import numpy as np
    import torch

    assert check_int(None, "top_k", low=1, allow_none=True) is None
    for value in (2, np.int64(2), torch.tensor(2)):
        out = check_int(value, "top_k", low=1)
        assert out == 2 and type(out) is int


def test_public_functions_refuse_a_str_where_a_list_of_words_is_expected():
    from lmlib import viz
    from lmlib.blanks import make_blanks

    sentences = [["나는", "어제", "카페에", "갔다"]]
    with pytest.raises(TypeError, match="vocab must be a list of strings"):
        make_blanks(sentences, vocab="카페에")
    with pytest.raises(TypeError, match="tokens must be a list of strings"):
        viz.direction_diagram("어제 카페 갔었어")
    with pytest.raises(TypeError, match="words must be a list of strings"):
        viz.chain_rule_plot("어제", ["<s>"], [0.5])


def test_ngram_blank_scorer_rank_blank_checks_top_k():
    from lmlib.blanks import NGramBlankScorer, make_blanks
    from lmlib.ngram import NGramLM

    sents = [["나는", "어제", "카페에", "갔다"], ["나는", "오늘", "학교에", "갔다"]]
    fwd = NGramLM(2, "add-k", k=0.1).fit(sents)
    bwd = NGramLM(2, "add-k", k=0.1, direction="backward").fit(sents)
    scorer = NGramBlankScorer(fwd, bwd)
    blank = make_blanks(sents, seed=0)[0]
    assert len(scorer.rank_blank(blank, top_k=2)) == 2
    for bad in (0, -1):
        with pytest.raises(ValueError, match="top_k must be an int >= 1 or None"):
            scorer.rank_blank(blank, top_k=bad)


# -- eval_mode / train_mode -------------------------------------------------------------------

def _net():
    from torch import nn

    return nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.Sequential(nn.Dropout(0.5)))


def _modes(m):
    return [sub.training for sub in m.modules()]


def test_eval_mode_sets_eval_inside_and_restores_after():
    from lmlib.base import eval_mode

    net = _net().train()
    with eval_mode(net) as inside:
        assert inside is None and _modes(net) == [False] * 5
    assert _modes(net) == [True] * 5
    net.eval()
    with eval_mode(net):
        assert not net.training
    assert _modes(net) == [False] * 5  # an eval model stays in eval


def test_eval_mode_restores_the_mode_on_an_exception():
    from lmlib.base import eval_mode

    net = _net().train()
    with pytest.raises(ZeroDivisionError):
        with eval_mode(net):
            1 / 0
    assert _modes(net) == [True] * 5


def test_eval_mode_nested_and_on_several_modules():
    from lmlib.base import eval_mode, train_mode

    a, b = _net().train(), _net().eval()
    with eval_mode(a, b):
        assert not any(_modes(a) + _modes(b))
        with eval_mode(a):  # nested: the inner one restores what it found (eval)
            assert not a.training
        assert not a.training
        with train_mode(b):
            assert all(_modes(b))
        assert not any(_modes(b))
    assert _modes(a) == [True] * 5 and _modes(b) == [False] * 5


def test_eval_mode_restores_each_part_to_its_own_mode():
    from lmlib.base import eval_mode

    net = _net().train()
    net[1].eval()  # one part deliberately in eval mode
    with eval_mode(net, net[2]):  # overlapping modules are fine
        assert not any(_modes(net))
    assert _modes(net) == [True, True, False, True, True]


def test_eval_mode_as_a_decorator():
    from lmlib.base import eval_mode

    net = _net().train()

    @eval_mode(net)
    def mode():
        return net.training

    assert mode() is False and mode() is False and net.training


def test_eval_mode_refuses_what_is_not_a_module():
    from lmlib.base import eval_mode

    with pytest.raises(TypeError, match=r"eval_mode: modules\[1\] must be a torch.nn.Module, got str"):
        with eval_mode(_net(), "model"):
            pass
    with pytest.raises(TypeError, match="at least one"):
        with eval_mode():
            pass


# -- special ids --------------------------------------------------------------------------------

class _Config:
    def __init__(self, **kw):
        self.__dict__.update(vocab_size=10, src_vocab_size=5, pad_id=0, bos_id=2, eos_id=3)
        self.__dict__.update(kw)


@pytest.mark.parametrize("kw, names, extra, error, match", [
    (dict(pad_id=-1), ("pad_id", "eos_id"), {}, ValueError, "pad_id must be an int >= 0, got -1"),
    (dict(bos_id=2.0), ("pad_id", "bos_id"), {}, TypeError, "bos_id must be an int >= 0, got float 2.0"),
    (dict(eos_id=True), ("eos_id",), {}, TypeError, "eos_id must be an int >= 0, got bool True"),
    (dict(eos_id=None), ("eos_id",), {}, TypeError, "eos_id must be an int >= 0, got NoneType None"),
    (dict(eos_id=10), ("pad_id", "eos_id"), {}, ValueError,
     r"eos_id=10 is not a valid id for vocab_size=10: expected an int in \[0, 10\)"),
    (dict(pad_id=7), ("pad_id",), dict(vocab="src_vocab_size"), ValueError,
     "pad_id=7 is not a valid id for src_vocab_size=5"),
    (dict(bos_id=0), ("pad_id", "bos_id", "eos_id"), {}, ValueError, "pad_id and bos_id must differ, both are 0"),
    (dict(eos_id=2), ("pad_id", "bos_id", "eos_id"), {}, ValueError, "bos_id and eos_id must differ, both are 2"),
    (dict(eos_id=12), ("eos_id",), dict(allow_none=True), ValueError, r"\[0, 10\) or None"),
])
def test_check_special_ids_names_the_bad_field(kw, names, extra, error, match):
    from lmlib.base import check_special_ids

    with pytest.raises(error, match=match):
        check_special_ids(_Config(**kw), names, **extra)


def test_check_special_ids_accepts_good_ids_and_none_where_allowed():
    from lmlib.base import check_special_ids, check_token_id

    check_special_ids(_Config(), ("pad_id", "bos_id", "eos_id"))
    check_special_ids(_Config(pad_id=None, eos_id=None), ("pad_id", "eos_id"), allow_none=True)
    assert check_token_id(9, "mask_id", 10) == 9
    assert check_token_id(None, "mask_id", 10, allow_none=True) is None


def test_every_config_with_special_ids_uses_the_one_checker():
    from lmlib.bert import BertConfig
    from lmlib.gpt import GPTConfig
    from lmlib.seq2seq import Seq2SeqConfig
    from lmlib.transformer import TransformerConfig

    for cls in (Seq2SeqConfig, TransformerConfig):
        with pytest.raises(ValueError, match="pad_id=12 is not a valid id for src_vocab_size=12"):
            cls(12, 20, pad_id=12, bos_id=0)
        with pytest.raises(ValueError, match="bos_id=15 is not a valid id for tgt_vocab_size=15"):
            cls(20, 15, bos_id=15)
        with pytest.raises(ValueError, match="pad_id and eos_id must differ, both are 0"):
            cls(12, 12, eos_id=0)
        with pytest.raises(TypeError, match="eos_id must be an int >= 0, got str '3'"):
            cls(12, 12, eos_id="3")
    with pytest.raises(ValueError, match="eos_id=10 is not a valid id for vocab_size=10"):
        GPTConfig(vocab_size=10, eos_id=10)
    with pytest.raises(ValueError, match="pad_id=10 is not a valid id for vocab_size=10"):
        BertConfig(vocab_size=10, pad_id=10)
    assert GPTConfig(vocab_size=10, eos_id=None).eos_id is None
    assert BertConfig(vocab_size=10, pad_id=None).pad_id is None


def test_mask_tokens_and_generate_check_their_ids_with_it():
    import torch

    from lmlib.bert_data import mask_tokens
    from lmlib.gpt import GPT, GPTConfig

    ids = torch.randint(7, 50, (2, 5))
    with pytest.raises(ValueError, match="mask_id=50 is not a valid id for vocab_size=50"):
        mask_tokens(ids, 50, mask_id=50)
    with pytest.raises(ValueError, match=r"special_ids\[1\]=60 is not a valid id"):
        mask_tokens(ids, 50, special_ids=(6, 60))
    with pytest.raises(ValueError, match="special_ids must include mask_id=9"):
        mask_tokens(ids, 50, mask_id=9)
    gpt = GPT(GPTConfig(vocab_size=12, max_len=8, d_model=8, n_heads=2, n_layers=1))
    with pytest.raises(ValueError, match="eos_id=12 is not a valid id for vocab_size=12"):
        gpt.generate([1, 2], 2, greedy=True, eos_id=12)


# -- padding -------------------------------------------------------------------------------------

def test_pad_batch_lives_in_base_and_seq2seq_keeps_the_same_function():
    import torch

    import lmlib.seq2seq
    from lmlib.base import length_mask, pad_batch

    assert lmlib.seq2seq.pad_batch is pad_batch
    ids, lengths = pad_batch([[5, 6, 7], [8]], pad_id=1)
    assert ids.tolist() == [[5, 6, 7], [8, 1, 1]] and lengths.tolist() == [3, 1]
    assert length_mask(lengths).tolist() == [[True, True, True], [True, False, False]]
    assert length_mask(lengths, 4).shape == (2, 4)
    with pytest.raises(ValueError, match=r"S must be an int >= lengths.max\(\) = 3, got 2"):
        length_mask(lengths, 2)
    with pytest.raises(ValueError, match="lengths must be a 1-D integer tensor"):
        length_mask(torch.tensor([1.0]))


def test_base_imports_no_torch_and_no_lecture_module_imports_another_for_plumbing():
    import ast
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, lmlib.base; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
    root = Path(__file__).resolve().parent.parent / "lmlib"
    plumbing = {"pad_batch", "length_mask", "check_special_ids", "eval_mode",
                "check_int", "check_token_id", "train_mode", "as_str_list"}
    for path in root.glob("*.py"):
        if path.name == "base.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module != "base":
                names = {a.name for a in node.names}
                assert not names & plumbing, f"{path.name} imports {names & plumbing} from {node.module}"


@pytest.mark.parametrize("value, kw, message", [
    (float("nan"), {}, "lr must be a finite number"), (float("inf"), {}, "lr must be a finite number"),
    ("1e-3", {}, "lr must be a finite number"), (True, {}, "lr must be a finite number"),
    (0.0, {"low": 0, "low_open": True}, "lr must be > 0"), (-1.0, {"low": 0}, "lr must be >= 0"),
    (1.5, {"high": 1}, "lr must be <= 1"), (1.0, {"high": 1, "high_open": True}, "lr must be < 1")])
def test_check_float_names_the_argument_and_the_bound(value, kw, message):
    from lmlib.base import check_float

    with pytest.raises(ValueError, match=message):
        check_float(value, "lr", **kw)


def test_check_float_returns_a_float():
    import numpy as np

    from lmlib.base import check_float

    assert check_float(np.float32(0.5), "lr", low=0, high=1) == 0.5
    assert type(check_float(3, "lr")) is float
