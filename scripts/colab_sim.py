"""Execute every chapter notebook in an imitation of Google Colab (`make test-colab`).

`make test` runs the notebooks in the book's own pinned environment (.venv, Python 3.11),
where the setup cell does nothing. A reader opens them in Colab instead: Python 3.13,
Colab's preinstalled package versions (ipywidgets 7.7.1, IPython 7.34, transformers 5.x ...),
`google.colab` in sys.modules, so the setup cell really pip-installs lm-coursebook, and the
Colab-only cells really download models from the Hugging Face hub. This script imitates that:

 1. venv   .venv-colab from Python 3.13 with the book's packages at the exact versions of
           Colab's `pip freeze` (../shared/colab/pip-freeze-py313.txt, used as a pip
           constraints file). Rebuilt only when its inputs change (stamp file with a hash).
           Packages Colab lacks (kiwipiepy, koreanize-matplotlib, sacrebleu, bertviz) are NOT
           installed: the notebooks' setup cell installs them, as it must in Colab.
 2. wheel  the project's wheel (lm-coursebook), handed to the setup cell through
           LMLIB_WHEEL=file:///...whl. This script never installs lmlib itself.
 3. kernel an IPYTHONDIR whose startup file registers a dummy `google.colab` package and
           imports ipywidgets (Colab imports it before the first cell), and a kernelspec
           `colab-py313` that runs the venv's python.
 4. hub    tiny stand-ins for skt/kogpt2-base-v2 and klue/bert-base in a local hub cache
           (HF_HUB_CACHE, with HF_HUB_OFFLINE=1), built by the venv's own transformers.
 5. run    every notebooks/*.ipynb top to bottom with nbclient, a fresh kernel per chapter,
           errors allowed so that all of them are reported; the notebooks are not written.
           Colab gives every notebook a fresh runtime, so after each chapter the venv is put
           back as it was before the first one: every distribution the chapter's setup cell
           added is uninstalled, and every one it up- or downgraded is reinstalled at its
           old version (`pip install --no-deps name==old`).
 6. report a summary table on stdout and in _build/colab/report.json; exit 1 when any
           chapter has an error cell (or the environment checks fail).

    python3 scripts/colab_sim.py                 # everything (make test-colab)
    python3 scripts/colab_sim.py --only 01 05    # chapters whose file name starts so
    python3 scripts/colab_sim.py --setup-only    # build and check the environment only
    python3 scripts/colab_sim.py --fresh-pip-cache   # measure a cold setup-cell install

The orchestrating part uses only the standard library (any Python 3.8+ runs it); the parts
that need nbclient or transformers are subcommands of this same file that the orchestrator
runs with the venv's python (`_hub`, `_execute`).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-colab"
VENV_PY = VENV / "bin" / "python"
STAMP = VENV / ".colab-stamp"
BASELINE = VENV / "baseline.json"  # {distribution: version} right after the build
BUILD = ROOT / "_build" / "colab"
FREEZE = Path(os.environ.get("COLAB_FREEZE", ROOT.parent / "shared" / "colab" / "pip-freeze-py313.txt"))

# Everything below lives inside .venv-colab, so `rm -rf .venv-colab` resets it all.
IPYTHONDIR = VENV / "ipython"          # profile_default/startup/00-colab.py
JUPYTER_DATA = VENV / "share" / "jupyter"  # kernels/colab-py313/kernel.json
HUB_CACHE = VENV / "hub"               # HF_HUB_CACHE: models--ORG--NAME/{refs,snapshots}
PIP_CACHE = VENV / "pip-cache"         # the kernel's pip cache (see --fresh-pip-cache)
MPLCONFIG = VENV / "mplconfig"         # matplotlib's font cache, built once (Colab ships one)
KERNEL_NAME = "colab-py313"

# The packages that matter to the book, installed at Colab's versions. Names as spelled in
# the freeze (compared after PEP 503 normalisation). Bump LAYOUT to force a rebuild.
PACKAGES = [
    "torch", "numpy", "pandas", "matplotlib", "matplotlib-inline",
    "ipywidgets", "widgetsnbextension", "jupyterlab_widgets",
    "ipython", "ipykernel", "jupyter_client", "nbclient", "nbformat", "traitlets", "tornado", "pyzmq",
    "transformers", "tokenizers", "safetensors", "huggingface_hub",
    "tqdm", "scikit-learn", "nltk", "requests", "regex", "lxml", "tabulate", "sentencepiece",
    "psutil", "PyYAML", "packaging", "setuptools",
]
# Not in Colab; the setup cell must install them. Checked to be absent after the build.
NOT_IN_COLAB = ["sacrebleu", "bertviz", "kiwipiepy", "koreanize-matplotlib", "lm-coursebook"]
# Freeze lines never used as constraints: Colab's CUDA pins clash with PyPI torch's own.
SKIP_CONSTRAINT = re.compile(r"^(nvidia-|cuda-|triton\b)", re.I)
LAYOUT = 2

HUB_MODELS = ["skt/kogpt2-base-v2", "klue/bert-base"]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def log(msg: str) -> None:
    print(f"[colab-sim] {msg}", flush=True)


def norm(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def run(cmd, **kw) -> subprocess.CompletedProcess:
    """Run a command, echoing it; raise on failure.

    It runs in / unless told otherwise: `python -m pip` puts its working folder on sys.path,
    and the checkout's lm_coursebook.egg-info (left by setuptools) would count as installed.
    """
    log("$ " + " ".join(str(c) for c in cmd))
    kw.setdefault("cwd", "/")
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


# --------------------------------------------------------------------------- 1. venv

def find_python313() -> str:
    """$PYTHON313, python3.13 on PATH, or a pyenv 3.13; exit with a clear message if none."""
    candidates = [os.environ.get("PYTHON313"), shutil.which("python3.13")]
    candidates += sorted(glob.glob("/root/.pyenv/versions/3.13*/bin/python"), reverse=True)
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python")), reverse=True)
    for c in candidates:
        if not c:
            continue
        try:
            v = subprocess.run([c, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        if v == "3.13":
            return c
    sys.exit("colab_sim: no Python 3.13 found (Colab runs 3.13). Set PYTHON313=/path/to/python3.13, "
             "put python3.13 on PATH, or `pyenv install 3.13`.")


def read_freeze() -> dict[str, str]:
    """Colab's `pip freeze` as {normalised name: 'Name==version'} (comments dropped)."""
    if not FREEZE.is_file():
        sys.exit(f"colab_sim: Colab's pip freeze not found at {FREEZE} (set COLAB_FREEZE)")
    pins = {}
    for line in FREEZE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "==" not in line:
            continue
        pins[norm(line.split("==")[0])] = line
    return pins


