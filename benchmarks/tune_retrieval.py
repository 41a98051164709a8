"""Tune the kNN retrievers' k on a validation split carved from training, never on the
split the MovieLens benchmark reports.

ml-100k lands with 25 % of each user's ratings held out (`movierec ingest movielens PATH
--holdout-share 0.25`): the reported test set, which this script never reads. From what
landed, a masked world (docs/model.md) hides another 25 % of each user's films with a seed
of its own (101; training's masked world uses 7): the validation set. For each k, the
same dbt project is built into that world with `retrieval_neighbours` (each film's nearest
films, item-kNN) and `retrieval_neighbour_users` (each user's nearest viewers, user-kNN)
set to k; retrieval is asked for every user with a hidden film just after their latest
visible viewing (as the random split's lists are), and each retriever alone is judged on
the hidden films: precision@10 and nDCG@10, and the union's recall at 300.

With `--pools`, k stays at dbt_project.yml's and user-kNN's neighbour pool shrinks instead
(`retrieval_neighbour_pool`: every s-th user may be a neighbour, s = 1, 2, 4, 10): what the
approximation that bounds a request's cost at scale costs on real data.

    .venv/bin/python -m benchmarks.tune_retrieval /path/to/ml-100k [--pools]

Writes benchmarks/results/tune_retrieval[_pools].{md,json}.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from benchmarks.bench_reranker import CONFIG
from benchmarks.measure import RESULTS, data_env, machine, run_step
from movierec.evaluation import candidate_recall, knn_lists, ranking_metrics
from movierec.settings import load
from movierec.warehouse import connect, retrieve, retrieved, run_dbt

GRID = (10, 25, 50, 100, 200, 400)
STRIDES = (1, 2, 4, 10)  # with --pools: every s-th of ml-100k's 943 users may be a neighbour
ML_100K_USERS = 943
SHARE, SEED = 0.25, 101
SQL = Path(__file__).resolve().parents[1] / "python/movierec/training/sql/masked_moments.sql"


def judge(data: Path, setting: dict[str, int]) -> dict[str, float]:
    """Build the validation world with the retrieval vars `setting`; judge each kNN
    retriever alone."""
    # the MovieLens config's settings (300 candidates per user among them)
    paths = load({"MOVIEREC_DATA_DIR": str(data), "MOVIEREC_CONFIG": str(CONFIG)}).paths
    world = replace(paths, warehouse_path=data / "validation" / "world.duckdb")
    world.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    variables = {"training_mask_share": SHARE, "training_mask_seed": SEED, **setting}
    started = time.perf_counter()
    run_dbt(
        world,
        [
            "run",
            *("--select", "+ml_retrieval_candidates"),
            *("--target-path", str(data / "dbt" / "validation-target")),
        ],
        variables=variables,
    )
    with connect(world) as con:
        params = {"until": None, "at_latest_viewing": True}
        retrieve(con, SQL.read_text(), params)
        candidates = pl.from_arrow(retrieved(con))
        hidden = con.sql("select user_id, movie_id from intermediate.int_masked_viewings").pl()
    assert isinstance(candidates, pl.DataFrame)
    seconds = time.perf_counter() - started
    world.warehouse_path.unlink()
    row: dict[str, float] = {**setting, "users": hidden["user_id"].n_unique()}
    for name, rank in (("item_knn", "knn_rank"), ("user_knn", "user_knn_rank")):
        metrics = ranking_metrics(knn_lists(candidates, 10, rank=rank), hidden, 10)
        row[f"{name}_precision"] = round(metrics["precision"], 4)
        row[f"{name}_ndcg"] = round(metrics["ndcg"], 4)
    ((_, recall),) = candidate_recall(candidates, hidden, (300,))
    row["union_recall_300"] = round(recall, 4)
    row["seconds"] = round(seconds, 1)
    return row


def render(rows: list[dict[str, float]], pools: bool) -> str:
    lines = [
        f"Retrieval's {'neighbour pool' if pools else 'k'} on a validation split of ml-100k, "
        f"{datetime.now(UTC):%Y-%m-%d}, {machine()}",
        "",
        "Landed: 75 % of each user's ratings (the reported test set held out at ingest, "
        f"unread). Validation: a masked world hiding {SHARE:.0%} of each user's landed "
        f"films (seed {SEED}); each retriever alone, top 10, judged on the hidden films.",
        "",
    ]
    first = "user-kNN's pool (every s-th user)" if pools else "k"
    lines += [
        f"| {first} | item-kNN p@10 | item-kNN nDCG@10 | user-kNN p@10 | user-kNN nDCG@10 | "
        "union recall@300 | build + retrieve (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        setting = (
            f"{r['retrieval_neighbour_pool']} "
            f"(s = {math.ceil(ML_100K_USERS / r['retrieval_neighbour_pool'])})"
            if pools
            else f"{r['retrieval_neighbours']}"
        )
        lines.append(
            f"| {setting} | {r['item_knn_precision']:.4f} | {r['item_knn_ndcg']:.4f} | "
            f"{r['user_knn_precision']:.4f} | {r['user_knn_ndcg']:.4f} | "
            f"{r['union_recall_300']:.4f} | {r['seconds']:.1f} |"
        )
    if not pools:
        best = {
            name: max(rows, key=lambda r: r[f"{name}_precision"])["retrieval_neighbours"]
            for name in ("item_knn", "user_knn")
        }
        lines += [
            "",
            f"Best k by precision@10: item-kNN (`retrieval_neighbours`) {best['item_knn']}, "
            f"user-kNN (`retrieval_neighbour_users`) {best['user_knn']}.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="the ml-100k folder (u.data, u.user, u.item)")
    parser.add_argument("--pools", action="store_true", help="shrink user-kNN's pool, not k")
    args = parser.parse_args()
    if args.pools:
        settings = [{"retrieval_neighbour_pool": math.ceil(ML_100K_USERS / s)} for s in STRIDES]
    else:
        settings = [{"retrieval_neighbours": k, "retrieval_neighbour_users": k} for k in GRID]
    with tempfile.TemporaryDirectory(prefix="movierec-tune-") as tmp:
        data = Path(tmp)
        ingest = ["ingest", "movielens", str(args.path), "--holdout-share", "0.25"]
        run_step("ml-100k", "ingest", ingest, data_env(data))
        rows = []
        for setting in settings:
            rows.append(judge(data, setting))
            print(rows[-1], flush=True)
    report = render(rows, args.pools)
    print(report)
    name = "tune_retrieval_pools" if args.pools else "tune_retrieval"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(report)
    result = {"machine": machine(), "mask_share": SHARE, "mask_seed": SEED, "rows": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
