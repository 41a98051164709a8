"""Floor 3: scoring. Rank every user's unseen films with the registered ONNX model and keep
the top N. Never imports `training`."""

from movierec.scoring.ab import Arm, Serving, in_challenger_group, serving_models
from movierec.scoring.ranking import TOP_N_SCHEMA, Ranking, exhaustive_top_n, rank_users
from movierec.scoring.recommend import (
    Rescore,
    RunSummary,
    exhaustive_match_share,
    new_recommendation_run_id,
    recommend,
    users_to_rescore,
)
from movierec.scoring.spark import rank_on_spark, recommend_on_spark

__all__ = [
    "TOP_N_SCHEMA",
    "Arm",
    "Ranking",
    "Rescore",
    "RunSummary",
    "Serving",
    "exhaustive_match_share",
    "exhaustive_top_n",
    "in_challenger_group",
    "new_recommendation_run_id",
    "rank_on_spark",
    "rank_users",
    "recommend",
    "recommend_on_spark",
    "serving_models",
    "users_to_rescore",
]