def build_venv(py313: str) -> None:
    """Create/refresh .venv-colab unless the stamp says it was built from the same inputs."""
    pins = read_freeze()
    missing = [p for p in PACKAGES if norm(p) not in pins]
    if missing:
        sys.exit(f"colab_sim: not in Colab's freeze: {missing}")
    constraints = sorted(line for key, line in pins.items() if not SKIP_CONSTRAINT.match(key))
    pyver = subprocess.run([py313, "-c", "import sys; print(sys.version)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    digest = hashlib.sha256(json.dumps([LAYOUT, pyver, constraints, PACKAGES]).encode()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == digest and VENV_PY.exists() and BASELINE.is_file():
        log(f"reusing {VENV.name} (stamp matches)")
        return

    start = time.perf_counter()
    log(f"building {VENV.name} from {py313} ({pyver.split()[0]})")
    if VENV.exists():
        # Keep the kernel's pip cache across rebuilds; everything else is made anew.
        keep = PIP_CACHE.exists() and Path(tempfile.mkdtemp(prefix="colab-pip-cache-"))
        if keep:
            shutil.move(str(PIP_CACHE), keep / "c")
        shutil.rmtree(VENV)
        VENV.mkdir()
        if keep:
            shutil.move(str(keep / "c"), PIP_CACHE)
            keep.rmdir()
    run([py313, "-m", "venv", VENV])
    cfile = VENV / "colab-constraints.txt"
    cfile.write_text("# Colab's pip freeze less nvidia-*/cuda-*/triton (made by colab_sim.py)\n"
                     + "\n".join(constraints) + "\n")
    # pip itself at Colab's version first, so the resolver behaves like Colab's.
    run([VENV_PY, "-m", "pip", "install", "-q", "-c", cfile, pins["pip"].split("==")[0]])
    log("installing at Colab's versions: " + ", ".join(pins[norm(p)] for p in PACKAGES))
    run([VENV_PY, "-m", "pip", "install", "-q", "--progress-bar", "off", "-c", cfile, *PACKAGES])
    check_versions(pins)
    # Colab's image ships a built matplotlib font cache; build ours now, not in chapter 1.
    MPLCONFIG.mkdir(exist_ok=True)
    run([VENV_PY, "-c", "import matplotlib.pyplot"], env={**os.environ, "MPLCONFIGDIR": str(MPLCONFIG),
                                                          "MPLBACKEND": "Agg"})
    # What every chapter starts from; a run (even an interrupted one) is undone back to it.
    BASELINE.write_text(json.dumps(installed(), indent=1, sort_keys=True))
    STAMP.write_text(digest + "\n")
    log(f"{VENV.name} built in {time.perf_counter() - start:.0f} s")


def installed(py=VENV_PY) -> dict[str, str]:
    """{normalised name: version} of every distribution in the venv."""
    # -I: isolated, so the working folder (and an lm_coursebook.egg-info in it) is not on sys.path.
    out = subprocess.run([py, "-I", "-c", "import json, importlib.metadata as m; print(json.dumps("
                          "{d.metadata['Name']: d.version for d in m.distributions()}))"],
                         capture_output=True, text=True, check=True).stdout
    return {norm(k): v for k, v in json.loads(out).items()}


def check_versions(pins: dict[str, str]) -> None:
    """Every book package at Colab's version, and none of the setup cell's own installs."""
    have = installed()
    wrong = [f"{p}: have {have.get(norm(p))}, Colab {pins[norm(p)]}" for p in PACKAGES
             if have.get(norm(p)) != pins[norm(p)].split("==")[1]]
    extra = [p for p in NOT_IN_COLAB if norm(p) in have]
    if wrong or extra:
        sys.exit("colab_sim: venv differs from Colab:\n  " + "\n  ".join(wrong + [f"{p}: installed" for p in extra]))


# --------------------------------------------------------------------------- 2. wheel

def build_wheel() -> Path:
    """Build lm-coursebook's wheel into _build/colab/wheel and return its path.

    With build isolation pip fetches setuptools>=77 (pyproject's build requirement; Colab's
    75.2 is too old for its PEP 639 license field). If that fails (no index), the project's
    own .venv, which `make test` built, builds it without isolation.
    """
    out = BUILD / "wheel"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    attempts = [[VENV_PY, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, ROOT]]
    if (ROOT / ".venv" / "bin" / "python").exists():
        attempts.append([ROOT / ".venv" / "bin" / "python", "-m", "pip", "wheel", "-q", "--no-deps",
                         "--no-build-isolation", "-w", out, ROOT])
    for cmd in attempts:
        try:
            run(cmd)
            break
        except subprocess.CalledProcessError:
            log("wheel build failed; trying the next way")
    wheels = sorted(out.glob("lm_coursebook-*.whl"))
    if not wheels:
        sys.exit("colab_sim: could not build the lm-coursebook wheel")
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' scratch folder
    log(f"wheel: {wheels[-1].name} ({wheels[-1].stat().st_size / 1e6:.1f} MB)")
    return wheels[-1]


# --------------------------------------------------------------------------- 3. kernel

COLAB_STARTUP = '''\
"""What Google Colab's kernel has done before the first cell runs (made by colab_sim.py).

A dummy `google.colab` package in sys.modules (the setup cell tests for it), with harmless
`output`, `userdata` and `errors` submodules, and ipywidgets (7.7.1 in Colab) imported.
"""
import sys
import types


def _module(name, doc):
    mod = types.ModuleType(name, doc)
    mod.__path__ = []  # a package, so `import google.colab.x` works for our submodules
    sys.modules[name] = mod
    return mod


try:  # a real `google` namespace package (protobuf, ...) must keep working
    import google
except ImportError:
    google = _module("google", "dummy google namespace (colab_sim)")

colab = _module("google.colab", "dummy google.colab (colab_sim)")
google.colab = colab

output = types.ModuleType("google.colab.output", "dummy google.colab.output")
output.enable_custom_widget_manager = lambda: None
output.disable_custom_widget_manager = lambda: None
output.clear = lambda *a, **k: None
output.no_vertical_scroll = lambda: None
sys.modules["google.colab.output"] = colab.output = output

errors = types.ModuleType("google.colab.errors", "dummy google.colab.errors")
errors.Error = type("Error", (Exception,), {})
sys.modules["google.colab.errors"] = colab.errors = errors

userdata = types.ModuleType("google.colab.userdata", "dummy google.colab.userdata: no secrets")
userdata.NotebookAccessError = type("NotebookAccessError", (errors.Error,), {})
userdata.SecretNotFoundError = type("SecretNotFoundError", (errors.Error,), {})
userdata.TimeoutException = type("TimeoutException", (errors.Error,), {})


def _get(key):
    raise userdata.SecretNotFoundError(f"Secret {key} does not exist.")


userdata.get = _get
sys.modules["google.colab.userdata"] = colab.userdata = userdata

import ipywidgets  # noqa: E402,F401  Colab imports it before the first cell

del _module, _get
'''


def make_kernel() -> None:
    """IPYTHONDIR with the Colab startup file, and the colab-py313 kernelspec."""
    startup = IPYTHONDIR / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-colab.py").write_text(COLAB_STARTUP, encoding="utf-8")
    spec = JUPYTER_DATA / "kernels" / KERNEL_NAME / "kernel.json"
    if not spec.exists():
        run([VENV_PY, "-m", "ipykernel", "install", "--prefix", VENV, "--name", KERNEL_NAME,
             "--display-name", "Python 3.13 (colab-sim)"], stdout=subprocess.DEVNULL)
    argv0 = json.loads(spec.read_text())["argv"][0]
    if Path(argv0) != VENV_PY and Path(argv0).resolve() != VENV_PY.resolve():
        sys.exit(f"colab_sim: kernelspec runs {argv0}, not {VENV_PY}")


def kernel_env(wheel: Path, pip_cache: Path) -> dict[str, str]:
    """The environment the Colab kernel (and so the setup cell's pip) sees."""
    env = dict(os.environ)
    for k in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "JUPYTER_CONFIG_DIR"):
        env.pop(k, None)
    env.update({
        "IPYTHONDIR": str(IPYTHONDIR),
        "JUPYTER_PATH": str(JUPYTER_DATA),
        "LMLIB_WHEEL": wheel.resolve().as_uri(),
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(HUB_CACHE),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "LMLIB_FINETUNE_DEVICE": "cpu",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "MPLCONFIGDIR": str(MPLCONFIG),
        "PYTHONHASHSEED": "0",
        "PIP_CACHE_DIR": str(pip_cache),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # debugpy 1.8 on 3.13 warns about frozen modules at every kernel start (stderr only).
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PATH": f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    })
    nsmc = env.get("LMLIB_NSMC_DIR") or (ROOT.parent / "shared" / "data" / "nsmc")
    if Path(nsmc, "ratings_train.txt").exists():
        env["LMLIB_NSMC_DIR"] = str(Path(nsmc).resolve())
    return env


SMOKE = r'''
import json, sys
import ipywidgets
print("SMOKE" + json.dumps({
    "version": sys.version, "executable": sys.executable,
    "google.colab": "google.colab" in sys.modules,
    "ipywidgets_preimported": "ipywidgets" in sys.modules, "ipywidgets": ipywidgets.__version__,
    "IPython": __import__("IPython").__version__, "ipykernel": __import__("ipykernel").__version__,
}))
'''


def smoke_check(env: dict[str, str], pins: dict[str, str]) -> list[str]:
    """Start the kernel once and check it is Colab-like; return a list of problems."""
    nb = {"cells": [{"cell_type": "code", "source": SMOKE, "metadata": {}, "outputs": [],
                     "execution_count": None, "id": "smoke"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "smoke.ipynb")
        path.write_text(json.dumps(nb))
        res = execute_in_venv(path, env, Path(tmp), timeout=120)
    text = "\n".join(res.get("stdout", []))
    m = re.search(r"SMOKE(\{.*\})", text)
    if not m:
        return [f"kernel smoke check printed no result: {res.get('errors') or res.get('failure')}"]
    info = json.loads(m.group(1))
    log("kernel: Python " + info["version"].split()[0] + f" ({info['executable']}), IPython {info['IPython']}, "
        f"ipykernel {info['ipykernel']}, ipywidgets {info['ipywidgets']} "
        f"{'pre-imported' if info['ipywidgets_preimported'] else 'NOT pre-imported'}, "
        f"google.colab {'present' if info['google.colab'] else 'MISSING'}")
    problems = []
    if not info["version"].startswith("3.13"):
        problems.append(f"kernel runs Python {info['version']}, not 3.13")
    if Path(info["executable"]).resolve().parent != VENV_PY.resolve().parent:
        problems.append(f"kernel runs {info['executable']}, not {VENV_PY}")
    if not info["google.colab"]:
        problems.append("google.colab is not in the kernel's sys.modules")
    if info["ipywidgets"] != pins["ipywidgets"].split("==")[1]:
        problems.append(f"kernel has ipywidgets {info['ipywidgets']}, Colab {pins['ipywidgets']}")
    return problems


# --------------------------------------------------------------------------- 4. hub

def hub_stamp() -> str:
    src = Path(__file__).read_text(encoding="utf-8")
    body = src[src.index("def _hub_lines"):src.index("# ---- end of hub")]
    return hashlib.sha256((STAMP.read_text() + body).encode()).hexdigest()


def build_hub() -> None:
    """Make the tiny hub models with the venv's transformers, unless already made; verify them."""
    stamp = HUB_CACHE / ".stamp"
    if not (stamp.is_file() and stamp.read_text().strip() == hub_stamp()):
        shutil.rmtree(HUB_CACHE, ignore_errors=True)
        run([VENV_PY, __file__, "_hub", "build", HUB_CACHE])
        stamp.write_text(hub_stamp() + "\n")
    else:
        log(f"reusing the tiny hub models in {HUB_CACHE.relative_to(ROOT)}")
    run([VENV_PY, __file__, "_hub", "verify", HUB_CACHE],
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(HUB_CACHE)})


def _hub_lines(n: int = 600) -> list[str]:
    """A few hundred Korean review lines (NSMC), plus the sentences the chapters feed the models."""
    lines = ["발 없는 말이 천 리 간다", "이 영화 정말 재미있어요", "오늘 날씨가 좋아서 산책을 했다",
             "이 영화는 정말 최고의 작품이다", "배우들의 연기가 훌륭하고 음악도 좋았다"]
    nsmc = Path(os.environ.get("LMLIB_NSMC_DIR") or ROOT.parent / "shared" / "data" / "nsmc", "ratings_train.txt")
    if nsmc.exists():
        with open(nsmc, encoding="utf-8") as f:
            next(f)
            for row in f:
                parts = row.rstrip("\n").split("\t")
                if len(parts) == 3 and parts[1].strip():
                    lines.append(parts[1].strip())
                if len(lines) >= n:
                    break
    return lines


def _hub_snapshot(cache: Path, repo: str) -> Path:
    """models--ORG--NAME/refs/main -> a commit hash; return snapshots/<hash>/ (created)."""
    commit = hashlib.sha1(f"colab-sim tiny {repo}".encode()).hexdigest()
    top = cache / ("models--" + repo.replace("/", "--"))
    (top / "refs").mkdir(parents=True, exist_ok=True)
    (top / "refs" / "main").write_text(commit)  # no newline, as huggingface_hub writes it
    snap = top / "snapshots" / commit
    snap.mkdir(parents=True, exist_ok=True)
    return snap


def _hub_build(cache: Path) -> None:
    """Runs in the venv: tiny KoGPT2 and KLUE BERT stand-ins, laid out as the hub cache holds them."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from tokenizers.implementations import BertWordPieceTokenizer
    from transformers import BertConfig, BertForPreTraining, GPT2Config, GPT2LMHeadModel

    lines = _hub_lines()
    torch.manual_seed(0)

    # skt/kogpt2-base-v2: BPE over Metaspace (▁) pieces, not byte-level; the real repo has
    # config.json + tokenizer.json and no tokenizer_config.json (hence the model card's
    # PreTrainedTokenizerFast.from_pretrained(..., bos_token="</s>", ...)).
    snap = _hub_snapshot(cache, "skt/kogpt2-base-v2")
    specials = ["</s>", "<usr>", "<pad>", "<sys>", "<unk>", "<mask>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=1000, special_tokens=specials,
                                                       limit_alphabet=700, show_progress=False))
    tok.save(str(snap / "tokenizer.json"))
    cfg = GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=128, n_embd=32, n_layer=2, n_head=2,
                     bos_token_id=0, eos_token_id=0, pad_token_id=2)
    GPT2LMHeadModel(cfg).save_pretrained(snap)
    print(f"skt/kogpt2-base-v2: vocab {tok.get_vocab_size()}, files {sorted(p.name for p in snap.iterdir())}")

    # klue/bert-base: WordPiece, cased (do_lower_case false, no accent stripping: NFD would
    # break Hangul), BertTokenizer in tokenizer_config.json, vocab.txt beside tokenizer.json.
    snap = _hub_snapshot(cache, "klue/bert-base")
    wp = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    wp.train_from_iterator(lines, vocab_size=1000, limit_alphabet=700, show_progress=False,
                           special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    wp.save(str(snap / "tokenizer.json"))
    vocab = sorted(wp.get_vocab().items(), key=lambda kv: kv[1])
    (snap / "vocab.txt").write_text("".join(t + "\n" for t, _ in vocab), encoding="utf-8")
    (snap / "tokenizer_config.json").write_text(json.dumps({
        "do_lower_case": False, "strip_accents": None, "tokenize_chinese_chars": True,
        "do_basic_tokenize": True, "never_split": None, "model_max_length": 512,
        "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]", "sep_token": "[SEP]",
        "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}, indent=2))
    (snap / "special_tokens_map.json").write_text(json.dumps({
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
        "mask_token": "[MASK]"}, indent=2))
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512, type_vocab_size=2, pad_token_id=0)
    BertForPreTraining(cfg).save_pretrained(snap)
    print(f"klue/bert-base: vocab {len(vocab)}, files {sorted(p.name for p in snap.iterdir())}")


def _hub_verify() -> None:
    """Runs in the venv with HF_HUB_OFFLINE=1: load both as chapters 6 and 8 do, run them."""
    import torch
    import transformers
    from transformers import AutoTokenizer, BertModel, GPT2LMHeadModel, PreTrainedTokenizerFast

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    name = "skt/kogpt2-base-v2"
    special = dict(bos_token="</s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    tok = PreTrainedTokenizerFast.from_pretrained(name, **special)
    model = GPT2LMHeadModel.from_pretrained(name).eval()
    ids = tok.encode("발 없는 말이 천 리 간다")
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits
    assert logits.shape == (1, len(ids), model.config.vocab_size), logits.shape
    assert tok.decode(ids) == "발 없는 말이 천 리 간다", tok.decode(ids)
    auto = AutoTokenizer.from_pretrained(name, **special)
    same = auto.encode("발 없는 말이 천 리 간다") == ids
    print(f"{name}: ok with PreTrainedTokenizerFast (ids {ids}); AutoTokenizer gives "
          f"{type(auto).__name__}, {'same ids' if same else 'DIFFERENT ids: ' + str(auto.encode('발 없는 말이 천 리 간다'))}")

    name = "klue/bert-base"
    tok = AutoTokenizer.from_pretrained(name)
    bert = BertModel.from_pretrained(name).eval()
    enc = tok(["이 영화 정말 재미있어요", "별로"], padding=True, truncation=True, max_length=128, return_tensors="pt")
    assert "token_type_ids" in enc, enc.keys()
    with torch.no_grad():
        h = bert(**enc).last_hidden_state
    assert h.shape[-1] == 32, h.shape
    print(f"{name}: ok with {type(tok).__name__} {tok.tokenize('이 영화 정말 재미있어요')}, hidden {tuple(h.shape)} "
          f"(transformers {transformers.__version__})")
# ---- end of hub


# --------------------------------------------------------------------------- 5. run

def execute_in_venv(path: Path, env: dict[str, str], cwd: Path, timeout: int = 600) -> dict:
    """Execute one notebook with the venv's nbclient (subcommand `_execute`); its result dict."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result_file = Path(f.name)
    try:
        proc = subprocess.run([VENV_PY, __file__, "_execute", path, result_file, cwd, str(timeout)], env=env)
        if result_file.stat().st_size:
            return json.loads(result_file.read_text())
        return {"failure": f"executor exited {proc.returncode} without a result"}
    finally:
        result_file.unlink(missing_ok=True)


def _execute(path: Path, result_file: Path, cwd: Path, timeout: int) -> None:
    """Runs in the venv: execute the notebook at `path` (in memory only) and write a result dict."""
    import nbformat

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from nbexec import notebook_client  # nbclient that cannot stall on a missed kernel reply

    nb = nbformat.read(path, as_version=4)
    seconds: dict[int, float] = {}
    started: dict[int, float] = {}

    def on_start(cell, cell_index, **_):
        started[cell_index] = time.perf_counter()

    def on_done(cell, cell_index, **_):
        seconds[cell_index] = time.perf_counter() - started.get(cell_index, time.perf_counter())

    client = notebook_client(nb, timeout=timeout, kernel_name=KERNEL_NAME, allow_errors=True,
                             record_timing=False, resources={"metadata": {"path": str(cwd)}},
                             on_cell_execute=on_start, on_cell_executed=on_done)
    result: dict = {"errors": [], "widgets": 0, "stdout": []}
    t0 = time.perf_counter()
    try:
        client.execute()
    except Exception as e:  # a dead kernel or a cell timeout: report it, do not crash
        result["failure"] = f"{type(e).__name__}: {e}"[:2000]
    result["seconds"] = time.perf_counter() - t0
    ansi = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
    setup_index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
    for i, cell in enumerate(c for c in nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                result["stdout"].append(out.get("text", ""))
            if WIDGET_MIME in out.get("data", {}):
                result["widgets"] += 1
            if out.get("output_type") == "error":
                tb = ansi.sub("", "\n".join(out.get("traceback", []))).strip().splitlines()
                result["errors"].append({"cell": i, "ename": out.get("ename"), "evalue": out.get("evalue"),
                                         "source": cell.source[:300], "traceback_tail": tb[-12:]})
    if setup_index is not None:
        result["setup_seconds"] = seconds.get(setup_index)
        setup = nb.cells[setup_index]
        result["setup_output"] = "".join(o.get("text", "") for o in setup.get("outputs", []))[-3000:]
    result["cells"] = {str(k): round(v, 2) for k, v in seconds.items()}
    result_file.write_text(json.dumps(result, ensure_ascii=False))


def restore(baseline: dict[str, str]) -> dict:
    """Put the venv back as it was before the first chapter (Colab: a fresh runtime per notebook)."""
    now = installed()
    added = sorted(n for n in now if n not in baseline)
    changed = sorted(n for n in now if n in baseline and now[n] != baseline[n])
    removed = sorted(n for n in baseline if n not in now)
    if added:
        run([VENV_PY, "-m", "pip", "uninstall", "-y", "-q", *added])
    back = [f"{n}=={baseline[n]}" for n in changed + removed]
    if back:
        run([VENV_PY, "-m", "pip", "install", "-q", "--no-deps", *back])
    after = installed()
    if after != baseline:
        diff = sorted(set(after.items()) ^ set(baseline.items()))
        sys.exit(f"colab_sim: could not restore the venv: {diff}")
    return {"uninstalled": added, "reinstalled": [f"{n} {now[n]} -> {baseline[n]}" for n in changed]
            + [f"{n} (removed) -> {baseline[n]}" for n in removed]}


def chapters(only: list[str] | None, folder: Path) -> list[Path]:
    paths = sorted(folder.glob("*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(o) for o in only)]
        if not paths:
            sys.exit(f"colab_sim: no notebook in {folder} starts with {only}")
    return paths


# --------------------------------------------------------------------------- 6. report

def summarise(report: dict) -> None:
    rows = report["chapters"]
    print("\n" + "=" * 78)
    print(f"{'chapter':34} {'wall s':>7} {'setup s':>8} {'errors':>6} {'widgets':>7}  status")
    for r in rows:
        setup = f"{r['setup_seconds']:.1f}" if r.get("setup_seconds") is not None else "-"
        status = "ok" if r["ok"] else ("FAILED: " + r["failure"][:40] if r.get("failure") else "ERRORS")
        print(f"{r['notebook'][:34]:34} {r['seconds']:7.1f} {setup:>8} {len(r['errors']):6d} {r['widgets']:7d}  {status}")
    print(f"venv build/reuse {report['setup_seconds']:.0f} s; total {report['total_seconds']:.0f} s; "
          f"report: {(BUILD / 'report.json').relative_to(ROOT)}")
    print("=" * 78)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", metavar="NN", help="run only notebooks whose name starts with these")
    ap.add_argument("--notebooks", type=Path, default=ROOT / "notebooks",
                    help="folder of notebooks to run (default notebooks/; e.g. edited copies in /tmp)")
    ap.add_argument("--fresh-pip-cache", action="store_true",
                    help="give the kernel's pip an empty cache (a cold install, as in a new Colab runtime)")
    ap.add_argument("--setup-only", action="store_true", help="build and check the environment, run nothing")
    ap.add_argument("--keep", action="store_true",
                    help="do not restore the venv after the last chapter (inspect what the setup cell installed)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    pins = read_freeze()
    build_venv(find_python313())
    wheel = build_wheel()
    make_kernel()
    build_hub()
    fresh_cache = Path(tempfile.mkdtemp(prefix="colab-pip-cache-")) if args.fresh_pip_cache else None
    env = kernel_env(wheel, fresh_cache or PIP_CACHE)
    problems = smoke_check(env, pins)
    for p in problems:
        log("PROBLEM: " + p)
    setup_seconds = time.perf_counter() - t0
    report = {"python": sys.version, "freeze": str(FREEZE), "wheel": wheel.name, "problems": problems,
              "setup_seconds": round(setup_seconds, 1), "fresh_pip_cache": args.fresh_pip_cache, "chapters": []}
    if args.setup_only or problems:
        report["total_seconds"] = round(time.perf_counter() - t0, 1)
        BUILD.mkdir(parents=True, exist_ok=True)
        (BUILD / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
        return 1 if problems else 0

    # Start from the venv as built, whatever an earlier (--keep or interrupted) run left.
    baseline = json.loads(BASELINE.read_text())
    undone = restore(baseline)
    if undone["uninstalled"] or undone["reinstalled"]:
        log(f"undid an earlier run's installs: {undone}")
    paths = chapters(args.only, args.notebooks)
    for n, path in enumerate(paths):
        if fresh_cache and n:  # every chapter cold, like a fresh Colab runtime
            shutil.rmtree(fresh_cache, ignore_errors=True)
            fresh_cache.mkdir()
        log(f"--- {path.name}")
        res = execute_in_venv(path, env, path.parent.resolve(), args.timeout)
        row = {"notebook": path.name, "seconds": round(res.get("seconds", 0.0), 1),
               "setup_seconds": res.get("setup_seconds") and round(res["setup_seconds"], 1),
               "errors": res.get("errors", []), "widgets": res.get("widgets", 0),
               "failure": res.get("failure"), "cells": res.get("cells", {})}
        row["ok"] = not row["errors"] and not row["failure"]
        setup = f"{row['setup_seconds']:.1f} s" if row["setup_seconds"] is not None else "?"
        log(f"{path.name}: {row['seconds']:.1f} s (setup cell {setup}), {len(row['errors'])} error cell(s), "
            f"{row['widgets']} live widget output(s)")
        if row["failure"]:
            log(f"  FAILURE: {row['failure']}")
        for err in row["errors"]:
            log(f"  error in cell {err['cell']}: {err['ename']}: {(err['evalue'] or '')[:200]}")
            for line in err["traceback_tail"][-6:]:
                print("      " + line)
        row["setup_output"] = res.get("setup_output", "")
        # What the Colab-only cells printed about the hub models (did they run, or skip?).
        row["hub_lines"] = [line for text in res.get("stdout", []) for line in text.splitlines()
                            if any(m in line for m in HUB_MODELS)]
        for line in row["hub_lines"]:
            log(f"  hub: {line[:160]}")
        if not (args.keep and n == len(paths) - 1):
            row["restored"] = restore(baseline)
            if row["restored"]["uninstalled"] or row["restored"]["reinstalled"]:
                log(f"  restored venv: uninstalled {len(row['restored']['uninstalled'])}, "
                    f"reinstalled {row['restored']['reinstalled']}")
        report["chapters"].append(row)
        BUILD.mkdir(parents=True, exist_ok=True)
        (BUILD / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    if fresh_cache:
        shutil.rmtree(fresh_cache, ignore_errors=True)
    report["total_seconds"] = round(time.perf_counter() - t0, 1)
    (BUILD / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    summarise(report)
    return 0 if all(r["ok"] for r in report["chapters"]) else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_hub":       # run by the venv's python
        (_hub_build if sys.argv[2] == "build" else lambda c: _hub_verify())(Path(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_execute":  # run by the venv's python
        _execute(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(main())
