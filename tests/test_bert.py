"""lmlib.bert and lmlib.bert_data: parity with Hugging Face BERT (random weights, nothing
downloaded), attention and padding invariants, MLM masking and NSP pairs, parameter
counts, checkpoints, the pretrain -> fine-tune step."""

import json

import pytest
import torch

from lmlib.bert import (PRESETS, BertConfig, BertForPreTraining, BertForSequenceClassification,
                        BertModel, count_parameters, parameter_table)
from lmlib.bert_data import (SPECIAL_IDS, collate_pairs, encode_pair, mask_tokens, nsp_pairs,
                             pretraining_batch)

transformers = pytest.importorskip("transformers")

HF_SIZES = dict(vocab_size=97, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                intermediate_size=128, max_position_embeddings=40, attn_implementation="eager")


def hf_bert(cls_name="BertForPreTraining", **overrides):
    """A tiny random HF BERT, weights re-initialised with std 0.3 (so GELU details show)."""
    torch.manual_seed(0)
    model = getattr(transformers, cls_name)(transformers.BertConfig(**{**HF_SIZES, **overrides}))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.3)
    return model.eval()


def inputs(B=3, T=40, V=97):
    """ids, segments and a mask with padding from position 25 on in row 1."""
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, V, (B, T), generator=g)
    segments = (torch.arange(T) >= T // 2).long().expand(B, T).contiguous()
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, 25:] = 0
    return ids, segments, mask


@pytest.fixture(scope="module")
def pair():
    hf = hf_bert()
    return hf, BertForPreTraining.from_hf(hf).eval()


def small(cls=BertForPreTraining, **kw):
    torch.manual_seed(0)
    return cls(BertConfig(**{**dict(vocab_size=50, max_len=16, d_model=32, n_heads=4,
                                    n_layers=2), **kw})).eval()


@pytest.fixture(scope="module")
def tokenizer():
    from lmlib.data import load_corpus
    from lmlib.tokenizer import train_tokenizer

    return train_tokenizer(load_corpus("ko_daily")[:500], kind="wordpiece", vocab_size=400)


def test_module_paths_are_hugging_faces(pair):
    hf, ours = pair
    assert set(ours.state_dict()) == set(hf.state_dict())  # HF's position_ids are not saved
    assert "cls.predictions.decoder.bias" in ours.state_dict()  # an alias of cls.predictions.bias
    assert set(BertModel.from_hf(hf).state_dict()) == set(hf.bert.state_dict())
    clf = hf_bert("BertForSequenceClassification", num_labels=3)
    assert set(BertForSequenceClassification.from_hf(clf).state_dict()) == set(clf.state_dict())


def test_pretraining_outputs_and_losses_equal_hugging_face(pair):
    hf, ours = pair
    ids, segments, mask = inputs()
    mlm = torch.full_like(ids, -100)
    mlm[:, ::6] = ids[:, ::6]
    nsp = torch.tensor([0, 1, 1])
    with torch.no_grad():
        ref = hf(ids, attention_mask=mask, token_type_ids=segments, labels=mlm,
                 next_sentence_label=nsp, output_hidden_states=True, output_attentions=True)
        pooled = hf.bert(ids, attention_mask=mask, token_type_ids=segments).pooler_output
        out = ours(ids, segments, mask, mlm, nsp, return_attn=True, return_hidden=True)
        base = BertModel.from_hf(hf).eval()(ids, segments, mask)
    assert ref.prediction_logits.abs().max() > 1.0  # large random weights: details would show
    torch.testing.assert_close(out.mlm_logits, ref.prediction_logits, atol=1e-4, rtol=0)
    torch.testing.assert_close(out.nsp_logits, ref.seq_relationship_logits, atol=1e-4, rtol=0)
    assert len(out.hidden_states) == len(ref.hidden_states) == 4  # embeddings + 3 layers
    for a, b in zip(out.hidden_states, ref.hidden_states):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    assert len(out.attentions) == 3
    for a, b in zip(out.attentions, ref.attentions):
        assert a.shape == (3, 4, 40, 40)
        torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    torch.testing.assert_close(base.pooled, pooled, atol=1e-4, rtol=0)
    torch.testing.assert_close(base.last_hidden_state, ref.hidden_states[-1], atol=1e-4, rtol=0)
    torch.testing.assert_close(out.loss, ref.loss, atol=1e-4, rtol=0)
    torch.testing.assert_close(out.loss, out.mlm_loss + out.nsp_loss)
    only_mlm = ours(ids, segments, mask, mlm_labels=mlm)
    assert only_mlm.nsp_loss is None and torch.equal(only_mlm.loss, only_mlm.mlm_loss)
    assert ours(ids).loss is None


