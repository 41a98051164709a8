"""EASE's item-item weights in the warehouse (`ml_outputs.item_weights`), for retrieval's
`ease` retriever: fitted when a model trains, on every viewing in that warehouse (the
masked world's own, for the re-ranker's training rows), or for an evaluation's time split
on the viewings before its cut-off, and read by requests at or after the moment they were
fitted at, so no request sees a viewing at or after its moment."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import duckdb
import pyarrow as pa

from movierec.model import ease_weights
from movierec.progress import Progress, silent
from movierec.settings import TrainingMode
from movierec.warehouse import sql_file

# each film's weights of largest magnitude that retrieval sums (chosen on ml-100k's
# validation split, docs/scoring.md#ease)
EASE_NEIGHBOURS = 500


def fit_item_weights(
    con: duckdb.DuckDBPyConnection,
    mode: TrainingMode,
    progress: Progress = silent,
    until: datetime | None = None,
) -> int:
    """Replace the warehouse's item weights with EASE's, fitted with the mode's
    `ease_lambda` (none when 0) on its viewings before `until`, `fitted_at` = `until`
    (without it: on every viewing, `fitted_at` just after the latest); returns how many
    weights were kept."""
    con.execute("delete from ml_outputs.item_weights")
    if not mode.ease_lambda:
        return 0
    started = time.perf_counter()
    pairs = con.execute(
        sql_file("movierec.training", "ease_pairs"), {"films": mode.ease_films, "until": until}
    ).fetchnumpy()
    if len(pairs["user_id"]) == 0:
        return 0
    weights = ease_weights(
        pairs["user_id"].astype("int64"),
        pairs["movie_id"].astype("int64"),
        mode.ease_lambda,
        EASE_NEIGHBOURS,
    )
    table = pa.table(
        {
            "movie_id": weights.movie_ids,
            "other_movie_id": weights.other_movie_ids,
            "weight": weights.weights,
        }
    )
    con.register("fitted_weights", table)
    con.execute(
        "insert into ml_outputs.item_weights (fitted_at, movie_id, other_movie_id, weight) "
        "select coalesce(cast($until as timestamp), (select max(interacted_at) + interval 1 "
        "microsecond from core.fct_interactions)), movie_id, other_movie_id, weight "
        "from fitted_weights",
        {"until": until},
    )
    con.unregister("fitted_weights")
    films = len(set(pairs["movie_id"].tolist()))
    before = f" before {until:%Y-%m-%d %H:%M:%S}" if until else ""
    progress(
        f"EASE (lambda {mode.ease_lambda:g}): {len(weights):,} item weights over "
        f"{films:,} films{before} in {time.perf_counter() - started:.1f} s"
    )
    return len(weights)


@contextmanager
def weights_fitted_until(
    con: duckdb.DuckDBPyConnection,
    mode: TrainingMode,
    until: datetime | None,
    progress: Progress = silent,
) -> Iterator[None]:
    """The warehouse's item weights refitted on the viewings before `until` (an evaluation's
    cut-off), then, however the block ends, refitted on every viewing again, as training
    left them (a fit is deterministic: the same weights). Nothing to do without `until` or
    without EASE."""
    if until is None or not mode.ease_lambda:
        yield
        return
    try:
        fit_item_weights(con, mode, progress, until)
        yield
    finally:
        fit_item_weights(con, mode, progress)
