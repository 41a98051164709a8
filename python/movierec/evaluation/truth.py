"""Truth on the simulated world: how many likes a list can expect, against the best list.

The simulator draws every like from p(like) (SPEC.md), which depends only on what lands:
the user's stated genres and age segment, the film's genre, release year and mean rating.
So on that world the expected likes of a user's list are known exactly, and so is the best
any list of the same length could expect among the films the user had not viewed. Held-out
precision there is near zero for every recommender (users pick films at random); this
ratio is the measure that means something. A catalogue whose users state no preferences
(MovieLens) has no such truth: `truth_of` returns None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import numpy.typing as npt
import polars as pl

from movierec.land import like_probability
from movierec.warehouse import query_frame

USERS_PER_CHUNK = 2_000


@dataclass(frozen=True)
class Truth:
    """What p(like) depends on, for users in `user_ids` order and films in `movie_ids`
    order, and the (row, column) pairs each user had viewed before the cut-off."""

    user_ids: npt.NDArray[np.int64]
    movie_ids: npt.NDArray[np.int64]
    likes_genre: npt.NDArray[np.bool_]  # [users, genres]
    segment: npt.NDArray[np.str_]  # [users]
    film_genre: npt.NDArray[np.int64]  # [films], a column of likes_genre
    film_age: npt.NDArray[np.int64]  # [films]
    mean_rating: npt.NDArray[np.float64]  # [films]
    seen_rows: npt.NDArray[np.int64]
    seen_cols: npt.NDArray[np.int64]

    def p_like(self, rows: slice | npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """p(like) of the users in `rows` x every film."""
        segment = self.segment[rows]
        return like_probability(
            is_preferred_genre=self.likes_genre[rows][:, self.film_genre],
            is_young=(segment == "young")[:, None],
            is_senior=(segment == "senior")[:, None],
            film_age_years=self.film_age[None, :],
            mean_rating=self.mean_rating[None, :],
        )

    def pair_p_like(
        self, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """p(like) of the (row, column) pairs given, without the whole matrix."""
        segment = self.segment[rows]
        return like_probability(
            is_preferred_genre=self.likes_genre[rows, self.film_genre[cols]],
            is_young=segment == "young",
            is_senior=segment == "senior",
            film_age_years=self.film_age[cols],
            mean_rating=self.mean_rating[cols],
        )


def truth_of(
    con: duckdb.DuckDBPyConnection, evaluated: Sequence[int], cutoff: datetime
) -> Truth | None:
    """The simulator's p(like) inputs for the `evaluated` users and every film, film ages as of the
    latest viewing's year; None unless every user stated preferred genres."""
    users = query_frame(
        con,
        """
        select user_id, segment, has_stated_preferences from core.dim_users
        where user_id in (select unnest($ids::bigint[]))
        order by user_id
        """,
        {"ids": list(evaluated)},
    )
    if users.height == 0 or not users["has_stated_preferences"].all():
        return None
    films = query_frame(
        con,
        """
        select movie_id, primary_genre, coalesce(release_year, 0) as release_year,
            coalesce(mean_rating, 3.0) as mean_rating,
            (select year(max(interacted_at)) from core.fct_interactions) as as_of_year
        from core.dim_movies order by movie_id
        """,
    )
    preferred = query_frame(
        con, "select user_id, genre from intermediate.int_user_preferred_genres_unnested"
    )
    seen = query_frame(
        con,
        "select distinct user_id, movie_id from core.fct_interactions where interacted_at < $c",
        {"c": cutoff},
    )
    user_ids = users["user_id"].to_numpy()
    movie_ids = films["movie_id"].to_numpy()
    genre_index = {g: i for i, g in enumerate(sorted(set(films["primary_genre"].to_list())))}
    likes_genre = np.zeros((len(user_ids), len(genre_index)), dtype=bool)
    row_of = pl.DataFrame({"user_id": user_ids, "row": np.arange(len(user_ids))})
    col_of = pl.DataFrame({"movie_id": movie_ids, "col": np.arange(len(movie_ids))})
    stated = preferred.join(row_of, on="user_id").filter(pl.col("genre").is_in(list(genre_index)))
    likes_genre[stated["row"].to_numpy(), [genre_index[g] for g in stated["genre"].to_list()]] = (
        True
    )
    seen_at = seen.join(row_of, on="user_id").join(col_of, on="movie_id")
    return Truth(
        user_ids=user_ids,
        movie_ids=movie_ids,
        likes_genre=likes_genre,
        segment=users["segment"].to_numpy().astype(str),
        film_genre=np.array([genre_index[g] for g in films["primary_genre"].to_list()]),
        film_age=films["as_of_year"].to_numpy() - films["release_year"].to_numpy(),
        mean_rating=films["mean_rating"].to_numpy().astype(np.float64),
        seen_rows=seen_at["row"].to_numpy(),
        seen_cols=seen_at["col"].to_numpy(),
    )


