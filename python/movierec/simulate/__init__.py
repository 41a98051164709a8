"""The simulated streaming world of the seed notebook, generated without Python loops."""

from movierec.simulate.world import (
    GENRES,
    SEGMENT_GENRES,
    SEGMENTS,
    World,
    like_probability,
    segment_of_age,
    simulate_world,
)

__all__ = [
    "GENRES",
    "SEGMENTS",
    "SEGMENT_GENRES",
    "World",
    "like_probability",
    "segment_of_age",
    "simulate_world",
]
