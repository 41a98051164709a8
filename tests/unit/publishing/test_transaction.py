"""The generic transaction and audit on tiny DuckDB files: a failure publishes nothing and
is logged; an audit names what it found; publishing writes the run log into the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from movierec.errors import AuditError, PublishingError
from movierec.publishing import (
    Transaction,
    audit,
    read_run_records,
    transaction,
    version_dirs,
)
from movierec.settings import AuditSettings, Paths

REPO = Path(__file__).resolve().parents[3]
TABLES = {"main.t": ("k",)}


def _paths(tmp_path: Path) -> Paths:
    return Paths(
        project_dir=REPO, data_dir=tmp_path, warehouse_path=tmp_path / "warehouse" / "w.duckdb"
    )


def _fill(build: Paths, rows: list[int | None]) -> None:
    with duckdb.connect(str(build.warehouse_path)) as con:
        con.execute("create or replace table t (k integer)")
        con.executemany("insert into t values (?)", [[r] for r in rows])


def _failing(paths: Paths, rows: list[int | None], fail: Callable[[Transaction], None]) -> None:
    """A run on a copy of the published file that writes `rows`, then `fail`s."""
    with transaction(paths, "test", lambda _: None) as run:
        _fill(run.start_copy(()), rows)
        fail(run)


def _divide_by_zero(run: Transaction) -> None:
    _ = 1 / 0


def _publish(paths: Paths, rows: list[int | None]) -> str:
    with transaction(paths, "test", lambda _: None) as run:
        _fill(run.start_fresh((), frozenset()), rows)
        run.audit(TABLES, AuditSettings())
        run.publish(keep=2, purge_older=False)
    return run.record.run_id


def test_a_published_run_is_logged_inside_and_outside_the_file(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    run_id = _publish(paths, [1, 2, 3])
    assert run_id.startswith("p")
    (record,) = read_run_records(paths)
    assert (record.run_id, record.outcome, record.row_counts) == (
        run_id,
        "published",
        {"main.t": 3},
    )
    with duckdb.connect(str(paths.warehouse_path), read_only=True) as con:
        logged = con.execute("select run_id, outcome, command from ops.run_log").fetchall()
    assert logged == [(run_id, "published", "test")]
    assert [v.name for v in version_dirs(paths)] == [run_id]


def test_a_failing_body_publishes_nothing_and_leaves_no_build(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    first = _publish(paths, [1, 2])
    before = paths.warehouse_path.read_bytes()
    with pytest.raises(ZeroDivisionError):
        _failing(paths, [1, 2, 3], _divide_by_zero)
    assert paths.warehouse_path.read_bytes() == before
    assert list(paths.builds_dir.iterdir()) == []
    outcomes = [(r.run_id == first, r.outcome, r.error) for r in read_run_records(paths)]
    assert outcomes == [(True, "published", None), (False, "failed", "division by zero")]


def test_a_block_that_does_not_publish_is_a_failed_run(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    with pytest.raises(PublishingError, match="ended without publishing"):
        _failing(paths, [1], lambda run: None)
    assert [r.outcome for r in read_run_records(paths)] == ["failed"]
    assert not paths.warehouse_path.exists()
    assert list(paths.builds_dir.iterdir()) == []


def test_audit_failure_names_table_nulls_and_ratio(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    _publish(paths, [1, 2])
    checks = [lambda con: ["own check failed"]]
    with pytest.raises(AuditError) as raised:
        _failing(
            paths, [1, 2, 3, 4, 5, None], lambda run: run.audit(TABLES, AuditSettings(), checks)
        )
    assert raised.value.failures == (
        "main.t: 1 rows with a NULL key (k)",
        "own check failed",
        "main.t: 6 rows against 2 published (ratio 3.000, allowed 0.5..2)",
    )


def test_audit_reports_a_missing_table(tmp_path: Path) -> None:
    built = tmp_path / "built.duckdb"
    duckdb.connect(str(built)).close()
    counts, failures = audit(built, None, TABLES, AuditSettings())
    assert (counts, failures) == ({}, ["main.t is missing"])
