"""A random per-user split of the interactions, as in MovieLens's published ua/ub splits.

`hold_out_per_user` draws, for every user, a seeded random `per_user` of their interactions
(at most half of them, so that every user keeps a history) to be judged on, and leaves the
rest to land. Unlike the time split, the held-out viewings are spread over the whole period.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from movierec.errors import SettingsError


def hold_out_per_user(
    interactions: pa.Table, per_user: int, seed: int
) -> tuple[pa.Table, pa.Table]:
    """(kept, held out): `min(per_user, n // 2)` random interactions of each user held out.

    The draw depends only on the rows' content and `seed`, not on their order.
    """
    if per_user < 1:
        raise SettingsError(f"per_user must be at least 1, got {per_user}")
    return _hold_out(
        interactions, pl.min_horizontal(pl.lit(per_user), pl.len().over("user_id") // 2), seed
    )


def hold_out_share(interactions: pa.Table, share: float, seed: int) -> tuple[pa.Table, pa.Table]:
    """(kept, held out): each user keeps round((1 - share) x n) random interactions and the
    rest are held out, as the published ml-100k benchmark's per-user stratified 75/25
    split (share 0.25) does.

    The draw depends only on the rows' content and `seed`, not on their order.
    """
    if not 0 < share < 1:
        raise SettingsError(f"share must be in (0, 1), got {share}")
    n = pl.len().over("user_id")
    return _hold_out(interactions, n - (n * (1 - share)).round(0).cast(pl.UInt32), seed)


def _hold_out(interactions: pa.Table, quota: pl.Expr, seed: int) -> tuple[pa.Table, pa.Table]:
    """Hold out each user's first `quota` interactions in a seeded random order."""
    ordered = pl.from_arrow(interactions)
    assert isinstance(ordered, pl.DataFrame)
    ordered = ordered.sort("interaction_id")
    draw = np.random.default_rng(seed).random(ordered.height)
    ranked = ordered.with_columns(_draw=pl.Series(draw)).with_columns(
        _place=pl.col("_draw").rank("ordinal").over("user_id"), _quota=quota
    )
    held = pl.col("_place") <= pl.col("_quota")
    helpers = ["_draw", "_place", "_quota"]
    kept = ranked.filter(~held).drop(helpers).to_arrow().cast(interactions.schema)
    held_out = ranked.filter(held).drop(helpers).to_arrow().cast(interactions.schema)
    return kept, held_out
