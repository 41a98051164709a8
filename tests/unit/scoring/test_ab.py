"""Champion and challenger: the stable split of users, and which models serve."""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pytest

from movierec.scoring import in_challenger_group, serving_models
from tests.conftest import create_ml_outputs


def test_the_split_is_stable_disjoint_and_of_the_configured_share() -> None:
    users = np.arange(1, 200_001, dtype=np.int64)
    challenged = in_challenger_group(users, 0.2)
    assert challenged.tolist() == in_challenger_group(users, 0.2).tolist()
    assert abs(challenged.mean() - 0.2) < 0.005
    # a user's group depends on their id alone: the same in any subset, in any order
    some = np.array([150_000, 7, 99_999, 3], dtype=np.int64)
    assert in_challenger_group(some, 0.2).tolist() == challenged[some - 1].tolist()
    # a larger share keeps everyone the smaller share challenged
    assert (in_challenger_group(users, 0.5) | ~challenged).all()
    assert not in_challenger_group(users, 0.0).any()


@pytest.fixture
def registry() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_ml_outputs(con)
    return con


def _register(con: duckdb.DuckDBPyConnection, model_id: str, day: int) -> None:
    con.execute(
        "insert into ml_outputs.model_registry (model_id, created_at, features, params, "
        "training) values (?, ?, '[\"x\"]', '{}', null)",
        [model_id, datetime(2026, 1, day)],
    )


def test_the_champion_is_the_promoted_or_serving_model_and_the_newest_challenges(
    registry: duckdb.DuckDBPyConnection,
) -> None:
    con = registry
    assert serving_models(con, 0.2) is None
    _register(con, "m1", 1)
    only = serving_models(con, 0.2)
    assert only is not None
    assert (only.champion.model_id, only.challenger) == ("m1", None)
    con.execute(
        "insert into ml_outputs.recommendation_runs (run_id, model_id, generated_at) "
        "values ('r1', 'm1', '2026-01-01 05:00')"
    )
    _register(con, "m2", 2)
    # the model that served keeps serving; the new one challenges it
    ab = serving_models(con, 0.2)
    assert ab is not None
    assert ab.identity == ("m1", "m2", 0.2)
    # without a test, the newest serves everyone
    plain = serving_models(con, 0.0)
    assert plain is not None
    assert plain.identity == ("m2", None, 0.0)
    con.execute(
        "insert into ml_outputs.model_promotions (model_id, promoted_at) "
        "values ('m2', '2026-01-03')"
    )
    promoted = serving_models(con, 0.2)
    assert promoted is not None
    assert promoted.identity == ("m2", None, 0.0)
    _register(con, "m3", 4)
    next_test = serving_models(con, 0.2)
    assert next_test is not None
    assert next_test.identity == ("m2", "m3", 0.2)
