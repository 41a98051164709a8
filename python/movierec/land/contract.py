"""The raw data contract: what a landed Parquet file must look like.

The contract is written once, as dbt source properties (`_landing__sources.yml`: column
`data_type` plus `meta`), and this module reads it. Checks return `Problem`s that name the
file, the column and what is wrong, so a bad landing is refused before anything is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from movierec.errors import Problem, SettingsError

_ARROW_TYPES: Mapping[str, pa.DataType] = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "double": pa.float64(),
    "varchar": pa.string(),
    "varchar[]": pa.list_(pa.string()),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a raw table as the contract describes it."""

    name: str
    data_type: str
    required: bool = False
    unique: bool = False
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    not_in_future: bool = False
    not_before: str | None = None
    references: str | None = None
    accepted: tuple[str, ...] | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.data_type]


@dataclass(frozen=True)
class TableSpec:
    """One raw table (entity) of the contract."""

    name: str
    columns: tuple[ColumnSpec, ...]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def parse_contract(sources_yml: str, source_name: str = "landing") -> dict[str, TableSpec]:
    """Read the contract from the text of the dbt sources file."""
    document: dict[str, Any] = yaml.safe_load(sources_yml)
    source = next(s for s in document["sources"] if s["name"] == source_name)
    tables: dict[str, TableSpec] = {}
    for table in source["tables"]:
        columns = []
        for column in table["columns"]:
            meta: dict[str, Any] = (column.get("config") or {}).get("meta") or {}
            data_type = column["data_type"]
            if data_type not in _ARROW_TYPES:
                raise SettingsError(f"contract column {column['name']}: unknown type {data_type}")
            columns.append(
                ColumnSpec(
                    name=column["name"],
                    data_type=data_type,
                    required=bool(meta.get("required", False)),
                    unique=bool(meta.get("unique", False)),
                    minimum=meta.get("min"),
                    maximum=meta.get("max"),
                    min_length=meta.get("min_length"),
                    not_in_future=bool(meta.get("not_in_future", False)),
                    not_before=_date_text(meta.get("not_before")),
                    references=meta.get("references"),
                    accepted=tuple(meta["accepted"]) if "accepted" in meta else None,
                )
            )
        tables[table["name"]] = TableSpec(name=table["name"], columns=tuple(columns))
    return tables


def _date_text(value: object) -> str | None:
    """A `not_before` bound as ISO text (YAML reads an unquoted date as a date)."""
    return None if value is None else str(value)


