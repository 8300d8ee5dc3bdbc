"""Shared fixtures and the hypothesis profiles (`ci` is the default under CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from planner.catalog import Catalog, load_catalog

settings.register_profile(
    "dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


# ------------------------------------------------------------------ parallel runs (pytest-xdist)
# CI runs the suite on two workers: `-n 2` with pyproject's `--dist loadscope`, scheduled below.
# A file's tests stay on one worker, so a module-scoped fixture (a Streamlit server, a corpus of
# CLI runs, a planned example) is built once, as in a serial run; only the files below, whose
# tests share nothing but the session's catalog, are handed out a test at a time.
ONE_TEST_AT_A_TIME = {"test_determinism.py", "test_readme_tour.py"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    if config.getoption("dist") != "loadscope":
        return None  # another --dist asked for on the command line: xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class FileOrTest(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::")[0]
            return nodeid if Path(file).name in ONE_TEST_AT_A_TIME else file

    return FileOrTest(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, files with a slow test first: a worker is handed the next file or test
    when it runs dry, so a long one left to the end would keep one worker busy while the other
    idles. A file's tests stay together and in order; a serial run keeps the files' order."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
