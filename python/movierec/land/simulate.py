"""The data-generating process of SPEC.md ("The simulated world"), vectorised with numpy.

This is the ground truth the warehouse observes: the simulator knows each user's segment and
preferred genres; the warehouse only sees what lands in Parquet.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from movierec.land.closed_loop import PublishedLists, answer_lists, with_sources
from movierec.settings import ClosedLoopSettings, SimulationSettings

GENRES: tuple[str, ...] = (
    "Action",
    "Animation",
    "Comedy",
    "Drama",
    "Horror",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "Documentary",
)
SEGMENTS: tuple[str, ...] = ("young", "adult", "senior")
SEGMENT_GENRES: dict[str, tuple[str, str, str]] = {
    "young": ("Action", "Animation", "Sci-Fi"),
    "adult": ("Drama", "Comedy", "Thriller"),
    "senior": ("Drama", "Romance", "Documentary"),
}
# Upper age bounds (exclusive) of the first two segments; everyone else is senior.
SEGMENT_AGE_BOUNDS: tuple[float, float] = (25.0, 45.0)
SERIOUS_GENRES: frozenset[str] = frozenset({"Drama", "Documentary"})
INTERACTION_WINDOW_DAYS = 365

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]


@dataclass(frozen=True)
class World:
    """The three landed tables of one simulated world, as Arrow."""

    users: pa.Table
    movies: pa.Table
    interactions: pa.Table

    def as_dict(self) -> dict[str, pa.Table]:
        return {"users": self.users, "movies": self.movies, "interactions": self.interactions}


def segment_of_age(age: FloatArray) -> StrArray:
    """young below 25, adult below 45, senior from 45."""
    young_below, adult_below = SEGMENT_AGE_BOUNDS
    return np.where(age < young_below, "young", np.where(age < adult_below, "adult", "senior"))


def like_probability(
    *,
    is_preferred_genre: BoolArray,
    is_young: BoolArray,
    is_senior: BoolArray,
    film_age_years: IntArray,
    mean_rating: FloatArray,
) -> FloatArray:
    """p(like) of SPEC.md, clipped to [0, 1]."""
    p = (
        0.3
        + 0.4 * is_preferred_genre
        + 0.2 * (is_young & (film_age_years < 10))
        + 0.2 * (is_senior & (film_age_years > 20))
        + 0.3 * (mean_rating > 4)
        - 0.3 * (mean_rating < 2.5)
    )
    clipped: FloatArray = np.clip(p, 0.0, 1.0)
    return clipped


def simulate_world(settings: SimulationSettings) -> World:
    """Draw users, films and viewings from one seeded generator."""
    rng = np.random.default_rng(settings.seed)
    users = _simulate_users(rng, settings.n_users, first_id=1)
    movies = _simulate_movies(rng, settings.n_movies, first_id=1, years=(1990, 2024))
    n = settings.n_interactions
    u = rng.integers(0, settings.n_users, n)
    m = rng.integers(0, settings.n_movies, n)
    window_seconds = INTERACTION_WINDOW_DAYS * 86_400
    seconds_before = rng.integers(1, window_seconds + 1, n)
    as_of = datetime.combine(settings.as_of, time())
    timestamps = np.datetime64(as_of, "s") - seconds_before.astype("timedelta64[s]")
    people = Population.of(users, movies)
    interactions = _viewings(rng, people, u, m, timestamps, settings.as_of.year, first_id=1)
    interactions = with_sources(interactions, None, None)
    return World(users=users, movies=movies, interactions=interactions)


@dataclass(frozen=True)
class Population:
    """Who and what a world holds, as far as the data-generating process needs them: each
    user's age and two preferred genres, each film's genre, release year and mean rating."""

    user_ids: IntArray
    age: FloatArray
    preferred: StrArray
    movie_ids: IntArray
    genre: StrArray
    release_year: IntArray
    mean_rating: FloatArray

    @classmethod
    def of(cls, users: pa.Table, movies: pa.Table) -> Population:
        """The population of landed-shape users and films tables."""
        stated = pc.list_flatten(users.column("preferred_genres"))
        return cls(
            user_ids=users.column("user_id").to_numpy(),
            age=users.column("age").to_numpy(),
            preferred=np.asarray(stated.to_numpy(zero_copy_only=False), dtype=str).reshape(-1, 2),
            movie_ids=movies.column("movie_id").to_numpy(),
            genre=_first_genres(movies),
            release_year=movies.column("release_year").to_numpy().astype(np.int64),
            mean_rating=movies.column("mean_rating").to_numpy(),
        )

    def joined(self, other: Population) -> Population:
        """Everyone and everything of both populations, this one's first."""
        return Population(
            **{
                f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                for f in fields(self)
            }
        )


