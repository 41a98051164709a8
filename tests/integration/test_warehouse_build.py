"""The whole spine on a small simulated world: simulate -> land -> dbt build."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from movierec.flows.steps import training_world
from movierec.land import record_landed
from movierec.settings import Paths, TrainingMode, load
from movierec.training import bounded_sample, training_rows
from movierec.warehouse import (
    parse_feature_contract,
    query_frame,
    request_all_films,
    request_pairs,
    retrieve,
    retrieve_candidates,
    retrieved,
    run_dbt,
)
from tests.integration.harness import N_INTERACTIONS, N_MOVIES, N_USERS, paths_for, query, run_cli

pytestmark = pytest.mark.integration


def test_layers_are_schemas_with_the_expected_rows(warehouse: Paths) -> None:
    """Staging, intermediate, core and ml schemas hold the models; grains are as documented."""
    counts = query(
        warehouse,
        """
        select
            (select count(*) from core.dim_users) as users,
            (select count(*) from core.dim_movies) as movies,
            (select count(*) from core.fct_interactions) as interactions,
            (select count(*) from ml.ml_training_features) as training_rows,
            (select count(*) from staging.stg_landing__users) as staged_users
        """,
    ).row(0, named=True)
    assert counts == {
        "users": N_USERS,
        "movies": N_MOVIES,
        "interactions": N_INTERACTIONS,
        "training_rows": N_INTERACTIONS,
        "staged_users": N_USERS,
    }


def test_scoring_view_serves_requested_unseen_pairs(warehouse: Paths, tmp_path: Path) -> None:
    """Asked for every (user, film), ml_scoring_features returns users x films minus the
    pairs a user viewed, all at one moment, none of them seen."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        request_all_films(con)
        (seen,) = con.execute(
            "select count(*) from (select distinct user_id, movie_id from core.fct_interactions)"
        ).fetchall()[0]
        row = con.execute(
            """
            select count(*), count(distinct requested_at),
                count(*) filter (where exists (
                    select 1 from core.fct_interactions f
                    where f.user_id = s.user_id and f.movie_id = s.movie_id))
            from ml.ml_scoring_features s
            """
        ).fetchall()[0]
    assert row == (N_USERS * N_MOVIES - seen, 1, 0)


def test_history_features_are_point_in_time(warehouse: Paths) -> None:
    """Every training row's history counts equal an independent count of strictly earlier
    viewings (overall and in the film's genre), recomputed here from the raw Parquet."""
    raw = warehouse.raw_dir
    views = pl.from_arrow(pq.read_table(next((raw / "interactions").glob("*.parquet"))))
    movies = pl.from_arrow(pq.read_table(next((raw / "movies").glob("*.parquet"))))
    assert isinstance(views, pl.DataFrame)
    assert isinstance(movies, pl.DataFrame)
    views = views.join(
        movies.select("movie_id", genre=pl.col("genres").list.first()), on="movie_id"
    )
    pairs = views.join(views, on="user_id", suffix="_prior").filter(
        pl.col("interacted_at_prior") < pl.col("interacted_at")
    )
    overall = pairs.group_by("interaction_id").agg(
        expected_prior=pl.len(), expected_likes=pl.col("is_liked_prior").sum()
    )
    in_genre = (
        pairs.filter(pl.col("genre_prior") == pl.col("genre"))
        .group_by("interaction_id")
        .agg(expected_genre_prior=pl.len(), expected_genre_likes=pl.col("is_liked_prior").sum())
    )
    expected = (
        views.select("interaction_id")
        .join(overall, on="interaction_id", how="left")
        .join(in_genre, on="interaction_id", how="left")
        .fill_null(0)
    )
    actual = query(
        warehouse,
        """
        select interaction_id, user_prior_interactions, user_prior_like_rate,
            user_genre_prior_interactions, user_genre_prior_likes
        from ml.ml_training_features
        """,
    )
    both = expected.join(actual, on="interaction_id", how="inner")
    assert both.height == N_INTERACTIONS
    assert (both["user_prior_interactions"] == both["expected_prior"]).all()
    assert (both["user_genre_prior_interactions"] == both["expected_genre_prior"]).all()
    assert (both["user_genre_prior_likes"] == both["expected_genre_likes"]).all()
    rate = (both["expected_likes"] + 1) / (both["expected_prior"] + 2)
    assert ((both["user_prior_like_rate"] - rate).abs() < 1e-12).all()
    assert both["user_prior_interactions"].to_numpy().max() > 0  # the check is not vacuous


