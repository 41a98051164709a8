"""One run that may publish: lock, build, audit, publish, log; all or nothing.

    with transaction(paths, "nightly", progress) as run:
        build = run.start_fresh(carried, forgotten)   # or run.start_copy(carried)
        ...                                           # write into build.warehouse_path
        run.step("dbt build")
        run.audit(tables, settings.audit, checks)
        run.publish(keep=3, purge_older=False)

Any exception inside the block marks the run failed in the run log, removes its build
folder and leaves the published warehouse as it was.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from movierec.errors import AuditError, PublishingError
from movierec.progress import Progress
from movierec.publishing.audit import Check, audit
from movierec.publishing.builds import build_copy, build_fresh
from movierec.publishing.lock import exclusive
from movierec.publishing.runlog import (
    RunRecord,
    logged_run,
    utc_now,
    write_run_log,
    write_run_record,
)
from movierec.publishing.versions import check_published, clean_up, publish
from movierec.settings import AuditSettings, Paths
from movierec.warehouse import OutputTable


@dataclass
class Transaction:
    """A run in progress: its record, and the build it writes once started."""

    paths: Paths
    record: RunRecord
    _build: Paths | None = None
    _mark: float = field(default_factory=time.perf_counter)

    @property
    def build(self) -> Paths:
        """The installation pointed at this run's build (call `start_*` first)."""
        if self._build is None:
            raise PublishingError("the run has no build yet: start_fresh or start_copy first")
        return self._build

    def step(self, name: str) -> None:
        """Close the step that ran since the previous call under `name`."""
        now = time.perf_counter()
        self.record.step(name, now - self._mark)
        self._mark = now

    def start_fresh(self, carried: Sequence[OutputTable], forgotten: frozenset[int]) -> Paths:
        """Build in a new file carrying `carried` tables (without `forgotten` users' rows)."""
        self._build = build_fresh(self.paths, carried, forgotten)
        return self._build

    def start_copy(self, carried: Sequence[OutputTable]) -> Paths:
        """Build in a byte copy of the published file."""
        self._build = build_copy(self.paths, carried)
        return self._build

    def audit(
        self,
        tables: Mapping[str, tuple[str, ...]],
        settings: AuditSettings,
        checks: Sequence[Check] = (),
    ) -> None:
        """Audit the build (see `publishing.audit`); AuditError if anything fails."""
        counts, failures = audit(
            self.build.warehouse_path, self.paths.warehouse_path, tables, settings, checks
        )
        self.record.row_counts = counts
        if failures:
            raise AuditError(failures)

    def publish(
        self,
        keep: int,
        *,
        purge_older: bool,
        before: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> Path:
        """Write the run log (and `before`'s tables) into the build, then publish it."""
        self.record.outcome = "published"
        self.record.finished_at = utc_now()
        with duckdb.connect(str(self.build.warehouse_path)) as con:
            if before is not None:
                before(con)
            write_run_log(con, self.paths, self.record)
        version = publish(self.paths, self.build, self.record.run_id, keep, purge_older=purge_older)
        write_run_record(self.paths, self.record)
        return version


@contextmanager
def transaction(paths: Paths, command: str, progress: Progress) -> Iterator[Transaction]:
    """Hold the lock, clean up after killed runs, and log the run (see the module doc)."""
    with exclusive(paths, command):
        for line in clean_up(paths):
            progress(f"cleaned up: {line}")
        check_published(paths)

        def discard(_run_id: str) -> None:
            shutil.rmtree(paths.in_build().warehouse_dir, ignore_errors=True)

        with logged_run(paths, command, discard) as record:
            yield Transaction(paths, record)
