"""`movierec evaluate`: the shipped recommender and four baselines, judged on the
viewings after a cut-off that none of them saw.

The registered model's configuration is refitted on the training rows before the cut-off,
exported to ONNX and run through the same shortlist and scoring path as the nightly, with
features as of the cut-off. Baselines are built in SQL from the same past: random unseen
films, the most viewed films, the most viewed films within the user's segment, and the
films sharing the most viewers with the user's own (item-item co-occurrence). A hit is a
film viewed after the cut-off (implicit-mode models) or liked after it (explicit mode).

Two splits. `time`: the cut-off is `holdout_days` before the latest viewing and the hits
are the viewings after it. `random`: the hits are interactions held out at random per user
when they were ingested (never landed, see `evaluation.holdout`); the cut-off is after the
latest landed viewing, so lists are built from everything landed, as the nightly's are,
and the model scores each user as of their own latest viewing (baselines count all of it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import duckdb
import numpy as np
import polars as pl

from movierec.evaluation.metrics import catalogue_metrics, ranking_metrics
from movierec.features import FeatureContract
from movierec.registry import ModelRecord
from movierec.scoring.recommend import RecommendSettings, rank_users
from movierec.training.export import OnnxScorer, to_onnx
from movierec.training.forest import ForestParams, fit_forest
from movierec.training.sampling import TrainingMode, training_rows
from movierec.warehouse import query_frame

Progress = Callable[[str], None]
RECOMMENDERS = ("model", "random", "popularity", "segment_popularity", "cooccurrence")
Split = Literal["time", "random"]
# films kept per film by the co-occurrence baseline (item-kNN's k)
COOCCURRENCE_NEIGHBOURS = 100


@dataclass(frozen=True)
class EvaluateSettings:
    holdout_days: int = 30
    ks: tuple[int, ...] = (5, 10, 20)
    # Above this many users, a seeded sample of them is evaluated.
    max_users: int = 20_000
    seed: int = 42
    split: Split = "time"


@dataclass(frozen=True)
class Evaluation:
    evaluation_id: str
    model_id: str
    split: Split
    cutoff: datetime
    metrics: pl.DataFrame  # recommender, k, segment, metric, value
    seconds: float


def evaluate_recommenders(
    con: duckdb.DuckDBPyConnection,
    contract: FeatureContract,
    model: ModelRecord,
    settings: EvaluateSettings,
    held_out: pl.DataFrame | None = None,
    progress: Progress = lambda _: None,
) -> Evaluation:
    """Build every recommender's top-k lists at the cut-off, judge them, store the metrics.

    `held_out` (user_id, movie_id, is_liked) holds the hits of the random split.
    """
    started = time.perf_counter()
    if (settings.split == "random") != (held_out is not None):
        raise ValueError("the random split, and only it, is judged on held-out interactions")
    (latest,) = con.execute("select max(interacted_at) from core.fct_interactions").fetchall()[0]
    if held_out is None:
        cutoff: datetime = latest - timedelta(days=settings.holdout_days)
        progress(f"cut-off {cutoff:%Y-%m-%d %H:%M:%S}: lists from before it, judged on after it")
    else:
        cutoff = latest + timedelta(microseconds=1)
        progress(f"random split: lists from all {cutoff:%Y-%m-%d} landed, judged on held-out")
    k_max = max(settings.ks)
    con.execute(
        """
        create or replace temp table evaluation_users as
        select user_id, segment from core.dim_users
        order by hash(user_id, $seed) limit $max_users
        """,
        {"seed": settings.seed, "max_users": settings.max_users},
    )

    # in the random split each user is scored as of their own latest landed viewing: the
    # held-out ratings lie inside the user's active period, often months before the cut-off
    scoring = RecommendSettings(top_n=k_max, at_latest_viewing=held_out is not None)
    lists = {"model": _model_lists(con, contract, model, cutoff, scoring, progress)}
    for name in RECOMMENDERS[1:]:
        lists[name] = _baseline_lists(con, name, cutoff, k_max, settings.seed)
    # what counts as a hit is what the model was trained to predict
    liked_only = TrainingMode.from_dict(model.training).mode == "explicit"
    relevant, films, segments = _truth(con, cutoff, liked_only, held_out)
    progress(
        f"{relevant.height:,} {'liked' if liked_only else 'viewed'} (user, film) pairs "
        + ("after the cut-off" if held_out is None else "held out")
    )

    rows = []
    for recommender, frame in lists.items():
        for segment in ("all", *sorted(segments["segment"].unique().to_list())):
            users = segments if segment == "all" else segments.filter(pl.col("segment") == segment)
            in_segment = frame.join(users.select("user_id"), on="user_id")
            truth = relevant.join(users.select("user_id"), on="user_id")
            for k in settings.ks:
                values = {
                    **ranking_metrics(in_segment, truth, k),
                    **catalogue_metrics(in_segment, films, k),
                }
                rows += [(recommender, k, segment, m, v) for m, v in values.items()]
    metrics = pl.DataFrame(
        rows, schema=["recommender", "k", "segment", "metric", "value"], orient="row"
    )
    evaluated_at = datetime.now(UTC).replace(tzinfo=None)
    evaluation_id = evaluated_at.strftime("e%Y%m%dT%H%M%S%fZ")
    stored = metrics.select(
        pl.lit(evaluation_id).alias("evaluation_id"),
        pl.lit(model.model_id).alias("model_id"),
        pl.lit(settings.split).alias("split"),
        pl.lit(cutoff).alias("cutoff"),
        pl.lit(evaluated_at).alias("evaluated_at"),
        "recommender",
        pl.col("k").cast(pl.Int32),
        "segment",
        "metric",
        "value",
    )
    con.register("evaluation_rows", stored.to_arrow())
    con.execute("insert into ml_outputs.evaluation_metrics by name select * from evaluation_rows")
    con.unregister("evaluation_rows")
    seconds = time.perf_counter() - started
    return Evaluation(evaluation_id, model.model_id, settings.split, cutoff, metrics, seconds)


def _model_lists(
    con: duckdb.DuckDBPyConnection,
    contract: FeatureContract,
    model: ModelRecord,
    cutoff: datetime,
    settings: RecommendSettings,
    progress: Progress,
) -> pl.DataFrame:
    """The model's configuration refitted on viewings before the cut-off, then the nightly's
    shortlist and scoring path with features as of the cut-off."""
    mode = TrainingMode.from_dict(model.training)
    data = training_rows(con, contract, model.features, mode, until=cutoff)
    forest = fit_forest(data.features, data.labels, ForestParams(**model.params))
    progress(
        f"refitted {model.model_id}'s configuration ({mode.mode}) on {len(data.labels):,} "
        "rows from before the cut-off"
    )
    scorer = OnnxScorer(to_onnx(forest, len(model.features)))
    users = [int(r[0]) for r in con.execute("select user_id from evaluation_users").fetchall()]
    rank_users(con, scorer, model.features, settings, cutoff, progress, user_ids=users)
    return query_frame(con, "select user_id, rank, movie_id from run_top_n")


def _baseline_lists(
    con: duckdb.DuckDBPyConnection, name: str, cutoff: datetime, k_max: int, seed: int
) -> pl.DataFrame:
    """Top-k lists of a baseline, over films each user had not viewed before the cut-off.

    Each baseline ranks at most `k_max` + (most films any user viewed) films per user, so
    the cost grows with users x k, not users x catalogue.
    """
    (depth,) = con.execute(
        "select $k + coalesce(max(viewed), 0) from (select count(*) as viewed"
        " from core.fct_interactions where interacted_at < $cutoff group by user_id)",
        {"k": k_max, "cutoff": cutoff},
    ).fetchall()[0]
    if name == "random":
        # `2 x depth` seeded random draws per user; duplicates and seen films drop out below
        users = con.execute("select user_id from evaluation_users order by user_id").fetchnumpy()
        films = con.execute("select movie_id from core.dim_movies").fetchnumpy()["movie_id"]
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(films), size=(len(users["user_id"]), 2 * int(depth)))
        drawn = pl.DataFrame(
            {
                "user_id": np.repeat(users["user_id"], draws.shape[1]),
                "movie_id": films[draws.ravel()],
                "preference": np.tile(np.arange(draws.shape[1]), draws.shape[0]),
            }
        ).unique(subset=["user_id", "movie_id"], keep="first")
        con.register("random_draws", drawn.to_arrow())  # replaced by the next evaluation
        candidates = "select user_id, movie_id, preference from random_draws"
    elif name == "cooccurrence":
        # item-item co-occurrence: films sharing the most viewers with the user's films
        # (each film's COOCCURRENCE_NEIGHBOURS nearest, as item-kNN keeps them, so the cost
        # grows with users x history, not users x catalogue), the most viewed films after
        # them (a user without history gets popularity)
        candidates = f"""
            with past as (
                select distinct user_id, movie_id from core.fct_interactions
                where interacted_at < $cutoff
            ),
            all_pairs as (
                select one.movie_id, other.movie_id as other_movie_id,
                    count(*) as co_viewers
                from past as one
                inner join past as other
                    on one.user_id = other.user_id and one.movie_id != other.movie_id
                group by one.movie_id, other.movie_id
            ),
            pairs as (
                select movie_id, other_movie_id, co_viewers from (
                    select *, row_number() over (
                        partition by movie_id order by co_viewers desc, other_movie_id
                    ) as nearness
                    from all_pairs
                )
                where nearness <= {COOCCURRENCE_NEIGHBOURS}
            ),
            scores as (
                select history.user_id, pairs.other_movie_id as movie_id,
                    sum(pairs.co_viewers) as score
                from past as history
                inner join evaluation_users as users on history.user_id = users.user_id
                inner join pairs on history.movie_id = pairs.movie_id
                group by history.user_id, pairs.other_movie_id
            ),
            popular as (
                select movie_id, row_number() over (order by count(*) desc, movie_id) as place
                from past group by movie_id
            ),
            filled as (
                select user_id, movie_id, score from scores
                union all
                select users.user_id, popular.movie_id, 0 as score
                from evaluation_users as users
                inner join popular on popular.place <= {int(depth)}
            )
            select filled.user_id, filled.movie_id,
                row_number() over (
                    partition by filled.user_id
                    order by max(filled.score) desc, min(coalesce(popular.place, 1e9)),
                        filled.movie_id
                ) as preference
            from filled
            left join popular on filled.movie_id = popular.movie_id
            group by filled.user_id, filled.movie_id
        """
    else:
        by_segment = name == "segment_popularity"
        group = "viewers.segment" if by_segment else "'all'"
        candidates = f"""
            with views as (
                select {group} as segment, past.movie_id, count(*) as views
                from core.fct_interactions as past
                inner join core.dim_users as viewers on past.user_id = viewers.user_id
                where past.interacted_at < $cutoff
                group by {"viewers.segment, " if by_segment else ""}past.movie_id
            ),
            popularity as (
                select segment, movie_id,
                    row_number() over (
                        partition by segment order by views desc, movie_id
                    ) as preference
                from views
            )
            select users.user_id, popularity.movie_id, popularity.preference
            from evaluation_users as users
            inner join popularity
                on {"users.segment" if by_segment else "'all'"} = popularity.segment
                and popularity.preference <= {int(depth)}
        """
    return query_frame(
        con,
        f"""
        select user_id, rank, movie_id from (
            select candidates.user_id, candidates.movie_id,
                row_number() over (
                    partition by candidates.user_id order by candidates.preference
                ) as rank
            from ({candidates}) as candidates
            where not exists (
                select 1 from core.fct_interactions as seen
                where seen.user_id = candidates.user_id and seen.movie_id = candidates.movie_id
                    and seen.interacted_at < $cutoff
            )
        )
        where rank <= {int(k_max)}
        """,
        {"cutoff": cutoff},
    )


def _truth(
    con: duckdb.DuckDBPyConnection,
    cutoff: datetime,
    liked_only: bool,
    held_out: pl.DataFrame | None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Films viewed (or only those liked) after the cut-off, or held out, and not viewed
    before it; the catalogue with its main genre and past views; every user's segment."""
    if held_out is None:
        later = "core.fct_interactions"
    else:
        con.register("held_out_rows", held_out.select("user_id", "movie_id", "is_liked"))
        later = "(select *, $cutoff as interacted_at from held_out_rows)"
    relevant = query_frame(
        con,
        f"""
        select distinct later.user_id, later.movie_id
        from {later} as later
        inner join evaluation_users as users on later.user_id = users.user_id
        where later.interacted_at >= $cutoff {"and later.is_liked" if liked_only else ""}
            and not exists (
                select 1 from core.fct_interactions as seen
                where seen.user_id = later.user_id and seen.movie_id = later.movie_id
                    and seen.interacted_at < $cutoff
            )
        """,
        {"cutoff": cutoff},
    )
    if held_out is not None:
        con.unregister("held_out_rows")
    films = query_frame(
        con,
        """
        select movies.movie_id, movies.primary_genre as genre,
            count(past.movie_id) as prior_views
        from core.dim_movies as movies
        left join core.fct_interactions as past
            on movies.movie_id = past.movie_id and past.interacted_at < $cutoff
        group by all
        """,
        {"cutoff": cutoff},
    )
    segments = query_frame(con, "select user_id, segment from evaluation_users")
    return relevant, films, segments


def summary_table(metrics: pl.DataFrame, k: int = 10) -> pl.DataFrame:
    """One row per recommender, the headline metrics at k over all users as columns."""
    wanted = ["precision", "recall", "ndcg", "map", "hit_rate", "coverage", "gini",
              "novelty", "intra_list_diversity"]  # fmt: skip
    return (
        metrics.filter((pl.col("k") == k) & (pl.col("segment") == "all"))
        .filter(pl.col("metric").is_in(wanted))
        .pivot(on="metric", index="recommender", values="value")
        .select("recommender", *wanted)
    )
