"""The nightly end to end on a small world: model, export, registry, top-N lists."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from movierec.errors import AgreementError
from movierec.model import fit_forest, latest_model, to_onnx
from movierec.settings import ForestParams, Paths, TrainSettings
from movierec.training import pipeline, train_model
from movierec.warehouse import parse_feature_contract
from tests.integration.harness import N_USERS, paths_for, query, run_cli

pytestmark = pytest.mark.integration


def _copy(warehouse: Paths, tmp_path: Path) -> Paths:
    """A private copy of the nightly's data folder, for tests that write."""
    shutil.copytree(warehouse.data_dir, tmp_path / "data")
    return paths_for(tmp_path / "data")


def test_every_user_gets_their_top_n(warehouse: Paths) -> None:
    """Each user has min(10, unseen films) rows ranked 1..n, unseen, scored in [0, 1]."""
    lists = query(
        warehouse,
        """
        with unseen as (
            select users.user_id, count(*) filter (where seen.user_id is null) as unseen
            from core.dim_users users cross join core.dim_movies movies
            left join (select distinct user_id, movie_id from core.fct_interactions) seen
                on seen.user_id = users.user_id and seen.movie_id = movies.movie_id
            group by users.user_id
        )
        select unseen.user_id, unseen.unseen, count(r.movie_id) as served,
            min(r.recommendation_rank) as low, max(r.recommendation_rank) as high,
            count(distinct r.movie_id) as films, min(r.score) as min_score,
            max(r.score) as max_score,
            count(*) filter (where exists (
                select 1 from core.fct_interactions f
                where f.user_id = r.user_id and f.movie_id = r.movie_id)) as seen_served
        from unseen left join ml.ml_recommendations_latest r using (user_id)
        group by unseen.user_id, unseen.unseen
        """,
    )
    assert lists.height == N_USERS
    expected = np.minimum(lists["unseen"].to_numpy(), 10)
    assert (lists["served"].to_numpy() == expected).all()
    assert (lists["films"].to_numpy() == expected).all()
    assert set(lists["low"].to_list()) == {1}
    assert (lists["high"].to_numpy() == expected).all()
    assert lists["seen_served"].sum() == 0
    assert lists["min_score"].to_numpy().min() >= 0.0
    assert lists["max_score"].to_numpy().max() <= 1.0


def test_the_runs_diversity_is_what_its_lists_hold(warehouse: Paths) -> None:
    """rpt_recommendation_runs' intra-list diversity and share outside the stated genres,
    recomputed in Python from the published lists, the films' genres and the users' stated
    genres."""
    lists = query(
        warehouse,
        "select l.user_id, l.movie_id, m.primary_genre, g.genres, u.preferred_genres "
        "from ml.ml_recommendations_latest as l join core.dim_movies as m using (movie_id) "
        "join staging.stg_landing__movies as g using (movie_id) "
        "join staging.stg_landing__users as u using (user_id)",
    )
    pairs_differ, outside = [], []
    for _, films in lists.group_by(["user_id"]):
        genres = films["primary_genre"].to_list()
        n = len(genres)
        same = sum(genres.count(g) * (genres.count(g) - 1) for g in set(genres))
        pairs_differ.append(1 - same / (n * (n - 1)))
        stated = set(films["preferred_genres"].to_list()[0] or ())
        if stated:  # the share counts the lists of users who stated genres
            outside += [not set(g) & stated for g in films["genres"].to_list()]
    run = query(
        warehouse,
        "select intra_list_diversity, outside_stated_genres_share from kpi.rpt_recommendation_runs "
        "where run_id = (select min(run_id) from ml.ml_recommendations_latest)",
    ).row(0, named=True)
    assert run["intra_list_diversity"] == pytest.approx(sum(pairs_differ) / len(pairs_differ))
    assert run["outside_stated_genres_share"] == pytest.approx(sum(outside) / len(outside))
    assert 0 < run["outside_stated_genres_share"] < 1


