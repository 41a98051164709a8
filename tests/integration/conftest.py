"""One small simulated world, run through the whole nightly once per test session; and
one published twice, whose clones the publishing and fault tests break.

`make test` runs the suite on two pytest-xdist workers; the tests sharing one of these
worlds (or test_movielens' catalogue) run on one worker (`tests/conftest.py`), so each
world is built once."""

from __future__ import annotations

import time

import pytest

from movierec.settings import Paths
from tests.conftest import SHARED_WORLDS
from tests.integration.harness import paths_for, run_cli, simulated_and_built


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses a shared world sits in a file `SHARED_WORLDS` maps to it, so
    the two workers of `make test` build each world once."""
    for item in items:
        file = item.nodeid.split("::")[0]
        for world in set(SHARED_WORLDS.values()) & set(getattr(item, "fixturenames", ())):
            if SHARED_WORLDS.get(file) != world:
                raise pytest.UsageError(
                    f"{item.nodeid} uses the shared world {world!r}: map {file} to it in "
                    "SHARED_WORLDS (tests/conftest.py)"
                )


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
