"""EASE's item weights: the closed form against each film's own ridge regression, the kept
neighbours, and their fit into the warehouse."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np
import pytest

from movierec.model import ease_weights
from movierec.settings import TrainingMode
from movierec.training import fit_item_weights, weights_fitted_until
from tests.conftest import create_ml_outputs

# users 1-4 over films 10, 20, 30, 40 (ids need not be contiguous); user 2 viewed 20 twice
PAIRS = [(1, 10), (1, 20), (2, 10), (2, 20), (2, 20), (2, 30), (3, 30), (3, 40), (4, 10), (4, 40)]
USERS = np.array([u for u, _ in PAIRS], np.int64)
FILMS = np.array([f for _, f in PAIRS], np.int64)


def _dense(weights_ids: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[tuple[int, int], float]:
    return {(int(a), int(b)): float(w) for a, b, w in zip(*weights_ids, strict=True)}


def test_each_films_weights_are_its_ridge_regression_on_the_other_films() -> None:
    # EASE's column j is the ridge regression (penalty lambda) of film j's viewers on the
    # other films' columns: solved here film by film, independently of the closed form
    lam = 0.5
    got = ease_weights(USERS, FILMS, lam, neighbours=3)
    kept = _dense((got.movie_ids, got.other_movie_ids, got.weights))
    films = [10, 20, 30, 40]
    x = np.zeros((4, 4))
    for user, film in PAIRS:
        x[user - 1, films.index(film)] = 1.0
    for j, film in enumerate(films):
        others = [i for i in range(4) if i != j]
        a = x[:, others]
        b = np.linalg.solve(a.T @ a + lam * np.eye(3), a.T @ x[:, j])
        for i, weight in zip(others, b, strict=True):
            assert kept[(films[i], film)] == pytest.approx(weight, abs=1e-12)
    assert len(kept) == 12  # every other film, none speaking for itself
    assert any(w < 0 for w in kept.values())  # a weight can speak against a film


def test_each_film_keeps_its_weights_of_largest_magnitude() -> None:
    every = ease_weights(USERS, FILMS, 0.5, neighbours=3)
    one = ease_weights(USERS, FILMS, 0.5, neighbours=1)
    for film in (10, 20, 30, 40):
        mine = every.weights[every.movie_ids == film]
        assert one.weights[one.movie_ids == film].tolist() == [mine[np.abs(mine).argmax()]]


def test_a_repeated_viewing_counts_once() -> None:
    distinct = np.unique(np.c_[USERS, FILMS], axis=0)
    once = ease_weights(distinct[:, 0], distinct[:, 1], 0.5, 3)
    twice = ease_weights(USERS, FILMS, 0.5, 3)
    assert len(distinct) == len(PAIRS) - 1
    assert _dense((once.movie_ids, once.other_movie_ids, once.weights)) == _dense(
        (twice.movie_ids, twice.other_movie_ids, twice.weights)
    )


def test_lambda_must_be_positive() -> None:
    with pytest.raises(ValueError, match="lambda > 0"):
        ease_weights(USERS, FILMS, 0.0, 3)


@pytest.fixture
def weights_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema core")
    create_ml_outputs(con)
    con.execute(
        "create table core.fct_interactions (user_id bigint, movie_id bigint, "
        "interacted_at timestamp)"
    )
    start = datetime(2024, 3, 1)
    con.executemany(
        "insert into core.fct_interactions values (?, ?, ?)",
        [(u, f, start + timedelta(hours=n)) for n, (u, f) in enumerate(PAIRS)],
    )
    return con


def test_fitted_weights_land_with_the_moment_after_the_latest_viewing(
    weights_db: duckdb.DuckDBPyConnection,
) -> None:
    mode = TrainingMode(mode="implicit", negative_sampling="masked", ease_lambda=0.5)
    kept = fit_item_weights(weights_db, mode)
    rows = weights_db.execute(
        "select movie_id, other_movie_id, weight, fitted_at from ml_outputs.item_weights"
    ).fetchall()
    expected = ease_weights(USERS, FILMS, 0.5, 200)
    assert kept == len(rows) == len(expected)
    assert {(a, b): w for a, b, w, _ in rows} == _dense(
        (expected.movie_ids, expected.other_movie_ids, expected.weights)
    )
    latest = datetime(2024, 3, 1) + timedelta(hours=len(PAIRS) - 1)
    assert {r[3] for r in rows} == {latest + timedelta(microseconds=1)}


def test_the_most_viewed_films_only_and_none_without_lambda(
    weights_db: duckdb.DuckDBPyConnection,
) -> None:
    # films 10 (3 viewers), 20 and 30 (2 each; 20 has the lower id) make the top 2 with 10
    mode = TrainingMode(mode="implicit", ease_lambda=0.5, ease_films=2)
    fit_item_weights(weights_db, mode)
    films = weights_db.execute(
        "select distinct movie_id from ml_outputs.item_weights union "
        "select distinct other_movie_id from ml_outputs.item_weights"
    ).fetchall()
    assert {f for (f,) in films} == {10, 20}
    assert fit_item_weights(weights_db, TrainingMode(mode="implicit")) == 0
    assert weights_db.execute("select count(*) from ml_outputs.item_weights").fetchall() == [(0,)]


def test_a_fit_until_a_moment_sees_only_the_viewings_before_it_and_is_put_back(
    weights_db: duckdb.DuckDBPyConnection,
) -> None:
    """An evaluation's cut-off: the weights are EASE's on the viewings before it (the
    later ones never seen), fitted_at the cut-off; `weights_fitted_until` puts the fit on
    every viewing back after its block, even when the block fails."""
    mode = TrainingMode(mode="implicit", ease_lambda=0.5)
    cutoff = datetime(2024, 3, 1) + timedelta(hours=len(PAIRS) - 3)  # the last three unseen
    fit_item_weights(weights_db, mode, until=cutoff)
    rows = weights_db.execute(
        "select movie_id, other_movie_id, weight, fitted_at from ml_outputs.item_weights"
    ).fetchall()
    early = ease_weights(USERS[:-3], FILMS[:-3], 0.5, 200)
    assert {(a, b): w for a, b, w, _ in rows} == _dense(
        (early.movie_ids, early.other_movie_ids, early.weights)
    )
    assert {r[3] for r in rows} == {cutoff}

    def weights() -> set[tuple[object, ...]]:
        return set(weights_db.execute("select * from ml_outputs.item_weights").fetchall())

    fit_item_weights(weights_db, mode)
    trained = weights()
    seen_inside: list[set[object]] = []

    def failing_evaluation() -> None:
        with weights_fitted_until(weights_db, mode, cutoff):
            seen_inside.append({r[0] for r in weights()})
            raise RuntimeError("the evaluation failed")

    with pytest.raises(RuntimeError, match="the evaluation failed"):
        failing_evaluation()
    assert seen_inside == [{cutoff}]
    assert weights() == trained
    with weights_fitted_until(weights_db, mode, None):  # the random split: nothing to do
        assert weights() == trained
