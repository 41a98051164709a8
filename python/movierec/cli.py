"""The `movierec` command line: one thin command per pipeline step."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from movierec.config import Paths, SimulationSettings
from movierec.contract import RawContractError, parse_contract
from movierec.landing import land_batch, landed_files, new_batch_id, validate_landed
from movierec.simulate import simulate_world
from movierec.warehouse import DbtError, run_dbt

app = typer.Typer(
    help="Batch film recommendations on DuckDB + dbt.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@app.command()
def simulate(
    users: Annotated[int, typer.Option(help="Number of users.")] = 10_000,
    movies: Annotated[int, typer.Option(help="Number of films.")] = 2_000,
    interactions: Annotated[int, typer.Option(help="Number of viewings.")] = 150_000,
    as_of: Annotated[
        str, typer.Option(help="As-of date (YYYY-MM-DD): viewings fall in the 365 days before.")
    ] = "2024-12-31",
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed lands the same world.")
    ] = 42,
) -> None:
    """Simulate a world (users, films, viewings) and land it as one immutable Parquet batch."""
    paths = Paths.from_env()
    settings = SimulationSettings(
        n_users=users,
        n_movies=movies,
        n_interactions=interactions,
        as_of=date.fromisoformat(as_of),
        seed=seed,
    )
    started = time.perf_counter()
    world = simulate_world(settings)
    simulated = time.perf_counter() - started
    contract = parse_contract(paths.sources_yml.read_text())
    now = datetime.now(UTC).replace(tzinfo=None)
    try:
        written = land_batch(world.as_dict(), contract, paths.raw_dir, new_batch_id(), now)
    except RawContractError as exc:
        raise _fail(str(exc)) from exc
    landed = time.perf_counter() - started - simulated
    for entity, path in written.items():
        rows = world.as_dict()[entity].num_rows
        typer.echo(f"landed {rows:>10,} {entity:<12} -> {path}")
    typer.echo(f"simulated in {simulated:.2f} s, checked and landed in {landed:.2f} s")


@app.command()
def validate() -> None:
    """Check every landed Parquet file against the raw data contract."""
    paths = Paths.from_env()
    _validate(paths)
    typer.echo(f"all landed files under {paths.raw_dir} meet the contract")


def _validate(paths: Paths) -> None:
    contract = parse_contract(paths.sources_yml.read_text())
    now = datetime.now(UTC).replace(tzinfo=None)
    problems = validate_landed(paths.raw_dir, contract, now)
    if problems:
        raise _fail(str(RawContractError(problems)))


@app.command()
def build(
    select: Annotated[
        str | None, typer.Option(help="dbt node selection, as in `dbt build --select`.")
    ] = None,
) -> None:
    """Check the landed files, then `dbt build` (run + test) the warehouse."""
    paths = Paths.from_env()
    _validate(paths)
    args = ["build"] + (["--select", select] if select else [])
    try:
        run_dbt(paths, args)
    except DbtError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def nightly() -> None:
    """The nightly batch: land a simulated world if nothing has landed yet, then build."""
    paths = Paths.from_env()
    started = time.perf_counter()
    if not any(
        landed_files(paths.raw_dir, entity) for entity in ("users", "movies", "interactions")
    ):
        typer.echo("no landed data yet: simulating the default world")
        simulate()
    build(select=None)
    typer.echo(
        f"nightly done in {time.perf_counter() - started:.1f} s; warehouse: {paths.warehouse_path}"
    )
