"""The feature contract read from the dbt yml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from movierec.warehouse import parse_feature_contract

REPO = Path(__file__).resolve().parents[3]
ML_YML = REPO / "dbt_project" / "models" / "marts" / "ml" / "_ml__features.yml"


def test_contract_has_the_seed_features_and_ours() -> None:
    """52 features in contract order, the seed's 22 and the ten retrieval ones among them,
    one label."""
    contract = parse_feature_contract(ML_YML.read_text())
    assert contract.label == "is_liked"
    assert contract.keys == ("interaction_id", "user_id", "movie_id", "requested_at")
    assert len(contract.features) == 52
    assert "cooccurrence_score" not in contract.features  # dropped for its cost
    assert contract.features[-10:] == (
        "retrieval_rank", "knn_rank", "user_knn_rank", "popularity_rank", "recent_popularity_rank",
        "genre_rank", "knn_score", "user_knn_score", "ease_rank", "ease_score",
    )  # fmt: skip
    assert len(contract.seed_features) == 22
    assert contract.features[:3] == ("user_age_years", "subscription_months", "sessions_per_week")
    assert "is_preferred_genre" in contract.features
    assert "is_preferred_genre" not in contract.seed_features
    assert contract.select("seed") == contract.seed_features


def test_scoring_model_has_the_same_features() -> None:
    """ml_scoring_features declares exactly the training model's feature columns."""
    training = parse_feature_contract(ML_YML.read_text())
    text = ML_YML.read_text()
    with pytest.raises(ValueError, match="exactly one label"):
        parse_feature_contract(text, model="ml_scoring_features")
    scoring = next(m for m in yaml.safe_load(text)["models"] if m["name"] == "ml_scoring_features")
    names = [c["name"] for c in scoring["columns"] if c["config"]["meta"]["role"] == "feature"]
    assert tuple(names) == training.features
