"""What `rollback` and `runs` do: operate on published versions and the run log."""

from __future__ import annotations

from movierec.errors import RunFailedError
from movierec.flows.publish import Run, warehouse_run
from movierec.flows.spark import spark_versions
from movierec.progress import Progress
from movierec.publishing import (
    RunRecord,
    clean_up,
    describe,
    exclusive,
    new_run_id,
    read_run_records,
    rollback,
    utc_now,
    write_run_record,
)
from movierec.settings import Engine, Paths, PublishSettings
from movierec.warehouse import connect


def roll_back(paths: Paths, progress: Progress, engine: Engine = "duckdb") -> tuple[str, str]:
    """Publish the previous retained version of `engine`'s warehouse again, drop the
    current one, log it. Returns (dropped, restored) version ids."""
    command = "rollback" if engine == "duckdb" else f"rollback --engine {engine}"
    record = RunRecord(run_id=new_run_id(), command=command, started_at=utc_now())
    with exclusive(paths, command):
        if engine == "spark":
            dropped, restored = spark_versions(paths, progress).rollback()
        else:
            for line in clean_up(paths):
                progress(f"cleaned up: {line}")
            dropped, restored = rollback(paths)
        record.outcome, record.finished_at = "published", utc_now()
        record.error = f"rolled back from {dropped} to {restored}"
        write_run_record(paths, record)
    return dropped, restored


def latest_runs(paths: Paths, last: int) -> str:
    """The `last` latest records of the run log, oldest first, as an operator reads them."""
    return describe(read_run_records(paths)[-last:])


# rpt_ab_test's row, as `promote` reads it
_AB_TEST_SQL = """
select run_id, champion_model_id, challenger_model_id, champion_list_views,
    champion_click_through, challenger_list_views, challenger_click_through, difference,
    difference_ci_low, difference_ci_high, decision
from kpi.rpt_ab_test
"""


def promote(paths: Paths, force: bool, progress: Progress) -> tuple[str, RunRecord]:
    """Make the running A/B test's challenger the champion (kpi.rpt_ab_test of the
    published warehouse) when its decision is 'challenger wins', or with `force`: a run
    that records the promotion, with its evidence, in ml_outputs.model_promotions and
    publishes. The next nightly serves the new champion (and any newer model challenges
    it). Returns the evidence and the run's record; RunFailedError when no test runs or
    the rule is not met."""
    with connect(paths, read_only=True) as con:
        rows = con.execute(_AB_TEST_SQL).fetchall()
    if not rows:
        raise RunFailedError(
            "no A/B test is running: the latest run was served by one model "
            "([ab_test] challenger_share, docs/kpi.md)"
        )
    run_id, champion, challenger, n_c, ctr_c, n_x, ctr_x, diff, low, high, decision = rows[0]
    evidence = (
        f"{decision}: challenger {challenger} {_rate(ctr_x)} of {n_x:,} list views against "
        f"champion {champion} {_rate(ctr_c)} of {n_c:,}; difference "
        f"{_rate(diff, '+')} (95 % {_rate(low, '+')} .. {_rate(high, '+')}), run {run_id}"
    )
    if decision != "challenger wins" and not force:
        raise RunFailedError(
            f"not promoted: {evidence}. The rule: both arms with enough list views and the "
            "difference's interval above 0; `movierec promote --force` promotes anyway"
        )
    if decision != "challenger wins":
        evidence = f"forced, {evidence}"

    def body(run: Run) -> None:
        with connect(run.build) as con:
            con.execute(
                "insert into ml_outputs.model_promotions (model_id, promoted_at, "
                "promoted_by_run, replaced_model_id, evidence) values (?, ?, ?, ?, ?)",
                [challenger, utc_now(), run.transaction.record.run_id, champion, evidence],
            )
        run.step("promote")

    record = warehouse_run(
        paths, "promote", body, PublishSettings(), start="step", progress=progress
    )
    return evidence, record


def _rate(value: float | None, sign: str = "") -> str:
    return "n/a" if value is None else f"{value:{sign}.1%}"
