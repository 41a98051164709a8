"""Every command that writes the warehouse runs through `warehouse_run`: the generic
write-audit-publish transaction, with what this product adds around it. Free disk space
is checked first, landed files are verified and checked (bad rows fail the run or go to
quarantine), a build continues the published warehouse with the new landed files only or
refreshes fully (docs/incremental.md), pending erasures are applied, the ML history is
carried into fresh builds, the audit knows the product's tables, and a run that fills the
disk ends in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
import pyarrow as pa

from movierec.errors import OutOfMemoryError, RawContractError, RunFailedError
from movierec.land import (
    LandedCheck,
    check_landed,
    complete_erasures,
    erasure_log,
    landed_files,
    log_entries,
    parse_contract,
    pending_erasures,
    read_manifest,
)
from movierec.progress import Progress
from movierec.publishing import (
    Query,
    RunRecord,
    SpaceNeed,
    Transaction,
    check_space,
    disk_full,
    is_disk_full,
    ops_tables,
    read_run_records,
    space_need,
    transaction,
    utc_now,
)
from movierec.settings import ENTITIES, BadRows, Paths, PublishSettings
from movierec.warehouse import (
    BuildPlan,
    LandedBatch,
    OutputTable,
    as_dbt_reads,
    create_tables,
    dbt_build,
    output_tables,
    plan_build,
    project_fingerprint,
    read_built_from,
    record_build,
    redelivered,
)

# How a run starts its build: "step" (a copy of the published warehouse, whose landed-data
# models it leaves as they are), "build" (a copy, on which it builds them: incrementally
# when it may, else with dbt's --full-refresh), "nightly" (like build, but a full refresh
# starts from an empty file, the only start that may apply erasures).
Start = Literal["step", "build", "nightly"]

# Tables the audit counts, with the key columns that must never be NULL.
AUDITED_TABLES: dict[str, tuple[str, ...]] = {
    "core.dim_users": ("user_id",),
    "core.dim_movies": ("movie_id",),
    "core.fct_interactions": ("interaction_id", "user_id", "movie_id"),
    "ml.ml_training_features": ("user_id", "movie_id"),
    "ml.ml_recommendations_latest": ("run_id", "user_id", "movie_id"),
}
# Where each table that names the latest recommendation run reads it.
LATEST_RUN_SQL: dict[str, str] = {
    "ml_outputs.recommendation_runs": "select max_by(run_id, generated_at) "
    "from ml_outputs.recommendation_runs",
    "ml.ml_recommendations_latest": "select min(run_id) from ml.ml_recommendations_latest",
    "ml.ml_recommendations": "select max_by(run_id, generated_at) from ml.ml_recommendations",
    "kpi.rpt_recommendation_runs": "select max_by(run_id, generated_at) "
    "from kpi.rpt_recommendation_runs",
}


@dataclass
class Run:
    """What a run's body gets: its transaction, and what the checks before it found."""

    transaction: Transaction
    forgotten: frozenset[int]
    landed: LandedCheck
    plan: BuildPlan | None  # None: the run does not build the landed-data models

    @property
    def build(self) -> Paths:
        """The installation pointed at the warehouse this run builds."""
        return self.transaction.build

    def step(self, name: str) -> None:
        self.transaction.step(name)

    @property
    def dbt_args(self) -> tuple[str, ...]:
        """What dbt needs to build the landed-data models as planned."""
        return self.plan.dbt_args if self.plan else ()

    def build_models(self, scope: Sequence[str], progress: Progress) -> None:
        """`dbt build` the models `scope` selects as planned, ml_training_features in
        batches when its viewings would not fit one query (warehouse/batches.py)."""
        landed = [str(f) for f in landed_files(self.build.raw_dir, "interactions")]
        dbt_build(self.build, scope, self.plan, landed, progress)


# The run's body: builds into `run.build`; returns the recommendation run it wrote, if any.
Body = Callable[[Run], str | None]


def carried_tables(paths: Paths) -> tuple[OutputTable, ...]:
    """History a fresh warehouse copies from the published one: what Python appended, and
    the weights training fitted."""
    sources = paths.ml_outputs_sources_yml.read_text()
    return output_tables(sources, "ml_outputs") + output_tables(sources, "ml_weights")


