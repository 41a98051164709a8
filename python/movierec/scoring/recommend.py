"""The nightly's scoring step: rank every user's unseen films and append the run to
ml_outputs (recommendations and recommendation_runs) in one transaction.

A run covers every user. It may rescore only some (`users_to_rescore`: an incremental
nightly's users whose history changed, new users, lists too old) and carry every other
user's list unchanged from the run before, with the moment it was scored (`scored_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from movierec.model import OnnxScorer
from movierec.progress import Progress, silent
from movierec.scoring.ab import Arm, Serving, in_challenger_group
from movierec.scoring.ranking import (
    TOP_N_SCHEMA,
    Ranking,
    every_user,
    exhaustive_top_n,
    rank_users,
)
from movierec.settings import RecommendSettings
from movierec.warehouse import sql_file


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
    users_rescored: int | None = None  # None: every user
    # champion and challenger: the model ranking `challenger_share` of users' lists
    challenger_model_id: str | None = None
    challenger_share: float = 0.0

    @property
    def pairs_per_second(self) -> float:
        return self.pairs_scored / self.seconds if self.seconds else 0.0

    @classmethod
    def of(
        cls,
        ranking: Ranking,
        ids: tuple[str, str],
        counts: tuple[int, int, int],
        strategy: str,
        users_rescored: int | None = None,
        challenger: tuple[str | None, float] = (None, 0.0),
    ) -> RunSummary:
        """The summary of a run (`ids`: run and champion model) that wrote `ranking` as
        `counts` (users, recommendations, users without history); `challenger`: the
        challenger model and its share of users, if any."""
        users, recommendations, cold_start_users = counts
        return cls(
            run_id=ids[0],
            model_id=ids[1],
            users=users,
            recommendations=recommendations,
            pairs_scored=ranking.pairs_scored,
            features_as_of=ranking.features_as_of,
            seconds=ranking.seconds,
            cold_start_users=cold_start_users,
            strategy=strategy,
            stage_seconds=ranking.stage_seconds,
            users_rescored=users_rescored,
            challenger_model_id=challenger[0],
            challenger_share=challenger[1],
        )

    def runs_row(self, generated_at: datetime, top_n: int) -> pa.Table:
        """The run's row of ml_outputs.recommendation_runs."""
        row = {
            "run_id": self.run_id,
            "model_id": self.model_id,
            "generated_at": generated_at,
            "features_as_of": self.features_as_of,
            "top_n": top_n,
            "users": self.users,
            "candidate_strategy": self.strategy,
            "pairs_scored": self.pairs_scored,
            "seconds": round(self.seconds, 3),
            "cold_start_users": self.cold_start_users,
            "users_rescored": self.users if self.users_rescored is None else self.users_rescored,
            "challenger_model_id": self.challenger_model_id,
            "challenger_share": self.challenger_share,
        }
        return pa.Table.from_pylist([row])


def new_recommendation_run_id(now: datetime | None = None) -> str:
    """`r` + the UTC start time: sortable, and unlike any other kind of id."""
    return (now or datetime.now(UTC)).strftime("r%Y%m%dT%H%M%S%fZ")


@dataclass(frozen=True)
class Rescore:
    """Which users a run scores: `user_ids` (None: every user), why, and the run whose
    lists it carries for the others."""

    user_ids: tuple[int, ...] | None
    reason: str
    from_run: str | None = None


def users_to_rescore(
    con: duckdb.DuckDBPyConnection,
    serving: Serving,
    settings: RecommendSettings,
    now: datetime | None = None,
) -> Rescore:
    """The users whose lists may differ from the latest run's: new users, users with
    viewings in the landed files this build read first (ops.landed_batches), and lists
    scored more than `settings.max_list_age_days` ago. Everyone when there is no run to
    carry from or it was served by other models (or shares), top N or strategy."""
    latest = con.execute(
        "select run_id, model_id, challenger_model_id, coalesce(challenger_share, 0), top_n, "
        "candidate_strategy from ml_outputs.recommendation_runs "
        "order by generated_at desc limit 1"
    ).fetchall()
    if not latest:
        return Rescore(None, "no earlier run to carry lists from")
    run_id, *served, top_n, strategy = latest[0]
    if (tuple(served), top_n, strategy) != (serving.identity, settings.top_n, settings.strategy):
        return Rescore(None, f"the latest run {run_id} used other models, top N or strategy")
    stale_before = (now or datetime.now(UTC)).replace(tzinfo=None) - timedelta(
        days=settings.max_list_age_days
    )
    rows = con.execute(
        sql_file("movierec.scoring", "users_to_rescore"),
        {"run_id": run_id, "stale_before": stale_before},
    ).fetchall()
    return Rescore(
        tuple(int(r[0]) for r in rows),
        f"new users, new viewings and lists scored before {stale_before:%Y-%m-%d %H:%M}",
        from_run=run_id,
    )


