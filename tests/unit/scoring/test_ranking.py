"""Ranking on a tiny in-memory warehouse: top-N order and ties, seen films, shortlist
fallback, chunking, and what `recommend` appends."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from movierec.model import OnnxScorer, fit_forest, to_onnx
from movierec.scoring import (
    Arm,
    exhaustive_match_share,
    in_challenger_group,
    rank_users,
    recommend,
)
from movierec.settings import ForestParams, RecommendSettings
from tests.conftest import create_ml_outputs

FEATURES = ("quality",)
N_USERS, N_MOVIES = 12, 40
# users 0..5 are young, 6..11 senior; user 3 has seen films 0..29, so a shortlist of a
# few films leaves them fewer than top_n unseen
SEEN = {(u, m) for u in range(N_USERS) for m in range(u, u + 3)} | {(3, m) for m in range(30)}


@pytest.fixture(scope="module")
def scorer() -> OnnxScorer:
    """A real exported forest whose score grows (in steps, so with ties) with quality."""
    rng = np.random.default_rng(0)
    quality = rng.random((2_000, 1)).astype(np.float32)
    labels = (quality[:, 0] + rng.normal(0, 0.2, 2_000) > 0.5).astype(np.int8)
    params = ForestParams(n_estimators=5, max_depth=3, n_jobs=1)
    return OnnxScorer(to_onnx(fit_forest(quality, labels, params), 1))


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """The tables ranking reads, and a scoring view that, as the real one, drops seen films
    and puts a request without a moment at the default one."""
    con = duckdb.connect()
    for schema in ("core", "intermediate", "scoring", "ml"):
        con.execute(f"create schema {schema}")
    con.execute("create table core.dim_users (user_id bigint, segment varchar)")
    con.executemany(
        "insert into core.dim_users values (?, ?)",
        [(u, "young" if u < N_USERS // 2 else "senior") for u in range(N_USERS)],
    )
    con.execute("create table core.dim_movies (movie_id bigint, quality double)")
    con.executemany(
        "insert into core.dim_movies values (?, ?)",
        [(m, (m * 7 % N_MOVIES) / N_MOVIES) for m in range(N_MOVIES)],
    )
    con.execute("create table intermediate.int_movie_genres_unnested as "
                "select movie_id, ['Drama', 'Comedy'][movie_id % 2 + 1] as genre "
                "from core.dim_movies")  # fmt: skip
    con.execute(
        "create table core.fct_interactions (user_id bigint, movie_id bigint, "
        "interacted_at timestamp)"
    )
    con.executemany(
        "insert into core.fct_interactions values (?, ?, timestamp '2024-06-01')",
        sorted(SEEN),
    )
    con.execute(
        "create table scoring.scoring_requests "
        "(user_id bigint, movie_id bigint, requested_at timestamp)"
    )
    # the features' film-level half, which this view does not read: nothing to keep
    con.execute(
        "create table scoring.film_signals (movie_id bigint, requested_at timestamp, "
        "film_prior_views bigint, film_recent_views bigint)"
    )
    con.execute("create view ml.ml_scoring_film_signals as from scoring.film_signals limit 0")
    con.execute(
        """
        create view ml.ml_scoring_features as
        select requests.user_id, requests.movie_id, movies.quality,
            coalesce(requests.requested_at, timestamp '2025-01-01') as requested_at
        from scoring.scoring_requests as requests
        inner join core.dim_movies as movies on requests.movie_id = movies.movie_id
        where not exists (
            select 1 from core.fct_interactions as seen
            where seen.user_id = requests.user_id and seen.movie_id = requests.movie_id
        )
        """
    )
    return con


def _expected(scorer: OnnxScorer, top_n: int) -> dict[int, list[int]]:
    """Each user's best unseen films by score, ties to the lower id, computed in numpy."""
    quality = np.array([[(m * 7 % N_MOVIES) / N_MOVIES] for m in range(N_MOVIES)], np.float32)
    scores = scorer.positive_probability(quality)
    expected = {}
    for user in range(N_USERS):
        unseen = [m for m in range(N_MOVIES) if (user, m) not in SEEN]
        expected[user] = sorted(unseen, key=lambda m: (-scores[m], m))[:top_n]
    return expected


def _lists(top_n: pa.Table) -> dict[int, list[int]]:
    columns = [top_n.column(c).to_pylist() for c in ("user_id", "rank", "movie_id")]
    rows = sorted(zip(*columns, strict=True))
    lists: dict[int, list[int]] = {}
    for user, _, movie in rows:
        lists.setdefault(user, []).append(movie)
    return lists