def test_a_wrong_gelu_would_break_parity(pair):
    hf, _ = pair
    ours = BertForPreTraining.from_hf(hf).eval()
    for module in ours.modules():
        if isinstance(module, torch.nn.GELU):
            module.approximate = "tanh"  # GPT-2's GELU instead of BERT's exact one
    ids, segments, mask = inputs()
    with torch.no_grad():
        diff = ours(ids, segments, mask).mlm_logits - hf(ids, mask, segments).prediction_logits
    assert diff.abs().max() > 2e-4  # > 2x the 1e-4 tolerance


def test_classifier_and_base_model_from_hf():
    hf = hf_bert("BertForSequenceClassification", num_labels=3)
    ours = BertForSequenceClassification.from_hf(hf).eval()
    assert ours.n_labels == 3
    ids, segments, mask = inputs()
    labels = torch.tensor([2, 0, 1])
    with torch.no_grad():
        ref = hf(ids, attention_mask=mask, token_type_ids=segments, labels=labels)
        out = ours(ids, segments, mask, labels)
        base = BertModel.from_hf(hf.bert).eval()(ids, segments, mask)
    torch.testing.assert_close(out.logits, ref.logits, atol=1e-4, rtol=0)
    torch.testing.assert_close(out.loss, ref.loss, atol=1e-4, rtol=0)
    torch.testing.assert_close(ours.classifier(base.pooled), ref.logits, atol=1e-4, rtol=0)


def test_from_hf_refuses_unsupported_models():
    with pytest.raises(ValueError, match="hidden_act='gelu'"):
        BertModel.from_hf(hf_bert("BertModel", hidden_act="relu"))
    with pytest.raises(ValueError, match="is_decoder"):
        BertModel.from_hf(hf_bert("BertModel", is_decoder=True))
    no_pooler = transformers.BertModel(transformers.BertConfig(**HF_SIZES), add_pooling_layer=False)
    with pytest.raises(ValueError, match="no weights for.*pooler.dense.weight"):
        BertModel.from_hf(no_pooler)
    with pytest.raises(ValueError, match="tie_word_embeddings"):
        BertForPreTraining.from_hf(hf_bert(tie_word_embeddings=False))


def test_fused_path_equals_explicit_and_padding_is_ignored():
    bert = small(BertModel)
    ids = torch.randint(7, 50, (2, 16))
    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, 10:] = 0
    ids[1, 10:] = 0
    out = bert(ids, attention_mask=mask, return_attn=True)
    torch.testing.assert_close(bert(ids, attention_mask=mask).last_hidden_state,
                               out.last_hidden_state, atol=1e-5, rtol=0)
    for w in out.attentions:
        torch.testing.assert_close(w.sum(-1), torch.ones(2, 4, 16))
        assert w[1, :, :, 10:].abs().max() == 0  # no query reads a padded key
        assert w[0].min() > 0  # without padding every key gets some weight
    other = ids.clone()
    other[1, 10:] = 42  # whatever sits in the padding changes nothing at the real positions
    torch.testing.assert_close(bert(other, attention_mask=mask).last_hidden_state[1, :10],
                               out.last_hidden_state[1, :10])
    assert (bert(other).last_hidden_state[1, :10] - out.last_hidden_state[1, :10]).abs().max() \
        > 1e-3  # ... but without the mask it does


