"""MovieLens-100k through movierec: ingest, a nightly per training mode, and evaluation.

Time split, in a fresh data folder: `movierec ingest movielens PATH`, then `movierec
nightly` with the explicit mode (the seed's "liked among viewed") and again with the
implicit mode of benchmarks/movielens.toml; each nightly trains, evaluates the new model
against the baselines on the viewings of the last 30 days, and recommends.

Random split, in another: `movierec ingest movielens PATH --holdout-per-user 10` (ten
random ratings per user never land, as in ml-100k's ua split), then per mode a nightly and
`movierec evaluate --split random`, judged on the held-out ratings.

Reads the evaluations back from the published warehouses and writes
benchmarks/results/movielens.{json,md}.

The data may not be redistributed: download ml-100k from GroupLens yourself.

    .venv/bin/python -m benchmarks.bench_movielens /path/to/ml-100k
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.bench_nightly import stage_times
from benchmarks.measure import REPO, RESULTS, StepResult, data_env, machine, run_step

CONFIG = REPO / "benchmarks" / "movielens.toml"
HISTORY_SLICES = ("no_history", "with_history")
METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "coverage")


def evaluations(
    warehouse: Path, label: str | None = None, segment: str = "all"
) -> list[dict[str, object]]:
    """Top-10 metrics over all users (or a `segment`) of every evaluation, with its model's
    training mode; `label` names the split instead of the stored one (two random splits)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"""
            select metrics.split, json_extract_string(registry.training, '$.mode') as mode,
                metrics.recommender, metrics.metric, metrics.value,
                registry.params, metrics.cutoff
            from ml_outputs.evaluation_metrics as metrics
            inner join ml_outputs.model_registry as registry using (model_id)
            where metrics.k = 10 and metrics.segment = ?
                and metrics.metric in ({", ".join(f"'{m}'" for m in (*METRICS, "users_evaluated"))})
            order by metrics.evaluated_at, metrics.recommender
            """,
            [segment],
        ).fetchall()
    table: dict[tuple[str, str, str], dict[str, object]] = {}
    for split, mode, recommender, metric, value, params, cutoff in rows:
        split = label or split
        entry = table.setdefault(
            (split, mode, recommender),
            {
                "split": split,
                "mode": mode,
                "recommender": recommender,
                "max_depth": json.loads(params)["max_depth"],
                "cutoff": str(cutoff),
            },
        )
        entry[metric] = round(float(value), 4)
    return list(table.values())


def candidate_recalls(warehouse: Path, label: str | None = None) -> list[dict[str, object]]:
    """Recall of the first k retrieval candidates, over all users, per evaluation."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select metrics.split, json_extract_string(registry.training, '$.mode') as mode,
                metrics.k, metrics.value
            from ml_outputs.evaluation_metrics as metrics
            inner join ml_outputs.model_registry as registry using (model_id)
            where metrics.metric = 'candidate_recall' and metrics.segment = 'all'
            order by metrics.evaluated_at, metrics.k
            """
        ).fetchall()
    return [
        {
            "split": label or split,
            "mode": mode,
            "k": int(k),
            "candidate_recall": round(float(value), 4),
        }
        for split, mode, k, value in rows
    ]


