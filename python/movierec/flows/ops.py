"""What `rollback` and `runs` do: operate on published versions and the run log."""

from __future__ import annotations

from collections.abc import Callable

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
from movierec.settings import Paths

Progress = Callable[[str], None]


def roll_back(paths: Paths, progress: Progress) -> tuple[str, str]:
    """Publish the previous retained version again, drop the current one, log it.
    Returns (dropped, restored) version ids."""
    record = RunRecord(run_id=new_run_id(), command="rollback", started_at=utc_now())
    with exclusive(paths, "rollback"):
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
