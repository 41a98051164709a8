"""Rank films for users: score requests with the ONNX model and keep each user's top N.

Which films are scored per user (`RecommendSettings.candidates`):
- retrieval (the default): the candidates ml_retrieval_candidates proposes, a few hundred
  per user from cheap retrievers, re-ranked here by the exported model;
- shortlist: a probe of a few users per segment scores the whole catalogue and
  shortlists, per (segment, genre), the films the forest ranks highest; every user is then
  scored on their segment's shortlist;
- exhaustive: every unseen film.
Features always come from the ml_scoring_features view, streamed as Arrow batches.

The temp tables `scores`, `shortlist` and `chunk_users` live and die inside
this module; what leaves it is Arrow.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from movierec.errors import NoDataError
from movierec.model import OnnxScorer
from movierec.progress import Progress, silent
from movierec.scoring.diversity import Genres, diversify, warehouse_genres
from movierec.settings import RecommendSettings, pairs_per_chunk
from movierec.warehouse import (
    feature_batches,
    keep_retrieved,
    memory_limit,
    probe_users,
    request_all_films,
    request_pairs,
    request_retrieval,
    sql_file,
)

TOP_N_SCHEMA = pa.schema(
    [
        ("user_id", pa.int64()),
        ("rank", pa.int32()),
        ("movie_id", pa.int64()),
        ("score", pa.float32()),
    ]
)


@dataclass(frozen=True)
class Ranking:
    """Every ranked user's top N (user_id, rank, movie_id, score) and what it cost."""

    top_n: pa.Table
    pairs_scored: int
    features_as_of: datetime
    seconds: float
    stage_seconds: dict[str, float]


def _reset_scores(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create or replace temp table scores "
        "(user_id bigint, movie_id bigint, requested_at timestamp, score float)"
    )


def _score_requests(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer, features: Sequence[str], batch_rows: int
) -> tuple[int, datetime | None]:
    """Score the current requests into temp table `scores`; returns rows and their moment."""
    reader = con.cursor()  # stream on a second connection while inserting on this one
    rows, as_of = 0, None
    try:
        for keys, matrix in feature_batches(reader, features, batch_rows):
            batch = pa.record_batch(
                [*keys.columns, pa.array(scorer.positive_probability(matrix))],
                names=["user_id", "movie_id", "requested_at", "score"],
            )
            con.register("scored_batch", batch)
            con.execute("insert into scores select * from scored_batch")
            con.unregister("scored_batch")
            rows += batch.num_rows
            if as_of is None and batch.num_rows:
                as_of = batch.column(2)[0].as_py()
    finally:
        reader.close()
    return rows, as_of


def _top_n(con: duckdb.DuckDBPyConnection, top_n: int) -> pa.Table:
    """Each user's `top_n` best films in `scores` (ties: the lower movie_id)."""
    query = con.sql(sql_file("movierec.scoring", "top_n"), params={"top_n": top_n})
    return query.to_arrow_table().cast(TOP_N_SCHEMA)


def _lists(
    con: duckdb.DuckDBPyConnection, settings: RecommendSettings, genres: Genres | None
) -> pa.Table:
    """Each user's list from `scores`: the top N, or with `settings.diversity` the top N
    that MMR picks from the `diversity_pool` x N best (scoring/diversity.py)."""
    if genres is None:
        return _top_n(con, settings.top_n)
    pool = _top_n(con, settings.top_n * settings.diversity_pool)
    return diversify(pool, genres, settings.top_n, settings.diversity)


def _pairs_per_chunk(con: duckdb.DuckDBPyConnection, settings: RecommendSettings) -> int:
    """The settings' chunk size, or the one the connection's memory_limit allows."""
    return settings.pairs_per_chunk or pairs_per_chunk(memory_limit(con))


