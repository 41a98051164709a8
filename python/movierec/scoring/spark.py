"""Recommendations on Spark (docs/spark.md): retrieval, then the ONNX model re-ranking its
candidates, through the same dbt views (ml_retrieval_candidates, ml_scoring_features) and
the same SQL files as on DuckDB, scored partition by partition (`mapInArrow`, one
onnxruntime thread per task). What leaves this module is Arrow."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from movierec.model import OnnxScorer
from movierec.scoring.ranking import TOP_N_SCHEMA
from movierec.warehouse import RETRIEVED_COLUMNS, feature_matrix, sql_file

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

KEYS = ("user_id", "movie_id", "requested_at")
SCORES_SCHEMA = "user_id bigint, movie_id bigint, requested_at timestamp, score float"


def spark_sql(session: SparkSession, package: str, name: str, **params: object) -> DataFrame:
    """One of a package's SQL files (DuckDB's `$name` parameters) run on Spark, whose
    parameter markers are `:name`."""
    return session.sql(re.sub(r"\$(\w+)", r":\1", sql_file(package, name)), args=params)


def replace_rows(session: SparkSession, table: str, select_sql: str) -> None:
    """Replace every row of `table` with those of `select_sql` (matched by column name)."""
    columns = ", ".join(session.table(table).columns)
    session.sql(f"insert overwrite table {table} select {columns} from ({select_sql}) as rows")


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
) -> pa.Table:
    """Every user's top `top_n` films (user_id, rank, movie_id, score) at the default
    scoring moment, as the DuckDB nightly ranks them with `candidates = "retrieval"`:
    retrieval proposes (a user proposed fewer than `top_n` films gets every unseen film),
    the model re-ranks, ties go to the lower movie_id."""
    every_user = "select user_id, cast(null as timestamp) as requested_at from core.dim_users"
    replace_rows(session, "scoring.retrieval_requests", every_user)
    replace_rows(
        session,
        "scoring.retrieved_candidates",
        "select user_id, movie_id, requested_at, candidate_rank, "
        f"{', '.join(RETRIEVED_COLUMNS)} from ml.ml_retrieval_candidates",
    )
    session.table("core.dim_users").select("user_id").createOrReplaceTempView("chunk_users")
    spark_sql(session, "movierec.scoring", "retrieved_pairs", top_n=top_n).createOrReplaceTempView(
        "requested_pairs"
    )
    replace_rows(
        session,
        "scoring.scoring_requests",
        "select user_id, movie_id, cast(null as timestamp) as requested_at from requested_pairs",
    )
    features = session.table("ml.ml_scoring_features")
    score_partitions(features, model, columns).createOrReplaceTempView("scores")
    ranked = spark_sql(session, "movierec.scoring", "top_n", top_n=top_n).toArrow()
    return ranked.select(TOP_N_SCHEMA.names).cast(TOP_N_SCHEMA)
