"""Write-audit-publish: build a new warehouse file beside the published one, audit it, swap.

Readers (BI tools, notebooks, analysts) open the published file read-only. No movierec
process ever writes it: a run builds `staging/<run_id>/<name>.duckdb`, runs every dbt test
and the audit on it, moves it to `versions/<run_id>/`, and replaces the published path by a
hard link to it with one `rename(2)`. A reader sees the old file or the new one, never a
mix, and never waits; readers of the old file keep reading it until they reconnect.

The published file is always the newest retained version. A run killed at any moment
leaves it untouched; the next run (under the lock) removes what the dead one left.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from movierec.config import Paths
from movierec.outputs import OutputTable, create_tables, output_tables

# Tables the audit counts, with the key columns that must never be NULL.
AUDITED_TABLES: Mapping[str, tuple[str, ...]] = {
    "core.dim_users": ("user_id",),
    "core.dim_movies": ("movie_id",),
    "core.fct_interactions": ("interaction_id", "user_id", "movie_id"),
    "ml.ml_training_features": ("user_id", "movie_id"),
    "ml.ml_recommendations_latest": ("run_id", "user_id", "movie_id"),
}


class WarehouseBusyError(RuntimeError):
    """Another movierec process holds the warehouse lock."""


class AuditError(RuntimeError):
    """The built warehouse failed the audit; nothing was published."""

    def __init__(self, failures: Sequence[str]) -> None:
        self.failures = tuple(failures)
        lines = "\n".join(f"  - {f}" for f in self.failures)
        count = len(self.failures)
        super().__init__(f"audit failed, nothing published ({count} problems):\n{lines}")


def new_run_id(now: datetime | None = None) -> str:
    """A run id sortable by start time (UTC, microseconds)."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --- the lock -------------------------------------------------------------------------


@contextmanager
def exclusive(paths: Paths, command: str) -> Iterator[None]:
    """Hold the warehouse lock for the block, or raise WarehouseBusyError at once.

    An flock dies with its process, so a killed run never leaves the warehouse locked.
    """
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            raise WarehouseBusyError(
                f"another movierec run holds {paths.lock_path} ({holder}); "
                "it must finish before this one can start"
            ) from None
        os.ftruncate(fd, 0)
        holder = f"{command}, pid {os.getpid()}, since {utc_now():%Y-%m-%d %H:%M:%S} UTC"
        os.pwrite(fd, holder.encode(), 0)
        yield
    finally:
        os.close(fd)


# --- the run log ----------------------------------------------------------------------


@dataclass
class RunRecord:
    """What one run did; written to runs/<run_id>.json at its start and at its end."""

    run_id: str
    command: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = "running"
    error: str | None = None
    steps: list[dict[str, object]] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def step(self, name: str, seconds: float) -> None:
        self.steps.append({"step": name, "seconds": round(seconds, 3)})


def write_run_record(paths: Paths, record: RunRecord) -> None:
    payload = asdict(record)
    for key in ("started_at", "finished_at"):
        payload[key] = payload[key].isoformat() if payload[key] else None
    _write_text_atomically(paths.run_log_dir / f"{record.run_id}.json", json.dumps(payload))


def read_run_records(paths: Paths) -> list[RunRecord]:
    records = []
    for path in sorted(paths.run_log_dir.glob("*.json")):
        payload = json.loads(path.read_text())
        for key in ("started_at", "finished_at"):
            payload[key] = datetime.fromisoformat(payload[key]) if payload[key] else None
        records.append(RunRecord(**payload))
    return records


def _run_log_table(records: Sequence[RunRecord], table: OutputTable) -> pa.Table:
    rows = [
        {
            "run_id": r.run_id,
            "command": r.command,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "seconds": r.seconds,
            "outcome": r.outcome,
            "error": r.error,
            "steps": json.dumps(r.steps),
            "row_counts": json.dumps(r.row_counts),
        }
        for r in records
    ]
    columns = {name: [row[name] for row in rows] for name in table.column_names}
    return pa.table(columns) if rows else pa.table({n: pa.nulls(0) for n in table.column_names})