def _score_all_films(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    user_ids: Sequence[int],
    settings: RecommendSettings,
    as_of: datetime | None = None,
) -> int:
    """Score every unseen film for `user_ids` into a fresh `scores`, a chunk of users at a
    time so that memory stays bounded by `pairs_per_chunk`."""
    _reset_scores(con)
    (films,) = con.execute("select count(*) from core.dim_movies").fetchall()[0]
    step = max(1, _pairs_per_chunk(con, settings) // max(1, int(films)))
    rows = 0
    for start in range(0, len(user_ids), step):
        request_all_films(con, user_ids[start : start + step], as_of, settings.at_latest_viewing)
        rows += _score_requests(con, scorer, features, settings.batch_rows)[0]
    return rows


def exhaustive_top_n(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    user_ids: Sequence[int],
    settings: RecommendSettings,
) -> pa.Table:
    """The top N of `user_ids` from scoring every unseen film (no shortlist)."""
    _score_all_films(con, scorer, features, user_ids, settings)
    return _top_n(con, settings.top_n)


def _shortlist_films(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    settings: RecommendSettings,
    as_of: datetime | None,
) -> int:
    """Temp table `shortlist` (segment, movie_id) from the probe users' scores."""
    probes = probe_users(con, settings.probe_users_per_segment, settings.seed)
    _score_all_films(con, scorer, features, probes, settings, as_of)
    con.execute(
        sql_file("movierec.scoring", "shortlist"),
        {"candidates_per_genre": settings.candidates_per_genre},
    )
    (count,) = con.execute("select count(*) from shortlist").fetchall()[0]
    return int(count)


def every_user(con: duckdb.DuckDBPyConnection) -> list[int]:
    rows = con.execute("select user_id from core.dim_users order by user_id").fetchall()
    return [int(row[0]) for row in rows]


def _retrieve(
    con: duckdb.DuckDBPyConnection,
    user_ids: Sequence[int],
    as_of: datetime | None,
    settings: RecommendSettings,
    candidates: pa.Table | None,
    progress: Progress,
) -> int:
    """Make scoring.retrieved_candidates hold retrieval's candidates for `user_ids` at the
    moments they are scored at, computed once for all chunks (or `candidates`, when
    given). Returns the most candidates any user got."""
    if candidates is None:
        request_retrieval(con, user_ids, as_of, settings.at_latest_viewing, progress)
    else:
        keep_retrieved(con, candidates)
    (most,) = con.execute(
        "select coalesce(max(films), 0) from (select count(*) as films "
        "from scoring.retrieved_candidates group by user_id)"
    ).fetchall()[0]
    return int(most)


def rank_users(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    settings: RecommendSettings,
    as_of: datetime | None = None,
    progress: Progress = silent,
    user_ids: Sequence[int] | None = None,
    candidates: pa.Table | None = None,
) -> Ranking:
    """The top N films unseen at `as_of` (None: the default scoring moment) of every user,
    or of `user_ids`. `candidates` (user_id, movie_id): retrieval's, when already fetched
    for the same users and moment."""
    started = time.perf_counter()
    stages: dict[str, float] = {}
    ids = list(user_ids) if user_ids is not None else every_user(con)
    if settings.source == "retrieval":
        films_per_user = _retrieve(con, ids, as_of, settings, candidates, progress)
        stages["retrieve"] = time.perf_counter() - started
        progress(f"retrieved at most {films_per_user:,} candidate films per user")
    elif settings.source == "shortlist":
        shortlisted = _shortlist_films(con, scorer, features, settings, as_of)
        stages["shortlist"] = time.perf_counter() - started
        (films_per_user,) = con.execute(
            "select max(films) from (select count(*) as films from shortlist group by segment)"
        ).fetchall()[0]
        progress(f"shortlisted {shortlisted:,} (segment, film) pairs")
    else:
        (films_per_user,) = con.execute("select count(*) from core.dim_movies").fetchall()[0]

    pairs, moment, parts = 0, None, []
    genres = warehouse_genres(con) if settings.diversity else None
    step = max(1, _pairs_per_chunk(con, settings) // max(1, int(films_per_user)))
    chunks = [ids[i : i + step] for i in range(0, len(ids), step)]
    for number, chunk in enumerate(chunks, start=1):
        chunk_started = time.perf_counter()
        if settings.source == "exhaustive":
            request_all_films(con, chunk, as_of, settings.at_latest_viewing)
        else:
            con.execute(
                "create or replace temp table chunk_users as "
                "select unnest($ids::bigint[]) as user_id",
                {"ids": chunk},
            )
            # the shortlist's pairs drop films seen before `as_of`; retrieval's already did
            params: dict[str, object] = {"top_n": settings.top_n}
            if settings.source == "retrieval":
                pairs_sql = "retrieved_pairs"
            else:
                pairs_sql, params["as_of"] = "candidate_pairs", as_of
            request_pairs(
                con,
                sql_file("movierec.scoring", pairs_sql),
                params,
                as_of,
                settings.at_latest_viewing,
            )
        _reset_scores(con)
        rows, chunk_moment = _score_requests(con, scorer, features, settings.batch_rows)
        parts.append(_lists(con, settings, genres))
        pairs += rows
        moment = moment or chunk_moment
        progress(
            f"chunk {number}/{len(chunks)}: {len(chunk):,} users, {rows:,} pairs scored "
            f"in {time.perf_counter() - chunk_started:.1f} s"
        )
    stages["score"] = time.perf_counter() - started - sum(stages.values())
    for table in ("scores", "shortlist", "chunk_users"):
        con.execute(f"drop table if exists {table}")  # this module's own temp tables
    if moment is None:
        raise NoDataError("nothing to score: the warehouse has no users or no films")
    return Ranking(
        top_n=pa.concat_tables(parts) if parts else TOP_N_SCHEMA.empty_table(),
        pairs_scored=pairs,
        features_as_of=moment,
        seconds=time.perf_counter() - started,
        stage_seconds={k: round(v, 2) for k, v in stages.items()},
    )