def test_mask_tokens_chooses_15_percent_split_80_10_10():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(7, 400, (400, 64), generator=g)
    ids[:, 0], ids[:, 30] = 4, 5  # [CLS], [SEP]
    ids[::2, 50:] = 0  # padding
    masked, labels = mask_tokens(ids, 400, generator=torch.Generator().manual_seed(1))
    chosen = labels != -100
    eligible = ids >= 7
    assert not chosen[~eligible].any()  # specials and padding are never chosen
    assert torch.equal(masked[~chosen], ids[~chosen])  # only chosen positions change
    assert torch.equal(labels[chosen], ids[chosen])
    assert abs(chosen.sum() / eligible.sum() - 0.15) < 0.015
    n = chosen.sum()
    as_mask = (masked[chosen] == 6).sum() / n
    kept = (masked[chosen] == ids[chosen]).sum() / n
    random = 1 - as_mask - kept
    assert abs(as_mask - 0.8) < 0.03 and abs(kept - 0.1) < 0.03 and abs(random - 0.1) < 0.03
    assert masked[chosen & (masked != 6)].min() >= 7  # random tokens are never special
    again = mask_tokens(ids, 400, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again[0], masked) and torch.equal(again[1], labels)
    other = mask_tokens(ids, 400, generator=torch.Generator().manual_seed(2))
    assert not torch.equal(other[1], labels)
    short = torch.tensor([[4, 9, 5, 0, 0], [4, 5, 0, 0, 0]])  # one real token; none at all
    _, labels = mask_tokens(short, 400)
    assert labels.tolist() == [[-100, 9, -100, -100, -100], [-100] * 5]


def test_nsp_pairs_half_consecutive_half_from_another_document():
    docs = [[f"d{d}s{s}" for s in range(2 + d % 4)] for d in range(30)]
    pairs = nsp_pairs(docs, 2000, seed=0)
    labels = [label for _, _, label in pairs]
    assert abs(sum(labels) / len(labels) - 0.5) < 0.03
    for a, b, label in pairs:
        da, sa = map(int, a[1:].split("s"))
        db, sb = map(int, b[1:].split("s"))
        if label == 0:
            assert da == db and sb == sa + 1  # IsNext: the actual next sentence
        else:
            assert da != db  # NotNext: from a different document
    assert nsp_pairs(docs, 50, seed=3) == nsp_pairs(docs, 50, seed=3)
    with pytest.raises(ValueError, match="at least 2"):
        nsp_pairs([["only", "one doc"]], 5)


def test_encode_pair_layout_truncation_and_collate(tokenizer):
    a, b = "나는 버스정류장에서 방금 버스를 놓쳤다", "조금 늦을 것 같아"
    ta, tb = tokenizer.encode(a), tokenizer.encode(b)
    ids, segments = encode_pair(tokenizer, a, b, max_len=64)
    assert ids == [4, *ta, 5, *tb, 5]
    assert segments == [0] * (len(ta) + 2) + [1] * (len(tb) + 1)
    assert len(ta) > len(tb) + 2  # so truncation cuts a first
    short, seg = encode_pair(tokenizer, a, b, max_len=len(ta) + len(tb) + 1)  # two too many
    assert short == [4, *ta[:-2], 5, *tb, 5] and len(seg) == len(short)
    tiny, _ = encode_pair(tokenizer, a, b, max_len=7)
    assert len(tiny) == 7 and tiny.count(5) == 2
    single, seg = encode_pair(tokenizer, b)
    assert single == [4, *tb, 5] and set(seg) == {0}
    input_ids, token_type_ids, mask = collate_pairs([(ids, segments), (single, seg)])
    assert input_ids.shape == token_type_ids.shape == mask.shape == (2, len(ids))
    assert input_ids[1].tolist() == single + [0] * (len(ids) - len(single))
    assert mask.sum(1).tolist() == [len(ids), len(single)]
    assert token_type_ids[1].sum() == 0
    with pytest.raises(ValueError, match="max_len"):
        encode_pair(tokenizer, a, b, max_len=2)


