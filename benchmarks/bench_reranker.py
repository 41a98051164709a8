"""Which ranking of retrieval's candidates wins on MovieLens-100k: the re-ranker study.

For two splits of ml-100k it ingests and builds a warehouse (`movierec ingest movielens`,
then `movierec nightly --no-evaluate-new-model`), then, in this process and on a copy of
the warehouse, ranks the same retrieval candidates several ways and judges the top 10:

- the retrieval union's own order, and the knn and user_knn retrievers' ranks alone;
- the forest trained as the nightly's implicit mode did before (every viewing a
  positive, four uniformly drawn unviewed films per positive, each at its own moment);
- the forest trained on retrieval's own candidates (`negative_sampling = "retrieval"`:
  one moment at each user's first viewing and one inside their history, a candidate
  viewed from then on is a positive), with the benchmark's forest and a regularised one;
- the same two forests trained in the masked world (`negative_sampling = "masked"`: 25 %
  of each user's films hidden, retrieval's candidates at the lists' own moment rule, a
  hidden film is a positive).

Splits: `time` (lists at 30 days before the latest rating, judged on the ratings after
it) and `stratified 75/25` (25 % of each user's ratings held out at ingest, lists just
after the latest landed rating, as the nightly serves). The forests train in the
config's implicit mode (benchmarks/movielens.toml, its EASE weights among the features).
Every forest trains on rows before the lists' moment only.
Writes benchmarks/results/reranker.{json,md}.

    .venv/bin/python -m benchmarks.bench_reranker /path/to/ml-100k
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from sklearn.ensemble import RandomForestClassifier

from benchmarks.measure import REPO, RESULTS, data_env, machine, run_step
from movierec.evaluation import ranking_metrics
from movierec.flows.steps import training_world
from movierec.settings import ForestParams, NegativeSampling, Paths, load
from movierec.training import TrainingRows, training_rows
from movierec.warehouse import (
    feature_batches,
    parse_feature_contract,
    request_pairs,
    retrieve_candidates,
)

CONFIG = REPO / "benchmarks" / "movielens.toml"
FEATURES_YML = REPO / "dbt_project" / "models" / "marts" / "ml" / "_ml__features.yml"
K = 10
# the benchmark's forest (benchmarks/movielens.toml) and a regularised one
FORESTS = {
    "depth 20": ForestParams(max_depth=20),
    "depth 12, leaf 50, 100 trees": ForestParams(
        n_estimators=100, max_depth=12, min_samples_leaf=50, class_weight=None
    ),
}


def _forest(params: ForestParams) -> RandomForestClassifier:
    return RandomForestClassifier(**params.as_dict())


def _top(keys: pl.DataFrame, scores: np.ndarray) -> pl.DataFrame:
    """Each user's top K by score (ties: the lower movie_id) as (user_id, rank, movie_id)."""
    ranked = keys.with_columns(score=pl.Series(scores)).sort(
        ["user_id", "score", "movie_id"], descending=[False, True, False]
    )
    return ranked.with_columns(rank=pl.int_range(1, pl.len() + 1).over("user_id")).filter(
        pl.col("rank") <= K
    )


