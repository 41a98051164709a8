"""When a build may continue the published warehouse with new landed files only."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movierec.warehouse import (
    BuiltFrom,
    LandedBatch,
    plan_build,
    project_fingerprint,
    redelivered,
)
from tests.conftest import REPO

OLD = (
    LandedBatch("raw/users/20250101T000000000000Z.parquet", "users", "a"),
    LandedBatch("raw/interactions/20250101T000000000000Z.parquet", "interactions", "b"),
)
NEW = LandedBatch("raw/interactions/20250102T000000000000Z.parquet", "interactions", "c")
BUILT = BuiltFrom(
    files={b.landed_file: b.sha256 for b in OLD},
    project_fingerprint="f",
    quarantined=frozenset({(OLD[1].landed_file, 3)}),
)


def test_new_files_alone_build_incrementally() -> None:
    plan = plan_build(BUILT, [*OLD, NEW], "f", {(OLD[1].landed_file, 3)})
    assert (plan.mode, plan.reason, plan.new_files) == (
        "incremental",
        None,
        frozenset({NEW.landed_file}),
    )
    assert plan.dbt_args == ()
    nothing_new = plan_build(BUILT, OLD, "f", {(OLD[1].landed_file, 3), (NEW.landed_file, 0)})
    assert (nothing_new.mode, nothing_new.new_files) == ("incremental", frozenset())


@pytest.mark.parametrize(
    ("built", "landed", "fingerprint", "quarantined", "requested", "reason"),
    [
        (BUILT, [*OLD, NEW], "f", {(OLD[1].landed_file, 3)}, "--full-refresh", "--full-refresh"),
        (None, OLD, "f", set(), None, "records no build to continue from"),
        (BUILT, OLD, "g", {(OLD[1].landed_file, 3)}, None, "the dbt project changed"),
        (BUILT, OLD[1:], "f", {(OLD[1].landed_file, 3)}, None,
         "raw/users/20250101T000000000000Z.parquet was built but is no longer landed"),
        (BUILT, [OLD[0], LandedBatch(OLD[1].landed_file, "interactions", "x")], "f",
         {(OLD[1].landed_file, 3)}, None, "changed since it was built (sha256 differs)"),
        (BUILT, [*OLD, LandedBatch("raw/users/20241231T000000000000Z.parquet", "users", "d")],
         "f", {(OLD[1].landed_file, 3)}, None, "sorts before a batch already built"),
        (BUILT, OLD, "f", set(), None, "the quarantined rows of files already built changed"),
    ],
)  # fmt: skip
def test_anything_but_new_files_refreshes_fully(
    built: BuiltFrom | None,
    landed: list[LandedBatch],
    fingerprint: str,
    quarantined: set[tuple[str, int]],
    requested: str | None,
    reason: str,
) -> None:
    plan = plan_build(built, landed, fingerprint, quarantined, requested)
    assert plan.mode == "full refresh"
    assert plan.reason is not None
    assert reason in plan.reason
    assert plan.dbt_args == ("--full-refresh",)


def test_a_new_file_re_delivering_a_built_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "raw" / "users").mkdir(parents=True)
    pq.write_table(pa.table({"user_id": [7, 8, 9]}), tmp_path / "raw/users/b.parquet")
    pq.write_table(pa.table({"user_id": [10]}), tmp_path / "raw/users/c.parquet")
    with duckdb.connect() as con:
        con.execute("create schema staging")
        con.execute(
            "create table staging.stg_landing__users as select range as user_id from range(1, 9)"
        )
        assert redelivered(con, tmp_path, ["raw/users/c.parquet"]) is None
        assert redelivered(con, tmp_path, ["raw/users/b.parquet", "raw/users/c.parquet"]) == (
            "raw/users/b.parquet re-delivers 2 users already built (column user_id, e.g. 7)"
        )


def test_the_fingerprint_follows_models_macros_and_the_project_file(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    for name in ("models/a.sql", "macros/m.sql", "tests/t.sql", "dbt_project.yml"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(name)
    first = project_fingerprint(project)
    (project / "tests" / "t.sql").write_text("a data test builds nothing")
    assert project_fingerprint(project) == first
    (project / "models" / "a.sql").write_text("select 2")
    assert project_fingerprint(project) != first
    assert len(project_fingerprint(REPO / "dbt_project")) == 64
