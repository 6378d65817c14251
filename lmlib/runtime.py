"""What the notebooks' setup cell reports after installing lmlib in Colab.

Colab's kernel has already imported some packages when the first cell runs (ipywidgets,
numpy, IPython ...). pip can replace such a package on disk, but the running kernel keeps
the old copy in memory, and mixing the two breaks in obscure ways. So after the install
the setup cell calls :func:`report_install`, which prints the versions that matter to the
book and says plainly when, and why, the runtime must be restarted.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from collections.abc import Mapping

# The packages whose versions a student or instructor asks about first.
SHOWN = ("lm-coursebook", "torch", "numpy", "transformers", "tokenizers", "ipywidgets")


def installed() -> dict[str, str]:
    """{distribution name (lower case): version} of everything installed, read from disk now."""
    return {d.metadata["Name"].lower(): d.version for d in importlib.metadata.distributions()
            if d.metadata["Name"]}


def imported_distributions() -> set[str]:
    """Distributions (lower case) that provide a module the running interpreter has imported."""
    providers = importlib.metadata.packages_distributions()
    tops = {name.split(".", 1)[0] for name in list(sys.modules)}
    return {dist.lower() for top in tops for dist in providers.get(top, [])}


def install_changes(before: Mapping[str, str], after: Mapping[str, str] | None = None) -> dict:
    """Compare two `installed()` snapshots: {"added": {name: version}, "changed": {name: (old, new)},
    "restart": {name: (old, new)}}, where "restart" lists changed distributions already imported."""
    if not isinstance(before, Mapping):
        raise TypeError(f"before: expected the dict of installed() taken before pip ran, got {type(before).__name__}")
    if after is not None and not isinstance(after, Mapping):
        raise TypeError(f"after: expected the dict of installed() taken after pip ran (or None: now), "
                        f"got {type(after).__name__}")
    after = installed() if after is None else after
    added = {n: v for n, v in after.items() if n not in before}
    changed = {n: (before[n], v) for n, v in after.items() if n in before and before[n] != v}
    loaded = imported_distributions()
    restart = {n: ov for n, ov in changed.items() if n in loaded}
    return {"added": added, "changed": changed, "restart": restart}


def report_install(before: Mapping[str, str], seconds: float | None = None) -> dict:
    """Print what the install did (Korean), the versions that matter, and whether to restart.

    Returns the dict of :func:`install_changes`.
    """
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"seconds: expected the install's duration in seconds or None, "
                            f"got {type(seconds).__name__}")
        if not (0 <= seconds < float("inf")):
            raise ValueError(f"seconds: expected a finite number of seconds >= 0, got {seconds!r}")
    changes = install_changes(before)
    now = installed()
    took = f" ({seconds:.0f}초)" if seconds is not None else ""
    print(f"설치 완료{took}. 새로 설치: {len(changes['added'])}개, 버전이 바뀐 패키지: {len(changes['changed'])}개")
    shown = ", ".join(f"{n} {now[n]}" for n in SHOWN if n in now)
    print(f"Python {platform.python_version()}; {shown}")
    if changes["restart"]:
        why = ", ".join(f"{n} {old} → {new}" for n, (old, new) in sorted(changes["restart"].items()))
        print(f"⚠ 런타임을 다시 시작해야 합니다: 이미 불러온 패키지가 디스크에서 바뀌었습니다({why}). "
              "메뉴 '런타임 > 세션 다시 시작'을 누른 뒤 이 셀부터 다시 실행하세요. "
              "다시 시작하지 않으면 옛 버전과 새 버전이 섞여 알 수 없는 오류가 납니다.")
    else:
        print("이미 불러온 패키지는 그대로이므로 런타임을 다시 시작할 필요가 없습니다.")
    return changes