def test_exhaustive_ranking_is_the_best_unseen_films_ties_to_lower_ids(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer
) -> None:
    settings = RecommendSettings(top_n=5, candidates="exhaustive")
    ranking = rank_users(con, scorer, FEATURES, settings)
    assert _lists(ranking.top_n) == _expected(scorer, 5)
    assert ranking.pairs_scored == N_USERS * N_MOVIES - len(SEEN)
    assert sorted(set(ranking.top_n.column("rank").to_pylist())) == [1, 2, 3, 4, 5]


def test_a_diversity_weight_picks_each_list_from_the_best_scored_pool_by_mmr(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer
) -> None:
    """Films alternate between two genres, scores lie within 1 of each other. With weight
    0.5, MMR lists a user's best-scored film, then the best of the other genre (any film
    of the first's genre loses 0.5 for the overlap), then, every remaining film now
    overlapping one listed, the best-scored of the rest: all from the 12 best-scored (the
    pool of 3 x 4). By score alone, some lists hold one genre only in their first two."""
    genre = {m: m % 2 for m in range(N_MOVIES)}
    by_score = _expected(scorer, 12)
    expected = {}
    for user, pool in by_score.items():
        second = next(m for m in pool if genre[m] != genre[pool[0]])
        rest = [m for m in pool[1:] if m != second]
        expected[user] = [pool[0], second, *rest[:2]]
    settings = RecommendSettings(top_n=4, candidates="exhaustive", diversity=0.5)
    assert _lists(rank_users(con, scorer, FEATURES, settings).top_n) == expected
    plain = _expected(scorer, 4)
    assert any(genre[films[0]] == genre[films[1]] for films in plain.values())
    assert expected != plain


def test_chunks_of_users_do_not_change_the_lists(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer
) -> None:
    """One user per chunk (pairs_per_chunk below the catalogue) gives the same lists."""
    whole = rank_users(con, scorer, FEATURES, RecommendSettings(top_n=5, candidates="exhaustive"))
    chunked = RecommendSettings(top_n=5, candidates="exhaustive", pairs_per_chunk=N_MOVIES)
    assert _lists(rank_users(con, scorer, FEATURES, chunked).top_n) == _lists(whole.top_n)


def test_a_user_short_of_shortlisted_films_is_scored_on_every_film(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer
) -> None:
    """With 2 films per genre and probe, user 3 (30 films seen) still gets top_n films,
    the same as exhaustive scoring would give them."""
    settings = RecommendSettings(
        top_n=5, candidates="shortlist", candidates_per_genre=2, probe_users_per_segment=2
    )
    lists = _lists(rank_users(con, scorer, FEATURES, settings).top_n)
    assert lists[3] == _expected(scorer, 5)[3]
    assert all(len(films) == 5 for films in lists.values())


def test_ranking_a_subset_ranks_only_those_users(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer
) -> None:
    settings = RecommendSettings(top_n=3, candidates="exhaustive")
    ranking = rank_users(con, scorer, FEATURES, settings, user_ids=[2, 7])
    assert _lists(ranking.top_n) == {u: _expected(scorer, 3)[u] for u in (2, 7)}


def test_recommend_appends_one_run_with_every_users_list(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer
) -> None:
    create_ml_outputs(con)
    settings = RecommendSettings(top_n=4, candidates="exhaustive")
    summary = recommend(con, Arm(scorer, "m-test", FEATURES), settings)
    assert summary.run_id.startswith("r")
    assert (summary.users, summary.recommendations) == (N_USERS, 4 * N_USERS)
    runs = con.execute(
        "select run_id, model_id, top_n, users, candidate_strategy "
        "from ml_outputs.recommendation_runs"
    ).fetchall()
    assert runs == [(summary.run_id, "m-test", 4, N_USERS, "exhaustive")]
    stored = con.sql(
        "select user_id, rank, movie_id from ml_outputs.recommendations"
    ).to_arrow_table()
    assert _lists(stored) == _expected(scorer, 4)
    share = exhaustive_match_share(con, scorer, FEATURES, summary.run_id, [0, 5, 9], settings)
    assert share == 1.0


