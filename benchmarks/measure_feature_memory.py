"""Measure what one batch of ml_training_features needs under DuckDB's memory_limit.

On a published warehouse (a fresh one at `--scale`, or `--data DIR`), each probe builds
ml_training_features for the latest N viewings only (the window whose histories are the
longest), as one batch of a build in batches does (docs/memory.md), in a fresh dbt process
on a copy of the warehouse file, under one `memory_limit`. A probe either completes (its
seconds) or runs out of memory. Writes benchmarks/results/feature_memory_<scale>.{json,md};
docs/memory.md quotes it.

    .venv/bin/python -m benchmarks.measure_feature_memory [--scale 100x] [--data DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.measure import REPO, machine, markdown_table, published_warehouse, write_results
from movierec.errors import OutOfMemoryError
from movierec.settings import Paths
from movierec.warehouse import BATCHED_MODEL, Window, run_dbt

# (memory_limit, viewings): feature_rows_per_batch's batch at each limit, and a larger one
PROBES: tuple[tuple[str, int], ...] = (
    ("2048MiB", 1_048_576),
    ("2048MiB", 524_288),
    ("1024MiB", 262_144),
    ("1024MiB", 131_072),
    ("768MiB", 87_381),
    ("768MiB", 73_728),
    ("512MiB", 32_768),
)


def latest_window(warehouse: Path, viewings: int) -> Window:
    """The window of the latest `viewings` viewings of the warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (start,) = con.execute(
            "select interacted_at from core.fct_interactions "
            "order by interacted_at desc limit 1 offset ?",
            [viewings - 1],
        ).fetchall()[0]
    return Window(start, None)


def probe(data: Path, warehouse: Path, limit: str, viewings: int) -> dict[str, object]:
    copy = warehouse.with_name("probe.duckdb")
    shutil.copy(warehouse, copy)
    paths = Paths(project_dir=REPO, data_dir=data, warehouse_path=copy, memory_limit=limit)
    result: dict[str, object] = {"memory_limit": limit, "viewings": viewings}
    started = time.perf_counter()
    try:
        run_dbt(
            paths,
            ["run", "--select", BATCHED_MODEL, "--full-refresh"],
            extra_env=latest_window(warehouse, viewings).env,
        )
        with duckdb.connect(str(copy), read_only=True) as con:
            (rows,) = con.execute(f"select count(*) from ml.{BATCHED_MODEL}").fetchall()[0]
        seconds = round(time.perf_counter() - started, 1)
        return {**result, "rows": rows, "seconds": seconds, "outcome": "completed"}
    except OutOfMemoryError:
        return {**result, "rows": None, "seconds": None, "outcome": "out of memory"}
    finally:
        copy.unlink()
        shutil.rmtree(Paths.spill_dir(copy), ignore_errors=True)


_COLUMNS = [
    ("memory_limit", "memory_limit"),
    (">viewings", "viewings"),
    (">rows", "rows"),
    ("outcome", "outcome"),
    (">seconds", "seconds"),
]


def _markdown(scale: str, rows: list[dict[str, object]]) -> str:
    lines = [
        f"Training-feature batch memory, {datetime.now(UTC):%Y-%m-%d}, {machine()}, scale {scale}",
        "",
        f"Command: `python -m benchmarks.measure_feature_memory --scale {scale}`",
        "",
        "Each probe builds ml_training_features for the latest N viewings in one dbt run "
        "(seconds include dbt's start).",
        "",
        *markdown_table(_COLUMNS, rows),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="100x")
    parser.add_argument("--data", type=Path, help="a data folder with a published warehouse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="movierec-feature-memory-") as tmp:
        published = published_warehouse(args.scale, args.data, Path(tmp))
        data = published.parents[1]
        warehouse = Path(tmp) / "warehouse.duckdb"
        shutil.copy(published, warehouse)
        rows = []
        for limit, viewings in PROBES:
            rows.append(probe(data, warehouse, limit, viewings))
            print(rows[-1], flush=True)
    write_results(f"feature_memory_{args.scale}", rows, _markdown(args.scale, rows))


if __name__ == "__main__":
    main()
