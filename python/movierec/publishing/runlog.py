"""The run log: one JSON record per run that tried to publish, kept outside any warehouse
(runs/<run_id>.json), and copied into each published warehouse as ops.run_log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from movierec.errors import PublishingError
from movierec.files import write_text_atomically
from movierec.settings import Paths
from movierec.warehouse import OutputTable, create_tables, output_tables


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_run_id(now: datetime | None = None) -> str:
    """`p` + the UTC start time (microseconds): a publishing run, sortable by start."""
    return (now or datetime.now(UTC)).strftime("p%Y%m%dT%H%M%S%fZ")


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
    write_text_atomically(paths.run_log_dir / f"{record.run_id}.json", json.dumps(payload))


def read_run_records(paths: Paths) -> list[RunRecord]:
    records = []
    for path in sorted(paths.run_log_dir.glob("*.json")):
        payload = json.loads(path.read_text())
        for key in ("started_at", "finished_at"):
            payload[key] = datetime.fromisoformat(payload[key]) if payload[key] else None
        records.append(RunRecord(**payload))
    return records


def describe(records: Sequence[RunRecord]) -> str:
    """The run log as lines an operator reads."""
    return "\n".join(
        f"{r.run_id}  {r.command:<10} {r.outcome:<9} "
        f"{(r.seconds or 0):7.1f} s  {(r.error or '').splitlines()[0] if r.error else ''}"
        for r in records
    )


def ops_tables(paths: Paths) -> dict[str, OutputTable]:
    """The tables of the `ops` source (run log, erasure log, quarantine), by name."""
    return {t.name: t for t in output_tables(paths.ops_sources_yml.read_text(), "ops")}


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


def run_log_rows(paths: Paths, current: RunRecord) -> pa.Table:
    """ops.run_log's rows: the records on disk, with `current` as it will be once published."""
    records = [r for r in read_run_records(paths) if r.run_id != current.run_id]
    return _run_log_table([*records, current], ops_tables(paths)["run_log"])


def write_run_log(con: duckdb.DuckDBPyConnection, paths: Paths, current: RunRecord) -> None:
    """Replace ops.run_log in a built warehouse with `run_log_rows`."""
    create_tables(con, (ops_tables(paths)["run_log"],))
    run_log = run_log_rows(paths, current)
    con.execute("delete from ops.run_log")
    if run_log.num_rows:
        con.register("run_log_rows", run_log)
        con.execute("insert into ops.run_log by name select * from run_log_rows")
        con.unregister("run_log_rows")


@contextmanager
def logged_run(paths: Paths, command: str, discard: Callable[[str], None]) -> Iterator[RunRecord]:
    """Log a run that may publish (call under the lock): its record is written at its
    start; an exception inside the block calls `discard` with the run id (to remove the
    run's build),
    marks the run failed with the error and re-raises. The block sets the outcome to
    "published" once it published; ending otherwise is a failure too."""
    record = RunRecord(run_id=new_run_id(), command=command, started_at=utc_now())
    write_run_record(paths, record)
    try:
        yield record
        if record.outcome != "published":
            raise PublishingError(f"run {record.run_id} ended without publishing")
    except BaseException as exc:
        # the build goes first: on a full disk, removing it frees the space the record needs
        discard(record.run_id)
        record.outcome = "failed"
        record.finished_at = utc_now()
        record.error = str(exc) or type(exc).__name__
        write_run_record(paths, record)
        raise


def mark_dead_runs(paths: Paths, published_run: str | None) -> list[str]:
    """Under the lock, a record still "running" is a run that died: "published" when it is
    `published_run` (it ended between the swap and writing its record), else "killed".
    Says what it marked."""
    marked = []
    for record in read_run_records(paths):
        if record.outcome != "running":
            continue
        if record.run_id == published_run:
            record.outcome = "published"
        else:
            record.outcome = "killed"
            record.error = "the process ended without finishing (killed?); cleaned up later"
        write_run_record(paths, record)
        marked.append(f"run {record.run_id} marked {record.outcome}")
    return marked
