"""Tests for lmlib.kiwi_lm: Kiwi's CoNg morpheme LM (needs kiwipiepy, the "morph" extra)."""

import importlib.metadata
import math
import subprocess
import sys

import pytest

pytest.importorskip("kiwipiepy")

from lmlib import kiwi_lm, text  # noqa: E402
from lmlib.kiwi_lm import KiwiLM  # noqa: E402

BUS = "나는 버스정류장에서 방금 버스를"
BUS_GA = "나는 버스정류장에서 방금 버스가"
CHOICES = ["사랑해", "고양이", "놓쳤다", "사고남"]
SENTENCE = BUS + " 놓쳤다"


@pytest.fixture(scope="module")
def lm():
    return KiwiLM()  # the model loads once (about 3 s) and is shared by every test


# --- loading ----------------------------------------------------------------

def test_import_does_not_import_kiwipiepy():
    code = "import sys, lmlib.kiwi_lm; print('kiwipiepy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_model_is_loaded_once_and_shared_with_the_tokenizer(lm):
    assert KiwiLM()._kiwi is lm._kiwi
    assert lm._kiwi.model_type in kiwi_lm.LM_MODEL_TYPES
    assert text._KIWI is lm._kiwi  # one 450 MB model for MorphTokenizer and KiwiLM


def test_missing_kiwipiepy_says_how_to_install(without_kiwipiepy):
    with pytest.raises(ImportError, match=r'pip install "lm-coursebook\[morph\]"'):
        KiwiLM()


# --- sentence scores ----------------------------------------------------------

def test_scores_are_deterministic(lm):
    first = lm.score(SENTENCE)
    assert lm.score(SENTENCE) == first
    assert [m.logprob for m in lm.next_morphemes(BUS)] == \
        [m.logprob for m in lm.next_morphemes(BUS)]


@pytest.mark.skipif(
    (importlib.metadata.version("kiwipiepy"), importlib.metadata.version("kiwipiepy_model"))
    != ("0.24.1", "0.24.0"),
    reason="the numbers were measured with kiwipiepy 0.24.1 and kiwipiepy_model 0.24.0")
def test_the_numbers_the_chapter_prints(lm):
    assert lm.sentence_logprob(SENTENCE) == pytest.approx(-46.282, abs=1e-3)
    ranked = {c.choice: c.logprob for c in lm.rank(BUS, CHOICES)}
    assert ranked == pytest.approx({"놓쳤다": -11.332, "사랑해": -22.481, "고양이": -23.919,
                                    "사고남": -24.086}, abs=1e-3)
    top = lm.next_morphemes("발 없는 말이", top_k=1)[0]
    assert (top.form, top.tag) == ("다", "EF")
    assert top.prob == pytest.approx(0.3542, abs=1e-4)


def test_score_is_the_sum_of_morpheme_terms_and_end_of_sentence(lm):
    s = lm.score(SENTENCE)
    assert s.morphemes[-3:] == (("놓치", "VV"), ("었", "EP"), ("다", "EF"))
    assert len(s.logprobs) == len(s.morphemes) and all(lp < 0 for lp in s.logprobs)
    assert s.n_sentences == 1 and s.n_predictions == len(s.morphemes) + 1
    assert s.eos_logprob < 0
    assert sum(s.logprobs) + s.eos_logprob == pytest.approx(s.logprob, abs=1e-3)
    assert s.mean_logprob == pytest.approx(s.logprob / s.n_predictions)
    assert s.perplexity == pytest.approx(math.exp(-s.mean_logprob))
    assert s.tagged.startswith("나/NP 는/JX 버스/NNG")


def test_an_unfinished_sentence_has_no_end_of_sentence_term(lm):
    s = lm.score(BUS, complete=False)
    assert s.eos_logprob == 0.0 and s.n_predictions == len(s.morphemes)
    assert sum(s.logprobs) == pytest.approx(s.logprob, abs=1e-3)
    assert lm.sentence_logprob(BUS) < s.logprob  # "...버스를." as a whole sentence is unlikely


