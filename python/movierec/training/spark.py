"""Training on Spark (docs/spark.md): the (bounded) training rows of ml_training_features
collected to the driver in the same key order as on DuckDB, fitted, exported and checked by
`train_from_rows` as on DuckDB, the model registered in Spark's ml_outputs. Explicit mode
only, so far."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from movierec.errors import SettingsError
from movierec.progress import Progress, silent
from movierec.settings import TrainSettings
from movierec.training.pipeline import CheckRows, TrainResult, train_from_rows
from movierec.training.sampling import TrainingRows, bounded_sample, labelled_viewings
from movierec.warehouse import (
    FeatureContract,
    append_rows,
    feature_matrix,
    float32_select,
    keep_spark_film_signals,
    replace_rows,
    spark_sql,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ORDER = "order by requested_at, interaction_id"


def spark_viewing_rows(
    session: SparkSession, contract: FeatureContract, settings: TrainSettings
) -> TrainingRows:
    """`viewing_rows` on Spark: one row per viewing, labelled liked, oldest first; beyond
    `max_rows`, the same bounded sample of them."""
    columns = contract.select(settings.feature_set)
    mode = settings.mode
    where = ""
    if mode.bounded and mode.max_rows:
        ids = session.sql(f"select interaction_id from ml.ml_training_features {ORDER}")
        every_id = ids.toArrow().column(0).to_numpy()
        if len(every_id) > mode.max_rows:
            kept = bounded_sample(
                len(every_id), mode.max_rows, mode.recent_share, mode.sampling_seed
            )
            session.createDataFrame(
                pa.table({"interaction_id": every_id[kept]})
            ).createOrReplaceTempView("bounded_rows")
            where = "where interaction_id in (select interaction_id from bounded_rows)"
    table = session.sql(
        f"select user_id, requested_at, {contract.label}, {float32_select(columns)} "
        f"from ml.ml_training_features {where} {ORDER}"
    ).toArrow()
    return labelled_viewings(table, contract, columns)


def spark_probe_rows(
    session: SparkSession, columns: tuple[str, ...], settings: TrainSettings
) -> CheckRows:
    """`probe_rows` on Spark: every unseen film of a few users per segment (drawn by the same
    SQL, with Spark's own hash), at the default scoring moment."""
    per_segment = max(1, settings.agreement_users // 3)
    spark_sql(
        session,
        "movierec.warehouse",
        "probe_users",
        seed=settings.forest.random_state + 1,
        per_segment=per_segment,
    ).createOrReplaceTempView("probe_users")
    replace_rows(
        session,
        "scoring.scoring_requests",
        "select users.user_id, movies.movie_id, cast(null as timestamp) as requested_at "
        "from probe_users as users cross join core.dim_movies as movies",
    )
    keep_spark_film_signals(session)
    table = session.sql(
        f"select user_id, {float32_select(columns)} from ml.ml_scoring_features "
        "order by user_id, movie_id"
    ).toArrow()
    return CheckRows(
        features=feature_matrix(table, columns), user_ids=table.column("user_id").to_numpy()
    )


def train_on_spark(
    session: SparkSession,
    contract: FeatureContract,
    models_dir: Path,
    settings: TrainSettings,
    progress: Progress = silent,
) -> TrainResult:
    """Train, export, check and register a model from Spark's warehouse (explicit mode)."""
    if settings.mode.mode != "explicit":
        raise SettingsError(
            f"training mode {settings.mode.mode!r}: only 'explicit' trains on the spark engine "
            "yet (docs/spark.md)"
        )
    if settings.mode.ease_lambda:
        raise SettingsError(
            "ease_lambda: EASE is not fitted on the spark engine yet (docs/spark.md)"
        )
    columns = contract.select(settings.feature_set)
    data = spark_viewing_rows(session, contract, settings)
    probes = spark_probe_rows(session, columns, settings)
    result = train_from_rows(data, columns, settings, probes, models_dir, progress)
    record = result.record
    names = list(record.__dataclass_fields__)
    append_rows(
        session,
        "ml_outputs.model_registry",
        pa.table({name: [value] for name, value in zip(names, record.row(), strict=True)}),
    )
    metrics = [
        {"model_id": record.model_id, "split": split, "metric": name, "value": value}
        for split, values in result.split_metrics.items()
        for name, value in values.items()
    ]
    append_rows(session, "ml_outputs.model_metrics", pa.Table.from_pylist(metrics))
    return result
