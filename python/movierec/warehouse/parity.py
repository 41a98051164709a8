"""Whether two engines built the same table: the same columns and rows, exact but for
floating-point columns, which may differ in their last bits (sums in another order) and are
compared within a relative tolerance (docs/spark.md)."""

from __future__ import annotations

import polars as pl
import pyarrow as pa

# Floats agree when |a - b| <= RELATIVE_TOLERANCE * max(|a|, |b|) + ABSOLUTE_TOLERANCE.
RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12


def table_differences(left: pa.Table, right: pa.Table) -> list[str]:
    """How `right` differs from `left`, one line per difference (empty: the same table).
    Rows are matched by sorting on every column, exact ones first; time zones are dropped
    (both engines store UTC)."""
    a, b = _normalised(left), _normalised(right)
    if a.columns != b.columns:
        return [f"columns differ: {a.columns} against {b.columns}"]
    if a.height != b.height:
        return [f"{a.height:,} rows against {b.height:,}"]
    floats = [c for c in a.columns if a.schema[c].is_float()]
    nested = [c for c in a.columns if a.schema[c].is_nested()]
    order = [c for c in a.columns if c not in floats and c not in nested] + floats
    a, b = a.sort(order, nulls_last=True), b.sort(order, nulls_last=True)
    differences = []
    for column in a.columns:
        pair = pl.DataFrame({"x": a[column], "y": b[column].cast(a.schema[column])})
        x, y = pl.col("x"), pl.col("y")
        if column in floats:
            tolerance = pl.max_horizontal(x.abs(), y.abs()) * RELATIVE_TOLERANCE
            same = ((x - y).abs() <= tolerance + ABSOLUTE_TOLERANCE).fill_null(False) | (
                x.is_null() & y.is_null()
            )
        else:
            same = x.eq_missing(y)
        mismatched = pair.select((~same).sum()).item()
        if mismatched:
            differences.append(f"{column}: {mismatched:,} of {a.height:,} rows differ")
    return differences


def _normalised(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(
        pl.col(c).dt.replace_time_zone(None)
        for c, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )
