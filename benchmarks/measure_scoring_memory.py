"""Measure what scoring and retrieval chunks need under DuckDB's memory_limit.

On a published warehouse (a fresh one at `--scale`, or `--data DIR`), each probe runs in a
fresh process on a copy of the warehouse file, with one `memory_limit`:
- scoring: the first N users' retrieval candidates requested (300 per user), then the
  feature stream the nightly scores (`feature_batches` over ml_scoring_features);
- retrieval: N users' retrieval (ml_retrieval_candidates) in one chunk.
A probe either completes (its seconds) or runs out of memory. Writes
benchmarks/results/chunk_memory_<scale>.{json,md}; docs/memory.md quotes it.

    .venv/bin/python -m benchmarks.measure_scoring_memory [--scale 10x] [--data DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import machine, markdown_table, published_warehouse, write_results

# (what, memory_limit, users): scoring probes hold 300 pairs a user
PROBES: tuple[tuple[str, str, int], ...] = (
    ("scoring", "2GB", 3_495),  # 1,048,500 pairs, 1.86 GiB
    ("scoring", "2.5GB", 3_495),  # 2.33 GiB
    ("scoring", "1GB", 1_748),  # 524,400 pairs, 0.93 GiB
    ("scoring", "1.25GB", 1_748),  # 1.16 GiB
    ("scoring", "512MiB", 437),  # pairs_per_chunk(512 MiB) = 131,072
    ("scoring", "1024MiB", 874),  # pairs_per_chunk(1 GiB) = 262,144
    ("scoring", "2048MiB", 1_748),  # pairs_per_chunk(2 GiB) = 524,288
    ("retrieval", "512MiB", 1_024),  # retrieval_requests_per_chunk(512 MiB)
    ("retrieval", "2048MiB", 4_096),  # retrieval_requests_per_chunk(2 GiB)
)

_PROBE = """
import sys, time
import duckdb
from movierec.settings import load
from movierec.warehouse import (
    feature_batches, parse_feature_contract, request_pairs, request_retrieval, sql_file)

what, path, limit, users = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect(path, config={"memory_limit": limit})
ids = [r[0] for r in con.execute(
    "select user_id from core.dim_users order by user_id limit ?", [users]).fetchall()]
started = time.perf_counter()
request_retrieval(con, ids)  # in chunks the limit allows (settings.memory)
if what == "scoring":
    started = time.perf_counter()
    con.execute("create or replace temp table chunk_users as "
                "select unnest($ids::bigint[]) as user_id", {"ids": ids})
    request_pairs(con, sql_file("movierec.scoring", "retrieved_pairs"), {"top_n": 10})
    features = parse_feature_contract(load().paths.ml_features_yml.read_text()).features
    rows = sum(len(m) for _, m in feature_batches(con.cursor(), features, 262_144))
else:
    (rows,) = con.execute("select count(*) from scoring.retrieved_candidates").fetchone()
print(rows, round(time.perf_counter() - started, 2))
"""


def probe(warehouse: Path, what: str, limit: str, users: int) -> dict[str, object]:
    copy = warehouse.with_name("probe.duckdb")
    shutil.copy(warehouse, copy)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, what, str(copy), limit, str(users)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        copy.unlink()
        shutil.rmtree(copy.with_name("probe.duckdb.tmp"), ignore_errors=True)
    result: dict[str, object] = {"what": what, "memory_limit": limit, "users": users}
    if done.returncode == 0:
        rows, seconds = done.stdout.splitlines()[-1].split()
        return {**result, "rows": int(rows), "seconds": float(seconds), "outcome": "completed"}
    if "Out of Memory" in done.stderr:
        return {**result, "rows": None, "seconds": None, "outcome": "out of memory"}
    raise SystemExit(f"probe {what} {limit} {users} failed:\n{done.stderr}")


_COLUMNS = [
    ("probe", "what"),
    ("memory_limit", "memory_limit"),
    (">users", "users"),
    (">rows", "rows"),
    ("outcome", "outcome"),
    (">seconds", "seconds"),
]


def _markdown(scale: str, rows: list[dict[str, object]]) -> str:
    lines = [
        f"Chunk memory, {datetime.now(UTC):%Y-%m-%d}, {machine()}, scale {scale}",
        "",
        f"Command: `python -m benchmarks.measure_scoring_memory --scale {scale}`",
        "",
        *markdown_table(_COLUMNS, rows),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="10x")
    parser.add_argument("--data", type=Path, help="a data folder with a published warehouse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="movierec-chunk-memory-") as tmp:
        warehouse = Path(tmp) / "warehouse.duckdb"
        shutil.copy(published_warehouse(args.scale, args.data, Path(tmp)), warehouse)
        rows = []
        for what, limit, users in PROBES:
            rows.append(probe(warehouse, what, limit, users))
            print(rows[-1], flush=True)
    write_results(f"chunk_memory_{args.scale}", rows, _markdown(args.scale, rows))


if __name__ == "__main__":
    main()
