"""The closed loop (docs/kpi.md): simulated viewings that answer the published lists.

A user who has a published list sees it for a share of their viewings, scans it from the
top with an attention that falls with rank (position bias), and clicks an examined film
with the simulator's p(like) for it; the click is the viewing. Each viewing records how
it came about, so click-through can be computed from what landed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from movierec.settings import ClosedLoopSettings

if TYPE_CHECKING:
    from movierec.land.simulate import Population

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PublishedLists:
    """The latest published recommendation run as the simulated users see it: its run,
    and per listed user the model that ranked the list (two under an A/B test) and the
    films at ranks 1..N (row i: `user_ids[i]`'s list; 0 after the last film of a list
    shorter than N)."""

    run_id: str
    user_ids: IntArray
    model_ids: tuple[str, ...]  # per user
    movie_ids: IntArray  # (users, N)


@dataclass(frozen=True)
class ListAnswers:
    """How a day's viewings answered the lists: per viewing, the row of the list it went
    through in `PublishedLists` (-1: none, an organic viewing), and the rank clicked
    there (0: none)."""

    list_row: IntArray
    clicked_rank: IntArray

    @property
    def through_list(self) -> BoolArray:
        return self.list_row >= 0


def answer_lists(
    rng: np.random.Generator,
    people: Population,
    u: IntArray,
    lists: PublishedLists,
    loop: ClosedLoopSettings,
    like: Callable[[IntArray, IntArray], FloatArray],
) -> tuple[ListAnswers, IntArray]:
    """Which of the viewings by user index `u` go through the user's list (`list_share`),
    and what each such user clicks: scanning from rank 1, rank r is examined with
    probability examine_first * examine_decay ** (r - 1) and an examined film clicked with
    its p(like) (`like` of user and film indices); the first click wins. Returns the
    answers and the clicked films' indices (-1 where nothing was clicked)."""
    row_of = {int(user): row for row, user in enumerate(lists.user_ids.tolist())}
    rows = np.array([row_of.get(int(user), -1) for user in people.user_ids[u].tolist()])
    through = (rows >= 0) & (rng.random(len(u)) < loop.list_share)
    list_row = np.where(through, rows, -1)
    films = lists.movie_ids[rows[through]]  # (k, N) film ids
    index_of = {int(movie): i for i, movie in enumerate(people.movie_ids.tolist())}
    listed = films > 0
    film_index = np.vectorize(lambda f: index_of.get(f, 0), otypes=[np.int64])(films)
    viewers = np.repeat(u[through][:, None], films.shape[1], axis=1)
    p_like = like(viewers, film_index)
    ranks = np.arange(films.shape[1])
    examine = loop.examine_first * loop.examine_decay**ranks
    examined = (rng.random(films.shape) < examine) & listed
    clicked = examined & (rng.random(films.shape) < p_like)
    first = np.where(clicked.any(axis=1), clicked.argmax(axis=1) + 1, 0)
    clicked_rank = np.zeros(len(u), dtype=np.int64)
    clicked_rank[through] = first
    clicked_film = np.full(len(u), -1, dtype=np.int64)
    chosen = np.flatnonzero(through)[first > 0]
    clicked_film[chosen] = film_index[first > 0, first[first > 0] - 1]
    return ListAnswers(list_row, clicked_rank), clicked_film


def with_sources(
    interactions: pa.Table, answers: ListAnswers | None, lists: PublishedLists | None
) -> pa.Table:
    """The viewings with how each came about: source, and the list's run, model and rank."""
    n = interactions.num_rows
    model_ids: tuple[str, ...] = ()
    if answers is None or lists is None:
        list_row = np.full(n, -1, dtype=np.int64)
        rank = np.zeros(n, dtype=np.int64)
        run_id = ""
    else:
        list_row, rank = answers.list_row, answers.clicked_rank
        run_id, model_ids = lists.run_id, lists.model_ids
    clicked = rank > 0
    rows = list_row.tolist()
    return (
        interactions.append_column(
            "viewing_source", pa.array(np.where(clicked, "recommendation", "organic"), pa.string())
        )
        .append_column("run_id", pa.array([run_id if r >= 0 else None for r in rows], pa.string()))
        .append_column(
            "model_id", pa.array([model_ids[r] if r >= 0 else None for r in rows], pa.string())
        )
        .append_column("recommendation_rank", pa.array(rank.astype(np.int32), mask=~clicked))
    )