def test_each_sentence_of_a_text_gets_its_end_of_sentence_term(lm):
    both = lm.score("나는 밥을 먹었다. 너는 잤다.")
    first, second = lm.score("나는 밥을 먹었다."), lm.score("너는 잤다.")
    assert both.n_sentences == 2 and both.n_eos == 2
    assert both.eos_logprob == pytest.approx(first.eos_logprob + second.eos_logprob, abs=1e-3)
    assert both.logprob == pytest.approx(first.logprob + second.logprob, abs=1e-3)


def test_grammatical_sentence_beats_its_scrambled_version(lm):
    scrambled = "놓쳤다 버스를 방금 버스정류장에서 나는"
    assert lm.sentence_logprob(SENTENCE) > lm.sentence_logprob(scrambled) + 10


def test_clear_lecture_comparisons(lm):
    # Reading 2:32 aloud: native-number hours and Sino-Korean minutes (6 nats apart).
    assert lm.sentence_logprob("두 시 삼십 이분") > lm.sentence_logprob("이시 서른 두분") + 3
    # 난폭운전 is a set phrase, 무모 운전 is not (10 nats apart).
    assert lm.sentence_logprob("난폭 운전") > lm.sentence_logprob("무모 운전") + 5


def test_chain_rule_and_compare_tables(lm):
    table = lm.chain_rule(SENTENCE)
    s = lm.score(SENTENCE)
    assert list(table["morpheme"]) == [f"{f}/{t}" for f, t in s.morphemes] + ["</s>"]
    assert table["logprob"].sum() == pytest.approx(s.logprob, abs=1e-3)
    assert len(lm.chain_rule(BUS, complete=False)) == len(lm.score(BUS, complete=False).morphemes)
    pair = ["저는 어제 점심을 먹었습니다", "저는 2015년 3월 18일 점심을 먹었습니다"]
    df = lm.compare(pair)
    assert list(df["sentence"]) == pair
    assert list(df.columns) == ["sentence", "logprob", "n_predictions", "mean_logprob",
                                "perplexity", "morphemes"]
    assert df["logprob"][0] == pytest.approx(lm.sentence_logprob(pair[0]))


# --- continuations ------------------------------------------------------------

def test_after_beoseureul_missing_the_bus_ranks_first(lm):
    ranked = lm.rank(BUS, CHOICES)
    assert [c.choice for c in ranked][0] == "놓쳤다"
    by_choice = {c.choice: c for c in ranked}
    assert by_choice["놓쳤다"].logprob > by_choice["고양이"].logprob + 5
    assert [c.logprob for c in ranked] == sorted((c.logprob for c in ranked), reverse=True)
    assert by_choice["놓쳤다"].morphemes == (("놓치", "VV"), ("었", "EP"), ("다", "EF"))


def test_the_particle_shifts_the_continuations(lm):
    # The model does not put 사고남 first after 버스가 (놓쳤다 stays first), but the
    # particle moves both choices the lecture's way, by more than 3 nats each.
    reul = {c.choice: c.logprob for c in lm.rank(BUS, CHOICES)}
    ga = {c.choice: c.logprob for c in lm.rank(BUS_GA, CHOICES)}
    assert ga["사고남"] > reul["사고남"] + 3
    assert reul["놓쳤다"] > ga["놓쳤다"] + 3


def test_rank_is_the_chain_rule_over_the_choice(lm):
    c = lm.rank(BUS, ["놓쳤다"])[0]
    assert not c.prefix_reanalysed and c.text == SENTENCE
    s = lm.score(SENTENCE)
    tail = sum(s.logprobs[-len(c.morphemes):]) + s.eos_logprob
    assert c.logprob == pytest.approx(tail, abs=1e-3)
    assert c.prob == pytest.approx(math.exp(c.logprob))
    assert lm.rank(BUS, ["놓쳤다"], complete=False)[0].logprob > c.logprob  # no </s> term


def test_rank_drops_repeated_choices_and_keeps_ties_in_order(lm):
    assert [c.choice for c in lm.rank(BUS, ["놓쳤다", "놓쳤다"])] == ["놓쳤다"]
    assert [c.choice for c in lm.rank(BUS, ["놓쳤다", "놓쳤다 "])] == ["놓쳤다", "놓쳤다 "]


