"""Diversity re-ranking (docs/model.md#diversity-re-ranking): maximal marginal relevance
over each user's best-scored films.

A list is built a film at a time: the next film is the one of the pool (the user's
`pool_size` best-scored unseen films) with the highest

    (1 - weight) * score - weight * max over the films already listed of genre_similarity

where genre_similarity is the Jaccard overlap of two films' genre sets. Weight 0 keeps the
score order; a higher weight trades score for films whose genres the list does not have
yet. Scores are the forest's p(like), in [0, 1] like the similarity, so one weight reads
the same on any catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GENRES_SQL = "select movie_id, genre from intermediate.int_movie_genres_unnested"


@dataclass(frozen=True)
class Genres:
    """Each film's genres as flags: row i of `flags` (one column per genre) is film
    `movie_ids[i]`'s; `movie_ids` ascending."""

    movie_ids: IntArray
    flags: FloatArray

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, str]]) -> Genres:
        """From (movie_id, genre) pairs."""
        listed = sorted({(int(movie), str(genre)) for movie, genre in pairs})
        movie_ids = np.array(sorted({movie for movie, _ in listed}), dtype=np.int64)
        vocabulary = sorted({genre for _, genre in listed})
        flags = np.zeros((len(movie_ids), len(vocabulary)))
        rows = np.searchsorted(movie_ids, [movie for movie, _ in listed])
        columns = np.searchsorted(vocabulary, [genre for _, genre in listed])
        flags[rows, columns] = 1.0
        return cls(movie_ids, flags)

    def of_films(self, films: IntArray) -> FloatArray:
        """The flags of `films` (any shape): shape (*films.shape, genres); a film the
        table lacks (or 0, padding) has none."""
        if not len(self.movie_ids):
            return np.zeros((*films.shape, 0))
        at = np.clip(np.searchsorted(self.movie_ids, films), 0, len(self.movie_ids) - 1)
        found = self.movie_ids[at] == films
        return np.where(found[..., None], self.flags[at], 0.0)


def warehouse_genres(con: duckdb.DuckDBPyConnection) -> Genres:
    """Each film's genres, as the warehouse holds them."""
    return Genres.of(con.execute(GENRES_SQL).fetchall())


def genre_similarity(films: IntArray, genres: Genres) -> FloatArray:
    """Jaccard overlap of the genre sets of every pair of `films` (rows: lists, columns:
    their films; 0 pads a short list): shape (lists, films, films). Films without a
    genre are similar to nothing."""
    flags = genres.of_films(films)
    shared: FloatArray = np.einsum("lpg,lqg->lpq", flags, flags)
    counts = flags.sum(axis=2)
    union = counts[:, :, None] + counts[:, None, :] - shared
    similarity: FloatArray = np.zeros_like(shared)
    np.divide(shared, union, out=similarity, where=union > 0)
    return similarity


def mmr_order(scores: FloatArray, similarity: FloatArray, top_n: int, weight: float) -> IntArray:
    """For each list (rows of `scores`, NaN where the pool is short), the positions of the
    films MMR picks, in order: shape (lists, top_n), -1 after a short pool's last film."""
    lists, pool = scores.shape
    valid = ~np.isnan(scores)
    relevance = np.where(valid, scores, 0.0)
    nearest = np.zeros((lists, pool))  # max similarity to the films already picked
    picked = np.full((lists, top_n), -1, dtype=np.int64)
    open_ = valid.copy()
    rows = np.arange(lists)
    for step in range(min(top_n, pool)):
        value = np.where(open_, (1 - weight) * relevance - weight * nearest, -np.inf)
        choice = value.argmax(axis=1)
        has = open_[rows, choice]
        picked[has, step] = choice[has]
        open_[rows[has], choice[has]] = False
        nearest[has] = np.maximum(nearest[has], similarity[rows[has], choice[has]])
    return picked


def diversify(pool: pa.Table, genres: Genres, top_n: int, weight: float) -> pa.Table:
    """Re-rank each user's pool (user_id, rank, movie_id, score; rank 1 the best score) to
    `top_n` films by MMR with `weight`; the same columns, ranks 1..top_n in MMR order,
    each film keeping its score."""
    if not pool.num_rows:
        return pool
    users, row = np.unique(pool.column("user_id").to_numpy(), return_inverse=True)
    ranks = pool.column("rank").to_numpy().astype(np.int64)
    width = int(ranks.max())
    films = np.zeros((len(users), width), dtype=np.int64)
    scores = np.full((len(users), width), np.nan)
    films[row, ranks - 1] = pool.column("movie_id").to_numpy()
    scores[row, ranks - 1] = pool.column("score").to_numpy()
    order = mmr_order(scores, genre_similarity(films, genres), top_n, weight)
    kept = order >= 0
    user_rows = np.nonzero(kept)[0]
    positions = order[kept]
    return pa.table(
        {
            "user_id": pa.array(users[user_rows], pa.int64()),
            "rank": pa.array(np.nonzero(kept)[1] + 1, pa.int32()),
            "movie_id": pa.array(films[user_rows, positions], pa.int64()),
            "score": pa.array(scores[user_rows, positions], pa.float32()),
        }
    )
