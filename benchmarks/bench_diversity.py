"""Benchmark diversity re-ranking in the closed loop: what a weight on genre novelty costs
in realised clicks and likes, and what it buys in diversity (docs/model.md).

For each weight, one closed loop (benchmarks/bench_closed_loop.py: a cold nightly, then
`days` days of `simulate --days 1` and `nightly`) with movierec.toml's [ranking]
diversity set to it, in a data folder of its own. Per weight: the realised click-through
and liked clicks per list view over the days (`kpi.rpt_click_through_daily`), and the
runs' mean intra-list diversity, catalogue coverage, share of listed films outside the
user's stated genres and exposure Gini (`kpi.rpt_recommendation_runs`). Writes
benchmarks/results/diversity_<scale>.{json,md,svg}.

    .venv/bin/python -m benchmarks.bench_diversity [--scale 1x] [--days 30] [--weights 0,0.3]
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from statistics import mean

from benchmarks.bench_closed_loop import Loop, closed_loop, per_day
from benchmarks.measure import RESULTS, SCALES, machine, markdown_table
from movierec.reporting.svg import line_chart

RUN_MEASURES = (
    "intra_list_diversity",
    "catalogue_coverage",
    "outside_stated_genres_share",
    "exposure_gini",
)


def summary(weight: float, loop: Loop) -> dict[str, object]:
    """One weight's row: the days' click-through and likes, the runs' mean diversity."""
    days = per_day(loop)
    views = sum(int(str(d["list_views"])) for d in days)
    clicks = sum(int(str(d["clicks"])) for d in days)
    liked = sum(int(row["liked_clicks"]) for row in loop.daily)
    runs = loop.runs  # the cold nightly's and each day's
    row: dict[str, object] = {
        "weight": weight,
        "list_views": views,
        "clicks": clicks,
        "click_through": round(clicks / views, 4),
        "liked_clicks": liked,
        "likes_per_list_view": round(liked / views, 4),
    }
    for measure in RUN_MEASURES:
        row[measure] = round(mean(float(r[measure]) for r in runs), 4)
    row["loop_seconds"] = loop.seconds["whole loop"]
    return row


def render(scale: str, days: int, rows: list[dict[str, object]]) -> str:
    lines = [
        f"# Diversity re-ranking in the closed loop at {scale}, {datetime.now(UTC):%Y-%m-%d}, "
        f"{machine()}",
        "",
        f"Per weight of [ranking] diversity (MMR over the 3 x 10 best-scored films): a cold "
        f"nightly and {days} closed-loop days, each `simulate --days 1` and `nightly`. "
        "Clicks and likes over the days' list views; diversity as the mean over the runs "
        "(the cold nightly's and each day's).",
        "",
        *markdown_table(
            [
                (">weight", "weight"),
                (">list views", "list_views"),
                (">click-through", "click_through"),
                (">liked clicks per list view", "likes_per_list_view"),
                (">intra-list diversity", "intra_list_diversity"),
                (">catalogue coverage", "catalogue_coverage"),
                (">outside stated genres", "outside_stated_genres_share"),
                (">exposure Gini", "exposure_gini"),
                (">loop seconds", "loop_seconds"),
            ],
            rows,
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1x", choices=sorted(SCALES))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--weights", default="0,0.4,0.8")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    rows = []
    for weight in weights:
        loop = closed_loop(
            args.scale, args.days, {"ranking": {"diversity": weight}}, label=f"weight {weight}: "
        )
        rows.append(summary(weight, loop))
        print(rows[-1], flush=True)
    report = render(args.scale, args.days, rows)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"diversity_{args.scale}"
    (RESULTS / f"{name}.md").write_text(report)
    payload = {"machine": machine(), "scale": args.scale, "days": args.days, "weights": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    chart = line_chart(
        name,
        f"What a diversity weight costs and buys over {args.days} closed-loop days "
        f"({args.scale}; %)",
        [f"{w:g}" for w in weights],
        {
            "click-through": [100 * float(str(r["click_through"])) for r in rows],
            "liked clicks per list view": [
                100 * float(str(r["likes_per_list_view"])) for r in rows
            ],
            "intra-list diversity": [100 * float(str(r["intra_list_diversity"])) for r in rows],
            "catalogue coverage": [100 * float(str(r["catalogue_coverage"])) for r in rows],
            "outside stated genres": [
                100 * float(str(r["outside_stated_genres_share"])) for r in rows
            ],
        },
        value_format=".0f",
    )
    (RESULTS / f"{name}.svg").write_text(chart + "\n")


if __name__ == "__main__":
    main()
