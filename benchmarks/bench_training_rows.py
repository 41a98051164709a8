"""Choose the training bound: list quality against the training rows used.

On a built world (a fresh one at `--scale`, or `--data DIR` holding a published
warehouse), at a cut-off `--holdout-days` before the latest viewing, for each budget: the
default forest fitted on the bounded sample (`TrainingMode(max_rows=budget)`,
`training.bounded_sample`) of the viewings before the cut-off, then judged on
- AUC on the viewings after the cut-off (liked among viewed, the explicit mode's label);
- the expected-likes ratio @10 (the simulator's truth, docs/evaluation.md) of the lists it
  re-ranks from retrieval's candidates, for a seeded sample of users at the cut-off: the
  nightly's own scoring path (`rank_users`).
Budget 0 is every viewing. Works on a copy of the warehouse file. Writes
benchmarks/results/training_rows_<scale>.{json,md}.

    .venv/bin/python -m benchmarks.bench_training_rows [--scale 10x] [--data DIR]
        [--budgets 50000,100000,200000,400000,800000,0] [--users 2000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from benchmarks.measure import RESULTS, machine, published_warehouse
from movierec.evaluation.truth import best_expected_likes, expected_like_ratio, truth_of
from movierec.model import OnnxScorer, fit_forest, to_onnx
from movierec.scoring import rank_users
from movierec.settings import ForestParams, RecommendSettings, TrainingMode
from movierec.training import training_rows
from movierec.warehouse import parse_feature_contract, retrieve_candidates

FEATURES_YML = Path(__file__).resolve().parents[1] / "dbt_project/models/marts/ml/_ml__features.yml"
K = 10


def study(
    warehouse: Path, budgets: list[int], users: int, holdout_days: int
) -> list[dict[str, object]]:
    contract = parse_feature_contract(FEATURES_YML.read_text())
    columns = contract.features
    rows: list[dict[str, object]] = []
    with duckdb.connect(str(warehouse)) as con:
        every = training_rows(con, contract, columns, TrainingMode(max_rows=0))
        latest = every.requested_at.max().astype("datetime64[us]").item()
        cutoff = latest - timedelta(days=holdout_days)
        # the viewings after the cut-off, as the forest sees them
        held_out = every.requested_at >= np.datetime64(cutoff)
        test_features, test_labels = every.features[held_out], every.labels[held_out]
        evaluated = [
            int(r[0])
            for r in con.execute(
                "select user_id from core.dim_users where user_id in (select user_id from "
                "core.fct_interactions where interacted_at < $c) order by hash(user_id, 42) "
                "limit $n",
                {"c": cutoff, "n": users},
            ).fetchall()
        ]
        truth = truth_of(con, evaluated, cutoff)
        assert truth is not None, "the simulated world states every user's genres"
        best = best_expected_likes(truth, (K,))[K]
        scoring = RecommendSettings(top_n=K)
        retrieved = retrieve_candidates(con, evaluated, cutoff)  # once, for every budget
        for budget in budgets:
            started = time.perf_counter()
            data = training_rows(con, contract, columns, TrainingMode(max_rows=budget), cutoff)
            load_seconds = time.perf_counter() - started
            started = time.perf_counter()
            forest = fit_forest(data.features, data.labels, ForestParams())
            fit_seconds = time.perf_counter() - started
            auc = roc_auc_score(test_labels, forest.predict_proba(test_features)[:, 1])
            scorer = OnnxScorer(to_onnx(forest, len(columns)))
            ranking = rank_users(
                con, scorer, columns, scoring, cutoff, user_ids=evaluated, candidates=retrieved
            )
            lists = pl.from_arrow(ranking.top_n.select(["user_id", "rank", "movie_id"]))
            assert isinstance(lists, pl.DataFrame)
            ratios = expected_like_ratio(lists, truth, K, best)["expected_like_ratio"].to_numpy()
            row: dict[str, object] = {
                "budget": budget,
                "training_rows": len(data.labels),
                "load_seconds": round(load_seconds, 1),
                "fit_seconds": round(fit_seconds, 1),
                "held_out_auc": round(float(auc), 4),
                "expected_like_ratio_at_10": round(float(ratios.mean()), 4),
            }
            print(row, flush=True)
            rows.append(row)
    return rows


def _markdown(scale: str, rows: list[dict[str, object]], command: str) -> str:
    lines = [
        f"Training rows against list quality, {datetime.now(UTC):%Y-%m-%d}, {machine()}, "
        f"scale {scale}",
        "",
        f"Command: `{command}`",
        "",
        "| budget | training rows | load (s) | fit (s) | held-out AUC | expected-likes ratio@10 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        budget = "every viewing" if r["budget"] == 0 else f"{r['budget']:,}"
        lines.append(
            f"| {budget} | {r['training_rows']:,} | {r['load_seconds']} | {r['fit_seconds']} | "
            f"{r['held_out_auc']:.4f} | {r['expected_like_ratio_at_10']:.4f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="10x")
    parser.add_argument("--data", type=Path, help="a data folder with a published warehouse")
    parser.add_argument("--budgets", default="50000,100000,200000,400000,800000,0")
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--holdout-days", type=int, default=30)
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    with tempfile.TemporaryDirectory(prefix="movierec-training-rows-") as tmp:
        copy = Path(tmp) / "copy.duckdb"
        shutil.copy(published_warehouse(args.scale, args.data, Path(tmp)), copy)
        rows = study(copy, budgets, args.users, args.holdout_days)
    command = (
        f"python -m benchmarks.bench_training_rows --scale {args.scale} --budgets {args.budgets} "
        f"--users {args.users} --holdout-days {args.holdout_days}"
    )
    name = f"training_rows_{args.scale}"
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"machine": machine(), "command": command, "rows": rows}, indent=1) + "\n"
    )
    (RESULTS / f"{name}.md").write_text(_markdown(args.scale, rows, command))
    print(_markdown(args.scale, rows, command))


if __name__ == "__main__":
    main()
