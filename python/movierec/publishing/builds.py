"""The build folder: where a run builds the warehouse it may publish (builds/next/).

A build starts either fresh (a new file carrying only the history dbt cannot rebuild) or as
a byte copy of the published file (a single step run on top of it).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

import duckdb

from movierec.files import sql_path
from movierec.settings import Paths
from movierec.warehouse import OutputTable, create_tables


def _new_build(paths: Paths) -> Paths:
    build = paths.in_build()
    build.warehouse_dir.mkdir(parents=True, exist_ok=False)
    return build


def build_fresh(paths: Paths, carried: Sequence[OutputTable], forgotten: frozenset[int]) -> Paths:
    """A new, freshly written warehouse holding only the history dbt cannot rebuild.

    `carried` tables (what the Python steps appended over past runs) are copied from the
    published warehouse, without the rows of `forgotten` users; dbt rebuilds the rest from
    the landed files. A fresh file holds no deleted rows in its free blocks.
    """
    build = _new_build(paths)
    with duckdb.connect(str(build.warehouse_path)) as con:
        create_tables(con, tuple(carried))
        if paths.warehouse_path.exists():
            con.execute(f"attach '{sql_path(paths.warehouse_path)}' as published (read_only)")
            con.execute("create temp table forgotten (user_id bigint)")
            if forgotten:
                con.executemany("insert into forgotten values (?)", [[u] for u in forgotten])
            published: dict[str, set[str]] = {}
            for schema, name, column in con.execute(
                "select schema_name, table_name, column_name from duckdb_columns() "
                "where database_name = 'published'"
            ).fetchall():
                published.setdefault(f"{schema}.{name}", set()).add(column)
            for table in carried:
                # columns added since the published file was written start out NULL
                shared = [c for c in table.column_names if c in published.get(table.qualified, ())]
                if not shared:
                    continue
                where = (
                    "where user_id not in (select user_id from forgotten)"
                    if "user_id" in shared
                    else ""
                )
                columns = ", ".join(shared)
                con.execute(
                    f"insert into {table.qualified} ({columns}) "
                    f"select {columns} from published.{table.qualified} {where}"
                )
            con.execute("detach published")
    return build


def build_copy(paths: Paths, carried: Sequence[OutputTable]) -> Paths:
    """A byte copy of the published warehouse, for a single step run on top of it, with
    the `carried` tables brought to their current columns."""
    build = _new_build(paths)
    if paths.warehouse_path.exists():
        shutil.copyfile(paths.warehouse_path, build.warehouse_path)
        with duckdb.connect(str(build.warehouse_path)) as con:
            create_tables(con, tuple(carried))
    return build
