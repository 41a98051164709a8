"""The classifier: a random forest on the contract's features, and its evaluation.

The seed put a StandardScaler in front of the forest. Trees split on the order of each
feature, which scaling does not change, so the scaler cannot change what the forest learns;
it only adds a float64 -> float32 rounding step that the ONNX graph would reproduce
differently. We feed the forest float32 features directly (what sklearn's trees use
internally anyway) and the exported model takes the same float32 matrix.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split

from movierec.arrays import Labels, Mask, Matrix
from movierec.settings import ForestParams


@dataclass(frozen=True)
class Metrics:
    """Held-out quality of a fitted forest (label = P(liked) > 0.5, as predict())."""

    auc: float
    precision: float
    recall: float
    f1: float
    train_rows: int
    test_rows: int
    fit_seconds: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def time_split(requested_at: npt.NDArray[np.datetime64], test_fraction: float) -> Mask:
    """Test mask: the most recent `test_fraction` of rows by time; training is all before.

    Rows at the cut-off moment all go to the test side, so no training row is later than
    any test row.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    ordered = np.sort(requested_at)
    cutoff = ordered[int(len(ordered) * (1 - test_fraction))]
    mask: Mask = requested_at >= cutoff
    return mask


def random_split(labels: Labels, test_fraction: float, seed: int) -> Mask:
    """Test mask of the seed's split: random, stratified on the label."""
    index = np.arange(len(labels))
    _, test_index = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=labels
    )
    mask = np.zeros(len(labels), dtype=bool)
    mask[test_index] = True
    return mask


def fit_forest(features: Matrix, labels: Labels, params: ForestParams) -> RandomForestClassifier:
    """Fit the forest and align its thresholds with float32 (see `align_thresholds`)."""
    forest = RandomForestClassifier(**params.as_dict())
    forest.fit(features, labels)
    align_thresholds(forest)
    return forest


def align_thresholds(forest: RandomForestClassifier) -> None:
    """Replace every split threshold t by the largest float32 not above t.

    sklearn compares float32 inputs with float64 thresholds; ONNX stores thresholds as
    float32. For a float32 x, `x <= t` holds exactly when `x <= floor32(t)`, so this keeps
    every sklearn prediction and makes the ONNX export take the same branch on every row.
    """
    for tree in forest.estimators_:
        thresholds = tree.tree_.threshold  # a view into the tree's node array
        as32 = thresholds.astype(np.float32)
        above = as32.astype(np.float64) > thresholds
        as32[above] = np.nextafter(as32[above], np.float32(-np.inf))
        thresholds[:] = as32.astype(np.float64)


def positive_probability(
    forest: RandomForestClassifier, features: Matrix
) -> npt.NDArray[np.float64]:
    """P(liked) per row."""
    proba: npt.NDArray[np.float64] = forest.predict_proba(features)[:, 1]
    return proba


def evaluate(
    features: Matrix, labels: Labels, test: Mask, params: ForestParams
) -> tuple[RandomForestClassifier, Metrics]:
    """Fit on the rows outside `test`, score the rows inside it."""
    started = time.perf_counter()
    forest = fit_forest(features[~test], labels[~test], params)
    fit_seconds = time.perf_counter() - started
    proba = positive_probability(forest, features[test])
    return forest, _metrics(labels[test], proba, int((~test).sum()), fit_seconds)


def fit_out_of_bag(
    features: Matrix, labels: Labels, params: ForestParams
) -> tuple[RandomForestClassifier, Metrics]:
    """Fit on every row and judge each row by the trees whose bootstrap sample left it out
    (out-of-bag): a held-out estimate without a second fit. The forest is the one
    `fit_forest` fits on the same rows (the same bootstrap samples); rows that every tree
    drew are not judged."""
    started = time.perf_counter()
    forest = RandomForestClassifier(**params.as_dict(), oob_score=True)
    with warnings.catch_warnings():  # "some inputs do not have OOB scores": left unjudged
        warnings.filterwarnings("ignore", "Some inputs do not have OOB scores")
        forest.fit(features, labels)
    align_thresholds(forest)
    fit_seconds = time.perf_counter() - started
    # a row no tree left out has all-zero class shares; a judged row's sum to 1
    judged = forest.oob_decision_function_.sum(axis=1) > 0
    proba = forest.oob_decision_function_[judged, 1]
    return forest, _metrics(labels[judged], proba, len(labels), fit_seconds)


def _metrics(
    truth: Labels, proba: npt.NDArray[np.float64], train_rows: int, fit_seconds: float
) -> Metrics:
    predicted = (proba > 0.5).astype(np.int8)  # as forest.predict: argmax of 2 classes
    return Metrics(
        auc=float(roc_auc_score(truth, proba)),
        precision=float(precision_score(truth, predicted, zero_division=0)),
        recall=float(recall_score(truth, predicted, zero_division=0)),
        f1=float(f1_score(truth, predicted, zero_division=0)),
        train_rows=train_rows,
        test_rows=len(truth),
        fit_seconds=round(fit_seconds, 3),
    )
