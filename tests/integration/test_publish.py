"""Write-audit-publish: readers, kills, failing tests and audits, bad input, erasure.

Every test works on its own clone of one small published installation (two nightlies, so
two retained versions) and checks the published file itself: its bytes, what readers see.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from movierec.land import landed_files, record_landed
from movierec.publishing import exclusive, read_run_records, utc_now, version_dirs
from movierec.settings import Paths
from tests.integration.harness import (
    N_INTERACTIONS,
    N_MOVIES,
    N_USERS,
    REPO,
    clone,
    digest,
    query,
    run_cli,
)

pytestmark = pytest.mark.integration

LATER_BATCH = "29990101T000000000000Z.parquet"  # sorts after every landed batch


def _latest_run(paths: Paths) -> str:
    run = query(paths, "select min(run_id) as run_id from ml.ml_recommendations_latest")
    return str(run["run_id"][0])


def test_readers_are_never_blocked_and_never_see_a_mix(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    """Two reader processes query the published file in a loop through a whole nightly."""
    paths = clone(installation, tmp_path)
    before = _latest_run(paths)
    stop = tmp_path / "stop"
    logs = [tmp_path / f"reader{i}.jsonl" for i in range(2)]
    readers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.reader",
                str(paths.warehouse_path),
                str(stop),
                str(log),
            ],
            cwd=REPO,
        )
        for log in logs
    ]
    time.sleep(1.0)
    nightly = run_cli(paths, "nightly")
    time.sleep(1.0)
    stop.touch()
    for reader in readers:
        assert reader.wait(timeout=60) == 0
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr

    reads = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    assert [r["error"] for r in reads if "error" in r] == []
    assert len(reads) > 50
    mixed = [r["runs"] for r in reads if len(set(r["runs"])) != 1]
    assert mixed == []
    after = _latest_run(paths)  # a new connection sees the new run
    assert after != before
    assert {r["runs"][0] for r in reads} == {before, after}
    for log in logs:  # each reader saw the old run, then the new one after reconnecting
        seen = [json.loads(line)["runs"][0] for line in log.read_text().splitlines()]
        assert seen[0] == before
        assert seen[-1] == after
        assert seen == sorted(seen)


def test_rollback_restores_the_previous_version(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    """Two versions retained: rollback publishes the first again; a second has nothing."""
    paths = clone(installation, tmp_path)
    first, second = version_dirs(paths)
    assert paths.warehouse_path.samefile(second / paths.warehouse_path.name)
    rolled = run_cli(paths, "rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert paths.warehouse_path.samefile(first / paths.warehouse_path.name)
    assert version_dirs(paths) == [first]
    assert paths.report_path.read_bytes() == (first / "report.html").read_bytes()
    again = run_cli(paths, "rollback")
    assert again.returncode == 1
    assert f"no version older than {first.name}" in again.stderr


def test_a_second_run_is_refused_while_one_holds_the_lock(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    paths = clone(installation, tmp_path)
    before = digest(paths.warehouse_path)
    with exclusive(paths, "nightly"):
        refused = run_cli(paths, "nightly")
    assert refused.returncode == 1
    assert "another movierec run holds" in refused.stderr
    assert "nightly, pid" in refused.stderr
    assert digest(paths.warehouse_path) == before


def test_a_nightly_killed_anywhere_leaves_the_published_file_as_it_was(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    """SIGKILL at 4 random moments (dbt's child dies with it); then a rerun completes.
    (`benchmarks/bench_faults.py` kills 20 times, at a larger scale.)"""
    paths = clone(installation, tmp_path)
    _, seconds = installation
    rng = random.Random(20261124)
    env = {**os.environ, "MOVIEREC_PROJECT_DIR": str(REPO), **paths.dbt_env()}
    published = digest(paths.warehouse_path)
    kills = 0
    for attempt in range(8):
        if kills == 4:
            break
        retrain = ["--retrain"] if attempt % 2 == 0 else []
        process = subprocess.Popen(
            [sys.executable, "-m", "movierec", "nightly", *retrain],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 0.95 * seconds))
        if process.poll() is not None:  # finished first: it published; go on from there
            published = digest(paths.warehouse_path)
            continue
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        assert digest(paths.warehouse_path) == published
        assert query(paths, "select count(*) as n from core.dim_users")["n"][0] == N_USERS
    assert kills == 4

    rerun = run_cli(paths, "nightly")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert digest(paths.warehouse_path) != published
    assert list(paths.builds_dir.iterdir()) == []
    outcomes = [r.outcome for r in read_run_records(paths)]
    assert "running" not in outcomes
    assert outcomes.count("killed") >= 2  # kills before a record was written leave none
    assert outcomes[-1] == "published"


def test_a_failing_dbt_test_publishes_nothing(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    paths = clone(installation, tmp_path)
    project = tmp_path / "project"
    shutil.copytree(
        REPO / "dbt_project",
        project / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    shutil.copy(REPO / "profiles.yml", project)
    (project / "dbt_project" / "tests" / "assert_always_fails.sql").write_text(
        "select 1 as failure\n"
    )
    broken = replace(paths, project_dir=project)
    before = digest(paths.warehouse_path)
    failed = run_cli(broken, "nightly")
    assert failed.returncode == 1
    assert "dbt build" in failed.stderr
    assert "nothing published" in failed.stderr
    assert "assert_always_fails" in failed.stdout
    assert digest(paths.warehouse_path) == before
    record = read_run_records(paths)[-1]
    assert (record.command, record.outcome) == ("nightly", "failed")
    assert list(paths.builds_dir.iterdir()) == []


def test_an_audit_failure_publishes_nothing(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    """Twice the users against a 1.5x bound: the audit names the table and the ratio."""
    paths = clone(installation, tmp_path)
    more = run_cli(
        paths, "simulate", "--users", str(2 * N_USERS), "--movies", str(N_MOVIES),
        "--interactions", str(N_INTERACTIONS), "--seed", "12",
    )  # fmt: skip
    assert more.returncode == 0, more.stderr
    before = digest(paths.warehouse_path)
    audited = run_cli(paths, "nightly", "--max-row-ratio", "1.5")
    assert audited.returncode == 1
    assert "audit failed" in audited.stderr
    assert f"core.dim_users: {2 * N_USERS} rows against {N_USERS} published" in audited.stderr
    assert "ratio 2.000, allowed 0.5..1.5" in audited.stderr
    assert digest(paths.warehouse_path) == before
    assert "audit failed" in (read_run_records(paths)[-1].error or "")


def _later_batch(paths: Paths, entity: str, change: Callable[[pa.Table], pa.Table]) -> Path:
    """Land a changed copy of an entity's first five landed rows as a newer batch, past
    landing's checks (as under an older, looser contract) but recorded in its manifest."""
    table = change(pq.read_table(landed_files(paths.raw_dir, entity)[0]).slice(0, 5))
    target = paths.raw_dir / entity / LATER_BATCH
    pq.write_table(table, target)
    record_landed(paths.raw_dir, {entity: target}, utc_now())
    return target


def _set(table: pa.Table, column: str, values: list[object], type_: pa.DataType) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, pa.array(values, type_))


