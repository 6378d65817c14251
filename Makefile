# 언어모델 코스북 — the two commands of the README:
#   make book   builds the static book into _build/html
#   make test   runs the unit tests and nbval over every notebook
# Each sets up .venv on first use (requirements.txt + lmlib in editable mode).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Offline machines (CI) read NSMC from a local folder; in Colab lmlib downloads it.
ifeq ($(LMLIB_NSMC_DIR),)
ifneq ($(wildcard ../shared/data/nsmc/ratings_train.txt),)
export LMLIB_NSMC_DIR := $(abspath ../shared/data/nsmc)
endif
endif
export PYTHONHASHSEED := 0
export MPLBACKEND := module://matplotlib_inline.backend_inline

# Grade a folder of submitted notebooks: make grade SUBMISSIONS=folder (scripts/grade.py).
.PHONY: grade book slides test-slides pdf test-pdf wheel test test-book test-cpus test-colab unit nbval notebooks setup-cell lock clean pretrain-gpt pretrain-bert finetune-bert bench

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	# Build matplotlib's font cache now, not inside the first notebook cell.
	MPLBACKEND=Agg $(BIN)/python -c "import matplotlib.pyplot, lmlib.viz"
	touch $(STAMP)

# jupyter-cache re-executes a notebook only when its code cells change; a change to
# lmlib or to the pinned environment must re-execute every chapter too.
_build/.lmlib-stamp: $(wildcard lmlib/*.py lmlib/views/* lmlib/data/*.txt lmlib/data/*.json) requirements.txt
	rm -rf _build/.jupyter_cache
	mkdir -p _build && touch $@

# What the site serves itself (MathJax for build-time SVG formulas, the Korean web font, the
# icons), from the npm registry at the versions of web/package-lock.json.
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# make book INSTRUCTOR=1: the instructor's edition, the same book plus the exercises' solutions
# (instructor/solutions.md), in _build/instructor/_build/html. The student book never has them.
# scripts/prefill_book_cache.py first executes the chapters the execution cache lacks, one per
# core, so that jupyter-book build finds them all cached (a cold build: about 2.5 min here).
INSTRUCTOR ?=
book: $(STAMP) _build/.lmlib-stamp web/node_modules/.installed
ifeq ($(INSTRUCTOR),1)
	$(BIN)/python scripts/instructor_toc.py _build/instructor_toc.yml
	$(BIN)/python scripts/prefill_book_cache.py --toc _build/instructor_toc.yml --path-output _build/instructor
	$(BIN)/jupyter-book build . --all -W -n --keep-going --toc _build/instructor_toc.yml --path-output _build/instructor
	$(MAKE) --no-print-directory wheel WHEEL_DIR=_build/instructor/_build/html/wheels
else
	$(BIN)/python scripts/prefill_book_cache.py
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	$(MAKE) --no-print-directory wheel WHEEL_DIR=_build/html/wheels
endif

# lmlib's wheel (with its corpora and checkpoints). The published book serves it at
# wheels/ and every notebook's setup cell installs it in Colab (no git clone needed).
WHEEL_DIR ?= dist
wheel: $(STAMP)
	rm -rf $(WHEEL_DIR) && mkdir -p $(WHEEL_DIR)
	$(BIN)/python -m pip wheel -q --no-deps --no-build-isolation -w $(WHEEL_DIR) .
	rm -rf build lm_coursebook.egg-info

test: $(STAMP)
	$(BIN)/python -m pytest tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider

# The built book in headless Chromium (tests/test_book.py): every page at desktop and phone
# width, light and dark, no request to another host, no console error, raw TeX or raw
# Markdown, 2x figures, Korean search and interface, chapter pages <= 1.5 MB. make test runs
# the same file when _build/html exists (and skips it on a fresh clone).
test-book: book
	$(BIN)/python -m pytest tests/test_book.py -p no:cacheprovider -q

# Lecture slides: one reveal.js deck per chapter from the stored outputs (scripts/slides.py), in
# _build/slides (index.html lists them); reveal.js, SVG formulas and NanumGothic are served from there.
slides: $(STAMP) web/node_modules/.installed
	$(BIN)/python scripts/slides.py

# The decks in headless Chromium at 1280x720 (tests/test_slides.py): every slide paged, fits, offline.
test-slides: slides
	$(BIN)/python -m pytest tests/test_slides.py -p no:cacheprovider -q

# The stored outputs must not depend on the CPU. nbval again as on other x86 CPUs with AVX2:
# PyTorch's own SIMD kernels (ATEN_CPU_CAPABILITY: the scalar default and avx2) and MKL's
# matrix-multiply code path (MKL_ENABLE_INSTRUCTIONS=AVX2, as on an AVX2-only AMD EPYC), with
# 1 and 2 threads; make test already ran this CPU's best kernels (e.g. AVX-512). Chapters 3-5
# train in float64 from bit-identical initial weights with MKL pinned to AVX2
# (lmlib.training.reproducible_cpu); the other chapters only run inference. Kiwi (chapter 1's
# morpheme LM) picks its own SIMD path: KIWI_ARCH_TYPE=sse2 on the scalar rows, avx2 on the avx2 rows.
# numpy's and scipy's OpenBLAS (scikit-learn's TF-IDF baseline in chapter 8) picks its kernels by
# CPU too: OPENBLAS_CORETYPE=Sandybridge (AVX) on the scalar rows, Haswell (AVX2) on the avx2 rows.
KERNEL_MATRIX ?= default:AVX2:1 default:AVX2:2 avx2:AVX2:1 avx2:AVX2:2
test-cpus: $(STAMP)
	set -e; for k in $(KERNEL_MATRIX); do \
	  aten=$${k%%:*}; rest=$${k#*:}; mkl=$${rest%%:*}; threads=$${rest#*:}; \
	  kiwi=$$(if [ $$aten = default ]; then echo sse2; else echo avx2; fi); \
	  blas=$$(if [ $$aten = default ]; then echo Sandybridge; else echo Haswell; fi); \
	  echo "== nbval with ATEN_CPU_CAPABILITY=$$aten MKL_ENABLE_INSTRUCTIONS=$$mkl OMP_NUM_THREADS=$$threads KIWI_ARCH_TYPE=$$kiwi OPENBLAS_CORETYPE=$$blas"; \
	  ATEN_CPU_CAPABILITY=$$aten MKL_ENABLE_INSTRUCTIONS=$$mkl OMP_NUM_THREADS=$$threads KIWI_ARCH_TYPE=$$kiwi OPENBLAS_CORETYPE=$$blas \
	    $(BIN)/python -m pytest notebooks --nbval --nbval-current-env \
	    --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider -q; \
	done

# Every chapter in an imitation of Google Colab: Python 3.13 with Colab's package versions
# (.venv-colab, ~3 GB on first use), google.colab present so the setup cell pip-installs
# lmlib's wheel, tiny offline stand-ins for the hub models. Report: _build/colab/report.json.
# Options: make test-colab COLAB_ARGS="--only 01 06" (see scripts/colab_sim.py --help).
test-colab:
	$(PYTHON) scripts/colab_sim.py $(COLAB_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests -q

nbval: $(STAMP)
	$(BIN)/python -m pytest notebooks --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg

# Authors: re-execute every notebook in place (outputs are committed), then `make test`.
notebooks: $(STAMP)
	$(BIN)/python scripts/setup_cell.py --write
	$(BIN)/python scripts/execute_notebooks.py notebooks/*.ipynb

# Maintainers: remake chapter 6's GPT checkpoint (lmlib/checkpoints/gpt_nsmc): 6,000 steps on the 649k
# unlabeled reviews, ~1.5-2 h on one core (resumable: add --resume).
pretrain-gpt: $(STAMP)
	$(BIN)/python scripts/pretrain_gpt.py --threads 1

# Maintainers: remake chapters 7-8's BERT (lmlib/checkpoints/bert_nsmc, ~15 min) and the
# fine-tuned sentiment classifier with its accuracy table (bert_nsmc_sentiment).
pretrain-bert: $(STAMP)
	$(BIN)/python scripts/pretrain_bert.py --threads 1

finetune-bert: $(STAMP)
	$(BIN)/python scripts/finetune_bert.py

# The benchmark suite (lmlib vs nltk / KenLM / torch SDPA / transformers, notebooks, book
# build); writes bench/results.json and the book's appendix page book/benchmarks.md. ~25 min.
# bench/requirements.txt holds the references only the benchmarks use (KenLM, built once).
bench: $(STAMP)
	$(BIN)/pip install -q -r bench/requirements.txt
	$(BIN)/python -m bench

setup-cell: $(STAMP)
	$(BIN)/python scripts/setup_cell.py --write

# Maintainers: re-resolve requirements.in into the exact pins of requirements.txt.
lock:
	rm -rf /tmp/lmcb-lock && $(PYTHON) -m venv /tmp/lmcb-lock
	/tmp/lmcb-lock/bin/pip install -q --upgrade pip
	/tmp/lmcb-lock/bin/pip install -q -r requirements.in
	( echo "# Exact lock of requirements.in (make lock). Python 3.11, CPU."; \
	  /tmp/lmcb-lock/bin/pip freeze | sed 's/+cpu$$//' ) > requirements.txt

clean:
	rm -rf _build

grade: $(STAMP)
	$(BIN)/python scripts/grade.py $(SUBMISSIONS)

# The whole book as one PDF, _build/pdf/lm-coursebook.pdf: Jupyter Book's LaTeX builder + xelatex
# from the stored outputs (nothing is executed; about a minute). Needs the TeX packages of .ci/run.
pdf: $(STAMP) web/node_modules/.installed
	$(BIN)/python scripts/build_pdf.py --quiet

# The PDF's checks (tests/test_pdf.py; make test runs them too when the PDF exists).
test-pdf: pdf
	$(BIN)/python -m pytest tests/test_pdf.py -p no:cacheprovider -q
