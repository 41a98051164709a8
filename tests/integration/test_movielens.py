"""An ml-100k-format catalogue through `movierec ingest movielens` and the nightly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from movierec.settings import Paths
from movierec.warehouse import request_all_films
from tests.integration.harness import REPO, paths_for, query, run_cli
from tests.movielens_fixture import write_movielens

pytestmark = pytest.mark.integration

# What a real catalogue runs with: implicit feedback (benchmarks/bench_movielens.py too).
CONFIG = REPO / "benchmarks" / "movielens.toml"


@pytest.fixture(scope="module")
def movielens(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    # three newcomers rate only after the time split's cut-off
    folder = write_movielens(tmp_path_factory.mktemp("ml-100k"), late_users=3)
    paths = paths_for(tmp_path_factory.mktemp("data"))
    ingested = run_cli(paths, "ingest", "movielens", str(folder))
    assert ingested.returncode == 0, ingested.stderr
    assert "landed      1,500 interactions" in ingested.stdout
    nightly = run_cli(paths, "nightly", config=CONFIG)
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    return paths


def test_every_user_gets_ten_unseen_films(movielens: Paths) -> None:
    """min(10, unseen films) per user, in one run."""
    served = query(
        movielens,
        """
        with unseen as (
            select users.user_id, 40 - count(distinct seen.movie_id) as unseen
            from core.dim_users as users
            left join core.fct_interactions as seen on users.user_id = seen.user_id
            group by users.user_id
        ),
        lists as (
            select user_id, count(*) as served, count(distinct run_id) as runs
            from ml.ml_recommendations_latest group by user_id
        )
        select count(*) as users, count(*) filter (where served = least(10, unseen)) as full,
            max(runs) as runs
        from unseen inner join lists using (user_id)
        """,
    )
    assert served.rows() == [(60, 60, 1)]


def test_missing_attributes_take_their_documented_defaults(movielens: Paths) -> None:
    """No stated preferences, subscription or sessions; genres MovieLens has and the
    simulator lacks are encoded; a film without a date is as old as the request."""
    features = query(
        movielens,
        "select max(has_stated_preferences) as stated, max(subscription_months) as months, "
        "max(sessions_per_week) as sessions, max(is_genre_film_noir + is_genre_western "
        "+ is_genre_unknown) as other_genres, "
        "max(film_age_years) filter (where movie_id = 40) as undated_age "
        "from ml.ml_training_features",
    )
    assert features.rows() == [(0.0, 0.0, 0.0, 1.0, 0.0)]


def test_bad_folders_exit_non_zero_naming_the_file(tmp_path: Path) -> None:
    folder = write_movielens(tmp_path / "ml-100k")
    (folder / "u.user").unlink()
    paths = paths_for(tmp_path / "data")
    failed = run_cli(paths, "ingest", "movielens", str(folder))
    assert failed.returncode == 1
    assert f"{folder / 'u.user'}: missing file" in failed.stderr
    assert not (paths.raw_dir).exists()


def test_the_model_learns_what_users_choose(movielens: Paths) -> None:
    """Implicit mode, masked: the re-ranker learns on retrieval's candidates in a world
    hiding a quarter of each user's films, recorded in the registry; its evaluation counts
    any later viewing as a hit and includes the baselines."""
    model = query(
        movielens,
        "select training, training_rows from ml_outputs.model_registry",
    )
    assert model.height == 1
    training = json.loads(model["training"][0])
    assert training == {
        "mode": "implicit",
        "negatives_per_positive": 4,
        "negative_sampling": "masked",
        "sampling_seed": 7,
        "mask_share": 0.25,
        "ease_lambda": 300,
        "ease_films": 5000,
        "retrieval_candidates": 300,
    }
    # EASE's weights, fitted on every landed viewing, serve the nightly's moment
    ((weights, fitted_after_latest),) = query(
        movielens,
        "select count(*), bool_and(fitted_at = (select max(interacted_at) from "
        "core.fct_interactions) + interval 1 microsecond) from ml_outputs.item_weights",
    ).rows()
    assert weights > 0
    assert fitted_after_latest
    # one moment per user with a hidden film (four films or more), each with their
    # unseen films of the 40 as candidates
    ((masked_users, unseen),) = query(
        movielens,
        "select count(*), sum(40 - films) from (select user_id, count(distinct movie_id) "
        "as films from core.fct_interactions group by user_id having films >= 4)",
    ).rows()
    assert masked_users > 0
    assert unseen <= model["training_rows"][0] <= 40 * masked_users
    recommenders = query(
        movielens,
        "select distinct recommender from ml_outputs.evaluation_metrics order by all",
    )
    # the time split refits EASE's weights before its cut-off and judges them too (and
    # puts training's back: the published weights are the fit on everything, above)
    assert recommenders["recommender"].to_list() == [
        "cooccurrence", "ease", "knn", "model", "popularity", "random", "retrieval",
        "segment_popularity", "user_knn",
    ]  # fmt: skip


def test_the_evaluation_is_kept_per_history_slice(movielens: Paths) -> None:
    """Beside the user segments, every metric is kept for the users who had viewed nothing
    before the cut-off and for those who had: the two partition the judged users, so the
    precision over all of them is the slices' user-weighted mean."""
    metrics = query(
        movielens,
        "select segment, metric, value from ml_outputs.evaluation_metrics "
        "where recommender = 'model' and k = 10 and metric in ('users_evaluated', 'precision') "
        "and segment in ('all', 'no_history', 'with_history')",
    )
    value = {(segment, metric): v for segment, metric, v in metrics.rows()}
    slices = ("no_history", "with_history")
    users = {s: value[(s, "users_evaluated")] for s in slices}
    assert min(users.values()) > 0
    assert sum(users.values()) == value[("all", "users_evaluated")]
    weighted = sum(value[(s, "precision")] * users[s] for s in slices) / sum(users.values())
    assert weighted == pytest.approx(value[("all", "precision")])


