"""Benchmark consecutive days: what a nightly costs as the world grows one day at a time.

In a fresh data folder: land the world at the scale asked, run the cold nightly (day 0),
then for each day `movierec simulate --days 1` and `movierec nightly`; each nightly timed
with its stages and peak resident memory (dbt included). The model the cold nightly trains
is reused while it is younger than the nightly's `--max-model-age-days` (wall-clock days),
so the days measure the build and the scoring, not retraining. A nightly after day 0 is
incremental (new landed files only, changed users rescored: docs/incremental.md); with
`--compare-full-refresh` each day's data folder is also copied and rebuilt with
`nightly --full-refresh`, timed side by side. Writes
benchmarks/results/days_<scale>.{json,md} and the curve days_<scale>.svg.

    .venv/bin/python -m benchmarks.bench_days [--scale 1x] [--days 30] [--compare-full-refresh]
        [--no-evaluate] [--output NAME]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_nightly import stage_times
from benchmarks.measure import RESULTS, SCALES, data_env, machine, run_step, simulate_args
from movierec.reporting.svg import line_chart

_VIEWINGS = re.compile(r"landed\s+([\d,]+) interactions")
_ROWS = re.compile(r"'core\.fct_interactions': (\d+)")
_RESCORED = re.compile(r"users \(([\d,]+) rescored\)")


@dataclass(frozen=True)
class Night:
    day: int
    viewings_landed: int
    viewings_in_warehouse: int
    seconds: float
    peak_rss_mib: float
    stages: dict[str, float]
    users_rescored: int | None = None
    full_refresh_seconds: float | None = None  # the same day's `nightly --full-refresh`


def _count(pattern: re.Pattern[str], text: str) -> int:
    found = pattern.search(text)
    if found is None:
        raise SystemExit(f"no {pattern.pattern!r} in:\n{text}")
    return int(found.group(1).replace(",", ""))


def _full_refresh(scale: str, day: int, data: Path) -> float:
    """The same day rebuilt from scratch: a copy of the data folder, `nightly --full-refresh`."""
    copy = data.with_name(data.name + "-full")
    shutil.copytree(data, copy, ignore=shutil.ignore_patterns("*.lock"))
    try:
        return run_step(scale, f"full refresh {day}", ["nightly", "--full-refresh"],
                        data_env(copy)).seconds  # fmt: skip
    finally:
        shutil.rmtree(copy)


def bench_days(scale: str, days: int, compare: bool, evaluate: bool) -> list[Night]:
    nights = []
    with tempfile.TemporaryDirectory(prefix=f"movierec-days-{scale}-") as tmp:
        data = Path(tmp) / "data"
        env = data_env(data)
        landed = run_step(scale, "simulate", simulate_args(scale), env)
        for day in range(days + 1):
            if day:
                landed = run_step(scale, f"day {day}", ["simulate", "--days", "1"], env)
            nightly = run_step(
                scale,
                f"nightly {day}",
                ["nightly", *([] if evaluate else ["--no-evaluate-new-model"])],
                env,
            )
            rescored = _RESCORED.search(nightly.stdout)
            nights.append(
                Night(
                    day=day,
                    viewings_landed=_count(_VIEWINGS, landed.stdout),
                    viewings_in_warehouse=_count(_ROWS, nightly.stdout),
                    seconds=nightly.seconds,
                    peak_rss_mib=nightly.peak_rss_mib,
                    stages=stage_times(nightly.stdout),
                    users_rescored=int(rescored.group(1).replace(",", "")) if rescored else None,
                    full_refresh_seconds=_full_refresh(scale, day, data)
                    if compare and day
                    else None,
                )
            )
            print(f"day {day}: {nightly.seconds:.1f} s, {nightly.peak_rss_mib:.0f} MiB", flush=True)
    return nights


def render(scale: str, nights: list[Night]) -> str:
    stages = list(dict.fromkeys(s for n in nights for s in n.stages if s != "total"))
    lines = [
        f"Consecutive days at {scale}, {datetime.now(UTC):%Y-%m-%d}, {machine()}",
        "",
        "Day 0 is the cold nightly of a fresh world (it trains the model); each later day "
        "lands one simulated day (`simulate --days 1`) and runs the nightly.",
        "",
        "| day | viewings landed | viewings in the warehouse | users rescored | nightly (s) "
        "| full refresh, same day (s) | peak RSS (MiB) | "
        + " | ".join(f"{s} (s)" for s in stages)
        + " |",
        "|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(stages),
    ]
    for n in nights:
        cells = " | ".join(f"{n.stages.get(s, 0.0):.1f}" for s in stages)
        rescored = "all" if n.users_rescored is None else f"{n.users_rescored:,}"
        full = "" if n.full_refresh_seconds is None else f"{n.full_refresh_seconds:.1f}"
        lines.append(
            f"| {n.day} | {n.viewings_landed:,} | {n.viewings_in_warehouse:,} | {rescored} "
            f"| {n.seconds:.1f} | {full} | {n.peak_rss_mib:.0f} | {cells} |"
        )
    later = [n.seconds for n in nights if n.day >= 2]
    if len(later) >= 2:
        lines += ["", f"Last day over day 2: {later[-1] / later[0]:.2f}x."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1x", choices=sorted(SCALES))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--compare-full-refresh",
        action="store_true",
        help="also time each day rebuilt from scratch (a copy, `nightly --full-refresh`)",
    )
    parser.add_argument(
        "--no-evaluate",
        action="store_true",
        help="the cold nightly does not evaluate its new model (`--no-evaluate-new-model`)",
    )
    parser.add_argument(
        "--output",
        help="the results' name in benchmarks/results/ (default days_<scale>; "
        "`--days 0 --output cold_<scale>` keeps a cold nightly apart)",
    )
    args = parser.parse_args()
    nights = bench_days(args.scale, args.days, args.compare_full_refresh, not args.no_evaluate)
    report = render(args.scale, nights)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = args.output or f"days_{args.scale}"
    (RESULTS / f"{name}.md").write_text(report)
    payload = {"machine": machine(), "scale": args.scale, "nights": [asdict(n) for n in nights]}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    later = [n for n in nights if n.day >= 1]
    if not later:
        return  # a cold nightly alone: no curve
    chart = line_chart(
        name,
        f"Nightly wall time per simulated day ({args.scale}; s)",
        [str(n.day) for n in later],
        {
            "nightly": [n.seconds for n in later],
            **(
                {"full refresh": [n.full_refresh_seconds or 0.0 for n in later]}
                if args.compare_full_refresh
                else {}
            ),
            "dbt build (features)": [n.stages.get("dbt build (features)", 0.0) for n in later],
            "recommend": [n.stages.get("recommend", 0.0) for n in later],
        },
    )
    (RESULTS / f"{name}.svg").write_text(chart + "\n")


if __name__ == "__main__":
    main()
