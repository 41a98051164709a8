"""The simulator reproduces the data-generating process of SPEC.md."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from movierec.land import (
    GENRES,
    SEGMENT_GENRES,
    TableSpec,
    World,
    interaction_window,
    segment_of_age,
    simulate_world,
)
from movierec.settings import SimulationSettings

SPEC_GENRES = {
    "Action", "Animation", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller",
    "Documentary",
}  # fmt: skip


@pytest.fixture(scope="module")
def large_world() -> World:
    """Enough viewings that every like-rate cell has thousands of rows."""
    return simulate_world(
        SimulationSettings(n_users=20_000, n_movies=2_000, n_interactions=600_000, seed=7)
    )


def test_same_seed_same_world() -> None:
    """Two runs with one seed land byte-for-byte the same tables."""
    settings = SimulationSettings(n_users=100, n_movies=30, n_interactions=500, seed=3)
    first, second = simulate_world(settings), simulate_world(settings)
    for name in ("users", "movies", "interactions"):
        assert first.as_dict()[name].equals(second.as_dict()[name])


def test_other_seed_other_world() -> None:
    """A different seed draws different ages."""
    a = simulate_world(SimulationSettings(n_users=100, n_movies=30, n_interactions=500, seed=1))
    b = simulate_world(SimulationSettings(n_users=100, n_movies=30, n_interactions=500, seed=2))
    assert not a.users.column("age").equals(b.users.column("age"))


def test_scale_parameters(small_world: World) -> None:
    """Row counts follow the settings and ids run from 1."""
    assert small_world.users.num_rows == 200
    assert small_world.movies.num_rows == 50
    assert small_world.interactions.num_rows == 3_000
    assert small_world.users.column("user_id").to_pylist() == list(range(1, 201))


def test_tables_have_the_contract_schema(
    small_world: World, contract: dict[str, TableSpec]
) -> None:
    """The simulator writes exactly the contract's columns and types, so nothing is cast."""
    for name, table in small_world.as_dict().items():
        produced = {f.name: f.type for f in table.schema}
        expected = {c.name: c.arrow_type for c in contract[name].columns}
        missing_optional = set(expected) - set(produced)
        assert missing_optional == ({"gender", "occupation"} if name == "users" else set())
        assert all(produced[c] == expected[c] for c in produced)


def test_segment_thresholds_exact() -> None:
    """young below 25, adult below 45, senior from 45."""
    ages = np.array([16.0, 24.999, 25.0, 44.999, 45.0, 80.0])
    assert segment_of_age(ages).tolist() == ["young", "young", "adult", "adult", "senior", "senior"]


def test_segment_genre_lists_exact() -> None:
    """The preferred-genre lists per segment are the seed's, translated."""
    assert SEGMENT_GENRES == {
        "young": ("Action", "Animation", "Sci-Fi"),
        "adult": ("Drama", "Comedy", "Thriller"),
        "senior": ("Drama", "Romance", "Documentary"),
    }
    assert set(GENRES) == SPEC_GENRES


def test_preferred_genres_drawn_from_own_segment(large_world: World) -> None:
    """Two draws with replacement, each from the user's segment list, all three reachable."""
    users = pl.from_arrow(large_world.users)
    assert isinstance(users, pl.DataFrame)
    users = users.with_columns(
        segment=pl.Series(segment_of_age(users["age"].to_numpy())),
    )
    assert users["preferred_genres"].list.len().unique().to_list() == [2]
    for segment, genres in SEGMENT_GENRES.items():
        drawn = users.filter(pl.col("segment") == segment)["preferred_genres"].explode()
        assert set(drawn.unique().to_list()) == set(genres)
    repeated = users.filter(
        pl.col("preferred_genres").list.get(0) == pl.col("preferred_genres").list.get(1)
    )
    # with replacement: P(same twice) = 1/3
    assert repeated.height / users.height == pytest.approx(1 / 3, abs=0.02)


def test_user_attribute_ranges(large_world: World) -> None:
    """Ages clipped to [16, 80] around 35; sessions Poisson(4) + 1; subscription mean 12."""
    age = large_world.users.column("age").to_numpy()
    assert age.min() == 16.0
    assert age.max() == 80.0
    assert age.mean() == pytest.approx(35, abs=0.5)
    sessions = large_world.users.column("sessions_per_week").to_numpy()
    assert sessions.min() >= 1
    assert sessions.mean() == pytest.approx(5, abs=0.1)
    assert large_world.users.column("subscription_months").to_numpy().mean() == pytest.approx(
        12, abs=0.4
    )


