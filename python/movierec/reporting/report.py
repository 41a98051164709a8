"""`movierec report`: the KPI models as one self-contained HTML page (inline SVG, no
scripts, no network), written next to the warehouse."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

import duckdb
import polars as pl

from movierec.errors import NoDataError
from movierec.reporting.svg import bar_chart, line_chart
from movierec.warehouse import query_frame

# The charts every report holds; "realised-click-through" and "ab-test" join them once
# list views have landed and while an A/B test runs.
CHARTS = (
    "engagement-daily",
    "ranking-precision",
    "ranking-ndcg",
    "expected-likes",
    "click-through",
    "most-recommended",
    "run-coverage",
)

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1400px;
       color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
.tiles { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1.5rem 0; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: 0.8rem 1.2rem; min-width: 12rem; }
.tile b { display: block; font-size: 1.6rem; } .tile span { color: #666; font-size: 0.85rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(660px, 1fr)); gap: 1.5rem; }
section { border-top: 1px solid #eee; padding-top: 0.5rem; overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
td, th { border-bottom: 1px solid #eee; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { color: #666; font-size: 0.85rem; max-width: 60rem; }
"""


def _table(frame: pl.DataFrame, formats: dict[str, str] | None = None) -> str:
    formats = formats or {}
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows(named=True):
        cells = []
        for column, value in row.items():
            fmt = formats.get(column)
            text = format(value, fmt) if fmt and value is not None else str(value)
            cells.append(f"<td>{escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def build_report(con: duckdb.DuckDBPyConnection) -> str:
    """The whole page from the KPI models of an open (read-only) warehouse."""
    ctr = query_frame(con, "select * from kpi.rpt_expected_click_through")
    impact = query_frame(con, "select * from kpi.rpt_business_impact")
    runs = query_frame(con, "select * from kpi.rpt_recommendation_runs order by generated_at")
    if ctr.height == 0 or runs.height == 0:
        raise NoDataError("no recommendation run in the warehouse: run `movierec nightly`")
    latest = runs.row(-1, named=True)
    c = ctr.row(0, named=True)
    b = impact.row(0, named=True)

    daily = query_frame(
        con,
        """
        select activity_date, segment, sum(interactions) as interactions
        from kpi.rpt_engagement_daily
        where activity_date > (select max(activity_date) from kpi.rpt_engagement_daily) - 90
        group by all order by activity_date
        """,
    )
    days = sorted(set(daily["activity_date"].to_list()))
    by_segment = {
        segment: [
            float(daily.filter((pl.col("segment") == segment) & (pl.col("activity_date") == d))
                  ["interactions"].sum())
            for d in days
        ]
        for segment in sorted(set(daily["segment"].to_list()))
    }  # fmt: skip
    like_rates = query_frame(
        con,
        """
        select genre, sum(likes) * 1.0 / sum(interactions) as like_rate,
            sum(interactions) as viewings
        from kpi.rpt_engagement_daily group by genre order by like_rate desc
        """,
    )
    ranking = query_frame(
        con,
        """
        select recommender, metric_name, metric_value
        from kpi.rpt_model_performance
        where evaluation_kind = 'ranking' and is_latest and segment = 'all' and list_length = 10
        """,
    )
    models = query_frame(
        con,
        """
        select model_id, time_split_auc as auc, time_split_precision as precision,
            time_split_recall as recall, time_split_f1 as f1, training_rows as rows
        from ml.ml_models order by created_at desc limit 10
        """,
    )
    films = query_frame(
        con,
        """
        select title, primary_genre, times_shown_latest, mean_rating
        from kpi.rpt_film_exposure order by times_shown_latest desc, movie_id limit 10
        """,
    )
    unshown = query_frame(
        con,
        """
        select count(*) filter (where is_unshown_latest) as unshown_latest,
            count(*) filter (where is_never_recommended) as never_recommended,
            count(*) as films
        from kpi.rpt_film_exposure
        """,
    ).row(0, named=True)

    clicks = query_frame(
        con,
        """
        select activity_date, sum(list_views) as list_views, sum(clicks) as clicks,
            sum(clicks) * 1.0 / sum(list_views) as click_through
        from kpi.rpt_click_through_daily
        where activity_date > (select max(activity_date) from kpi.rpt_click_through_daily) - 30
        group by all order by activity_date
        """,
    )

    def realised_click_through() -> str:
        if clicks.height == 0:
            return (
                "<p class='note'>No list views yet: simulated days answer the published lists "
                "(`movierec simulate --days N` after a nightly); MovieLens records none.</p>"
            )
        views, clicked = int(clicks["list_views"].sum()), int(clicks["clicks"].sum())
        return line_chart(
            "realised-click-through",
            "Realised click-through per day, last 30 days (%)",
            [d.strftime("%m-%d") for d in clicks["activity_date"].to_list()],
            {
                "click-through": [100 * v for v in clicks["click_through"].to_list()],
                f"target {c['target_click_through']:.0%}": [100 * c["target_click_through"]]
                * clicks.height,
                f"baseline {c['baseline_click_through']:.0%}": [100 * c["baseline_click_through"]]
                * clicks.height,
            },
            ".0f",
        ) + (
            f"<p class='note'>{clicked:,} clicks in {views:,} list views "
            f"({clicked / views:.1%}): viewings that had the user's published list in front "
            "of them, and the ones that were a click in it (kpi.rpt_click_through_daily; "
            "per model, segment and rank in kpi.rpt_click_through_by_rank).</p>"
        )

    ab = query_frame(con, "select * from kpi.rpt_ab_test")

    def ab_test() -> str:
        if ab.height == 0:
            return (
                "<p class='note'>No A/B test running: with movierec.toml's [ab_test] "
                "challenger_share above 0, a newly trained model serves that share of users "
                "against the champion.</p>"
            )
        t = ab.row(0, named=True)
        arms = [
            (arm, t[f"{arm}_model_id"], t[f"{arm}_list_views"], t[f"{arm}_clicks"],
             t[f"{arm}_click_through"], t[f"{arm}_ci_low"], t[f"{arm}_ci_high"])
            for arm in ("champion", "challenger")
        ]  # fmt: skip
        measured = [a for a in arms if a[4] is not None]
        chart = bar_chart(
            "ab-test",
            "Realised click-through by arm, with its 95 % interval",
            [a[0] for a in measured],
            [a[4] for a in measured],
            ".1%",
            {f"target {c['target_click_through']:.0%}": c["target_click_through"]},
            [(a[5], a[6]) for a in measured],
        )
        difference = (
            "no difference yet (an arm without list views)"
            if t["difference"] is None
            else f"difference {t['difference']:+.1%} (95 % {t['difference_ci_low']:+.1%} .. "
            f"{t['difference_ci_high']:+.1%})"
        )
        return chart + (
            f"<p class='note'>The challenger serves {t['challenger_share']:.0%} of users "
            f"(a stable hash of their id). "
            + "; ".join(
                f"{a[0]} {escape(a[1])}: {a[3]:,} clicks in {a[2]:,} list views" for a in arms
            )
            + f"; {escape(difference)}. Decision: <b>{escape(t['decision'])}</b> "
            f"(kpi.rpt_ab_test; `movierec promote` follows it, at least "
            f"{t['min_list_views']:,} list views per arm).</p>"
        )

    def metric_chart(
        metric: str,
        chart_id: str,
        title: str,
        absent: str = "No ranking evaluation yet: run `movierec evaluate`.",
    ) -> str:
        rows = ranking.filter(pl.col("metric_name") == metric).sort("recommender")
        if rows.height == 0:
            return f"<p class='note'>{absent}</p>"
        return bar_chart(
            chart_id, title, rows["recommender"].to_list(), rows["metric_value"].to_list(), ".4f"
        )

    diversity = {
        "coverage": runs["catalogue_coverage"].to_list(),
        "Gini": runs["exposure_gini"].fill_null(0).to_list(),
        "intra-list diversity": runs["intra_list_diversity"].fill_null(0).to_list(),
        **(
            {"outside stated genres": runs["outside_stated_genres_share"].fill_null(0).to_list()}
            if runs["outside_stated_genres_share"].null_count() < runs.height
            else {}
        ),
    }
    realised = (
        f"{int(clicks['clicks'].sum()) / int(clicks['list_views'].sum()):.1%}"
        if clicks.height
        else "none"
    )
    tiles = [
        (realised, "realised click-through, last 30 days"),
        (f"{c['expected_click_through']:.1%}", "expected click-through (assumption-based)"),
        (f"{c['baseline_click_through']:.0%} / {c['target_click_through']:.0%}",
         "baseline / target click-through"),
        (f"{latest['catalogue_coverage']:.1%}", "of the catalogue shown last night"),
        (f"{latest['exposure_gini']:.2f}", "exposure Gini (0 = even)"),
        (f"{latest['users_served']:,}", "users served"),
        (f"{b['users_impacted']:,} / {b['users_total']:,}", "users impacted (capped)"),
    ]  # fmt: skip
    sections = [
        ("Engagement, last 90 days",
         line_chart("engagement-daily", "Daily viewings by segment",
                    [d.strftime("%m-%d") for d in days], by_segment)
         + _table(like_rates, {"like_rate": ".1%", "viewings": ","})),
        ("Our model against baselines (held-out viewings, top 10)",
         metric_chart("precision", "ranking-precision", "precision@10 by recommender")
         + metric_chart("ndcg", "ranking-ndcg", "nDCG@10 by recommender")
         + "<p class='note'>Lists built before a cut-off and judged on the films each user "
           "liked after it (`movierec evaluate`). Films in the simulated world are chosen at "
           "random, so every recommender's precision is small; what matters is the order.</p>"
         + metric_chart("expected_like_ratio", "expected-likes",
                        "Expected likes of the top 10 over the best possible (1 = perfect)",
                        "No truth for this catalogue: its users state no genres.")
         + "<p class='note'>Only where the simulator's p(like) is known (users who state "
           "their genres): the likes each list can expect, over the most any 10 films the "
           "user had not viewed could expect.</p>"),
        ("Realised click-through (the closed loop)", realised_click_through()),
        ("A/B test: champion against challenger", ab_test()),
        ("Expected click-through (an assumption)",
         bar_chart("click-through", "Expected click-through vs the seed's baseline and target",
                   ["expected"], [c["expected_click_through"]], ".1%",
                   {f"target {c['target_click_through']:.0%}": c["target_click_through"],
                    f"baseline {c['baseline_click_through']:.0%}": c["baseline_click_through"]})
         + f"<p class='note'>Mean predicted like of shown films ({c['avg_predicted_like']:.2f}) "
           f"x {c['clicks_per_predicted_like']:.2f} clicks per predicted like: an assumption "
           "(the seed's), set as a dbt var. Business impact: "
           f"{b['users_impacted']:,} of {b['users_total']:,} users, "
           f"{b['yearly_extra_revenue']:,.0f} EUR a year; first-year return on development "
           f"{b['first_year_return_on_development']:.0%}.</p>"),
        ("Most recommended films last night",
         bar_chart("most-recommended", "Lists holding each film (top 10)",
                   films["title"].to_list(), [float(v) for v in films["times_shown_latest"]])
         + f"<p class='note'>{unshown['unshown_latest']:,} of {unshown['films']:,} films were "
           f"in nobody's list last night; {unshown['never_recommended']:,} have never been "
           "recommended.</p>"),
        ("Recommendation runs",
         line_chart("run-coverage", "Coverage, concentration and diversity per run",
                    [str(i + 1) for i in range(runs.height)], diversity, ".2f")
         + "<p class='note'>Coverage: share of the catalogue in some list; Gini: how "
           "unevenly lists share the films (0 = evenly); intra-list diversity: share of a "
           "list's film pairs of different main genres; outside stated genres: share of "
           "shown films in none of the genres the user stated (the filter bubble).</p>"
         + _table(runs.select("run_id", "users_served", "catalogue_coverage", "exposure_gini",
                              "avg_score", "run_seconds").tail(5),
                  {"catalogue_coverage": ".1%", "exposure_gini": ".3f", "avg_score": ".3f",
                   "users_served": ",", "run_seconds": ".1f"})),
        ("Models (time split: trained on the past, tested on the latest viewings)",
         _table(models, {"rows": ",", "auc": ".4f", "precision": ".3f", "recall": ".3f",
                         "f1": ".3f"})),
    ]  # fmt: skip
    tiles_html = "".join(f"<div class='tile'><b>{escape(v)}</b><span>{escape(k)}</span></div>"
                         for v, k in tiles)  # fmt: skip
    body = "".join(f"<section><h2>{escape(t)}</h2>{html}</section>" for t, html in sections)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>movierec morning report</title><style>{STYLE}</style></head><body>"
        "<h1>movierec morning report</h1>"
        f"<p class='sub'>Run {escape(str(latest['run_id']))} with model "
        f"{escape(str(latest['model_id']))}; generated {generated}.</p>"
        f"<div class='tiles'>{tiles_html}</div><div class='grid'>{body}</div></body></html>"
    )


def write_report(warehouse: Path, target: Path) -> Path:
    """Render the report from the warehouse (read-only) and write it atomically."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        page = build_report(con)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target
