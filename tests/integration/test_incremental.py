"""The incremental nightly: days of new landed files, each built on a copy of the
published warehouse, give what a full refresh gives (docs/incremental.md).

One scenario on a clone of the small published installation, each step a test that needs
the one before: a failed day, the day after (which catches up, rescoring only the users
whose lists may change), a day that lands nothing, then a full refresh of the same landed
files beside it to compare with.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from movierec.land import landed_files
from movierec.publishing import read_run_records
from movierec.settings import ENTITIES, Paths
from tests.integration.harness import REPO, clone, digest, paths_for, query, run_cli

pytestmark = pytest.mark.integration

# What the landed files build, and the point-in-time features: what incremental must not change.
BUILT_TABLES = (
    "staging.stg_landing__interactions",
    "staging.stg_landing__users",
    "staging.stg_landing__movies",
    "core.fct_interactions",
    "core.dim_users",
    "core.dim_movies",
    "intermediate.int_user_first_viewings",
    "intermediate.int_user_histories_accumulated",
    "intermediate.int_user_genre_histories_accumulated",
    "intermediate.int_user_film_histories_accumulated",
    "intermediate.int_movie_histories_accumulated",
    "intermediate.int_movie_viewer_histories_accumulated",
    "intermediate.int_movie_pair_histories_accumulated",
    "ml.ml_training_features",
)


class Scenario:
    """The clone the steps share, what the failed day left, and the config its days land
    with: every viewing of a listed user goes through the list, which is scanned with a
    stronger attention than the default's, so a small world's days hold clicks."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.failed_day_files = 0
        self.latest_viewing: object = None
        self.lists_run: str | None = None
        self.loop_config = paths.data_dir.parent / "closed_loop.toml"
        self.loop_config.write_text(
            "[closed_loop]\nlist_share = 1.0\nexamine_first = 0.15\nexamine_decay = 0.9\n"
        )


def _landed_count(paths: Paths) -> int:
    return sum(len(landed_files(paths.raw_dir, entity)) for entity in ENTITIES)


@pytest.fixture(scope="module")
def scenario(
    installation: tuple[Paths, float], tmp_path_factory: pytest.TempPathFactory
) -> Scenario:
    return Scenario(clone(installation, tmp_path_factory.mktemp("incremental")))


def _build_row(paths: Paths) -> dict[str, object]:
    return query(paths, "select * from ops.warehouse_build").row(0, named=True)


