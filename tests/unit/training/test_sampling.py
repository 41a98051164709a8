"""Negative sampling of the implicit mode, on a hand-made catalogue."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from movierec.errors import SettingsError
from movierec.settings import TrainingMode
from movierec.training import TrainingRows, bounded_sample, sample_negatives, training_rows
from movierec.warehouse import parse_feature_contract

ML_YML = Path(__file__).resolve().parents[3] / "dbt_project/models/marts/ml/_ml__features.yml"

T = [datetime(2024, 3, d) for d in range(1, 6)]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """Ten films; user 1 viewed films 1-3, user 2 film 4 (on day 4); 40 others film 5."""
    con = duckdb.connect()
    con.execute("create schema core; create schema scoring")
    con.execute("create table core.dim_movies as select range + 1 as movie_id from range(10)")
    con.execute(
        "create table core.fct_interactions "
        "(user_id bigint, movie_id bigint, interacted_at timestamp)"
    )
    rows = [(1, 1, T[0]), (1, 2, T[1]), (1, 3, T[2]), (2, 4, T[3])]
    rows += [(100 + u, 5, T[0]) for u in range(40)]
    con.executemany("insert into core.fct_interactions values (?, ?, ?)", rows)
    con.execute(
        "create table scoring.sampled_requests "
        "(user_id bigint, movie_id bigint, requested_at timestamp)"
    )
    return con


def _positives(n: int = 200) -> TrainingRows:
    return TrainingRows(
        features=np.zeros((n, 1), np.float32),
        labels=np.ones(n, np.int8),
        requested_at=np.array([T[2]] * (n - 1) + [T[4]], dtype="datetime64[us]"),
        user_ids=np.array([1] * (n - 1) + [2], np.int64),
    )


def _sampled(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, datetime]]:
    return [
        (int(u), int(m), t)
        for u, m, t in con.execute(
            "select user_id, movie_id, requested_at from scoring.sampled_requests order by all"
        ).fetchall()
    ]


def test_negatives_are_unviewed_films_at_the_positive_moment(
    con: duckdb.DuckDBPyConnection,
) -> None:
    mode = TrainingMode(mode="implicit", negatives_per_positive=3)
    written = sample_negatives(con, _positives(), mode)
    assert written == 200 * 3
    sampled = _sampled(con)
    assert not [s for s in sampled if s[0] == 1 and s[1] in (1, 2, 3)]
    assert not [s for s in sampled if s[0] == 2 and s[1] == 4]
    assert {t for u, _, t in sampled if u == 1} == {T[2]}
    assert {t for u, _, t in sampled if u == 2} == {T[4]}
    # three different films beside each positive, even with 7 unviewed films to draw from
    assert len({m for u, m, _ in sampled if u == 2}) == 3
    assert {m for u, m, _ in sampled if u == 1} == set(range(4, 11))  # all unviewed


def test_sampling_is_seeded(con: duckdb.DuckDBPyConnection) -> None:
    mode = TrainingMode(mode="implicit", negatives_per_positive=2, sampling_seed=3)
    sample_negatives(con, _positives(), mode)
    first = _sampled(con)
    sample_negatives(con, _positives(), mode)
    assert _sampled(con) == first
    sample_negatives(con, _positives(), TrainingMode(mode="implicit", negatives_per_positive=2))
    assert _sampled(con) != first


def test_popularity_sampling_prefers_watched_films(con: duckdb.DuckDBPyConnection) -> None:
    """Film 5 has 41x the weight of an unwatched film: with 1 negative per positive it is
    drawn far more often than the uniform 1 in 7 of user 1's unviewed films."""
    share = {}
    for strategy in ("uniform", "popularity"):
        mode = TrainingMode(mode="implicit", negatives_per_positive=1, negative_sampling=strategy)
        sample_negatives(con, _positives(), mode)
        films = [m for u, m, _ in _sampled(con) if u == 1]
        share[strategy] = films.count(5) / len(films)
    assert share["uniform"] < 0.25
    assert share["popularity"] > 0.7


