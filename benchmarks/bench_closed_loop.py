"""Benchmark the closed loop: simulated days that answer the published lists, a nightly
after each, and the click-through the warehouse then measures (docs/kpi.md).

In a fresh data folder: land the world at the scale asked and run the cold nightly; then
for each day `movierec simulate --days 1` (the day's listed viewings scan the lists the
last nightly published) and `movierec nightly`. Times the whole loop, and reads the
realised click-through per day and model (`kpi.rpt_click_through_daily`) and each run's
diversity (`kpi.rpt_recommendation_runs`) from the last published warehouse.

With --ab, an A/B test runs: the config serves half of the users ([ab_test]
challenger_share 0.5) and, after the cold nightly, asks for another forest (max_depth 4
instead of 8), so the first day's nightly trains a challenger that serves its half
against the champion for the remaining days. Writes benchmarks/results/
closed_loop[_ab]_<scale>.{json,md} and the curve closed_loop[_ab]_<scale>.svg.

    .venv/bin/python -m benchmarks.bench_closed_loop [--scale 1x] [--days 30] [--ab]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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

REPO = Path(__file__).resolve().parents[1]

DAILY_SQL = """
select
    activity_date,
    model_id,
    sum(list_views) as list_views,
    sum(clicks) as clicks,
    sum(liked_clicks) as liked_clicks
from kpi.rpt_click_through_daily
group by activity_date, model_id
order by activity_date, model_id
"""

TARGETS_SQL = """
select
    max(baseline_click_through) as baseline,
    max(target_click_through) as target
from kpi.rpt_click_through_daily
"""

RUNS_SQL = """
select
    run_id,
    catalogue_coverage,
    intra_list_diversity,
    outside_stated_genres_share,
    exposure_gini,
    avg_score