def test_preferred_genre_feature_matches_the_landed_preferences(warehouse: Paths) -> None:
    """is_preferred_genre is 1 exactly when the film's genre is in the user's stated list."""
    mismatches = query(
        warehouse,
        """
        select count(*) as n
        from ml.ml_training_features f
        join staging.stg_landing__users u using (user_id)
        join staging.stg_landing__movies m using (movie_id)
        where f.is_preferred_genre
            != cast(list_contains(u.preferred_genres, m.primary_genre) as double)
        """,
    )
    assert mismatches["n"][0] == 0


def test_every_model_is_documented_and_tested(warehouse: Paths, tmp_path: Path) -> None:
    """`dbt docs generate` works; every model and every column it builds has a description,
    and every model has at least one data or unit test."""
    run_dbt(warehouse, ["docs", "generate", "--target-path", str(tmp_path)])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    tested = {
        dep
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("test", "unit_test")
        for dep in node["depends_on"]["nodes"]
    } | {test["depends_on"]["nodes"][0] for test in manifest.get("unit_tests", {}).values()}
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    assert len(models) == 50
    for key, model in models.items():
        assert model["description"].strip(), f"{key} has no description"
        assert key in tested, f"{key} has no test"
        built = {c.lower() for c in catalog["nodes"][key]["columns"]}
        undocumented = {c for c in built if not model["columns"].get(c, {}).get("description")}
        assert not undocumented, f"{key}: undocumented columns {sorted(undocumented)}"


@pytest.mark.parametrize("vars_from", ["dbt_project.yml", "movierec.toml"])
def test_dbt_unit_tests_pass_outside_the_nightly(
    warehouse: Paths, tmp_path: Path, vars_from: str
) -> None:
    """The nightly's builds skip dbt's unit tests (fixed inputs); here every one of them
    runs, on a copy of the nightly's warehouse (dbt's hooks write), and passes: with
    dbt_project.yml's vars (a hand-run `dbt build`) and with the shipped config's
    (`movierec build`, whose retrieval_candidates differs)."""
    shipped = load({"MOVIEREC_PROJECT_DIR": str(warehouse.project_dir)}).paths
    assert shipped.dbt_vars == {"retrieval_candidates": 200}
    copy = replace(
        warehouse,
        warehouse_path=tmp_path / "copy.duckdb",
        retrieval_candidates=shipped.retrieval_candidates if vars_from == "movierec.toml" else None,
    )
    shutil.copyfile(warehouse.warehouse_path, copy.warehouse_path)
    run_dbt(copy, ["test", "--select", "test_type:unit", "--target-path", str(tmp_path)])
    ran = json.loads((tmp_path / "run_results.json").read_text())["results"]
    results = [r for r in ran if r["unique_id"].startswith("unit_test.")]  # not the hook
    assert len(results) == 22
    assert {r["status"] for r in results} == {"pass"}
    assert {r["unique_id"].split(".")[2] for r in results} >= {
        "ml_retrieval_candidates",
        "int_masked_viewings",
        "ml_training_features",
        "ml_scoring_film_signals",
    }


def test_docs_lineage_runs_from_raw_parquet_to_each_report_and_its_exposure(
    warehouse: Paths, tmp_path: Path
) -> None:
    """In `dbt docs generate`'s manifest every rpt_ model descends from the landed Parquet
    sources, and the dashboard exposure depends on every rpt_ model."""
    run_dbt(warehouse, ["docs", "generate", "--target-path", str(tmp_path)])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest["sources"]}

    def ancestors(unique_id: str) -> set[str]:
        parents = set(nodes[unique_id].get("depends_on", {}).get("nodes", []))
        return parents.union(*(ancestors(p) for p in parents)) if parents else set()

    reports = {k for k in manifest["nodes"] if k.startswith("model.movierec.rpt_")}
    assert len(reports) == 10
    for report in reports:
        assert any(a.startswith("source.movierec.landing.") for a in ancestors(report)), report
    exposure = manifest["exposures"]["exposure.movierec.morning_dashboard"]
    assert set(exposure["depends_on"]["nodes"]) == reports


