"""The windows of viewing times ml_training_features is built in, when one query would not
fit DuckDB's memory_limit."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from movierec.warehouse import Window, feature_windows
from movierec.warehouse.batches import WINDOW_ENV, windows

DAY = datetime(2025, 3, 1)


def _at(hours: int) -> datetime:
    return DAY + timedelta(hours=hours)


def _land(path: Path, hours: list[int]) -> str:
    pq.write_table(pa.table({"interacted_at": pa.array([_at(h) for h in hours])}), path)
    return str(path)


def test_windows_cut_consecutively_and_the_last_is_open() -> None:
    got = windows(None, [_at(5), _at(2), _at(5)])
    assert got == [Window(None, _at(2)), Window(_at(2), _at(5)), Window(_at(5), None)]
    # a cut at or before the start cuts nothing
    assert windows(_at(3), [_at(1), _at(3), _at(4)]) == [
        Window(_at(3), _at(4)),
        Window(_at(4), None),
    ]


def test_a_window_tells_the_model_its_bounds() -> None:
    assert json.loads(Window(_at(1), _at(2)).env[WINDOW_ENV]) == {
        "from": "2025-03-01 01:00:00",
        "until": "2025-03-01 02:00:00",
    }
    assert json.loads(Window(None, _at(2)).env[WINDOW_ENV]) == {"until": "2025-03-01 02:00:00"}


def test_a_full_build_cuts_every_landed_viewing_into_batches(tmp_path: Path) -> None:
    old = _land(tmp_path / "a.parquet", list(range(0, 10)))
    new = _land(tmp_path / "b.parquet", list(range(10, 20)))
    with duckdb.connect() as con:
        got = feature_windows(con, [old, new], None, rows_per_batch=5)
        assert got == [
            Window(None, _at(5)),
            Window(_at(5), _at(10)),
            Window(_at(10), _at(15)),
            Window(_at(15), None),
        ]
        # every viewing in exactly one window, at most rows_per_batch in each
        counts = [
            sum(1 for h in range(20) if (w.start is None or _at(h) >= w.start)
                and (w.until is None or _at(h) < w.until))
            for w in got
        ]  # fmt: skip
        assert counts == [5, 5, 5, 5]
        # the same viewings in one batch: the plain build
        assert feature_windows(con, [old, new], None, rows_per_batch=20) == [Window(None, None)]


def test_an_incremental_build_cuts_from_the_earliest_new_viewing(tmp_path: Path) -> None:
    old = _land(tmp_path / "a.parquet", list(range(0, 10)))
    # a late delivery: its earliest viewing is older than some already built
    new = _land(tmp_path / "b.parquet", [6, 20, 21, 22])
    with duckdb.connect() as con:
        # from hour 6: 6, 6, 7, 8, 9, 20, 21, 22 are the viewings to compute
        got = feature_windows(con, [old, new], [new], rows_per_batch=4)
        assert got == [Window(_at(6), _at(9)), Window(_at(9), None)]
        assert feature_windows(con, [old, new], [new], rows_per_batch=8) == [Window(None, None)]
        # no new viewing: nothing to cut
        assert feature_windows(con, [old], [], rows_per_batch=1) == [Window(None, None)]