def _nightly(paths: Paths, *args: str, extra_env: dict[str, str] | None = None) -> str:
    result = run_cli(paths, "nightly", *args, extra_env=extra_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return result.stdout


def test_a_failed_day_leaves_the_published_warehouse_as_it_was(scenario: Scenario) -> None:
    paths = scenario.paths
    # the installation's second nightly continued the first one's build, with nothing new
    assert (_build_row(paths)["mode"], _build_row(paths)["new_files"]) == ("incremental", 0)
    scenario.lists_run = query(paths, "select min(run_id) as r from ml.ml_recommendations_latest")[
        "r"
    ][0]
    files = _landed_count(paths)
    landed = run_cli(paths, "simulate", "--days", "1", config=scenario.loop_config)
    assert landed.returncode == 0, landed.stderr
    scenario.failed_day_files = _landed_count(paths) - files
    assert scenario.failed_day_files >= 1  # at least the day's viewings
    # the day's nightly fails in its first dbt build (a data test that always fails)
    project = paths.data_dir.parent / "project"
    shutil.copytree(REPO / "dbt_project", project / "dbt_project",
                    ignore=shutil.ignore_patterns("target", "logs"))  # fmt: skip
    shutil.copy(REPO / "profiles.yml", project)
    (project / "dbt_project" / "tests" / "assert_always_fails.sql").write_text("select 1 as x\n")
    before = digest(paths.warehouse_path)
    failed = run_cli(replace(paths, project_dir=project), "nightly")
    assert failed.returncode == 1
    new = f"landed-data models: incremental, {scenario.failed_day_files} new landed file(s)"
    assert new in failed.stdout
    assert "nothing published" in failed.stderr
    assert digest(paths.warehouse_path) == before
    assert read_run_records(paths)[-1].outcome == "failed"
    scenario.latest_viewing = _latest_viewing(paths)


def _latest_viewing(paths: Paths) -> object:
    return query(paths, "select max(interacted_at) as t from core.fct_interactions")["t"][0]


def test_the_next_nightly_catches_up_incrementally(scenario: Scenario) -> None:
    paths = scenario.paths
    assert scenario.latest_viewing is not None, "runs after the failed day"
    files = _landed_count(paths)
    landed = run_cli(paths, "simulate", "--days", "1", config=scenario.loop_config)
    assert landed.returncode == 0, landed.stderr
    # both days: the failed one published nothing, so its files are still new
    new_files = scenario.failed_day_files + _landed_count(paths) - files
    out = _nightly(paths)
    assert f"landed-data models: incremental, {new_files} new landed file(s)" in out
    build = _build_row(paths)
    assert (build["mode"], build["reason"], build["new_files"]) == ("incremental", None, new_files)
    flagged = query(paths, "select count(*) as n from ops.landed_batches where is_new")
    assert flagged["n"][0] == new_files
    # the two days' viewings, and nothing else, arrived
    added = query(
        paths,
        "select count(distinct cast(interacted_at as date)) as days, count(*) as viewings "
        f"from core.fct_interactions where interacted_at > '{scenario.latest_viewing}'",
    ).row(0, named=True)
    landed_rows = query(
        paths,
        "select count(*) as n from staging.stg_landing__interactions as s "
        "join ops.landed_batches as b on s.landed_file = b.landed_file and b.is_new",
    )["n"][0]
    assert added == {"days": 2, "viewings": landed_rows}
    assert landed_rows > 0
    users = query(paths, "select count(distinct user_id) as n from ml.ml_recommendations_latest")
    assert users["n"][0] == query(paths, "select count(*) as n from core.dim_users")["n"][0]


def test_the_days_answered_the_lists_published_before_them(scenario: Scenario) -> None:
    """The closed loop: both days' clicks are films of their user's list in the run
    published before the days, at the rank they landed with; the realised click-through
    in the warehouse equals its recomputation from the landed Parquet alone (viewings and
    users, segments from the ages), to the last digit."""
    paths = scenario.paths
    assert scenario.lists_run is not None, "runs after the failed day"
    landed = [str(f) for f in landed_files(paths.raw_dir, "interactions")]
    users = [str(f) for f in landed_files(paths.raw_dir, "users")]
    with duckdb.connect() as con:
        listed = ", ".join(f"'{f}'" for f in landed)
        con.execute(
            f"create view viewings as select * from read_parquet([{listed}], union_by_name = true)"
        )
        views = con.sql("select * from viewings where run_id is not null").pl()
        con.execute(f"attach '{paths.warehouse_path}' as wh (read_only)")
        (unlisted,) = con.sql(
            "select count(*) from viewings as v where viewing_source = 'recommendation' "
            "and not exists (select 1 from wh.ml.ml_recommendations as r where "
            "r.run_id = v.run_id and r.user_id = v.user_id and r.movie_id = v.movie_id "
            "and r.recommendation_rank = v.recommendation_rank)"
        ).fetchall()[0]
        recomputed = con.sql(
            """with users as (
                   select user_id, age from read_parquet($u, filename = true)
                   qualify row_number() over (partition by user_id order by filename desc) = 1)
               select cast(v.interacted_at as date) as activity_date, v.model_id,
                   case when u.age < 25 then 'young' when u.age < 45 then 'adult'
                       else 'senior' end as segment,
                   count(*) as list_views,
                   count(*) filter (where v.viewing_source = 'recommendation') as clicks,
                   count(*) filter (where v.viewing_source = 'recommendation' and v.is_liked)
                       as liked_clicks
               from viewings as v join users as u using (user_id)
               where v.run_id is not null group by all""",
            params={"u": users},
        ).pl()
    clicks = views.filter(pl.col("viewing_source") == "recommendation")
    assert set(views["run_id"]) == {scenario.lists_run}
    assert 0 < clicks.height < views.height
    assert unlisted == 0
    recomputed = recomputed.with_columns(
        (pl.col("clicks") / pl.col("list_views")).alias("click_through")
    )
    columns = [*recomputed.columns]
    in_warehouse = query(
        paths, f"select {', '.join(columns)} from kpi.rpt_click_through_daily"
    ).cast({"list_views": pl.Int64, "clicks": pl.Int64, "liked_clicks": pl.Int64})
    per_day = recomputed.group_by("activity_date").agg(
        pl.col("list_views").sum().cast(pl.Int64), pl.col("clicks").sum().cast(pl.Int64)
    )
    viewing_daily = query(
        paths,
        "select activity_date, list_views, recommended_viewings as clicks "
        f"from kpi.rpt_viewing_daily where activity_date >= '{per_day['activity_date'].min()}'",
    ).cast({"list_views": pl.Int64, "clicks": pl.Int64})
    assert viewing_daily.sort("activity_date").equals(per_day.sort("activity_date"))
    order = ["activity_date", "model_id", "segment"]
    assert in_warehouse.sort(order).equals(
        recomputed.cast(
            {"list_views": pl.Int64, "clicks": pl.Int64, "liked_clicks": pl.Int64}
        ).sort(order)
    )


def _runs(paths: Paths) -> list[dict[str, Any]]:
    return query(
        paths,
        "select run_id, users, users_rescored, pairs_scored "
        "from ml_outputs.recommendation_runs order by generated_at",
    ).to_dicts()


def test_the_catch_up_rescored_only_the_users_whose_lists_may_change(scenario: Scenario) -> None:
    paths = scenario.paths
    previous, latest = _runs(paths)[-2:]
    changed = query(
        paths,
        "select count(distinct s.user_id) as n from staging.stg_landing__interactions as s "
        "join ops.landed_batches as b on s.landed_file = b.landed_file and b.is_new "
        "union all select count(*) from core.dim_users "
        "where user_id not in (select user_id from ml_outputs.recommendations where run_id = "
        f"'{previous['run_id']}')",
    )["n"].to_list()
    assert 0 < latest["users_rescored"] <= changed[0] + changed[1] < latest["users"]
    carried = query(
        paths,
        "select count(distinct user_id) as n from ml_outputs.recommendations "
        f"where run_id = '{latest['run_id']}' and scored_at < generated_at",
    )["n"][0]
    assert carried == latest["users"] - latest["users_rescored"]
    # a carried list is the previous run's list, film for film
    moved = query(
        paths,
        f"""select count(*) as n from (
            select user_id, rank, movie_id, score from ml_outputs.recommendations
            where run_id = '{latest["run_id"]}' and scored_at < generated_at
            except all
            select user_id, rank, movie_id, score from ml_outputs.recommendations
            where run_id = '{previous["run_id"]}')""",
    )["n"][0]
    assert moved == 0


def test_a_day_that_lands_nothing_still_publishes(scenario: Scenario) -> None:
    paths = scenario.paths
    counts = {t: query(paths, f"select count(*) as n from {t}")["n"][0] for t in BUILT_TABLES}
    before = digest(paths.warehouse_path)
    out = _nightly(paths)
    assert "landed-data models: incremental, 0 new landed file(s)" in out
    assert "rescoring 0 users" in out
    assert digest(paths.warehouse_path) != before  # a new version, with a new run
    assert {t: query(paths, f"select count(*) as n from {t}")["n"][0] for t in BUILT_TABLES} == (
        counts
    )
    assert _build_row(paths)["new_files"] == 0
    previous, latest = _runs(paths)[-2:]
    assert (latest["users_rescored"], latest["pairs_scored"]) == (0, 0)
    assert latest["users"] == previous["users"]
    run = query(paths, "select count(distinct run_id) as runs from ml.ml_recommendations_latest")
    assert run["runs"][0] == 1


def test_incremental_equals_a_full_refresh(scenario: Scenario, tmp_path: Path) -> None:
    """Same rows in every table the landed files build, same features, and the same lists
    for the users the incremental nightlies rescored.

    The full refresh builds ml_training_features in four batches of viewing times, as a
    build too large for one query does (docs/memory.md), while the incremental nightlies
    built it in one query each: so this also shows that batches give one query's rows."""
    incremental = scenario.paths
    full = paths_for(tmp_path / "data")
    shutil.copytree(incremental.data_dir, full.data_dir, ignore=shutil.ignore_patterns("*.lock"))
    with duckdb.connect() as con:
        landed = [str(f) for f in landed_files(full.raw_dir, "interactions")]
        (viewings,) = con.execute(
            "select count(*) from read_parquet($f)", {"f": landed}
        ).fetchall()[0]
    batch_rows = {"MOVIEREC_FEATURE_BATCH_ROWS": str(-(-viewings // 4))}
    out = _nightly(full, "--full-refresh", extra_env=batch_rows)
    assert "landed-data models: full refresh, 0 new landed file(s) (--full-refresh)" in out
    assert "ml_training_features: 4 batches of about" in out
    assert _build_row(full)["mode"] == "full refresh"
    latest = _runs(full)[-1]
    assert latest["users_rescored"] == latest["users"]  # a full refresh rescores everyone
    with duckdb.connect() as con:
        con.execute(f"attach '{incremental.warehouse_path}' as inc (read_only)")
        con.execute(f"attach '{full.warehouse_path}' as full_ (read_only)")
        for table in BUILT_TABLES:
            rows = con.execute(f"select count(*) from inc.{table}").fetchall()[0][0]
            assert rows > 0, table
            for a, b in (("inc", "full_"), ("full_", "inc")):
                (differ,) = con.execute(
                    f"select count(*) from (select * from {a}.{table} "
                    f"except all select * from {b}.{table})"
                ).fetchall()[0]
                assert differ == 0, f"{table}: {differ} of {rows} rows of {a} not in {b}"
        # the catch-up nightly's rescored lists (the last nightly carried them all)
        lists = (
            "select user_id, rank, movie_id from {}.ml_outputs.recommendations "
            "where run_id = (select max_by(run_id, generated_at) from "
            "{}.ml_outputs.recommendations) and {}"
        )
        rescored = "scored_at = (select max(scored_at) from inc.ml_outputs.recommendations)"
        inc_lists = lists.format("inc", "inc", rescored)
        full_lists = lists.format("full_", "full_", "true")
        (rows,) = con.execute(f"select count(*) from ({inc_lists})").fetchall()[0]
        (differ,) = con.execute(
            f"select count(*) from ({inc_lists} except all {full_lists})"
        ).fetchall()[0]
    assert rows > 0
    assert differ == 0, f"{differ} of {rows} rescored list rows differ from the full refresh's"
