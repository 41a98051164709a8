"""Would a learned item-item model (EASE) let the forest win on MovieLens-100k? A study.

The re-ranking forest scores about level with its own user_knn retriever on ml-100k's
random splits (docs/scoring.md#re-ranking). This study asks two questions before any of it
is built into the product, each on numpy copies of the landed data:

1. **Which single recommender is strongest**, judged alone on every unseen film, top 10:
   user-kNN and item-kNN as the retrievers compute them (cosine, k nearest), RP3beta, and
   EASE (Steck 2019: item-item weights B = I - P / diag(P), P = (X'X + lambda I)^-1, a
   film scoring the sum of B over the user's films) for a grid of lambda.
2. **Does the forest re-rank better with it**: the forest of benchmarks/movielens.toml,
   trained in the masked world as the nightly trains it (25 % of each user's films hidden,
   a hidden film among retrieval's candidates a positive), re-ranks retrieval's 300
   candidates per user with the contract's features, then with EASE's score and rank
   (fitted on the masked world's films for training, on the landed films for the lists),
   then with the user-relative form of the scores too (score / the user's largest, and
   standardised within the user).

Both are asked with every request at the end of the landed data (one moment, as the
nightly serves and as the published benchmark trains) and, for the project's retrievers,
also at each user's own latest viewing (the evaluation's random-split rule), since the
neighbourhood methods see fewer co-viewers there. EASE is fitted once, on all landed
films: at each user's own moment it would see the future, so it is judged at the end only.

Last, what fitting EASE costs: the inversion at 2,000, 5,000 and 10,000 films.

Worlds: `validation` (tune_reranker's: the reported 75/25 test set held out at ingest and
never read, 25 % of each user's landed ratings held out again, seed 101), where lambda is
chosen; then, with `--report`, the reported stratified 75/25 split, with that lambda.

    .venv/bin/python -m benchmarks.study_item_models /path/to/ml-100k [--report]

Writes benchmarks/results/item_models.{md,json}.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.ensemble import RandomForestClassifier

from benchmarks.bench_reranker import CONFIG, FEATURES_YML
from benchmarks.measure import REPO, data_env, machine, markdown_table, run_step, write_results
from benchmarks.tune_reranker import TEST_SHARE, VALIDATION_SEED, write_landed_as_movielens
from movierec.evaluation import ranking_metrics
from movierec.flows.steps import training_world
from movierec.settings import ForestParams, Paths, TrainingMode
from movierec.warehouse import (
    feature_batches,
    parse_feature_contract,
    request_pairs,
    retrieve_candidates,
)
from movierec.warehouse.connection import sql_file
from movierec.warehouse.features import float32_select
from movierec.warehouse.requests import retrieve

K = 10
LAMBDAS = (100.0, 300.0, 1000.0, 3000.0)
# the forest of benchmarks/movielens.toml
FOREST = ForestParams(n_estimators=100, max_depth=12, min_samples_leaf=200, class_weight=None)
SCORES = ("knn_score", "user_knn_score", "film_prior_views")

Matrix = npt.NDArray[np.float32]


# --- recommenders over a users x films 0/1 matrix (row/column 0 unused: ids start at 1) ---


def _keep_top(similarity: Matrix, k: int) -> Matrix:
    """Each row's k largest entries, the rest 0."""
    kept = np.argpartition(-similarity, k, axis=1)[:, :k]
    out = np.zeros_like(similarity)
    np.put_along_axis(out, kept, np.take_along_axis(similarity, kept, 1), 1)
    return out


def _cosine(a: Matrix) -> Matrix:
    counts = a.sum(0)
    similarity = (a.T @ a) / np.sqrt(np.outer(counts, counts)).clip(1e-9)
    np.fill_diagonal(similarity, 0)
    return np.asarray(similarity, np.float32)


