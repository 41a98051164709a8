"""Shared fixtures: the project's own contract and a small simulated world."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from movierec.land import TableSpec, World, parse_contract, simulate_world
from movierec.settings import Paths, SimulationSettings
from movierec.warehouse import create_tables, output_tables

REPO = Path(__file__).resolve().parents[1]

# The test files that share a world built once per worker (a session- or module-scoped
# fixture), and that world's fixture. `make test` runs the suite on two pytest-xdist
# workers and sends each world's files to one of them; every other test goes wherever
# a worker is free. tests/integration/conftest.py checks that the map is complete.
SHARED_WORLDS: dict[str, str] = {
    "tests/integration/test_publish.py": "installation",
    "tests/integration/test_faults.py": "installation",
    "tests/integration/test_incremental.py": "installation",
    "tests/integration/test_nightly.py": "warehouse",
    "tests/integration/test_warehouse_build.py": "warehouse",
    "tests/integration/test_bi_access.py": "warehouse",
    "tests/integration/test_report.py": "warehouse",
    "tests/integration/test_ab.py": "warehouse",
    "tests/integration/test_movielens.py": "movielens",
    "tests/integration/test_spark.py": "both_engines",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With `-n N` (xdist's default `--dist load`): one unit of work per shared world,
    one per other test."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedWorldScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return SHARED_WORLDS.get(nodeid.split("::")[0], nodeid)

    return SharedWorldScheduling(config, log)


def create_ml_outputs(con: duckdb.DuckDBPyConnection) -> None:
    """The ml_outputs tables the dbt sources file declares (EASE's weights included), in
    `con`, as the warehouse creates them."""
    sources = Paths(project_dir=REPO, data_dir=REPO / "data", warehouse_path=REPO / "unused")
    declared = sources.ml_outputs_sources_yml.read_text()
    create_tables(
        con, output_tables(declared, "ml_outputs") + output_tables(declared, "ml_weights")
    )


@pytest.fixture(scope="session")
def contract() -> dict[str, TableSpec]:
    paths = Paths(project_dir=REPO, data_dir=REPO / "data", warehouse_path=REPO / "unused")
    return parse_contract(paths.sources_yml.read_text())


@pytest.fixture(scope="session")
def small_world() -> World:
    return simulate_world(SimulationSettings(n_users=200, n_movies=50, n_interactions=3_000))
