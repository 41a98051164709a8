"""Floor 3: training. The rows a model learns from (explicit or implicit mode) and the
pipeline that fits, exports, checks and registers a model. Never imports `scoring`."""

from movierec.training.pipeline import ONNX_IO, TrainResult, train_model
from movierec.training.sampling import (
    TrainingRows,
    bounded_sample,
    sample_negatives,
    training_rows,
    viewing_rows,
)

__all__ = [
    "ONNX_IO",
    "TrainResult",
    "TrainingRows",
    "bounded_sample",
    "sample_negatives",
    "train_model",
    "training_rows",
    "viewing_rows",
]