def _truncate(paths: Paths) -> Path:
    target = _later_batch(paths, "users", lambda t: t)
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


BAD_INPUT: dict[str, tuple[str, Callable[[pa.Table], pa.Table], str]] = {
    "missing column": ("users", lambda t: t.drop_columns(["age"]), "column 'age': missing column"),
    "renamed column": (
        "users",
        lambda t: t.rename_columns(["years" if n == "age" else n for n in t.column_names]),
        "column 'years': unexpected column",
    ),
    "wrong type": (
        "users",
        lambda t: _set(t, "age", ["old"] * 5, pa.string()),
        "column 'age': wrong type: string, expected double",
    ),
    "NULL key": (
        "users",
        lambda t: _set(t, "user_id", [None, 2, 3, 4, 5], pa.int64()),
        "column 'user_id': NULL values (1 rows)",
    ),
    "duplicate key": (
        "users",
        lambda t: _set(t, "user_id", [1, 1, 3, 4, 5], pa.int64()),
        "column 'user_id': duplicate values (2 rows)",
    ),
    "age out of range": (
        "users",
        lambda t: _set(t, "age", [200.0, 30, 30, 30, 30], pa.float64()),
        "column 'age': values above 110 (1 rows)",
    ),
    "rating out of range": (
        "interactions",
        lambda t: _set(t, "rating", [9, 1, 1, 1, 1], pa.int32()),
        "column 'rating': values above 5 (1 rows)",
    ),
    "date in the future": (
        "interactions",
        lambda t: _set(
            t,
            "interacted_at",
            [t["interacted_at"][0].as_py().replace(year=2999)] * 5,
            pa.timestamp("us"),
        ),
        "column 'interacted_at': timestamps in the future",
    ),
    "unknown user": (
        "interactions",
        lambda t: _set(t, "user_id", [99_999, 1, 1, 1, 1], pa.int64()),
        "column 'user_id': unknown users",
    ),
    "unknown film": (
        "interactions",
        lambda t: _set(t, "movie_id", [99_999, 99_998, 1, 1, 1], pa.int64()),
        "column 'movie_id': unknown movies: no valid landed movies row has this key (2 rows)",
    ),
}


@pytest.mark.parametrize("case", [*BAD_INPUT, "truncated file"])
def test_bad_input_stops_the_run_and_names_file_column_and_problem(
    case: str, installation: tuple[Paths, float], tmp_path: Path
) -> None:
    paths = clone(installation, tmp_path)
    if case == "truncated file":
        target, expected = _truncate(paths), "changed after landing"
    else:
        entity, change, expected = BAD_INPUT[case]
        target = _later_batch(paths, entity, change)
    before = digest(paths.warehouse_path)
    failed = run_cli(paths, "nightly")
    assert failed.returncode == 1
    message = " ".join(failed.stderr.split())  # rich may wrap long lines
    assert f"{target}:" in message
    assert expected in message
    assert "nothing published" in message
    assert digest(paths.warehouse_path) == before


