"""One small simulated world, run through the whole nightly once per test session; and
one published twice, whose clones the publishing and fault tests break.

`make test` runs the suite on two pytest-xdist workers; the tests sharing one of these
worlds (or test_movielens' catalogue) run on one worker, so each world is built once."""

from __future__ import annotations

import time

import pytest

from movierec.settings import Paths
from tests.integration.harness import paths_for, run_cli, simulated_and_built

SHARED_WORLDS = ("installation", "warehouse", "movielens")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group the tests by the shared world they use (`--dist loadgroup`)."""
    for item in items:
        used = [w for w in SHARED_WORLDS if w in getattr(item, "fixturenames", ())]
        if used:
            item.add_marker(pytest.mark.xdist_group(used[0]))


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """simulate a small world, then `movierec nightly` (build, train, recommend, build)."""
    paths = paths_for(tmp_path_factory.mktemp("data"))
    nightly = simulated_and_built(paths)
    assert "simulating" not in nightly.stdout  # it found the landing and built on it
    return paths


@pytest.fixture(scope="session")
def installation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paths, float]:
    """A small world published twice (the second run retrains); and that run's wall time.
    Tests work on `harness.clone`s of it."""
    paths = paths_for(tmp_path_factory.mktemp("published"))
    simulated_and_built(paths)
    started = time.perf_counter()
    second = run_cli(paths, "nightly", "--retrain")
    assert second.returncode == 0, second.stdout + second.stderr
    return paths, time.perf_counter() - started
