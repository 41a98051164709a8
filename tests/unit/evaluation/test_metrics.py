"""Ranking and catalogue metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from movierec.evaluation import candidate_recall, knn_lists
from movierec.evaluation.metrics import catalogue_metrics, gini, ranking_metrics

LISTS = pl.DataFrame(
    {
        "user_id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
        "rank": [1, 2, 3, 1, 2, 3, 1, 2, 3],
        "movie_id": [10, 20, 30, 10, 50, 60, 10, 20, 30],
    }
)
# user 1 liked 20 (ranked 2nd) and 40 (not shown); user 2 liked 10 (ranked 1st);
# user 3 liked nothing (not judged); user 4 liked 70 and got no list.
RELEVANT = pl.DataFrame({"user_id": [1, 1, 2, 4], "movie_id": [20, 40, 10, 70]})


def test_precision_recall_hit_rate() -> None:
    """Averaged over the three users with a liked film: users 1, 2 and 4."""
    m = ranking_metrics(LISTS, RELEVANT, k=3)
    assert m["users_evaluated"] == 3
    assert m["precision"] == pytest.approx((1 / 3 + 1 / 3 + 0) / 3)
    assert m["recall"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert m["hit_rate"] == pytest.approx(2 / 3)


def test_ndcg() -> None:
    """User 1: DCG 1/log2(3) over ideal 1 + 1/log2(3); user 2: 1; user 4: 0."""
    user1 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ranking_metrics(LISTS, RELEVANT, k=3)["ndcg"] == pytest.approx((user1 + 1 + 0) / 3)


def test_map() -> None:
    """AP@3: user 1 (1/2) / min(2, 3) = 0.25; user 2 1; user 4 0."""
    assert ranking_metrics(LISTS, RELEVANT, k=3)["map"] == pytest.approx((0.25 + 1 + 0) / 3)


def test_cut_at_k() -> None:
    """At k=1 only first places count: user 2's hit stays, user 1's (rank 2) goes."""
    m = ranking_metrics(LISTS, RELEVANT, k=1)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(1 / 3)


def test_gini() -> None:
    """Equal exposure 0; one film of four taking everything 0.75."""
    assert gini(np.array([1.0, 1.0, 1.0, 1.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)


def test_catalogue_metrics() -> None:
    """Coverage counts distinct shown films; novelty is mean -log2 of smoothed popularity;
    diversity is the share of list pairs with different genres."""
    films = pl.DataFrame(
        {
            "movie_id": [10, 20, 30, 40, 50],
            "genre": ["A", "A", "B", "B", "C"],
            "prior_views": [5, 0, 0, 0, 0],
        }
    )
    lists = pl.DataFrame({"user_id": [1, 1, 1], "rank": [1, 2, 3], "movie_id": [10, 20, 30]})
    m = catalogue_metrics(lists, films, k=3)
    assert m["coverage"] == pytest.approx(3 / 5)
    assert m["gini"] == pytest.approx(gini(np.array([1.0, 1.0, 1.0, 0.0, 0.0])))
    p10, p_other = 6 / 10, 1 / 10  # (views + 1) / (5 views + 5 films)
    assert m["novelty"] == pytest.approx((-math.log2(p10) - 2 * math.log2(p_other)) / 3)
    assert m["intra_list_diversity"] == pytest.approx(2 / 3)


def test_intra_list_diversity_averages_lists_of_two_films_or_more() -> None:
    """User 1: 3 films, genres A, A, B: 2 of 3 pairs differ. User 2: B, B, B, C: 3 of 6.
    User 3's list of one film has no pair and is left out; beyond k nothing counts."""
    films = pl.DataFrame(
        {
            "movie_id": [10, 20, 30, 40, 50, 60],
            "genre": ["A", "A", "B", "B", "B", "C"],
            "prior_views": [0] * 6,
        }
    )
    lists = pl.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 2, 2, 3, 3],
            "rank": [1, 2, 3, 1, 2, 3, 4, 1, 5],
            "movie_id": [10, 20, 30, 30, 40, 50, 60, 10, 20],
        }
    )
    m = catalogue_metrics(lists, films, k=4)
    assert m["intra_list_diversity"] == pytest.approx((2 / 3 + 3 / 6) / 2)
    assert catalogue_metrics(lists.filter(pl.col("user_id") == 3), films, k=4)[
        "intra_list_diversity"
    ] == pytest.approx(0.0)


def test_candidate_recall_grows_with_the_depth_of_the_candidate_set() -> None:
    """Recall of the first k candidates, by hand: at k=1 user 2 only (10 at rank 1);
    at k=2 user 1's 20 too; at k=3 nothing more. Users 1, 2 and 4 are judged."""
    depths, recalls = zip(*candidate_recall(LISTS, RELEVANT, (1, 2, 3)), strict=True)
    assert depths == (1, 2, 3)
    assert recalls == pytest.approx([1 / 3, (1 / 2 + 1) / 3, (1 / 2 + 1) / 3])


def test_knn_lists_follow_the_knn_retrievers_own_ranks() -> None:
    """Item-kNN keeps the films knn proposed, in knn's order, up to k; a user knn proposed
    nothing to (no history: popularity filled their candidates) gets no list."""
    candidates = pl.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2],
            "rank": [1, 2, 3, 4, 1],
            "movie_id": [10, 20, 30, 40, 10],
            "knn_rank": [None, 2, 1, 3, None],
            "user_knn_rank": [2, None, None, 1, 1],
        }
    )
    lists = knn_lists(candidates, k=2)
    assert lists.rows() == [(1, 1, 30), (1, 2, 20)]
    # user-kNN the same way, from its own rank column
    assert knn_lists(candidates, k=2, rank="user_knn_rank").rows() == [
        (1, 1, 40),
        (1, 2, 10),
        (2, 1, 10),
    ]