@dataclass(frozen=True)
class Day:
    """One simulated day: its new users and films, and its viewings."""

    day: date
    world: World
    population: Population


# SPEC.md, "The world continues, day by day": a few new users and films a day.
NEW_USERS_PER_DAY = 0.002
NEW_MOVIES_PER_DAY = 0.001


def simulate_day(
    population: Population,
    day: date,
    *,
    viewings: float,
    next_interaction_id: int,
    seed: int,
    lists: PublishedLists | None = None,
    loop: ClosedLoopSettings | None = None,
) -> Day:
    """One more day of the world: about 0.2 % new users and 0.1 % new films (released in
    the day's year), then about `viewings` viewings, each by a user and of a film drawn
    uniformly from everyone and everything there is that day, at a moment uniform over
    the day. The draw depends on the population, the seed and the day alone.

    With published `lists`, the day answers them (`answer_lists`, with `loop`): a viewing
    through its user's list is of the film clicked there (viewing_source 'recommendation', with
    the list's run, model and the rank), or, without a click, of the film drawn uniformly,
    recording the list passed over (viewing_source 'organic' with the run). Who views, when, and
    every other viewing are drawn as without lists."""
    rng = np.random.default_rng([seed, day.toordinal()])
    new_users = int(rng.poisson(NEW_USERS_PER_DAY * len(population.user_ids)))
    new_movies = int(rng.poisson(NEW_MOVIES_PER_DAY * len(population.movie_ids)))
    users = _simulate_users(rng, new_users, first_id=int(population.user_ids.max(initial=0)) + 1)
    movies = _simulate_movies(
        rng,
        new_movies,
        first_id=int(population.movie_ids.max(initial=0)) + 1,
        years=(day.year, day.year + 1),
    )
    grown = population.joined(Population.of(users, movies))
    n = int(rng.poisson(viewings))
    u = rng.integers(0, len(grown.user_ids), n)
    m = rng.integers(0, len(grown.movie_ids), n)
    seconds = rng.integers(0, 86_400, n)
    timestamps = np.datetime64(datetime.combine(day, time()), "s") + seconds.astype(
        "timedelta64[s]"
    )
    answers = None
    if lists is not None:
        # a generator of its own: the day's other draws stay those of a day without lists
        loop_rng = np.random.default_rng([seed, day.toordinal(), 1])
        answers, clicked_film = answer_lists(
            loop_rng,
            grown,
            u,
            lists,
            loop or ClosedLoopSettings(),
            like=lambda users, films: pair_like_probability(grown, users, films, day.year),
        )
        m = np.where(clicked_film >= 0, clicked_film, m)
    interactions = _viewings(rng, grown, u, m, timestamps, day.year, first_id=next_interaction_id)
    interactions = with_sources(interactions, answers, lists)
    return Day(
        day=day,
        world=World(users=users, movies=movies, interactions=interactions),
        population=grown,
    )


def _first_genres(movies: pa.Table) -> StrArray:
    """Each film's first (most prominent) genre."""
    first = pc.list_element(movies.column("genres"), 0)
    return np.asarray(first.to_numpy(zero_copy_only=False), dtype=str)


def _simulate_users(rng: np.random.Generator, n: int, first_id: int) -> pa.Table:
    age = np.clip(rng.normal(35.0, 12.0, n), 16.0, 80.0)
    segment = segment_of_age(age)
    choice = rng.integers(0, 3, size=(n, 2))
    preferred = np.empty((n, 2), dtype=object)
    for name, genres in SEGMENT_GENRES.items():
        rows = segment == name
        preferred[rows] = np.array(genres, dtype=object)[choice[rows]]
    preferred = preferred.astype(str)
    users = pa.table(
        {
            "user_id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            "age": pa.array(age),
            "preferred_genres": _list_array(preferred),
            "subscription_months": pa.array(rng.exponential(12.0, n)),
            "sessions_per_week": pa.array((rng.poisson(4.0, n) + 1).astype(np.int32)),
        }
    )
    return users