def test_until_forgets_later_viewings(con: duckdb.DuckDBPyConnection) -> None:
    """At an evaluation cut-off, a film the user viewed only after it is a fair negative."""
    mode = TrainingMode(mode="implicit", negatives_per_positive=6)
    sample_negatives(con, _positives(), mode, until=datetime(2024, 3, 2, 12))
    films = {m for u, m, _ in _sampled(con) if u == 1}
    assert 3 in films  # viewed on day 3, after the cut-off
    assert not films & {1, 2}


def test_modes_are_validated_and_recorded() -> None:
    assert TrainingMode().as_dict() == {
        "mode": "explicit",
        "max_rows": 400_000,
        "recent_share": 0.5,
        "sampling_seed": 7,
        "retrieval_candidates": 300,
    }
    # the candidates retrieval keeps are recorded in every mode: the features' "not
    # proposed" rank is one past them
    assert (
        TrainingMode(mode="implicit", retrieval_candidates=200).as_dict()["retrieval_candidates"]
        == 200
    )
    with pytest.raises(ValueError, match="retrieval_candidates >= 1"):
        TrainingMode(retrieval_candidates=0)
    # a model registered before the bound trained on every viewing
    assert TrainingMode.from_dict({"mode": "explicit"}).max_rows == 0
    with pytest.raises(ValueError, match="max_rows must be >= 0"):
        TrainingMode(max_rows=-1)
    with pytest.raises(ValueError, match="recent_share must be in"):
        TrainingMode(recent_share=1.5)
    implicit = TrainingMode(mode="implicit", negative_sampling="popularity")
    assert TrainingMode.from_dict(implicit.as_dict()) == implicit
    with pytest.raises(ValueError, match="mode must be"):
        TrainingMode(mode="clicks")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negatives_per_positive"):
        TrainingMode(mode="implicit", negatives_per_positive=0)
    # the mask's share is recorded only for the masked mode, and must hide some films
    assert "mask_share" not in implicit.as_dict()
    masked = TrainingMode(mode="implicit", negative_sampling="masked", mask_share=0.2)
    assert masked.as_dict()["mask_share"] == 0.2
    # candidate modes grow with users, not history: no bound recorded
    assert "max_rows" not in masked.as_dict()
    assert "max_rows" in implicit.as_dict()
    old_implicit = {k: v for k, v in implicit.as_dict().items() if k != "max_rows"}
    assert TrainingMode.from_dict(old_implicit).max_rows == 0
    assert TrainingMode.from_dict(masked.as_dict()) == masked
    for share in (0.0, 1.0):
        with pytest.raises(ValueError, match="mask_share must lie strictly between 0 and 1"):
            TrainingMode(mode="implicit", negative_sampling="masked", mask_share=share)


def test_a_masked_mode_without_its_world_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    mode = TrainingMode(mode="implicit", negative_sampling="masked")
    with pytest.raises(SettingsError, match="trains in a masked world: none given"):
        training_rows(con, parse_feature_contract(ML_YML.read_text()), (), mode)


def test_a_bounded_sample_keeps_the_newest_rows_and_a_seeded_sample_of_the_rest() -> None:
    kept = bounded_sample(rows=1_000, max_rows=100, recent_share=0.3, seed=7)
    assert len(kept) == len(set(kept.tolist())) == 100
    assert list(kept) == sorted(kept)  # still oldest first, as the forest's bootstrap reads them
    assert list(kept[-30:]) == list(range(970, 1_000))  # the newest 30 % of the budget
    older = kept[:70]
    assert older.max() < 970
    # uniform over the older rows: both halves of history are drawn from
    assert 20 <= (older < 485).sum() <= 50
    assert np.array_equal(kept, bounded_sample(1_000, 100, 0.3, seed=7))
    assert not np.array_equal(kept, bounded_sample(1_000, 100, 0.3, seed=8))
    # no bound, or a history within it: every row
    assert np.array_equal(bounded_sample(50, 0, 0.5, 7), np.arange(50))
    assert np.array_equal(bounded_sample(50, 50, 0.5, 7), np.arange(50))
    # all recent, or all sampled
    assert list(bounded_sample(10, 4, 1.0, 7)) == [6, 7, 8, 9]
    assert len(set(bounded_sample(10, 4, 0.0, 7).tolist())) == 4
