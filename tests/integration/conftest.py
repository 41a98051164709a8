"""One small simulated world, run through the whole nightly once per test session."""

from __future__ import annotations

import pytest

from movierec.settings import Paths
from tests.integration.harness import paths_for, simulated_and_built


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """simulate a small world, then `movierec nightly` (build, train, recommend, build)."""
    paths = paths_for(tmp_path_factory.mktemp("data"))
    nightly = simulated_and_built(paths)
    assert "simulating" not in nightly.stdout  # it found the landing and built on it
    return paths