def ops_tables(paths: Paths) -> tuple[OutputTable, ...]:
    return output_tables(paths.ops_sources_yml.read_text(), "ops")


def write_ops_log(
    con: duckdb.DuckDBPyConnection,
    paths: Paths,
    erasures: Sequence[Mapping[str, object]],
    current: RunRecord,
) -> None:
    """Replace ops.run_log (the records on disk, with `current` as it will be once published)
    and ops.erasure_log in a staged warehouse."""
    tables = {t.name: t for t in ops_tables(paths)}
    create_tables(con, tuple(tables.values()))
    records = [r for r in read_run_records(paths) if r.run_id != current.run_id]
    run_log = _run_log_table([*records, current], tables["run_log"])
    con.execute("delete from ops.run_log")
    if run_log.num_rows:
        con.register("run_log_rows", run_log)
        con.execute("insert into ops.run_log by name select * from run_log_rows")
        con.unregister("run_log_rows")
    con.execute("delete from ops.erasure_log")
    for entry in erasures:
        names = tables["erasure_log"].column_names
        con.execute(
            f"insert into ops.erasure_log ({', '.join(names)}) values "
            f"({', '.join('?' for _ in names)})",
            [entry[n] for n in names],
        )


# --- cleaning up after a killed run ---------------------------------------------------


def version_dirs(paths: Paths) -> list[Path]:
    """Retained versions, oldest first."""
    if not paths.versions_dir.exists():
        return []
    return sorted(p for p in paths.versions_dir.iterdir() if p.is_dir())


def published_version(paths: Paths) -> Path | None:
    """The version folder whose file is (the same inode as) the published warehouse."""
    if not paths.warehouse_path.exists():
        return None
    for version in version_dirs(paths):
        candidate = version / paths.warehouse_path.name
        if candidate.exists() and candidate.samefile(paths.warehouse_path):
            return version
    return None


def clean_up(paths: Paths) -> list[str]:
    """Remove what a killed run left behind; call under the lock. Says what it removed."""
    removed: list[str] = []
    if paths.staging_dir.exists():
        for leftover in sorted(paths.staging_dir.iterdir()):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            removed.append(f"unpublished build {leftover.name}")
    current = published_version(paths)
    for version in version_dirs(paths):
        if current is not None and version.name > current.name:
            # moved to versions/ but killed before the swap: never published
            shutil.rmtree(version)
            removed.append(f"unpublished version {version.name}")
    for stray in (_swap_path(paths), _swap_path(paths, "report.html")):
        if stray.exists():
            stray.unlink()
            removed.append(f"half-swapped {stray.name}")
    wal = paths.warehouse_path.with_name(paths.warehouse_path.name + ".wal")
    if wal.exists():
        wal.unlink()
        removed.append(f"stale {wal.name} beside the published file")
    current = published_version(paths)
    for record in read_run_records(paths):
        if record.outcome != "running":
            continue
        if current is not None and current.name == record.run_id:
            record.outcome = "published"  # ended between the swap and writing its record
        else:
            record.outcome = "killed"
            record.error = "the process ended without finishing (killed?); cleaned up later"
        write_run_record(paths, record)
        removed.append(f"run {record.run_id} marked {record.outcome}")
    return removed


# --- staging --------------------------------------------------------------------------


def _new_staging(paths: Paths, run_id: str) -> Paths:
    staged = paths.staged(run_id)
    staged.warehouse_dir.mkdir(parents=True, exist_ok=False)
    return staged


