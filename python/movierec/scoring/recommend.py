"""The nightly's scoring step: rank every user's unseen films and append the run to
ml_outputs (recommendations and recommendation_runs) in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import polars as pl

from movierec.model import OnnxScorer
from movierec.scoring.ranking import Progress, exhaustive_top_n, rank_users
from movierec.settings import RecommendSettings


@dataclass(frozen=True)
class RunSummary:
    """What one recommendation run wrote and what it cost."""

    run_id: str
    model_id: str
    users: int
    recommendations: int
    pairs_scored: int
    features_as_of: datetime
    seconds: float
    cold_start_users: int
    strategy: str
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def pairs_per_second(self) -> float:
        return self.pairs_scored / self.seconds if self.seconds else 0.0


def new_recommendation_run_id(now: datetime | None = None) -> str:
    """`r` + the UTC start time: sortable, and unlike any other kind of id."""
    return (now or datetime.now(UTC)).strftime("r%Y%m%dT%H%M%S%fZ")


def recommend(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    model_id: str,
    features: Sequence[str],
    settings: RecommendSettings,
    progress: Progress = lambda _: None,
) -> RunSummary:
    """Rank every user's unseen films and append the run to ml_outputs in one transaction."""
    run_id = new_recommendation_run_id()
    ranking = rank_users(con, scorer, features, settings, progress=progress)
    generated_at = datetime.now(UTC).replace(tzinfo=None)
    top_n = ranking.top_n
    users = len(set(top_n.column("user_id").to_pylist()))
    (cold_start,) = con.execute(
        "select count(*) from core.dim_users as users where not exists ("
        "select 1 from core.fct_interactions as seen where seen.user_id = users.user_id "
        "and seen.interacted_at < $moment)",
        {"moment": ranking.features_as_of},
    ).fetchall()[0]
    con.execute("begin transaction")
    try:
        con.register("top_n_rows", top_n)
        con.execute(
            "insert into ml_outputs.recommendations "
            "select ?, user_id, rank, movie_id, score, ?, ? from top_n_rows",
            [run_id, model_id, generated_at],
        )
        con.unregister("top_n_rows")
        con.execute(
            "insert into ml_outputs.recommendation_runs (run_id, model_id, generated_at, "
            "features_as_of, top_n, users, candidate_strategy, pairs_scored, seconds, "
            "cold_start_users) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, model_id, generated_at, ranking.features_as_of, settings.top_n, users,
             settings.strategy, ranking.pairs_scored, round(ranking.seconds, 3), cold_start],
        )  # fmt: skip
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return RunSummary(
        run_id=run_id,
        model_id=model_id,
        users=users,
        recommendations=top_n.num_rows,
        pairs_scored=ranking.pairs_scored,
        features_as_of=ranking.features_as_of,
        seconds=ranking.seconds,
        cold_start_users=int(cold_start),
        strategy=settings.strategy,
        stage_seconds=ranking.stage_seconds,
    )


def exhaustive_match_share(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    run_id: str,
    user_ids: Sequence[int],
    settings: RecommendSettings,
) -> float:
    """Share of `user_ids` whose top-N films in run `run_id` are exactly the top-N of
    scoring every unseen film (as sets)."""
    exhaustive = pl.from_arrow(exhaustive_top_n(con, scorer, features, user_ids, settings))
    served = pl.from_arrow(
        con.sql(
            "select user_id, movie_id from ml_outputs.recommendations where run_id = ?",
            params=[run_id],
        ).to_arrow_table()
    )
    assert isinstance(exhaustive, pl.DataFrame)
    assert isinstance(served, pl.DataFrame)

    def films(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.group_by("user_id").agg(pl.col("movie_id").sort().alias("films"))

    both = films(exhaustive).join(films(served), on="user_id", suffix="_served")
    matches = int((both["films"] == both["films_served"]).sum())
    return matches / both.height if both.height else 0.0