def user_knn(x: Matrix, k: int) -> Matrix:
    """The similarity-weighted share of the user's k nearest viewers (cosine) who viewed
    the film: the user_knn retriever's score."""
    nearest = _keep_top(_cosine(x.T), k)
    return np.asarray((nearest @ x) / nearest.sum(1, keepdims=True).clip(1e-9), np.float32)


def item_knn(x: Matrix, k: int) -> Matrix:
    """Cosine similarity to each film's k nearest, summed over the user's films: knn's."""
    return np.asarray(x @ _keep_top(_cosine(x), k), np.float32)


def rp3beta(x: Matrix, alpha: float = 1.0, beta: float = 0.5, k: int = 200) -> Matrix:
    """Three-step random walk user -> film -> user -> film, the landing film's
    popularity^beta divided out (Paudel et al. 2017)."""
    to_film = x / x.sum(1, keepdims=True).clip(1)
    to_user = (x / x.sum(0, keepdims=True).clip(1)).T
    walk = (to_user**alpha) @ (to_film**alpha) / x.sum(0).clip(1)[None, :] ** beta
    np.fill_diagonal(walk, 0)
    return np.asarray(x @ _keep_top(walk.astype(np.float32), k), np.float32)


def ease(x: Matrix, lam: float, kept: int = 0, by_magnitude: bool = True) -> Matrix:
    """EASE's scores: x @ B, B = I - P / diag(P) with a zero diagonal; with `kept`, each
    film's `kept` weights of largest magnitude only (or its largest positive ones)."""
    gram = (x.T @ x).astype(np.float64)
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    weights = inverse / -np.diag(inverse)
    np.fill_diagonal(weights, 0)
    if kept:
        chosen = np.abs(weights) if by_magnitude else np.where(weights > 0, weights, 0)
        weights = np.where(_keep_top(chosen, kept) > 0, weights, 0)
    return (x @ weights).astype(np.float32)


def fitting_seconds(films: int, lam: float = 300.0) -> float:
    """Wall time of EASE's inversion for a catalogue of `films` films (a random Gram
    matrix of that size: the cost does not depend on the values)."""
    rows = np.random.default_rng(0).random((films, films))
    gram = rows @ rows.T / films
    gram[np.diag_indices_from(gram)] += lam
    started = time.perf_counter()
    np.linalg.inv(gram)
    return time.perf_counter() - started


def viewed_matrix(pairs: pl.DataFrame, users: int, films: int) -> Matrix:
    x = np.zeros((users + 1, films + 1), np.float32)
    x[pairs["user_id"].to_numpy(), pairs["movie_id"].to_numpy()] = 1
    return x


def judged_alone(x: Matrix, scores: Matrix, truth: pl.DataFrame) -> dict[str, float]:
    """Top K of every film the user had not viewed."""
    masked = np.where(x > 0, -np.inf, scores)
    masked[0, :], masked[:, 0] = -np.inf, -np.inf
    top = np.argsort(-masked, axis=1, kind="stable")[1:, :K]
    users = np.arange(1, x.shape[0])
    lists = pl.DataFrame(
        {
            "user_id": np.repeat(users, K),
            "movie_id": top.ravel(),
            "rank": np.tile(np.arange(1, K + 1), len(users)),
        }
    )
    return ranking_metrics(lists, truth, K)


# --- the forest on retrieval's candidates ---


def _within_user(users: np.ndarray, values: np.ndarray) -> np.ndarray:
    """value / the user's largest, the value standardised within the user, and its
    rank within the user (1 = largest)."""
    frame = pl.DataFrame({"u": users, "v": values})
    frame = frame.with_columns(
        relative=pl.col("v") / pl.col("v").max().over("u").clip(1e-9),
        standard=(pl.col("v") - pl.col("v").mean().over("u")) / pl.col("v").std().over("u"),
        rank=pl.col("v").rank("ordinal", descending=True).over("u"),
    )
    return frame.select("relative", "standard", "rank").fill_null(0).to_numpy()


