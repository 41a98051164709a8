"""Floor 2: the model. The forest, its ONNX export and scorer, the agreement check between
them, and the registry of exported models."""

from movierec.model.ease import ItemWeights, ease_weights
from movierec.model.forest import (
    Metrics,
    align_thresholds,
    evaluate,
    fit_forest,
    fit_out_of_bag,
    positive_probability,
    random_split,
    time_split,
)
from movierec.model.onnx import (
    INPUT_NAME,
    MAX_ABS_DIFF,
    OUTPUT_NAME,
    Agreement,
    OnnxScorer,
    check_agreement,
    to_onnx,
    top_n_sets,
)
from movierec.model.registry import (
    LATEST_MODEL_SQL,
    ModelRecord,
    insert_model,
    latest_model,
    load_scorer,
    model_bytes,
    model_record,
    new_model_id,
    registered_model,
    sha256_of,
    write_model_files,
)

__all__ = [
    "INPUT_NAME",
    "LATEST_MODEL_SQL",
    "MAX_ABS_DIFF",
    "OUTPUT_NAME",
    "Agreement",
    "ItemWeights",
    "Metrics",
    "ModelRecord",
    "OnnxScorer",
    "align_thresholds",
    "check_agreement",
    "ease_weights",
    "evaluate",
    "fit_forest",
    "fit_out_of_bag",
    "insert_model",
    "latest_model",
    "load_scorer",
    "model_bytes",
    "model_record",
    "new_model_id",
    "positive_probability",
    "random_split",
    "registered_model",
    "sha256_of",
    "time_split",
    "to_onnx",
    "top_n_sets",
    "write_model_files",
]
