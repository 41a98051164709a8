"""Splits, fitting and the float32 threshold alignment of the forest."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

from movierec.errors import SettingsError
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
    (lambda 300), 100 trees of depth 12 with 50 rows per leaf, each on a quarter of the
    rows, and no class weights ("none": TOML has no null)."""
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
        loaded.forest.max_samples,
        loaded.forest.class_weight,
    ) == (100, 12, 50, 0.25, None)


def test_max_samples_fits_each_tree_on_that_share_of_the_rows() -> None:
    """Each tree's bootstrap draws a quarter of the 2,000 rows (its root weighs 500 draws
    against 2,000 without the setting); the out-of-bag judgement still covers every row
    with enough trees, and the forest still separates the classes."""
    features, labels = _data()
    quarter = ForestParams(n_estimators=40, max_depth=6, max_samples=0.25, n_jobs=1)
    forest, metrics = fit_out_of_bag(features, labels, replace(quarter, class_weight=None))
    assert {tree.tree_.weighted_n_node_samples[0] for tree in forest.estimators_} == {500.0}
    every = fit_forest(features, labels, replace(quarter, max_samples=None, class_weight=None))
    assert {tree.tree_.weighted_n_node_samples[0] for tree in every.estimators_} == {2_000.0}
    assert metrics.test_rows == 2_000
    assert metrics.auc > 0.85


@pytest.mark.parametrize("share", [0.0, 1.5, -0.25])
def test_max_samples_outside_a_share_is_refused_naming_the_config(
    tmp_path: Path, share: float
) -> None:
    config = tmp_path / "movierec.toml"
    config.write_text(f"[forest]\nmax_samples = {share}\n")
    with pytest.raises(SettingsError, match=r"movierec.toml \[forest\]: max_samples must be"):
        load({"MOVIEREC_CONFIG": str(config)})