def best_expected_likes(truth: Truth, ks: tuple[int, ...]) -> dict[int, npt.NDArray[np.float64]]:
    """Per user of `truth` and per k: the most likes any k films they had not viewed can
    expect.

    p(like) depends on the user only through their segment and stated genres, so users of
    one kind (both the same) rank the catalogue alike, and a user's best k unseen films
    are among the first k + (films they viewed) of their kind's ranking: each kind's
    ranking is computed once, to that depth, and each user skips what they viewed.
    """
    n_users, n_films = len(truth.user_ids), len(truth.movie_ids)
    best = {k: np.zeros(n_users) for k in ks}
    if n_users == 0 or n_films == 0:
        return best
    deepest = min(max(ks), n_films)
    viewed = np.bincount(truth.seen_rows, minlength=n_users)
    depth = min(deepest + int(viewed.max()), n_films)
    segment = np.unique(truth.segment, return_inverse=True)[1]
    kinds = np.column_stack([segment, truth.likes_genre]).astype(np.int64)
    _, first_of_kind, kind_of = np.unique(kinds, axis=0, return_index=True, return_inverse=True)
    kind_of = kind_of.reshape(-1)
    films = np.empty((len(first_of_kind), depth), dtype=np.int64)
    p_films = np.empty((len(first_of_kind), depth))
    for start in range(0, len(first_of_kind), USERS_PER_CHUNK):
        chunk = slice(start, start + USERS_PER_CHUNK)
        p_like = truth.p_like(first_of_kind[chunk])
        top = np.argpartition(-p_like, depth - 1, axis=1)[:, :depth]
        order = np.argsort(-np.take_along_axis(p_like, top, axis=1), axis=1, kind="stable")
        films[chunk] = np.take_along_axis(top, order, axis=1)
        p_films[chunk] = np.take_along_axis(p_like, films[chunk], axis=1)
    seen = truth.seen_rows.astype(np.int64) * n_films + truth.seen_cols
    for start in range(0, n_users, USERS_PER_CHUNK):
        rows = np.arange(start, min(start + USERS_PER_CHUNK, n_users))
        candidates = films[kind_of[rows]]
        p_like = p_films[kind_of[rows]]  # a copy: fancy indexing
        p_like[np.isin(rows[:, None] * n_films + candidates, seen)] = 0.0
        running = np.cumsum(-np.sort(-p_like, axis=1)[:, :deepest], axis=1)
        for k in ks:
            best[k][rows] = running[:, min(k, deepest) - 1]
    return best


def expected_like_ratio(
    lists: pl.DataFrame, truth: Truth, k: int, best: npt.NDArray[np.float64]
) -> pl.DataFrame:
    """Per user of `truth`: the expected likes of their top-k list (user_id, rank,
    movie_id) over `best` (`best_expected_likes` at k; 1.0 = perfect; a missing or short
    list counts what it has)."""
    row_of = pl.DataFrame({"user_id": truth.user_ids, "row": np.arange(len(truth.user_ids))})
    col_of = pl.DataFrame({"movie_id": truth.movie_ids, "col": np.arange(len(truth.movie_ids))})
    shown = lists.filter(pl.col("rank") <= k).join(row_of, on="user_id").join(col_of, on="movie_id")
    rows, cols = shown["row"].to_numpy(), shown["col"].to_numpy()
    got = np.zeros(len(truth.user_ids))
    np.add.at(got, rows, truth.pair_p_like(rows, cols))
    ratio = np.divide(got, best, out=np.zeros_like(got), where=best > 0)
    return pl.DataFrame({"user_id": truth.user_ids, "expected_like_ratio": ratio})


def reranking_ceiling(
    candidates: pl.DataFrame, truth: Truth, depth: int, k: int, best: npt.NDArray[np.float64]
) -> float:
    """The mean expected-likes ratio of top-k lists that a perfect re-ranker would pick
    from each user's first `depth` candidates (user_id, rank, movie_id): what retrieval
    leaves within reach. `best`: `best_expected_likes` at k."""
    row_of = pl.DataFrame({"user_id": truth.user_ids, "row": np.arange(len(truth.user_ids))})
    col_of = pl.DataFrame({"movie_id": truth.movie_ids, "col": np.arange(len(truth.movie_ids))})
    pool = (
        candidates.filter(pl.col("rank") <= depth)
        .join(row_of, on="user_id")
        .join(col_of, on="movie_id")
    )
    p_like = truth.pair_p_like(pool["row"].to_numpy(), pool["col"].to_numpy())
    perfect = (
        pool.with_columns(p_like=pl.Series(p_like))
        .sort(["user_id", "p_like", "movie_id"], descending=[False, True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("user_id"))
    )
    ratio = expected_like_ratio(perfect.select("user_id", "rank", "movie_id"), truth, k, best)
    values = ratio["expected_like_ratio"].to_numpy()
    return float(values.mean()) if len(values) else 0.0
