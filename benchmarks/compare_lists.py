"""Compare the latest published top-N lists of two warehouses, user for user.

For a change that must not change behaviour: run `movierec nightly` on the same landed
world (e.g. seed 42) with the tree before and after, then

    .venv/bin/python -m benchmarks.compare_lists BEFORE.duckdb AFTER.duckdb

prints the rows of each, the users served, the (user, rank, film, score) rows found in one
and not the other, and the same without the score (a forest's summed probabilities can
differ in the last bit between runs); exits 1 when they differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

LISTS = (
    "select user_id, recommendation_rank, movie_id, score from {db}.ml.ml_recommendations_latest"
)


def compare(before: Path, after: Path) -> dict[str, int]:
    """Row counts of both lists and of the rows only one of them holds."""
    with duckdb.connect() as con:
        for name, path in (("before", before), ("after", after)):
            con.execute(f"attach '{path}' as {name} (read_only)")
        old, new = LISTS.format(db="before"), LISTS.format(db="after")
        films = "select user_id, recommendation_rank, movie_id from ({})"
        old_films, new_films = films.format(old), films.format(new)
        (row,) = con.execute(
            f"""
            select
                (select count(*) from ({old})),
                (select count(*) from ({new})),
                (select count(distinct user_id) from ({new})),
                (select count(*) from ({old} except all {new})),
                (select count(*) from ({new} except all {old})),
                (select count(*) from ({old_films} except all {new_films})),
                (select count(*) from ({new_films} except all {old_films}))
            """
        ).fetchall()
    keys = (
        "rows_before", "rows_after", "users_after", "only_before", "only_after",
        "films_only_before", "films_only_after",
    )  # fmt: skip
    return dict(zip(keys, (int(v) for v in row), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    figures = compare(args.before, args.after)
    print(" ".join(f"{k}={v:,}" for k, v in figures.items()))
    sys.exit(1 if figures["only_before"] or figures["only_after"] else 0)


if __name__ == "__main__":
    main()
