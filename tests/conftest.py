"""Shared fixtures: the project's own contract and a small simulated world."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.land import TableSpec, World, parse_contract, simulate_world
from movierec.settings import Paths, SimulationSettings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def contract() -> dict[str, TableSpec]:
    paths = Paths(project_dir=REPO, data_dir=REPO / "data", warehouse_path=REPO / "unused")
    return parse_contract(paths.sources_yml.read_text())


@pytest.fixture(scope="session")
def small_world() -> World:
    return simulate_world(SimulationSettings(n_users=200, n_movies=50, n_interactions=3_000))
