"""Benchmark the closed loop: simulated days that answer the published lists, a nightly
after each, and the click-through the warehouse then measures (docs/kpi.md).

In a fresh data folder: land the world at the scale asked and run the cold nightly; then
for each day `movierec simulate --days 1` (the day's listed viewings scan the lists the
last nightly published) and `movierec nightly`. Times the whole loop, and reads the
realised click-through per day from the last published warehouse
(`kpi.rpt_click_through_daily`). Writes benchmarks/results/closed_loop_<scale>.{json,md}
and the curve closed_loop_<scale>.svg.

    .venv/bin/python -m benchmarks.bench_closed_loop [--scale 1x] [--days 30]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.measure import (
    RESULTS,
    SCALES,
    data_env,
    machine,
    markdown_table,
    run_step,
    simulate_args,
)
from movierec.reporting.svg import line_chart

DAILY_SQL = """
select
    activity_date,
    sum(list_views) as list_views,
    sum(clicks) as clicks,
    sum(liked_clicks) as liked_clicks,
    max(baseline_click_through) as baseline,
    max(target_click_through) as target
from kpi.rpt_click_through_daily
group by activity_date
order by activity_date
"""


def bench_closed_loop(scale: str, days: int) -> tuple[list[dict[str, object]], dict[str, float]]:
    """The days' click-through, and the loop's seconds: cold nightly, days, whole."""
    with tempfile.TemporaryDirectory(prefix=f"movierec-loop-{scale}-") as tmp:
        data = Path(tmp) / "data"
        env = data_env(data)
        started = time.perf_counter()
        run_step(scale, "simulate", simulate_args(scale), env)
        cold = run_step(scale, "nightly 0", ["nightly"], env).seconds
        days_started = time.perf_counter()
        for day in range(1, days + 1):
            landed = run_step(scale, f"day {day}", ["simulate", "--days", "1"], env)
            nightly = run_step(scale, f"nightly {day}", ["nightly"], env)
            print(f"day {day}: {landed.seconds + nightly.seconds:.1f} s", flush=True)
        seconds = {
            "cold nightly": round(cold, 1),
            f"{days} days (simulate + nightly)": round(time.perf_counter() - days_started, 1),
            "whole loop": round(time.perf_counter() - started, 1),
        }
        warehouse = data / "warehouse" / "movierec.duckdb"
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = [
                dict(zip([c[0] for c in con.description or []], r, strict=True))
                for r in con.execute(DAILY_SQL).fetchall()
            ]
    daily = []
    for day, row in enumerate(rows, start=1):
        views, clicks, liked = int(row["list_views"]), int(row["clicks"]), int(row["liked_clicks"])
        daily.append(
            {
                "day": day,
                "date": str(row["activity_date"]),
                "list_views": views,
                "clicks": clicks,
                "click_through": round(clicks / views, 4),
                "like_through": round(liked / clicks, 4) if clicks else None,
                "baseline": float(row["baseline"]),
                "target": float(row["target"]),
            }
        )
    return daily, seconds


def render(scale: str, daily: list[dict[str, object]], seconds: dict[str, float]) -> str:
    views = sum(int(str(d["list_views"])) for d in daily)
    clicks = sum(int(str(d["clicks"])) for d in daily)
    lines = [
        f"# Closed loop at {scale}, {datetime.now(UTC):%Y-%m-%d}, {machine()}",
        "",
        "A cold nightly, then each day `simulate --days 1` (listed viewings scan the lists "
        "the last nightly published; movierec.toml's [closed_loop]) and `nightly`. "
        "Click-through from the last published warehouse (`kpi.rpt_click_through_daily`).",
        "",
        *markdown_table(
            [("step", "step"), (">seconds", "seconds")],
            [{"step": k, "seconds": v} for k, v in seconds.items()],
        ),
        "",
        f"Over the days: {views:,} list views, {clicks:,} clicks, click-through "
        f"{clicks / views:.1%} (the seed's baseline 12 %, target 15 %).",
        "",
        *markdown_table(
            [
                (">day", "day"),
                ("date", "date"),
                (">list views", "list_views"),
                (">clicks", "clicks"),
                (">click-through", "click_through"),
                (">like-through", "like_through"),
            ],
            daily,
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1x", choices=sorted(SCALES))
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    daily, seconds = bench_closed_loop(args.scale, args.days)
    report = render(args.scale, daily, seconds)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"closed_loop_{args.scale}"
    (RESULTS / f"{name}.md").write_text(report)
    payload = {"machine": machine(), "scale": args.scale, "seconds": seconds, "days": daily}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    chart = line_chart(
        name,
        f"Realised click-through per simulated day ({args.scale}; %)",
        [str(d["day"]) for d in daily],
        {
            "click-through": [100 * float(str(d["click_through"])) for d in daily],
            "baseline": [100 * float(str(d["baseline"])) for d in daily],
            "target": [100 * float(str(d["target"])) for d in daily],
        },
        value_format=".0f",
    )
    (RESULTS / f"{name}.svg").write_text(chart + "\n")


if __name__ == "__main__":
    main()