# --- next morphemes -------------------------------------------------------------

def test_next_morphemes_are_probabilities_sorted_best_first(lm):
    preds = lm.next_morphemes("발 없는 말이", top_k=20)
    assert len(preds) == 20
    assert all(0 < p.prob <= 1 for p in preds)
    assert [p.prob for p in preds] == sorted((p.prob for p in preds), reverse=True)
    assert sum(p.prob for p in preds) <= 1 + 1e-3


def test_next_morphemes_agree_with_the_sentence_score(lm):
    # 를 is a variant the LM stores as 을: the context must not be dropped (Kiwi's own
    # str and Token-id paths drop it in 0.24.1 and predict as at a sentence start).
    preds = {(p.form, p.tag): p.logprob for p in lm.next_morphemes(BUS, top_k=10)}
    assert max(preds, key=preds.get) == ("타", "VV")
    s = lm.score(SENTENCE)
    assert preds[("놓치", "VV")] == pytest.approx(s.logprobs[s.morphemes.index(("놓치", "VV"))],
                                                abs=1e-3)


def test_next_morphemes_from_pairs_fix_the_analysis(lm):
    as_text = lm.next_morphemes(BUS, top_k=5)
    pairs = list(lm.score(BUS, complete=False).morphemes)
    assert lm.next_morphemes(pairs, top_k=5) == as_text
    subject = [("발", "NNG"), ("없", "VA"), ("는", "ETM"), ("말", "NNG"), ("이", "JKS")]
    assert lm.next_morphemes(subject, top_k=1)[0].tag in ("VV", "VA")  # a verb after 말이/JKS
    assert lm.next_morphemes("발 없는 말이", top_k=1)[0].tag == "EF"  # best analysis: 이/VCP


def test_class_predictions_have_readable_labels(lm):
    labels = [p.label for p in lm.next_morphemes("오늘 점심은", top_k=10)]
    assert "먹/VV" in labels
    assert "<SN>" in labels  # form "": any number


def test_a_prefix_morpheme_without_lm_entry_is_refused(lm):
    # Kiwi analyses 달았다 here as 닫/VV-I, a dictionary entry the LM does not have.
    with pytest.raises(ValueError, match="no entry in the language model"):
        lm.next_morphemes("귤이 정말 달았다")


# --- similarity -----------------------------------------------------------------

def test_similarity(lm):
    assert -1 <= lm.similarity("사랑", "애정") <= 1
    assert lm.similarity("사랑", "애정") > lm.similarity("사랑", "알고리즘")
    assert lm.similarity(("먹", "VV"), ("마시", "VV")) == \
        pytest.approx(lm.similarity(("마시", "VV"), ("먹", "VV")))
    near = lm.most_similar("난폭", top_k=3)
    assert len(near) == 3
    assert [s for _, _, s in near] == sorted((s for _, _, s in near), reverse=True)