def latest_run_failures(query: Query, expected_run: str | None) -> list[str]:
    """Every table that names the latest recommendation run must name the same one: the
    one this run wrote, when it wrote one."""
    seen = {table: query(sql)[0][0] for table, sql in LATEST_RUN_SQL.items()}
    failures = []
    ((runs_in_latest,),) = query("select count(distinct run_id) from ml.ml_recommendations_latest")
    if runs_in_latest > 1:
        failures.append(f"ml.ml_recommendations_latest mixes {runs_in_latest} runs")
    if len(set(seen.values())) > 1:
        failures.append(f"the latest recommendation run differs across tables: {seen}")
    if expected_run is not None and seen["ml_outputs.recommendation_runs"] != expected_run:
        failures.append(
            f"this run wrote recommendation run {expected_run} but the latest is "
            f"{seen['ml_outputs.recommendation_runs']}"
        )
    return failures


def check_landing(paths: Paths, on_bad_rows: BadRows) -> LandedCheck:
    """Every landed file against the raw contract: a file problem, or a bad row when bad
    rows fail the run, raises RawContractError."""
    contract = parse_contract(paths.sources_yml.read_text())
    check = check_landed(paths.raw_dir, contract, utc_now())
    fatal = check.file_problems + (check.row_problems if on_bad_rows == "fail" else ())
    if fatal:
        raise RawContractError(fatal)
    return check


def _write_quarantine(paths: Paths, build: Paths, check: LandedCheck, quarantine: bool) -> None:
    with duckdb.connect(str(build.warehouse_path)) as con:
        create_tables(con, tuple(ops_tables(paths).values()))
        con.execute("delete from ops.quarantined_rows")
        if quarantine and check.bad_rows.num_rows:
            files = check.bad_rows.column("landed_file").to_pylist()
            bad_rows = check.bad_rows.set_column(
                0, "landed_file", pa.array([as_dbt_reads(paths, f) for f in files], pa.string())
            )
            con.register("bad_rows", bad_rows)
            con.execute(
                "insert into ops.quarantined_rows by name "
                "select *, ? as quarantined_at from bad_rows",
                [utc_now()],
            )
            con.unregister("bad_rows")


def _write_erasure_log(
    con: duckdb.DuckDBPyConnection, paths: Paths, entries: list[dict[str, object]]
) -> None:
    table = ops_tables(paths)["erasure_log"]
    create_tables(con, (table,))
    con.execute("delete from ops.erasure_log")
    names = table.column_names
    for entry in entries:
        con.execute(
            f"insert into ops.erasure_log ({', '.join(names)}) values "
            f"({', '.join('?' for _ in names)})",
            [entry[n] for n in names],
        )


def landed_batches(paths: Paths) -> list[LandedBatch]:
    """Every landed file with its recorded checksum, as dbt's sources read it."""
    batches = []
    for entity in ENTITIES:
        for path in landed_files(paths.raw_dir, entity):
            recorded = read_manifest(paths.raw_dir, path.stem).get(entity)
            batches.append(
                LandedBatch(
                    landed_file=as_dbt_reads(paths, str(path)),
                    entity=entity,
                    sha256=recorded.sha256 if recorded else "",
                )
            )
    return batches


def _quarantined(paths: Paths, check: LandedCheck) -> frozenset[tuple[str, int]]:
    files = [as_dbt_reads(paths, f) for f in check.bad_rows.column("landed_file").to_pylist()]
    rows = check.bad_rows.column("file_row_number").to_pylist()
    return frozenset(zip(files, rows, strict=True))


def run_space_need(paths: Paths) -> SpaceNeed:
    """What a run needs free beside the published warehouse (`publishing.space`)."""
    landed = sum(f.stat().st_size for e in ENTITIES for f in landed_files(paths.raw_dir, e))
    return space_need(paths.warehouse_dir, paths.warehouse_path, landed)


def warehouse_run(
    paths: Paths,
    command: str,
    body: Body,
    settings: PublishSettings,
    *,
    start: Start,
    progress: Progress,
    full_refresh: bool = False,
) -> RunRecord:
    """Run `body` on a build and publish it if every check passes.

    `start` (see `Start`): a nightly that must refresh fully starts from a new file
    carrying only the Python steps' history; every other run from a byte copy of the
    published file. `full_refresh`: refresh the landed-data models fully even when an
    incremental build would do.
    Raises a MovierecError (busy, bad input, no disk space, failed dbt test, audit...) or
    the body's error otherwise; nothing is published then.
    """
    need = run_space_need(paths)
    check_space(need)
    try:
        return _run(paths, command, body, settings, start, full_refresh, progress)
    except Exception as exc:
        if is_disk_full(exc):
            raise disk_full(need) from exc
        if isinstance(exc, (duckdb.OutOfMemoryException, OutOfMemoryError)):
            raise _out_of_memory(paths, exc) from exc
        raise


