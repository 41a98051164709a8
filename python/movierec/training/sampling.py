"""Training modes: what a positive and a negative row are.

explicit (the seed's, the simulator's default): every viewing is a row, labelled by
whether the viewer liked it; the forest learns "liked among viewed".

implicit, with `negative_sampling` uniform or popularity: every viewing is a positive;
beside each, `negatives_per_positive` films the user had not viewed are sampled (seeded)
at the same moment; the forest learns what a user will choose to watch. A negative's
features come from ml_sampled_features, the same SQL as the positives', as of the
positive's moment.

implicit with `negative_sampling = "retrieval"` (the re-ranker): the rows are retrieval's
own candidates at past moments, two per user (their first viewing, with no history yet,
and a seeded viewing inside their history). A candidate the user went on to view is a
positive, every other candidate a (hard) negative; films retrieval did not propose are no
rows, since the re-ranker never sees them. The features, retrieval's ranks and scores
among them, come from ml_sampled_features as of the moment.

implicit with `negative_sampling = "masked"`: the rows are retrieval's candidates in the
masked world, a second build of the same dbt project that hides a seeded `mask_share` of
each user's films (`int_masked_viewings`; `flows.steps.training_world` builds it), one
moment per user as scoring serves them. A candidate that is one of the user's hidden
films is a positive, every other a negative: the re-ranker learns "which films are
missing from this history", which is what a random hold-out asks, with every feature
computed as if the hidden viewings had never happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from movierec.errors import NoDataError, SettingsError
from movierec.settings import TrainingMode
from movierec.warehouse import (
    FeatureContract,
    empty_afresh,
    feature_matrix,
    float32_select,
    retrieve,
    sql_file,
)

# films drawn per wanted negative, before the user's own films and repeats drop out; rows
# still short after a round draw again, up to MAX_ROUNDS (a user who has seen nearly the
# whole catalogue may end with fewer)
OVERSAMPLING = 3
MAX_ROUNDS = 5


Positions = npt.NDArray[np.int64]


def _sql(name: str) -> str:
    return sql_file("movierec.training", name)


@dataclass(frozen=True)
class TrainingRows:
    """Feature rows with labels, request times and users, in no particular order."""

    features: np.ndarray[Any, np.dtype[np.float32]]
    labels: np.ndarray[Any, np.dtype[np.int8]]
    requested_at: np.ndarray[Any, np.dtype[np.datetime64]]
    user_ids: np.ndarray[Any, np.dtype[np.int64]]


def _sampled_rows(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...]) -> pa.Table:
    # in a fixed order: the forest's bootstrap draws row positions, so an order left to
    # DuckDB's parallel scan would make the same seed grow a different forest
    return con.sql(
        f"select user_id, requested_at, {float32_select(columns)} from ml.ml_sampled_features "
        "order by requested_at, user_id, movie_id"
    ).to_arrow_table()


def bounded_sample(rows: int, max_rows: int, recent_share: float, seed: int) -> Positions:
    """Positions (ascending) of the rows to train on among `rows` rows ordered oldest first:
    all of them when `max_rows` is 0 or not exceeded; else the newest
    round(`recent_share` x `max_rows`) and a uniform sample, seeded, of the older rows that
    fills `max_rows`. Recent rows carry the audience and catalogue of today; the older
    sample keeps every season of history in view."""
    if max_rows == 0 or rows <= max_rows:
        return np.arange(rows)
    recent = round(recent_share * max_rows)
    older = np.random.default_rng(seed).choice(rows - recent, size=max_rows - recent, replace=False)
    return np.concatenate([np.sort(older), np.arange(rows - recent, rows)])


def viewing_rows(
    con: duckdb.DuckDBPyConnection,
    contract: FeatureContract,
    columns: tuple[str, ...],
    until: datetime | None = None,
    mode: TrainingMode | None = None,
) -> TrainingRows:
    """One row per viewing (before `until`) from ml_training_features, labelled liked;
    beyond `mode.max_rows` viewings, the bounded sample of them (`bounded_sample`): only
    the chosen rows' features are read."""
    params: dict[str, object] = {} if until is None else {"until": until}
    where = "" if until is None else "where requested_at < $until"
    order = "order by requested_at, interaction_id"
    bounded = False
    if mode is not None and mode.bounded and mode.max_rows:
        ids = con.sql(
            f"select interaction_id from ml.ml_training_features {where} {order}", params=params
        ).fetchnumpy()["interaction_id"]
        if bounded := len(ids) > mode.max_rows:
            kept = bounded_sample(len(ids), mode.max_rows, mode.recent_share, mode.sampling_seed)
            con.register("bounded_rows", pa.table({"interaction_id": ids[kept]}))
            where = ("where" if until is None else f"{where} and") + (
                " interaction_id in (select interaction_id from bounded_rows)"
            )
    table = con.sql(
        f"select user_id, requested_at, {contract.label}, {float32_select(columns)} "
        f"from ml.ml_training_features {where} {order}",
        params=params,
    ).to_arrow_table()
    if bounded:
        con.unregister("bounded_rows")
    return labelled_viewings(table, contract, columns)