def test_a_challenger_ranks_its_groups_lists_and_the_champion_the_rest(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer
) -> None:
    """With a challenger at share 0.5, each user's list is ranked by the model of their
    group (the stable hash), every user has one list from one model, and the run records
    both models and the share."""
    create_ml_outputs(con)
    settings = RecommendSettings(top_n=4, candidates="exhaustive", challenger_share=0.5)
    summary = recommend(
        con,
        Arm(scorer, "m-champion", FEATURES),
        settings,
        challenger=Arm(scorer, "m-challenger", FEATURES),
    )
    served = dict(
        con.execute(
            "select user_id, any_value(model_id) from ml_outputs.recommendations "
            "group by user_id having count(distinct model_id) = 1"
        ).fetchall()
    )
    users = sorted(served)
    expected = in_challenger_group(users, 0.5)
    assert len(users) == N_USERS
    assert [served[u] == "m-challenger" for u in users] == expected.tolist()
    assert 0 < expected.sum() < N_USERS
    stored = con.sql("select user_id, rank, movie_id from ml_outputs.recommendations")
    assert _lists(stored.to_arrow_table()) == _expected(scorer, 4)
    (run,) = con.execute(
        "select model_id, challenger_model_id, challenger_share from ml_outputs.recommendation_runs"
    ).fetchall()
    assert run == ("m-champion", "m-challenger", 0.5)
    assert (summary.challenger_model_id, summary.users) == ("m-challenger", N_USERS)


def test_recommend_counts_users_without_history(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer
) -> None:
    """User 2's viewings removed: they are the run's one cold-start user, still served."""
    create_ml_outputs(con)
    con.execute("delete from core.fct_interactions where user_id = 2")
    summary = recommend(
        con, Arm(scorer, "m-test", FEATURES), RecommendSettings(top_n=3, candidates="exhaustive")
    )
    assert (summary.cold_start_users, summary.users) == (1, N_USERS)
    (stored,) = con.execute(
        "select cold_start_users from ml_outputs.recommendation_runs"
    ).fetchall()
    assert stored == (1,)


def test_retrieval_candidates_bound_the_lists_and_a_short_user_gets_every_film(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer
) -> None:
    """A stand-in retrieval proposes films 0..9 to everyone but user 5, who gets only film
    20: each list is the best of the proposed films, and user 5 (one film) and user 3 (who
    has seen 0..9), proposed fewer than top_n, are scored on the whole catalogue."""
    con.execute("create table scoring.retrieval_requests (user_id bigint, requested_at timestamp)")
    film_level_half = {  # retrieval's film-level half: this stand-in reads none of it
        "retrieval_audiences": "viewers bigint, recent_viewers bigint",
        "retrieval_neighbours": "other_movie_id bigint, similarity double",
    }
    for table, measures in film_level_half.items():
        con.execute(
            f"create table scoring.{table} (movie_id bigint, {measures}, requested_at timestamp)"
        )
        con.execute(f"create view ml.ml_{table} as from scoring.{table}")
    con.execute(
        "create table scoring.retrieved_candidates (user_id bigint, movie_id bigint, "
        "requested_at timestamp, candidate_rank bigint, knn_score double, knn_rank bigint, "
        "user_knn_score double, user_knn_rank bigint, popularity_rank bigint, "
        "recent_popularity_rank bigint, genre_rank bigint, ease_score double, ease_rank bigint)"
    )
    con.execute(
        """
        create view ml.ml_retrieval_candidates as
        select requests.user_id, movies.movie_id,
            row_number() over (partition by requests.user_id order by movies.movie_id)
                as candidate_rank,
            coalesce(requests.requested_at, timestamp '2024-01-01') as requested_at,
            null::double as knn_score, null::bigint as knn_rank,
            null::double as user_knn_score, null::bigint as user_knn_rank,
            null::bigint as popularity_rank, null::bigint as recent_popularity_rank,
            null::bigint as genre_rank, null::double as ease_score, null::bigint as ease_rank
        from scoring.retrieval_requests as requests
        inner join core.dim_movies as movies
            on (requests.user_id != 5 and movies.movie_id < 10)
            or (requests.user_id = 5 and movies.movie_id = 20)
        where not exists (
            select 1 from core.fct_interactions as seen
            where seen.user_id = requests.user_id and seen.movie_id = movies.movie_id
        )
        """
    )
    ranking = rank_users(con, scorer, FEATURES, RecommendSettings(top_n=3))
    lists, expected_all = _lists(ranking.top_n), _expected(scorer, 3)
    assert (lists[5], lists[3]) == (expected_all[5], expected_all[3])
    quality = np.array([[(m * 7 % N_MOVIES) / N_MOVIES] for m in range(10)], np.float32)
    scores = scorer.positive_probability(quality)
    for user in (u for u in range(N_USERS) if u not in (3, 5)):
        proposed = [m for m in range(10) if (user, m) not in SEEN]
        assert lists[user] == sorted(proposed, key=lambda m: (-scores[m], m))[:3]
