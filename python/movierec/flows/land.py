"""What `simulate`, `ingest movielens`, `validate` and `forget-user` do: everything that
writes or checks the landed files."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from movierec.errors import DamagedFileError, RawContractError, SettingsError
from movierec.evaluation import hold_out_per_user, hold_out_share
from movierec.land import (
    ErasureRequest,
    PublishedLists,
    land_batch,
    new_batch_id,
    parse_contract,
    read_landed_world,
    read_movielens,
    record_unlisted_files,
    request_erasure,
    simulate_day,
    simulate_world,
    validate_landed,
    write_atomically,
)
from movierec.progress import Progress
from movierec.publishing import damage, exclusive, utc_now, version_dirs
from movierec.settings import (
    ENTITIES,
    ClosedLoopSettings,
    MovieLensSettings,
    Paths,
    SimulationSettings,
)


@dataclass(frozen=True)
class Landing:
    """What one landing wrote: the batch file of each entity and its rows."""

    files: dict[str, Path]
    rows: dict[str, int]


def _land(paths: Paths, tables: dict[str, pa.Table]) -> Landing:
    contract = parse_contract(paths.sources_yml.read_text())
    written = land_batch(tables, contract, paths.raw_dir, new_batch_id(), utc_now())
    return Landing(files=written, rows={entity: tables[entity].num_rows for entity in written})


def _describe(landing: Landing) -> str:
    return "\n".join(
        f"landed {landing.rows[entity]:>10,} {entity:<12} -> {path}"
        for entity, path in landing.files.items()
    )


def simulate(paths: Paths, settings: SimulationSettings, progress: Progress) -> Landing:
    """Simulate a world and land it as one immutable batch."""
    started = time.perf_counter()
    world = simulate_world(settings)
    simulated = time.perf_counter() - started
    landing = _land(paths, world.as_dict())
    landed = time.perf_counter() - started - simulated
    progress(_describe(landing))
    progress(f"simulated in {simulated:.2f} s, checked and landed in {landed:.2f} s")
    return landing


def simulate_days(
    paths: Paths,
    days: int,
    seed: int,
    progress: Progress,
    loop: ClosedLoopSettings | None = None,
) -> list[Landing]:
    """Continue the landed simulated world `days` days past its latest day, landing each day
    (its new users, new films and viewings) as its own batch. A day's draw depends on what
    landed before it, the published lists, the seed and the day alone, so 2 days at once
    land what 1 day twice does. The viewings keep the pace of the 365 days before each day.

    Once a DuckDB warehouse is published, each day answers its latest lists (the closed
    loop, `loop`: the config's [closed_loop]; `simulate_day`)."""
    if days < 1:
        raise SettingsError(f"days must be at least 1, got {days}")
    landed = read_landed_world(paths.raw_dir)
    first = landed.latest_day + timedelta(days=1)
    last = first + timedelta(days=days - 1)
    today = utc_now().date()
    if last >= today:
        raise SettingsError(
            f"the landed world's latest day is {landed.latest_day}; {days} more days would "
            f"reach {last}, and viewings cannot land before their day is over (today is {today})"
        )
    landings = []
    # under the lock: a nightly never sees a day land between its checks and its build, nor
    # publishes other lists while the days answer these
    with exclusive(paths, "simulate --days"):
        lists = published_lists(paths)
        if lists is not None:
            progress(f"the days answer run {lists.run_id}'s lists ({len(lists.user_ids):,} users)")
        for offset in range(days):
            day = first + timedelta(days=offset)
            drawn = simulate_day(
                landed.population,
                day,
                viewings=landed.yearly_rate(day),
                next_interaction_id=landed.next_interaction_id,
                seed=seed,
                lists=lists,
                loop=loop,
            )
            tables = {e: t for e, t in drawn.world.as_dict().items() if t.num_rows}
            landing = _land(paths, tables)
            progress(f"day {day}:\n{_describe(landing)}")
            landings.append(landing)
            landed = landed.after(drawn)
    return landings


def published_lists(paths: Paths) -> PublishedLists | None:
    """The published DuckDB warehouse's latest recommendation run, as the simulated users
    see it; None before the first publish."""
    if not paths.warehouse_path.exists():
        return None
    with duckdb.connect(str(paths.warehouse_path), read_only=True) as con:
        rows = con.sql(
            "select run_id, model_id, user_id, movie_id, recommendation_rank "
            "from ml.ml_recommendations_latest"
        ).to_arrow_table()
    if not rows.num_rows:
        return None
    user_ids, first, row = np.unique(
        rows.column("user_id").to_numpy(), return_index=True, return_inverse=True
    )
    ranks = rows.column("recommendation_rank").to_numpy()
    movie_ids = np.zeros((len(user_ids), int(ranks.max())), dtype=np.int64)
    movie_ids[row, ranks - 1] = rows.column("movie_id").to_numpy()
    models = rows.column("model_id").to_pylist()
    return PublishedLists(
        run_id=str(rows.column("run_id")[0].as_py()),
        user_ids=user_ids,
        model_ids=tuple(str(models[i]) for i in first),
        movie_ids=movie_ids,
    )


def ingest_movielens(
    paths: Paths, folder: Path, settings: MovieLensSettings, progress: Progress
) -> Landing:
    """Read, check and land a MovieLens-100k folder; hold ratings out when asked."""
    tables = read_movielens(folder, settings)
    held_out = None
    if settings.holdout_per_user:
        tables["interactions"], held_out = hold_out_per_user(
            tables["interactions"], settings.holdout_per_user, settings.holdout_seed
        )
    elif settings.holdout_share:
        tables["interactions"], held_out = hold_out_share(
            tables["interactions"], settings.holdout_share, settings.holdout_seed
        )
    landing = _land(paths, tables)
    progress(_describe(landing))
    # a held-out file from an earlier ingest would judge against data that has since landed
    if held_out is None:
        paths.holdout_path.unlink(missing_ok=True)
    else:
        write_atomically(held_out, paths.holdout_path)
        progress(f"held out {held_out.num_rows:>8,} interactions -> {paths.holdout_path}")
    return landing


def validate(paths: Paths, *, record_unlisted: bool = False) -> int:
    """Check every landed file against the manifest and the raw contract (RawContractError
    if any breaks them), then every retained warehouse version, the published one among
    them, against its recorded checksum (DamagedFileError). Returns the versions checked.

    `record_unlisted` first records the landed files the manifest does not list (files
    landed before movierec kept a manifest): the operator vouches for their bytes.
    """
    if record_unlisted:
        with exclusive(paths, "validate --record-unlisted"):
            record_unlisted_files(paths.raw_dir, ENTITIES, utc_now())
    contract = parse_contract(paths.sources_yml.read_text())
    problems = validate_landed(paths.raw_dir, contract, utc_now())
    if problems:
        raise RawContractError(problems)
    versions = version_dirs(paths)
    damaged = [problem for v in versions if (problem := damage(paths, v)) is not None]
    if damaged:
        lines = "\n".join(f"  - {d}" for d in damaged)
        raise DamagedFileError(f"{len(damaged)} retained warehouse versions are damaged:\n{lines}")
    return len(versions)


def forget_users(paths: Paths, user_ids: list[int]) -> ErasureRequest:
    """Right to erasure: remove users from the landed files now; the next nightly removes
    them from the warehouse, its retained versions and the model."""
    with exclusive(paths, "forget-user"):
        return request_erasure(paths, user_ids, utc_now())
