"""The dbt encoding vocabulary and the simulator speak the same genres and segments."""

from __future__ import annotations

from pathlib import Path

import yaml

from movierec.land import GENRES, SEGMENTS
from movierec.land.movielens import GENRES as MOVIELENS_GENRES
from movierec.land.simulate import SEGMENT_AGE_BOUNDS

REPO = Path(__file__).resolve().parents[2]


def test_dbt_vars_match_the_simulator() -> None:
    """The simulator's genres come first in dbt_project.yml (then MovieLens'), segments and
    age thresholds equal the simulator's."""
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())
    dbt_vars = project["vars"]
    assert tuple(dbt_vars["genres"][: len(GENRES)]) == GENRES
    assert set(MOVIELENS_GENRES) <= set(dbt_vars["genres"])  # one contract, both worlds
    assert tuple(dbt_vars["segments"]) == SEGMENTS
    assert (
        dbt_vars["segment_young_below_age"],
        dbt_vars["segment_adult_below_age"],
    ) == SEGMENT_AGE_BOUNDS
