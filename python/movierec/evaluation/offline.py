"""`movierec evaluate`: the shipped recommender and four baselines, judged on the
viewings after a cut-off that none of them saw.

The registered model's configuration is refitted on the training rows before the cut-off,
exported to ONNX and run through the same retrieval and scoring path as the nightly, with
features as of the cut-off. Retrieval's own order and its knn retriever alone (item-kNN:
co-viewing cosine) are judged beside it. Baselines are built in SQL from the same past:
random unseen films, the most viewed films, the most viewed films within the user's
segment, and the films sharing the most viewers with the user's own (item-item
co-occurrence). A hit is a film viewed after the cut-off (implicit-mode models) or liked
after it (explicit mode).

Two splits. `time`: the cut-off is `holdout_days` before the latest viewing and the hits
are the viewings after it. `random`: the hits are interactions held out at random per user
when they were ingested (never landed, see `evaluation.holdout`); the cut-off is after the
latest landed viewing, so lists are built from everything landed, as the nightly's are,
and the model scores each user as of their own latest viewing (baselines count all of it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from movierec.errors import SettingsError
from movierec.evaluation.metrics import catalogue_metrics, ranking_metrics
from movierec.evaluation.truth import (
    best_expected_likes,
    expected_like_ratio,
    reranking_ceiling,
    truth_of,
)
from movierec.model import ModelRecord, OnnxScorer, fit_forest, to_onnx
from movierec.progress import Progress, silent
from movierec.scoring import rank_users
from movierec.settings import (
    EvaluateSettings,
    ForestParams,
    RecommendSettings,
    Split,
    TrainingMode,
)
from movierec.training import training_rows, weights_fitted_until
from movierec.warehouse import FeatureContract, query_frame, retrieve_candidates, sql_file

BASELINES = ("random", "popularity", "segment_popularity", "cooccurrence")
# "ease": retrieval's ease retriever alone, judged when EASE's weights serve the cut-off
RECOMMENDERS = ("model", "retrieval", "knn", "user_knn", "ease", *BASELINES)
# films kept per film by the co-occurrence baseline (item-kNN's k)
COOCCURRENCE_NEIGHBOURS = 100


def _sql(name: str) -> str:
    return sql_file("movierec.evaluation", name)


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
    progress: Progress = silent,
    masked: duckdb.DuckDBPyConnection | None = None,
) -> Evaluation:
    """Build every recommender's top-k lists at the cut-off, judge them, store the metrics.

    `held_out` (user_id, movie_id, is_liked) holds the hits of the random split; `masked`
    is the masked world a masked training mode refits in.
    """
    started = time.perf_counter()
    if (settings.split == "random") != (held_out is not None):
        raise SettingsError("the random split, and only it, is judged on held-out interactions")
    cutoff = evaluation_cutoff(con, settings)
    if held_out is None:
        progress(f"cut-off {cutoff:%Y-%m-%d %H:%M:%S}: lists from before it, judged on after it")
    else:
        progress(f"random split: lists from all {cutoff:%Y-%m-%d} landed, judged on held-out")
    mode = TrainingMode.from_dict(model.training)
    k_max = max(settings.ks)
    con.execute(_sql("evaluation_users"), {"seed": settings.seed, "max_users": settings.max_users})

    # every user is served at the cut-off, as the nightly serves: in the random split just
    # after the latest landed viewing, with everything landed (as the published benchmarks
    # train), EASE's item weights included (docs/evaluation.md)
    scoring = RecommendSettings(top_n=k_max)
    evaluated = [int(r[0]) for r in con.execute("select user_id from evaluation_users").fetchall()]
    # the time split's lists see EASE's weights as of the cut-off (training fitted them
    # on every viewing, after it), put back as training left them once the lists are made
    until = cutoff if settings.split == "time" else None
    with weights_fitted_until(con, mode, until, progress):
        retrieved = retrieve_candidates(con, evaluated, cutoff, scoring.at_latest_viewing)
        model_lists = _model_lists(
            con, contract, model, cutoff, scoring, evaluated, retrieved, progress, masked
        )
    candidates = pl.from_arrow(retrieved)
    assert isinstance(candidates, pl.DataFrame)
    lists = {"model": model_lists}
    lists["retrieval"] = candidates.filter(pl.col("rank") <= k_max)
    lists["knn"] = knn_lists(candidates, k_max)
    lists["user_knn"] = knn_lists(candidates, k_max, rank="user_knn_rank")
    if candidates["ease_rank"].is_not_null().any():
        lists["ease"] = knn_lists(candidates, k_max, rank="ease_rank")
    for name in BASELINES:
        lists[name] = _baseline_lists(con, name, cutoff, k_max, settings.seed)
    # what counts as a hit is what the model was trained to predict
    liked_only = mode.mode == "explicit"
    relevant, films, segments = _truth(con, cutoff, liked_only, held_out)
    # the user segments, then the history slices (a user is in one of each)
    history = query_frame(con, _sql("history_slices"), {"cutoff": cutoff})
    slices = pl.concat([segments, history])
    segment_names = [
        *sorted(segments["segment"].unique().to_list()),
        *sorted(history["segment"].unique().to_list()),
    ]
    progress(
        f"{relevant.height:,} {'liked' if liked_only else 'viewed'} (user, film) pairs "
        + ("after the cut-off" if held_out is None else "held out")
    )

    simulated = truth_of(con, evaluated, cutoff)
    ks = tuple(sorted({*settings.ks, 10}))
    best = best_expected_likes(simulated, ks) if simulated else {}
    rows = []
    for recommender, frame in lists.items():
        ratios = {
            k: expected_like_ratio(frame, simulated, k, best[k]) for k in settings.ks if simulated
        }
        for segment in ("all", *segment_names):
            users = segments if segment == "all" else slices.filter(pl.col("segment") == segment)
            in_segment = frame.join(users.select("user_id"), on="user_id")
            truth = relevant.join(users.select("user_id"), on="user_id")
            for k in settings.ks:
                values = {
                    **ranking_metrics(in_segment, truth, k),
                    **catalogue_metrics(in_segment, films, k),
                }
                rows += [(recommender, k, segment, m, v) for m, v in values.items()]
            for k, ratio in ratios.items():
                per_user = ratio.join(users.select("user_id"), on="user_id")["expected_like_ratio"]
                mean = float(per_user.sum()) / per_user.len() if per_user.len() else 0.0
                rows.append((recommender, k, segment, "expected_like_ratio", mean))
            if recommender == "retrieval":
                proposed = candidates.join(users.select("user_id"), on="user_id")
                rows += [
                    (recommender, k, segment, "candidate_recall", recall)
                    for k, recall in candidate_recall(proposed, truth, settings.candidate_ks)
                ]
                if simulated and segment == "all":
                    rows += [
                        (recommender, depth, segment, "reranking_ceiling@10", ceiling)
                        for depth in settings.candidate_ks
                        for ceiling in [
                            reranking_ceiling(candidates, simulated, depth, 10, best[10])
                        ]
                    ]
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


def knn_lists(candidates: pl.DataFrame, k: int, rank: str = "knn_rank") -> pl.DataFrame:
    """One retriever's own ranking as a recommender, its first k films: item-kNN (`knn_rank`:
    co-viewing cosine summed over the user's history, each film's `retrieval_neighbours`
    nearest), user-kNN (`user_knn_rank`: the films of the user's nearest viewers) or EASE
    (`ease_rank`). A user the retriever proposes nothing to gets no list."""
    return (
        candidates.filter(pl.col(rank) <= k)
        .select("user_id", pl.col(rank).alias("rank"), "movie_id")
        .sort("user_id", "rank")
    )


def candidate_recall(
    candidates: pl.DataFrame, relevant: pl.DataFrame, ks: tuple[int, ...]
) -> list[tuple[int, float]]:
    """Recall of the first k candidates (rank <= k) at each k, averaged over users with
    at least one relevant film: how much of what users chose retrieval hands the ranker.
    Recall counts hits only, so the candidates that are no hit are dropped first."""
    hits = candidates.join(relevant, on=["user_id", "movie_id"], how="semi")
    return [(k, ranking_metrics(hits, relevant, k)["recall"]) for k in ks]


def evaluation_cutoff(con: duckdb.DuckDBPyConnection, settings: EvaluateSettings) -> datetime:
    """The moment the lists are made at: `holdout_days` before the latest landed viewing
    (time split), or just after it (random split: everything landed, as the nightly
    serves)."""
    (latest,) = con.execute("select max(interacted_at) from core.fct_interactions").fetchall()[0]
    if settings.split == "random":
        return latest + timedelta(microseconds=1)  # type: ignore[no-any-return]
    return latest - timedelta(days=settings.holdout_days)  # type: ignore[no-any-return]


def _model_lists(
    con: duckdb.DuckDBPyConnection,
    contract: FeatureContract,
    model: ModelRecord,
    cutoff: datetime,
    settings: RecommendSettings,
    users: list[int],
    retrieved: pa.Table,
    progress: Progress,
    masked: duckdb.DuckDBPyConnection | None,
) -> pl.DataFrame:
    """The model's configuration refitted on viewings before the cut-off, then the nightly's
    scoring path for `users` (on `retrieved`, retrieval's candidates at the cut-off) with
    features as of the cut-off."""
    mode = TrainingMode.from_dict(model.training)
    data = training_rows(
        con, contract, model.features, mode, cutoff, masked, settings.at_latest_viewing
    )
    forest = fit_forest(data.features, data.labels, ForestParams(**model.params))
    progress(
        f"refitted {model.model_id}'s configuration ({mode.mode}) on {len(data.labels):,} "
        "rows from before the cut-off"
    )
    scorer = OnnxScorer(to_onnx(forest, len(model.features)))
    ranking = rank_users(con, scorer, model.features, settings, cutoff, progress, users, retrieved)
    lists = pl.from_arrow(ranking.top_n.select(["user_id", "rank", "movie_id"]))
    assert isinstance(lists, pl.DataFrame)
    return lists


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
        con.register("random_draws", drawn.to_arrow())
        con.execute(
            "create or replace temp table baseline_candidates as "
            "select user_id, movie_id, preference from random_draws"
        )
        con.unregister("random_draws")
    elif name == "cooccurrence":
        con.execute(
            _sql("cooccurrence_candidates"),
            {"cutoff": cutoff, "depth": depth, "neighbours": COOCCURRENCE_NEIGHBOURS},
        )
    else:
        con.execute(
            _sql("popularity_candidates"),
            {"cutoff": cutoff, "depth": depth, "by_segment": name == "segment_popularity"},
        )
    lists = query_frame(con, _sql("baseline_lists"), {"cutoff": cutoff, "k": k_max})
    con.execute("drop table baseline_candidates")
    return lists


def _truth(
    con: duckdb.DuckDBPyConnection,
    cutoff: datetime,
    liked_only: bool,
    held_out: pl.DataFrame | None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Films viewed (or only those liked) after the cut-off, or held out, and not viewed
    before it; the catalogue with its main genre and past views; every user's segment."""
    if held_out is None:
        con.execute(
            "create or replace temp table later_viewings as "
            "select user_id, movie_id, is_liked, interacted_at from core.fct_interactions "
            "where interacted_at >= $cutoff",
            {"cutoff": cutoff},
        )
    else:
        con.register("held_out_rows", held_out.select("user_id", "movie_id", "is_liked"))
        con.execute(
            "create or replace temp table later_viewings as "
            "select user_id, movie_id, is_liked, cast($cutoff as timestamp) as interacted_at "
            "from held_out_rows",
            {"cutoff": cutoff},
        )
        con.unregister("held_out_rows")
    relevant = query_frame(con, _sql("relevant"), {"cutoff": cutoff, "liked_only": liked_only})
    con.execute("drop table later_viewings")
    films = query_frame(con, _sql("catalogue"), {"cutoff": cutoff})
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
