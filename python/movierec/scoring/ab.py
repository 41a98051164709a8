"""Champion and challenger (docs/kpi.md): which registered models serve, and whom.

With a challenger share above 0, the champion is the model promoted last (`movierec
promote`), or, before any promotion, the model that ranked the latest run's lists; the
challenger is the newest registered model when it is not the champion. A user belongs to
the challenger's group when a stable hash of their id falls below the share: the same
users day after day, and no user in both groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt

from movierec.model import LATEST_MODEL_SQL, ModelRecord, OnnxScorer, load_scorer, model_record

# Knuth's multiplicative hash: user ids spread evenly over [0, 2**32)
_GOLDEN = 2_654_435_761
_SPAN = 2**32


def in_challenger_group(
    user_ids: Sequence[int] | npt.NDArray[np.int64], share: float
) -> npt.NDArray[np.bool_]:
    """Whether each user is served by the challenger: (user_id * 2654435761 mod 2**32) /
    2**32 < share. Depends on the id and the share alone."""
    ids = np.asarray(user_ids, dtype=np.uint64)
    buckets = (ids * np.uint64(_GOLDEN)) % np.uint64(_SPAN)
    return buckets.astype(np.float64) / _SPAN < share


@dataclass(frozen=True)
class Arm:
    """A model serving a group of users: its scorer, id and input columns."""

    scorer: OnnxScorer
    model_id: str
    features: tuple[str, ...]

    @classmethod
    def of(cls, record: ModelRecord) -> Arm:
        return cls(load_scorer(record), record.model_id, record.features)


@dataclass(frozen=True)
class Serving:
    """The models that rank tonight's lists: the champion, and the challenger (None: the
    champion serves everyone) with the share of users it serves."""

    champion: ModelRecord
    challenger: ModelRecord | None = None
    share: float = 0.0

    @property
    def identity(self) -> tuple[str, str | None, float]:
        """What a run records of its serving; lists carry over only under the same one."""
        if self.challenger is None:
            return (self.champion.model_id, None, 0.0)
        return (self.champion.model_id, self.challenger.model_id, self.share)


def serving_models(con: duckdb.DuckDBPyConnection, share: float) -> Serving | None:
    """Who serves with `share` of users to a challenger (see the module doc); None when no
    model is registered. With share 0, the newest model serves everyone."""
    newest = con.execute(LATEST_MODEL_SQL).fetchall()
    if not newest:
        return None
    latest = model_record(newest[0])
    if share == 0:
        return Serving(latest)
    promoted = con.execute(
        "select model_id from ml_outputs.model_promotions order by promoted_at desc limit 1"
    ).fetchall()
    served = con.execute(
        "select model_id from ml_outputs.recommendation_runs order by generated_at desc limit 1"
    ).fetchall()
    champion_id = (promoted or served or [(latest.model_id,)])[0][0]
    if champion_id == latest.model_id:
        return Serving(latest)
    select = LATEST_MODEL_SQL.replace(
        "from ml_outputs.model_registry", "from ml_outputs.model_registry where model_id = ?"
    )
    rows = con.execute(select, [champion_id]).fetchall()
    if not rows:  # a champion no longer registered: the newest serves alone
        return Serving(latest)
    return Serving(model_record(rows[0]), latest, share)