def test_pretraining_batch_feeds_the_model(tokenizer):
    from lmlib.data import load_corpus

    sents = load_corpus("ko_daily")[:60]
    docs = [sents[i:i + 4] for i in range(0, 60, 4)]
    pairs = nsp_pairs(docs, 8, seed=0)
    batch = pretraining_batch(tokenizer, pairs, max_len=32,
                              generator=torch.Generator().manual_seed(0))
    assert batch["nsp_labels"].tolist() == [label for _, _, label in pairs]
    assert ((batch["mlm_labels"] != -100).sum(1) >= 1).all()
    model = small(vocab_size=tokenizer.vocab_size, max_len=32)
    out = model(**batch)
    assert out.mlm_logits.shape == (8, batch["input_ids"].size(1), tokenizer.vocab_size)
    assert torch.isfinite(out.loss)


def test_parameter_counts():
    kw = dict(vocab_size=50, max_len=16, d_model=32, n_heads=4, n_layers=2)
    for extra in ({}, {"d_ff": 48, "type_vocab_size": 3}):
        c = BertConfig(**{**kw, **extra})
        assert count_parameters(c) == BertModel(c).num_parameters()
        pre = BertForPreTraining(c)
        assert count_parameters(c, "pretraining") == pre.num_parameters()
        clf = BertForSequenceClassification(c, n_labels=3)
        assert count_parameters(c, "classifier", 3) == clf.num_parameters()
        for model in (pre, clf):
            table = parameter_table(model)
            assert sum(n for _, n in table) == model.num_parameters()
    names = [name for name, _ in parameter_table(pre)]
    assert names == ["bert.embeddings", "bert.encoder.layer.0", "bert.encoder.layer.1",
                     "bert.pooler", "cls.predictions", "cls.seq_relationship"]
    assert dict(parameter_table(pre))["cls.predictions"] == 32 * 32 + 3 * 32 + 50  # no matrix
    with torch.device("meta"):  # shapes only, no memory
        ref = transformers.BertForPreTraining(transformers.BertConfig())
    base = BertConfig(**PRESETS["bert-base"])
    assert count_parameters(base, "pretraining") == ref.num_parameters() == 110_106_428
    assert count_parameters(base) == 109_482_240
    assert 330e6 < count_parameters(BertConfig(**PRESETS["bert-large"])) < 340e6


def test_save_and_load_roundtrip(tmp_path):
    model = small(dropout=0.2)
    with torch.no_grad():
        model.cls.predictions.bias.normal_()
    model.save(tmp_path / "pre")
    meta = json.loads((tmp_path / "pre" / "config.json").read_text())
    assert meta["model"] == "BertForPreTraining" and meta["config"]["dropout"] == 0.2
    back = BertForPreTraining.load(tmp_path / "pre").eval()
    ids = torch.randint(0, 50, (2, 16))
    assert torch.equal(back(ids).mlm_logits, model(ids).mlm_logits)
    assert back.cls.predictions.decoder.weight is back.bert.embeddings.word_embeddings.weight
    assert back.cls.predictions.decoder.bias is back.cls.predictions.bias
    clf = small(BertForSequenceClassification)
    clf.save(tmp_path / "clf")
    back = BertForSequenceClassification.load(tmp_path / "clf").eval()
    assert back.n_labels == 2 and torch.equal(back(ids).logits, clf(ids).logits)
    with pytest.raises(ValueError, match="not a BertForPreTraining"):
        BertForPreTraining.load(tmp_path / "clf")
    with pytest.raises(FileNotFoundError, match="BertModel.save"):
        BertModel.load(tmp_path / "nothing")


def test_classifier_from_pretraining_copies_the_base_and_freezes_it():
    pre = small()
    clf = BertForSequenceClassification.from_pretraining(pre, n_labels=3)
    for key, value in pre.bert.state_dict().items():
        assert torch.equal(clf.bert.state_dict()[key], value)
    with torch.no_grad():
        clf.bert.pooler.dense.weight.add_(1.0)  # a copy: fine-tuning leaves `pre` alone
    assert not torch.equal(clf.bert.pooler.dense.weight, pre.bert.pooler.dense.weight)
    clf.freeze_base()
    trainable = {name for name, p in clf.named_parameters() if p.requires_grad}
    assert trainable == {"classifier.weight", "classifier.bias"}
    loss = clf.train()(torch.randint(7, 50, (4, 16)), labels=torch.tensor([0, 1, 2, 0])).loss
    loss.backward()
    assert all(p.grad is None for p in clf.bert.parameters())
    assert clf.classifier.weight.grad is not None
    clf.freeze_base(False)
    assert all(p.requires_grad for p in clf.parameters())