def test_model_is_registered_with_its_files(warehouse: Paths) -> None:
    """One model: ONNX file whose sha256 is registered, metadata listing the contract's
    features, agreement within 1e-5, metrics for both splits."""
    (model,) = query(warehouse, "select * from ml.ml_models").iter_rows(named=True)
    onnx_path = Path(model["onnx_path"])
    assert onnx_path.parent == warehouse.models_dir / model["model_id"]
    assert hashlib.sha256(onnx_path.read_bytes()).hexdigest() == model["onnx_sha256"]
    metadata = json.loads((onnx_path.parent / "metadata.json").read_text())
    contract = parse_feature_contract(warehouse.ml_features_yml.read_text())
    assert tuple(metadata["features"]) == contract.features
    assert json.loads(model["features_json"]) == list(contract.features)
    assert model["agreement_max_abs_diff"] <= 1e-5
    assert 0.5 < model["time_split_auc"] <= 1.0
    assert 0.5 < model["random_split_auc"] <= 1.0
    assert model["is_latest"] is True


def test_retrieved_candidates_match_exhaustive_scoring(warehouse: Paths, tmp_path: Path) -> None:
    """The nightly's run (retrieval candidates) and an exhaustive run give the same top-10 sets for
    at least 99 % of users."""
    paths = _copy(warehouse, tmp_path)
    exhaustive = run_cli(paths, "recommend", "--candidates", "exhaustive")
    assert exhaustive.returncode == 0, exhaustive.stderr
    share = query(
        paths,
        """
        with lists as (
            select r.run_id, runs.candidate_strategy, r.user_id,
                list(r.movie_id order by r.movie_id) as films
            from ml_outputs.recommendations r
            join ml_outputs.recommendation_runs runs using (run_id)
            group by all
        )
        select avg(case when a.films = b.films then 1.0 else 0.0 end) as share, count(*) as n
        from lists a join lists b
            on a.user_id = b.user_id and a.candidate_strategy = 'exhaustive'
            and b.candidate_strategy != 'exhaustive'
        """,
    )
    assert share["n"][0] == N_USERS
    assert share["share"][0] >= 0.99


def test_nightly_twice_appends_a_run_and_reuses_the_model(warehouse: Paths, tmp_path: Path) -> None:
    """A second nightly keeps the fresh model, appends a run, and the latest view moves."""
    paths = _copy(warehouse, tmp_path)
    again = run_cli(paths, "nightly")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "latest model is fresh, skipped" in again.stdout
    runs = query(
        paths,
        """
        select count(distinct run_id) as runs, count(distinct model_id) as models,
            (select count(*) from ml.ml_models) as registered,
            (select count(distinct run_id) from ml.ml_recommendations_latest) as latest_runs,
            (select max(run_id) from ml.ml_recommendations) =
                (select any_value(run_id) from ml.ml_recommendations_latest) as latest_is_newest
        from ml.ml_recommendations
        """,
    ).row(0, named=True)
    assert runs == {
        "runs": 2, "models": 1, "registered": 1, "latest_runs": 1, "latest_is_newest": True,
    }  # fmt: skip


def test_disagreeing_export_registers_nothing(
    warehouse: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export that does not reproduce the forest fails the run and leaves the registry
    and the models folder as they were."""
    paths = _copy(warehouse, tmp_path)
    rng = np.random.default_rng(0)
    impostor = fit_forest(
        rng.normal(size=(200, 43)).astype(np.float32),
        rng.integers(0, 2, 200).astype(np.int8),
        ForestParams(n_estimators=2, max_depth=2, n_jobs=1),
    )
    monkeypatch.setattr(pipeline, "to_onnx", lambda forest, n: to_onnx(impostor, n))
    contract = parse_feature_contract(paths.ml_features_yml.read_text())
    folders_before = sorted(paths.models_dir.iterdir())
    with duckdb.connect(str(paths.warehouse_path)) as con:
        before = latest_model(con)
        with pytest.raises(AgreementError, match="not registered"):
            train_model(con, contract, paths.models_dir, TrainSettings())
        assert latest_model(con) == before
        (count,) = con.execute("select count(*) from ml_outputs.model_registry").fetchall()[0]
    assert count == 1
    assert sorted(paths.models_dir.iterdir()) == folders_before
