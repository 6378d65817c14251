"""lmlib.hub (may a Colab-only cell load a hub model here?) and lmlib.runtime (the setup cell's report)."""

import sys
import types

import pytest

from lmlib import hub, runtime


def fake_cache(root, repo_id="klue/bert-base", files=("config.json",)):
    """The hub-cache layout huggingface_hub reads: models--ORG--NAME/{refs/main, snapshots/<hash>/...}."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    snap = repo / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    for f in files:
        (snap / f).write_text("{}")
    return root


@pytest.fixture
def no_network(monkeypatch):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise OSError("no network in tests")

    monkeypatch.setattr(hub.socket, "create_connection", refuse)
    return calls


def test_cached_finds_a_repository_in_the_hub_layout(tmp_path):
    cache = fake_cache(tmp_path)
    assert hub.cached("klue/bert-base", cache_dir=cache)
    assert not hub.cached("klue/bert-base", "tokenizer.json", cache_dir=cache)
    assert not hub.cached("skt/kogpt2-base-v2", cache_dir=cache)


def test_available_offline_means_cached_only(tmp_path, monkeypatch, no_network):
    cache = fake_cache(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.offline()
    assert hub.available("klue/bert-base", cache_dir=cache)
    assert not hub.available("skt/kogpt2-base-v2", cache_dir=cache)
    assert no_network == []  # offline never opens a connection


def test_available_online_asks_the_host_when_not_cached(tmp_path, monkeypatch, no_network):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert not hub.offline()
    assert not hub.available("skt/kogpt2-base-v2", cache_dir=tmp_path)
    assert len(no_network) == 1 and no_network[0][0] == (hub.HUB_HOST, 443)


@pytest.mark.parametrize("repo_id, error", [(None, TypeError), ("bert-base", ValueError), ("a/b/c", ValueError),
                                            ("klue/ bert", ValueError), ("/bert", ValueError)])
def test_repo_id_is_checked(repo_id, error):
    with pytest.raises(error, match="repo_id"):
        hub.available(repo_id)


@pytest.mark.parametrize("kwargs, name", [({"filename": ""}, "filename"), ({"cache_dir": 3}, "cache_dir")])
def test_cached_checks_its_arguments(kwargs, name):
    with pytest.raises(TypeError, match=name):
        hub.cached("klue/bert-base", **kwargs)


@pytest.mark.parametrize("timeout", [0, -1, True, "3"])
def test_reachable_checks_timeout(timeout):
    with pytest.raises(ValueError, match="timeout"):
        hub.reachable(timeout)


def test_install_changes_names_what_needs_a_restart(monkeypatch):
    before = {"numpy": "2.1.3", "tqdm": "4.67.3", "ipywidgets": "7.7.1"}
    after = {"numpy": "2.3.0", "tqdm": "4.67.3", "ipywidgets": "7.7.1", "kiwipiepy": "0.24.1",
             "sacrebleu": "2.6.0"}
    monkeypatch.setattr(runtime, "imported_distributions", lambda: {"numpy", "ipywidgets"})
    changes = runtime.install_changes(before, after)
    assert changes["added"] == {"kiwipiepy": "0.24.1", "sacrebleu": "2.6.0"}
    assert changes["changed"] == {"numpy": ("2.1.3", "2.3.0")}
    assert changes["restart"] == {"numpy": ("2.1.3", "2.3.0")}  # imported and changed on disk


def test_report_says_restart_only_when_an_imported_package_changed(monkeypatch, capsys):
    monkeypatch.setattr(runtime, "installed", lambda: {"numpy": "2.3.0", "lm-coursebook": "0.1.0"})
    monkeypatch.setattr(runtime, "imported_distributions", lambda: {"numpy"})
    runtime.report_install({"numpy": "2.1.3"}, seconds=12.3)
    out = capsys.readouterr().out
    assert "설치 완료 (12초)" in out and "lm-coursebook 0.1.0" in out
    assert "다시 시작해야" in out and "numpy 2.1.3 → 2.3.0" in out
    runtime.report_install({"numpy": "2.3.0"})
    assert "다시 시작할 필요가 없습니다" in capsys.readouterr().out


def test_imported_distributions_sees_a_real_import():
    import pytest as _  # noqa: F401  (pytest is installed as a distribution and imported)

    assert "pytest" in runtime.imported_distributions()
    assert runtime.installed()["pytest"] == pytest.__version__


def test_install_changes_refuses_a_non_mapping():
    with pytest.raises(TypeError, match="before"):
        runtime.install_changes(["numpy"])