def test_bad_landing_stops_the_build_and_keeps_the_warehouse(
    warehouse: Paths, tmp_path: Path
) -> None:
    """A landed users file with NULL ids: exit 1, a message naming the file and column,
    and the published warehouse file untouched."""
    data = tmp_path / "data"
    shutil.copytree(warehouse.data_dir, data)
    paths = paths_for(data)
    good = next((data / "raw" / "users").glob("*.parquet"))
    table = pq.read_table(good)
    bad = data / "raw" / "users" / "99990101T000000000000Z.parquet"
    user_ids = table.column("user_id").cast("int32")
    pq.write_table(table.set_column(0, "user_id", user_ids), bad)
    record_landed(paths.raw_dir, {"users": bad}, datetime(2025, 1, 1))  # as landed long ago
    before = paths.warehouse_path.read_bytes()
    result = run_cli(paths, "build")
    assert result.returncode == 1
    assert f"{bad}: column 'user_id': wrong type: int32, expected bigint" in result.stderr
    assert paths.warehouse_path.read_bytes() == before


def test_bounded_training_reads_the_chosen_viewings_only(warehouse: Paths) -> None:
    """Beyond max_rows viewings, training rows are the viewings `bounded_sample` picks
    (newest share plus a seeded sample of older ones), with the same features and labels
    as when every viewing is read, before a cut-off too."""
    contract = parse_feature_contract(warehouse.ml_features_yml.read_text())
    cutoff = datetime(2024, 11, 1)
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as con:
        for until in (None, cutoff):
            every = training_rows(con, contract, contract.features, TrainingMode(max_rows=0), until)
            mode = TrainingMode(max_rows=len(every.labels) // 4, recent_share=0.5)
            bounded = training_rows(con, contract, contract.features, mode, until)
            kept = bounded_sample(len(every.labels), mode.max_rows, 0.5, mode.sampling_seed)
            assert len(bounded.labels) == mode.max_rows > 500
            assert np.array_equal(bounded.features, every.features[kept])
            assert np.array_equal(bounded.labels, every.labels[kept])
            assert np.array_equal(bounded.requested_at, every.requested_at[kept])
            # the newest half of the budget is the newest viewings
            newest = np.sort(every.requested_at)[-(mode.max_rows // 2) :]
            assert np.array_equal(bounded.requested_at[-(mode.max_rows // 2) :], newest)
    # the last round read before the cut-off only
    assert every.requested_at.max() < np.datetime64(cutoff)


def test_reranker_training_rows_are_retrievals_candidates(warehouse: Paths, tmp_path: Path) -> None:
    """Re-ranker training rows are exactly retrieval's candidates at the training moments
    (each user's first viewing, and one viewing inside the history of users with two or
    more films), labelled by whether the user viewed the film from that moment on; the
    retrieval features are retrieval's own ranks at the same moment."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse.warehouse_path, copy)
    contract = parse_feature_contract(warehouse.ml_features_yml.read_text())
    mode = TrainingMode(mode="implicit", negative_sampling="retrieval")
    with duckdb.connect(str(copy)) as con:
        rows = training_rows(con, contract, contract.features, mode)
        candidates, chosen, cold_knn = con.execute(
            """
            select count(*),
                count(*) filter (where exists (
                    select 1 from core.fct_interactions as f
                    where f.user_id = c.user_id and f.movie_id = c.movie_id
                        and f.interacted_at >= c.requested_at)),
                count(*) filter (where c.knn_rank is not null and c.requested_at = (
                    select min(interacted_at) from core.fct_interactions as f
                    where f.user_id = c.user_id))
            from scoring.retrieved_candidates as c
            """
        ).fetchall()[0]
        moments = con.execute(
            "select count(*), count(distinct user_id) from "
            "(select distinct user_id, requested_at from scoring.retrieved_candidates)"
        ).fetchall()[0]
        ranks = sorted(
            r[0]
            for r in con.execute(
                "select candidate_rank from scoring.retrieved_candidates"
            ).fetchall()
        )
        (with_history,) = con.execute(
            "select count(*) from (select user_id from core.fct_interactions group by user_id "
            "having count(distinct movie_id) >= 2 and count(distinct interacted_at) >= 2)"
        ).fetchall()[0]
    assert len(rows.labels) == candidates > 0
    assert int(rows.labels.sum()) == chosen > 0
    assert cold_knn == 0  # no history at a first viewing: knn proposes nothing
    assert moments[1] == N_USERS
    assert N_USERS + with_history >= moments[0] > N_USERS
    retrieval_rank = rows.features[:, contract.features.index("retrieval_rank")]
    assert sorted(retrieval_rank.astype(int).tolist()) == ranks


def test_masked_training_learns_the_hidden_films_in_a_world_without_them(
    warehouse: Paths, tmp_path: Path
) -> None:
    """The masked world hides floor(films x 0.25) of each user's films (every viewing of
    them) and nothing else; its training rows are retrieval's candidates there, positive
    exactly for the hidden films, and their history features count only visible viewings.
    The published warehouse hides nothing, and the masked world is removed after use."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse.warehouse_path, copy)
    paths = replace(warehouse, warehouse_path=copy)
    contract = parse_feature_contract(warehouse.ml_features_yml.read_text())
    mode = TrainingMode(mode="implicit", negative_sampling="masked", sampling_seed=3)
    with duckdb.connect(str(copy)) as con:
        films = query_frame(
            con,
            "select user_id, count(distinct movie_id) as films from core.fct_interactions "
            "group by user_id",
        )
        (published_hidden,) = con.execute(
            "select count(*) from intermediate.int_masked_viewings"
        ).fetchall()[0]
        with training_world(paths, mode, lambda _: None) as masked:
            assert masked is not None
            rows = training_rows(con, contract, contract.features, mode, masked=masked)
            hidden = query_frame(
                masked, "select user_id, movie_id from intermediate.int_masked_viewings"
            )
            kept, still_visible = masked.execute(
                "select count(*), count(*) filter (where exists (select 1 from "
                "intermediate.int_masked_viewings as h where h.user_id = f.user_id "
                "and h.movie_id = f.movie_id)) from core.fct_interactions as f"
            ).fetchall()[0]
            proposed_hidden = masked.execute(
                "select count(*) from scoring.retrieved_candidates as c inner join "
                "intermediate.int_masked_viewings as h using (user_id, movie_id)"
            ).fetchall()[0][0]
            visible = query_frame(
                masked,
                "select user_id, count(*) as visible from core.fct_interactions group by user_id",
            )
        con.register("hidden", hidden.to_arrow())
        (all_viewings_of_hidden,) = con.execute(
            "select count(*) from core.fct_interactions inner join hidden using (user_id, movie_id)"
        ).fetchall()[0]
    assert published_hidden == 0
    assert not (tmp_path / "masked.duckdb").exists()
    per_user = hidden.group_by("user_id").len().join(films, on="user_id", how="right")
    expected = (per_user["films"] * 0.25).floor().cast(pl.UInt32)
    assert per_user["len"].fill_null(0).to_list() == expected.to_list()
    assert hidden.height > 0
    assert still_visible == 0
    assert kept == N_INTERACTIONS - all_viewings_of_hidden
    assert int(rows.labels.sum()) == proposed_hidden > 0
    # every row's user history counts the visible viewings only (one moment, after all)
    prior = rows.features[:, contract.features.index("user_prior_interactions")]
    by_user = dict(zip(visible["user_id"].to_list(), visible["visible"].to_list(), strict=True))
    assert prior.tolist() == [by_user[u] for u in rows.user_ids.tolist()]


def test_retrieval_is_the_same_whatever_the_chunks_and_threads(
    warehouse: Paths, tmp_path: Path
) -> None:
    """Retrieval runs a chunk of users at a time (memory); a request's candidates, ranks and
    scores do not depend on the chunk it falls in nor on how many threads add up its
    scores (exact sums), to the last bit, with two moments per user."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse.warehouse_path, copy)
    requests = (
        "select user_id, null::timestamp as requested_at from core.dim_users union all "
        "select user_id, max(interacted_at) from core.fct_interactions group by user_id"
    )
    keys = ["user_id", "requested_at", "rank"]
    with duckdb.connect(str(copy)) as con:
        con.execute("set threads = 1")
        kept = retrieve(con, requests, {}, requests_per_chunk=10 * N_USERS)
        whole = pl.DataFrame(retrieved(con)).sort(keys)
        con.execute("set threads = 4")
        # two requests per user: 41 per chunk is 20 users, so 15 chunks
        heard: list[str] = []
        assert retrieve(con, requests, {}, requests_per_chunk=41, progress=heard.append) == kept
        chunked = pl.DataFrame(retrieved(con)).sort(keys)
        # the scratch tables are recreated, not deleted: DuckDB's estimates count live rows
        sizes = con.execute(
            "select table_name, estimated_size from duckdb_tables() "
            "where schema_name = 'scoring' and table_name like 'retrie%' order by all"
        ).fetchall()
        last_chunk = con.execute("select count(*) from scoring.retrieval_requests").fetchone()
    assert sizes == [
        ("retrieval_audiences", 0),
        ("retrieval_neighbours", 0),
        ("retrieval_requests", 2 * (N_USERS - 14 * 20)),
        ("retrieved_candidates", kept),
    ]
    assert last_chunk == (2 * (N_USERS - 14 * 20),)
    # one line per chunk (many moments: no film-level half computed once beforehand)
    assert [line.split(":")[0] for line in heard] == [
        f"retrieval chunk {n}/15" for n in range(1, 16)
    ]
    assert heard[0].startswith("retrieval chunk 1/15: 20 users in ")
    assert heard[-1].startswith(f"retrieval chunk 15/15: {N_USERS - 14 * 20} users in ")
    assert kept > N_USERS
    assert whole["requested_at"].n_unique() > 1
    assert whole["knn_score"].drop_nulls().len() > N_USERS
    assert chunked.equals(whole)


def test_scored_pairs_see_retrievals_ranks_at_their_own_moment(
    warehouse: Paths, tmp_path: Path
) -> None:
    """Retrieval and scoring take each user's moment from one rule, so every retrieved
    pair is scored with retrieval's rank for it, also at each user's latest viewing."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        users = [r[0] for r in con.execute("select user_id from core.dim_users").fetchall()]
        for at_latest_viewing in (False, True):
            candidates = retrieve_candidates(con, users, None, at_latest_viewing)
            con.register("proposed", candidates)
            request_pairs(
                con, "select user_id, movie_id from proposed", {}, None, at_latest_viewing
            )
            mismatched, scored, moments = con.execute(
                """
                select count(*) filter (where f.retrieval_rank != p.rank), count(*),
                    count(distinct f.requested_at)
                from ml.ml_scoring_features as f
                inner join proposed as p using (user_id, movie_id)
                """
            ).fetchall()[0]
            con.unregister("proposed")
            assert (mismatched, scored) == (0, candidates.num_rows)
            assert (moments > 1) == at_latest_viewing


def test_scoring_reads_kept_film_signals_equal_to_the_training_rows_own(
    warehouse: Paths, tmp_path: Path
) -> None:
    """The scorer keeps each requested film's signals once per (film, moment)
    (scoring.film_signals, from ml_scoring_film_signals) and ml_scoring_features reads them
    there; ml_sampled_features, as training does, computes them inline. For three chunks of
    requests (at the default moment, at each user's latest viewing, at the default moment
    again) every scored pair has the same features both ways, and a chunk adds only the
    (film, moment) pairs not kept yet. The requests of the chunk before leave nothing behind
    for DuckDB's row estimates to count."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse.warehouse_path, copy)
    chunks = (
        ("user_id % 3 = 0 and movie_id <= 40", False),
        ("user_id % 3 = 1 and movie_id <= 40", True),
        ("user_id % 3 = 2", False),
    )
    kept_per_chunk = []
    with duckdb.connect(str(copy)) as con:
        for where, at_latest_viewing in chunks:
            select = (
                "select user_id, movie_id from core.dim_users cross join core.dim_movies "
                f"where {where}"
            )
            request_pairs(con, select, {}, None, at_latest_viewing)
            scored = con.sql("select * from ml.ml_scoring_features order by all").pl()
            con.execute("delete from scoring.sampled_requests")
            con.execute(
                "insert into scoring.sampled_requests by name "
                "select user_id, movie_id, requested_at from ml.ml_scoring_features"
            )
            computed = con.sql("select * from ml.ml_sampled_features order by all").pl()
            assert scored.height > 1000
            assert scored.equals(computed.select(scored.columns))
            kept_per_chunk.append(
                con.execute(
                    "select count(*), count(distinct (movie_id, requested_at)), "
                    "count(distinct requested_at) from scoring.film_signals"
                ).fetchall()[0]
            )
            # the requests are replaced, not deleted: DuckDB's estimate counts the live rows
            estimated, live = con.execute(
                "select estimated_size, (select count(*) from scoring.scoring_requests) "
                "from duckdb_tables() "
                "where schema_name = 'scoring' and table_name = 'scoring_requests'"
            ).fetchall()[0]
            assert estimated == live > 0
    first, second, third = kept_per_chunk
    assert first == (40, 40, 1)
    assert second[0] == second[1]  # each (film, moment) kept once
    assert second[2] > 50  # a moment per user of the second chunk
    # the default moment's films 1-40 were kept by the first chunk: only 41-60 are new
    assert third == (second[0] + N_MOVIES - 40, second[0] + N_MOVIES - 40, second[2])
