"""Benchmark the warehouse spine: `movierec simulate` and `movierec build` (dbt build).

Runs each step as the CLI a user would, in a fresh data folder per scale, and reports wall
time and peak resident memory. Also times the in-process world generation alone at 100x
the seed's interactions. Prints a table and writes benchmarks/results/spine.{json,md}.

    .venv/bin/python benchmarks/bench_spine.py [--scales 1x,10x]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from movierec.config import SimulationSettings
from movierec.simulate import simulate_world

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SCALES: dict[str, tuple[int, int, int]] = {
    "1x": (10_000, 2_000, 150_000),
    "10x": (100_000, 20_000, 1_500_000),
}
# Runs a command and prints the peak RSS (KiB) of it and everything it waited for.
_MEASURE = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


@dataclass(frozen=True)
class StepResult:
    scale: str
    step: str
    seconds: float
    peak_rss_mib: float


def run_step(scale: str, step: str, args: list[str], env: dict[str, str]) -> StepResult:
    """Run one CLI step in a fresh process; fail loudly if it fails."""
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "movierec", *args]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{step} at {scale} failed:\n{done.stdout}\n{done.stderr}")
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return StepResult(scale, step, round(seconds, 2), round(peak_kib / 1024, 1))


def bench_scale(scale: str) -> tuple[list[StepResult], dict[str, int]]:
    users, movies, interactions = SCALES[scale]
    with tempfile.TemporaryDirectory(prefix=f"movierec-bench-{scale}-") as tmp:
        data = Path(tmp)
        env = {
            **os.environ,
            "MOVIEREC_DATA_DIR": str(data),
            "MOVIEREC_DUCKDB_PATH": str(data / "warehouse" / "movierec.duckdb"),
        }
        simulate = [
            "simulate", "--users", str(users), "--movies", str(movies),
            "--interactions", str(interactions),
        ]  # fmt: skip
        steps = [
            run_step(scale, "simulate (CLI: generate + check + land)", simulate, env),
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
    parser.add_argument("--scales", default="1x,10x", help="comma-separated, from: 1x, 10x")
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
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    header = f"Spine benchmark, {today}, {machine}, duckdb {duckdb.__version__}"
    report = "\n".join([header, "", *lines, ""])
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "spine.md").write_text(report)
    payload = {
        "machine": machine,
        "duckdb": duckdb.__version__,
        "steps": [asdict(r) for r in results],
        "generation_seconds": generation,
        "counts": counts,
    }
    (RESULTS / "spine.json").write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
