"""Floor 3: write-audit-publish, generic. A lock, build folders, an audit, an atomic swap,
retained versions, rollback, and the run log. It names no table of the product: callers
pass the tables to audit and their own checks."""

from movierec.publishing.audit import Check, Query, audit, audit_tables, row_counts
from movierec.publishing.linked import LinkedVersions
from movierec.publishing.lock import exclusive
from movierec.publishing.runlog import (
    RunRecord,
    describe,
    logged_run,
    mark_dead_runs,
    new_run_id,
    ops_tables,
    read_run_records,
    run_log_rows,
    utc_now,
    write_run_log,
    write_run_record,
)
from movierec.publishing.space import SpaceNeed, check_space, disk_full, is_disk_full, space_need
from movierec.publishing.transaction import Transaction, transaction
from movierec.publishing.versions import (
    check_published,
    clean_up,
    damage,
    publish,
    published_version,
    rollback,
    version_dirs,
)

__all__ = [
    "Check",
    "LinkedVersions",
    "Query",
    "RunRecord",
    "SpaceNeed",
    "Transaction",
    "audit",
    "audit_tables",
    "check_published",
    "check_space",
    "clean_up",
    "damage",
    "describe",
    "disk_full",
    "exclusive",
    "is_disk_full",
    "logged_run",
    "mark_dead_runs",
    "new_run_id",
    "ops_tables",
    "publish",
    "published_version",
    "read_run_records",
    "rollback",
    "row_counts",
    "run_log_rows",
    "space_need",
    "transaction",
    "utc_now",
    "version_dirs",
    "write_run_log",
    "write_run_record",
]
