"""MovieLens-100k through movierec: ingest, a nightly per training mode, and evaluation.

In a fresh data folder: `movierec ingest movielens PATH`, then `movierec nightly` with the
explicit mode (the seed's "liked among viewed") and again with the implicit mode of
benchmarks/movielens.toml; each nightly trains, evaluates the new model against the
baselines on the viewings of the last 30 days, and recommends. Reads the evaluations
back from the published warehouse and writes benchmarks/results/movielens.{json,md}.

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
METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "coverage")


def evaluations(warehouse: Path) -> list[dict[str, object]]:
    """Top-10 metrics over all users of every evaluation, with its model's training mode."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"""
            select json_extract_string(registry.training, '$.mode') as mode,
                metrics.recommender, metrics.metric, metrics.value,
                registry.params, metrics.cutoff
            from ml_outputs.evaluation_metrics as metrics
            inner join ml_outputs.model_registry as registry using (model_id)
            where metrics.k = 10 and metrics.segment = 'all'
                and metrics.metric in ({", ".join(f"'{m}'" for m in METRICS)})
            order by metrics.evaluated_at, metrics.recommender
            """
        ).fetchall()
    table: dict[tuple[str, str], dict[str, object]] = {}
    for mode, recommender, metric, value, params, cutoff in rows:
        entry = table.setdefault(
            (mode, recommender),
            {
                "mode": mode,
                "recommender": recommender,
                "max_depth": json.loads(params)["max_depth"],
                "cutoff": str(cutoff),
            },
        )
        entry[metric] = round(float(value), 4)
    return list(table.values())


def served(warehouse: Path) -> tuple[int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        users, rows = con.execute(
            "select count(distinct user_id), count(*) from ml.ml_recommendations_latest"
        ).fetchall()[0]
    return int(users), int(rows)


def render(
    cutoff: str, rows: list[dict[str, object]], users: int, recommendations: int,
    steps: list[StepResult],
) -> str:  # fmt: skip
    lines = [
        f"MovieLens-100k, {datetime.now(UTC):%Y-%m-%d}, {machine()}",
        "",
        f"Evaluation cut-off {cutoff} (hits: films viewed after it in implicit mode, liked "
        "after it in explicit mode); top 10, all users.",
        "",
        "| training mode | recommender | " + " | ".join(f"{m}@10" for m in METRICS) + " |",
        "|---|---|" + "---:|" * len(METRICS),
    ]
    for row in rows:
        values = " | ".join(f"{row[m]:.4f}" for m in METRICS)
        lines.append(f"| {row['mode']} | {row['recommender']} | {values} |")
    lines += [
        "",
        f"Latest run: {users:,} users served, {recommendations:,} rows.",
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
    with tempfile.TemporaryDirectory(prefix="movierec-movielens-") as tmp:
        data = Path(tmp)
        env = {**data_env(data), "MOVIEREC_CONFIG": str(CONFIG)}
        steps = [
            run_step("ml-100k", "ingest", ["ingest", "movielens", str(args.path)], env),
            run_step(
                "ml-100k", "nightly (explicit)", ["nightly", "--training-mode", "explicit"], env
            ),
            run_step("ml-100k", "nightly (implicit)", ["nightly"], env),
        ]
        warehouse = data / "warehouse" / "movierec.duckdb"
        rows = evaluations(warehouse)
        users, recommendations = served(warehouse)
    report = render(str(rows[0]["cutoff"]), rows, users, recommendations, steps)
    result = {
        "machine": machine(),
        "evaluations": rows,
        "users_served": users,
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
