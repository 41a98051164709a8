"""A small synthetic catalogue written in the GroupLens ml-100k format (never the real data).

Users rate films they are drawn to by a few tastes, so a nightly on it has signal to learn;
`write_movielens` also writes malformed variants for the error tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from movierec.land.movielens import GENRES

OCCUPATIONS = ("student", "engineer", "writer", "artist", "other")
START = datetime(1997, 9, 20)


def write_movielens(
    folder: Path,
    *,
    users: int = 60,
    films: int = 40,
    ratings: int = 1_500,
    seed: int = 3,
    late_users: int = 0,
) -> Path:
    """Write u.data, u.user, u.item, u.genre and u.occupation into `folder`. Ratings fall
    over 200 days; the last `late_users` users rate only in the last 20 (newcomers with no
    history before a 30-day time split's cut-off)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "u.user").open("w", encoding="latin-1") as out:
        for user in range(1, users + 1):
            age = int(rng.integers(7, 74))
            gender = "MF"[int(rng.integers(0, 2))]
            occupation = OCCUPATIONS[int(rng.integers(0, len(OCCUPATIONS)))]
            out.write(f"{user}|{age}|{gender}|{occupation}|{10000 + user:05d}\n")
    with (folder / "u.item").open("w", encoding="latin-1") as out:
        for film in range(1, films + 1):
            flags = ["0"] * len(GENRES)
            for genre in rng.choice(np.arange(1, len(GENRES)), size=1 + film % 3, replace=False):
                flags[int(genre)] = "1"
            if film == films:  # like ml-100k's item 267: no date, genre unknown
                flags = ["1"] + ["0"] * (len(GENRES) - 1)
            date = "" if film == films else f"01-Jan-{1960 + film % 38}"
            title = f"Film {film} ({1960 + film % 38})" if film != 2 else "Amélie (1996)"
            out.write(f"{film}|{title}|{date}||http://example.org/{film}|{'|'.join(flags)}\n")
    taste = rng.normal(size=(users, 3))
    appeal = rng.normal(size=(films, 3))
    weights = np.exp(taste @ appeal.T)
    seen: set[tuple[int, int]] = set()
    with (folder / "u.data").open("w", encoding="latin-1") as out:
        while len(seen) < min(ratings, users * films):
            user = int(rng.integers(0, users))
            film = int(rng.choice(films, p=weights[user] / weights[user].sum()))
            if (user, film) in seen:
                continue
            seen.add((user, film))
            rating = int(np.clip(np.round(3 + taste[user] @ appeal[film] / 2), 1, 5))
            offset = int(rng.integers(0, 200 * 86_400))
            if user >= users - late_users:
                offset = 180 * 86_400 + offset % (20 * 86_400)
            moment = START + timedelta(seconds=offset)
            stamp = int((moment - datetime(1970, 1, 1)).total_seconds())
            out.write(f"{user + 1}\t{film + 1}\t{rating}\t{stamp}\n")
    (folder / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)))
    (folder / "u.occupation").write_text("".join(f"{o}\n" for o in OCCUPATIONS))
    return folder
