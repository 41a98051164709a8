"""The warehouse on Apache Spark (docs/spark.md): the landed files checked as for DuckDB,
the same dbt models built and tested by dbt's spark target from all landed files, and the
nightly's Python steps (training, ranking) on a pyspark session over the same tables."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from movierec.errors import SettingsError
from movierec.flows.publish import Progress, check_landing
from movierec.model import LATEST_MODEL_SQL, ModelRecord, model_record
from movierec.publishing import exclusive
from movierec.scoring import RunSummary, recommend_on_spark
from movierec.settings import BadRows, Paths, RecommendSettings, TrainSettings
from movierec.training import TrainResult, train_on_spark
from movierec.warehouse import (
    AFTER_PYTHON,
    BEFORE_PYTHON,
    parse_feature_contract,
    require_java,
    run_dbt,
    spark_session,
)


@dataclass(frozen=True)
class SparkNightly:
    """What `nightly --engine spark` did: each step's seconds, the run it wrote, and the
    model it trained (None: the latest registered one served)."""

    steps: dict[str, float]
    summary: RunSummary
    trained: TrainResult | None


@contextmanager
def spark_run(paths: Paths, command: str, on_bad_rows: BadRows) -> Iterator[None]:
    """What every Spark run checks first: the options it supports, Java, the installation's
    lock (one run at a time: embedded Derby admits one process), the landed files."""
    if on_bad_rows != "fail":
        raise SettingsError("--on-bad-rows quarantine: not available on the spark engine yet")
    require_java()
    with exclusive(paths, command):
        check_landing(paths, on_bad_rows)
        yield


def spark_build(
    paths: Paths, select: str | None, on_bad_rows: BadRows, progress: Progress
) -> float:
    """Check the landed files and `dbt build` the landed-data models (those that read
    nothing the Python steps write), or `select`, on Spark; return the build's seconds.

    Always a full refresh: incremental builds, quarantine and publishing are DuckDB's only
    (docs/spark.md). Raises SettingsError without Java, WarehouseBusyError while another
    run holds the installation, RawContractError on a bad landed file, DbtError when a
    model or test fails."""
    with spark_run(paths, "build --engine spark", on_bad_rows):
        return _build(paths, select, progress)


def _build(paths: Paths, select: str | None, progress: Progress) -> float:
    scope = ["--select", select] if select else list(BEFORE_PYTHON)
    started = time.perf_counter()
    run_dbt(paths, ["build", "--full-refresh", *scope], engine="spark")
    seconds = time.perf_counter() - started
    progress(f"built the Spark warehouse in {seconds:.1f} s -> {paths.spark_dir}")
    return seconds


def spark_nightly(
    paths: Paths,
    training: TrainSettings,
    scoring: RecommendSettings,
    retrain: bool,
    on_bad_rows: BadRows,
    progress: Progress,
) -> SparkNightly:
    """The nightly on Spark: check the landed files -> dbt build -> train when no model is
    registered on Spark (or `retrain`) -> rank every user -> dbt build of the models that
    read the Python steps' outputs (ml_models, ml_recommendations, the KPI models)."""
    with spark_run(paths, "nightly --engine spark", on_bad_rows):
        return _nightly(paths, training, scoring, retrain, progress)


def _nightly(
    paths: Paths,
    training: TrainSettings,
    scoring: RecommendSettings,
    retrain: bool,
    progress: Progress,
) -> SparkNightly:
    steps = {"dbt build (features)": _build(paths, None, progress)}
    contract = parse_feature_contract(paths.ml_features_yml.read_text())
    with spark_session(paths) as session:
        started = time.perf_counter()
        latest = session.sql(LATEST_MODEL_SQL).toArrow().to_pylist()
        model: ModelRecord | None = (
            None
            if retrain or not latest
            else model_record([_naive(value) for value in latest[0].values()])
        )
        trained = None
        if model is None:
            trained = train_on_spark(session, contract, paths.models_dir, training, progress)
            model = trained.record
            steps["train + export"] = time.perf_counter() - started
            progress(f"registered {model.model_id} in {trained.seconds:.1f} s")
        started = time.perf_counter()
        summary = recommend_on_spark(session, model, scoring)
        steps["recommend"] = time.perf_counter() - started
        progress(
            f"ranked {summary.users:,} users ({summary.pairs_scored:,} pairs scored) "
            f"in {summary.seconds:.1f} s"
        )
    started = time.perf_counter()
    run_dbt(paths, ["build", *AFTER_PYTHON], engine="spark")
    steps["dbt build (outputs)"] = time.perf_counter() - started
    return SparkNightly(steps, summary, trained)


def _naive(value: object) -> object:
    """A timestamp read from Spark as Arrow (UTC) without its zone, as DuckDB gives it."""
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value