def test_overfits_one_mlm_batch():
    torch.manual_seed(0)
    model = small(dropout=0.0).train()
    ids = torch.randint(7, 50, (8, 16))
    ids[:, 0] = 4
    masked, labels = mask_tokens(ids, 50, mask_prob=0.3, generator=torch.Generator().manual_seed(0))
    nsp = torch.tensor([0, 1] * 4)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = None
    for _ in range(80):
        out = model(masked, mlm_labels=labels, nsp_labels=nsp)
        first = first if first is not None else out.loss.item()
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    assert first > 3.0 and out.loss.item() < 0.1 * first


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="d_model must be divisible by n_heads"):
        BertConfig(vocab_size=10, d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="type_vocab_size"):
        BertConfig(vocab_size=10, type_vocab_size=0)
    with pytest.raises(ValueError, match="pad_id"):
        BertConfig(vocab_size=10, pad_id=10)
    with pytest.raises(ValueError, match="dropout"):
        BertConfig(vocab_size=10, dropout=1.0)
    with pytest.raises(TypeError, match="config must be a BertConfig"):
        BertModel({"vocab_size": 10})
    with pytest.raises(ValueError, match="n_labels"):
        BertForSequenceClassification(BertConfig(vocab_size=10), n_labels=1)
    model = small()
    ok = torch.zeros(2, 5, dtype=torch.long)
    with pytest.raises(ValueError, match="input_ids must be a"):
        model(torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(torch.full((1, 3), 50))
    with pytest.raises(ValueError, match="max_len=16"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="token_type_ids must be"):
        model(ok, torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="type_vocab_size"):
        model(ok, torch.full((2, 5), 2))
    with pytest.raises(ValueError, match="attention_mask must be"):
        model(ok, attention_mask=torch.ones(2, 6))
    with pytest.raises(ValueError, match="only 0"):
        model(ok, attention_mask=torch.full((2, 5), 2))
    with pytest.raises(ValueError, match="mlm_labels"):
        model(ok, mlm_labels=torch.full((2, 5), 50))
    with pytest.raises(ValueError, match="nsp_labels"):
        model(ok, nsp_labels=torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="ids must be a"):
        mask_tokens(torch.zeros(3), 50)
    with pytest.raises(ValueError, match="mask_prob"):
        mask_tokens(ok, 50, mask_prob=0.0)
    with pytest.raises(ValueError, match="special_ids"):
        mask_tokens(ok, 50, mask_id=9)
    assert SPECIAL_IDS == (0, 1, 2, 3, 4, 5, 6)


def test_pretraining_loss_equals_forward_loss():
    from lmlib.bert import BertConfig, BertForPreTraining
    from lmlib.bert_data import mask_tokens

    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(vocab_size=50, max_len=16, d_model=32, n_heads=2,
                                          n_layers=2, dropout=0.0))
    ids = torch.randint(7, 50, (3, 16))
    masked, labels = mask_tokens(ids, 50, generator=torch.Generator().manual_seed(0))
    nsp = torch.tensor([0, 1, 1])
    want = model(masked, mlm_labels=labels, nsp_labels=nsp).loss
    got = model.pretraining_loss(masked, None, None, labels, nsp)
    torch.testing.assert_close(got, want)


