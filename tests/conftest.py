"""Shared fixtures: where the repo, the shared real data and the benchmarks are."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO.parent / "shared").resolve()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repo (real ONS/NHS data; never copied into the repo)."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.fail(f"shared data not found at {path}: the repo must sit beside shared/")
    return path


@pytest.fixture(scope="session")
def orlib_dir() -> Path:
    path = SHARED / "benchmarks" / "orlib"
    if not path.is_dir():
        pytest.fail(f"OR-Library instances not found at {path}")
    return path


@pytest.fixture()
def demo_copy(tmp_path):
    """``demo_copy(time_limit_s, **keys)``: the demo scenario written into the test's folder
    with its paths made absolute, a time limit and top-level keys replaced (e.g.
    ``finance=None``); returns the file's path."""
    import yaml

    def write(time_limit_s: float, **keys) -> Path:
        doc = yaml.safe_load((REPO / "examples" / "demo.yaml").read_text())
        for key in ("areas", "sites", "workforce"):
            doc[key]["path"] = str((REPO / "examples" / doc[key]["path"]).resolve())
        doc["operating_model"] = str((REPO / "examples" / doc["operating_model"]).resolve())
        doc["solver"]["time_limit_s"] = time_limit_s
        doc.update(keys)
        path = tmp_path / "demo.yaml"
        path.write_text(yaml.safe_dump(doc))
        return path

    return write


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Name any test that leaves the process's Ctrl-C handling changed (a later test of
    Ctrl-C in the same worker would then fail for a reason not its own): a warning in the
    run's summary, with the handler before and after."""
    import signal
    import warnings

    before = signal.getsignal(signal.SIGINT)
    yield
    after = signal.getsignal(signal.SIGINT)
    if after is not before:
        warnings.warn(f"{item.nodeid} left SIGINT's handler changed: {before!r} -> {after!r}",
                      pytest.PytestWarning, stacklevel=1)
