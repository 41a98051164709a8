"""`simulate --days`: the landed world continues day by day with the same process."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from movierec.errors import RawContractError, SettingsError
from movierec.flows import simulate, simulate_days
from movierec.land import (
    Population,
    land_batch,
    landed_files,
    read_landed_world,
    simulate_day,
    simulate_world,
)
from movierec.land.contract import TableSpec
from movierec.settings import Paths, SimulationSettings
from tests.conftest import REPO

WORLD = SimulationSettings(n_users=500, n_movies=80, n_interactions=7_300, seed=5)


def _paths(root: Path) -> Paths:
    return Paths(project_dir=REPO, data_dir=root, warehouse_path=root / "w.duckdb")


def _landed(paths: Paths, entity: str) -> pl.DataFrame:
    """Every landed row of one entity, batches in landing order, without the batch."""
    return pl.concat([pl.read_parquet(f) for f in landed_files(paths.raw_dir, entity)])


def test_a_day_continues_ids_and_time_and_draws_from_the_grown_world() -> None:
    world = simulate_world(SimulationSettings(n_users=20_000, n_movies=3_000, n_interactions=10))
    day = simulate_day(
        Population.of(world.users, world.movies),
        date(2025, 3, 1),
        viewings=5_000.0,
        next_interaction_id=11,
        seed=1,
    )

    users, movies, views = (pl.DataFrame(t) for t in day.world.as_dict().values())
    # about 0.2 % new users and 0.1 % new films (Poisson: 40 and 3 expected)
    assert 20 <= users.height <= 60
    assert 1 <= movies.height <= 10
    assert users["user_id"].to_list() == list(range(20_001, 20_001 + users.height))
    assert movies["movie_id"].to_list() == list(range(3_001, 3_001 + movies.height))
    assert set(movies["release_year"]) == {2025}
    assert movies["title"][0] == "Film_3001"
    assert 4_700 <= views.height <= 5_300
    assert views["interaction_id"].to_list() == list(range(11, 11 + views.height))
    assert views["interacted_at"].dt.date().unique().to_list() == [date(2025, 3, 1)]
    # viewers and films are drawn from everyone there is that day, new ones included
    assert views["user_id"].is_in(users["user_id"].implode()).any()
    assert max(views["user_id"].to_list()) <= max(users["user_id"].to_list())
    assert len(day.population.user_ids) == 20_000 + users.height
    assert len(day.population.movie_ids) == 3_000 + movies.height


def test_a_day_is_the_same_from_the_same_world_seed_and_day() -> None:
    world = simulate_world(WORLD)
    people = Population.of(world.users, world.movies)
    first, again = (
        simulate_day(people, date(2025, 1, 1), viewings=20.0, next_interaction_id=1, seed=3)
        for _ in range(2)
    )
    other_day = simulate_day(people, date(2025, 1, 2), viewings=20.0, next_interaction_id=1, seed=3)
    other_seed = simulate_day(
        people, date(2025, 1, 1), viewings=20.0, next_interaction_id=1, seed=4
    )
    for name, table in first.world.as_dict().items():
        assert table.equals(again.world.as_dict()[name])
    views = first.world.interactions
    assert not views.equals(other_day.world.interactions)
    assert not views.equals(other_seed.world.interactions)


def test_days_land_one_batch_each_and_two_at_once_land_what_one_twice_does(
    tmp_path: Path,
) -> None:
    once, twice = _paths(tmp_path / "once"), _paths(tmp_path / "twice")
    for paths in (once, twice):
        simulate(paths, WORLD, lambda _: None)
    simulate_days(once, 2, seed=9, progress=lambda _: None)
    for _ in range(2):
        simulate_days(twice, 1, seed=9, progress=lambda _: None)

    assert len(landed_files(once.raw_dir, "interactions")) == 3
    for entity in ("users", "movies", "interactions"):
        assert _landed(once, entity).equals(_landed(twice, entity))
    views = _landed(once, "interactions")
    assert views["interaction_id"].is_unique().all()
    assert views["interaction_id"].to_list() == list(range(1, views.height + 1))
    assert _landed(once, "users")["user_id"].is_unique().all()
    # the world keeps its pace: 7,300 viewings a year, about 20 a day
    added = views.filter(pl.col("interacted_at") >= datetime(2024, 12, 31))
    assert added["interacted_at"].dt.date().unique().sort().to_list() == [
        date(2024, 12, 31),
        date(2025, 1, 1),
    ]
    assert 20 <= added.height <= 65
    world = read_landed_world(once.raw_dir)
    assert world.latest_day == date(2025, 1, 1)
    assert world.next_interaction_id == views.height + 1


def test_days_continue_only_a_simulated_world_and_stop_before_today(
    tmp_path: Path, contract: dict[str, TableSpec]
) -> None:
    paths = _paths(tmp_path)
    world = simulate_world(WORLD)
    stated_by_nobody = world.users.set_column(
        2, "preferred_genres", pa.nulls(world.users.num_rows, pa.list_(pa.string()))
    )
    land_batch(
        {**world.as_dict(), "users": stated_by_nobody},
        contract,
        paths.raw_dir,
        "b1",
        datetime.now(),
    )
    with pytest.raises(RawContractError) as caught:
        simulate_days(paths, 1, seed=1, progress=lambda _: None)
    (problem,) = caught.value.problems
    assert problem.column == "preferred_genres"
    assert problem.file == str(landed_files(paths.raw_dir, "users")[0])
    assert "user 1 " in problem.problem

    fresh = _paths(tmp_path / "fresh")
    simulate(fresh, WORLD, lambda _: None)
    days_to_today = (date.today() - date(2024, 12, 31)).days
    with pytest.raises(SettingsError, match="cannot land before their day is over"):
        simulate_days(fresh, days_to_today + 1, seed=1, progress=lambda _: None)
    with pytest.raises(SettingsError, match="at least 1"):
        simulate_days(fresh, 0, seed=1, progress=lambda _: None)
    assert len(landed_files(fresh.raw_dir, "interactions")) == 1
