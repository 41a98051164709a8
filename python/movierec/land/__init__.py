"""Floor 3: what lands. The raw contract, immutable landed batches, the simulated world,
the MovieLens reader, and erasure of users from what landed."""

from movierec.errors import Problem, RawContractError
from movierec.land.closed_loop import ListAnswers, PublishedLists, answer_lists
from movierec.land.contract import ColumnSpec, TableSpec, check_schema, check_values, parse_contract
from movierec.land.erasure import (
    ErasureRequest,
    complete_erasures,
    erasure_log,
    log_entries,
    pending_erasures,
    request_erasure,
)
from movierec.land.landed_world import LandedWorld, read_landed_world
from movierec.land.landing import (
    LandedCheck,
    check_landed,
    land_batch,
    landed_files,
    new_batch_id,
    validate_landed,
    write_atomically,
)
from movierec.land.manifest import (
    read_manifest,
    record_landed,
    record_unlisted_files,
    verify_landed,
)
from movierec.land.movielens import read_movielens
from movierec.land.simulate import (
    GENRES,
    SEGMENT_GENRES,
    SEGMENTS,
    Day,
    Population,
    World,
    interaction_window,
    like_probability,
    pair_like_probability,
    segment_of_age,
    simulate_day,
    simulate_world,
)

__all__ = [
    "GENRES",
    "SEGMENTS",
    "SEGMENT_GENRES",
    "ColumnSpec",
    "Day",
    "ErasureRequest",
    "LandedCheck",
    "LandedWorld",
    "ListAnswers",
    "Population",
    "Problem",
    "PublishedLists",
    "RawContractError",
    "TableSpec",
    "World",
    "answer_lists",
    "check_landed",
    "check_schema",
    "check_values",
    "complete_erasures",
    "erasure_log",
    "interaction_window",
    "land_batch",
    "landed_files",
    "like_probability",
    "log_entries",
    "new_batch_id",
    "pair_like_probability",
    "parse_contract",
    "pending_erasures",
    "read_landed_world",
    "read_manifest",
    "read_movielens",
    "record_landed",
    "record_unlisted_files",
    "request_erasure",
    "segment_of_age",
    "simulate_day",
    "simulate_world",
    "validate_landed",
    "verify_landed",
    "write_atomically",
]