def test_changing_the_mode_retrains(movielens: Paths, tmp_path: Path) -> None:
    shutil.copytree(movielens.data_dir, tmp_path / "data")
    paths = paths_for(tmp_path / "data")
    explicit = run_cli(paths, "nightly", "--training-mode", "explicit", config=CONFIG)
    assert explicit.returncode == 0, explicit.stdout + explicit.stderr
    assert "was trained in another mode" in explicit.stdout
    modes = query(
        paths,
        "select json_extract_string(training, '$.mode') as mode from ml_outputs.model_registry"
        " order by created_at",
    )
    assert modes["mode"].to_list() == ["implicit", "explicit"]


def test_random_split_judges_on_ratings_held_out_at_ingest(tmp_path: Path) -> None:
    """Five random ratings per user never land; `evaluate --split random` builds lists from
    everything landed and counts a held-out film as a hit."""
    folder = write_movielens(tmp_path / "ml-100k")
    paths = paths_for(tmp_path / "data")
    refused = run_cli(paths, "evaluate", "--split", "random")
    assert refused.returncode == 1
    assert f"{paths.holdout_path}: no held-out interactions" in refused.stderr
    ingested = run_cli(paths, "ingest", "movielens", str(folder), "--holdout-per-user", "5")
    assert ingested.returncode == 0, ingested.stderr
    # every fixture user has 10+ ratings but four, who keep half of theirs
    assert "landed      1,204 interactions" in ingested.stdout
    assert "held out      296 interactions" in ingested.stdout
    nightly = run_cli(paths, "nightly", "--no-evaluate-new-model", config=CONFIG)
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    evaluated = run_cli(paths, "evaluate", "--split", "random", config=CONFIG)
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert "random split" in evaluated.stdout

    held_out = pl.read_parquet(paths.holdout_path)
    landed = query(paths, "select user_id, movie_id from core.fct_interactions")
    assert landed.join(held_out, on=["user_id", "movie_id"]).height == 0
    counts = (
        pl.concat([landed, held_out.select("user_id", "movie_id")])
        .group_by("user_id")
        .agg(rated=pl.len())
        .join(held_out.group_by("user_id").agg(held=pl.len()), on="user_id")
    )
    assert counts.height == 60
    assert (counts["held"] == (counts["rated"] // 2).clip(upper_bound=5)).all()
    judged = query(
        paths,
        "select split, recommender, value from ml_outputs.evaluation_metrics"
        " where metric = 'users_evaluated' and k = 10 and segment = 'all'"
        " order by recommender",
    )
    assert judged.rows() == [
        ("random", name, 60.0)
        for name in (
            "cooccurrence", "ease", "knn", "model", "popularity", "random", "retrieval",
            "segment_popularity", "user_knn",
        )
    ]  # fmt: skip
    # the cut-off follows the latest landed viewing: every landed viewing is history
    ((cutoff, latest),) = query(
        paths,
        "select (select max(cutoff) from ml_outputs.evaluation_metrics),"
        " (select max(interacted_at) from core.fct_interactions)",
    ).rows()
    assert cutoff > latest
    report = query(
        paths,
        "select distinct evaluation_detail from kpi.rpt_model_performance"
        " where evaluation_kind = 'ranking'",
    )
    assert report["evaluation_detail"].to_list() == ["random"]


def test_requests_at_each_users_latest_viewing_see_all_of_it(
    movielens: Paths, tmp_path: Path
) -> None:
    """The random split's scoring moment: each user just after their own latest viewing,
    so the features count every one of their viewings and no film they saw is scored."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(movielens.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        request_all_films(con, [1, 2], as_of=None, at_latest_viewing=True)
        scored = con.sql(
            """
            with viewings as (
                select user_id, max(interacted_at) as latest, count(*) as viewed,
                    count(distinct movie_id) as films
                from core.fct_interactions where user_id in (1, 2) group by user_id
            )
            select features.user_id, count(*) as pairs,
                count(*) filter (
                    where features.requested_at = viewings.latest + interval 1 microsecond
                ) as at_latest,
                min(features.user_prior_interactions) = max(viewings.viewed) as sees_all,
                max(viewings.films) as films
            from ml.ml_scoring_features as features
            inner join viewings on features.user_id = viewings.user_id
            group by features.user_id order by features.user_id
            """
        ).fetchall()
    assert len(scored) == 2
    for _, pairs, at_latest, sees_all, films in scored:
        assert pairs == 40 - films
        assert at_latest == pairs
        assert sees_all