def labelled_viewings(
    table: pa.Table, contract: FeatureContract, columns: tuple[str, ...]
) -> TrainingRows:
    """Training rows from ml_training_features rows (user_id, requested_at, the label, the
    float32 `columns`), in their order."""
    if table.num_rows == 0:
        raise NoDataError("no training rows in ml.ml_training_features: land viewings first")
    return TrainingRows(
        features=feature_matrix(table, columns),
        labels=table.column(contract.label).to_numpy(zero_copy_only=False).astype(np.int8),
        requested_at=table.column("requested_at").to_numpy(),
        user_ids=table.column("user_id").to_numpy(),
    )


def sample_negatives(
    con: duckdb.DuckDBPyConnection,
    positives: TrainingRows,
    mode: TrainingMode,
    until: datetime | None = None,
) -> int:
    """Write `negatives_per_positive` distinct unviewed films per positive into
    scoring.sampled_requests, at the positive's moment. Unviewed: never viewed by the user
    before `until` (ever, without it). Returns the number written."""
    films = con.sql(_sql("film_views"), params={"until": until}).fetchnumpy()
    weights = None
    if mode.negative_sampling == "popularity":
        counts = films["viewings"].astype(np.float64) + 1.0
        weights = counts / counts.sum()
    draws_per_row = OVERSAMPLING * mode.negatives_per_positive
    rng = np.random.default_rng(mode.sampling_seed)
    con.execute(
        "create or replace temp table negative_draws (row_number bigint, draw bigint, "
        "user_id bigint, movie_id bigint, requested_at timestamp)"
    )
    short = np.arange(len(positives.labels))
    for round_number in range(MAX_ROUNDS):
        # draw for the rows still short of negatives; their own films and repeats drop out
        drawn = rng.choice(len(films["movie_id"]), size=(len(short), draws_per_row), p=weights)
        batch = pa.table(
            {
                "row_number": np.repeat(short, draws_per_row),
                "draw": np.tile(np.arange(draws_per_row), len(short))
                + round_number * draws_per_row,
                "user_id": np.repeat(positives.user_ids[short], draws_per_row),
                "movie_id": films["movie_id"][drawn.ravel()],
                "requested_at": np.repeat(positives.requested_at[short], draws_per_row),
            }
        )
        con.register("negative_batch", batch)
        con.execute(_sql("keep_unseen_draws"), {"until": until})
        con.unregister("negative_batch")
        counts = con.execute(
            "select row_number from negative_draws group by row_number "
            "having count(distinct movie_id) >= ?",
            [mode.negatives_per_positive],
        ).fetchnumpy()["row_number"]
        short = np.setdiff1d(short, counts)
        if len(short) == 0:
            break
    empty_afresh(con, "scoring.sampled_requests")
    con.execute(_sql("sampled_requests"), {"wanted": mode.negatives_per_positive})
    con.execute("drop table negative_draws")
    (count,) = con.execute("select count(*) from scoring.sampled_requests").fetchall()[0]
    return int(count)