from kpi.rpt_recommendation_runs
order by generated_at
"""

# the challenger of --ab: the same forest but shallower
CHALLENGER_FOREST = {"max_depth": 4}


@dataclass(frozen=True)
class Loop:
    """What one closed loop measured: per day and model, the list views, clicks and
    liked clicks; per run, its diversity; the seconds of its parts."""

    daily: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    seconds: dict[str, float]
    targets: dict[str, float]  # the dbt vars' baseline and target click-through


def config_text(overrides: Mapping[str, Mapping[str, object]]) -> str:
    """The project's movierec.toml with `overrides` (table -> setting -> value), as TOML."""
    config: dict[str, dict[str, object]] = tomllib.loads((REPO / "movierec.toml").read_text())
    for table, values in overrides.items():
        config.setdefault(table, {}).update(values)
    lines = []
    for table, values in config.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [c[0] for c in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def closed_loop(
    scale: str,
    days: int,
    config: Mapping[str, Mapping[str, object]],
    after_cold: Mapping[str, Mapping[str, object]] | None = None,
    label: str = "",
) -> Loop:
    """A cold nightly and `days` closed-loop days under `config` (movierec.toml overrides;
    `after_cold`: more of them from the first day on)."""
    with tempfile.TemporaryDirectory(prefix=f"movierec-loop-{scale}-") as tmp:
        data = Path(tmp) / "data"
        settings = Path(tmp) / "movierec.toml"
        settings.write_text(config_text(config))
        env = {**data_env(data), "MOVIEREC_CONFIG": str(settings)}
        started = time.perf_counter()
        run_step(scale, "simulate", simulate_args(scale), env)
        cold = run_step(scale, "nightly 0", ["nightly"], env).seconds
        if after_cold:
            tables = {*config, *after_cold}
            merged = {t: {**config.get(t, {}), **after_cold.get(t, {})} for t in tables}
            settings.write_text(config_text(merged))
        days_started = time.perf_counter()
        for day in range(1, days + 1):
            landed = run_step(scale, f"day {day}", ["simulate", "--days", "1"], env)
            nightly = run_step(scale, f"nightly {day}", ["nightly"], env)
            print(f"{label}day {day}: {landed.seconds + nightly.seconds:.1f} s", flush=True)
        seconds = {
            "cold nightly": round(cold, 1),
            f"{days} days (simulate + nightly)": round(time.perf_counter() - days_started, 1),
            "whole loop": round(time.perf_counter() - started, 1),
        }
        warehouse = data / "warehouse" / "movierec.duckdb"
        with duckdb.connect(str(warehouse), read_only=True) as con:
            daily = _rows(con, DAILY_SQL)
            runs = _rows(con, RUNS_SQL)
            (targets,) = _rows(con, TARGETS_SQL)
    dates = sorted({row["activity_date"] for row in daily})
    for row in daily:
        row["day"] = dates.index(row["activity_date"]) + 1
        row["activity_date"] = str(row["activity_date"])
    return Loop(daily, runs, seconds, {k: float(v) for k, v in targets.items()})


def per_day(loop: Loop, model: str | None = None) -> list[dict[str, object]]:
    """Per day (of `model`'s lists, or of every list): list views, clicks, click-through,
    like-through."""
    days: dict[int, list[int]] = {}
    for row in loop.daily:
        if model is None or row["model_id"] == model:
            totals = days.setdefault(int(row["day"]), [0, 0, 0])
            for i, key in enumerate(("list_views", "clicks", "liked_clicks")):
                totals[i] += int(row[key])
    return [
        {
            "day": day,
            "list_views": views,
            "clicks": clicks,
            "click_through": round(clicks / views, 4) if views else None,
            "like_through": round(liked / clicks, 4) if clicks else None,
        }
        for day, (views, clicks, liked) in sorted(days.items())
    ]


def models_by_views(loop: Loop) -> list[str]:
    """The models whose lists were viewed, the most viewed first."""
    views: dict[str, int] = {}
    for row in loop.daily:
        views[row["model_id"]] = views.get(row["model_id"], 0) + int(row["list_views"])
    return sorted(views, key=lambda m: -views[m])


def _ab_arms(loop: Loop) -> tuple[str, str]:
    """(champion, challenger): the champion's lists were viewed from day 1 on."""
    first_day = {row["model_id"] for row in loop.daily if row["day"] == 1}
    models = models_by_views(loop)
    champion = next(m for m in models if m in first_day)
    return champion, next(m for m in models if m != champion)


def render(scale: str, loop: Loop, ab: bool) -> str:
    total = per_day(loop)
    views = sum(int(str(d["list_views"])) for d in total)
    clicks = sum(int(str(d["clicks"])) for d in total)
    lines = [
        f"# Closed loop{' with an A/B test' if ab else ''} at {scale}, "
        f"{datetime.now(UTC):%Y-%m-%d}, {machine()}",
        "",
        "A cold nightly, then each day `simulate --days 1` (listed viewings scan the lists "
        "the last nightly published; movierec.toml's [closed_loop]) and `nightly`. "
        "Click-through from the last published warehouse (`kpi.rpt_click_through_daily`).",
        "",
        *markdown_table(
            [("step", "step"), (">seconds", "seconds")],
            [{"step": k, "seconds": v} for k, v in loop.seconds.items()],
        ),
        "",
        f"Over the days: {views:,} list views, {clicks:,} clicks, click-through "
        f"{clicks / views:.1%} (the seed's baseline {loop.targets['baseline']:.0%}, target "
        f"{loop.targets['target']:.0%}).",
        "",
    ]
    columns = [
        (">day", "day"),
        (">list views", "list_views"),
        (">clicks", "clicks"),
        (">click-through", "click_through"),
        (">like-through", "like_through"),
    ]
    if not ab:
        return "\n".join([*lines, *markdown_table(columns, total)]) + "\n"
    champion, challenger = _ab_arms(loop)
    arms = {"champion": per_day(loop, champion), "challenger": per_day(loop, challenger)}
    lines += [
        f"Champion {champion} (the cold nightly's forest) against challenger {challenger} "
        f"(max_depth {CHALLENGER_FOREST['max_depth']}), half of the users each by the hash "
        "of their id, from day 2 on (the lists day 1 answers were published before the "
        "challenger was trained).",
        "",
    ]
    both = {d["day"] for d in arms["challenger"]}
    lines.append(f"Over the {len(both)} days both arms served:")
    lines.append("")
    for arm, days in arms.items():
        arm_views = sum(int(str(d["list_views"])) for d in days if d["day"] in both)
        arm_clicks = sum(int(str(d["clicks"])) for d in days if d["day"] in both)
        lines.append(
            f"- {arm}: {arm_views:,} list views, {arm_clicks:,} clicks, "
            f"{arm_clicks / arm_views:.2%}"
        )
    by_day: dict[int, dict[str, object]] = {}
    for arm, days in arms.items():
        for d in days:
            empty = {f"{a}_{k}": None for a in arms for k in ("list_views", "click_through")}
            row = by_day.setdefault(int(str(d["day"])), {"day": d["day"], **empty})
            row.update({f"{arm}_{k}": d[k] for k in ("list_views", "click_through")})
    lines += [
        "",
        *markdown_table(
            [
                (">day", "day"),
                (">champion list views", "champion_list_views"),
                (">champion click-through", "champion_click_through"),
                (">challenger list views", "challenger_list_views"),
                (">challenger click-through", "challenger_click_through"),
            ],
            [by_day[day] for day in sorted(by_day)],
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1x", choices=sorted(SCALES))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--ab", action="store_true", help="run an A/B test from day 1 on")
    args = parser.parse_args()
    if args.ab:
        loop = closed_loop(
            args.scale,
            args.days,
            {"ab_test": {"challenger_share": 0.5}},
            after_cold={"forest": CHALLENGER_FOREST},
        )
    else:
        loop = closed_loop(args.scale, args.days, {})
    report = render(args.scale, loop, args.ab)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"closed_loop{'_ab' if args.ab else ''}_{args.scale}"
    (RESULTS / f"{name}.md").write_text(report)
    payload = {
        "machine": machine(),
        "scale": args.scale,
        "seconds": loop.seconds,
        "daily": loop.daily,
        "runs": loop.runs,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    if args.ab:
        champion, challenger = _ab_arms(loop)
        both = {int(str(d["day"])) for d in per_day(loop, challenger)}
        series = {
            arm: [
                100 * float(str(d["click_through"] or 0))
                for d in per_day(loop, model)
                if d["day"] in both
            ]
            for arm, model in (("champion", champion), ("challenger", challenger))
        }
        labels = [str(day) for day in sorted(both)]
    else:
        days = per_day(loop)
        labels = [str(d["day"]) for d in days]
        series = {"click-through": [100 * float(str(d["click_through"] or 0)) for d in days]}
    for line, share in loop.targets.items():
        series[line] = [100 * share] * len(labels)
    chart = line_chart(
        name,
        f"Realised click-through per simulated day ({args.scale}; %)",
        labels,
        series,
        value_format=".0f",
    )
    (RESULTS / f"{name}.svg").write_text(chart + "\n")


if __name__ == "__main__":
    main()
