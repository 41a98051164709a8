"""Retrieval for the first N users of one published warehouse, two checkouts side by side.

At 100x a cold nightly takes hours, most of it retrieval: this measures retrieval alone, as
`recommend` runs it (`request_retrieval` at the default moment, in the chunks the 2 GiB
memory_limit allows), for a few thousand users of a warehouse built once, by each
checkout's own code and SQL. Per checkout: a copy of the warehouse file, its retrieval
views recreated from its dbt project (`dbt run` of the views upstream of
ml_retrieval_candidates; the tables are the build's), then retrieval timed in a fresh
process on its own package (PYTHONPATH), the order alternating between rounds. Each round
also counts the (user, film, rank) rows one checkout proposed and the other did not: a
change meant to be faster only should leave none.

With `--scoring`, each side goes on as `recommend` does: the warehouse's newest model
re-ranks the candidates (`rank_users`: the scoring requests, the features, onnxruntime and
the top 10 of each user, in the chunks the memory_limit allows), retrieval and scoring
timed apart, and the rows compared are the lists' (user, rank, film). The data folder then
needs a registered model (a completed nightly).

    git worktree add /tmp/before <commit>
    .venv/bin/python -m benchmarks.compare_retrieval /tmp/before --data DIR [--users 8192] \
        [--scoring] [--name NAME]

Writes benchmarks/results/compare_{retrieval,recommend}_<data folder's name>_<users>[_<name>]
.{md,json} (recommend: with `--scoring`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.measure import REPO, machine, markdown_table, write_results

_SETUP = """
import sys, time
from dataclasses import replace
from pathlib import Path
import duckdb
from movierec.settings import load
from movierec.warehouse import request_retrieval, run_dbt
checkout, data, copy, users, out = sys.argv[1:6]
copy, users = Path(copy), int(users)
env = {"MOVIEREC_PROJECT_DIR": checkout, "MOVIEREC_DATA_DIR": data}
paths = replace(load(env).paths, warehouse_path=copy)
run_dbt(paths, ["run", "--select", VIEWS, "--target-path", str(copy.parent / "target")])
con = duckdb.connect(str(copy), config={"memory_limit": "2GiB"})
ids = [r[0] for r in con.execute(
    "select user_id from core.dim_users order by user_id limit ?", [users]).fetchall()]
"""

# retrieval alone: the views upstream of ml_retrieval_candidates, (user, film, rank) rows out
_RETRIEVE = (
    _SETUP.replace("VIEWS", '"+ml_retrieval_candidates,config.materialized:view"')
    + """
started = time.perf_counter()
kept = request_retrieval(con, ids)
seconds = round(time.perf_counter() - started, 1)
con.execute("copy (select user_id, movie_id, candidate_rank from scoring.retrieved_candidates) "
            f"to '{out}'")
print(kept, seconds, "-")
"""
)

# retrieval, then the newest model's top 10 of the candidates: every view of the checkout
_RECOMMEND = (
    _SETUP.replace("VIEWS", '"config.materialized:view"')
    + """
import pyarrow.parquet as pq
from movierec.scoring.ab import Arm, serving_models
from movierec.scoring.ranking import rank_users
from movierec.settings import RecommendSettings
arm = Arm.of(serving_models(con, 0.0).champion)
ranking = rank_users(con, arm.scorer, arm.features, RecommendSettings(), user_ids=ids)
pq.write_table(ranking.top_n.select(["user_id", "rank", "movie_id"]), out)
stages = ranking.stage_seconds
print(ranking.pairs_scored, round(stages["retrieve"], 1), round(stages["score"], 1))
"""
)


def probe(
    checkout: Path, data: Path, scratch: Path, users: int, out: Path, scoring: bool
) -> dict[str, object]:
    """Retrieval (and with `scoring` the lists) for the first `users` users on a copy of
    `data`'s warehouse, by `checkout`; its (user, film, rank) rows written to `out`
    (Parquet)."""
    copy = scratch / "probe" / "warehouse.duckdb"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(data / "warehouse" / "movierec.duckdb", copy)
    env = {**os.environ, "PYTHONPATH": str(checkout / "python")}
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _RECOMMEND if scoring else _RETRIEVE,
                str(checkout),
                str(data),
                str(copy),
                str(users),
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"the probe by {checkout} failed:\n{done.stdout[-3000:]}{done.stderr}")
    count, seconds, score_seconds = done.stdout.splitlines()[-1].split()
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    measured: dict[str, object] = {"checkout": commit, "users": users}
    if scoring:
        measured |= {"pairs_scored": int(count), "retrieval_seconds": float(seconds)}
        return measured | {"scoring_seconds": float(score_seconds)}
    return measured | {"candidates": int(count), "seconds": float(seconds)}


def differing_rows(before: Path, after: Path) -> int:
    """Rows (user, film, rank) in one side's output and not in the other's."""
    query = (
        f"select (select count(*) from (from '{before}' except from '{after}')) "
        f"+ (select count(*) from (from '{after}' except from '{before}'))"
    )
    (count,) = duckdb.connect().execute(query).fetchall()[0]
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the other checkout (e.g. a git worktree)")
    parser.add_argument("--data", type=Path, required=True, help="a data folder, built")
    parser.add_argument("--users", type=int, default=8_192)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--scoring", action="store_true", help="re-rank with the newest model too")
    parser.add_argument(
        "--name", help="results as compare_<kind>_<data>_<users>_<name>, not over the last"
    )
    args = parser.parse_args()
    sides = [("before", args.before.resolve()), ("after", REPO)]
    rows = []
    with tempfile.TemporaryDirectory(dir=args.data, prefix="compare-retrieval-") as tmp:
        for number in range(args.rounds):
            outs = {side: Path(tmp) / f"{side}.parquet" for side, _ in sides}
            for side, checkout in sides if number % 2 == 0 else sides[::-1]:
                measured = probe(
                    checkout, args.data, Path(tmp), args.users, outs[side], args.scoring
                )
                rows.append({"round": number + 1, "side": side, **measured})
                print(rows[-1], flush=True)
            rows[-1]["differing"] = rows[-2]["differing"] = differing_rows(*outs.values())
    scored = [
        (">pairs scored", "pairs_scored"),
        (">retrieval s", "retrieval_seconds"),
        (">scoring s", "scoring_seconds"),
    ]
    timed = scored if args.scoring else [(">candidates", "candidates"), (">seconds", "seconds")]
    columns = [
        (">round", "round"),
        ("side", "side"),
        ("checkout", "checkout"),
        (">users", "users"),
        *timed,
        (">rows differing", "differing"),
    ]
    kind = "recommend" if args.scoring else "retrieval"
    name = args.data.resolve().name
    options = f"--users {args.users} --rounds {args.rounds}"
    options += " --scoring" if args.scoring else ""
    options += f" --name {args.name}" if args.name else ""
    report = "\n".join(
        [
            f"{'Retrieval and scoring' if args.scoring else 'Retrieval'}, side by side, "
            f"{datetime.now(UTC):%Y-%m-%d}, {machine()}",
            "",
            f"Command: `python -m benchmarks.compare_retrieval BEFORE --data {name} "
            f"{options}` (data: `{name}`, the first {args.users:,} users, "
            "memory_limit 2 GiB)",
            "",
            *markdown_table(columns, rows),
            "",
            "rows differing: (user, film, rank) rows one side "
            + ("listed" if args.scoring else "proposed")
            + " and the other did not.",
        ]
    )
    suffix = f"_{args.name}" if args.name else ""
    write_results(f"compare_{kind}_{name}_{args.users}{suffix}", rows, report + "\n")


if __name__ == "__main__":
    main()