# --- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("call, error, match", [
    (lambda lm: lm.score(["나는", "간다"]), TypeError, "text must be a str"),
    (lambda lm: lm.score(None), TypeError, "text must be a str"),
    (lambda lm: lm.score(""), ValueError, "text must be a non-empty str"),
    (lambda lm: lm.score("   \n"), ValueError, "text must be a non-empty str"),
    (lambda lm: lm.score("나는 간다", complete=1), TypeError, "complete must be True or False"),
    (lambda lm: lm.score("나는 간다", complete="yes"), TypeError, "complete must be True or False"),
    (lambda lm: lm.sentence_logprob(3), TypeError, "text must be a str"),
    (lambda lm: lm.chain_rule(""), ValueError, "text must be a non-empty str"),
    (lambda lm: lm.compare("저는 밥을 먹었다"), TypeError, "got the str '저는 밥을 먹었다'; wrap it in a list"),
    (lambda lm: lm.compare([]), ValueError, "sentences is empty"),
    (lambda lm: lm.compare(["저는 밥을 먹었다", 3]), TypeError, r"sentences\[1\] must be a str"),
    (lambda lm: lm.compare(["저는 밥을 먹었다", ""]), ValueError, r"sentences\[1\] must be a non"),
    (lambda lm: lm.compare({"a": 1}), TypeError, "sentences must be a list of str"),
    (lambda lm: lm.rank(BUS, "놓쳤다"), TypeError, "choices must be a list of str, got the str '놓쳤다'"),
    (lambda lm: lm.rank(BUS, []), ValueError, "choices is empty"),
    (lambda lm: lm.rank(BUS, ["놓쳤다", None]), TypeError, r"choices\[1\] must be a str"),
    (lambda lm: lm.rank(BUS, ["놓쳤다", " "]), ValueError, r"choices\[1\] must be a non-empty"),
    (lambda lm: lm.rank("", CHOICES), ValueError, "prefix must be a non-empty str"),
    (lambda lm: lm.rank(["나는"], CHOICES), TypeError, "prefix must be a str"),
    (lambda lm: lm.rank(BUS, CHOICES, sep=None), TypeError, "sep must be a str"),
    (lambda lm: lm.rank(BUS, CHOICES, complete=None), TypeError, "complete must be True or"),
    (lambda lm: lm.next_morphemes(BUS, top_k=0), ValueError, "top_k must be an int >= 1"),
    (lambda lm: lm.next_morphemes(BUS, top_k=-3), ValueError, "top_k must be an int >= 1"),
    (lambda lm: lm.next_morphemes(BUS, top_k=True), TypeError, "top_k must be an int >= 1"),
    (lambda lm: lm.next_morphemes(BUS, top_k=2.0), TypeError, "top_k must be an int >= 1"),
    (lambda lm: lm.next_morphemes(""), ValueError, "prefix must be a non-empty str"),
    (lambda lm: lm.next_morphemes([]), ValueError, "prefix is empty"),
    (lambda lm: lm.next_morphemes(None), TypeError, "prefix must be a str or a list"),
    (lambda lm: lm.next_morphemes(["발", "없는"]), TypeError, r"prefix\[0\] is the str"),
    (lambda lm: lm.next_morphemes(("말", "NNG")), TypeError, r"wrap it"),
    (lambda lm: lm.next_morphemes([("말",)]), TypeError, r"prefix\[0\] must be a \(form, tag\)"),
    (lambda lm: lm.next_morphemes([("말", "")]), TypeError, r"prefix\[0\] must be a \(form, tag"),
    (lambda lm: lm.next_morphemes([("말", 1)]), TypeError, r"prefix\[0\] must be a \(form, tag"),
    (lambda lm: lm.next_morphemes([("말", "XYZ")]), ValueError, r"prefix\[0\].*Unknown tag"),
    (lambda lm: lm.next_morphemes([("버스", "NNP")]), ValueError, r"prefix\[0\].*No morpheme"),
    (lambda lm: lm.next_morphemes([("닫", "VV-I")]), ValueError, r"prefix\[0\].*Multiple"),
    (lambda lm: lm.similarity("먹", ("마시", "VV")), ValueError, r"morpheme1 '먹'.*Multiple"),
    (lambda lm: lm.similarity("사랑", "뷁쉙"), ValueError, r"morpheme2 '뷁쉙'.*No morpheme"),
    (lambda lm: lm.similarity("사랑", ""), ValueError, "morpheme2 must be one morpheme form"),
    (lambda lm: lm.similarity("사랑 애정", "사랑"), ValueError, "morpheme1 must be one morpheme"),
    (lambda lm: lm.similarity(3, "사랑"), TypeError, "morpheme1 must be a morpheme form"),
    (lambda lm: lm.similarity(("먹", "VV", 0), "사랑"), TypeError, r"morpheme1 must be a \(form"),
    (lambda lm: lm.most_similar("사랑", top_k=0), ValueError, "top_k must be an int >= 1"),
    (lambda lm: lm.most_similar("사랑", top_k=False), TypeError, "top_k must be an int >= 1"),
    (lambda lm: lm.most_similar(["사랑"]), TypeError, r"morpheme must be a \(form, tag\)"),
])
def test_bad_input_is_refused_with_a_clear_error(lm, call, error, match):
    with pytest.raises(error, match=match):
        call(lm)
