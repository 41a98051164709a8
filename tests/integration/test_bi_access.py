"""A BI tool's view of the warehouse: read-only drivers list and query every rpt_ model."""

from __future__ import annotations

import duckdb
import pytest
import sqlalchemy as sa

from movierec.settings import Paths

pytestmark = pytest.mark.integration

RPT_MODELS = {
    "rpt_ab_test",
    "rpt_business_impact",
    "rpt_click_through_by_rank",
    "rpt_click_through_daily",
    "rpt_engagement_daily",
    "rpt_expected_click_through",
    "rpt_film_exposure",
    "rpt_model_performance",
    "rpt_recommendation_runs",
    "rpt_viewing_daily",
}
# Realised click-through needs list views, which only simulated days after a publish
# land (the closed loop); this world has none (tests/integration/test_incremental.py
# has), and no A/B test runs in it (tests/integration/test_ab.py runs one).
WITHOUT_LIST_VIEWS_EMPTY = {"rpt_ab_test", "rpt_click_through_by_rank", "rpt_click_through_daily"}


def test_sqlalchemy_duckdb_engine_lists_and_queries_every_report(warehouse: Paths) -> None:
    """What Superset and others do: SQLAlchemy + duckdb-engine, read-only."""
    engine = sa.create_engine(
        f"duckdb:///{warehouse.warehouse_path}", connect_args={"read_only": True}
    )
    try:  # disposed even when an assertion fails: an open read-only connection would
        # make every later connection to the file in this worker fail
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            listed = set(inspector.get_table_names(schema="kpi")) | set(
                inspector.get_view_names(schema="kpi")
            )
            assert listed == RPT_MODELS
            for name in sorted(RPT_MODELS):
                sql = sa.text(f"select * from kpi.{name} limit 5")
                rows = connection.execute(sql).fetchall()
                assert bool(rows) != (name in WITHOUT_LIST_VIEWS_EMPTY), f"kpi.{name}: {rows}"
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                connection.execute(sa.text("create table kpi.scratch (x integer)"))
    finally:
        engine.dispose()


def test_duckdb_client_reads_reports_read_only(warehouse: Paths) -> None:
    """An analyst's notebook: the DuckDB Python client on a read-only connection."""
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as con:
        (row,) = con.execute(
            "select users_total, users_impacted from kpi.rpt_business_impact"
        ).fetchall()
    assert 0 <= row[1] <= row[0]
