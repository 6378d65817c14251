"""scripts/compare_seq2seq.py: the Transformer-vs-GRU report (a tiny run) and its paired bootstrap."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sacrebleu

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "compare_seq2seq.py"


def _module():
    spec = importlib.util.spec_from_file_location("compare_seq2seq", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


REFS = ["I went to the cafe", "my friend is waiting at the cafe", "yes it was fun",
        "what are you doing now", "I went to the hospital with my mom today",
        "it is raining a lot today"]
HYPS_A = ["I went to the cafe", "my friend is a cafe", "yes it was fun",
          "what are you going to eat now", "I went to the hospital today", "it is raining today"]
HYPS_B = ["I went cafe", "my friend waiting", "it was fun", "what you doing",
          "I went to hospital with mom", "raining a lot"]


def test_bootstrap_matches_a_brute_force_resampling_with_sacrebleu():
    """Each resample's scores are sacreBLEU's corpus scores of the resampled sentences."""
    mod = _module()
    got = mod.paired_bootstrap_difference(HYPS_A, HYPS_B, REFS, n_boot=200, seed=3)
    idx = np.random.Generator(np.random.PCG64(3)).integers(0, len(REFS), size=(200, len(REFS)))
    for name, score in (("bleu", sacrebleu.corpus_bleu), ("chrf", sacrebleu.corpus_chrf)):
        diffs = []
        for row in idx:
            pick = lambda xs: [xs[i] for i in row]  # noqa: E731
            diffs.append(score(pick(HYPS_A), [pick(REFS)]).score
                         - score(pick(HYPS_B), [pick(REFS)]).score)
        low, high = np.quantile(diffs, [0.025, 0.975])
        d = got[name]
        assert d["a"] == pytest.approx(score(HYPS_A, [REFS]).score)
        assert d["b"] == pytest.approx(score(HYPS_B, [REFS]).score)
        assert d["difference"] == pytest.approx(d["a"] - d["b"])
        assert (d["low"], d["high"]) == pytest.approx((low, high), abs=1e-9)
        assert d["low"] <= d["difference"] <= d["high"] and d["n"] == len(REFS)


def test_bootstrap_edge_cases():
    mod = _module()
    same = mod.paired_bootstrap_difference(HYPS_A, HYPS_A, REFS, n_boot=100)
    for d in same.values():  # one system against itself: every resample differs by exactly 0
        assert d["low"] == d["high"] == d["difference"] == 0 and not d["excludes_0"]
    perfect = mod.paired_bootstrap_difference(REFS, HYPS_B, REFS, n_boot=100)
    assert perfect["bleu"]["a"] == pytest.approx(100) and perfect["bleu"]["excludes_0"]
    swapped = mod.paired_bootstrap_difference(HYPS_B, REFS, REFS, n_boot=100)
    assert swapped["chrf"]["low"] == pytest.approx(-perfect["chrf"]["high"])
    with pytest.raises(ValueError, match="one length"):
        mod.paired_bootstrap_difference(HYPS_A, HYPS_B[:-1], REFS)


def test_the_script_writes_a_report_on_a_tiny_budget(tmp_path):
    """3 steps, 2 candidate lrs, 8 test pairs: every field the chapter reads is there."""
    out = tmp_path / "report.json"
    args = ["--steps", "3", "--seeds", "0", "--lrs", "3e-3", "1e-2", "--n-test", "8",
            "--max-len", "6", "--n-boot", "200", "--out", str(out)]
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["command"] == "python scripts/compare_seq2seq.py " + " ".join(args)
    assert report["budget"] == {"same": "optimizer steps, batch size and the batches themselves",
                                "steps": 3, "batch_size": 64, "decoding": "greedy", "max_len": 6}
    assert report["data"]["train_pairs"] == 1081 and report["data"]["test_pairs"] == 8
    for name in ("transformer", "gru_attention"):
        chosen = report["lr_selection"][name]["chosen"]
        dev = report["lr_selection"][name]["dev"]
        assert set(dev) == {"0.003", "0.01"} and chosen in (3e-3, 1e-2)
        assert dev[f"{chosen:g}"]["bleu"] == max(d["bleu"] for d in dev.values())
        assert report["models"][name]["recipe"]["lr"] == chosen
    assert report["lr_selection"]["dev_pairs"] == 108  # 10% of the 1,081 training pairs
    [run] = report["runs"]
    assert run["seed"] == 0 and run["difference_of"] == "transformer - gru_attention"
    assert run["transformer"]["parameters"] == 209_664  # chapter 5's model (its 5.1 prints it)
    assert run["gru_attention"]["parameters"] > 0
    for name in ("transformer", "gru_attention"):
        assert 0 <= run[name]["bleu"] <= 100 and 0 <= run[name]["chrf"] <= 100
        assert run[name]["train_cpu_seconds"] >= 0 and run[name]["train_wall_seconds"] >= 0
    # seed 0's first Transformer loss is chapter 5's (same init and first batch)
    assert run["transformer"]["first_loss"] == pytest.approx(6.2467, abs=1e-4)
    for d in run["difference"].values():
        assert d["low"] <= d["difference"] <= d["high"] and d["n"] == 8
    assert len(report["examples"]) == 8 and set(report["metrics"]) == {"bleu", "chrf"}
    assert report["reproducible_cpu"].startswith("1 thread")
