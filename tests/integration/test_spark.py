"""The same dbt models on Apache Spark (docs/spark.md): a small world built by both engines
gives the same tables, row for row."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from movierec.errors import RawContractError, SettingsError, WarehouseBusyError
from movierec.flows import spark_build
from movierec.land import record_landed
from movierec.model import registered_model
from movierec.publishing import LinkedVersions, exclusive, read_run_records
from movierec.settings import Paths, PublishSettings
from movierec.warehouse import query_frame
from movierec.warehouse.parity import table_differences
from movierec.warehouse.spark import read_spark_table, spark_session
from tests.integration.harness import N_INTERACTIONS, N_MOVIES, N_USERS, paths_for, run_cli

pytestmark = pytest.mark.integration

SCHEMAS = ("staging", "intermediate", "core", "ml", "kpi")


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The tests' small world (seed 11) through `movierec nightly` on DuckDB (published
    file) and `movierec nightly --engine spark` (published as data/spark/published)."""
    paths = paths_for(tmp_path_factory.mktemp("engines"))
    simulated = run_cli(
        paths, "simulate", "--users", str(N_USERS), "--movies", str(N_MOVIES),
        "--interactions", str(N_INTERACTIONS), "--seed", "11",
    )  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr
    # what a Spark run killed while building leaves: a version never audited
    (paths.spark_dir / "versions" / "p20260101T000000000000Z" / "tables").mkdir(parents=True)
    for engine in ("duckdb", "spark"):
        nightly = run_cli(paths, "nightly", "--engine", engine)
        assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    return paths


def run_outputs(paths: Paths) -> set[str]:
    """The models that read what the Python steps write (a run's ids and moments), from
    the spark target's manifest: the ones not expected to be equal across engines."""
    manifest = json.loads((paths.data_dir / "dbt" / "spark-target" / "manifest.json").read_text())
    children: dict[str, list[str]] = manifest["child_map"]
    pending = [node for node in children if node.startswith("source.movierec.ml_outputs.")]
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        if node not in seen:
            seen.add(node)
            pending.extend(children.get(node, []))
    models = (manifest["nodes"][n] for n in seen if n.startswith("model."))
    return {f"{model['schema']}.{model['alias']}" for model in models}


def test_every_landed_data_table_spark_builds_equals_duckdbs(both_engines: Paths) -> None:
    """Every table of the landed-data models on Spark (staging, intermediate, core, the
    training features, the engagement KPIs) has DuckDB's columns and rows, floats within
    1e-9 relative."""
    differences: dict[str, list[str]] = {}
    outputs = run_outputs(both_engines)
    with (
        spark_session(both_engines) as session,
        duckdb.connect(str(both_engines.warehouse_path), read_only=True) as con,
    ):
        tables = [
            f"{schema}.{table.name}"
            for schema in SCHEMAS
            for table in session.catalog.listTables(schema)
            if table.tableType != "VIEW" and f"{schema}.{table.name}" not in outputs
        ]
        for name in tables:
            on_duckdb = con.sql(f"select * from {name}").to_arrow_table()
            differences[name] = table_differences(on_duckdb, read_spark_table(session, name))
    assert {"ml.ml_recommendations", "ml.ml_models", "kpi.rpt_recommendation_runs"} <= outputs
    assert {
        "staging.stg_landing__interactions",
        "core.dim_users",
        "core.dim_movies",
        "core.fct_interactions",
        "intermediate.int_movie_pair_histories_accumulated",
        "ml.ml_training_features",
        "kpi.rpt_engagement_daily",
    } <= set(tables)
    assert {name: found for name, found in differences.items() if found} == {}


def test_the_spark_nightly_trains_the_same_forest_and_publishes_the_same_lists(
    both_engines: Paths,
) -> None:
    """The Spark nightly trains on the same rows in the same order, so its forest exports
    to the very ONNX file DuckDB's nightly registered; scored on Spark partition by
    partition over Spark's retrieval and features, it gives every user the list DuckDB
    published: the same films at the same ranks, scores to float32 precision."""
    latest = (
        "select user_id, recommendation_rank as rank, movie_id, score, model_id "
        "from ml.ml_recommendations_latest order by user_id, rank"
    )
    with duckdb.connect(str(both_engines.warehouse_path), read_only=True) as con:
        duckdb_model = registered_model(con)
        published = query_frame(con, latest)
    with spark_session(both_engines) as session:
        (spark_model,) = session.sql(
            "select model_id, onnx_sha256, training_rows from ml_outputs.model_registry"
        ).collect()
        on_spark = pl.from_arrow(session.sql(latest).toArrow())
    assert isinstance(on_spark, pl.DataFrame)
    assert spark_model.onnx_sha256 == duckdb_model.onnx_sha256
    assert spark_model.training_rows == duckdb_model.training_rows == N_INTERACTIONS
    assert set(on_spark["model_id"]) == {spark_model.model_id}
    assert published.height == N_USERS * 10
    ranks = ["user_id", "rank", "movie_id"]
    assert on_spark.select(ranks).equals(
        published.select(ranks).cast(on_spark.select(ranks).schema)
    )
    gaps = on_spark["score"].to_numpy().astype(float) - published["score"].to_numpy()
    assert float(abs(gaps).max()) < 1e-6


