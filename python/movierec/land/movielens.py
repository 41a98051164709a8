"""Read a GroupLens MovieLens-100k folder into tables of the raw contract.

The format (latin-1 text, one folder): `u.data` (tab-separated user id, item id, rating
1-5, unix seconds), `u.user` (`|`-separated id, age, gender, occupation, zip code),
`u.item` (`|`-separated id, title, release date `01-Jan-1995`, video release date, IMDb
URL, then 19 genre flags in `u.genre` order). The zip code and the URLs are not kept.
Every malformed line is reported with its file, line number, column and problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from movierec.errors import Problem, RawContractError
from movierec.settings import MovieLensSettings

# u.genre, in flag order.
GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
REQUIRED_FILES = ("u.data", "u.user", "u.item")
ENCODING = "latin-1"
# Problems reported per file before the rest are only counted.
MAX_LISTED = 5


@dataclass(frozen=True)
class _Field:
    name: str
    parse: Callable[[str], object]


def _int(text: str) -> int:
    return int(text)


def _text(text: str) -> str:
    if not text:
        raise ValueError("empty")
    return text


def _flag(text: str) -> int:
    if text not in ("0", "1"):
        raise ValueError(f"not a 0/1 flag: {text!r}")
    return int(text)


def _release_year(text: str) -> int | None:
    """'01-Jan-1995' -> 1995; empty -> None (ml-100k leaves some dates out)."""
    if not text:
        return None
    return datetime.strptime(text, "%d-%b-%Y").year


def _unix_seconds(text: str) -> datetime:
    return datetime.fromtimestamp(int(text), UTC).replace(tzinfo=None)


USER_FIELDS = (
    _Field("user_id", _int),
    _Field("age", _int),
    _Field("gender", _text),
    _Field("occupation", _text),
    _Field("zip_code", str),
)
RATING_FIELDS = (
    _Field("user_id", _int),
    _Field("movie_id", _int),
    _Field("rating", _int),
    _Field("timestamp", _unix_seconds),
)
ITEM_FIELDS = (
    _Field("movie_id", _int),
    _Field("title", _text),
    _Field("release_date", _release_year),
    _Field("video_release_date", str),
    _Field("imdb_url", str),
    *(_Field(f"genre:{g}", _flag) for g in GENRES),
)


class _Problems:
    """Problems of one file: the first few listed by line, the rest counted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.listed: list[Problem] = []
        self.by_kind: dict[tuple[str | None, str], int] = {}

    def add(self, line: int, column: str | None, problem: str) -> None:
        kind = (column, problem.split(":")[0])
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(Problem(f"{self.path}:{line}", column, problem))

    def all(self) -> list[Problem]:
        total = sum(self.by_kind.values())
        if total <= len(self.listed):
            return self.listed
        summary = [
            Problem(str(self.path), column, f"{kind} (all lines)", count)
            for (column, kind), count in self.by_kind.items()
        ]
        return [*self.listed, *summary]


def _read(
    path: Path, separator: str, fields: Sequence[_Field]
) -> tuple[list[list[object]], list[Problem]]:
    """Parse every line of a delimited file; rows of the well-formed lines, and problems."""
    problems = _Problems(path)
    rows: list[list[object]] = []
    try:
        text = path.read_bytes().decode(ENCODING)
    except OSError as exc:
        return [], [Problem(str(path), None, f"cannot be read: {exc}")]
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(separator)
        if len(parts) != len(fields):
            problems.add(
                number,
                None,
                f"wrong column count: expected {len(fields)} {separator!r}-separated "
                f"fields, got {len(parts)}",
            )
            continue
        row: list[object] = []
        for field, part in zip(fields, parts, strict=True):
            try:
                row.append(field.parse(part.strip()))
            except ValueError as exc:
                problems.add(number, field.name, f"bad value: {part!r} ({exc})")
                break
        else:
            rows.append(row)
    if not rows and not problems.by_kind:
        problems.add(0, None, "empty file")
    return rows, problems.all()


def _check_genres(folder: Path) -> list[Problem]:
    """u.genre, where present, must list the 19 genres in the flag order this reader uses."""
    path = folder / "u.genre"
    if not path.exists():
        return []
    listed = [
        line.split("|")[0]
        for line in path.read_bytes().decode(ENCODING).splitlines()
        if line.strip()
    ]
    if tuple(listed) != GENRES:
        return [Problem(str(path), None, f"genres differ from ml-100k's: {listed}")]
    return []


def read_movielens(folder: Path, settings: MovieLensSettings) -> dict[str, pa.Table]:
    """The users, movies and interactions of an ml-100k folder, shaped for the contract.

    Raises RawContractError listing every missing file and malformed line.
    """
    if not folder.is_dir():
        raise RawContractError([Problem(str(folder), None, "not a folder")])
    missing = [
        Problem(str(folder / name), None, "missing file (expected in an ml-100k folder)")
        for name in REQUIRED_FILES
        if not (folder / name).is_file()
    ]
    if missing:
        raise RawContractError(missing)
    users, user_problems = _read(folder / "u.user", "|", USER_FIELDS)
    items, item_problems = _read(folder / "u.item", "|", ITEM_FIELDS)
    ratings, rating_problems = _read(folder / "u.data", "\t", RATING_FIELDS)
    problems = [*_check_genres(folder), *user_problems, *item_problems, *rating_problems]
    if problems:
        raise RawContractError(problems)

    movies = pa.table(
        {
            "movie_id": pa.array([r[0] for r in items], pa.int64()),
            "title": pa.array([r[1] for r in items], pa.string()),
            "genres": pa.array(
                [
                    [g for g, flag in zip(GENRES, r[5:], strict=True) if flag] or ["unknown"]
                    for r in items
                ],
                pa.list_(pa.string()),
            ),
            "release_year": pa.array([r[2] for r in items], pa.int32()),
        }
    )
    user_table = pa.table(
        {
            "user_id": pa.array([r[0] for r in users], pa.int64()),
            "age": pa.array([float(r[1]) for r in users], pa.float64()),  # type: ignore[arg-type]
            "gender": pa.array([r[2] for r in users], pa.string()),
            "occupation": pa.array([r[3] for r in users], pa.string()),
        }
    )
    interactions = pa.table(
        {
            # a rating's line number in u.data: stable across re-ingests of the same file
            "interaction_id": pa.array(range(1, len(ratings) + 1), pa.int64()),
            "user_id": pa.array([r[0] for r in ratings], pa.int64()),
            "movie_id": pa.array([r[1] for r in ratings], pa.int64()),
            "interacted_at": pa.array([r[3] for r in ratings], pa.timestamp("us")),
            "is_liked": pa.array(
                [int(r[2]) >= settings.liked_min_rating for r in ratings],  # type: ignore[call-overload]
                pa.bool_(),
            ),
            "rating": pa.array([r[2] for r in ratings], pa.int32()),
        }
    )
    return {"users": user_table, "movies": movies, "interactions": interactions}