def recommend(
    con: duckdb.DuckDBPyConnection,
    arm: Arm,
    settings: RecommendSettings,
    progress: Progress = silent,
    rescore: Rescore | None = None,
    challenger: Arm | None = None,
) -> RunSummary:
    """Rank every user's unseen films (or `rescore`'s users', carrying the others' lists
    from the latest run) and append the run to ml_outputs in one transaction. `arm` ranks
    every list, or, with a `challenger`, the lists of the users outside the challenger's
    group (`settings.challenger_share`, `in_challenger_group`)."""
    run_id = new_recommendation_run_id()
    only = rescore.user_ids if rescore and rescore.from_run else None
    if only is not None and not only:  # nothing changed: every list is carried
        (as_of,) = con.execute(
            "select features_as_of from ml_outputs.recommendation_runs where run_id = ?",
            [rescore.from_run if rescore else None],
        ).fetchall()[0]
        ranking = Ranking(TOP_N_SCHEMA.empty_table(), 0, as_of, 0.0, {})
        served = _served_by(ranking.top_n, arm.model_id)
    elif challenger is None:
        ranking = rank_users(
            con, arm.scorer, arm.features, settings, progress=progress, user_ids=only
        )
        served = _served_by(ranking.top_n, arm.model_id)
    else:
        ranking, served = _rank_both(con, (arm, challenger), settings, progress, only)
    generated_at = datetime.now(UTC).replace(tzinfo=None)
    (cold_start,) = con.execute(
        sql_file("movierec.scoring", "cold_start_users"), {"moment": ranking.features_as_of}
    ).fetchall()[0]
    con.execute("begin transaction")
    try:
        con.register("top_n_rows", served)
        con.execute(
            "insert into ml_outputs.recommendations (run_id, user_id, rank, movie_id, score, "
            "model_id, generated_at, scored_at) "
            "select $run_id, user_id, rank, movie_id, score, model_id, $generated_at, "
            "$generated_at from top_n_rows",
            {"run_id": run_id, "generated_at": generated_at},
        )
        con.unregister("top_n_rows")
        if only is not None:
            con.execute(
                sql_file("movierec.scoring", "carry_lists"),
                {
                    "run_id": run_id,
                    "generated_at": generated_at,
                    "rescored": list(only),
                    "from_run": rescore.from_run if rescore else None,
                },
            )
        users, rows = con.execute(
            "select count(distinct user_id), count(*) from ml_outputs.recommendations "
            "where run_id = ?",
            [run_id],
        ).fetchall()[0]
        summary = RunSummary.of(
            ranking,
            (run_id, arm.model_id),
            (int(users), int(rows), int(cold_start)),
            settings.strategy,
            users_rescored=None if only is None else len(only),
            challenger=(challenger.model_id, settings.challenger_share)
            if challenger
            else (None, 0.0),
        )
        con.register("run_row", summary.runs_row(generated_at, settings.top_n))
        con.execute("insert into ml_outputs.recommendation_runs by name select * from run_row")
        con.unregister("run_row")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return summary


def _served_by(top_n: pa.Table, model_id: str) -> pa.Table:
    """The ranked rows with the model that ranked them."""
    return top_n.append_column("model_id", pa.array([model_id] * top_n.num_rows, pa.string()))


def _rank_both(
    con: duckdb.DuckDBPyConnection,
    arms: tuple[Arm, Arm],
    settings: RecommendSettings,
    progress: Progress,
    only: Sequence[int] | None,
) -> tuple[Ranking, pa.Table]:
    """Each group's users (`only` of them, or everyone) ranked by its model: the champion
    `arms[0]` outside the challenger's group, the challenger `arms[1]` inside it."""
    users = np.asarray(only if only is not None else every_user(con), dtype=np.int64)
    challenged = in_challenger_group(users, settings.challenger_share)
    rankings, served = [], []
    for arm, group in zip(arms, (users[~challenged], users[challenged]), strict=True):
        progress(f"{arm.model_id} ranks {len(group):,} users' lists")
        if not len(group):  # a small share of few users may leave a group empty
            continue
        ranking = rank_users(
            con, arm.scorer, arm.features, settings, progress=progress, user_ids=group.tolist()
        )
        rankings.append(ranking)
        served.append(_served_by(ranking.top_n, arm.model_id))
    stages: dict[str, float] = {}
    for ranking in rankings:
        for stage, seconds in ranking.stage_seconds.items():
            stages[stage] = round(stages.get(stage, 0.0) + seconds, 2)
    merged = Ranking(
        top_n=pa.concat_tables([r.top_n for r in rankings]),
        pairs_scored=sum(r.pairs_scored for r in rankings),
        features_as_of=rankings[0].features_as_of,
        seconds=sum(r.seconds for r in rankings),
        stage_seconds=stages,
    )
    return merged, pa.concat_tables(served)


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
