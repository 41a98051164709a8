"""Benchmark the warehouse spine: `movierec simulate` and `movierec build` (dbt build).

Runs each step as the CLI a user would, in a fresh data folder per scale, and reports wall
time and peak resident memory. Also times the in-process world generation alone at 100x
the seed's interactions. Prints a table and writes benchmarks/results/spine.{json,md}.

    .venv/bin/python -m benchmarks.bench_spine [--scales 1x,10x]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.measure import (
    RESULTS,
    StepResult,
    data_env,
    machine,
    run_step,
    simulate_args,
)
from movierec.land import simulate_world
from movierec.settings import SimulationSettings


def bench_scale(scale: str) -> tuple[list[StepResult], dict[str, int]]:
    with tempfile.TemporaryDirectory(prefix=f"movierec-bench-{scale}-") as tmp:
        data = Path(tmp)
        env = data_env(data)
        steps = [
            run_step(scale, "simulate (CLI: generate + check + land)", simulate_args(scale), env),
            run_step(scale, "build (CLI: check landings + dbt build)", ["build"], env),
        ]
        with duckdb.connect(env["MOVIEREC_DUCKDB_PATH"], read_only=True) as con:
            (row,) = con.execute(
                "select (select count(*) from core.fct_interactions),"
                " (select count(*) from ml.ml_training_features)"
            ).fetchall()
        size = (data / "warehouse" / "movierec.duckdb").stat().st_size
        counts = {"interactions": row[0], "training_rows": row[1], "warehouse_bytes": size}
    return steps, counts


def bench_generation(multiple: int) -> float:
    """Seconds to generate (not land) the world with `multiple` x the seed's interactions."""
    settings = SimulationSettings(n_interactions=150_000 * multiple)
    started = time.perf_counter()
    simulate_world(settings)
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1x,10x", help="comma-separated, from: 1x, 10x, 100x")
    scales = parser.parse_args().scales.split(",")

    results: list[StepResult] = []
    counts: dict[str, dict[str, int]] = {}
    for scale in scales:
        steps, counts[scale] = bench_scale(scale)
        results += steps
    generation = {"1x": bench_generation(1), "100x": bench_generation(100)}

    lines = [
        "| scale | step | wall (s) | peak RSS (MiB) |",
        "|---|---|---:|---:|",
        *(f"| {r.scale} | {r.step} | {r.seconds:.2f} | {r.peak_rss_mib:.0f} |" for r in results),
        "",
        "| world generation in-process (no landing) | seconds |",
        "|---|---:|",
        *(f"| {k} interactions | {v:.2f} |" for k, v in generation.items()),
    ]
    header = f"Spine benchmark, {datetime.now(UTC):%Y-%m-%d}, {machine()}"
    report = "\n".join([header, "", *lines, ""])
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "spine.md").write_text(report)
    payload = {
        "machine": machine(),
        "steps": [{k: v for k, v in asdict(r).items() if k != "stdout"} for r in results],
        "generation_seconds": generation,
        "counts": counts,
    }
    (RESULTS / "spine.json").write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
