"""Floor 4: judging recommendation lists on held-out viewings, against baselines."""

from movierec.evaluation.holdout import hold_out_per_user, hold_out_share
from movierec.evaluation.metrics import catalogue_metrics, gini, ranking_metrics
from movierec.evaluation.offline import (
    RECOMMENDERS,
    Evaluation,
    candidate_recall,
    evaluate_recommenders,
    evaluation_cutoff,
    knn_lists,
    summary_table,
)

__all__ = [
    "RECOMMENDERS",
    "Evaluation",
    "candidate_recall",
    "catalogue_metrics",
    "evaluate_recommenders",
    "evaluation_cutoff",
    "gini",
    "hold_out_per_user",
    "hold_out_share",
    "knn_lists",
    "ranking_metrics",
    "summary_table",
]
