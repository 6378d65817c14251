"""The training scripts end to end on tiny data and models the test builds itself."""

import importlib.util
import json
import random
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = ["재밌다", "최고", "감동", "추천", "명작", "좋았다"]
BAD = ["지루", "최악", "별로", "실망", "아깝다", "졸았다"]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_nsmc(folder: Path, n_train: int, n_test: int) -> None:
    rng = random.Random(0)
    folder.mkdir()
    next_id = 1000
    for split, n in (("train", n_train), ("test", n_test)):
        lines = ["id\tdocument\tlabel"]
        for _ in range(n):
            label = rng.randint(0, 1)
            words = rng.choices(GOOD if label else BAD, k=3) + rng.choices(GOOD + BAD, k=1)
            lines.append(f"{next_id}\t영화 {' '.join(words)}\t{label}")
            next_id += 1
        (folder / f"ratings_{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def tiny_bert(tmp_path):
    from lmlib.bert import BertConfig, BertForPreTraining
    from lmlib.data import save_trained_ids
    from lmlib.tokenizer import train_tokenizer

    tok = train_tokenizer([f"영화 {a} {b}" for a in GOOD + BAD for b in GOOD + BAD],
                          kind="wordpiece", vocab_size=120, min_frequency=1)
    model = BertForPreTraining(BertConfig(vocab_size=tok.vocab_size, max_len=16, d_model=16,
                                          n_heads=2, n_layers=1, pad_id=tok.pad_id))
    folder = tmp_path / "bert"
    model.save(folder, tokenizer=tok)
    save_trained_ids(folder, ["7", "1000"])
    return folder


def test_finetune_bert_reports_baseline_variants_curve_and_trained_ids(tmp_path, tiny_bert):
    from lmlib.data import load_nsmc, load_trained_ids

    write_nsmc(tmp_path / "nsmc", 240, 80)
    out = tmp_path / "out"
    report = load_script("finetune_bert").main([
        "--data-dir", str(tmp_path / "nsmc"), "--pretrained", str(tiny_bert), "--out", str(out),
        "--epochs", "1", "--batch-size", "16", "--max-len", "16", "--val-reviews", "40",
        "--sizes", "64", "--curve-seeds", "2", "--curve-steps", "3", "--curve-test", "30"])
    results = report["results"]
    assert set(results) == {"tfidf", "pretrained", "scratch", "frozen"}
    assert results["tfidf"]["C"] in (0.3, 1.0, 3.0, 10.0)
    assert results["tfidf"]["test_accuracy"] > 0.8  # the words decide the label
    assert all(0 <= r["test_accuracy"] <= 1 for r in results.values())
    assert results["frozen"]["trainable_parameters"] < results["scratch"]["trainable_parameters"]
    runs = report["curve"]["runs"]
    assert [(r["size"], r["seed"]) for r in runs] == [(64, 0), (64, 1)]
    assert all(set(r) == {"size", "seed", "tfidf", "pretrained", "scratch", "frozen"} for r in runs)
    assert json.loads((out / "report.json").read_text())["curve"]["test_reviews"] == 30
    # Every review the classifier saw in any stage: its train split and its base's ids.
    train_ids = {r.id for r in load_nsmc("train", data_dir=tmp_path / "nsmc")}
    assert load_trained_ids(out) == train_ids | {"7", "1000"}
    assert (out / "model.safetensors").is_file()


def test_finetune_bert_waits_for_a_pretraining_still_running(tmp_path, tiny_bert):
    import threading

    write_nsmc(tmp_path / "nsmc", 240, 80)
    argv = ["--data-dir", str(tmp_path / "nsmc"), "--pretrained", str(tiny_bert), "--epochs", "1",
            "--batch-size", "16", "--max-len", "16", "--val-reviews", "40", "--sizes",
            "--variants", "scratch"]
    script = load_script("finetune_bert")
    with pytest.raises(FileNotFoundError, match="wait-pretrained"):  # no report.json: not done
        script.main(argv + ["--out", str(tmp_path / "a"), "--wait-pretrained", "0.2"])
    # the pretraining "ends" while the fine-tuning waits: it goes on with that checkpoint
    done = threading.Timer(1.0, lambda: (tiny_bert / "report.json").write_text("{}\n"))
    done.start()
    report = script.main(argv + ["--out", str(tmp_path / "b"), "--wait-pretrained", "60"])
    done.join()
    assert set(report["results"]) == {"tfidf", "scratch"}


def test_finetune_bert_update_baseline_measures_only_tfidf_again(tmp_path, tiny_bert):
    write_nsmc(tmp_path / "nsmc", 240, 80)
    out = tmp_path / "out"
    argv = ["--data-dir", str(tmp_path / "nsmc"), "--pretrained", str(tiny_bert), "--out", str(out),
            "--epochs", "1", "--batch-size", "16", "--max-len", "16", "--val-reviews", "40",
            "--sizes", "64", "--curve-seeds", "2", "--curve-steps", "3", "--curve-test", "30"]
    script = load_script("finetune_bert")
    first = script.main(argv)
    stale = json.loads((out / "report.json").read_text())
    stale["results"]["tfidf"]["test_accuracy"] = 0.123  # as if measured by an older baseline
    for run in stale["curve"]["runs"]:
        run["tfidf"] = 0.5
    (out / "report.json").write_text(json.dumps(stale))
    again = script.main(["--data-dir", str(tmp_path / "nsmc"), "--out", str(out),
                         "--update-baseline"])
    assert again["results"]["tfidf"]["test_accuracy"] == first["results"]["tfidf"]["test_accuracy"]
    assert [r["tfidf"] for r in again["curve"]["runs"]] == [r["tfidf"] for r in first["curve"]["runs"]]
    assert again["results"]["pretrained"] == first["results"]["pretrained"]  # BERT untouched
    update = json.loads((out / "report.json").read_text())["baseline_update"]
    assert update["test_accuracy_before"] == 0.123 and "--update-baseline" in update["command"]


def test_finetune_bert_tfidf_refits_on_validation_only_for_all_labels(tmp_path):
    """The small-data curve's TF-IDF is fit on the subset alone (the BERTs train on it alone and
    only stop early on the validation reviews); the all-labels run refits on train + val."""
    from lmlib.baselines import tfidf_logreg
    from lmlib.data import load_nsmc

    write_nsmc(tmp_path / "nsmc", 240, 80)
    train = load_nsmc("train", data_dir=tmp_path / "nsmc")
    test = load_nsmc("test", data_dir=tmp_path / "nsmc")
    sub, val = train[:30], train[-100:]
    texts, labels = [r.document for r in test], [r.label for r in test]
    script = load_script("finetune_bert")
    alone = script.tfidf_baseline(sub, val, texts, labels, refit=False)
    refit = script.tfidf_baseline(sub, val, texts, labels)
    C = alone["C"]
    fit = lambda rows: tfidf_logreg([r.document for r in rows], [r.label for r in rows], C=C)
    assert alone["test_accuracy"] == fit(sub).accuracy(texts, labels)
    assert refit["test_accuracy"] == fit(sub + val).accuracy(texts, labels)
    assert alone["val_accuracy"] == refit["val_accuracy"]


def test_finetune_bert_merges_variants_trained_in_other_processes(tmp_path, tiny_bert):
    write_nsmc(tmp_path / "nsmc", 240, 80)
    script = load_script("finetune_bert")
    common = ["--data-dir", str(tmp_path / "nsmc"), "--pretrained", str(tiny_bert),
              "--epochs", "1", "--batch-size", "16", "--max-len", "16", "--val-reviews", "40",
              "--sizes", "64", "--curve-seeds", "2", "--curve-steps", "3", "--curve-test", "30"]
    alone = script.main(common + ["--out", str(tmp_path / "s"), "--variants", "scratch"])
    merged = script.main(common + ["--out", str(tmp_path / "m"), "--variants", "pretrained",
                                   "frozen", "--results-from", str(tmp_path / "s")])
    assert set(merged["results"]) == {"tfidf", "pretrained", "frozen", "scratch"}
    assert merged["results"]["scratch"] == alone["results"]["scratch"]
    assert [r["scratch"] for r in merged["curve"]["runs"]] == \
        [r["scratch"] for r in alone["curve"]["runs"]]
    assert all(set(r) == {"size", "seed", "tfidf", "pretrained", "scratch", "frozen"}
               for r in merged["curve"]["runs"])
    assert [m["variant"] for m in merged["merged_from"]] == ["scratch"]
    # Another setting, or a variant twice: refused, naming what differs.
    with pytest.raises(ValueError, match="curve_steps"):
        script.main(common[:-3] + ["4", "--curve-test", "30", "--out", str(tmp_path / "x"),
                                   "--variants", "frozen", "--results-from", str(tmp_path / "s")])
    with pytest.raises(ValueError, match="two reports"):
        script.main(common + ["--out", str(tmp_path / "y"), "--variants", "scratch",
                              "--results-from", str(tmp_path / "s")])


def test_pretrain_gpt_reports_the_best_smoothed_ngram_and_resumes(tmp_path):
    from lmlib.data import load_nsmc, load_trained_ids
    from lmlib.ngram import NGramLM

    write_nsmc(tmp_path / "nsmc", 300, 120)
    out = tmp_path / "gpt"
    argv = ["--data-dir", str(tmp_path / "nsmc"), "--corpus", "nsmc-train", "--out", str(out),
            "--vocab-size", "300",
            "--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--max-len", "32",
            "--steps", "6", "--batch-size", "4", "--warmup", "2", "--eval-every", "3",
            "--val-reviews", "40"]
    script = load_script("pretrain_gpt")
    report = script.main(argv)
    test = report["test"]
    for order in (2, 3):
        params = test[f"{order}-gram"]["params"]
        NGramLM(order, **params)  # the recorded params are NGramLM's own arguments
        chosen = test[f"{order}-gram"]["smoothing"]
        assert test[f"{order}-gram"]["val_perplexity"][chosen] == \
            min(test[f"{order}-gram"]["val_perplexity"].values())
    assert test["gpt_over_bigram"] == pytest.approx(test["gpt"]["perplexity"] / test["2-gram"]["perplexity"])
    assert test["gpt_over_best_ngram"] == pytest.approx(
        test["gpt"]["perplexity"] / min(test["2-gram"]["perplexity"], test["3-gram"]["perplexity"]))
    assert load_trained_ids(out) == {r.id for r in load_nsmc("train", data_dir=tmp_path / "nsmc")}
    assert report["train_seconds"] is not None and report["train_seconds"] >= 0
    again = script.main(argv + ["--resume"])  # finished: nothing to train, the same report
    assert again["train_seconds"] >= report["train_seconds"]
    assert again["test"]["gpt"] == report["test"]["gpt"]


def write_unlabeled(folder: Path) -> None:
    """write_nsmc's folder with 200 crawled two-sentence reviews and one held-out sense review."""
    from lmlib.data import load_senses

    write_nsmc(folder, 60, 60)
    rng = random.Random(1)
    lines = ["id\tmovie_id\trating\tdocument"]
    for i in range(200):
        words = rng.choices(GOOD + BAD, k=6)
        lines.append(f"{5000 + i}\t{i % 7}\t{rng.randint(1, 10)}\t영화 {' '.join(words[:3])}. "
                     f"배우 {' '.join(words[3:])}")
    sense = load_senses()[0]  # chapter 8's held-out sentences never reach pretraining
    lines.append(f"{sense.id}\t1\t5\t{sense.text}")
    (folder / "unlabeled_reviews.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_pretrain_bert_on_unlabeled_reviews_with_whole_word_masking(tmp_path):
    from lmlib.data import load_trained_ids

    write_unlabeled(tmp_path / "nsmc")
    out = tmp_path / "bert"
    report = load_script("pretrain_bert").main([
        "--data-dir", str(tmp_path / "nsmc"), "--out", str(out), "--corpus", "unlabeled",
        "--whole-word", "--vocab-size", "150", "--d-model", "16", "--n-layers", "1",
        "--n-heads", "2", "--max-len", "24", "--steps", "3", "--batch-size", "8",
        "--warmup", "1", "--eval-every", "3", "--eval-pairs", "20", "--dropout", "0"])
    assert report["recipe"] == {"objective": "mlm", "corpus": "unlabeled", "whole_word": True,
                                "pre_tokenize": "none", "dropout": 0.0}
    assert load_trained_ids(out) == {str(5000 + i) for i in range(200)}
    assert report["data"]["held_out_sense_reviews"] == 1
    # ELECTRA on the same data: its own held-out measures, a model fine-tuning can load
    electra = load_script("pretrain_bert").main([
        "--data-dir", str(tmp_path / "nsmc"), "--out", str(tmp_path / "electra"), "--corpus",
        "unlabeled", "--objective", "electra", "--vocab-size", "150", "--d-model", "16",
        "--n-layers", "2", "--n-heads", "2", "--max-len", "24", "--steps", "3", "--batch-size",
        "8", "--warmup", "1", "--eval-every", "3", "--eval-pairs", "20", "--dropout", "0"])
    assert electra["recipe"]["objective"] == "electra"
    assert set(electra["held_out"]) == {"mlm_accuracy", "rtd_accuracy", "replaced_share"}
    from lmlib.bert import ElectraForPreTraining, load_pretraining
    assert isinstance(load_pretraining(tmp_path / "electra"), ElectraForPreTraining)
    assert 0 <= report["held_out"]["mlm_accuracy"] <= 1


def test_pretrain_bert_batches_built_ahead_train_the_same_and_a_budget_sets_the_steps(tmp_path):
    write_unlabeled(tmp_path / "nsmc")
    argv = ["--data-dir", str(tmp_path / "nsmc"), "--vocab-size", "150", "--d-model", "16",
            "--n-layers", "1", "--n-heads", "2", "--max-len", "24", "--batch-size", "8",
            "--warmup", "1", "--eval-every", "3", "--eval-pairs", "20"]
    script = load_script("pretrain_bert")
    serial = script.main(argv + ["--steps", "5", "--out", str(tmp_path / "serial")])
    ahead = script.main(argv + ["--steps", "5", "--workers", "2", "--out", str(tmp_path / "ahead")])
    assert ahead["history"] == serial["history"]  # the same batches, so the same training
    budget = script.main(argv + ["--budget-minutes", "0.01", "--out", str(tmp_path / "budget")])
    steps = budget["budget"]["steps"]
    assert budget["args"]["steps"] == steps == len(budget["history"]["train_loss"])
    assert steps == max(1, int(0.85 * 0.6 / budget["budget"]["seconds_per_step"]))
    with pytest.raises(ValueError, match="--steps"):  # a resumed run keeps the first one's steps
        script.main(argv + ["--budget-minutes", "1", "--resume", "--out", str(tmp_path / "budget")])


def test_pretrain_gpt_budget_sets_the_steps(tmp_path):
    write_nsmc(tmp_path / "nsmc", 300, 120)
    report = load_script("pretrain_gpt").main([
        "--data-dir", str(tmp_path / "nsmc"), "--corpus", "nsmc-train", "--out",
        str(tmp_path / "gpt"), "--vocab-size", "300", "--d-model", "16", "--n-layers", "1",
        "--n-heads", "2", "--max-len", "32", "--budget-minutes", "0.005", "--batch-size", "4",
        "--warmup", "2", "--eval-every", "50", "--val-reviews", "40"])
    steps = report["budget"]["steps"]
    assert report["args"]["steps"] == steps == len(report["history"]["train_loss"])
    assert report["devices"]["device"] == "cpu"


def test_compare_bert_recipes_records_every_recipe_with_its_held_out_results(tmp_path):
    write_nsmc(tmp_path / "nsmc", 240, 80)
    rng = random.Random(2)
    lines = ["id\tmovie_id\trating\tdocument"]
    for i in range(200):
        words = rng.choices(GOOD + BAD, k=6)
        lines.append(f"{5000 + i}\t1\t5\t영화 {' '.join(words[:3])}. 배우 {' '.join(words[3:])}")
    (tmp_path / "nsmc" / "unlabeled_reviews.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    script = load_script("compare_bert_recipes")
    out = tmp_path / "recipes.json"
    argv = ["--data-dir", str(tmp_path / "nsmc"), "--steps", "2", "--runs", str(tmp_path / "runs"),
            "--out", str(out), "--probe-labels", "64", "--probe-test", "30",
            "--probe-args", "--batch-size 16 --max-len 16 --val-reviews 40 --curve-steps 2",
            "--vocab-size", "150", "--d-model", "16", "--n-layers", "1", "--n-heads", "2",
            "--max-len", "24", "--batch-size", "8", "--warmup", "1", "--eval-pairs", "20"]
    summary = script.main(argv)
    assert [r["recipe"] for r in summary["results"]] == list(script.RECIPES)
    for r in summary["results"]:
        assert 0 <= r["held_out"]["mlm_accuracy"] <= 1
        assert 0 <= r["accuracy_64_labels"] <= 1 and 0 <= r["tfidf_64_labels"] <= 1
    assert json.loads(out.read_text())["results"] == summary["results"]
    assert len({r["tfidf_64_labels"] for r in summary["results"]}) == 1  # the same labelled reviews


def test_held_out_evaluations_give_the_model_its_mode_back():
    """pretrain_bert's and finetune_bert's evaluations run in eval mode and restore the mode
    they found (the small-data curve measures in the middle of training)."""
    import torch

    from lmlib.bert import BertConfig, BertForPreTraining, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=40, max_len=16, d_model=16, n_heads=2, n_layers=1, dropout=0.1)
    pre = BertForPreTraining(config).train()
    ids = torch.randint(7, 40, (2, 8))
    batch = {"input_ids": ids, "token_type_ids": torch.zeros_like(ids),
             "attention_mask": torch.ones_like(ids), "mlm_labels": torch.where(ids > 20, ids, -100),
             "nsp_labels": torch.tensor([0, 1])}
    batch["mlm_labels"][:, 0] = ids[:, 0]  # at least one masked position per row
    metrics = load_script("pretrain_bert").evaluate_pretraining(pre, [batch])
    assert 0 <= metrics["mlm_accuracy"] <= 1 and pre.training
    clf = BertForSequenceClassification(config, n_labels=2).train()
    encoded = [([4, 9, 10, 5], [0, 0, 0, 0]), ([4, 11, 5], [0, 0, 0])]
    acc = load_script("finetune_bert").accuracy(clf, encoded, [0, 1])
    assert acc in (0.0, 0.5, 1.0) and clf.training


def test_prefill_book_cache_executes_what_jupyter_book_then_finds_cached(tmp_path):
    import nbformat
    from jupyter_cache import get_cache

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    (tmp_path / "ch").mkdir()
    nbformat.write(nb, tmp_path / "ch" / "one.ipynb")
    (tmp_path / "toc.yml").write_text(f"format: jb-book\nroot: {tmp_path / 'intro'}\nchapters:\n"
                                      f"  - file: {tmp_path / 'ch' / 'one'}\n", encoding="utf-8")
    script = load_script("prefill_book_cache")
    argv = ["--toc", str(tmp_path / "toc.yml"), "--path-output", str(tmp_path / "out")]
    assert script.main(argv) == 0
    cache = get_cache(str(tmp_path / "out" / "_build" / ".jupyter_cache"))
    record = cache.match_cache_notebook(nbformat.read(tmp_path / "ch" / "one.ipynb", 4))
    _, merged = cache.merge_match_into_notebook(nbformat.read(tmp_path / "ch" / "one.ipynb", 4))
    assert record is not None and merged.cells[0].outputs[0]["text"] == "42\n"  # as myst-nb reads it
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")],
                                            metadata=nb.metadata), tmp_path / "ch" / "one.ipynb")
    assert script.main(argv) == 1  # a failing notebook fails the book
