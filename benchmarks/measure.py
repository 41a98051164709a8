"""Shared by the benchmark scripts: run a movierec CLI step in a fresh process and
measure its wall time and peak resident memory (including dbt and other children)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SCALES: dict[str, tuple[int, int, int]] = {
    "1x": (10_000, 2_000, 150_000),
    "10x": (100_000, 20_000, 1_500_000),
    "100x": (1_000_000, 20_000, 15_000_000),
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
    stdout: str


def data_env(data: Path) -> dict[str, str]:
    """Environment pointing movierec at a data folder of its own."""
    return {
        **os.environ,
        "MOVIEREC_DATA_DIR": str(data),
        "MOVIEREC_DUCKDB_PATH": str(data / "warehouse" / "movierec.duckdb"),
    }


def simulate_args(scale: str) -> list[str]:
    users, movies, interactions = SCALES[scale]
    return [
        "simulate", "--users", str(users), "--movies", str(movies),
        "--interactions", str(interactions),
    ]  # fmt: skip


def published_warehouse(scale: str, data: Path | None, tmp: Path) -> Path:
    """The warehouse file of `data` (a data folder with a published warehouse), or of a
    fresh world at `scale` in `tmp` after its cold nightly (no evaluation)."""
    if data is None:
        data = tmp / "data"
        env = data_env(data)
        run_step(scale, "simulate", simulate_args(scale), env)
        run_step(scale, "nightly", ["nightly", "--no-evaluate-new-model"], env)
    return data / "warehouse" / "movierec.duckdb"


def run_step(scale: str, step: str, args: list[str], env: dict[str, str]) -> StepResult:
    """Run `python -m movierec ARGS` in a fresh process; stop loudly if it fails."""
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "movierec", *args]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{step} at {scale} failed:\n{done.stdout}\n{done.stderr}")
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return StepResult(scale, step, round(seconds, 2), round(peak_kib / 1024, 1), done.stdout)


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}"
    )


def markdown_table(
    columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, object]]
) -> list[str]:
    """A markdown table of `rows`, one column per (heading, key); a heading starting with
    '>' is right-aligned. None shows empty, whole numbers with thousands separators."""

    def cell(value: object) -> str:
        if value is None:
            return ""
        whole = isinstance(value, int) and not isinstance(value, bool)
        return f"{value:,}" if whole else str(value)

    names = [heading.removeprefix(">") for heading, _ in columns]
    rules = ["---:" if heading.startswith(">") else "---" for heading, _ in columns]
    lines = ["| " + " | ".join(names) + " |", "|" + "|".join(rules) + "|"]
    lines += ["| " + " | ".join(cell(row[key]) for _, key in columns) + " |" for row in rows]
    return lines


def write_results(name: str, rows: list[dict[str, object]], markdown: str) -> None:
    """benchmarks/results/NAME.{json,md} (the json with the machine), the markdown printed."""
    payload = {"machine": machine(), "rows": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)
