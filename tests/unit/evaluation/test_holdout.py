"""The random per-user split: how many, which, and that only the seed decides."""

from __future__ import annotations

import pyarrow as pa
import pytest

from movierec.evaluation.holdout import hold_out_per_user, hold_out_share


def _interactions(per_user: dict[int, int]) -> pa.Table:
    users = [u for u, n in per_user.items() for _ in range(n)]
    return pa.table(
        {
            "interaction_id": pa.array(range(1, len(users) + 1), pa.int64()),
            "user_id": pa.array(users, pa.int64()),
            "movie_id": pa.array(range(100, 100 + len(users)), pa.int64()),
            "is_liked": pa.array([i % 2 == 0 for i in range(len(users))]),
        }
    )


def test_each_user_keeps_at_least_half() -> None:
    table = _interactions({1: 25, 2: 7, 3: 1})
    kept, held_out = hold_out_per_user(table, 5, seed=3)
    held = held_out["user_id"].to_pylist()
    assert (held.count(1), held.count(2), held.count(3)) == (5, 3, 0)
    assert kept.num_rows == 33 - 8
    assert kept.schema == table.schema
    assert held_out.schema == table.schema
    ids = set(kept["interaction_id"].to_pylist()) | set(held_out["interaction_id"].to_pylist())
    assert ids == set(range(1, 34))


def test_the_draw_depends_on_the_seed_not_the_row_order() -> None:
    table = _interactions({1: 30, 2: 30})
    _, first = hold_out_per_user(table, 10, seed=7)
    _, shuffled = hold_out_per_user(table.take(list(reversed(range(60)))), 10, seed=7)
    _, other_seed = hold_out_per_user(table, 10, seed=8)
    assert sorted(first["interaction_id"].to_pylist()) == sorted(
        shuffled["interaction_id"].to_pylist()
    )
    assert set(first["interaction_id"].to_pylist()) != set(other_seed["interaction_id"].to_pylist())


def test_holding_out_none_is_refused() -> None:
    with pytest.raises(ValueError, match="per_user must be at least 1"):
        hold_out_per_user(_interactions({1: 4}), 0, seed=1)


def test_a_share_holds_out_what_rounding_leaves_each_user() -> None:
    """share 0.25: 20 ratings keep round(15) and hold 5; 7 keep round(5.25) = 5, hold 2;
    2 keep round(1.5) = 2, hold 0; 1 keeps 1."""
    table = _interactions({1: 20, 2: 7, 3: 2, 4: 1})
    kept, held_out = hold_out_share(table, 0.25, seed=3)
    held = held_out["user_id"].to_pylist()
    assert [held.count(u) for u in (1, 2, 3, 4)] == [5, 2, 0, 0]
    assert kept.num_rows == 30 - 7
    assert kept.schema == held_out.schema == table.schema


def test_a_share_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match="share must be in"):
        hold_out_share(_interactions({1: 4}), 1.0, seed=1)
