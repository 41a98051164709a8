"""The closed loop: simulated days answer the published lists (docs/kpi.md)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from movierec.errors import RawContractError
from movierec.land import (
    Population,
    PublishedLists,
    answer_lists,
    land_batch,
    pair_like_probability,
    simulate_day,
    simulate_world,
)
from movierec.land.contract import TableSpec
from movierec.settings import ClosedLoopSettings, SimulationSettings

WORLD = simulate_world(SimulationSettings(n_users=2_000, n_movies=300, n_interactions=10, seed=3))
PEOPLE = Population.of(WORLD.users, WORLD.movies)
DAY = date(2025, 1, 1)
NOW = datetime(2026, 1, 1)


def _like(users: np.ndarray, films: np.ndarray) -> np.ndarray:
    """p(like) in 2025 of user and film indices of PEOPLE."""
    return pair_like_probability(PEOPLE, users, films, 2025)


def _lists(n_users: int, top_n: int = 10, seed: int = 0) -> PublishedLists:
    """A list of `top_n` distinct films for each of the first `n_users` users, ranked by
    model m1 for even rows and m2 for odd ones (an A/B test's two arms)."""
    rng = np.random.default_rng(seed)
    films = np.stack([rng.choice(PEOPLE.movie_ids, top_n, replace=False) for _ in range(n_users)])
    models = tuple("m1" if row % 2 == 0 else "m2" for row in range(n_users))
    return PublishedLists("r1", PEOPLE.user_ids[:n_users], models, films)


def test_clicks_fall_with_rank_as_the_configured_curve_says() -> None:
    """Scanning from rank 1, a viewer examines rank r with probability
    examine_first * examine_decay ** (r - 1) and clicks an examined film with its p(like);
    the first click wins. Over 400,000 list views the clicks per rank match what that
    model expects from the lists' own p(like), within 4 standard deviations; rank 1 is
    clicked far more often than rank 10."""
    lists = _lists(2_000)
    loop = ClosedLoopSettings(list_share=1.0, examine_first=0.3, examine_decay=0.8)
    rng = np.random.default_rng(11)
    u = rng.integers(0, 2_000, 400_000)

    answers, clicked_film = answer_lists(np.random.default_rng(12), PEOPLE, u, lists, loop, _like)

    assert answers.through_list.all()
    observed = np.bincount(answers.clicked_rank, minlength=11)[1:]
    # the model's click probabilities per rank, from each list's p(like)
    index = {m: i for i, m in enumerate(PEOPLE.movie_ids.tolist())}
    film_index = np.vectorize(index.__getitem__)(lists.movie_ids)
    p_like = pair_like_probability(
        PEOPLE, np.repeat(np.arange(2_000)[:, None], 10, axis=1), film_index, 2025
    )
    examine = 0.3 * 0.8 ** np.arange(10)
    click = examine * p_like
    reach = np.cumprod(np.hstack([np.ones((2_000, 1)), 1 - click[:, :-1]]), axis=1)
    per_user = reach * click  # P(first click at rank r) per user
    views = np.bincount(u, minlength=2_000)
    expected = (views[:, None] * per_user).sum(axis=0)
    deviation = np.sqrt((views[:, None] * per_user * (1 - per_user)).sum(axis=0))
    assert np.all(np.abs(observed - expected) < 4 * deviation), (observed, expected)
    assert observed[0] > 5 * observed[9]
    # a click's film is the one at that rank of the viewer's list
    clicked = np.flatnonzero(answers.clicked_rank > 0)
    ranks = answers.clicked_rank[clicked] - 1
    assert np.array_equal(
        PEOPLE.movie_ids[clicked_film[clicked]], lists.movie_ids[u[clicked], ranks]
    )


def test_only_listed_users_answer_a_list_and_only_their_share_of_viewings() -> None:
    lists = _lists(500)
    loop = ClosedLoopSettings(list_share=0.3)
    u = np.random.default_rng(1).integers(0, 2_000, 100_000)
    answers, _ = answer_lists(np.random.default_rng(2), PEOPLE, u, lists, loop, _like)
    listed = u < 500
    assert not answers.through_list[~listed].any()
    share = answers.through_list[listed].mean()
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / listed.sum())
    assert (answers.clicked_rank[~answers.through_list] == 0).all()


