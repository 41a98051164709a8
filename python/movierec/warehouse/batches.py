"""Building ml_training_features in batches (docs/memory.md).

The model computes every viewing's features as of the moment it happened. A cold build at
100x asks that of 15M viewings in one query, which ran out of 11 GiB. When the viewings a
build must compute exceed what one query may hold under DuckDB's memory_limit, movierec
runs the model once per window of viewing times instead, each run replacing its window's
rows (dbt_project/models/marts/ml/ml_training_features.sql reads the window from
MOVIEREC_FEATURE_WINDOW). A viewing's features depend on the viewings before it only, so
the windows give the rows one query gives.

The windows are cut from the landed files before dbt runs: every landed viewing for a full
refresh, the viewings from the earliest one in a new file on for an incremental build (the
rows whose features new viewings may change). Landed rows that staging later drops (a
re-delivered viewing's old version, a quarantined row) only make a window a little larger.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from movierec.settings import Paths
from movierec.warehouse.incremental import BuildPlan

BATCHED_MODEL = "ml_training_features"
WINDOW_ENV = "MOVIEREC_FEATURE_WINDOW"


@dataclass(frozen=True)
class Window:
    """The viewings with start <= interacted_at < until (None: unbounded)."""

    start: datetime | None
    until: datetime | None

    @property
    def env(self) -> dict[str, str]:
        """What the model reads to build this window's rows only."""
        bounds = {"from": self.start, "until": self.until}
        return {WINDOW_ENV: json.dumps({k: v.isoformat(" ") for k, v in bounds.items() if v})}


def windows(start: datetime | None, boundaries: Sequence[datetime]) -> list[Window]:
    """Consecutive windows from `start` (None: the first viewing) cut at `boundaries`; the
    last is open-ended. Boundaries at or before `start`, or repeated, cut nothing."""
    cuts = sorted({b for b in boundaries if start is None or b > start})
    bounds: list[datetime | None] = [start, *cuts, None]
    return [Window(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def feature_windows(
    con: duckdb.DuckDBPyConnection,
    landed: Sequence[str],
    new: Sequence[str] | None,
    rows_per_batch: int,
) -> list[Window]:
    """The windows a build computes ml_training_features in, from the landed interaction
    files `landed`: over all of them (`new` None: a full refresh), or from the earliest
    viewing in `new` on. One window (the plain build) when the viewings fit one batch."""
    if not landed or new == []:
        return [Window(None, None)]
    start = None
    if new is not None:
        start = _one(con, "select min(interacted_at) from read_parquet($new)", {"new": list(new)})
    params: dict[str, object] = {"landed": list(landed)}
    viewings = "select interacted_at from read_parquet($landed)"
    if start is not None:
        viewings += " where interacted_at >= $start"
        params["start"] = start
    # the viewing at every rows_per_batch-th place in time order opens a window
    cuts = con.execute(
        "select interacted_at from ("
        "select interacted_at, row_number() over (order by interacted_at) - 1 as place "
        f"from ({viewings})) where place > 0 and place % $per_batch = 0 order by place",
        {**params, "per_batch": rows_per_batch},
    ).fetchall()
    found = windows(start, [cut for (cut,) in cuts])
    return found if len(found) > 1 else [Window(None, None)]


def build_windows(paths: Paths, plan: BuildPlan | None, landed: Sequence[str]) -> list[Window]:
    """The windows a build as `plan` says (None: no build of the landed-data models) computes
    ml_training_features in, from the landed interaction files `landed`."""
    if plan is None:
        return [Window(None, None)]
    new = None
    if plan.incremental:
        new = [
            str(paths.data_dir / f)
            for f in sorted(plan.new_files)
            if Path(f).parent.name == "interactions"
        ]
    with duckdb.connect(config={"memory_limit": paths.memory_limit}) as con:
        return feature_windows(con, landed, new, paths.rows_per_feature_batch)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> Any:
    row = con.execute(sql, params).fetchone()
    assert row is not None
    return row[0]
