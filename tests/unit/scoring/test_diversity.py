"""Diversity re-ranking: maximal marginal relevance over genre overlap."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from movierec.errors import SettingsError
from movierec.scoring.diversity import Genres, diversify, genre_similarity
from movierec.scoring.ranking import TOP_N_SCHEMA
from movierec.settings import RecommendSettings

GENRES = Genres.of(
    [
        (1, "Drama"),
        (2, "Drama"),
        (3, "Comedy"),
        (4, "Drama"),
        (5, "Drama"),
        (5, "Crime"),
        (6, "Comedy"),
        (6, "Crime"),
    ]
)


def _pool(rows: list[tuple[int, int, float]]) -> pa.Table:
    """(user, film, score) rows, ranked by score per user as top_n.sql ranks them."""
    ranked = []
    for user in sorted({r[0] for r in rows}):
        mine = sorted((r for r in rows if r[0] == user), key=lambda r: (-r[2], r[1]))
        ranked += [(user, rank, film, score) for rank, (_, film, score) in enumerate(mine, 1)]
    return pa.Table.from_pylist(
        [dict(zip(TOP_N_SCHEMA.names, r, strict=True)) for r in ranked], schema=TOP_N_SCHEMA
    )


POOL = _pool([(7, 1, 0.9), (7, 2, 0.85), (7, 3, 0.6), (7, 4, 0.5), (8, 5, 0.7)])


def test_genre_similarity_is_the_jaccard_overlap_of_the_films_genres() -> None:
    similarity = genre_similarity(np.array([[1, 5, 6, 3, 99]]), GENRES)[0]
    assert similarity[0, 0] == 1.0  # a film with itself
    assert similarity[0, 1] == pytest.approx(1 / 2)  # {Drama} vs {Drama, Crime}
    assert similarity[1, 2] == pytest.approx(1 / 3)  # {Drama, Crime} vs {Comedy, Crime}
    assert similarity[0, 3] == 0.0
    assert (similarity[4] == 0).all()  # a film without genres is like none


def test_weight_zero_keeps_the_score_order() -> None:
    lists = diversify(POOL, GENRES, top_n=3, weight=0.0).to_pylist()
    assert [(r["user_id"], r["rank"], r["movie_id"]) for r in lists] == [
        (7, 1, 1),
        (7, 2, 2),
        (7, 3, 3),
        (8, 1, 5),
    ]


def test_a_weight_trades_score_for_a_genre_the_list_lacks() -> None:
    """After film 1 (Drama, 0.9), weight 0.5 values film 2 (Drama, 0.85) at
    0.5 * 0.85 - 0.5 * 1 = -0.075 and film 3 (Comedy, 0.6) at 0.5 * 0.6 = 0.3: film 3 comes
    second. Weight 0.1 values them 0.665 and 0.54: film 2 stays second. Each film keeps its
    score; a pool shorter than the list gives what it has."""
    strong = diversify(POOL, GENRES, top_n=2, weight=0.5).to_pylist()
    assert [(r["user_id"], r["movie_id"], r["rank"]) for r in strong] == [
        (7, 1, 1),
        (7, 3, 2),
        (8, 5, 1),
    ]
    assert strong[1]["score"] == pytest.approx(0.6)
    weak = diversify(POOL, GENRES, top_n=2, weight=0.1).to_pylist()
    assert [r["movie_id"] for r in weak] == [1, 2, 5]
    assert diversify(POOL, GENRES, top_n=2, weight=0.5).schema == TOP_N_SCHEMA


def test_a_higher_weight_gives_lists_of_more_genres_and_lower_scores() -> None:
    """200 users, pools of 30 films drawn from 60 films of one or two of 6 genres, with
    random scores: as the weight rises, the lists' mean pairwise genre overlap falls and
    their mean score falls."""
    rng = np.random.default_rng(3)
    names = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi"]
    pairs = [(film, names[rng.integers(6)]) for film in range(1, 61) for _ in range(2)]
    genres = Genres.of(pairs)
    rows = [
        (user, int(film), float(rng.random()))
        for user in range(200)
        for film in rng.choice(np.arange(1, 61), 30, replace=False)
    ]
    pool = _pool(rows)
    overlap, score = [], []
    for weight in (0.0, 0.3, 0.7):
        lists = diversify(pool, genres, top_n=10, weight=weight)
        films = np.array(lists.column("movie_id").to_pylist()).reshape(200, 10)
        similarity = genre_similarity(films, genres)
        off_diagonal = similarity.sum(axis=(1, 2)) - np.trace(similarity, axis1=1, axis2=2)
        overlap.append(float(off_diagonal.mean() / 90))
        score.append(float(np.mean(lists.column("score").to_pylist())))
    assert overlap[0] > overlap[1] > overlap[2]
    assert score[0] > score[1] > score[2]


def test_the_weight_is_checked_and_named_in_the_strategy() -> None:
    with pytest.raises(SettingsError, match="diversity must be in"):
        RecommendSettings(diversity=1.0)
    assert RecommendSettings().strategy == "retrieval"
    assert RecommendSettings(diversity=0.3).strategy == "retrieval+mmr:0.3/pool:3"
