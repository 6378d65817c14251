"""The benchmark suite at its tiny size: every comparison runs and lmlib agrees with its reference.

Timings are not asserted here (a unit test is no benchmark); `python -m bench` measures them.
"""

import json

import nbformat
import pytest

from bench import BENCHMARKS
from bench.core import Row, compare, markdown_table
from bench.notebooks import bench_notebooks
from bench.page import render

MODEL_BENCHMARKS = ["ngram", "attention", "gpt_train_step", "pretrain_throughput", "gpt2_forward",
                    "bert_forward", "generation"]


@pytest.mark.parametrize("name", MODEL_BENCHMARKS)
def test_each_benchmark_agrees_with_its_reference(name):
    rows = BENCHMARKS[name](size="tiny", repeat=1)
    assert rows
    for r in rows:
        assert r.tol is not None and r.agrees, (r.case, r.diff, r.tol)
        assert r.ours and all(t >= 0 for t in r.ours)
        if r.ref is not None:
            assert len(r.ref) == len(r.ours)


def test_attention_module_uses_the_fused_kernel_without_weights():
    check = [r for r in BENCHMARKS["attention"](size="tiny", repeat=1) if "kernel" in r.case]
    assert check and check[0].agrees and "1 without weights, 0 with" in check[0].note


def test_median_interval_is_the_exact_order_statistic_interval():
    from bench.core import median_interval

    assert median_interval([5.0, 1, 4, 2, 3]) is None  # 5 runs cannot reach 95% (93.75%)
    assert median_interval([3.0, 1, 2, 7, 5, 4]) == (1, 7)  # 6 runs: [min, max], 96.9%
    assert median_interval(list(range(7))) == (0, 6)  # 7 runs: [min, max], 98.4%
    assert median_interval(list(range(10))) == (1, 8)  # 10 runs: 2nd and 9th, 97.9%
    assert median_interval(list(range(20))) == (5, 14)  # 20 runs: 6th and 15th, 95.9%


def test_row_goals_count_only_when_the_whole_interval_meets_them():
    seven = [1.0] * 7
    fast = Row("b", "c", seven, [2.0, 2.2, 1.8, 2.0, 2.1, 1.9, 2.0], max_ratio=1.0)
    assert fast.ratio == 0.5 and fast.ratio_interval == (1 / 2.2, 1 / 1.8) and fast.met
    # the median meets <= 1.05 but one paired run is at 1.2: the interval does not
    edge = Row("b", "c", [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2], [1.0] * 7, max_ratio=1.05)
    assert edge.ratio == 1.0 and not edge.met
    # a good ratio from too few paired runs does not count
    few = Row("b", "c", [1.0] * 3, [2.0] * 3, max_ratio=1.0)
    assert few.ratio == 0.5 and few.ratio_interval is None and not few.met
    speedup = Row("b", "c", seven, [3.5] * 6 + [3.1], min_speedup=3.0)
    assert speedup.met
    assert not Row("b", "c", seven, [3.5] * 6 + [2.9], min_speedup=3.0).met
    # the ratio pairs run i with run i, not the median of one with the median of the other
    paired = Row("b", "c", [1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 7], max_ratio=1.0)
    assert paired.paired_ratios == [1.0] * 7 and paired.met
    assert Row("b", "c", [59.0], max_seconds=60).met
    assert not Row("b", "c", [61.0], max_seconds=60).met
    wrong = Row("b", "c", seven, [2.0] * 7, max_ratio=1.0, diff=1e-3, tol=1e-4)
    assert wrong.agrees is False and not wrong.met  # fast but wrong is not met
    assert not Row("b", "c", [1.0], [2.0], diff=float("nan"), tol=1.0).met


def test_table_and_page_show_every_row():
    rows = [Row("attention", "case A", [0.002] * 7, [0.001] * 6 + [0.0008], "torch", "≤ 1.1x",
                max_ratio=1.1, diff=1e-7, tol=1e-5),
            Row("notebook execution", "01_x", [12.0], goal="≤ 60 s", max_seconds=60)]
    table = markdown_table(rows)
    assert "| attention | case A | 2.00 ms" in table and "**no**" in table
    assert "2.00x [2.00, 2.50], n=7" in table
    assert "12.00 s" in table and "| yes |" in table
    page = render({"command": "python -m bench", "machine": "test machine", "date": "2026-01-01",
                   "rows": [r.to_dict() for r in rows], "table": table})
    assert page.startswith("# 부록") and table in page and "test machine" in page
    assert "목표 달성: 1 / 2" in page
    saved = json.loads(json.dumps([r.to_dict() for r in rows]))  # results.json can hold them
    assert saved[0]["ratio_interval"] == [2.0, 2.5] and saved[0]["pairs"] == 7


def test_compare_alternates_and_checks_arguments():
    calls = []
    t_ours, t_ref = compare(lambda: calls.append("o"), lambda: calls.append("r"), repeat=3,
                            warmup=1)
    assert len(t_ours) == len(t_ref) == 3
    assert calls == ["o", "r", "o", "r", "r", "o", "o", "r"]
    with pytest.raises(ValueError, match="repeat must be an int >= 1"):
        compare(lambda: None, None, repeat=0)
    with pytest.raises(ValueError, match="warmup must be an int >= 0"):
        compare(lambda: None, None, warmup=-1)
    with pytest.raises(ValueError, match="size must be one of"):
        BENCHMARKS["attention"](size="huge")


def test_notebook_benchmark_reports_time_and_peak_memory(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nx = np.ones(40_000_000)  # 305 MiB\nprint(x.sum())")])
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(nb, path)
    (row,) = bench_notebooks(paths=[path])
    assert row.case == "01_tiny" and row.met and row.ours[0] > 0
    assert row.extra["kernel_peak_mib"] > 300  # the array's 305 MiB is seen
    assert nbformat.read(path, as_version=4).cells[0].outputs == []  # the file is not modified


def test_tiny_threads_runs_both_loads_and_restores_the_thread_count():
    import torch

    before = torch.get_num_threads()
    rows = BENCHMARKS["tiny_threads"](size="tiny", repeat=1)
    assert [r.case.rsplit(", ", 1)[1] for r in rows] == ["idle: 1 thread", "one core busy: 1 thread"]
    assert all(r.ref_name == "2 threads" and len(r.ours) == len(r.ref) == 1 for r in rows)
    assert rows[0].max_ratio is None and rows[1].max_ratio == 1.0  # the goal is about the loaded case
    assert torch.get_num_threads() == before


def test_kenlm_scores_the_exported_model_as_lmlib_does():
    """bench/requirements.txt installs kenlm for the benchmarks only; without it, skipped."""
    pytest.importorskip("kenlm")
    rows = BENCHMARKS["kenlm"](size="tiny", repeat=1)
    assert [r.case.split(",")[0] for r in rows] == ["2-gram kneser-ney D=0.75",
                                                    "3-gram kneser-ney D=0.75"]
    assert all(r.agrees for r in rows), [(r.case, r.diff) for r in rows]
