"""table_differences: the same table from two engines, floats within a tolerance."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from movierec.warehouse.parity import table_differences

LEFT = pa.table(
    {
        "user_id": pa.array([1, 2, 3], pa.int64()),
        "at": pa.array([datetime(2026, 1, d) for d in (1, 2, 3)], pa.timestamp("us")),
        "genres": [["Drama"], ["Comedy", "Drama"], None],
        "rate": [0.5, 1 / 3, None],
    }
)


def test_the_same_rows_in_another_order_and_zone_are_the_same_table() -> None:
    right = pa.table(
        {
            "user_id": pa.array([3, 1, 2], pa.int32()),
            "at": pa.array(
                [datetime(2026, 1, d, tzinfo=UTC) for d in (3, 1, 2)], pa.timestamp("us", "UTC")
            ),
            "genres": [None, ["Drama"], ["Comedy", "Drama"]],
            "rate": [None, 0.5, 1 / 3 * (1 + 1e-12)],
        }
    )
    assert table_differences(LEFT, right) == []


def test_differences_are_named_by_column() -> None:
    right = LEFT.set_column(3, "rate", pa.array([0.5, 0.33333, None])).set_column(
        2, "genres", pa.array([["Drama"], ["Drama", "Comedy"], None])
    )
    assert table_differences(LEFT, right) == [
        "genres: 1 of 3 rows differ",
        "rate: 1 of 3 rows differ",
    ]
    assert table_differences(LEFT, LEFT.slice(1)) == ["3 rows against 2"]
    assert table_differences(LEFT, LEFT.drop_columns(["rate"])) == [
        "columns differ: ['user_id', 'at', 'genres', 'rate'] against ['user_id', 'at', 'genres']"
    ]


def test_a_missing_float_is_not_a_close_one() -> None:
    right = LEFT.set_column(3, "rate", pa.array([0.5, None, None], pa.float64()))
    assert table_differences(LEFT, right) == ["rate: 1 of 3 rows differ"]