def test_a_day_with_lists_lands_its_clicks_with_their_list_and_keeps_the_other_draws() -> None:
    """Who views and when is drawn as on a day without lists; a viewing through a list is
    either a click (source 'recommendation', the film at that rank of the user's list, the
    run, the model that ranked that user's list and the rank) or the uniform film with the
    run and model it passed over; the day is reproducible."""
    lists = _lists(2_000)
    loop = ClosedLoopSettings(list_share=0.5, examine_first=0.3, examine_decay=0.8)
    kwargs = {"viewings": 3_000.0, "next_interaction_id": 11, "seed": 4}
    plain = simulate_day(PEOPLE, DAY, **kwargs).world.interactions  # type: ignore[arg-type]
    day = simulate_day(PEOPLE, DAY, lists=lists, loop=loop, **kwargs)  # type: ignore[arg-type]
    again = simulate_day(PEOPLE, DAY, lists=lists, loop=loop, **kwargs)  # type: ignore[arg-type]
    viewings = day.world.interactions

    assert viewings.equals(again.world.interactions)
    for column in ("interaction_id", "user_id", "interacted_at"):
        assert viewings.column(column).equals(plain.column(column))
    assert set(plain.column("viewing_source").to_pylist()) == {"organic"}
    assert plain.column("run_id").null_count == plain.num_rows
    rows = viewings.to_pylist()
    clicks = [r for r in rows if r["viewing_source"] == "recommendation"]
    passed = [r for r in rows if r["viewing_source"] == "organic" and r["run_id"] is not None]
    assert len(clicks) > 100
    assert len(passed) > 100
    row_of = {u: i for i, u in enumerate(lists.user_ids.tolist())}
    for click in clicks:
        row = row_of[click["user_id"]]
        assert (click["run_id"], click["model_id"]) == ("r1", lists.model_ids[row])
        assert lists.movie_ids[row][click["recommendation_rank"] - 1] == click["movie_id"]
    assert {r["model_id"] for r in clicks} == {"m1", "m2"}
    assert all(r["model_id"] == lists.model_ids[row_of[r["user_id"]]] for r in passed)
    assert all(r["recommendation_rank"] is None for r in passed)
    # the films of the viewings that went through no list are the plain day's
    plain_films = plain.column("movie_id").to_pylist()
    assert all(
        r["movie_id"] == plain_films[i]
        for i, r in enumerate(rows)
        if r["run_id"] is None or r["viewing_source"] == "organic"
    )


def test_the_contract_accepts_the_closed_loops_columns_and_refuses_an_unknown_source(
    contract: dict[str, TableSpec], tmp_path: Path
) -> None:
    lists = _lists(2_000)
    loop = ClosedLoopSettings(list_share=0.5)
    day = simulate_day(
        PEOPLE, DAY, viewings=500.0, next_interaction_id=11, seed=4, lists=lists, loop=loop
    )
    tables = {"users": WORLD.users, "movies": WORLD.movies}
    viewings = day.world.interactions
    land_batch({**tables, "interactions": viewings}, contract, tmp_path, "b1", NOW)
    sources = viewings.column("viewing_source").to_pylist()
    sources[0] = "banner"
    broken = viewings.set_column(
        viewings.schema.get_field_index("viewing_source"), "viewing_source", pa.array(sources)
    )
    with pytest.raises(
        RawContractError, match="column 'viewing_source': values other than organic"
    ):
        land_batch({**tables, "interactions": broken}, contract, tmp_path, "b2", NOW)
