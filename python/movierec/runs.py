"""One run that changes the warehouse: lock, check, stage, build, audit, publish, log.

Every command that writes the warehouse (nightly, build, train, recommend, evaluate) goes
through `published_run`, so each is all-or-nothing for the warehouse's readers.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb

from movierec.config import Paths
from movierec.contract import RawContractError, parse_contract
from movierec.erasure import (
    complete_erasures,
    erasure_log,
    log_entries,
    pending_erasures,
)
from movierec.landing import LandedCheck, check_landed
from movierec.outputs import OutputTable, create_tables, output_tables
from movierec.publish import (
    AuditError,
    AuditSettings,
    RunRecord,
    audit,
    clean_up,
    exclusive,
    new_run_id,
    ops_tables,
    publish,
    stage_copy,
    stage_fresh,
    utc_now,
    write_ops_log,
    write_run_record,
)

BadRows = Literal["fail", "quarantine"]


class RunFailedError(RuntimeError):
    """A run stopped before publishing; the published warehouse is unchanged."""


@dataclass(frozen=True)
class PublishSettings:
    """How a run checks its input and what it keeps."""

    audit: AuditSettings = field(default_factory=AuditSettings)
    keep_versions: int = 3
    on_bad_rows: BadRows = "fail"


@dataclass
class Run:
    """What a run's body gets: the staged warehouse and the run's record."""

    staged: Paths
    record: RunRecord
    forgotten: frozenset[int]
    landed: LandedCheck
    _mark: float = field(default_factory=time.perf_counter)

    def step(self, name: str) -> None:
        """Close the step that ran since the previous call under `name`."""
        now = time.perf_counter()
        self.record.step(name, now - self._mark)
        self._mark = now


# The run's body: builds into `run.staged`; returns the recommendation run it wrote, if any.
Body = Callable[[Run], str | None]


def carried_tables(paths: Paths) -> tuple[OutputTable, ...]:
    """History a fresh warehouse copies from the published one: what Python appended."""
    return output_tables(paths.ml_outputs_sources_yml.read_text(), "ml_outputs")


def _check_landed(paths: Paths, on_bad_rows: BadRows) -> LandedCheck:
    contract = parse_contract(paths.sources_yml.read_text())
    check = check_landed(paths.raw_dir, contract, utc_now())
    fatal = check.file_problems + (check.row_problems if on_bad_rows == "fail" else ())
    if fatal:
        raise RawContractError(fatal)
    return check


def _write_quarantine(paths: Paths, staged: Paths, check: LandedCheck, quarantine: bool) -> None:
    with duckdb.connect(str(staged.warehouse_path)) as con:
        create_tables(con, ops_tables(paths))
        con.execute("delete from ops.quarantined_rows")
        if quarantine and check.bad_rows.num_rows:
            con.register("bad_rows", check.bad_rows)
            con.execute(
                "insert into ops.quarantined_rows by name "
                "select *, ? as quarantined_at from bad_rows",
                [utc_now()],
            )
            con.unregister("bad_rows")


def published_run(
    paths: Paths,
    command: str,
    body: Body,
    settings: PublishSettings,
    *,
    fresh: bool,
    progress: Callable[[str], None],
) -> RunRecord:
    """Run `body` on a staged warehouse and publish it if every check passes.

    `fresh`: start from a new file carrying only the Python steps' history (the nightly);
    otherwise from a byte copy of the published file (a single step on top of it).
    Raises WarehouseBusyError when another run holds the lock, RawContractError on bad input,
    RunFailedError / AuditError / the body's error otherwise; nothing is published then.
    """
    with exclusive(paths, command):
        for line in clean_up(paths):
            progress(f"cleaned up: {line}")
        record = RunRecord(run_id=new_run_id(), command=command, started_at=utc_now())
        write_run_record(paths, record)
        try:
            pending = pending_erasures(paths)
            if pending and not fresh:
                raise RunFailedError(
                    f"{len(pending)} erasure request(s) are pending; only `movierec nightly` "
                    "(which writes a fresh warehouse) may publish until they are applied"
                )
            mark = time.perf_counter()
            landed = _check_landed(paths, settings.on_bad_rows)
            if landed.bad_rows.num_rows and settings.on_bad_rows == "quarantine":
                for problem in landed.row_problems:
                    progress(f"quarantined: {problem}")
            forgotten = frozenset(u for r in pending for u in r.user_ids)
            if fresh:
                staged = stage_fresh(paths, record.run_id, carried_tables(paths), forgotten)
            else:
                staged = stage_copy(paths, record.run_id, carried_tables(paths))
            _write_quarantine(paths, staged, landed, settings.on_bad_rows == "quarantine")
            run = Run(staged=staged, record=record, forgotten=forgotten, landed=landed, _mark=mark)
            run.step("check + stage")
            expected_run = body(run)
            counts, failures = audit(staged, paths.warehouse_path, settings.audit, expected_run)
            record.row_counts = counts
            if failures:
                raise AuditError(failures)
            run.step("audit")
            record.outcome = "published"
            record.finished_at = utc_now()
            entries = log_entries(pending, record.finished_at, record.run_id)
            with duckdb.connect(str(staged.warehouse_path)) as con:
                write_ops_log(con, paths, [*erasure_log(paths), *entries], record)
            publish(paths, staged, record.run_id, settings.keep_versions, purge_older=bool(pending))
            write_run_record(paths, record)
            complete_erasures(paths, entries)
            if pending:
                progress(f"erasure of {len(forgotten)} users applied; older versions deleted")
            return record
        except BaseException as exc:
            record.outcome = "failed"
            record.finished_at = utc_now()
            record.error = str(exc) or type(exc).__name__
            write_run_record(paths, record)
            shutil.rmtree(paths.staged(record.run_id).warehouse_dir, ignore_errors=True)
            raise


def describe(records: Sequence[RunRecord]) -> str:
    """The run log as lines an operator reads."""
    return "\n".join(
        f"{r.run_id}  {r.command:<10} {r.outcome:<9} "
        f"{(r.seconds or 0):7.1f} s  {(r.error or '').splitlines()[0] if r.error else ''}"
        for r in records
    )
