"""Score users against films they have not seen and keep the top N per user.

Two stages keep the nightly fast: a probe of a few users per segment scores the whole
catalogue and shortlists, per (segment, genre), the films the forest ranks highest; then
every user is scored exactly, by the exported model, on their segment's shortlist. The
benchmark measures what the shortlist loses against exhaustive scoring.
Features always come from the ml_scoring_features view, streamed as Arrow batches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from movierec.features import feature_matrix, float32_select
from movierec.scoring.requests import (
    probe_users,
    request_all_films,
    request_candidates,
)
from movierec.training.export import OnnxScorer
from movierec.training.forest import Matrix

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RecommendSettings:
    """How many films to keep per user and how to pick the ones to score."""

    top_n: int = 10
    # Each probe user's best films per genre that join their segment's shortlist;
    # 0 scores every unseen film (exhaustive). Defaults measured by bench_recommend.py.
    candidates_per_genre: int = 15
    probe_users_per_segment: int = 256
    # Bounds memory: users are scored in chunks of about this many (user, film) pairs.
    # With the co-occurrence features, 1.5M pairs at the seed's scale ran out of DuckDB's
    # 2 GB (though not of 1 GB or 3 GB: the join plans change with the limit); 1M did not.
    pairs_per_chunk: int = 1_000_000
    batch_rows: int = 262_144
    seed: int = 42
    # Score each user just after their own latest viewing (before `as_of`) rather than all
    # at one moment: the random split's setting, whose held-out ratings lie inside each
    # user's own active period.
    at_latest_viewing: bool = False

    def __post_init__(self) -> None:
        if self.top_n < 1:
            raise ValueError(f"top_n must be at least 1, got {self.top_n}")
        if self.candidates_per_genre < 0:
            raise ValueError("candidates_per_genre must be >= 0 (0 = exhaustive)")

    @property
    def strategy(self) -> str:
        if self.candidates_per_genre == 0:
            return "exhaustive"
        return (
            f"probe_top_k:{self.candidates_per_genre}"
            f"/probes_per_segment:{self.probe_users_per_segment}"
        )


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    model_id: str
    users: int
    recommendations: int
    pairs_scored: int
    features_as_of: datetime
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def pairs_per_second(self) -> float:
        return self.pairs_scored / self.seconds if self.seconds else 0.0


def feature_batches(
    con: duckdb.DuckDBPyConnection, features: Sequence[str], batch_rows: int
) -> Iterator[tuple[pa.RecordBatch, Matrix]]:
    """ml_scoring_features in Arrow batches: the key columns (user_id, movie_id,
    requested_at) and the float32 feature matrix, in the model's column order."""
    reader = con.sql(
        "select user_id, movie_id, requested_at, "
        f"{float32_select(list(features))} from ml.ml_scoring_features"
    ).to_arrow_reader(batch_rows)
    for batch in reader:
        yield batch.select([0, 1, 2]), feature_matrix(batch, list(features))


