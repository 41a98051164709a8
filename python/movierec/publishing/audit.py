"""The audit a built warehouse passes before it replaces the published one.

Generic: the caller names the tables to audit (with the key columns that must never be
NULL) and adds checks of its own; the audit counts rows and compares them with the
published warehouse within `AuditSettings`' bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from movierec.files import sql_path
from movierec.settings import AuditSettings

# A query on the built warehouse, whichever its engine: SQL in, rows out.
Query = Callable[[str], list[tuple[Any, ...]]]
# A check of the caller's own on the built warehouse: the failures it finds.
Check = Callable[[Query], list[str]]


def _existing(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ? "
            "union all select schema_name, view_name from duckdb_views() "
            "where database_name = ? and not internal",
            [database, database],
        ).fetchall()
    }


def row_counts(
    con: duckdb.DuckDBPyConnection, database: str, tables: Sequence[str]
) -> dict[str, int]:
    """Rows of each of `tables` present in `database` (an attached catalog name)."""
    present = _existing(con, database)
    counts = {}
    for table in tables:
        if table in present:
            (count,) = con.execute(f"select count(*) from {database}.{table}").fetchall()[0]
            counts[table] = int(count)
    return counts


def audit_tables(
    query: Query,
    present: Collection[str],
    published: Mapping[str, int],
    tables: Mapping[str, tuple[str, ...]],
    settings: AuditSettings,
    checks: Sequence[Check] = (),
) -> tuple[dict[str, int], list[str]]:
    """The audit on any engine: every table of `tables` in `present` with no NULL in its
    key columns, its row count within bounds of its `published` count (when there is one),
    and `checks`. Returns the row counts and the failures."""
    failures: list[str] = []
    counts: dict[str, int] = {}
    for table, keys in tables.items():
        if table not in present:
            failures.append(f"{table} is missing")
            continue
        condition = " or ".join(f"{k} is null" for k in keys)
        ((rows, nulls),) = query(f"select count(*), count_if({condition}) from {table}")
        counts[table] = int(rows)
        if nulls:
            failures.append(f"{table}: {nulls} rows with a NULL key ({', '.join(keys)})")
    for check in checks:
        failures += check(query)
    for table, rows in counts.items():
        previous = published.get(table)
        if not previous:
            continue
        ratio = rows / previous
        if not settings.min_row_ratio <= ratio <= settings.max_row_ratio:
            failures.append(
                f"{table}: {rows:,} rows against {previous:,} published "
                f"(ratio {ratio:.3f}, allowed {settings.min_row_ratio:g}.."
                f"{settings.max_row_ratio:g})"
            )
    return counts, failures


def audit(
    built: Path,
    published: Path | None,
    tables: Mapping[str, tuple[str, ...]],
    settings: AuditSettings,
    checks: Sequence[Check] = (),
) -> tuple[dict[str, int], list[str]]:
    """Audit the warehouse file `built` against the `published` file (`audit_tables`)."""
    with duckdb.connect(str(built), read_only=True) as con:
        (database,) = con.execute("select current_database()").fetchall()[0]
        before: dict[str, int] = {}
        if published is not None and published.exists():
            con.execute(f"attach '{sql_path(published)}' as published (read_only)")
            before = row_counts(con, "published", list(tables))
            con.execute("detach published")
        return audit_tables(
            lambda sql: con.execute(sql).fetchall(),
            _existing(con, database),
            before,
            tables,
            settings,
            checks,
        )