def _same_type(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Types equal up to encodings DuckDB reads identically (large strings, timestamp units)."""
    same: bool
    if pa.types.is_timestamp(expected):
        same = pa.types.is_timestamp(actual) and actual.tz is None
    elif pa.types.is_string(expected):
        same = pa.types.is_string(actual) or pa.types.is_large_string(actual)
    elif pa.types.is_list(expected):
        same = (pa.types.is_list(actual) or pa.types.is_large_list(actual)) and _same_type(
            actual.value_type, expected.value_type
        )
    else:
        same = actual.equals(expected)
    return same


def check_schema(
    file: str, schema: pa.Schema, table: TableSpec, *, allow_missing_optional: bool = False
) -> list[Problem]:
    """Compare a file's schema with the contract: missing, unexpected and mistyped columns."""
    problems: list[Problem] = []
    present = set(schema.names)
    for column in table.columns:
        if column.name not in present:
            if column.required or not allow_missing_optional:
                problems.append(Problem(file, column.name, "missing column"))
            continue
        actual = schema.field(column.name).type
        if not _same_type(actual, column.arrow_type):
            problems.append(
                Problem(file, column.name, f"wrong type: {actual}, expected {column.data_type}")
            )
    for name in schema.names:
        if name not in table.column_names:
            problems.append(
                Problem(
                    file,
                    name,
                    f"unexpected column (the contract for {table.name} has no such column)",
                )
            )
    return problems


@dataclass(frozen=True)
class Rule:
    """One value rule of a column: `predicate` is true for a row that breaks it."""

    column: str
    problem: str
    predicate: str


def value_rules(
    table: TableSpec, now: datetime, known_keys: Mapping[str, str] | None = None
) -> list[Rule]:
    """Every value rule of the contract for `table`, as SQL over `rows_cte`'s relation.

    `known_keys` maps an entity to a relation with one column `key` of its valid keys; a
    column that `references` an entity not in it is not checked.
    """
    rules: list[Rule] = []
    stamp = f"{now:%Y-%m-%d %H:%M:%S}"
    for c in table.columns:
        q = f'"{c.name}"'
        # NaN and infinity break their own rules, not the bounds (DuckDB sorts NaN highest)
        finite = f" and isfinite({q})" if c.data_type == "double" else ""
        if c.required:
            rules.append(Rule(c.name, "NULL values", f"{q} is null"))
        if c.unique:
            rules.append(
                Rule(c.name, "duplicate values", f'{q} is not null and "__rows_{c.name}" > 1')
            )
        if c.data_type == "double":
            rules.append(Rule(c.name, "NaN values (not a number)", f"isnan({q})"))
            rules.append(Rule(c.name, "infinite values", f"isinf({q})"))
        if c.minimum is not None:
            rules.append(Rule(c.name, f"values below {c.minimum}", f"{q} < {c.minimum}{finite}"))
        if c.maximum is not None:
            rules.append(Rule(c.name, f"values above {c.maximum}", f"{q} > {c.maximum}{finite}"))
        if c.accepted is not None:
            allowed = ", ".join("'" + value.replace("'", "''") + "'" for value in c.accepted)
            rules.append(
                Rule(
                    c.name,
                    f"values other than {', '.join(c.accepted)}",
                    f"{q} is not null and {q} not in ({allowed})",
                )
            )
        if c.min_length is not None:
            rules.append(
                Rule(c.name, f"lists shorter than {c.min_length}", f"len({q}) < {c.min_length}")
            )
        if c.not_in_future:
            rules.append(
                Rule(
                    c.name,
                    f"timestamps in the future (after {stamp})",
                    f"{q} > timestamp '{stamp}'",
                )
            )
        if c.not_before is not None:
            rules.append(
                Rule(
                    c.name,
                    f"timestamps before {c.not_before} (earlier than any plausible viewing)",
                    f"{q} < timestamp '{c.not_before}'",
                )
            )
        if c.references and known_keys and c.references in known_keys:
            rules.append(
                Rule(
                    c.name,
                    f"unknown {c.references}: no valid landed {c.references} row has this key",
                    f"{q} is not null and {q} not in (select key from {known_keys[c.references]})",
                )
            )
    return rules


def rows_cte(relation: str, table: TableSpec) -> str:
    """`relation` with, per unique column, how many rows share each row's value."""
    counts = "".join(
        f', count(*) over (partition by "{c.name}") as "__rows_{c.name}"'
        for c in table.columns
        if c.unique
    )
    return f"select *{counts} from {relation}"


def check_values(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    file: str,
    table: TableSpec,
    now: datetime,
    known_keys: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Count rows breaking each value rule, in one scan of `relation` (a SQL table
    expression). Optional columns `relation` lacks have no rules to break."""
    try:
        cursor = con.execute(f"select * from {relation} limit 0")
    except duckdb.Error as exc:
        return [Problem(file, None, f"cannot be read: {exc}")]
    names = {column[0] for column in cursor.description or []}
    table = TableSpec(table.name, tuple(c for c in table.columns if c.name in names))
    rules = value_rules(table, now, known_keys)
    if not rules:
        return []
    select = ",\n    ".join(f"count(*) filter (where {r.predicate})" for r in rules)
    try:
        (row,) = con.execute(
            f"with rows as ({rows_cte(relation, table)})\nselect\n    {select}\nfrom rows"
        ).fetchall()
    except duckdb.Error as exc:
        return [Problem(file, None, f"cannot be read: {exc}")]
    return [
        Problem(file, rule.column, rule.problem, int(count))
        for rule, count in zip(rules, row, strict=True)
        if count
    ]


def bad_rows_sql(
    relation: str, table: TableSpec, now: datetime, known_keys: Mapping[str, str] | None = None
) -> str | None:
    """SQL listing (file_row_number, column_name, problem, row_json) of every rule a row of
    `relation` breaks; `relation` must have a `file_row_number` column. None without rules."""
    rules = value_rules(table, now, known_keys)
    if not rules:
        return None
    as_json = "json_object(" + ", ".join(f"'{c.name}', \"{c.name}\"" for c in table.columns) + ")"
    selects = [
        f"select file_row_number, '{r.column}' as column_name, "
        f"'{r.problem.replace(chr(39), chr(39) * 2)}' as problem, "
        f"cast({as_json} as varchar) as row_json from rows where {r.predicate}"
        for r in rules
    ]
    union = "\nunion all\n".join(selects)
    return f"with rows as ({rows_cte(relation, table)})\n{union}"
