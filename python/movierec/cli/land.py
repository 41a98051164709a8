"""`movierec simulate`, `ingest movielens`, `validate`, `forget-user`: the landed files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from movierec import flows
from movierec.cli._common import reported, say, settings
from movierec.errors import SettingsError
from movierec.settings import MovieLensSettings, SimulationSettings

app = typer.Typer()
ingest_app = typer.Typer(help="Land a public dataset as one batch under the raw contract.")


@app.command()
def simulate(
    users: Annotated[
        int | None, typer.Option(help=f"Number of users [default: {SimulationSettings.n_users}].")
    ] = None,
    movies: Annotated[
        int | None, typer.Option(help=f"Number of films [default: {SimulationSettings.n_movies}].")
    ] = None,
    interactions: Annotated[
        int | None,
        typer.Option(help=f"Number of viewings [default: {SimulationSettings.n_interactions}]."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="As-of date (YYYY-MM-DD): viewings fall in the 365 days before "
            f"[default: {SimulationSettings.as_of}]."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: one seed, one world.")] = (
        SimulationSettings.seed
    ),
    days: Annotated[
        int | None,
        typer.Option(
            help="Instead of a new world, continue the landed one this many days past its "
            "latest day, each day its own batch (new users, new films, the day's viewings), "
            "answering the published lists as the config's [closed_loop] says."
        ),
    ] = None,
) -> None:
    """Simulate a world (users, films, viewings) and land it as one immutable Parquet batch,
    or continue the landed world day by day (--days)."""
    loaded = settings()
    paths = loaded.paths
    with reported():
        if days is not None:
            given = [
                f"--{name.replace('_', '-')}"
                for name, value in {
                    "users": users,
                    "movies": movies,
                    "interactions": interactions,
                    "as_of": as_of,
                }.items()
                if value is not None
            ]
            if given:
                raise SettingsError(
                    f"--days continues the landed world at its own scale; {', '.join(given)} "
                    "only apply to a new world"
                )
            flows.simulate_days(paths, days, seed, typer.echo, loaded.closed_loop)
            return
        defaults = SimulationSettings()
        world = SimulationSettings(
            n_users=defaults.n_users if users is None else users,
            n_movies=defaults.n_movies if movies is None else movies,
            n_interactions=defaults.n_interactions if interactions is None else interactions,
            as_of=defaults.as_of if as_of is None else date.fromisoformat(as_of),
            seed=seed,
        )
        flows.simulate(paths, world, typer.echo)


@ingest_app.command("movielens")
def ingest_movielens(
    path: Annotated[Path, typer.Argument(help="The ml-100k folder (u.data, u.user, u.item).")],
    liked_min_rating: Annotated[
        int, typer.Option(help="A rating at least this high counts as liked.")
    ] = MovieLensSettings.liked_min_rating,
    holdout_per_user: Annotated[
        int,
        typer.Option(
            help="Hold out this many random ratings per user (at most half of theirs) for "
            "`evaluate --split random`, as ml-100k's ua/ub splits do; 0 lands them all."
        ),
    ] = MovieLensSettings.holdout_per_user,
    holdout_share: Annotated[
        float,
        typer.Option(
            help="Or hold out this share of each user's ratings (0.25: the published 75/25 "
            "benchmark split)."
        ),
    ] = MovieLensSettings.holdout_share,
    holdout_seed: Annotated[
        int, typer.Option(help="Seed of the held-out draw.")
    ] = MovieLensSettings.holdout_seed,
) -> None:
    """Read a GroupLens MovieLens-100k folder, check it and land it as one batch."""
    paths = settings().paths
    with reported():
        ingest = MovieLensSettings(
            liked_min_rating=liked_min_rating,
            holdout_per_user=holdout_per_user,
            holdout_share=holdout_share,
            holdout_seed=holdout_seed,
        )
        flows.ingest_movielens(paths, path, ingest, typer.echo)


@app.command()
def validate(
    record_unlisted: Annotated[
        bool,
        typer.Option(
            help="First record, as they are now, the landed files no landing manifest lists "
            "(landed before movierec kept one). You vouch that their bytes are the landed ones."
        ),
    ] = False,
) -> None:
    """Check every landed Parquet file against the landing manifest and the raw data
    contract, and every retained warehouse version against its recorded checksum."""
    paths = settings().paths
    with reported():
        versions = flows.validate(paths, record_unlisted=record_unlisted)
    typer.echo(f"all landed files under {paths.raw_dir} are as landed and meet the contract")
    typer.echo(f"{versions} retained warehouse versions match their recorded checksums")


@app.command(name="forget-user")
def forget_user(
    user_ids: Annotated[list[int], typer.Argument(help="Ids of the users to erase.")],
) -> None:
    """Right to erasure: remove users from the landed files now, and from the warehouse,
    its retained versions and the model at the next nightly."""
    paths = settings().paths
    with reported():
        request = flows.forget_users(paths, user_ids)
    say(
        f"erasure {request.request_id}: {len(request.user_ids)} users, "
        f"{request.landed_rows_removed:,} landed rows removed; the next `movierec nightly` "
        "publishes a warehouse without them and deletes older versions"
    )
