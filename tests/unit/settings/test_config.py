"""movierec.toml's serving tables: [ab_test] and [ranking] become RecommendSettings."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.errors import SettingsError
from movierec.settings import Settings, load


def _load(tmp_path: Path, text: str) -> Settings:
    config = tmp_path / "movierec.toml"
    config.write_text(text)
    return load({"MOVIEREC_CONFIG": str(config), "MOVIEREC_DATA_DIR": str(tmp_path)})


def test_the_serving_tables_reach_the_recommend_settings(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "[ab_test]\nchallenger_share = 0.25\n[ranking]\ndiversity = 0.4\n")
    scoring = loaded.recommend_settings(top_n=5)
    assert (scoring.challenger_share, scoring.diversity, scoring.top_n) == (0.25, 0.4, 5)
    assert scoring.strategy == "retrieval+mmr:0.4/pool:3"
    plain = _load(tmp_path, "").recommend_settings()
    assert (plain.challenger_share, plain.diversity) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ab_test]\nchallenger_share = 1.5\n", r"\[ab_test\]: challenger_share must be in"),
        ("[ab_test]\nshare = 0.5\n", r"\[ab_test\]: unknown settings \['share'\]"),
        ("[ranking]\ndiversity = -0.1\n", r"\[ranking\]: diversity must be in"),
        ("[ranking]\ndiversity_pool = 0\n", r"\[ranking\]: diversity_pool must be at least 1"),
        ("[ranking]\ntop_n = 5\n", r"\[ranking\]: unknown settings \['top_n'\]"),
    ],
)
def test_a_bad_serving_setting_names_its_table(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        _load(tmp_path, text)


def test_retrieval_candidates_reach_the_model_and_every_dbt_command(tmp_path: Path) -> None:
    """One setting, [training] retrieval_candidates: the mode records it (the features'
    "not proposed" rank is one past it) and dbt gets it as its var; without it, the
    default 300 of the mode and of dbt_project.yml."""
    loaded = _load(tmp_path, "[training]\nretrieval_candidates = 120\n")
    assert loaded.training.retrieval_candidates == 120
    assert loaded.paths.dbt_vars == {"retrieval_candidates": 120}
    assert loaded.train_settings().mode.as_dict()["retrieval_candidates"] == 120
    assert _load(tmp_path, "").paths.dbt_vars == {"retrieval_candidates": 300}
    with pytest.raises(SettingsError, match=r"\[training\]: .*retrieval_candidates >= 1"):
        _load(tmp_path, "[training]\nretrieval_candidates = 0\n")


def test_the_shipped_configs_choose_retrieval_candidates_per_catalogue() -> None:
    """The simulated world's config keeps 200 candidates (a perfect re-ranker of them
    reaches the best lists there), MovieLens's 300 (its recall still grows)."""
    repo = Path(__file__).resolve().parents[3]
    shipped = load({"MOVIEREC_CONFIG": str(repo / "movierec.toml")})
    movielens = load({"MOVIEREC_CONFIG": str(repo / "benchmarks" / "movielens.toml")})
    assert shipped.training.retrieval_candidates == 200
    assert movielens.training.retrieval_candidates == 300
