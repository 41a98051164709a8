"""Champion and challenger (docs/kpi.md): a config that turns the A/B test on and changes
the forest makes the next nightly train a challenger that serves half the users while
the model that served before keeps the other half; the simulated days answer each
user's list with the model that ranked it; kpi.rpt_ab_test compares the two arms on
what landed, and `movierec promote` follows its rule.

One scenario on a clone of the small world the nightly tests read (one nightly, one
model), each step a test that needs the one before.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from movierec.publishing import read_run_records
from movierec.scoring import in_challenger_group, serving_models
from movierec.settings import Paths
from tests.integration.harness import clone, digest, query, run_cli

pytestmark = pytest.mark.integration

SHARE = 0.5


class Scenario:
    """The clone, its A/B config, and the two models once the test runs."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.config = paths.data_dir.parent / "ab_test.toml"
        # other forest parameters than the registered model's: the nightly trains anew
        self.config.write_text(
            "[forest]\nn_estimators = 12\nmax_depth = 5\n"
            "[closed_loop]\nlist_share = 1.0\nexamine_first = 0.15\nexamine_decay = 0.9\n"
            f"[ab_test]\nchallenger_share = {SHARE}\n"
        )
        self.champion = ""
        self.challenger = ""


@pytest.fixture(scope="module")
def scenario(warehouse: Paths, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return Scenario(clone(warehouse, tmp_path_factory.mktemp("ab_test")))


def _run(scenario: Scenario, *args: str) -> str:
    result = run_cli(scenario.paths, *args, config=scenario.config)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return result.stdout + result.stderr


def _served(paths: Paths) -> dict[int, str]:
    """Each user's model in the latest lists."""
    lists = query(paths, "select distinct user_id, model_id from ml.ml_recommendations_latest")
    assert lists["user_id"].is_unique().all()  # one model per list
    return dict(lists.iter_rows())


def test_a_new_model_challenges_the_one_that_served(scenario: Scenario) -> None:
    """The nightly trains (the config's forest differs), and the run is served by the
    model of the run before (champion) and the new one (challenger): each user's list by
    the model their id's hash assigns, half of the users each within sampling error."""
    paths = scenario.paths
    before = query(paths, "select distinct model_id from ml.ml_recommendations_latest")
    assert before.height == 1
    out = _run(scenario, "nightly")
    run = query(
        paths,
        "select run_id, model_id, challenger_model_id, challenger_share "
        "from ml_outputs.recommendation_runs order by generated_at desc limit 1",
    ).row(0, named=True)
    newest = query(
        paths, "select model_id from ml_outputs.model_registry order by created_at desc limit 1"
    )["model_id"][0]
    assert run["model_id"] == before["model_id"][0]
    assert run["challenger_model_id"] == newest != run["model_id"]
    assert run["challenger_share"] == SHARE
    assert f"challenger {newest}" in out
    scenario.champion, scenario.challenger = run["model_id"], newest

    served = _served(paths)
    users = np.array(sorted(served))
    expected = np.where(in_challenger_group(users, SHARE), newest, run["model_id"])
    assert [served[user] for user in users.tolist()] == expected.tolist()
    challenged = float(np.mean(expected == newest))
    assert abs(challenged - SHARE) < 3 * math.sqrt(SHARE * (1 - SHARE) / len(users))
    assert query(paths, "select count(*) as n from kpi.rpt_ab_test")["n"][0] == 1


def test_the_days_answer_each_list_with_the_model_that_ranked_it(scenario: Scenario) -> None:
    """After simulated days and a nightly that carries the unchanged lists (the same two
    models serve, so lists carry), every user keeps their arm, every list view lands the
    model of the list its viewer saw, and both arms have list views and clicks."""
    paths = scenario.paths
    assert scenario.challenger, "runs after the A/B nightly"
    before = _served(paths)
    _run(scenario, "simulate", "--days", "5")
    out = _run(scenario, "nightly")
    assert "rescoring every user" not in out
    after = _served(paths)
    assert "rescoring" in out  # some users' lists were ranked anew, the others carried
    assert {user: after[user] for user in before} == before  # the same arm for each user
    mismatched = query(
        paths,
        """
        select count(*) as n
        from core.fct_interactions as viewings
        inner join ml_outputs.recommendations as lists
            on viewings.run_id = lists.run_id
            and viewings.user_id = lists.user_id
            and lists.rank = 1
        where viewings.model_id is distinct from lists.model_id
        """,
    )["n"][0]
    assert mismatched == 0
    arms = query(
        paths,
        "select model_id, count(*) as list_views, "
        "count(*) filter (where viewing_source = 'recommendation') as clicks "
        "from core.fct_interactions where run_id is not null group by model_id",
    )
    assert set(arms["model_id"]) == {scenario.champion, scenario.challenger}
    assert (arms["clicks"] > 0).all()


def _wilson(clicks: int, views: int, z: float = 1.96) -> tuple[float, float]:
    p = clicks / views
    centre = p + z * z / (2 * views)
    spread = z * math.sqrt(p * (1 - p) / views + z * z / (4 * views * views))
    return (centre - spread) / (1 + z * z / views), (centre + spread) / (1 + z * z / views)


def test_the_ab_report_compares_the_arms_on_what_landed(scenario: Scenario) -> None:
    """kpi.rpt_ab_test's counts are the landed list views and clicks of each arm in the
    test's runs; its intervals are Wilson's and the difference's normal one; too few list
    views decide nothing."""
    paths = scenario.paths
    row = query(paths, "select * from kpi.rpt_ab_test").row(0, named=True)
    assert (row["champion_model_id"], row["challenger_model_id"]) == (
        scenario.champion,
        scenario.challenger,
    )
    counts = query(
        paths,
        f"""
        select viewings.model_id, count(*) as list_views,
            count(*) filter (where viewing_source = 'recommendation') as clicks
        from core.fct_interactions as viewings
        inner join ml_outputs.recommendation_runs as runs on viewings.run_id = runs.run_id
        where runs.challenger_model_id = '{scenario.challenger}'
        group by viewings.model_id
        """,
    ).rows_by_key("model_id", named=True, unique=True)
    for arm, model in (("champion", scenario.champion), ("challenger", scenario.challenger)):
        views, clicks = counts[model]["list_views"], counts[model]["clicks"]
        assert (row[f"{arm}_list_views"], row[f"{arm}_clicks"]) == (views, clicks)
        assert row[f"{arm}_click_through"] == pytest.approx(clicks / views)
        low, high = _wilson(clicks, views)
        assert row[f"{arm}_ci_low"] == pytest.approx(low)
        assert row[f"{arm}_ci_high"] == pytest.approx(high)
    p1, n1 = row["challenger_click_through"], row["challenger_list_views"]
    p0, n0 = row["champion_click_through"], row["champion_list_views"]
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    assert row["difference"] == pytest.approx(p1 - p0)
    assert row["difference_ci_low"] == pytest.approx(p1 - p0 - 1.96 * se)
    assert row["difference_ci_high"] == pytest.approx(p1 - p0 + 1.96 * se)
    assert min(n0, n1) < row["min_list_views"] == 1000
    assert row["decision"] == "undecided: too few list views"
    # the morning report charts both arms with their intervals, and says the decision
    page = paths.report_path.read_text(encoding="utf-8")
    assert page.count('<svg data-chart="ab-test"') == 1
    assert page.count("<title>", page.index('data-chart="ab-test"')) >= 3  # title, 2 whiskers
    assert "Decision: <b>undecided: too few list views</b>" in page


def test_promote_follows_the_rule_unless_forced(scenario: Scenario) -> None:
    """Without a win, promote refuses and publishes nothing; forced, it publishes the
    promotion with its evidence, and the challenger then serves every user."""
    paths = scenario.paths
    published = digest(paths.warehouse_path)
    refused = run_cli(paths, "promote", config=scenario.config)
    assert refused.returncode == 1
    assert "not promoted: undecided: too few list views" in refused.stderr
    assert "--force" in refused.stderr
    assert digest(paths.warehouse_path) == published

    _run(scenario, "promote", "--force")
    promotion = query(paths, "select * from ml_outputs.model_promotions").row(0, named=True)
    assert (promotion["model_id"], promotion["replaced_model_id"]) == (
        scenario.challenger,
        scenario.champion,
    )
    assert promotion["evidence"].startswith("forced, undecided: too few list views")
    assert promotion["promoted_by_run"] == read_run_records(paths)[-1].run_id
    assert read_run_records(paths)[-1].command == "promote"
    with duckdb.connect(str(paths.warehouse_path), read_only=True) as con:
        serving = serving_models(con, SHARE)
    assert serving is not None
    assert (serving.champion.model_id, serving.challenger) == (scenario.challenger, None)
