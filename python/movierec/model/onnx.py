"""Export the forest to ONNX, score through onnxruntime, and prove the export agrees with
the forest before it may be used."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import RandomForestClassifier

from movierec.arrays import Matrix
from movierec.model.forest import positive_probability

INPUT_NAME = "features"
OUTPUT_NAME = "probabilities"
# The agreement bar a model must pass to be registered.
MAX_ABS_DIFF = 1e-5


def to_onnx(forest: RandomForestClassifier, n_features: int) -> bytes:
    """Serialise the forest as an ONNX graph: float32 [n, f] -> probabilities [n, 2]; the
    same forest always gives the same bytes.

    skl2onnx ends a classifier with a ZipMap (a list of dicts, slow to read back); asking
    it for plain tensors through `options=` makes conversion several times slower, so we
    convert with defaults and cut the graph at the tree ensemble's probability tensor.
    """
    model = convert_sklearn(
        forest, initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))]
    )
    graph = model.graph
    # skl2onnx names the graph with a random UUID and lists its opsets in set order (which
    # string hashing varies from process to process): the same forest must give the same
    # bytes (and sha256) in any process, whichever engine's rows it was fitted on
    graph.name = "movierec_forest"
    opsets = sorted(model.opset_import, key=lambda opset: opset.domain)
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    ensemble = next(n for n in graph.node if n.op_type == "TreeEnsembleClassifier")
    kept = [n for n in graph.node if n is ensemble]
    del graph.node[:]
    graph.node.extend(kept)
    ensemble.output[1] = OUTPUT_NAME
    del graph.output[:]
    graph.output.extend(
        [
            helper.make_tensor_value_info(ensemble.output[0], TensorProto.INT64, [None]),
            helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [None, 2]),
        ]
    )
    onnx.checker.check_model(model)
    serialised: bytes = model.SerializeToString()
    return serialised


class OnnxScorer:
    """P(liked) from an exported model through onnxruntime."""

    def __init__(self, model: bytes, threads: int = 2) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            model, sess_options=options, providers=["CPUExecutionProvider"]
        )
        (model_input,) = self._session.get_inputs()
        self.n_features: int = model_input.shape[1]

    def positive_probability(self, features: Matrix) -> npt.NDArray[np.float32]:
        if features.dtype != np.float32 or features.ndim != 2:
            raise TypeError(f"expected a float32 matrix, got {features.dtype} {features.shape}")
        if features.shape[1] != self.n_features:
            raise ValueError(
                f"model takes {self.n_features} features, got {features.shape[1]} columns"
            )
        (proba,) = self._session.run([OUTPUT_NAME], {INPUT_NAME: features})
        positive: npt.NDArray[np.float32] = proba[:, 1]
        return positive


@dataclass(frozen=True)
class Agreement:
    """How closely the export reproduces the forest on the rows checked."""

    rows: int
    max_abs_diff: float
    groups: int
    groups_with_other_top_n: int

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= MAX_ABS_DIFF and self.groups_with_other_top_n == 0


def top_n_sets(
    groups: npt.NDArray[np.int64], scores: npt.NDArray[np.floating], n: int
) -> dict[int, frozenset[int]]:
    """Row indices of the n best scores per group (ties broken by row order)."""
    order = np.lexsort((np.arange(len(scores)), -scores.astype(np.float64), groups))
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    ends = np.r_[starts[1:], len(order)]
    return {
        int(sorted_groups[s]): frozenset(order[s : min(e, s + n)].tolist())
        for s, e in zip(starts, ends, strict=True)
    }


def check_agreement(
    forest: RandomForestClassifier,
    scorer: OnnxScorer,
    features: Matrix,
    groups: npt.NDArray[np.int64],
    top_n: int,
) -> Agreement:
    """Compare sklearn and ONNX probabilities row by row and top-n sets group by group.

    `groups` gives each row's user (or any grouping whose top-n must not change).
    """
    expected = positive_probability(forest, features)
    actual = scorer.positive_probability(features)
    diff = float(np.abs(actual.astype(np.float64) - expected).max()) if len(expected) else 0.0
    want, got = top_n_sets(groups, expected, top_n), top_n_sets(groups, actual, top_n)
    return Agreement(
        rows=len(expected),
        max_abs_diff=diff,
        groups=len(want),
        groups_with_other_top_n=sum(want[g] != got[g] for g in want),
    )