def extra_features(
    features: np.ndarray,
    columns: tuple[str, ...],
    users: np.ndarray,
    films: np.ndarray,
    ease_scores: Matrix,
) -> tuple[np.ndarray, np.ndarray]:
    """(EASE's score and rank per row; the user-relative form of EASE's and SCORES)."""
    score = ease_scores[users, films]
    with_ease = np.column_stack([score, _within_user(users, score)[:, 2]])
    relative = [_within_user(users, score)[:, :2]]
    relative += [_within_user(users, features[:, columns.index(c)])[:, :2] for c in SCORES]
    return with_ease, np.hstack(relative)


def top_lists(keys: pl.DataFrame, scores: np.ndarray) -> pl.DataFrame:
    ranked = keys.with_columns(score=pl.Series(scores)).sort(
        ["user_id", "score", "movie_id"], descending=[False, True, False]
    )
    return ranked.with_columns(rank=pl.int_range(1, pl.len() + 1).over("user_id")).filter(
        pl.col("rank") <= K
    )


class World:
    """A landed ml-100k world's warehouse, its judged films and its candidates' features."""

    def __init__(self, data: Path, tmp: Path) -> None:
        self.contract = parse_feature_contract(FEATURES_YML.read_text())
        self.columns = self.contract.features
        self.data = data
        self.copy = tmp / "study.duckdb"
        shutil.copy(data / "warehouse" / "movierec.duckdb", self.copy)
        self.con = duckdb.connect(str(self.copy))
        self.con.execute("set enable_progress_bar = false")
        (latest,) = self.con.execute(
            "select max(interacted_at) from core.fct_interactions"
        ).fetchall()[0]
        self.end = latest + timedelta(microseconds=1)
        self.truth = pl.read_parquet(data / "holdout" / "interactions.parquet").select(
            "user_id", "movie_id"
        )
        self.users, self.films = self.con.execute(
            "select (select max(user_id) from core.dim_users), "
            "(select max(movie_id) from core.dim_movies)"
        ).fetchall()[0]
        self.landed = self.viewed(self.con)

    @staticmethod
    def viewed(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
        frame = pl.from_arrow(
            con.sql("select distinct user_id, movie_id from core.fct_interactions").to_arrow_table()
        )
        assert isinstance(frame, pl.DataFrame)
        return frame

    def candidates(self, at_latest_viewing: bool) -> tuple[pl.DataFrame, np.ndarray]:
        """Retrieval's candidates for every user with their features: (keys, matrix)."""
        users = [r[0] for r in self.con.execute("select user_id from core.dim_users").fetchall()]
        proposed = retrieve_candidates(self.con, users, self.end, at_latest_viewing)
        self.con.register("proposed", proposed)
        request_pairs(
            self.con, "select user_id, movie_id from proposed", {}, self.end, at_latest_viewing
        )
        parts = list(feature_batches(self.con, self.columns, 1_000_000))
        self.con.unregister("proposed")
        keys = pl.concat(
            [pl.DataFrame(pl.from_arrow(k)).select("user_id", "movie_id") for k, _ in parts]
        )
        return keys, np.vstack([m for _, m in parts])

    def masked_training(self) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, pl.DataFrame]:
        """The masked world's training rows at the end: (keys, features, labels, the
        masked world's viewed films)."""
        paths = Paths(project_dir=REPO, data_dir=self.data, warehouse_path=self.copy)
        mode = TrainingMode(mode="implicit", negative_sampling="masked", sampling_seed=7)
        with training_world(paths, mode, print) as masked:
            assert masked is not None
            params = {"until": self.end, "at_latest_viewing": False}
            retrieve(masked, sql_file("movierec.training", "masked_moments"), params)
            masked.execute(sql_file("movierec.training", "masked_candidates"), {"until": self.end})
            masked.execute("delete from scoring.sampled_requests")
            masked.execute(
                "insert into scoring.sampled_requests (user_id, movie_id, requested_at) "
                "select user_id, movie_id, requested_at from chosen_candidates"
            )
            table = masked.sql(
                f"select features.user_id, features.movie_id, labels.chosen, "
                f"{float32_select(self.columns)} from ml.ml_sampled_features as features "
                "inner join chosen_candidates as labels using (user_id, movie_id, requested_at) "
                "order by features.user_id, features.movie_id"
            ).to_arrow_table()
            viewed = self.viewed(masked)
        rows = pl.DataFrame(pl.from_arrow(table))
        features = rows.select(self.columns).to_numpy().astype(np.float32)
        return rows.select("user_id", "movie_id"), features, rows["chosen"].to_numpy(), viewed


