"""One small simulated world, run through the whole nightly once per test session."""

from __future__ import annotations

import pytest

from movierec.config import Paths
from tests.integration.harness import N_INTERACTIONS, N_MOVIES, N_USERS, paths_for, run_cli


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """simulate a small world, then `movierec nightly` (build, train, recommend, build)."""
    paths = paths_for(tmp_path_factory.mktemp("data"))
    simulated = run_cli(
        paths, "simulate", "--users", str(N_USERS), "--movies", str(N_MOVIES),
        "--interactions", str(N_INTERACTIONS), "--seed", "11",
    )  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr
    nightly = run_cli(paths, "nightly")
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    assert "simulating" not in nightly.stdout  # it found the landing and built on it
    return paths