def _out_of_memory(paths: Paths, exc: Exception) -> OutOfMemoryError:
    """Out of memory in a run (a Python step's DuckDB, or dbt's): the step it stopped after."""
    steps = read_run_records(paths)[-1].steps
    after = f"after step '{steps[-1]['step']}'" if steps else "before its first step"
    inside = exc.where if isinstance(exc, OutOfMemoryError) else ""
    return OutOfMemoryError(f", the run stopped {after}{inside}", paths.memory_limit)


def _start_build(
    txn: Transaction,
    paths: Paths,
    start: Start,
    landed: LandedCheck,
    quarantine: bool,
    forgotten: frozenset[int],
    full_refresh: bool,
) -> tuple[Paths, BuildPlan | None]:
    """Start the run's build as `start` says; for a run that builds the landed-data models,
    plan how (docs/incremental.md) and record the plan in the build's ops tables."""
    if start == "step":
        return txn.start_copy(carried_tables(paths)), None
    batches = landed_batches(paths)
    fingerprint = project_fingerprint(paths.dbt_project_dir)
    plan = plan_build(
        read_built_from(paths.warehouse_path),
        batches,
        fingerprint,
        _quarantined(paths, landed) if quarantine else frozenset(),
        requested=(
            f"erasure of {len(forgotten)} users" if forgotten
            else "--full-refresh" if full_refresh
            else None
        ),
    )  # fmt: skip
    if start == "nightly" and not plan.incremental:
        build = txn.start_fresh(carried_tables(paths), forgotten)
    else:
        build = txn.start_copy(carried_tables(paths))
    with duckdb.connect(str(build.warehouse_path)) as con:
        create_tables(con, tuple(ops_tables(paths).values()))
        # the data decides last: a re-delivery turns the copy's build into a full refresh
        reason = plan.incremental and redelivered(con, paths.data_dir, plan.new_files)
        if reason:
            plan = BuildPlan("full refresh", reason, plan.new_files)
        record_build(con, plan, batches, txn.record.run_id, fingerprint, utc_now())
    return build, plan


def _run(
    paths: Paths,
    command: str,
    body: Body,
    settings: PublishSettings,
    start: Start,
    full_refresh: bool,
    progress: Progress,
) -> RunRecord:
    with transaction(paths, command, progress) as txn:
        pending = pending_erasures(paths)
        if pending and start != "nightly":
            raise RunFailedError(
                f"{len(pending)} erasure request(s) are pending; only `movierec nightly` "
                "(which writes a fresh warehouse) may publish until they are applied"
            )
        landed = check_landing(paths, settings.on_bad_rows)
        quarantine = settings.on_bad_rows == "quarantine"
        if landed.bad_rows.num_rows and quarantine:
            for problem in landed.row_problems:
                progress(f"quarantined: {problem}")
        forgotten = frozenset(u for r in pending for u in r.user_ids)
        build, plan = _start_build(txn, paths, start, landed, quarantine, forgotten, full_refresh)
        if plan is not None:
            progress(
                f"landed-data models: {plan.mode}, {len(plan.new_files)} new landed file(s)"
                + (f" ({plan.reason})" if plan.reason else "")
            )
        _write_quarantine(paths, build, landed, quarantine)
        txn.step("check + stage")
        expected_run = body(Run(txn, forgotten, landed, plan))
        txn.audit(
            AUDITED_TABLES,
            settings.audit,
            [lambda query: latest_run_failures(query, expected_run)],
        )
        txn.step("audit")
        entries = log_entries(pending, utc_now(), txn.record.run_id)
        txn.publish(
            settings.keep_versions,
            purge_older=bool(pending),
            before=lambda con: _write_erasure_log(con, paths, [*erasure_log(paths), *entries]),
        )
        complete_erasures(paths, entries)
        if pending:
            progress(f"erasure of {len(forgotten)} users applied; older versions deleted")
    return txn.record