def user_activity(warehouse: Path) -> dict[str, float]:
    """How users rate: the median span between a user's first and last rating, and the
    share of users with no rating in the last 30 days of the data."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        span, idle = con.execute(
            """
            with users as (
                select user_id, min(interacted_at) as first_at, max(interacted_at) as last_at
                from core.fct_interactions group by user_id
            )
            select
                median(epoch(last_at) - epoch(first_at)) / 60,
                avg(case when last_at < (select max(interacted_at) from core.fct_interactions)
                    - interval 30 day then 1 else 0 end)
            from users
            """
        ).fetchall()[0]
    return {"median_rating_span_minutes": round(span, 1), "share_idle_last_30_days": round(idle, 4)}


def served(warehouse: Path) -> tuple[int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        users, rows = con.execute(
            "select count(distinct user_id), count(*) from ml.ml_recommendations_latest"
        ).fetchall()[0]
    return int(users), int(rows)


def render(
    rows: list[dict[str, object]],
    slices: list[dict[str, object]],
    recalls: list[dict[str, object]],
    users: int,
    recommendations: int,
    activity: dict[str, float],
    steps: list[StepResult],
) -> str:
    cutoff = next(row["cutoff"] for row in rows if row["split"] == "time")
    published = (
        "Published on ml-100k (Microsoft Recommenders' benchmark, per-user stratified 75/25, "
        "top 10, seen removed, every test rating relevant), precision@10: SAR 0.331, "
        "LightGCN 0.380, BPR 0.388, BiVAE 0.412 (nDCG@10 0.475)."
    )
    lines = [
        f"MovieLens-100k, {datetime.now(UTC):%Y-%m-%d}, {machine()}",
        "",
        f"Top 10, all 943 users. Time split: lists from before {cutoff}, judged on the "
        "30 days after. Random splits: lists from everything landed, judged on 10 ratings "
        "per user, or on 25 % of each user's ratings (the published benchmark's stratified "
        "75/25 split), held out at ingest (seed 7). A hit is a judged film the user viewed "
        "(implicit mode) or liked (explicit mode).",
        "",
        published,
        "",
        "| split | training mode | recommender | " + " | ".join(f"{m}@10" for m in METRICS) + " |",
        "|---|---|---|" + "---:|" * len(METRICS),
    ]
    for row in rows:
        values = " | ".join(f"{row[m]:.4f}" for m in METRICS)
        lines.append(f"| {row['split']} | {row['mode']} | {row['recommender']} | {values} |")
    lines += [
        "",
        "The time split (implicit) by history slice: the judged users who had viewed nothing "
        "before the cut-off (`no_history`) and the others.",
        "",
        "| recommender | "
        + " | ".join(f"{s}: {m}@10" for s in HISTORY_SLICES for m in ("precision", "ndcg"))
        + " |",
        "|---|" + "---:|" * 2 * len(HISTORY_SLICES),
    ]
    by_recommender: dict[str, dict[str, dict[str, object]]] = {}
    for row in slices:
        by_recommender.setdefault(str(row["recommender"]), {})[str(row["segment"])] = row
    for recommender, of in by_recommender.items():
        cells = " | ".join(
            f"{float(str(of[s][m])):.4f}" if s in of else ""
            for s in HISTORY_SLICES
            for m in ("precision", "ndcg")
        )
        lines.append(f"| {recommender} | {cells} |")
    first = next(iter(by_recommender.values()), {})
    judged = ", ".join(
        f"{s} {float(str(first[s]['users_evaluated'])):.0f}" for s in HISTORY_SLICES if s in first
    )
    lines += ["", f"Judged users: {judged}."]
    depths = sorted({int(str(r["k"])) for r in recalls})
    lines += [
        "",
        "Candidate recall of retrieval (ml_retrieval_candidates): the share of each user's "
        "judged films among their first k candidates, averaged over judged users.",
        "",
        "| split | training mode | " + " | ".join(f"recall@{k}" for k in depths) + " |",
        "|---|---|" + "---:|" * len(depths),
    ]
    by_run: dict[tuple[str, str], dict[int, float]] = {}
    for r in recalls:
        by_run.setdefault((str(r["split"]), str(r["mode"])), {})[int(str(r["k"]))] = float(
            str(r["candidate_recall"])
        )
    for (split, mode), recall_at in by_run.items():
        cells = " | ".join(f"{recall_at[k]:.4f}" if k in recall_at else "" for k in depths)
        lines.append(f"| {split} | {mode} | {cells} |")
    lines += [
        "",
        f"Latest run: {users:,} users served, {recommendations:,} rows.",
        "",
        f"Users' ratings span {activity['median_rating_span_minutes']:.1f} minutes at the "
        f"median; {activity['share_idle_last_30_days']:.1%} of users rated nothing in the "
        "last 30 days.",
        "",
        "| step | wall (s) | peak RSS (MiB) |",
        "|---|---:|---:|",
    ]
    lines += [f"| {s.step} | {s.seconds:.1f} | {s.peak_rss_mib:.0f} |" for s in steps]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="the ml-100k folder (u.data, u.user, u.item)")
    args = parser.parse_args()
    explicit = ["--training-mode", "explicit"]
    with tempfile.TemporaryDirectory(prefix="movierec-movielens-") as tmp:
        timed, shuffled = Path(tmp) / "time", Path(tmp) / "random"
        stratified = Path(tmp) / "stratified"
        env = {**data_env(timed), "MOVIEREC_CONFIG": str(CONFIG)}
        steps = [
            run_step("ml-100k", "ingest", ["ingest", "movielens", str(args.path)], env),
            run_step("ml-100k", "nightly (explicit)", ["nightly", *explicit], env),
            run_step("ml-100k", "nightly (implicit)", ["nightly"], env),
        ]
        env = {**data_env(shuffled), "MOVIEREC_CONFIG": str(CONFIG)}
        ingest = ["ingest", "movielens", str(args.path), "--holdout-per-user", "10"]
        quiet = "--no-evaluate-new-model"
        random_split = ["evaluate", "--split", "random"]
        steps += [
            run_step("ml-100k", "ingest, 10 held out per user", ingest, env),
            run_step("ml-100k", "nightly (explicit)", ["nightly", quiet, *explicit], env),
            run_step("ml-100k", "evaluate --split random", random_split, env),
            run_step("ml-100k", "nightly (implicit)", ["nightly", quiet], env),
            run_step("ml-100k", "evaluate --split random", random_split, env),
        ]
        # the published benchmark's split: 25 % of each user's ratings held out
        env = {**data_env(stratified), "MOVIEREC_CONFIG": str(CONFIG)}
        ingest = ["ingest", "movielens", str(args.path), "--holdout-share", "0.25"]
        steps += [
            run_step("ml-100k", "ingest, 25 % held out per user", ingest, env),
            run_step("ml-100k", "nightly (implicit)", ["nightly", quiet], env),
            run_step("ml-100k", "evaluate --split random", random_split, env),
        ]
        rows = [
            *evaluations(timed / "warehouse" / "movierec.duckdb"),
            *evaluations(shuffled / "warehouse" / "movierec.duckdb", "random (10 per user)"),
            *evaluations(stratified / "warehouse" / "movierec.duckdb", "stratified 75/25"),
        ]
        slices = [
            {**row, "segment": segment}
            for segment in HISTORY_SLICES
            for row in evaluations(timed / "warehouse" / "movierec.duckdb", segment=segment)
            if row["mode"] == "implicit"
        ]
        recalls = [
            *candidate_recalls(timed / "warehouse" / "movierec.duckdb"),
            *candidate_recalls(shuffled / "warehouse" / "movierec.duckdb", "random (10 per user)"),
            *candidate_recalls(stratified / "warehouse" / "movierec.duckdb", "stratified 75/25"),
        ]
        users, recommendations = served(timed / "warehouse" / "movierec.duckdb")
        activity = user_activity(timed / "warehouse" / "movierec.duckdb")
    report = render(rows, slices, recalls, users, recommendations, activity, steps)
    result = {
        "machine": machine(),
        "evaluations": rows,
        "time_split_by_history": slices,
        "candidate_recall": recalls,
        "users_served": users,
        "user_activity": activity,
        "rows": recommendations,
        "steps": [
            {
                "step": s.step,
                "seconds": s.seconds,
                "peak_rss_mib": s.peak_rss_mib,
                "stages": stage_times(s.stdout),
            }
            for s in steps
        ],
    }
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "movielens.md").write_text(report)
    (RESULTS / "movielens.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