def test_fill_mask_and_blank_scorer_read_both_sides():
    from lmlib.bert import BertConfig, BertForPreTraining
    from lmlib.bert_data import MLMBlankScorer, fill_mask, single_token_words
    from lmlib.blanks import Blank, evaluate_blanks
    from lmlib.data import load_corpus
    from lmlib.tokenizer import train_tokenizer

    tok = train_tokenizer(load_corpus("ko_daily")[:300], kind="wordpiece", vocab_size=300)
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(vocab_size=tok.vocab_size, max_len=32, d_model=32,
                                          n_heads=2, n_layers=1, dropout=0.0))
    words = single_token_words(tok, ["오늘", "날씨", "좋다", "없는단어요", "오늘"])
    assert "오늘" in words and "없는단어요" not in words
    top = fill_mask(model, tok, "오늘 [MASK] 좋다", top_k=3)
    assert len(top) == 1 and len(top[0]) == 3 and 0 < sum(p for _, p in top[0]) <= 1
    with pytest.raises(ValueError, match="MASK"):
        fill_mask(model, tok, "오늘 날씨 좋다")
    scorer = MLMBlankScorer(model, tok, words)
    blank = Blank(("오늘",), "날씨", ("좋다",))
    scores = scorer.scores(blank)
    assert set(scores) == set(words) and all(v <= 0 for v in scores.values())
    # the right-hand side matters (a forward LM would ignore it)
    other = scorer.scores(Blank(("오늘",), "날씨", ("오늘",)))
    assert scores != other
    assert evaluate_blanks(scorer, [blank])["n"] == 1
    with pytest.raises(ValueError, match="single-token"):
        MLMBlankScorer(model, tok, ["없는단어요"])


def test_blank_scorer_keeps_the_blank_in_a_long_sentence():
    from lmlib.bert import BertConfig, BertForPreTraining
    from lmlib.bert_data import MLMBlankScorer
    from lmlib.blanks import Blank
    from lmlib.data import load_corpus
    from lmlib.tokenizer import train_tokenizer

    tok = train_tokenizer(load_corpus("ko_daily")[:300], kind="wordpiece", vocab_size=300)
    model = BertForPreTraining(BertConfig(vocab_size=tok.vocab_size, max_len=16, d_model=16,
                                          n_heads=2, n_layers=1)).eval()
    words = ["오늘"] * 30
    scores = MLMBlankScorer(model, tok, ["오늘"]).scores(Blank(tuple(words), "오늘", tuple(words)))
    assert list(scores) == ["오늘"]


def test_whole_word_masking_predicts_every_piece_of_a_chosen_word():
    from lmlib.bert_data import mask_tokens

    g = torch.Generator().manual_seed(0)
    # Rows: [CLS] then words of 1-3 pieces, [SEP], padding (ids 0-6 are special).
    ids = torch.randint(7, 50, (64, 40), generator=g)
    ids[:, 0], ids[:, -3], ids[:, -2:] = 2, 3, 0
    starts = torch.rand(64, 40, generator=g) < 0.5
    starts[:, 1] = True  # a row's first real token begins a word
    masked, labels = mask_tokens(ids, 50, word_starts=starts, generator=torch.Generator().manual_seed(1))
    chosen = labels != -100
    word = (starts | (ids < 7)).long().cumsum(1)  # word number of each position
    for b in range(64):
        real = (ids[b] >= 7)
        for w in word[b][real].unique():
            pieces = real & (word[b] == w)
            assert chosen[b][pieces].all() or not chosen[b][pieces].any()  # all or none
            if chosen[b][pieces].any():  # one 80/10/10 choice per word: [MASK] on all or none
                is_mask = masked[b][pieces] == 6
                assert is_mask.all() or not is_mask.any()
        n, k = int(real.sum()), round(0.15 * int(real.sum()))
        longest = max(int((real & (word[b] == w)).sum()) for w in word[b][real].unique())
        assert k <= int(chosen[b].sum()) <= k + longest - 1  # the last word may run past k
    assert not chosen[ids < 7].any()
    again = mask_tokens(ids, 50, word_starts=starts, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again[0], masked) and torch.equal(again[1], labels)


def test_whole_word_masking_on_single_piece_words_is_token_masking():
    from lmlib.bert_data import mask_tokens

    ids = torch.randint(7, 50, (8, 30), generator=torch.Generator().manual_seed(0))
    every = torch.ones(8, 30, dtype=torch.bool)
    a = mask_tokens(ids, 50, word_starts=every, generator=torch.Generator().manual_seed(3))
    b = mask_tokens(ids, 50, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])  # every token its own word


def test_whole_word_masking_checks_word_starts():
    from lmlib.bert_data import mask_tokens

    ids = torch.randint(7, 50, (2, 5))
    with pytest.raises(ValueError, match="word_starts must be a bool tensor"):
        mask_tokens(ids, 50, word_starts=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="word_starts must be a bool tensor"):
        mask_tokens(ids, 50, word_starts=torch.ones(2, 5))