def study(
    data: Path,
    split: str,
    held_out: Path | None,
    samplings: tuple[NegativeSampling, ...] = ("uniform", "retrieval", "masked"),
    forests: dict[str, ForestParams] = FORESTS,
) -> list[dict[str, object]]:
    """Rank retrieval's candidates every way on a copy of the warehouse of the data folder
    `data`, judged on the ratings after the lists' moment or, given, on `held_out`; one row
    per ranker: the retrievers' orders, and each of `forests` trained with each negative
    sampling of `samplings` (uniform negatives: the first forest only)."""
    contract = parse_feature_contract(FEATURES_YML.read_text())
    columns = contract.features
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "w.duckdb"
        shutil.copy(data / "warehouse" / "movierec.duckdb", copy)
        con = duckdb.connect(str(copy))
        con.execute("set enable_progress_bar = false")
        (latest,) = con.execute("select max(interacted_at) from core.fct_interactions").fetchall()[
            0
        ]
        # a held-out split is served at the end of the landed data (as the nightly serves
        # and the evaluation's random split judges), the time split 30 days before it
        if held_out is not None:
            moment = latest + timedelta(microseconds=1)
        else:
            moment = latest - timedelta(days=30)
        if held_out is None:
            truth = pl.from_arrow(
                con.sql(
                    "select distinct user_id, movie_id from core.fct_interactions as later "
                    "where interacted_at >= $m and not exists (select 1 from "
                    "core.fct_interactions as seen where seen.user_id = later.user_id and "
                    "seen.movie_id = later.movie_id and seen.interacted_at < $m)",
                    params={"m": moment},
                ).to_arrow_table()
            )
        else:
            truth = pl.read_parquet(held_out).select("user_id", "movie_id").unique()
        assert isinstance(truth, pl.DataFrame)

        trained: dict[NegativeSampling, tuple[TrainingRows, float]] = {}
        # the config's implicit mode (its EASE weights among them), each sampling in turn
        configured = load({"MOVIEREC_CONFIG": str(CONFIG)}).training
        # the masked world is built beside the copy, from the data folder's landed files
        paths = Paths(project_dir=REPO, data_dir=data, warehouse_path=copy)
        for sampling in samplings:
            started = time.perf_counter()
            mode = replace(configured, negative_sampling=sampling)
            with training_world(paths, mode, print) as masked:
                rows = training_rows(con, contract, columns, mode, moment, masked)
            trained[sampling] = (rows, time.perf_counter() - started)

        users = [r[0] for r in con.execute("select user_id from core.dim_users").fetchall()]
        candidates = retrieve_candidates(con, users, moment)
        con.register("proposed", candidates)
        request_pairs(con, "select user_id, movie_id from proposed", {}, moment)
        parts = list(feature_batches(con, columns, 1_000_000))
        con.close()
    frames = [pl.from_arrow(k) for k, _ in parts]
    keys = pl.concat(
        [f.select("user_id", "movie_id") for f in frames if isinstance(f, pl.DataFrame)]
    )
    matrix = np.vstack([m for _, m in parts])

    def judged(name: str, scores: np.ndarray, rows: int, seconds: float) -> dict[str, object]:
        metrics = ranking_metrics(_top(keys, scores), truth, K)
        return {
            "split": split,
            "ranker": name,
            "training_rows": rows,
            "seconds": round(seconds, 1),
            **{m: round(metrics[m], 4) for m in ("precision", "recall", "ndcg", "map")},
        }

    results = [
        judged("retrieval order", -matrix[:, columns.index("retrieval_rank")], 0, 0.0),
        judged("knn rank alone", -matrix[:, columns.index("knn_rank")], 0, 0.0),
        judged("user_knn rank alone", -matrix[:, columns.index("user_knn_rank")], 0, 0.0),
    ]
    for sampling, (rows, sampling_seconds) in trained.items():
        fitted = forests if sampling != "uniform" else dict(list(forests.items())[:1])
        for label, params in fitted.items():
            started = time.perf_counter()
            forest = _forest(params).fit(rows.features, rows.labels)
            scores = forest.predict_proba(matrix)[:, 1]
            seconds = sampling_seconds + time.perf_counter() - started
            name = f"forest, {sampling} negatives, {label}"
            results.append(judged(name, scores, len(rows.labels), seconds))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="the ml-100k folder (u.data, u.user, u.item)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="movierec-reranker-") as tmp:
        for split, ingest_args in (("time", []), ("stratified 75/25", ["--holdout-share", "0.25"])):
            data = Path(tmp) / split.split()[0]
            env = {**data_env(data), "MOVIEREC_CONFIG": str(CONFIG)}
            ingest = ["ingest", "movielens", str(args.path), *ingest_args]
            run_step("ml-100k", "ingest", ingest, env)
            run_step("ml-100k", "nightly", ["nightly", "--no-evaluate-new-model"], env)
            held_out = data / "holdout" / "interactions.parquet" if ingest_args else None
            results += study(data, split, held_out)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y-%m-%d}, {machine()}"
    (RESULTS / "reranker.json").write_text(json.dumps({"machine": stamp, "rows": results}))
    lines = [
        f"MovieLens-100k re-ranker study, {stamp}",
        "",
        "Top 10 of the same retrieval candidates (300 per user), ranked each way; "
        "`seconds` = building the training rows + fitting + scoring.",
        "",
        "| split | ranker | training rows | precision@10 | recall@10 | ndcg@10 | map@10 "
        "| seconds |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['split']} | {r['ranker']} | {r['training_rows']:,} | {r['precision']:.4f} | "
        f"{r['recall']:.4f} | {r['ndcg']:.4f} | {r['map']:.4f} | {r['seconds']} |"
        for r in results
    ]
    (RESULTS / "reranker.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
