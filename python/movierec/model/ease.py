"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): item-item
weights learned to reconstruct each user's films from their other films.

With X the users x films 0/1 matrix and P = (X'X + lambda I)^-1, the weights are
B = I - P / diag(P) with a zero diagonal, and a user's score for film j is the sum of
B[i, j] over the films i they viewed. Fitting inverts a films x films matrix here, in
Python; retrieval applies the weights in SQL (ml_retrieval_candidates' `ease` retriever),
keeping each film's `neighbours` weights of largest magnitude: the negative ones too, which
speak against a film (benchmarks/study_item_models.py compares the cuts on ml-100k's
validation split).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

Ids = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ItemWeights:
    """B[movie_id, other_movie_id] = weight: how much having viewed `movie_id` speaks for
    `other_movie_id`, one row per kept weight."""

    movie_ids: Ids
    other_movie_ids: Ids
    weights: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.weights)


def ease_matrix(viewed: sparse.csr_matrix, lam: float) -> npt.NDArray[np.float64]:
    """B for the users x films 0/1 matrix `viewed` (dense, films x films)."""
    gram = np.asarray((viewed.T @ viewed).toarray(), dtype=np.float64)
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    weights: npt.NDArray[np.float64] = inverse / -np.diag(inverse)
    np.fill_diagonal(weights, 0.0)
    return weights


def ease_weights(user_ids: Ids, movie_ids: Ids, lam: float, neighbours: int) -> ItemWeights:
    """EASE fitted on the viewed (user, film) pairs (repeats count once), regularised by
    `lam` > 0; for each film, its `neighbours` weights of largest magnitude to other films
    (ties: the lower id)."""
    if lam <= 0:
        raise ValueError(f"EASE needs lambda > 0, got {lam}")
    films, film_index = np.unique(movie_ids, return_inverse=True)
    _, user_index = np.unique(user_ids, return_inverse=True)
    viewed = sparse.csr_matrix(
        (np.ones(len(film_index)), (user_index, film_index)),
        shape=(int(user_index.max(initial=-1)) + 1, len(films)),
    )
    viewed.sum_duplicates()
    viewed.data[:] = 1.0  # a pair given twice counts once
    weights = ease_matrix(viewed, lam)
    kept = min(neighbours, len(films) - 1)
    if kept < 1:
        none = np.array([], np.int64)
        return ItemWeights(none, none, np.array([], np.float64))
    # stable order by (-|weight|, column): the largest first, ties to the lower film id;
    # the diagonal (0) comes last
    magnitude = np.abs(weights)
    np.fill_diagonal(magnitude, -1.0)
    order = np.argsort(-magnitude, axis=1, kind="stable")[:, :kept]
    rows = np.repeat(np.arange(len(films)), kept)
    return ItemWeights(
        movie_ids=films[rows].astype(np.int64),
        other_movie_ids=films[order.ravel()].astype(np.int64),
        weights=weights[rows, order.ravel()],
    )