def test_movie_attribute_ranges(large_world: World) -> None:
    """Years in [1990, 2023], durations in [60, 180], ratings in [1, 5], votes >= 50."""
    movies = large_world.movies
    years = movies.column("release_year").to_numpy()
    assert years.min() == 1990
    assert years.max() == 2023
    durations = movies.column("duration_minutes").to_numpy()
    assert durations.min() >= 60
    assert durations.max() <= 180
    ratings = movies.column("mean_rating").to_numpy()
    assert ratings.min() >= 1
    assert ratings.max() <= 5
    assert movies.column("vote_count").to_numpy().min() >= 50
    assert movies.column("title").to_pylist()[:2] == ["Film_0001", "Film_0002"]
    assert {g for gs in movies.column("genres").to_pylist() for g in gs} == SPEC_GENRES


def test_interactions_fall_in_the_year_before_as_of(small_world: World) -> None:
    """Timestamps lie in the 365 days before the as-of date."""
    start, end = interaction_window(SimulationSettings())
    stamps = small_world.interactions.column("interacted_at").to_pylist()
    assert start <= min(stamps)
    assert max(stamps) < end
    assert end == datetime(2024, 12, 31)
    assert SimulationSettings().as_of == date(2024, 12, 31)


def test_watch_fraction_and_rating_depend_on_like(large_world: World) -> None:
    """Liked: watch in [0.1, 1], rating 1..5; not liked: watch in [0.05, 0.4], rating 1..3."""
    df = pl.from_arrow(large_world.interactions)
    assert isinstance(df, pl.DataFrame)
    liked = df.filter(pl.col("is_liked"))["watch_fraction"].to_numpy()
    disliked = df.filter(~pl.col("is_liked"))["watch_fraction"].to_numpy()
    assert liked.min() >= 0.1
    assert liked.max() <= 1.0
    assert disliked.min() >= 0.05
    assert disliked.max() <= 0.4
    ratings = df.group_by("is_liked").agg(pl.col("rating").unique().sort()).sort("is_liked")
    assert ratings["rating"].to_list() == [[1, 2, 3], [1, 2, 3, 4, 5]]


def test_like_rate_per_cell_matches_the_formula(large_world: World) -> None:
    """Per (genre match, segment x film age, rating band) cell, the observed like rate is
    the SPEC.md formula within four standard errors."""
    users = pl.from_arrow(large_world.users)
    movies = pl.from_arrow(large_world.movies)
    views = pl.from_arrow(large_world.interactions)
    assert isinstance(users, pl.DataFrame)
    assert isinstance(movies, pl.DataFrame)
    assert isinstance(views, pl.DataFrame)
    df = (
        views.join(users, on="user_id")
        .join(movies, on="movie_id")
        .with_columns(
            genre=pl.col("genres").list.first(),
            film_age=2024 - pl.col("release_year"),
            segment=pl.when(pl.col("age") < 25)
            .then(pl.lit("young"))
            .when(pl.col("age") < 45)
            .then(pl.lit("adult"))
            .otherwise(pl.lit("senior")),
        )
        .with_columns(
            match=pl.col("preferred_genres").list.contains(pl.col("genre")),
            age_bonus=((pl.col("segment") == "young") & (pl.col("film_age") < 10))
            | ((pl.col("segment") == "senior") & (pl.col("film_age") > 20)),
            band=pl.when(pl.col("mean_rating") > 4)
            .then(pl.lit("high"))
            .when(pl.col("mean_rating") < 2.5)
            .then(pl.lit("low"))
            .otherwise(pl.lit("mid")),
        )
    )
    cells = (
        df.group_by("match", "segment", "age_bonus", "band")
        .agg(rate=pl.col("is_liked").mean(), n=pl.len())
        .filter(pl.col("n") >= 300)
    )
    assert cells.height >= 20
    for row in cells.iter_rows(named=True):
        p = (
            0.3
            + 0.4 * row["match"]
            + 0.2 * row["age_bonus"]
            + {"high": 0.3, "low": -0.3, "mid": 0.0}[row["band"]]
        )
        p = min(max(p, 0.0), 1.0)
        se = max((p * (1 - p) / row["n"]) ** 0.5, 1e-3)
        assert abs(row["rate"] - p) < 4 * se, row
