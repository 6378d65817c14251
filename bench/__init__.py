"""lmlib's benchmark suite: lmlib against independent references, in the same run.

Run it with `python -m bench` (or `make bench`); see bench/__main__.py for the options
and book/benchmarks.md for the latest table.
"""

from pathlib import Path

from .cases import (bench_attention, bench_bert_forward, bench_generation, bench_gpt2_forward,
                    bench_gpt_train_step, bench_kenlm, bench_ngram, bench_pretrain_throughput,
                    bench_tiny_threads)
from .notebooks import bench_book, bench_notebooks

ROOT = Path(__file__).resolve().parent.parent

BENCHMARKS = {
    "ngram": bench_ngram,
    "kenlm": bench_kenlm,
    "attention": bench_attention,
    "gpt_train_step": bench_gpt_train_step,
    "pretrain_throughput": bench_pretrain_throughput,
    "gpt2_forward": bench_gpt2_forward,
    "bert_forward": bench_bert_forward,
    "generation": bench_generation,
    "tiny_threads": bench_tiny_threads,
    "notebooks": bench_notebooks,
    "book": bench_book,
}
