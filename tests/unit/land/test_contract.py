"""The raw contract is read from the dbt sources file and checks schemas and values."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from movierec.errors import Problem, RawContractError
from movierec.land import TableSpec, check_schema, check_values

NOW = datetime(2025, 1, 1)


def test_contract_lists_the_three_entities(contract: dict[str, TableSpec]) -> None:
    """users, movies and interactions, each with its key first and required."""
    assert set(contract) == {"users", "movies", "interactions"}
    for name, key in (
        ("users", "user_id"),
        ("movies", "movie_id"),
        ("interactions", "interaction_id"),
    ):
        first = contract[name].columns[0]
        assert (first.name, first.required, first.unique) == (key, True, True)


def test_contract_fits_real_catalogues(contract: dict[str, TableSpec]) -> None:
    """Multi-genre films, gender and occupation exist; stated preferences are optional."""
    users = {c.name: c for c in contract["users"].columns}
    assert users["gender"].required is False
    assert users["occupation"].required is False
    assert users["preferred_genres"].required is False
    genres = next(c for c in contract["movies"].columns if c.name == "genres")
    assert genres.arrow_type == pa.list_(pa.string())
    assert genres.min_length == 1


def test_missing_renamed_and_mistyped_columns(contract: dict[str, TableSpec]) -> None:
    """Each schema problem names the column."""
    schema = pa.schema(
        [
            ("user_ident", pa.int64()),  # renamed user_id
            ("age", pa.string()),
            ("gender", pa.string()),
        ]
    )
    problems = check_schema("u.parquet", schema, contract["users"], allow_missing_optional=True)
    assert {(p.column, p.problem.split(":")[0].split(" (")[0]) for p in problems} == {
        ("user_id", "missing column"),
        ("age", "wrong type"),
        ("user_ident", "unexpected column"),
    }


def test_landed_files_must_have_every_column(contract: dict[str, TableSpec]) -> None:
    """Without allow_missing_optional, an absent optional column is a problem too."""
    schema = pa.schema([(c.name, c.arrow_type) for c in contract["users"].columns[:2]])
    missing = {p.column for p in check_schema("u.parquet", schema, contract["users"])}
    assert missing == {
        "gender",
        "occupation",
        "preferred_genres",
        "subscription_months",
        "sessions_per_week",
    }


def test_timestamp_units_and_large_strings_are_accepted(contract: dict[str, TableSpec]) -> None:
    """Encodings DuckDB reads the same way are not type errors; a time zone is."""
    spec = contract["interactions"]
    fields = [pa.field(c.name, c.arrow_type) for c in spec.columns]
    fields[3] = pa.field("interacted_at", pa.timestamp("ns"))
    assert check_schema("i.parquet", pa.schema(fields), spec) == []
    fields[3] = pa.field("interacted_at", pa.timestamp("us", tz="UTC"))
    assert [p.column for p in check_schema("i.parquet", pa.schema(fields), spec)] == [
        "interacted_at"
    ]


def test_value_rules_count_bad_rows(contract: dict[str, TableSpec]) -> None:
    """NULL keys, duplicates, out-of-range values and future timestamps, with row counts."""
    table = pa.table(
        {
            "interaction_id": pa.array([1, 1, None, 4], pa.int64()),
            "user_id": pa.array([1, 2, 3, 4], pa.int64()),
            "movie_id": pa.array([1, 2, 3, 0], pa.int64()),
            "interacted_at": pa.array(
                [
                    datetime(2024, 1, 1),
                    datetime(2026, 1, 1),
                    datetime(2024, 1, 1),
                    datetime(2024, 1, 1),
                ]
            ),
            "is_liked": pa.array([True, False, True, True]),
            "watch_fraction": pa.array([0.5, 1.5, 0.2, 0.1]),
            "rating": pa.array([1, 2, 6, 5], pa.int32()),
        }
    )
    con = duckdb.connect()
    con.register("t", table)
    problems = check_values(con, "t", "i.parquet", contract["interactions"], NOW)
    found = {(p.column, p.problem.split(" (")[0], p.bad_rows) for p in problems}
    assert found == {
        ("interaction_id", "NULL values", 1),
        ("interaction_id", "duplicate values", 2),  # both rows sharing the key
        ("movie_id", "values below 1", 1),
        ("interacted_at", "timestamps in the future", 1),
        ("watch_fraction", "values above 1", 1),
        ("rating", "values above 5", 1),
    }


def test_nan_infinity_and_implausible_dates_are_refused_in_their_own_words(
    contract: dict[str, TableSpec],
) -> None:
    """NaN is not "above 5", infinity is not "above 1000", and 1900 predates any viewing."""
    movies = pa.table(
        {
            "movie_id": pa.array([1, 2, 3], pa.int64()),
            "title": ["a", "b", "c"],
            "genres": [["drama"]] * 3,
            "release_year": pa.array([1990, 1990, 1990], pa.int32()),
            "duration_minutes": [90.0, float("inf"), 90.0],
            "mean_rating": [float("nan"), 3.0, 6.0],
            "vote_count": pa.array([1, 1, 1], pa.int64()),
        }
    )
    viewings = pa.table(
        {
            "interaction_id": pa.array([1, 2], pa.int64()),
            "user_id": pa.array([1, 1], pa.int64()),
            "movie_id": pa.array([1, 1], pa.int64()),
            "interacted_at": pa.array([datetime(1900, 1, 1), datetime(1995, 1, 1)]),
            "is_liked": [True, True],
            "watch_fraction": [float("-inf"), 0.5],
            "rating": pa.array([1, 1], pa.int32()),
        }
    )
    con = duckdb.connect()
    con.register("m", movies)
    con.register("i", viewings)
    found = {
        (p.column, p.problem, p.bad_rows)
        for p in check_values(con, "m", "m.parquet", contract["movies"], NOW)
        + check_values(con, "i", "i.parquet", contract["interactions"], NOW)
    }
    assert found == {
        ("mean_rating", "NaN values (not a number)", 1),
        ("mean_rating", "values above 5", 1),  # the 6.0 only
        ("duration_minutes", "infinite values", 1),
        ("watch_fraction", "infinite values", 1),
        (
            "interacted_at",
            "timestamps before 1995-01-01 (earlier than any plausible viewing)",
            1,
        ),
    }


def test_problem_message_names_file_column_problem_and_rows() -> None:
    """The message an operator reads says where and what."""
    error = RawContractError([Problem("raw/users/b1.parquet", "user_id", "NULL values", 3)])
    assert "raw/users/b1.parquet: column 'user_id': NULL values (3 rows)" in str(error)


@pytest.mark.parametrize("entity", ["users", "movies", "interactions"])
def test_simulated_world_meets_the_contract(
    entity: str, contract: dict[str, TableSpec], small_world: object
) -> None:
    """The simulator's output passes every value rule."""
    table = small_world.as_dict()[entity]  # type: ignore[attr-defined]
    con = duckdb.connect()
    con.register("t", table)
    assert check_values(con, "t", entity, contract[entity], NOW) == []