def test_bad_rows_can_be_quarantined_instead(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    """A user aged 200 (and so their viewings) and a rating of 9 go to the quarantine."""
    paths = clone(installation, tmp_path)
    _later_batch(
        paths, "users",
        lambda t: _set(
            _set(t, "user_id", [9_001, 9_002, 3, 4, 5], pa.int64()),
            "age", [200.0, 30, 30, 30, 30], pa.float64(),
        ),
    )  # fmt: skip
    _later_batch(
        paths, "interactions",
        lambda t: _set(
            _set(t, "user_id", [9_001, 9_001, 9_002, 1, 1], pa.int64()),
            "rating", [3, 3, 3, 9, 3], pa.int32(),
        ),
    )  # fmt: skip
    published = run_cli(paths, "nightly", "--on-bad-rows", "quarantine")
    assert published.returncode == 0, published.stdout + published.stderr
    assert "quarantined:" in published.stdout
    quarantine = query(
        paths,
        "select entity, column_name, problem, count(*) as n from ops.quarantined_rows "
        "group by all order by all",
    )
    assert quarantine.rows() == [
        ("interactions", "rating", "values above 5", 1),
        ("interactions", "user_id", "unknown users: no valid landed users row has this key", 2),
        ("users", "age", "values above 110", 1),
    ]
    users = query(paths, "select user_id from core.dim_users where user_id > 9000")
    assert users["user_id"].to_list() == [9_002]
    viewings = query(
        paths,
        "select count(*) filter (where user_id = 9001) as bad_user, "
        "count(*) filter (where user_id = 9002) as good_user from core.fct_interactions",
    )
    assert viewings.rows() == [(0, 1)]


def _rows_of(data_dir: Path, user_ids: list[int]) -> dict[str, int]:
    """Rows naming any of `user_ids` in every Parquet and DuckDB file under `data_dir`."""
    found: dict[str, int] = {}
    for path in data_dir.rglob("*.parquet"):
        table = pq.read_table(path)
        if "user_id" in table.column_names:
            hits = pc.sum(pc.is_in(table["user_id"], pa.array(user_ids, pa.int64()))).as_py()
            found[str(path)] = hits or 0
    for path in data_dir.rglob("*.duckdb"):
        with duckdb.connect(str(path), read_only=True) as con:
            tables = con.execute(
                "select table_schema, table_name from information_schema.columns "
                "where column_name = 'user_id'"
            ).fetchall()
            for schema, table in tables:
                (hits,) = con.execute(
                    f"select count(*) from {schema}.{table} where user_id in ?", [user_ids]
                ).fetchall()[0]
                found[f"{path}:{schema}.{table}"] = hits
    return found


def test_forgotten_users_are_in_no_table_and_no_retained_file(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    paths = clone(installation, tmp_path)
    forgotten = [5, 17]
    before = _rows_of(paths.data_dir, forgotten)
    assert sum(before.values()) > 0
    assert len(version_dirs(paths)) == 2
    model_before = query(paths, "select max(model_id) as m from ml_outputs.model_registry")

    request = run_cli(paths, "forget-user", *map(str, forgotten))
    assert request.returncode == 0, request.stderr
    refused = run_cli(paths, "build")  # a byte copy would carry them: only the nightly may
    assert refused.returncode == 1
    assert "erasure request(s) are pending" in refused.stderr
    nightly = run_cli(paths, "nightly")
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    assert "training: erasure of 2 users" in nightly.stdout

    after = _rows_of(paths.data_dir, forgotten)
    assert {k: v for k, v in after.items() if v} == {}
    assert any("versions" in k for k in after)  # the scan did read the retained version
    assert len(version_dirs(paths)) == 1
    assert query(paths, "select count(*) as n from core.dim_users")["n"][0] == N_USERS - 2
    model_after = query(paths, "select max(model_id) as m from ml_outputs.model_registry")
    assert model_after["m"][0] != model_before["m"][0]
    log = query(paths, "select users, applied_by_run from ops.erasure_log")
    assert log.rows() == [(2, version_dirs(paths)[0].name)]
    assert list((paths.erasure_dir / "pending").iterdir()) == []
    (entry,) = [json.loads(line) for line in (paths.erasure_dir / "log.jsonl").open()]
    assert "user_ids" not in entry
    assert entry["users"] == 2


def test_the_run_log_is_a_table_for_analysts(installation: tuple[Paths, float]) -> None:
    paths, _ = installation
    log = query(paths, "select command, outcome, steps, row_counts from ops.run_log")
    assert log["command"].to_list() == ["nightly", "nightly"]
    assert log["outcome"].to_list() == ["published", "published"]
    steps = [s["step"] for s in json.loads(log["steps"][1])]
    assert steps == [
        "check + stage", "dbt build (features)", "train + export", "evaluate", "recommend",
        "dbt build (outputs)", "report", "audit",
    ]  # fmt: skip
    assert json.loads(log["row_counts"][1])["core.dim_users"] == N_USERS
