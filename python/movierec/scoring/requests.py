"""Which (user, film) pairs to score: exhaustive, or a candidate shortlist.

The scorer writes the pairs into `scoring.scoring_requests`; the ml_scoring_features view
turns exactly those pairs (minus films the user had viewed by then) into features with the
same SQL that built the training rows. A request carries the moment to score at: `as_of`
(an evaluation cut-off), NULL for the default scoring moment, or with
`at_latest_viewing` the user's own latest viewing before `as_of` (just after it). Every
function here is one SQL statement on the warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

REQUESTS = "scoring.scoring_requests"


def request_pairs(
    con: duckdb.DuckDBPyConnection,
    select_sql: str,
    params: Sequence[object] = (),
    as_of: datetime | None = None,
    at_latest_viewing: bool = False,
) -> int:
    """Replace the scoring requests with the (user_id, movie_id) rows of `select_sql`."""
    moment, latest, latest_params = "cast(? as timestamp)", "", []
    if at_latest_viewing:
        # a user without a viewing before `as_of` is scored at `as_of`
        moment = f"coalesce(latest.viewed_at + interval 1 microsecond, {moment})"
        latest = """
            left join (
                select user_id, max(interacted_at) as viewed_at from core.fct_interactions
                where cast(? as timestamp) is null or interacted_at < cast(? as timestamp)
                group by user_id
            ) as latest on pairs.user_id = latest.user_id"""
        latest_params = [as_of, as_of]
    con.execute(f"delete from {REQUESTS}")
    con.execute(
        f"insert into {REQUESTS} (user_id, movie_id, requested_at) "
        f"select pairs.user_id, pairs.movie_id, {moment} from ({select_sql}) as pairs{latest}",
        [as_of, *params, *latest_params],
    )
    (count,) = con.execute(f"select count(*) from {REQUESTS}").fetchall()[0]
    return int(count)


def request_all_films(
    con: duckdb.DuckDBPyConnection,
    user_ids: Sequence[int] | None = None,
    as_of: datetime | None = None,
    at_latest_viewing: bool = False,
) -> int:
    """Every film for the given users (all users when None): exhaustive scoring."""
    where = "" if user_ids is None else "where users.user_id in (select unnest(?::bigint[]))"
    params: list[object] = [] if user_ids is None else [list(user_ids)]
    return request_pairs(
        con,
        f"""
        select users.user_id, movies.movie_id
        from core.dim_users as users
        cross join core.dim_movies as movies
        {where}
        """,
        params,
        as_of,
        at_latest_viewing,
    )


def probe_users(con: duckdb.DuckDBPyConnection, per_segment: int, seed: int) -> list[int]:
    """A seeded, reproducible sample of users from each segment."""
    rows = con.execute(
        """
        select user_id from (
            select user_id,
                row_number() over (partition by segment order by hash(user_id + ?)) as pick
            from core.dim_users
        )
        where pick <= ?
        order by user_id
        """,
        [seed, per_segment],
    ).fetchall()
    return [int(r[0]) for r in rows]


def request_candidates(
    con: duckdb.DuckDBPyConnection,
    shortlist_table: str,
    users_table: str,
    top_n: int,
    as_of: datetime | None = None,
    at_latest_viewing: bool = False,
) -> int:
    """Each user of `users_table` x the shortlisted films of their segment; a user left
    with fewer than `top_n` unseen shortlisted films gets every film instead, so nobody
    receives fewer recommendations than their unseen catalogue allows."""
    return request_pairs(
        con,
        f"""
        with chunk as (
            select users.user_id, users.segment
            from core.dim_users as users
            inner join {users_table} as wanted on users.user_id = wanted.user_id
        ),
        shortlisted as (
            select chunk.user_id, shortlist.movie_id
            from chunk
            inner join {shortlist_table} as shortlist on chunk.segment = shortlist.segment
        ),
        unseen_counts as (
            select shortlisted.user_id, count(*) as unseen
            from shortlisted
            anti join core.fct_interactions as seen
                on shortlisted.user_id = seen.user_id and shortlisted.movie_id = seen.movie_id
                and (cast(? as timestamp) is null or seen.interacted_at < cast(? as timestamp))
            group by shortlisted.user_id
        ),
        short_users as (
            select chunk.user_id
            from chunk
            left join unseen_counts on chunk.user_id = unseen_counts.user_id
            where coalesce(unseen_counts.unseen, 0) < {int(top_n)}
        )
        select user_id, movie_id from shortlisted
        where user_id not in (select user_id from short_users)
        union all
        select short_users.user_id, movies.movie_id
        from short_users cross join core.dim_movies as movies
        """,
        [as_of, as_of],
        as_of,
        at_latest_viewing,
    )
