"""Ranking and catalogue metrics of top-K lists; pure functions on polars frames.

`lists` has one row per (user_id, rank, movie_id), rank 1 = best; `relevant` one row per
(user_id, movie_id) the user liked in the held-out period. Accuracy metrics average over
users with at least one relevant film; catalogue metrics look at every list.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl


def ranking_metrics(lists: pl.DataFrame, relevant: pl.DataFrame, k: int) -> dict[str, float]:
    """precision@k, recall@k, ndcg@k, map@k, hit_rate@k and the users they average over."""
    top = lists.filter(pl.col("rank") <= k)
    truth = relevant.unique().with_columns(is_relevant=pl.lit(True))
    n_relevant = truth.group_by("user_id").agg(n_relevant=pl.len())
    judged = (
        top.join(truth, on=["user_id", "movie_id"], how="left")
        .with_columns(hit=pl.col("is_relevant").fill_null(False).cast(pl.Int64))
        .sort("user_id", "rank")
        .with_columns(hits_so_far=pl.col("hit").cum_sum().over("user_id"))
    )
    per_user = (
        judged.group_by("user_id")
        .agg(
            hits=pl.col("hit").sum(),
            dcg=(pl.col("hit") / (pl.col("rank") + 1).log(base=2)).sum(),
            ap_sum=(pl.col("hit") * pl.col("hits_so_far") / pl.col("rank")).sum(),
        )
        .join(n_relevant, on="user_id", how="right")
        .fill_null(0)
    )
    if per_user.height == 0:
        return {"precision": 0.0, "recall": 0.0, "ndcg": 0.0, "map": 0.0, "hit_rate": 0.0,
                "users_evaluated": 0.0}  # fmt: skip
    ideal = per_user["n_relevant"].clip(upper_bound=k).to_numpy()
    # the ideal DCG of n hits at the top, for n = 0 .. k
    idcg = np.concatenate([[0.0], np.cumsum(1 / np.log2(np.arange(2, k + 2)))])[ideal]
    hits = per_user["hits"].to_numpy().astype(float)
    return {
        "precision": float(np.mean(hits / k)),
        "recall": float(np.mean(hits / per_user["n_relevant"].to_numpy())),
        "ndcg": float(np.mean(per_user["dcg"].to_numpy() / idcg)),
        "map": float(np.mean(per_user["ap_sum"].to_numpy() / ideal)),
        "hit_rate": float(np.mean(hits > 0)),
        "users_evaluated": float(per_user.height),
    }


def gini(counts: npt.NDArray[np.float64]) -> float:
    """Gini coefficient of exposure: 0 when every film is shown equally, near 1 when a few
    films take everything. Films never shown must be included as zeros."""
    x = np.sort(np.asarray(counts, dtype=float))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return 0.0
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * total) - (n + 1) / n)


def catalogue_metrics(lists: pl.DataFrame, films: pl.DataFrame, k: int) -> dict[str, float]:
    """coverage, gini, novelty and intra-list diversity of the top-k lists.

    `films` has one row per catalogue film: movie_id, genre (its main genre) and
    prior_views (viewings before the cut-off, for novelty).
    """
    top = lists.filter(pl.col("rank") <= k)
    exposure = films.join(
        top.group_by("movie_id").agg(shown=pl.len()), on="movie_id", how="left"
    ).fill_null(0)
    total_views = float(films["prior_views"].sum())
    info = films.with_columns(
        self_information=-((pl.col("prior_views") + 1) / (total_views + films.height)).log(base=2)
    )
    novelty = top.join(info, on="movie_id")["self_information"].mean()
    # per list: the share of its film pairs whose main genres differ, 1 - same / all pairs
    per_list = (
        top.join(films.select("movie_id", "genre"), on="movie_id")
        .group_by("user_id", "genre")
        .agg(films=pl.len())
        .group_by("user_id")
        .agg(n=pl.col("films").sum(), same=(pl.col("films") * (pl.col("films") - 1)).sum())
        .filter(pl.col("n") >= 2)
        .select(share=1 - pl.col("same") / (pl.col("n") * (pl.col("n") - 1)))
    )
    diversity = per_list["share"].mean()
    return {
        "coverage": float((exposure["shown"] > 0).sum() / films.height),
        "gini": gini(exposure["shown"].to_numpy()),
        "novelty": float(novelty) if novelty is not None else 0.0,  # type: ignore[arg-type]
        "intra_list_diversity": float(diversity) if diversity is not None else 0.0,  # type: ignore[arg-type]
    }
