"""Reading ml-100k folders: the tables the contract expects, and clear errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from movierec.errors import RawContractError
from movierec.land import TableSpec, land_batch, read_movielens, validate_landed
from movierec.settings import MovieLensSettings
from tests.movielens_fixture import write_movielens

NOW = datetime(2026, 1, 1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_movielens(tmp_path / "ml-100k")


def test_tables_fit_the_contract_and_land(
    folder: Path, tmp_path: Path, contract: dict[str, TableSpec]
) -> None:
    tables = read_movielens(folder, MovieLensSettings())
    assert {k: t.num_rows for k, t in tables.items()} == {
        "users": 60,
        "movies": 40,
        "interactions": 1_500,
    }
    land_batch(tables, contract, tmp_path / "raw", "b1", NOW)
    assert validate_landed(tmp_path / "raw", contract, NOW) == []


def test_films_users_and_ratings_are_read_as_written(folder: Path) -> None:
    tables = read_movielens(folder, MovieLensSettings(liked_min_rating=4))
    movies = {r["movie_id"]: r for r in tables["movies"].to_pylist()}
    assert movies[2]["title"] == "Amélie (1996)"  # latin-1
    assert movies[40]["genres"] == ["unknown"]
    assert movies[40]["release_year"] is None  # empty release date
    assert movies[1]["release_year"] == 1961
    first_line = (folder / "u.item").read_text(encoding="latin-1").splitlines()[0].split("|")
    flagged = [g for g, f in zip(GENRES_IN_ORDER, first_line[5:], strict=True) if f == "1"]
    assert movies[1]["genres"] == flagged
    assert len(flagged) == 2  # film 1 has 1 + 1 % 3 genres

    user = tables["users"].to_pylist()[0]
    line = (folder / "u.user").read_text().splitlines()[0].split("|")
    assert (user["user_id"], user["age"], user["gender"], user["occupation"]) == (
        1,
        float(line[1]),
        line[2],
        line[3],
    )
    rating = tables["interactions"].to_pylist()[0]
    user_id, movie_id, stars, stamp = (folder / "u.data").read_text().splitlines()[0].split("\t")
    assert rating["interaction_id"] == 1
    assert (rating["user_id"], rating["movie_id"], rating["rating"]) == (
        int(user_id),
        int(movie_id),
        int(stars),
    )
    assert rating["interacted_at"] == datetime.utcfromtimestamp(int(stamp))
    assert rating["is_liked"] == (int(stars) >= 4)


def test_liked_threshold_is_configurable(folder: Path) -> None:
    strict = read_movielens(folder, MovieLensSettings(liked_min_rating=5))["interactions"]
    lenient = read_movielens(folder, MovieLensSettings(liked_min_rating=3))["interactions"]
    ratings = strict["rating"].to_pylist()
    assert strict["is_liked"].to_pylist() == [r >= 5 for r in ratings]
    assert lenient["is_liked"].to_pylist() == [r >= 3 for r in ratings]
    with pytest.raises(ValueError, match=r"1\.\.5"):
        MovieLensSettings(liked_min_rating=6)


def test_a_missing_file_is_named(folder: Path) -> None:
    (folder / "u.item").unlink()
    with pytest.raises(RawContractError, match=r"u\.item: missing file"):
        read_movielens(folder, MovieLensSettings())


def _corrupt(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="latin-1").splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")


def test_a_wrong_column_count_names_file_and_line(folder: Path) -> None:
    _corrupt(folder / "u.user", 3, "3|23|M|writer")
    with pytest.raises(RawContractError) as error:
        read_movielens(folder, MovieLensSettings())
    assert f"{folder / 'u.user'}:3: wrong column count: expected 5 '|'-separated fields, got 4" in (
        str(error.value)
    )


def test_a_bad_date_names_file_line_and_column(folder: Path) -> None:
    line = (folder / "u.item").read_text(encoding="latin-1").splitlines()[4].split("|")
    line[2] = "1995-01-01"
    _corrupt(folder / "u.item", 5, "|".join(line))
    with pytest.raises(RawContractError) as error:
        read_movielens(folder, MovieLensSettings())
    assert f"{folder / 'u.item'}:5: column 'release_date': bad value: '1995-01-01'" in str(
        error.value
    )


def test_many_bad_lines_are_listed_then_counted(folder: Path) -> None:
    lines = (folder / "u.data").read_text().splitlines()
    bad = [line.replace("\t", " ") for line in lines[:20]] + lines[20:]
    (folder / "u.data").write_text("\n".join(bad) + "\n")
    with pytest.raises(RawContractError) as error:
        read_movielens(folder, MovieLensSettings())
    message = str(error.value)
    assert message.count("wrong column count") == 6  # five listed, then one summary
    assert f"{folder / 'u.data'}: wrong column count (all lines) (20 rows)" in message


def test_genres_out_of_order_are_refused(folder: Path) -> None:
    (folder / "u.genre").write_text("Action|0\nunknown|1\n")
    with pytest.raises(RawContractError, match=r"u\.genre: genres differ"):
        read_movielens(folder, MovieLensSettings())


# u.genre of ml-100k, written out here rather than imported from the reader
GENRES_IN_ORDER = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
