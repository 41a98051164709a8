"""What `rollback` and `runs` do: operate on published versions and the run log."""

from __future__ import annotations

from collections.abc import Callable

from movierec.flows.spark import spark_versions
from movierec.publishing import (
    RunRecord,
    clean_up,
    describe,
    exclusive,
    new_run_id,
    read_run_records,
    rollback,
    utc_now,
    write_run_record,
)
from movierec.settings import Engine, Paths

Progress = Callable[[str], None]


def roll_back(paths: Paths, progress: Progress, engine: Engine = "duckdb") -> tuple[str, str]:
    """Publish the previous retained version of `engine`'s warehouse again, drop the
    current one, log it. Returns (dropped, restored) version ids."""
    command = "rollback" if engine == "duckdb" else f"rollback --engine {engine}"
    record = RunRecord(run_id=new_run_id(), command=command, started_at=utc_now())
    with exclusive(paths, command):
        if engine == "spark":
            dropped, restored = spark_versions(paths, progress).rollback()
        else:
            for line in clean_up(paths):
                progress(f"cleaned up: {line}")
            dropped, restored = rollback(paths)
        record.outcome, record.finished_at = "published", utc_now()
        record.error = f"rolled back from {dropped} to {restored}"
        write_run_record(paths, record)
    return dropped, restored


def latest_runs(paths: Paths, last: int) -> str:
    """The `last` latest records of the run log, oldest first, as an operator reads them."""
    return describe(read_run_records(paths)[-last:])