def test_a_spark_run_checks_the_landed_files_and_the_lock_first(tmp_path: Path) -> None:
    """A landed file breaking the contract stops the Spark build before dbt starts, with
    the file, column and problem named; the failed run is logged, leaves no version and
    the published one as it was. So does another run holding the installation;
    quarantine and `--select` are refused, not ignored."""
    paths = paths_for(tmp_path / "data")
    simulated = run_cli(paths, "simulate", "--users", "20", "--movies", "10",
                        "--interactions", "50", "--seed", "3")  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr
    versions = LinkedVersions(paths.spark_published)
    earlier = versions.version("p20260101T000000000000Z")
    earlier.mkdir(parents=True)
    versions.publish(earlier, "{}", keep=3)
    with exclusive(paths, "nightly"), pytest.raises(WarehouseBusyError, match="nightly, pid"):
        spark_build(paths, None, PublishSettings(), progress=print)
    (users_file,) = paths.entity_dir("users").glob("*.parquet")
    users = pq.read_table(users_file)
    ages = users.column("age").to_pylist()
    ages[4] = 300.0
    pq.write_table(users.set_column(1, "age", [ages]), users_file)
    record_landed(paths.raw_dir, {"users": users_file}, datetime(2025, 1, 1))
    with pytest.raises(RawContractError) as raised:
        spark_build(paths, None, PublishSettings(), progress=print)
    message = f"{users_file}: column 'age': values above 110 (1 rows)"
    assert message in str(raised.value)
    (failed,) = read_run_records(paths)
    assert (failed.command, failed.outcome) == ("build --engine spark", "failed")
    assert message in (failed.error or "")
    assert list(versions.versions_dir.iterdir()) == [earlier]
    assert versions.published() == earlier
    with pytest.raises(SettingsError, match="quarantine"):
        spark_build(paths, None, PublishSettings(on_bad_rows="quarantine"), progress=print)
    with pytest.raises(SettingsError, match="--select"):
        spark_build(paths, "core", PublishSettings(), progress=print)


def test_the_spark_nightly_publishes_an_audited_version_and_logs_it(both_engines: Paths) -> None:
    """The Spark nightly removed what a killed run left, built a version of its own,
    audited it with DuckDB's checks and published it by the link readers open; the run
    log outside and inside the version says so, with each step and the audited row
    counts. With no older version, rollback refuses and changes nothing."""
    versions = LinkedVersions(both_engines.spark_published)
    published = versions.published()
    assert published is not None
    assert list(versions.versions_dir.iterdir()) == [published]
    assert versions.retained() == [published]
    (record,) = [r for r in read_run_records(both_engines) if r.command == "nightly --engine spark"]
    assert (record.run_id, record.outcome) == (published.name, "published")
    assert [step["step"] for step in record.steps] == [
        "check", "dbt build (features)", "carry history", "train + export", "recommend",
        "dbt build (outputs)", "audit",
    ]  # fmt: skip
    assert record.row_counts == {
        "core.dim_users": N_USERS,
        "core.dim_movies": N_MOVIES,
        "core.fct_interactions": N_INTERACTIONS,
        "ml.ml_training_features": N_INTERACTIONS,
        "ml.ml_recommendations_latest": N_USERS * 10,
    }
    with spark_session(both_engines) as session:
        logged = session.sql(
            f"select outcome, command from ops.run_log where run_id = '{record.run_id}'"
        ).collect()
    assert [tuple(row) for row in logged] == [("published", "nightly --engine spark")]
    refused = run_cli(both_engines, "rollback", "--engine", "spark")
    assert refused.returncode != 0
    assert f"no audited version older than {published.name}" in refused.stderr
    assert versions.published() == published
