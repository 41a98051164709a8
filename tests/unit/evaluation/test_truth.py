"""The expected-likes ratio on a hand-computed world of two users and three films."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from movierec.evaluation.truth import (
    Truth,
    best_expected_likes,
    expected_like_ratio,
    reranking_ceiling,
)

# genre 0 = Drama, 1 = Comedy. Film 10: Drama, rating 4.5 (p 0.3 + 0.3 + 0.4 if Drama is
# preferred); film 11: Comedy, rating 3 (p 0.3, + 0.4 if preferred); film 12: Drama,
# rating 2 (p 0.3 - 0.3 = 0, + 0.4 if preferred). Film ages 5 (no age term for adults).
TRUTH = Truth(
    user_ids=np.array([1, 2]),
    movie_ids=np.array([10, 11, 12]),
    likes_genre=np.array([[True, False], [False, True]]),  # user 1 Drama, user 2 Comedy
    segment=np.array(["adult", "adult"]),
    film_genre=np.array([0, 1, 0]),
    film_age=np.array([5, 5, 5]),
    mean_rating=np.array([4.5, 3.0, 2.0]),
    seen_rows=np.array([1]),  # user 2 has seen film 11
    seen_cols=np.array([1]),
)


def test_p_like_follows_the_simulators_formula() -> None:
    assert TRUTH.p_like(slice(0, 2)) == pytest.approx(np.array([[1.0, 0.3, 0.4], [0.6, 0.7, 0.0]]))


def test_ratio_is_expected_likes_over_the_best_unseen_list() -> None:
    """User 1 shown films 11, 12 (0.3 + 0.4) of a best 10, 12 (1.0 + 0.4); user 2 shown
    10 only (0.6) of a best 10, 12 (0.6 + 0.0), film 11 being seen."""
    lists = pl.DataFrame({"user_id": [1, 1, 2], "rank": [1, 2, 1], "movie_id": [11, 12, 10]})
    best = best_expected_likes(TRUTH, (1, 2))
    assert best[2] == pytest.approx([1.4, 0.6])
    assert best[1] == pytest.approx([1.0, 0.6])
    ratio = expected_like_ratio(lists, TRUTH, 2, best[2])
    assert ratio["user_id"].to_list() == [1, 2]
    assert ratio["expected_like_ratio"].to_list() == pytest.approx([0.7 / 1.4, 1.0])


def test_only_the_first_k_count_and_a_missing_list_scores_zero() -> None:
    lists = pl.DataFrame({"user_id": [1, 1], "rank": [1, 2], "movie_id": [10, 11]})
    ratio = expected_like_ratio(lists, TRUTH, 1, best_expected_likes(TRUTH, (1,))[1])
    assert ratio["expected_like_ratio"].to_list() == pytest.approx([1.0, 0.0])


def test_the_reranking_ceiling_orders_each_users_candidates_by_p_like() -> None:
    """User 1's first two candidates are 11 and 12: a perfect re-ranker's top 1 is film
    12 (0.4) of a best 1.0; with all three, film 10 (1.0). User 2's only candidate is 12
    (0.0) of a best 0.6."""
    candidates = pl.DataFrame(
        {"user_id": [1, 1, 1, 2], "rank": [1, 2, 3, 1], "movie_id": [11, 12, 10, 12]}
    )
    best = best_expected_likes(TRUTH, (1,))[1]
    assert reranking_ceiling(candidates, TRUTH, 2, 1, best) == pytest.approx((0.4 + 0) / 2)
    assert reranking_ceiling(candidates, TRUTH, 3, 1, best) == pytest.approx((1.0 + 0) / 2)


def test_users_of_one_kind_skip_only_the_films_they_viewed() -> None:
    """Users 1 and 3 state Drama and are adults: one ranking of the films (10: 1.0, 12: 0.4,
    11: 0.3). User 3 viewed films 10 and 12, so 11 (0.3) is the best they can get at any
    k; user 1's best are 10, then 10 + 12, then all three."""
    truth = Truth(
        user_ids=np.array([1, 2, 3]),
        movie_ids=np.array([10, 11, 12]),
        likes_genre=np.array([[True, False], [False, True], [True, False]]),
        segment=np.array(["adult", "adult", "adult"]),
        film_genre=np.array([0, 1, 0]),
        film_age=np.array([5, 5, 5]),
        mean_rating=np.array([4.5, 3.0, 2.0]),
        seen_rows=np.array([1, 2, 2]),
        seen_cols=np.array([1, 0, 2]),
    )
    best = best_expected_likes(truth, (1, 2, 3))
    assert best[1] == pytest.approx([1.0, 0.6, 0.3])
    assert best[2] == pytest.approx([1.4, 0.6, 0.3])
    assert best[3] == pytest.approx([1.7, 0.6, 0.3])