def stage_fresh(
    paths: Paths, run_id: str, carried: Sequence[OutputTable], forgotten: frozenset[int]
) -> Paths:
    """A new, freshly written warehouse holding only the history dbt cannot rebuild.

    `carried` tables (what the Python steps appended over past runs) are copied from the
    published warehouse, without the rows of `forgotten` users; dbt rebuilds the rest from
    the landed files. A fresh file holds no deleted rows in its free blocks.
    """
    staged = _new_staging(paths, run_id)
    with duckdb.connect(str(staged.warehouse_path)) as con:
        create_tables(con, tuple(carried))
        if paths.warehouse_path.exists():
            con.execute(f"attach '{_sql_path(paths.warehouse_path)}' as published (read_only)")
            con.execute("create temp table forgotten (user_id bigint)")
            if forgotten:
                con.executemany("insert into forgotten values (?)", [[u] for u in forgotten])
            published: dict[str, set[str]] = {}
            for schema, name, column in con.execute(
                "select schema_name, table_name, column_name from duckdb_columns() "
                "where database_name = 'published'"
            ).fetchall():
                published.setdefault(f"{schema}.{name}", set()).add(column)
            for table in carried:
                # columns added since the published file was written start out NULL
                shared = [c for c in table.column_names if c in published.get(table.qualified, ())]
                if not shared:
                    continue
                where = (
                    "where user_id not in (select user_id from forgotten)"
                    if "user_id" in shared
                    else ""
                )
                columns = ", ".join(shared)
                con.execute(
                    f"insert into {table.qualified} ({columns}) "
                    f"select {columns} from published.{table.qualified} {where}"
                )
            con.execute("detach published")
    return staged


def stage_copy(paths: Paths, run_id: str, carried: Sequence[OutputTable]) -> Paths:
    """A byte copy of the published warehouse, for a single step run on top of it, with
    the `carried` tables brought to their current columns."""
    staged = _new_staging(paths, run_id)
    if paths.warehouse_path.exists():
        shutil.copyfile(paths.warehouse_path, staged.warehouse_path)
        with duckdb.connect(str(staged.warehouse_path)) as con:
            create_tables(con, tuple(carried))
    return staged


# --- the audit ------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditSettings:
    """Bounds a built warehouse must meet before it replaces the published one."""

    # rows of each audited table / rows in the published warehouse, when both exist
    min_row_ratio: float = 0.5
    max_row_ratio: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.min_row_ratio <= 1 <= self.max_row_ratio:
            raise ValueError(
                "row bounds need 0 < min_row_ratio <= 1 <= max_row_ratio, got "
                f"{self.min_row_ratio} and {self.max_row_ratio}"
            )


def _existing(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ? "
            "union all select schema_name, view_name from duckdb_views() "
            "where database_name = ? and not internal",
            [database, database],
        ).fetchall()
    }


def row_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    """Rows of every audited table present in `database` (an attached catalog name)."""
    present = _existing(con, database)
    counts = {}
    for table in AUDITED_TABLES:
        if table in present:
            (count,) = con.execute(f"select count(*) from {database}.{table}").fetchall()[0]
            counts[table] = int(count)
    return counts


def audit(
    staged: Paths, published: Path | None, settings: AuditSettings, expected_run: str | None
) -> tuple[dict[str, int], list[str]]:
    """Audit a built warehouse: one run id across the published tables, no NULL keys, row
    counts within bounds of the published warehouse. Returns the counts and the failures."""
    failures: list[str] = []
    with duckdb.connect(str(staged.warehouse_path), read_only=True) as con:
        (database,) = con.execute("select current_database()").fetchall()[0]
        counts = row_counts(con, database)
        present = _existing(con, database)
        for table, keys in AUDITED_TABLES.items():
            if table not in present:
                failures.append(f"{table} is missing")
                continue
            condition = " or ".join(f"{k} is null" for k in keys)
            (nulls,) = con.execute(f"select count(*) from {table} where {condition}").fetchall()[0]
            if nulls:
                failures.append(f"{table}: {nulls} rows with a NULL key ({', '.join(keys)})")
        failures += _run_id_failures(con, expected_run)
        if published is not None and published.exists():
            con.execute(f"attach '{_sql_path(published)}' as published (read_only)")
            before = row_counts(con, "published")
            con.execute("detach published")
            for table, rows in counts.items():
                previous = before.get(table)
                if not previous:
                    continue
                ratio = rows / previous
                if not settings.min_row_ratio <= ratio <= settings.max_row_ratio:
                    failures.append(
                        f"{table}: {rows:,} rows against {previous:,} published "
                        f"(ratio {ratio:.3f}, allowed {settings.min_row_ratio:g}.."
                        f"{settings.max_row_ratio:g})"
                    )
    return counts, failures


