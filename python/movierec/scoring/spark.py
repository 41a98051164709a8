"""Recommendations on Spark (docs/spark.md): retrieval, then the ONNX model re-ranking its
candidates, through the same dbt views (ml_retrieval_candidates, ml_scoring_features) and
the same SQL files as on DuckDB, scored partition by partition (`mapInArrow`, one
onnxruntime thread per task). What leaves this module is Arrow."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from movierec.errors import NoDataError, SettingsError
from movierec.model import ModelRecord, OnnxScorer, model_bytes
from movierec.scoring.ranking import TOP_N_SCHEMA, Ranking
from movierec.scoring.recommend import RunSummary, new_recommendation_run_id
from movierec.settings import RecommendSettings
from movierec.warehouse import (
    FILM_LEVEL_HALF,
    RETRIEVED_COLUMNS,
    append_rows,
    feature_matrix,
    keep_spark_film_signals,
    replace_rows,
    spark_sql,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

KEYS = ("user_id", "movie_id", "requested_at")
SCORES_SCHEMA = "user_id bigint, movie_id bigint, requested_at timestamp, score float"


def score_partitions(features: DataFrame, model: bytes, columns: Sequence[str]) -> DataFrame:
    """(user_id, movie_id, requested_at, score): P(liked) by the ONNX `model` of every row
    of `features`, whose `columns` are the model's inputs in its order. Each task opens one
    onnxruntime session with one thread and scores its partition's Arrow batches."""
    names = list(columns)

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        scorer = OnnxScorer(model, threads=1)
        for batch in batches:
            probability = scorer.positive_probability(feature_matrix(batch, names))
            yield pa.record_batch(
                [*batch.select(list(KEYS)).columns, pa.array(probability)],
                names=[*KEYS, "score"],
            )

    inputs = [f"cast({name} as float) as {name}" for name in names]
    return features.selectExpr(*KEYS, *inputs).mapInArrow(score, SCORES_SCHEMA)


def rank_on_spark(
    session: SparkSession, model: bytes, columns: Sequence[str], top_n: int
) -> Ranking:
    """Every user's top `top_n` films (user_id, rank, movie_id, score) at the default
    scoring moment, as the DuckDB nightly ranks them with `candidates = "retrieval"`:
    retrieval proposes (a user proposed fewer than `top_n` films gets every unseen film),
    the model re-ranks, ties go to the lower movie_id."""
    started = time.perf_counter()
    every_user = "select user_id, cast(null as timestamp) as requested_at from core.dim_users"
    replace_rows(session, "scoring.retrieval_requests", every_user)
    # retrieval's film-level half once (every request shares the default moment)
    for table, view, kept in FILM_LEVEL_HALF:
        replace_rows(session, f"scoring.{table}", f"select {kept} from ml.{view}")
    replace_rows(
        session,
        "scoring.retrieved_candidates",
        "select user_id, movie_id, requested_at, candidate_rank, "
        f"{', '.join(RETRIEVED_COLUMNS)} from ml.ml_retrieval_candidates",
    )
    retrieved = time.perf_counter()
    session.table("core.dim_users").select("user_id").createOrReplaceTempView("chunk_users")
    spark_sql(session, "movierec.scoring", "retrieved_pairs", top_n=top_n).createOrReplaceTempView(
        "requested_pairs"
    )
    replace_rows(
        session,
        "scoring.scoring_requests",
        "select user_id, movie_id, cast(null as timestamp) as requested_at from requested_pairs",
    )
    keep_spark_film_signals(session)
    scores = score_partitions(session.table("ml.ml_scoring_features"), model, columns).cache()
    scores.createOrReplaceTempView("scores")
    counted = session.sql("select count(*), max(requested_at) from scores").first()
    pairs, moment = counted if counted is not None else (0, None)
    ranked = spark_sql(session, "movierec.scoring", "top_n", top_n=top_n).toArrow()
    scores.unpersist()
    if moment is None:
        raise NoDataError("nothing to score: the warehouse has no users or no films")
    finished = time.perf_counter()
    return Ranking(
        top_n=ranked.select(TOP_N_SCHEMA.names).cast(TOP_N_SCHEMA),
        pairs_scored=int(pairs),
        features_as_of=moment.replace(tzinfo=None),
        seconds=finished - started,
        stage_seconds={
            "retrieve": round(retrieved - started, 2),
            "score": round(finished - retrieved, 2),
        },
    )


def recommend_on_spark(
    session: SparkSession, model: ModelRecord, settings: RecommendSettings
) -> RunSummary:
    """`recommend` on Spark: rank every user with `model` (the retrieval strategy), append
    the run to Spark's ml_outputs.recommendations and recommendation_runs."""
    if settings.source != "retrieval" or settings.at_latest_viewing:
        raise SettingsError(
            "the spark engine ranks retrieval's candidates at the default moment only "
            "(docs/spark.md)"
        )
    run_id = new_recommendation_run_id()
    ranking = rank_on_spark(session, model_bytes(model), model.features, settings.top_n)
    generated_at = datetime.now(UTC).replace(tzinfo=None)
    top = ranking.top_n
    stamp = [generated_at] * top.num_rows
    append_rows(
        session,
        "ml_outputs.recommendations",
        top.append_column("run_id", pa.array([run_id] * top.num_rows))
        .append_column("model_id", pa.array([model.model_id] * top.num_rows))
        .append_column("generated_at", pa.array(stamp, pa.timestamp("us")))
        .append_column("scored_at", pa.array(stamp, pa.timestamp("us"))),
    )
    (cold_start,) = spark_sql(
        session, "movierec.scoring", "cold_start_users", moment=ranking.features_as_of
    ).first() or (0,)
    users = len(set(top.column("user_id").to_pylist()))
    summary = RunSummary.of(
        ranking, (run_id, model.model_id), (users, top.num_rows, int(cold_start)), settings.strategy
    )
    append_rows(
        session, "ml_outputs.recommendation_runs", summary.runs_row(generated_at, settings.top_n)
    )
    return summary