def stream_scores(
    con: duckdb.DuckDBPyConnection, scorer: OnnxScorer, features: Sequence[str], batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """(user_id, movie_id, requested_at, score) for every row of ml_scoring_features."""
    for keys, matrix in feature_batches(con, features, batch_rows):
        score = scorer.positive_probability(matrix)
        yield pa.record_batch(
            [*keys.columns, pa.array(score)],
            names=["user_id", "movie_id", "requested_at", "score"],
        )


def create_scores_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty temp table for `score_into` to append to."""
    con.execute(
        f"create or replace temp table {table} "
        "(user_id bigint, movie_id bigint, requested_at timestamp, score float)"
    )


def score_into(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    table: str,
    batch_rows: int,
) -> tuple[int, datetime | None]:
    """Score the current requests, appending to temp table `table`; returns rows and as-of."""
    reader = con.cursor()  # stream on a second connection while inserting on this one
    rows, as_of = 0, None
    try:
        for batch in stream_scores(reader, scorer, features, batch_rows):
            con.register("scored_batch", batch)
            con.execute(f"insert into {table} select * from scored_batch")
            con.unregister("scored_batch")
            rows += batch.num_rows
            if as_of is None and batch.num_rows:
                as_of = batch.column(2)[0].as_py()
    finally:
        reader.close()
    return rows, as_of


def score_all_films(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    user_ids: Sequence[int],
    table: str,
    settings: RecommendSettings,
    as_of: datetime | None = None,
) -> int:
    """Score every unseen film for `user_ids` into a new temp table, a chunk of users at a
    time so that memory stays bounded by `pairs_per_chunk`."""
    create_scores_table(con, table)
    (films,) = con.execute("select count(*) from core.dim_movies").fetchall()[0]
    step = max(1, settings.pairs_per_chunk // max(1, int(films)))
    rows = 0
    for start in range(0, len(user_ids), step):
        request_all_films(con, user_ids[start : start + step], as_of, settings.at_latest_viewing)
        rows += score_into(con, scorer, features, table, settings.batch_rows)[0]
    return rows


def create_top_n_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty temp table for `keep_top_n` to append to."""
    con.execute(
        f"create or replace temp table {table} "
        "(user_id bigint, rank integer, movie_id bigint, score float)"
    )


def keep_top_n(con: duckdb.DuckDBPyConnection, scores: str, target: str, top_n: int) -> None:
    """Append each user's `top_n` best-scored films (ties: lower movie_id) to `target`."""
    con.execute(
        f"""
        insert into {target}
        select user_id, rank, movie_id, score from (
            select user_id, movie_id, score,
                cast(row_number() over (
                    partition by user_id order by score desc, movie_id
                ) as integer) as rank
            from {scores}
        )
        where rank <= {int(top_n)}
        """
    )


def shortlist_films(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    settings: RecommendSettings,
    as_of: datetime | None = None,
) -> int:
    """Temp table `shortlist` (segment, movie_id): every film that is among the
    `candidates_per_genre` best of its genre for at least one probe user of the segment.

    A forest's ranking of films within a genre differs from user to user (the film
    features interact with the user's), so an average over probe users misses many
    users' favourites; the union of each probe user's own top films does not.
    """
    probes = probe_users(con, settings.probe_users_per_segment, settings.seed)
    score_all_films(con, scorer, features, probes, "probe_scores", settings, as_of)
    con.execute(
        f"""
        create or replace temp table shortlist as
        select distinct segment, movie_id from (
            select users.segment, probe.movie_id,
                row_number() over (
                    partition by probe.user_id, genres.genre
                    order by probe.score desc, probe.movie_id
                ) as pick
            from probe_scores as probe
            inner join core.dim_users as users on probe.user_id = users.user_id
            inner join intermediate.int_movie_genres_unnested as genres
                on probe.movie_id = genres.movie_id
        )
        where pick <= {int(settings.candidates_per_genre)}
        """
    )
    (count,) = con.execute("select count(*) from shortlist").fetchall()[0]
    return int(count)


def user_chunks(con: duckdb.DuckDBPyConnection, users_per_chunk: int) -> list[list[int]]:
    rows = con.execute("select user_id from core.dim_users order by user_id").fetchall()
    return chunked([int(row[0]) for row in rows], users_per_chunk)


def chunked(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@dataclass(frozen=True)
class Ranking:
    """What `rank_users` left in temp table `run_top_n`."""

    pairs_scored: int
    features_as_of: datetime
    seconds: float
    stage_seconds: dict[str, float]


def rank_users(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    settings: RecommendSettings,
    as_of: datetime | None = None,
    progress: Progress = lambda _: None,
    user_ids: Sequence[int] | None = None,
) -> Ranking:
    """Fill temp table `run_top_n` (user_id, rank, movie_id, score) with the top N films
    unseen at `as_of` (None: the default scoring moment) of every user, or of `user_ids`."""
    started = time.perf_counter()
    stages: dict[str, float] = {}
    create_top_n_table(con, "run_top_n")
    if settings.candidates_per_genre:
        shortlisted = shortlist_films(con, scorer, features, settings, as_of)
        stages["shortlist"] = time.perf_counter() - started
        (films_per_user,) = con.execute(
            "select max(films) from (select count(*) as films from shortlist group by segment)"
        ).fetchall()[0]
        progress(f"shortlisted {shortlisted:,} (segment, film) pairs")
    else:
        (films_per_user,) = con.execute("select count(*) from core.dim_movies").fetchall()[0]

    pairs, moment = 0, None
    step = max(1, settings.pairs_per_chunk // max(1, int(films_per_user)))
    chunks = user_chunks(con, step) if user_ids is None else chunked(list(user_ids), step)
    for number, chunk in enumerate(chunks, start=1):
        chunk_started = time.perf_counter()
        if settings.candidates_per_genre:
            con.execute(
                "create or replace temp table chunk_users as select unnest(?::bigint[]) as user_id",
                [chunk],
            )
            request_candidates(
                con, "shortlist", "chunk_users", settings.top_n, as_of, settings.at_latest_viewing
            )
        else:
            request_all_films(con, chunk, as_of, settings.at_latest_viewing)
        create_scores_table(con, "chunk_scores")
        rows, chunk_moment = score_into(con, scorer, features, "chunk_scores", settings.batch_rows)
        keep_top_n(con, "chunk_scores", "run_top_n", settings.top_n)
        pairs += rows
        moment = moment or chunk_moment
        progress(
            f"chunk {number}/{len(chunks)}: {len(chunk):,} users, {rows:,} pairs scored "
            f"in {time.perf_counter() - chunk_started:.1f} s"
        )
    stages["score"] = time.perf_counter() - started - stages.get("shortlist", 0.0)
    if moment is None:
        raise RuntimeError("nothing to score: the warehouse has no users or no films")
    return Ranking(
        pairs_scored=pairs,
        features_as_of=moment,
        seconds=time.perf_counter() - started,
        stage_seconds={k: round(v, 2) for k, v in stages.items()},
    )


def recommend(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    model_id: str,
    features: Sequence[str],
    settings: RecommendSettings,
    progress: Progress = lambda _: None,
) -> RunSummary:
    """Rank every user's unseen films and append the run to ml_outputs in one transaction."""
    run_id = datetime.now(UTC).strftime("r%Y%m%dT%H%M%S%fZ")
    ranking = rank_users(con, scorer, features, settings, progress=progress)
    generated_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        con.execute(
            "insert into ml_outputs.recommendations "
            "select ?, user_id, rank, movie_id, score, ?, ? from run_top_n",
            [run_id, model_id, generated_at],
        )
        (users, recommendations) = con.execute(
            "select count(distinct user_id), count(*) from run_top_n"
        ).fetchall()[0]
        con.execute(
            "insert into ml_outputs.recommendation_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, model_id, generated_at, ranking.features_as_of, settings.top_n, users,
             settings.strategy, ranking.pairs_scored, round(ranking.seconds, 3)],
        )  # fmt: skip
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return RunSummary(
        run_id=run_id,
        model_id=model_id,
        users=int(users),
        recommendations=int(recommendations),
        pairs_scored=ranking.pairs_scored,
        features_as_of=ranking.features_as_of,
        seconds=ranking.seconds,
        stage_seconds=ranking.stage_seconds,
    )


def exhaustive_match_share(
    con: duckdb.DuckDBPyConnection,
    scorer: OnnxScorer,
    features: Sequence[str],
    run_id: str,
    user_ids: Sequence[int],
    settings: RecommendSettings,
) -> float:
    """Share of `user_ids` whose top-N films in run `run_id` are exactly the top-N of
    scoring every unseen film (as sets)."""
    score_all_films(con, scorer, features, user_ids, "exhaustive_scores", settings)
    create_top_n_table(con, "exhaustive_top_n")
    keep_top_n(con, "exhaustive_scores", "exhaustive_top_n", settings.top_n)
    (share,) = con.execute(
        """
        with exhaustive as (
            select user_id, list(movie_id order by movie_id) as films
            from exhaustive_top_n group by user_id
        ),
        served as (
            select user_id, list(movie_id order by movie_id) as films
            from ml_outputs.recommendations where run_id = ? group by user_id
        )
        select avg(case when exhaustive.films = served.films then 1.0 else 0.0 end)
        from exhaustive inner join served on exhaustive.user_id = served.user_id
        """,
        [run_id],
    ).fetchall()[0]
    return float(share)