def retrieval_rows(
    con: duckdb.DuckDBPyConnection,
    columns: tuple[str, ...],
    mode: TrainingMode,
    until: datetime | None = None,
) -> TrainingRows:
    """Retrieval's candidates at each user's training moments (retrieval_moments.sql,
    before `until`), labelled chosen when the user viewed them from that moment on (before
    `until`)."""
    params = {"until": until, "seed": mode.sampling_seed}
    retrieve(con, _sql("retrieval_moments"), params)
    con.execute(_sql("chosen_candidates"), {"until": until})
    return _candidate_rows(con, columns)


def masked_rows(
    masked: duckdb.DuckDBPyConnection,
    columns: tuple[str, ...],
    until: datetime | None = None,
    at_latest_viewing: bool = False,
) -> TrainingRows:
    """Retrieval's candidates in the masked world `masked` for each user with a hidden film
    first viewed before `until`, at `until` (NULL: the default scoring moment) or, with
    `at_latest_viewing`, just after their latest visible viewing; labelled chosen when the
    candidate is one of their hidden films (masked_candidates.sql)."""
    params = {"until": until, "at_latest_viewing": at_latest_viewing}
    retrieve(masked, _sql("masked_moments"), params)
    masked.execute(_sql("masked_candidates"), {"until": until})
    return _candidate_rows(masked, columns)


def _candidate_rows(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...]) -> TrainingRows:
    """The features of temp table chosen_candidates' (user, film, moment) rows, with their
    label `chosen`."""
    empty_afresh(con, "scoring.sampled_requests")
    con.execute(
        "insert into scoring.sampled_requests (user_id, movie_id, requested_at) "
        "select user_id, movie_id, requested_at from chosen_candidates"
    )
    # in a fixed order, as _sampled_rows
    table = con.sql(
        f"select user_id, requested_at, chosen, {float32_select(columns)} from ("
        "select features.*, labels.chosen from ml.ml_sampled_features as features "
        "inner join chosen_candidates as labels using (user_id, movie_id, requested_at)) "
        "order by requested_at, user_id, movie_id"
    ).to_arrow_table()
    con.execute("drop table chosen_candidates")
    if table.num_rows == 0:
        raise NoDataError(
            "no re-ranker training rows: retrieval proposed nothing at the training moments "
            "(no viewings before the cut-off, or no films)"
        )
    return TrainingRows(
        features=feature_matrix(table, columns),
        labels=table.column("chosen").to_numpy().astype(np.int8),
        requested_at=table.column("requested_at").to_numpy(),
        user_ids=table.column("user_id").to_numpy(),
    )


def training_rows(
    con: duckdb.DuckDBPyConnection,
    contract: FeatureContract,
    columns: tuple[str, ...],
    mode: TrainingMode,
    until: datetime | None = None,
    masked: duckdb.DuckDBPyConnection | None = None,
    at_latest_viewing: bool = False,
) -> TrainingRows:
    """The rows a model of this mode trains on, from viewings before `until` (all without).

    A masked mode reads its rows from `masked`, the masked world's warehouse, at the
    moments scoring serves users at (`at_latest_viewing` as scoring's)."""
    if mode.mode == "implicit" and mode.negative_sampling == "masked":
        if masked is None:
            raise SettingsError('negative_sampling = "masked" trains in a masked world: none given')
        return masked_rows(masked, columns, until, at_latest_viewing)
    if mode.mode == "implicit" and mode.negative_sampling == "retrieval":
        return retrieval_rows(con, columns, mode, until)
    viewings = viewing_rows(con, contract, columns, until, mode)
    if mode.mode == "explicit":
        return viewings
    sample_negatives(con, viewings, mode, until)
    table = _sampled_rows(con, columns)
    negatives = feature_matrix(table, columns)
    return TrainingRows(
        features=np.vstack([viewings.features, negatives]),
        labels=np.concatenate(
            [np.ones(len(viewings.labels), np.int8), np.zeros(len(negatives), np.int8)]
        ),
        requested_at=np.concatenate(
            [viewings.requested_at, table.column("requested_at").to_numpy()]
        ),
        user_ids=np.concatenate([viewings.user_ids, table.column("user_id").to_numpy()]),
    )
