"""Splits, fitting and the float32 threshold alignment of the forest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

from movierec.model import (
    align_thresholds,
    evaluate,
    fit_forest,
    fit_out_of_bag,
    positive_probability,
    random_split,
    time_split,
)
from movierec.settings import ForestParams, TrainingMode, load

SMALL = ForestParams(n_estimators=8, max_depth=6, min_samples_split=4, n_jobs=1)


def _data(n: int = 2_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 5)).astype(np.float32)
    labels = ((features[:, 0] + 0.5 * features[:, 1] + rng.normal(0, 0.5, n)) > 0).astype(np.int8)
    return features, labels


def test_time_split_holds_out_the_latest_rows() -> None:
    """The test side is the latest 20 %, and no training row is later than a test row."""
    stamps = np.array(np.arange(100), dtype="datetime64[s]")[::-1]
    test = time_split(stamps, 0.2)
    assert test.sum() == 20
    assert stamps[~test].max() < stamps[test].min()


def test_time_split_keeps_a_moment_on_one_side() -> None:
    """Rows sharing the cut-off moment all go to the test side."""
    stamps = np.array([0, 1, 2, 3, 3, 3, 4], dtype="datetime64[s]")
    test = time_split(stamps, 0.3)
    assert test.tolist() == [False, False, False, True, True, True, True]


def test_time_split_rejects_a_fraction_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        time_split(np.array([0, 1], dtype="datetime64[s]"), 1.0)


def test_random_split_is_stratified_and_seeded() -> None:
    """The seed's split: 20 % of rows, the same like rate on both sides, reproducible."""
    _, labels = _data()
    test = random_split(labels, 0.2, seed=1)
    assert test.sum() == 400
    assert labels[test].mean() == pytest.approx(labels[~test].mean(), abs=0.01)
    assert (random_split(labels, 0.2, seed=1) == test).all()


def test_aligned_thresholds_are_float32_values() -> None:
    """After alignment every split threshold is exactly representable in float32."""
    features, labels = _data()
    forest = fit_forest(features, labels, SMALL)
    for tree in forest.estimators_:
        thresholds = tree.tree_.threshold
        assert (thresholds.astype(np.float32).astype(np.float64) == thresholds).all()


def test_alignment_keeps_every_prediction() -> None:
    """On float32 inputs, including inputs sitting exactly on the old thresholds and on
    their float32 neighbours, predictions before and after alignment are identical."""
    features, labels = _data()
    forest = RandomForestClassifier(**SMALL.as_dict()).fit(features, labels)
    raw = np.concatenate([t.tree_.threshold[t.tree_.feature >= 0] for t in forest.estimators_])
    edge = raw.astype(np.float32)
    probes = np.concatenate(
        [edge, np.nextafter(edge, np.float32(np.inf)), np.nextafter(edge, np.float32(-np.inf))]
    )
    grid = np.tile(features[:1], (len(probes) * 5, 1))
    for column in range(5):
        grid[column * len(probes) : (column + 1) * len(probes), column] = probes
    before = positive_probability(forest, grid)
    align_thresholds(forest)
    assert (positive_probability(forest, grid) == before).all()


def test_evaluate_reports_held_out_metrics() -> None:
    """A learnable signal gives AUC well above chance; counts add up."""
    features, labels = _data()
    test = random_split(labels, 0.25, seed=0)
    _, metrics = evaluate(features, labels, test, SMALL)
    assert metrics.auc > 0.85
    assert 0 < metrics.precision <= 1
    assert 0 < metrics.recall <= 1
    assert (metrics.train_rows, metrics.test_rows) == (1_500, 500)


def test_out_of_bag_fit_is_the_plain_fit_judged_on_the_rows_each_tree_left_out() -> None:
    """One fit: the same forest as `fit_forest` on every row, judged out-of-bag. With 8
    trees a row is drawn by all of them with probability 0.632^8 (2.6 %): those few rows
    are left unjudged; with 100 trees every row is judged."""
    features, labels = _data()
    forest, metrics = fit_out_of_bag(features, labels, SMALL)
    plain = fit_forest(features, labels, SMALL)
    assert (positive_probability(forest, features) == positive_probability(plain, features)).all()
    assert metrics.auc > 0.85
    assert metrics.train_rows == 2_000
    assert 1_900 < metrics.test_rows < 2_000
    many = ForestParams(n_estimators=100, max_depth=6, n_jobs=1)
    assert fit_out_of_bag(features, labels, many)[1].test_rows == 2_000
    # out-of-bag is held out: below the forest's AUC on the rows it trained on
    assert metrics.auc < roc_auc_score(labels, positive_probability(forest, features))


def test_default_forest_is_the_validated_one() -> None:
    """30 trees of depth 8 (README: smallest forest within 0.001 AUC of the best)."""
    default, seed = ForestParams(), ForestParams.seed_forest()
    assert (default.n_estimators, default.max_depth, default.class_weight) == (30, 8, "balanced")
    assert (seed.n_estimators, seed.max_depth, seed.min_samples_split) == (200, 15, 20)


def test_the_movielens_config_asks_for_the_masked_regularised_re_ranker() -> None:
    """benchmarks/movielens.toml: masked-history training with EASE's item weights
    (lambda 300), 100 trees of depth 12 with 200 rows per leaf and no class weights
    ("none": TOML has no null)."""
    repo = Path(__file__).resolve().parents[3]
    loaded = load({"MOVIEREC_CONFIG": str(repo / "benchmarks" / "movielens.toml")})
    assert loaded.training == TrainingMode(
        mode="implicit",
        negative_sampling="masked",
        mask_share=0.25,
        sampling_seed=7,
        ease_lambda=300,
    )
    assert (
        loaded.forest.n_estimators,
        loaded.forest.max_depth,
        loaded.forest.min_samples_leaf,
        loaded.forest.class_weight,
    ) == (100, 12, 200, None)
