"""Scoring requests: the (user, film) pairs whose features ml_scoring_features computes.

Whoever scores (the nightly, the evaluation, the export's agreement check) writes the pairs
into `scoring.scoring_requests`; the ml_scoring_features view
turns exactly those pairs (minus films the user had viewed by then) into features with the
same SQL that built the training rows. A request carries the moment to score at: `as_of`
(an evaluation cut-off), NULL for the default scoring moment, or with
`at_latest_viewing` the user's own latest viewing before `as_of` (just after it). Every
request replaces the previous ones. Retrieval requests take their moments from the same
rule, and retrieval's proposals are kept in `scoring.retrieved_candidates`, where the
features read each retriever's rank and score. The film-level half of the features (each
requested film's views at the moment) is kept in `scoring.film_signals` as requests
arrive, once per film and moment (`keep_film_signals`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime

import duckdb
import pyarrow as pa

from movierec.progress import Progress, silent
from movierec.settings import retrieval_requests_per_chunk
from movierec.warehouse.connection import empty_afresh, memory_limit, sql_file


def _user_moments(
    con: duckdb.DuckDBPyConnection, as_of: datetime | None, at_latest_viewing: bool
) -> str:
    """Temp table `user_moments` (user_id, requested_at) for the users of temp table
    `requested_users` (dropped here); returns its name."""
    con.execute(
        "create or replace temp table user_moments as "
        + sql_file("movierec.warehouse", "user_moments"),
        {"as_of": as_of, "at_latest_viewing": at_latest_viewing},
    )
    con.execute("drop table requested_users")
    return "user_moments"


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
    con.execute(
        "create or replace temp table requested_users as "
        "select distinct user_id from requested_pairs"
    )
    moments = _user_moments(con, as_of, at_latest_viewing)
    empty_afresh(con, "scoring.scoring_requests")
    con.execute(
        "insert into scoring.scoring_requests (user_id, movie_id, requested_at) "
        f"select pairs.user_id, pairs.movie_id, moments.requested_at from requested_pairs "
        f"as pairs inner join {moments} as moments on pairs.user_id = moments.user_id"
    )
    con.execute("drop table requested_pairs")
    con.execute(f"drop table {moments}")
    keep_film_signals(con)
    (count,) = con.execute("select count(*) from scoring.scoring_requests").fetchall()[0]
    return int(count)


FILM_SIGNAL_COLUMNS = "movie_id, requested_at, film_prior_views, film_recent_views"


def keep_film_signals(con: duckdb.DuckDBPyConnection) -> None:
    """Add to scoring.film_signals, where ml_scoring_features reads them, the film-level
    signals of the current scoring requests' (film, moment) pairs it lacks
    (ml_scoring_film_signals). They depend on films and moments only, so the chunks of a
    run after the first compute few or none. What is kept stays valid until the viewings
    change, which only a dbt invocation does, and every dbt invocation empties the table."""
    con.execute(
        f"insert into scoring.film_signals by name select {FILM_SIGNAL_COLUMNS} "
        "from ml.ml_scoring_film_signals"
    )


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


# Retrieval's film-level half, in the order it is computed: where `retrieve` keeps each
# part (scoring.<table>), the view computing it (ml.<view>) and its columns. Both depend on
# films and moments only, not on who asks.
FILM_LEVEL_HALF = (
    (
        "retrieval_audiences",
        "ml_retrieval_audiences",
        "movie_id, viewers, recent_viewers, requested_at",
    ),
    (
        "retrieval_neighbours",
        "ml_retrieval_neighbours",
        "movie_id, other_movie_id, similarity, requested_at",
    ),
)

RETRIEVED_COLUMNS = (
    "knn_score",
    "knn_rank",
    "user_knn_score",
    "user_knn_rank",
    "popularity_rank",
    "recent_popularity_rank",
    "genre_rank",
    "ease_score",
    "ease_rank",
)


def retrieve(
    con: duckdb.DuckDBPyConnection,
    select_sql: str,
    params: Mapping[str, object],
    requests_per_chunk: int | None = None,
    progress: Progress = silent,
) -> int:
    """Make scoring.retrieved_candidates (where the features read them) hold
    ml_retrieval_candidates for the (user_id, requested_at) rows of `select_sql`
    (requested_at NULL: the default scoring moment): each retriever's rank and score, at most
    `retrieval_candidates` per request. Computed a chunk of users at a time, about
    `requests_per_chunk` requests each (default: from the connection's memory_limit,
    `settings.memory`); a request's candidates do not depend on the others in its chunk.
    Returns how many candidates were kept; `retrieved` reads them. `progress` hears a line
    per chunk (and one for the film-level half when it is computed once).

    The film-level half (`FILM_LEVEL_HALF`: every film's audience and each history film's
    nearest films at the moment) depends on films and moments only. When every request
    shares one moment (the nightly, the evaluation), it is computed once for all of them,
    not once per chunk; requests at many moments (re-ranker training) compute it per chunk,
    for that chunk's moments (and their films) only."""
    con.execute(
        "create or replace temp table pending_requests as select user_id, requested_at, "
        "dense_rank() over (order by user_id) as user_number "
        f"from ({select_sql}) as requests",
        params,
    )
    users, most, moments = con.execute(
        "select count(distinct user_id), coalesce(max(requests), 0), "
        "count(distinct coalesce(requested_at, timestamp '0001-01-01')) from (select user_id, "
        "requested_at, count(*) over (partition by user_id) as requests from pending_requests)"
    ).fetchall()[0]
    per_chunk = requests_per_chunk or retrieval_requests_per_chunk(memory_limit(con))
    step = max(1, per_chunk // max(1, int(most)))
    empty_afresh(con, "scoring.retrieved_candidates")
    if moments <= 1:
        started = time.perf_counter()
        _request_retrieval(con, 0, int(users))
        _keep_film_level_half(con)
        progress(f"retrieval's film-level half in {time.perf_counter() - started:.1f} s")
    chunks = -(-int(users) // step)
    for number, first in enumerate(range(0, int(users), step), start=1):
        started = time.perf_counter()
        _request_retrieval(con, first, first + step)
        if moments > 1:
            _keep_film_level_half(con)
        con.execute(
            "insert into scoring.retrieved_candidates by name select user_id, movie_id, "
            f"requested_at, candidate_rank, {', '.join(RETRIEVED_COLUMNS)} "
            "from ml.ml_retrieval_candidates"
        )
        progress(
            f"retrieval chunk {number}/{chunks}: {min(step, int(users) - first):,} users "
            f"in {time.perf_counter() - started:.1f} s"
        )
    for table, _, _ in FILM_LEVEL_HALF:
        empty_afresh(con, f"scoring.{table}")
    con.execute("drop table pending_requests")
    (kept,) = con.execute("select count(*) from scoring.retrieved_candidates").fetchall()[0]
    return int(kept)


def _request_retrieval(con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
    """Make the retrieval requests those of `pending_requests`' users numbered
    (first, last]."""
    empty_afresh(con, "scoring.retrieval_requests")
    con.execute(
        "insert into scoring.retrieval_requests (user_id, requested_at) "
        "select user_id, requested_at from pending_requests "
        "where user_number > $first and user_number <= $last",
        {"first": first, "last": last},
    )


def _keep_film_level_half(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the current retrieval requests' film-level half where the next part and
    ml_retrieval_candidates read it."""
    for table, view, columns in FILM_LEVEL_HALF:
        empty_afresh(con, f"scoring.{table}")
        con.execute(f"insert into scoring.{table} by name select {columns} from ml.{view}")


def retrieved(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """What the last `retrieve` kept: (user_id, rank, movie_id, requested_at, each
    retriever's rank and score), rank 1 = best."""
    return con.sql(
        "select user_id, cast(candidate_rank as integer) as rank, movie_id, requested_at, "
        f"{', '.join(RETRIEVED_COLUMNS)} from scoring.retrieved_candidates"
    ).to_arrow_table()


def keep_retrieved(con: duckdb.DuckDBPyConnection, candidates: pa.Table) -> None:
    """Make `candidates` (as `retrieve` returns them) the proposals the features read."""
    empty_afresh(con, "scoring.retrieved_candidates")
    con.register("retrieved_rows", candidates)
    con.execute(
        "insert into scoring.retrieved_candidates by name select user_id, movie_id, "
        f"requested_at, rank as candidate_rank, {', '.join(RETRIEVED_COLUMNS)} "
        "from retrieved_rows"
    )
    con.unregister("retrieved_rows")


def request_retrieval(
    con: duckdb.DuckDBPyConnection,
    user_ids: Sequence[int],
    as_of: datetime | None = None,
    at_latest_viewing: bool = False,
    progress: Progress = silent,
) -> int:
    """`retrieve` for `user_ids` at the moments scoring would serve them (`as_of`, or just
    after each user's latest viewing before it); returns the candidates kept."""
    con.execute(
        "create or replace temp table requested_users as "
        "select unnest($user_ids::bigint[]) as user_id",
        {"user_ids": list(user_ids)},
    )
    moments = _user_moments(con, as_of, at_latest_viewing)
    kept = retrieve(con, f"select user_id, requested_at from {moments}", {}, progress=progress)
    con.execute(f"drop table {moments}")
    return kept


def retrieve_candidates(
    con: duckdb.DuckDBPyConnection,
    user_ids: Sequence[int],
    as_of: datetime | None = None,
    at_latest_viewing: bool = False,
) -> pa.Table:
    """`request_retrieval`, and what it kept (`retrieved`)."""
    request_retrieval(con, user_ids, as_of, at_latest_viewing)
    return retrieved(con)
