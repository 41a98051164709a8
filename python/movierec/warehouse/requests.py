"""Scoring requests: the (user, film) pairs whose features ml_scoring_features computes.

Whoever scores (the nightly, the evaluation, the export's agreement check) writes the pairs
into `scoring.scoring_requests`; the ml_scoring_features view
turns exactly those pairs (minus films the user had viewed by then) into features with the
same SQL that built the training rows. A request carries the moment to score at: `as_of`
(an evaluation cut-off), NULL for the default scoring moment, or with
`at_latest_viewing` the user's own latest viewing before `as_of` (just after it). Every
request replaces the previous ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import duckdb
import pyarrow as pa

from movierec.warehouse.connection import sql_file


def request_pairs(
    con: duckdb.DuckDBPyConnection,
    select_sql: str,
    params: Mapping[str, object] | None = None,
    as_of: datetime | None = None,
    at_latest_viewing: bool = False,
) -> int:
    """Replace the scoring requests with the (user_id, movie_id) rows of `select_sql`
    (with its named parameters `params`), each at `as_of` or, with `at_latest_viewing`,
    just after the user's latest viewing before it. Returns how many were written."""
    con.execute(f"create or replace temp table requested_pairs as {select_sql}", params or {})
    con.execute("delete from scoring.scoring_requests")
    con.execute(
        sql_file("movierec.warehouse", "write_requests"),
        {"as_of": as_of, "at_latest_viewing": at_latest_viewing},
    )
    con.execute("drop table requested_pairs")
    (count,) = con.execute("select count(*) from scoring.scoring_requests").fetchall()[0]
    return int(count)


def request_all_films(
    con: duckdb.DuckDBPyConnection,
    user_ids: Sequence[int] | None = None,
    as_of: datetime | None = None,
    at_latest_viewing: bool = False,
) -> int:
    """Every film for the given users (all users when None): exhaustive scoring."""
    select = "select users.user_id, movies.movie_id from core.dim_users as users "
    select += "cross join core.dim_movies as movies"
    if user_ids is None:
        return request_pairs(con, select, {}, as_of, at_latest_viewing)
    select += " where users.user_id in (select unnest($user_ids::bigint[]))"
    return request_pairs(con, select, {"user_ids": list(user_ids)}, as_of, at_latest_viewing)


def probe_users(con: duckdb.DuckDBPyConnection, per_segment: int, seed: int) -> list[int]:
    """A seeded, reproducible sample of users from each segment."""
    rows = con.execute(
        sql_file("movierec.warehouse", "probe_users"), {"seed": seed, "per_segment": per_segment}
    ).fetchall()
    return [int(r[0]) for r in rows]


def retrieve_candidates(
    con: duckdb.DuckDBPyConnection, user_ids: Sequence[int], as_of: datetime | None = None
) -> pa.Table:
    """ml_retrieval_candidates for `user_ids` as of `as_of` (None: the default scoring
    moment): (user_id, rank, movie_id), rank 1 = best, at most `retrieval_candidates` each."""
    con.execute("delete from scoring.retrieval_requests")
    con.execute(
        "insert into scoring.retrieval_requests (user_id, requested_at) "
        "select unnest($user_ids::bigint[]), cast($as_of as timestamp)",
        {"user_ids": list(user_ids), "as_of": as_of},
    )
    return con.sql(
        "select user_id, cast(candidate_rank as integer) as rank, movie_id "
        "from ml.ml_retrieval_candidates"
    ).to_arrow_table()
