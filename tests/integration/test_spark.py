"""The same dbt models on Apache Spark (docs/spark.md): a small world built by both engines
gives the same tables, row for row."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from movierec.errors import RawContractError, SettingsError
from movierec.flows import spark_build
from movierec.land import record_landed
from movierec.model import registered_model
from movierec.scoring.spark import rank_on_spark
from movierec.settings import Paths
from movierec.warehouse import query_frame
from movierec.warehouse.parity import table_differences
from movierec.warehouse.spark import read_spark_table, spark_session
from tests.integration.harness import N_INTERACTIONS, N_MOVIES, N_USERS, paths_for, run_cli

pytestmark = pytest.mark.integration

SCHEMAS = ("staging", "intermediate", "core", "ml", "kpi")


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The tests' small world (seed 11): `movierec nightly` on DuckDB (build, train,
    recommend, publish), and `movierec build --engine spark`."""
    paths = paths_for(tmp_path_factory.mktemp("engines"))
    simulated = run_cli(
        paths, "simulate", "--users", str(N_USERS), "--movies", str(N_MOVIES),
        "--interactions", str(N_INTERACTIONS), "--seed", "11",
    )  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr
    for command in (["nightly"], ["build", "--engine", "spark"]):
        built = run_cli(paths, *command)
        assert built.returncode == 0, built.stdout + built.stderr
    return paths


def test_every_table_spark_builds_equals_duckdbs(both_engines: Paths) -> None:
    """Every table the Spark build holds (the landed-data models: staging, intermediate,
    core, the training features, the engagement KPIs) has DuckDB's columns and rows, floats
    within 1e-9 relative."""
    differences: dict[str, list[str]] = {}
    with (
        spark_session(both_engines) as session,
        duckdb.connect(str(both_engines.warehouse_path), read_only=True) as con,
    ):
        tables = [
            f"{schema}.{table.name}"
            for schema in SCHEMAS
            for table in session.catalog.listTables(schema)
            if table.tableType != "VIEW"
        ]
        for name in tables:
            on_duckdb = con.sql(f"select * from {name}").to_arrow_table()
            differences[name] = table_differences(on_duckdb, read_spark_table(session, name))
        training_rows = session.table("ml.ml_training_features").count()
    assert {
        "staging.stg_landing__interactions",
        "core.dim_users",
        "core.dim_movies",
        "core.fct_interactions",
        "intermediate.int_movie_pair_histories_accumulated",
        "ml.ml_training_features",
        "kpi.rpt_engagement_daily",
    } <= set(tables)
    assert training_rows == N_INTERACTIONS
    assert {name: found for name, found in differences.items() if found} == {}


def test_spark_ranks_every_user_as_the_duckdb_nightly_did(both_engines: Paths) -> None:
    """The nightly's registered model, scored on Spark partition by partition over Spark's
    retrieval and features, gives every user the list the DuckDB nightly published: the
    same films at the same ranks, the same scores to float32 precision."""
    with duckdb.connect(str(both_engines.warehouse_path), read_only=True) as con:
        model = registered_model(con)
        published = query_frame(
            con,
            "select user_id, recommendation_rank as rank, movie_id, score "
            "from ml.ml_recommendations_latest order by user_id, rank",
        )
    with spark_session(both_engines) as session:
        ranked = rank_on_spark(
            session, Path(model.onnx_path).read_bytes(), model.features, top_n=10
        )
    on_spark = pl.from_arrow(ranked)
    assert isinstance(on_spark, pl.DataFrame)
    on_spark = on_spark.sort("user_id", "rank")
    assert published.height == N_USERS * 10
    assert on_spark.select("user_id", "rank", "movie_id").equals(
        published.select("user_id", "rank", "movie_id").cast(
            on_spark.select("user_id", "rank", "movie_id").schema
        )
    )
    gaps = on_spark["score"].to_numpy().astype(float) - published["score"].to_numpy()
    assert float(abs(gaps).max()) < 1e-6


def test_a_spark_build_checks_the_landed_files_first(tmp_path: Path) -> None:
    """A landed file breaking the contract stops the Spark build before dbt starts, with
    the file, column and problem named; quarantine is refused, not ignored."""
    paths = paths_for(tmp_path / "data")
    simulated = run_cli(paths, "simulate", "--users", "20", "--movies", "10",
                        "--interactions", "50", "--seed", "3")  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr
    (users_file,) = paths.entity_dir("users").glob("*.parquet")
    users = pq.read_table(users_file)
    ages = users.column("age").to_pylist()
    ages[4] = 300.0
    pq.write_table(users.set_column(1, "age", [ages]), users_file)
    record_landed(paths.raw_dir, {"users": users_file}, datetime(2025, 1, 1))
    with pytest.raises(RawContractError) as raised:
        spark_build(paths, None, "fail", progress=print)
    assert f"{users_file}: column 'age': values above 110 (1 rows)" in str(raised.value)
    with pytest.raises(SettingsError, match="quarantine"):
        spark_build(paths, None, "quarantine", progress=print)
    assert not paths.spark_dir.exists()
