"""The warehouse on Apache Spark (docs/spark.md), written, audited and published as on
DuckDB: each run builds a new version of Spark's warehouse (a metastore and its tables)
beside the published one, from all landed files, with the same dbt models and the
nightly's Python steps (training, ranking) on a pyspark session over it; audits it with
the same checks; and publishes it by replacing one link (`publishing.linked`)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from movierec.errors import AuditError, SettingsError
from movierec.flows.publish import (
    AUDITED_TABLES,
    carried_tables,
    check_landing,
    latest_run_failures,
)
from movierec.model import LATEST_MODEL_SQL, ModelRecord, model_record
from movierec.progress import Progress
from movierec.publishing import (
    LinkedVersions,
    RunRecord,
    audit_tables,
    exclusive,
    logged_run,
    mark_dead_runs,
    read_run_records,
    run_log_rows,
    utc_now,
    write_run_record,
)
from movierec.scoring import RunSummary, recommend_on_spark
from movierec.settings import Paths, PublishSettings, RecommendSettings, TrainSettings
from movierec.training import TrainResult, train_on_spark
from movierec.warehouse import (
    AFTER_PYTHON,
    BEFORE_PYTHON,
    append_rows,
    copy_table_files,
    parse_feature_contract,
    require_java,
    run_dbt,
    spark_query,
    spark_session,
    spark_tables,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class SparkRun:
    """What a Spark run that published did: its run-log record (steps and seconds, the
    audited row counts), the version it published, and for a nightly the recommendation
    run it wrote and the model it trained (None: the latest registered one served)."""

    record: RunRecord
    version: Path
    summary: RunSummary | None = None
    trained: TrainResult | None = None


# A nightly's Python steps on a session over the version being built: the recommendation
# run they wrote and the model they trained, if any; each step's seconds go in the record.
PythonSteps = Callable[["SparkSession", RunRecord], tuple[RunSummary, TrainResult | None]]


def spark_build(
    paths: Paths, select: str | None, settings: PublishSettings, progress: Progress
) -> SparkRun:
    """A new version of Spark's warehouse: every model built and tested from all landed
    files, the Python steps' history carried from the published version; audited, then
    published. `select` is refused: a version holds every model."""
    if select:
        raise SettingsError(
            "--select: not available on the spark engine; a Spark build makes a whole new "
            "version of the warehouse (docs/spark.md)"
        )
    return _publishing_run(paths, "build --engine spark", settings, progress, None)


def spark_nightly(
    paths: Paths,
    training: TrainSettings,
    scoring: RecommendSettings,
    retrain: bool,
    settings: PublishSettings,
    progress: Progress,
) -> SparkRun:
    """The nightly on Spark: check the landed files -> dbt build -> carry the Python
    steps' history -> train when no model is registered on Spark (or `retrain`) -> rank
    every user -> dbt build of the models that read the Python steps' outputs -> audit ->
    publish."""

    def python_steps(
        session: SparkSession, record: RunRecord
    ) -> tuple[RunSummary, TrainResult | None]:
        return _train_and_rank(session, paths, training, scoring, retrain, record, progress)

    return _publishing_run(paths, "nightly --engine spark", settings, progress, python_steps)


def _publishing_run(
    paths: Paths,
    command: str,
    settings: PublishSettings,
    progress: Progress,
    python_steps: PythonSteps | None,
) -> SparkRun:
    """What every Spark run checks first (the options it supports, Java, the
    installation's lock: one run at a time, whichever the engine), then the run, logged:
    a failure anywhere removes its version and leaves the published one as it was."""
    if settings.on_bad_rows != "fail":
        raise SettingsError("--on-bad-rows quarantine: not available on the spark engine yet")
    require_java()
    with exclusive(paths, command):
        versions = spark_versions(paths, progress)
        published = versions.published()

        def discard(run_id: str) -> None:
            shutil.rmtree(versions.version(run_id), ignore_errors=True)

        with logged_run(paths, command, discard) as record:
            version = versions.version(record.run_id)
            summary, trained = _build_and_audit(
                paths, version, published, record, settings, python_steps, progress
            )
            versions.publish(version, json.dumps(record.row_counts), settings.keep_versions)
            write_run_record(paths, record)
            progress(f"published {record.run_id} -> {paths.spark_published}")
    return SparkRun(record, version, summary, trained)


def spark_versions(paths: Paths, progress: Progress) -> LinkedVersions:
    """Spark's warehouse versions, once what a run that died left is removed and its
    record marked (call under the lock)."""
    versions = LinkedVersions(paths.spark_published)
    published = versions.published()
    for line in [
        *versions.clean_up(),
        *mark_dead_runs(paths, published.name if published else None),
    ]:
        progress(f"cleaned up: {line}")
    return versions


@contextmanager
def _step(record: RunRecord, name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    record.step(name, time.perf_counter() - started)


def _build_and_audit(
    paths: Paths,
    version: Path,
    published: Path | None,
    record: RunRecord,
    settings: PublishSettings,
    python_steps: PythonSteps | None,
    progress: Progress,
) -> tuple[RunSummary | None, TrainResult | None]:
    """Build `version` (see the module doc) and audit it; on success, the record says
    "published" and the version's ops.run_log holds it. AuditError when the audit fails."""
    with _step(record, "check"):
        check_landing(paths, "fail")
    with _step(record, "dbt build (features)"):
        run_dbt(
            paths, ["build", "--full-refresh", *BEFORE_PYTHON], engine="spark", spark_dir=version
        )
    with _step(record, "carry history"):
        # the Python steps' tables: dbt's on-run-start hook created them empty
        if published is not None:
            for table in carried_tables(paths):
                copy_table_files(published, version, f"ml_outputs.{table.name}")
    summary, trained = None, None
    if python_steps is not None:
        with spark_session(paths, version) as session:
            summary, trained = python_steps(session, record)
    with _step(record, "dbt build (outputs)"):
        run_dbt(paths, ["build", *AFTER_PYTHON], engine="spark", spark_dir=version)
    previous = {r.run_id: r.row_counts for r in read_run_records(paths)}
    with spark_session(paths, version) as session, _step(record, "audit"):
        expected_run = summary.run_id if summary is not None else None
        counts, failures = audit_tables(
            spark_query(session),
            spark_tables(session, {table.split(".")[0] for table in AUDITED_TABLES}),
            previous.get(published.name, {}) if published is not None else {},
            AUDITED_TABLES,
            settings.audit,
            [lambda query: latest_run_failures(query, expected_run)],
        )
        record.row_counts = counts
        if failures:
            raise AuditError(failures)
        record.outcome, record.finished_at = "published", utc_now()
        append_rows(session, "ops.run_log", run_log_rows(paths, record))
    return summary, trained


def _train_and_rank(
    session: SparkSession,
    paths: Paths,
    training: TrainSettings,
    scoring: RecommendSettings,
    retrain: bool,
    record: RunRecord,
    progress: Progress,
) -> tuple[RunSummary, TrainResult | None]:
    contract = parse_feature_contract(paths.ml_features_yml.read_text())
    latest = session.sql(LATEST_MODEL_SQL).toArrow().to_pylist()
    model: ModelRecord | None = (
        None if retrain or not latest else model_record([_naive(v) for v in latest[0].values()])
    )
    trained = None
    if model is None:
        with _step(record, "train + export"):
            trained = train_on_spark(session, contract, paths.models_dir, training, progress)
        model = trained.record
        progress(f"registered {model.model_id} in {trained.seconds:.1f} s")
    with _step(record, "recommend"):
        summary = recommend_on_spark(session, model, scoring)
    progress(
        f"ranked {summary.users:,} users ({summary.pairs_scored:,} pairs scored) "
        f"in {summary.seconds:.1f} s"
    )
    return summary, trained


def _naive(value: object) -> object:
    """A timestamp read from Spark as Arrow (UTC) without its zone, as DuckDB gives it."""
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value
