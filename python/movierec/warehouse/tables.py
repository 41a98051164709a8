"""Tables movierec writes itself, as their dbt source files declare them.

The DDL of every table Python writes (ml_outputs, ops) is written once, as column names and
`data_type`s in a dbt sources file; dbt's `create_python_output_tables` hook and this module
both read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import yaml


@dataclass(frozen=True)
class OutputTable:
    """One table of a source movierec writes to."""

    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def create_sql(self) -> str:
        columns = ", ".join(f"{name} {data_type}" for name, data_type in self.columns)
        return f"create table if not exists {self.qualified} ({columns})"


def output_tables(sources_yml: str, source_name: str) -> tuple[OutputTable, ...]:
    """The tables of source `source_name` in the text of a dbt sources file."""
    document: dict[str, Any] = yaml.safe_load(sources_yml)
    source = next(s for s in document["sources"] if s["name"] == source_name)
    return tuple(
        OutputTable(
            schema=source.get("schema", source_name),
            name=table["name"],
            columns=tuple((c["name"], c["data_type"]) for c in table["columns"]),
        )
        for table in source["tables"]
    )


def create_tables(con: duckdb.DuckDBPyConnection, tables: tuple[OutputTable, ...]) -> None:
    """Create any of `tables` that do not exist yet (and their schemas), and add the columns
    a table written by an older movierec lacks (NULL in its old rows)."""
    for table in tables:
        con.execute(f"create schema if not exists {table.schema}")
        con.execute(table.create_sql())
        for name, data_type in table.columns:
            con.execute(
                f"alter table {table.qualified} add column if not exists {name} {data_type}"
            )