def _run_id_failures(con: duckdb.DuckDBPyConnection, expected_run: str | None) -> list[str]:
    """Every table that names the latest recommendation run must name the same one."""
    latest = {
        "ml_outputs.recommendation_runs": "select max_by(run_id, generated_at) "
        "from ml_outputs.recommendation_runs",
        "ml.ml_recommendations_latest": "select min(run_id) from ml.ml_recommendations_latest",
        "ml.ml_recommendations": "select max_by(run_id, generated_at) from ml.ml_recommendations",
        "kpi.rpt_recommendation_runs": "select max_by(run_id, generated_at) "
        "from kpi.rpt_recommendation_runs",
    }
    seen = {table: con.execute(sql).fetchall()[0][0] for table, sql in latest.items()}
    failures = []
    (runs_in_latest,) = con.execute(
        "select count(distinct run_id) from ml.ml_recommendations_latest"
    ).fetchall()[0]
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


# --- publishing -----------------------------------------------------------------------


def _swap_path(paths: Paths, name: str | None = None) -> Path:
    return paths.warehouse_dir / f".{name or paths.warehouse_path.name}.swap"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_text_atomically(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text)
    _fsync(tmp)
    tmp.replace(target)


def _swap_in(paths: Paths, version: Path) -> None:
    """Point the published path (and the report beside it) at `version`, atomically each."""
    swap = _swap_path(paths)
    swap.unlink(missing_ok=True)
    os.link(version / paths.warehouse_path.name, swap)
    swap.replace(paths.warehouse_path)
    report = version / paths.report_path.name
    if report.exists():
        report_swap = _swap_path(paths, paths.report_path.name)
        shutil.copyfile(report, report_swap)
        _fsync(report_swap)
        report_swap.replace(paths.report_path)
    _fsync(paths.warehouse_dir)


def publish(paths: Paths, staged: Paths, run_id: str, keep: int, *, purge_older: bool) -> Path:
    """Make the audited staged warehouse the published one; keep the newest `keep` versions
    (only the new one when `purge_older`, e.g. after an erasure). Returns the version folder."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    with duckdb.connect(str(staged.warehouse_path)) as con:
        con.execute("checkpoint")
    wal = staged.warehouse_path.with_name(staged.warehouse_path.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} survived a checkpoint; refusing to publish")
    _fsync(staged.warehouse_path)
    paths.versions_dir.mkdir(parents=True, exist_ok=True)
    version = paths.versions_dir / run_id
    staged.warehouse_dir.replace(version)
    _fsync(paths.versions_dir)
    _swap_in(paths, version)
    retained = version_dirs(paths)
    for old in retained[: -1 if purge_older else -keep]:
        shutil.rmtree(old)
    return version


def rollback(paths: Paths) -> tuple[str, str]:
    """Publish the version before the current one; drop the current. Returns (from, to)."""
    current = published_version(paths)
    if current is None:
        raise RuntimeError(f"{paths.warehouse_path} is no retained version: nothing to roll back")
    older = [v for v in version_dirs(paths) if v.name < current.name]
    if not older:
        raise RuntimeError(f"no version older than {current.name} is retained")
    _swap_in(paths, older[-1])
    shutil.rmtree(current)
    return current.name, older[-1].name
