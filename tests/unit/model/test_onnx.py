"""The ONNX export reproduces the forest, and the agreement check catches one that does not."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import onnx
import pytest

from movierec.model import (
    OnnxScorer,
    check_agreement,
    fit_forest,
    positive_probability,
    to_onnx,
    top_n_sets,
)
from movierec.settings import ForestParams

SMALL = ForestParams(n_estimators=10, max_depth=8, min_samples_split=4, n_jobs=1)
# This module's forest, exported in a process of its own, to stdout.
EXPORT = (
    "import sys; from tests.unit.model.test_onnx import SMALL, _data; "
    "from movierec.model import fit_forest, to_onnx; features, labels = _data(); "
    "sys.stdout.buffer.write(to_onnx(fit_forest(features, labels, SMALL), 6))"
)


def _data(n: int = 3_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 6)).astype(np.float32)
    labels = ((features[:, 0] * features[:, 2] + rng.normal(0, 0.3, n)) > 0).astype(np.int8)
    return features, labels


def test_graph_is_one_tree_ensemble_with_a_probability_tensor() -> None:
    """No ZipMap: the graph ends in a float tensor of shape [n, 2]."""
    features, labels = _data()
    model = onnx.load_from_string(to_onnx(fit_forest(features, labels, SMALL), 6))
    assert [node.op_type for node in model.graph.node] == ["TreeEnsembleClassifier"]
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    assert model.graph.input[0].name == "features"


def test_the_same_forest_exports_to_the_same_bytes_in_any_process() -> None:
    """Two forests fitted alike (as two engines fit the same rows) export identically, in
    processes that hash strings differently, so their sha256 tells whether two warehouses
    serve the same model."""
    exports = [
        subprocess.run(
            [sys.executable, "-c", EXPORT],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    ]
    assert exports[0] == exports[1] == exports[2]
    features, labels = _data()
    assert exports[0] == to_onnx(fit_forest(features, labels, SMALL), 6)
    assert exports[0] != to_onnx(fit_forest(features[1:], labels[1:], SMALL), 6)


def test_onnx_probabilities_match_sklearn() -> None:
    """Within 1e-5 on fresh rows, with identical top-10 per group."""
    features, labels = _data()
    forest = fit_forest(features, labels, SMALL)
    scorer = OnnxScorer(to_onnx(forest, 6), threads=1)
    fresh, _ = _data(seed=1)
    diff = np.abs(scorer.positive_probability(fresh) - positive_probability(forest, fresh))
    assert diff.max() <= 1e-5
    groups = np.repeat(np.arange(30), 100).astype(np.int64)
    agreement = check_agreement(forest, scorer, fresh, groups, top_n=10)
    assert agreement.passed
    assert (agreement.rows, agreement.groups, agreement.groups_with_other_top_n) == (3_000, 30, 0)


def test_agreement_check_fails_for_another_model() -> None:
    """An export of a different forest is caught: large differences, other top-10s."""
    features, labels = _data()
    forest = fit_forest(features, labels, SMALL)
    other = fit_forest(features, labels, ForestParams(n_estimators=3, max_depth=2, n_jobs=1))
    groups = np.repeat(np.arange(30), 100).astype(np.int64)
    agreement = check_agreement(forest, OnnxScorer(to_onnx(other, 6)), features, groups, 10)
    assert not agreement.passed
    assert agreement.max_abs_diff > 1e-3
    assert agreement.groups_with_other_top_n > 0


def test_scorer_refuses_the_wrong_input() -> None:
    """float64 or the wrong width is an error, not a silent cast."""
    features, labels = _data()
    scorer = OnnxScorer(to_onnx(fit_forest(features, labels, SMALL), 6))
    with pytest.raises(TypeError, match="float32"):
        scorer.positive_probability(features.astype(np.float64))
    with pytest.raises(ValueError, match="takes 6 features"):
        scorer.positive_probability(features[:, :5])


def test_top_n_sets_by_group_with_ties_broken_by_row_order() -> None:
    """Best scores per group; an exact tie keeps the earlier row."""
    groups = np.array([1, 1, 1, 2, 2], dtype=np.int64)
    scores = np.array([0.2, 0.9, 0.9, 0.1, 0.5])
    assert top_n_sets(groups, scores, 2) == {1: frozenset({1, 2}), 2: frozenset({3, 4})}
    assert top_n_sets(groups, scores, 1) == {1: frozenset({1}), 2: frozenset({4})}
