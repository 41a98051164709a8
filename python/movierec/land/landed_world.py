"""What a landed world holds, read back from its batches, so `simulate --days` can continue
it: its users and films as the data-generating process needs them, its latest viewing
id, and how many viewings landed on each day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from movierec.errors import Problem, RawContractError
from movierec.land.landing import landed_files, parquet_relation
from movierec.land.simulate import GENRES, Day, Population


@dataclass(frozen=True)
class LandedWorld:
    """A landed world's population, its next free viewing id, and its viewings per day."""

    population: Population
    next_interaction_id: int
    viewings_per_day: dict[date, int]

    @property
    def latest_day(self) -> date:
        return max(self.viewings_per_day)

    def after(self, day: Day) -> LandedWorld:
        """This world once `day` has landed."""
        viewings = day.world.interactions.num_rows
        return LandedWorld(
            population=day.population,
            next_interaction_id=self.next_interaction_id + viewings,
            viewings_per_day={**self.viewings_per_day, day.day: viewings},
        )

    def yearly_rate(self, day: date) -> float:
        """Viewings a day over the 365 days before `day`: the pace the world keeps."""
        first = day.toordinal() - 365
        landed = sum(
            n for d, n in self.viewings_per_day.items() if first <= d.toordinal() < day.toordinal()
        )
        return landed / 365


def read_landed_world(raw_dir: Path) -> LandedWorld:
    """Read the landed users, films and viewings (a newer batch's row wins, as in staging).

    Only a simulated world can continue: every user needs stated preferred genres and every
    film a first genre among the simulator's; a RawContractError names the files otherwise.
    """
    files = {
        entity: landed_files(raw_dir, entity) for entity in ("users", "movies", "interactions")
    }
    missing = [entity for entity, found in files.items() if not found]
    if missing:
        raise RawContractError(
            [
                Problem(
                    str(raw_dir / e), None, "no landed batch to continue (run `movierec simulate`)"
                )
                for e in missing
            ]
        )
    con = duckdb.connect()
    try:
        users = con.sql(
            f"""
            select user_id, age, preferred_genres, filename
            from {parquet_relation(files["users"])}
            where user_id is not null
            qualify row_number() over (partition by user_id order by filename desc) = 1
            order by user_id
            """
        )
        stated = users.filter("len(preferred_genres) = 2 and age is not null")
        unstated = users.except_(stated).order("user_id").limit(1).fetchall()
        if unstated:
            raise RawContractError(
                [
                    Problem(
                        unstated[0][3],
                        "preferred_genres",
                        f"user {unstated[0][0]} has no two stated preferred genres (or no age): "
                        "`simulate --days` continues a simulated world only",
                    )
                ]
            )
        user_ids, age, first, second = (
            np.asarray(column)
            for column in stated.select("user_id, age, preferred_genres[1], preferred_genres[2]")
            .fetchnumpy()
            .values()
        )
        movies = con.sql(
            f"""
            select movie_id, genres[1] as genre, release_year, mean_rating, filename
            from {parquet_relation(files["movies"])}
            where movie_id is not null
            qualify row_number() over (partition by movie_id order by filename desc) = 1
            order by movie_id
            """
        )
        known = ", ".join(f"'{g}'" for g in GENRES)
        odd = (
            movies.filter(
                f"genre is null or genre not in ({known}) "
                "or release_year is null or mean_rating is null"
            )
            .limit(1)
            .fetchall()
        )
        if odd:
            movie_id, genre, _, _, filename = odd[0]
            raise RawContractError(
                [
                    Problem(
                        filename,
                        "genres",
                        f"film {movie_id} (first genre {genre!r}) is not a film of the simulated "
                        "world: `simulate --days` continues a simulated world only",
                    )
                ]
            )
        film = movies.select("movie_id, genre, release_year, mean_rating").fetchnumpy()
        interactions = parquet_relation(files["interactions"])
        [(latest,)] = con.sql(f"select max(interaction_id) from {interactions}").fetchall()
        next_id = (latest or 0) + 1
        per_day = con.sql(
            f"select cast(interacted_at as date), count(*) from {interactions} "
            "where interacted_at is not null group by all"
        ).fetchall()
    finally:
        con.close()
    population = Population(
        user_ids=user_ids.astype(np.int64),
        age=age.astype(np.float64),
        preferred=np.stack([first.astype(str), second.astype(str)], axis=1),
        movie_ids=np.asarray(film["movie_id"], dtype=np.int64),
        genre=np.asarray(film["genre"], dtype=str),
        release_year=np.asarray(film["release_year"], dtype=np.int64),
        mean_rating=np.asarray(film["mean_rating"], dtype=np.float64),
    )
    if not per_day:
        raise RawContractError(
            [
                Problem(
                    str(raw_dir / "interactions"),
                    "interacted_at",
                    "no landed viewing to continue from",
                )
            ]
        )
    return LandedWorld(
        population=population,
        next_interaction_id=int(next_id),
        viewings_per_day={d: int(n) for d, n in per_day},
    )
