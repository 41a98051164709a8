"""Cold nightlies of two checkouts side by side, in one run on one machine.

Machines differ by more than most changes do, so a before/after figure is only worth
something when both sides ran together. Per round, each checkout in turn (the order
alternating between rounds) lands the same world into a fresh data folder and runs a cold
`movierec nightly`, timed with its peak RSS; then the two lists are compared row for row.

- the seed's world: `movierec simulate` (the default world, seed 42), then `movierec
  nightly` (it trains, evaluates the new model and recommends);
- `--movielens PATH`: ml-100k with 25 % of each user's ratings held out (`movierec ingest
  movielens PATH --holdout-share 0.25`), then `movierec nightly --no-evaluate-new-model`
  with each checkout's benchmarks/movielens.toml: ingest done -> published lists;
- `--scale 10x` (or 1x, 100x): a simulated world of that size (`benchmarks.measure.SCALES`),
  then `movierec nightly --no-evaluate-new-model`, as the days benchmark runs it; with
  `--evaluate`, `movierec nightly` (a cold nightly trains, so it evaluates the new model).

Both checkouts run on this checkout's virtualenv, each with PYTHONPATH on its own package:

    git worktree add /tmp/before <commit>
    .venv/bin/python -m benchmarks.compare_nightly /tmp/before [--movielens PATH] [--name N]

Writes benchmarks/results/compare_{seed,movielens,<scale>}[_<name>].{md,json}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.bench_nightly import stage_times
from benchmarks.compare_lists import compare
from benchmarks.measure import (
    REPO,
    RESULTS,
    SCALES,
    StepResult,
    data_env,
    machine,
    run_step,
    simulate_args,
)


def checkout_env(checkout: Path, data: Path, movielens: bool) -> dict[str, str]:
    """movierec from `checkout`'s package, on a data folder of its own."""
    env = {**data_env(data), "PYTHONPATH": str(checkout / "python")}
    if movielens:
        env["MOVIEREC_CONFIG"] = str(checkout / "benchmarks" / "movielens.toml")
    return env


def commit_of(checkout: Path) -> str:
    described = subprocess.run(
        ["git", "-C", str(checkout), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=True,
    )
    return described.stdout.strip()


def cold_nightly(
    checkout: Path,
    data: Path,
    label: str,
    movielens: Path | None,
    scale: str | None,
    evaluate: bool = False,
) -> StepResult:
    env = checkout_env(checkout, data, movielens is not None)
    if scale is not None:
        run_step(scale, f"{label}: simulate", simulate_args(scale), env)
        nightly = ["nightly"] if evaluate else ["nightly", "--no-evaluate-new-model"]
        return run_step(scale, label, nightly, env)
    if movielens is None:
        run_step("seed", f"{label}: simulate", ["simulate"], env)
        return run_step("seed", label, ["nightly"], env)
    ingest = ["ingest", "movielens", str(movielens), "--holdout-share", "0.25"]
    run_step("ml-100k", f"{label}: ingest", ingest, env)
    return run_step("ml-100k", label, ["nightly", "--no-evaluate-new-model"], env)


def expected_like_ratio(warehouse: Path) -> float | None:
    """The model's expected likes at k = 10 over the best possible, all users (the
    simulated world's truth, evaluation.md); None where the warehouse does not store it."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select max(value) from ml_outputs.evaluation_metrics
            where metric = 'expected_like_ratio' and recommender = 'model'
                and k = 10 and segment = 'all'
            """
        ).fetchall()
    value = rows[0][0]
    return None if value is None else round(float(value), 4)


def render(result: dict[str, object]) -> str:
    runs = result["runs"]
    assert isinstance(runs, list)
    stages = sorted({s for run in runs for s in run["stages"] if s != "total"}, key=str)
    lines = [
        f"Cold nightly, {result['world']}, {result['date']}, {result['machine']}",
        "",
        f"before: {result['before']} · after: {result['after']} (each round runs both, "
        "the order alternating)",
        "",
        "| round | checkout | wall (s) | peak RSS (MiB) | expected-likes ratio | "
        + " | ".join(stages)
        + " |",
        "|---|---|---:|---:|---:|" + "---:|" * len(stages),
    ]
    for run in runs:
        cells = " | ".join(f"{run['stages'].get(s, 0):.1f}" for s in stages)
        lines.append(
            f"| {run['round']} | {run['side']} | {run['seconds']:.1f} | "
            f"{run['peak_rss_mib']:.0f} | {run['expected_like_ratio'] or '-'} | {cells} |"
        )
    medians = result["median_seconds"]
    assert isinstance(medians, dict)
    lines += [
        "",
        f"Median wall: before {medians['before']:.1f} s, after {medians['after']:.1f} s "
        f"(after / before = {medians['after'] / medians['before']:.2f}).",
        "",
        f"Lists of the last round: {result['lists']}",
        "",
        "Expected-likes ratio: the new model's top 10 against the best possible, judged by",
        "the simulator's p(like) (`-`: not stored, a real catalogue or an older checkout).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the other checkout (a git worktree)")
    parser.add_argument("--movielens", type=Path, help="the ml-100k folder (u.data, ...)")
    parser.add_argument("--scale", choices=sorted(SCALES), help="a simulated world this size")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--evaluate", action="store_true", help="with --scale: the nightly evaluates its model"
    )
    parser.add_argument(
        "--name", help="results as compare_<world>_<name>, beside the last run's, not over it"
    )
    args = parser.parse_args()
    if args.scale and args.movielens:
        parser.error("--scale and --movielens are two different worlds: choose one")
    if args.evaluate and not args.scale:
        parser.error("--evaluate is for --scale (the seed's world always evaluates)")
    sides = {"before": args.before.resolve(), "after": REPO}
    runs: list[dict[str, object]] = []
    lists = ""
    with tempfile.TemporaryDirectory(prefix="movierec-compare-") as tmp:
        for round_ in range(1, args.rounds + 1):
            order = ["before", "after"] if round_ % 2 else ["after", "before"]
            for side in order:
                data = Path(tmp) / f"{side}-{round_}"
                step = cold_nightly(
                    sides[side], data, side, args.movielens, args.scale, args.evaluate
                )
                runs.append(
                    {
                        "round": round_,
                        "side": side,
                        "seconds": step.seconds,
                        "peak_rss_mib": step.peak_rss_mib,
                        "stages": stage_times(step.stdout),
                        "expected_like_ratio": expected_like_ratio(
                            data / "warehouse" / "movierec.duckdb"
                        ),
                    }
                )
                print(f"round {round_} {side}: {step.seconds:.1f} s", flush=True)
            before, after = (Path(tmp) / f"{s}-{round_}" / "warehouse" for s in sides)
            counts = compare(before / "movierec.duckdb", after / "movierec.duckdb")
            lists = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    result: dict[str, object] = {
        "world": (
            "ml-100k, 25 % held out per user"
            if args.movielens
            else f"a simulated {args.scale} world "
            + ("(the new model evaluated)" if args.evaluate else "(no evaluation)")
            if args.scale
            else "the seed's world"
        ),
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "machine": machine(),
        "before": commit_of(sides["before"]),
        "after": commit_of(REPO),
        "runs": runs,
        "median_seconds": {
            side: statistics.median(float(str(r["seconds"])) for r in runs if r["side"] == side)
            for side in sides
        },
        "lists": lists,
    }
    report = render(result)
    print(report)
    name = (
        "compare_movielens"
        if args.movielens
        else f"compare_{args.scale}"
        if args.scale
        else "compare_seed"
    ) + (f"_{args.name}" if args.name else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(report)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