def test_fill_mask_and_blank_scorer_refuse_bad_top_k_str_lists_and_a_cut_off_mask():
    from lmlib.bert import BertConfig, BertForPreTraining
    from lmlib.bert_data import MLMBlankScorer, fill_mask, single_token_words
    from lmlib.blanks import Blank
    from lmlib.data import load_corpus
    from lmlib.tokenizer import train_tokenizer

    tok = train_tokenizer(load_corpus("ko_daily")[:300], kind="wordpiece", vocab_size=300)
    model = BertForPreTraining(BertConfig(vocab_size=tok.vocab_size, max_len=8, d_model=16,
                                          n_heads=2, n_layers=1, dropout=0.0))
    for bad in (0, -1):
        with pytest.raises(ValueError, match="top_k must be an int >= 1"):
            fill_mask(model, tok, "오늘 [MASK] 좋다", top_k=bad)
    with pytest.raises(ValueError, match="cut off"):
        fill_mask(model, tok, "오늘 날씨 정말 좋다 오늘 날씨 정말 좋다 [MASK]")
    with pytest.raises(TypeError, match="words must be a list of strings"):
        single_token_words(tok, "오늘")
    with pytest.raises(TypeError, match="candidates must be a list of strings"):
        MLMBlankScorer(model, tok, "오늘")
    scorer = MLMBlankScorer(model, tok, single_token_words(tok, ["오늘", "날씨"]))
    with pytest.raises(ValueError, match="top_k must be an int >= 1 or None"):
        scorer.rank_blank(Blank(("오늘",), "날씨", ()), top_k=0)


def test_electra_learns_replaced_token_detection_and_feeds_the_classifier(tmp_path):
    from lmlib.bert import (BertConfig, BertForSequenceClassification, ElectraForPreTraining,
                            load_pretraining)

    torch.manual_seed(0)
    c = BertConfig(vocab_size=40, max_len=12, d_model=16, n_heads=2, n_layers=2, dropout=0.0)
    model = ElectraForPreTraining(c, generator_layers=1)
    # shared embeddings, generator head tied to them
    assert model.generator.embeddings is model.bert.embeddings
    assert model.generator_head.decoder.weight is model.bert.embeddings.word_embeddings.weight
    ids = torch.randint(5, 40, (8, 12))
    labels = torch.full_like(ids, -100)
    labels[:, 3] = ids[:, 3]
    masked = ids.clone()
    masked[:, 3] = 4  # [MASK]
    mask = torch.ones_like(ids)
    mask[0, 10:] = 0
    out = model(masked, None, mask, labels, generator=torch.Generator().manual_seed(0))
    # only masked positions can be replaced, and the sample decides it
    assert not out.replaced[:, :3].any() and not out.replaced[:, 4:].any()
    assert out.rtd_correct.numel() == int(mask.sum())
    assert torch.isclose(out.loss, out.mlm_loss + 50.0 * out.rtd_loss)
    again = model(masked, None, mask, labels, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.replaced, out.replaced)  # seeded samples
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = out.rtd_loss.item()
    for step in range(60):
        loss = model(masked, None, mask, labels, generator=torch.Generator().manual_seed(step)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model(masked, None, mask, labels, torch.Generator().manual_seed(0)).rtd_loss < first
    model.save(tmp_path / "e")
    loaded = load_pretraining(tmp_path / "e")
    assert isinstance(loaded, ElectraForPreTraining) and loaded.generator_layers == 1
    assert loaded.generator.embeddings is loaded.bert.embeddings
    clf = BertForSequenceClassification.from_pretraining(loaded, n_labels=2, dropout=0.1)
    assert clf.config.dropout == 0.1 and loaded.config.dropout == 0.0
    assert torch.equal(clf.bert.embeddings.word_embeddings.weight,
                       loaded.bert.embeddings.word_embeddings.weight)
    with pytest.raises(ValueError, match="generator_layers must be an int in"):
        ElectraForPreTraining(c, generator_layers=3)
    with pytest.raises(ValueError, match="masks no position"):
        model(masked, None, mask, torch.full_like(ids, -100))
