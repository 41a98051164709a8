"""Floor 3: training. The rows a model learns from (explicit or implicit mode) and the
pipeline that fits, exports, checks and registers a model. Never imports `scoring`."""

from movierec.training.item_weights import fit_item_weights, weights_fitted_until
from movierec.training.pipeline import ONNX_IO, TrainResult, train_model
from movierec.training.sampling import (
    TrainingRows,
    bounded_sample,
    sample_negatives,
    training_rows,
    viewing_rows,
)
from movierec.training.spark import train_on_spark

__all__ = [
    "ONNX_IO",
    "TrainResult",
    "TrainingRows",
    "bounded_sample",
    "fit_item_weights",
    "sample_negatives",
    "train_model",
    "train_on_spark",
    "training_rows",
    "viewing_rows",
    "weights_fitted_until",
]