def _row(
    world: str, part: str, name: str, metrics: dict[str, float], **more: object
) -> dict[str, object]:
    judged = {m: round(metrics[m], 4) for m in ("precision", "recall", "ndcg", "map")}
    return {"world": world, "part": part, "recommender": name, "seconds": None, **judged, **more}


def study_world(data: Path, name: str, lambdas: tuple[float, ...]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        world = World(data, Path(tmp))
        x = viewed_matrix(world.landed, world.users, world.films)
        alone = "alone, every unseen film, at the end"
        for k in (50, 100):
            rows.append(
                _row(
                    name,
                    alone,
                    f"user-kNN, {k} viewers",
                    judged_alone(x, user_knn(x, k), world.truth),
                )
            )
        for k in (100, 400):
            rows.append(
                _row(
                    name,
                    alone,
                    f"item-kNN, {k} films",
                    judged_alone(x, item_knn(x, k), world.truth),
                )
            )
        rows.append(
            _row(
                name,
                alone,
                "RP3beta (alpha 1, beta 0.5, 200 films)",
                judged_alone(x, rp3beta(x), world.truth),
            )
        )
        ease_rows = []
        for lam in lambdas:
            ease_rows.append(
                _row(
                    name,
                    alone,
                    f"EASE, lambda {lam:g}",
                    judged_alone(x, ease(x, lam), world.truth),
                    lam=lam,
                )
            )
        rows += ease_rows
        best = max(ease_rows, key=lambda r: float(r["precision"]))  # type: ignore[arg-type]
        lam = float(best["lam"])  # type: ignore[arg-type]
        print(f"{name}: EASE's lambda {lam:g}")
        for kept, by_magnitude in ((200, False), (500, False), (200, True), (500, True)):
            cut = f"its {kept} largest {'by magnitude' if by_magnitude else 'positive'}"
            scores = ease(x, lam, kept, by_magnitude)
            label = f"EASE, lambda {lam:g}, each film's weights: {cut}"
            rows.append(_row(name, alone, label, judged_alone(x, scores, world.truth)))

        train_keys, train_x, labels, masked_viewed = world.masked_training()
        masked_ease = ease(viewed_matrix(masked_viewed, world.users, world.films), lam)
        landed_ease = ease(x, lam)
        t_users, t_films = train_keys["user_id"].to_numpy(), train_keys["movie_id"].to_numpy()
        t_ease, t_relative = extra_features(train_x, world.columns, t_users, t_films, masked_ease)
        for moment, at_latest in (("at each user's latest viewing", True), ("at the end", False)):
            keys, matrix = world.candidates(at_latest)
            users, films = keys["user_id"].to_numpy(), keys["movie_id"].to_numpy()
            part = f"re-ranking retrieval's candidates, {moment}"

            def judge(label: str, scores: np.ndarray, **more: object) -> None:
                lists = top_lists(keys, scores)  # noqa: B023 (called within the iteration)
                rows.append(_row(name, part, label, ranking_metrics(lists, world.truth, K), **more))  # noqa: B023

            for retriever in ("user_knn", "knn"):
                judge(
                    f"{retriever} retriever's rank",
                    -matrix[:, world.columns.index(f"{retriever}_rank")],
                )
            if at_latest:
                continue  # EASE fitted on all landed films would see the future here
            s_ease, s_relative = extra_features(matrix, world.columns, users, films, landed_ease)
            judge(f"EASE's rank (lambda {lam:g})", s_ease[:, 0])
            for label, train, serve in (
                ("forest, the contract's features", train_x, matrix),
                (
                    "forest, + EASE's score and rank",
                    np.hstack([train_x, t_ease]),
                    np.hstack([matrix, s_ease]),
                ),
                (
                    "forest, + EASE, + user-relative scores",
                    np.hstack([train_x, t_ease, t_relative]),
                    np.hstack([matrix, s_ease, s_relative]),
                ),
            ):
                started = time.perf_counter()
                forest = RandomForestClassifier(**FOREST.as_dict()).fit(train, labels)
                judge(
                    label,
                    forest.predict_proba(serve)[:, 1],
                    seconds=round(time.perf_counter() - started, 1),
                )
        world.con.close()
    for row in rows:
        print(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="the ml-100k folder (u.data, u.user, u.item)")
    parser.add_argument("--report", action="store_true", help="also the reported 75/25 split")
    args = parser.parse_args()
    share = ["--holdout-share", str(TEST_SHARE)]
    with tempfile.TemporaryDirectory(prefix="movierec-item-models-") as tmp:
        landed, validation = Path(tmp) / "landed", Path(tmp) / "validation"
        env = {**data_env(landed), "MOVIEREC_CONFIG": str(CONFIG)}
        run_step("ml-100k", "ingest", ["ingest", "movielens", str(args.path), *share], env)
        write_landed_as_movielens(args.path, landed, Path(tmp) / "ml-75")
        env = {**data_env(validation), "MOVIEREC_CONFIG": str(CONFIG)}
        ingest = ["ingest", "movielens", str(Path(tmp) / "ml-75"), *share]
        run_step("ml-100k", "ingest again", [*ingest, "--holdout-seed", str(VALIDATION_SEED)], env)
        run_step("ml-100k", "nightly", ["nightly", "--no-evaluate-new-model"], env)
        rows = study_world(validation, "validation", LAMBDAS)
        if args.report:
            chosen = max(
                (r for r in rows if "lam" in r),
                key=lambda r: float(r["precision"]),  # type: ignore[arg-type]
            )["lam"]
            run_step(
                "ml-100k",
                "nightly",
                ["nightly", "--no-evaluate-new-model"],
                {**data_env(landed), "MOVIEREC_CONFIG": str(CONFIG)},
            )
            rows += study_world(landed, "stratified 75/25 (reported)", (float(chosen),))  # type: ignore[arg-type]
    header = (
        f"Item models on ml-100k, {machine()}\n\n"
        "Top 10, implicit (a viewed film is relevant). `validation`: the reported test set "
        "held out at ingest and never read, 25 % of each user's landed ratings held out again "
        f"(seed {VALIDATION_SEED}), where EASE's lambda is chosen. Alone: every unseen film "
        "ranked by the model fitted on all landed films. Re-ranking: retrieval's 300 "
        "candidates per user; forests trained in the masked world "
        "(benchmarks/movielens.toml's forest).\n\n"
    )
    for films in (2_000, 5_000, 10_000):
        seconds = round(fitting_seconds(films), 1)
        unjudged = dict.fromkeys(("precision", "recall", "ndcg", "map"))
        cost = {
            "world": "random matrix",
            "part": "EASE's inversion",
            "recommender": f"{films:,} films",
        }
        rows.append({**cost, **unjudged, "seconds": seconds})
    columns = [("world", "world"), ("part", "part"), ("recommender", "recommender")]
    columns += [(f">{m}@{K}", m) for m in ("precision", "recall", "ndcg", "map")]
    columns += [(">seconds (fit + score)", "seconds")]
    write_results("item_models", rows, header + "\n".join(markdown_table(columns, rows)) + "\n")


if __name__ == "__main__":
    main()