def _list_array(values: StrArray) -> pa.ListArray:
    """An Arrow list<string> column from a 2-D array, one row per list."""
    rows, width = values.shape
    offsets = pa.array(np.arange(0, rows * width + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(values.ravel(), type=pa.string()))


def _simulate_movies(
    rng: np.random.Generator, n: int, first_id: int, years: tuple[int, int]
) -> pa.Table:
    """`n` films with ids from `first_id`, released in [years[0], years[1])."""
    genre = np.array(GENRES)[rng.integers(0, len(GENRES), n)]
    year = rng.integers(*years, n)
    duration = np.clip(rng.normal(105.0, 20.0, n), 60.0, 180.0)
    base = 3.5 + 0.3 * (year > 2015) + 0.4 * np.isin(genre, sorted(SERIOUS_GENRES))
    rating = np.clip(base + rng.normal(0.0, 0.8, n), 1.0, 5.0)
    votes = rng.poisson(500.0, n) + 50
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    width = max(4, len(str(first_id + n - 1)))
    titles = [f"Film_{i:0{width}d}" for i in ids.tolist()]
    movies = pa.table(
        {
            "movie_id": pa.array(ids),
            "title": pa.array(titles, type=pa.string()),
            "genres": _list_array(genre[:, None]),
            "release_year": pa.array(year.astype(np.int32)),
            "duration_minutes": pa.array(duration),
            "mean_rating": pa.array(rating),
            "vote_count": pa.array(votes.astype(np.int64)),
        }
    )
    return movies


def pair_like_probability(
    people: Population, u: IntArray, m: IntArray, as_of_year: int
) -> FloatArray:
    """p(like) of user index `u` for film index `m` (arrays of one shape)."""
    # Compare small integer codes, not 15M strings: index users and films once.
    genre_code = {g: i for i, g in enumerate(GENRES)}
    movie_code = np.array([genre_code[g] for g in people.genre.tolist()], dtype=np.int8)
    preferred_code = np.vectorize(genre_code.__getitem__, otypes=[np.int8])(people.preferred)
    segment = segment_of_age(people.age)
    film_age = as_of_year - people.release_year
    genre = movie_code[m]
    return like_probability(
        is_preferred_genre=(preferred_code[u, 0] == genre) | (preferred_code[u, 1] == genre),
        is_young=(segment == "young")[u],
        is_senior=(segment == "senior")[u],
        film_age_years=film_age[m],
        mean_rating=people.mean_rating[m],
    )


def _viewings(
    rng: np.random.Generator,
    people: Population,
    u: IntArray,
    m: IntArray,
    timestamps: npt.NDArray[np.datetime64],
    as_of_year: int,
    first_id: int,
) -> pa.Table:
    """Viewings of film index `m` by user index `u` at `timestamps`: liked with p(like),
    then a watch fraction and a rating that follow from liking."""
    n = len(u)
    p = pair_like_probability(people, u, m, as_of_year)
    liked = rng.random(n) < p
    watch = np.where(liked, rng.uniform(0.1, 1.0, n), rng.uniform(0.05, 0.4, n))
    rating = np.where(liked, rng.integers(1, 6, n), rng.integers(1, 4, n))
    return pa.table(
        {
            "interaction_id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            "user_id": pa.array(people.user_ids[u]),
            "movie_id": pa.array(people.movie_ids[m]),
            "interacted_at": pa.array(timestamps.astype("datetime64[us]")),
            "is_liked": pa.array(liked),
            "watch_fraction": pa.array(watch),
            "rating": pa.array(rating.astype(np.int32)),
        }
    )


def interaction_window(settings: SimulationSettings) -> tuple[datetime, datetime]:
    """[start, end) of the viewing timestamps the simulator draws."""
    end = datetime.combine(settings.as_of, time())
    return end - timedelta(days=INTERACTION_WINDOW_DAYS), end
