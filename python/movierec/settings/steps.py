"""What each step of the batch takes: one frozen dataclass per step, each default once.

The config file's tables ([training], [forest]) fill `TrainingMode` and `ForestParams`;
the CLI's options take their defaults from these classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from movierec.errors import SettingsError

FeatureSet = Literal["all", "seed"]
Mode = Literal["explicit", "implicit"]
NegativeSampling = Literal["uniform", "popularity", "retrieval", "masked"]
Split = Literal["time", "random"]
CandidateSource = Literal["retrieval", "shortlist", "exhaustive"]
BadRows = Literal["fail", "quarantine"]
# The engine dbt builds the warehouse on: DuckDB (the default) or Spark (docs/spark.md).
Engine = Literal["duckdb", "spark"]
# The most viewings a model trains on (TrainingMode.max_rows), chosen by
# benchmarks/bench_training_rows.py: list quality against rows used, at 10x (docs/model.md).
MAX_TRAINING_ROWS = 400_000


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        options = " or ".join(repr(a) for a in allowed)
        raise SettingsError(f"{name} must be {options}, got {value!r}")


@dataclass(frozen=True)
class SimulationSettings:
    """Knobs of the simulated world; defaults reproduce the seed notebook's scale."""

    n_users: int = 10_000
    n_movies: int = 2_000
    n_interactions: int = 150_000
    as_of: date = date(2024, 12, 31)
    seed: int = 42

    def __post_init__(self) -> None:
        for name in ("n_users", "n_movies", "n_interactions"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class ClosedLoopSettings:
    """How simulated days answer the published lists (config [closed_loop]; docs/kpi.md,
    "The closed loop"). Each viewing of a day whose user has a published list goes through
    the list with probability `list_share`: the user scans it from rank 1, examines rank r
    with probability examine_first * examine_decay ** (r - 1) (position bias), and clicks
    an examined film with its p(like); the first click is the viewing. A scan without a
    click ends in an organic viewing that records the list it passed over.

    With the defaults, a list of films liked with p 0.45 (about a uniform pick's) is
    clicked in 11.4 % of list views, near the seed's 12 %; one of 0.6 in 15.0 %, its target.
    """

    list_share: float = 0.3
    examine_first: float = 0.05
    examine_decay: float = 0.85

    def __post_init__(self) -> None:
        for name in ("list_share", "examine_first"):
            if not 0 <= getattr(self, name) <= 1:
                raise SettingsError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0 < self.examine_decay <= 1:
            raise SettingsError(f"examine_decay must be in (0, 1], got {self.examine_decay}")


@dataclass(frozen=True)
class MovieLensSettings:
    """How MovieLens ratings land: which count as liked, which are held out."""

    liked_min_rating: int = 4
    # ratings held out per user for `evaluate --split random`; 0 lands them all
    holdout_per_user: int = 0
    # or this share of each user's ratings (0.25: the published 75/25 benchmark split)
    holdout_share: float = 0.0
    holdout_seed: int = 7

    def __post_init__(self) -> None:
        if not 1 <= self.liked_min_rating <= 5:
            raise SettingsError(f"liked_min_rating must be in 1..5, got {self.liked_min_rating}")
        if self.holdout_per_user < 0:
            raise SettingsError(f"holdout_per_user must be >= 0, got {self.holdout_per_user}")
        if not 0 <= self.holdout_share < 1:
            raise SettingsError(f"holdout_share must be in [0, 1), got {self.holdout_share}")
        if self.holdout_per_user and self.holdout_share:
            raise SettingsError("hold out either a number per user or a share, not both")


@dataclass(frozen=True)
class ForestParams:
    """RandomForestClassifier parameters (config [forest]); defaults: benchmarks/bench_model.py."""

    n_estimators: int = 30
    max_depth: int | None = 8
    min_samples_split: int = 20
    min_samples_leaf: int = 1
    max_features: Literal["sqrt", "log2"] | float = "sqrt"
    class_weight: Literal["balanced", "balanced_subsample"] | None = "balanced"
    max_samples: float | None = None  # each tree's bootstrap share of the rows (None: all)
    random_state: int = 42
    n_jobs: int = 2

    def __post_init__(self) -> None:
        if self.max_samples is not None and not 0 < self.max_samples <= 1:
            raise SettingsError(f"max_samples must be in (0, 1], got {self.max_samples}")

    @classmethod
    def seed_forest(cls) -> ForestParams:
        """The seed notebook's forest: 200 trees, depth 15."""
        return cls(n_estimators=200, max_depth=15)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainingMode:
    """How training rows are labelled (config [training]; see `movierec.training`).

    explicit: every viewing is a row, labelled liked or not. implicit: every viewing is a
    positive, set against `negatives_per_positive` sampled unviewed films; or, with
    `negative_sampling = "retrieval"`, retrieval's candidates at two moments per user,
    labelled by whether the user went on to view them (`negatives_per_positive` unused);
    or, with `"masked"`, retrieval's candidates in a world that hides `mask_share` of each
    user's films, labelled by whether they are hidden ones.

    Viewing-based rows (explicit, and implicit's uniform or popularity positives) are
    bounded: beyond `max_rows` viewings, training takes the newest `recent_share` of
    `max_rows` and a seeded uniform sample of the older ones (`bounded_sample`;
    docs/model.md). 0: every viewing. The candidate modes (retrieval, masked) take two
    moments or one per user, and grow with users, not with history.
    """

    mode: Mode = "explicit"
    negatives_per_positive: int = 4
    negative_sampling: NegativeSampling = "uniform"
    sampling_seed: int = 7
    mask_share: float = 0.25
    max_rows: int = MAX_TRAINING_ROWS
    recent_share: float = 0.5
    ease_lambda: float = 0.0  # > 0: fit EASE's item weights for retrieval (docs/scoring.md)
    ease_films: int = 5_000  # EASE fits on this many most viewed films
    retrieval_candidates: int = 300  # per user (dbt var; a film not proposed ranks K + 1)

    def __post_init__(self) -> None:
        _one_of("mode", self.mode, ("explicit", "implicit"))
        if self.ease_lambda < 0 or self.ease_films < 2 or self.retrieval_candidates < 1:
            raise SettingsError(
                f"ease_lambda must be >= 0, ease_films >= 2, retrieval_candidates >= 1: {self}"
            )
        _one_of(
            "negative_sampling",
            self.negative_sampling,
            ("uniform", "popularity", "retrieval", "masked"),
        )
        if not 0 < self.mask_share < 1:
            raise SettingsError(f"mask_share must lie strictly between 0 and 1: {self}")
        if self.negatives_per_positive < 1:
            raise SettingsError(f"negatives_per_positive must be at least 1: {self}")
        if self.max_rows < 0:
            raise SettingsError(f"max_rows must be >= 0 (0: every viewing), got {self.max_rows}")
        if not 0 <= self.recent_share <= 1:
            raise SettingsError(f"recent_share must be in [0, 1], got {self.recent_share}")

    @property
    def bounded(self) -> bool:
        """Whether its rows are viewings, which `max_rows` bounds (not candidates)."""
        return self.mode == "explicit" or self.negative_sampling in ("uniform", "popularity")

    def as_dict(self) -> dict[str, Any]:
        """What the registry records: what this mode uses. Explicit: the bound (negative
        sampling is moot); the candidate modes: no bound; the mask's share only when
        masked; EASE's settings only when it is fitted."""
        values = asdict(self)
        if not self.ease_lambda:
            del values["ease_lambda"], values["ease_films"]
        if self.mode == "explicit":
            keep = ("mode", "max_rows", "recent_share", "sampling_seed", "retrieval_candidates")
            extra = ("ease_lambda", "ease_films")
            return {name: values[name] for name in (*keep, *extra) if name in values}
        if not self.bounded:
            del values["max_rows"], values["recent_share"]
        if self.negative_sampling != "masked":
            del values["mask_share"]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingMode:
        """The mode a registry record holds; a viewing-based record from before the bound
        trained on every viewing."""
        mode = cls(**values)
        if mode.bounded and "max_rows" not in values:
            return cls(**{**values, "max_rows": 0})
        return mode


@dataclass(frozen=True)
class TrainSettings:
    """What to train and how to judge it."""

    forest: ForestParams = field(default_factory=ForestParams)
    feature_set: FeatureSet = "all"
    mode: TrainingMode = field(default_factory=TrainingMode)
    test_fraction: float = 0.2
    compare_random_split: bool = True
    # Users whose full unseen catalogue the agreement check scores with both models.
    agreement_users: int = 30
    agreement_top_n: int = 10

    def __post_init__(self) -> None:
        _one_of("feature_set", self.feature_set, ("all", "seed"))
        if not 0 < self.test_fraction < 1:
            raise SettingsError(f"test_fraction must be in (0, 1), got {self.test_fraction}")


@dataclass(frozen=True)
class RecommendSettings:
    """How many films to keep per user and how to pick the ones to score."""

    top_n: int = 10
    # Which films are scored for each user: retrieval's candidates (ml_retrieval_candidates,
    # `retrieval_candidates` per user), the probe users' shortlist, or every unseen film.
    candidates: CandidateSource = "retrieval"
    # shortlist: each probe user's best films per genre that join their segment's
    # shortlist; 0 scores every unseen film (exhaustive). Measured by bench_nightly.py.
    candidates_per_genre: int = 15
    probe_users_per_segment: int = 256
    # Bounds memory: users are scored in chunks of about this many (user, film) pairs;
    # None: as many as DuckDB's memory_limit allows (`settings.memory.pairs_per_chunk`).
    pairs_per_chunk: int | None = None
    batch_rows: int = 262_144
    seed: int = 42
    # Score each user just after their own latest viewing (before `as_of`) rather than all
    # at one moment: the random split's setting, whose held-out ratings lie inside each
    # user's own active period.
    at_latest_viewing: bool = False
    # An incremental nightly rescores only the users whose lists may have changed (new
    # viewings, new users) and those whose list is older than this; the others' lists are
    # carried unchanged (docs/incremental.md). A new model rescores everyone.
    max_list_age_days: float = 7.0
    # Champion and challenger (config [ab_test], docs/kpi.md): the share of users, by a
    # stable hash of their id, whose lists a challenger model ranks; 0: one model serves all.
    challenger_share: float = 0.0
    # Diversity re-ranking (config [ranking], docs/model.md): each list is re-ranked from
    # the `diversity_pool` x top_n best-scored films by maximal marginal relevance, the
    # weight on genre novelty against score; 0: the best-scored films in score order.
    diversity: float = 0.0
    diversity_pool: int = 3

    def __post_init__(self) -> None:
        if self.top_n < 1:
            raise SettingsError(f"top_n must be at least 1, got {self.top_n}")
        if not 0 <= self.challenger_share < 1:
            raise SettingsError(f"challenger_share must be in [0, 1), got {self.challenger_share}")
        if not 0 <= self.diversity < 1:
            raise SettingsError(f"diversity must be in [0, 1), got {self.diversity}")
        if self.diversity_pool < 1:
            raise SettingsError(f"diversity_pool must be at least 1, got {self.diversity_pool}")
        if self.candidates_per_genre < 0:
            raise SettingsError("candidates_per_genre must be >= 0 (0 = exhaustive)")
        _one_of("candidates", self.candidates, ("retrieval", "shortlist", "exhaustive"))

    @property
    def source(self) -> CandidateSource:
        """Where the scored films come from (a shortlist of 0 per genre is exhaustive)."""
        if self.candidates == "shortlist" and self.candidates_per_genre == 0:
            return "exhaustive"
        return self.candidates

    @property
    def strategy(self) -> str:
        """How the run picked its lists, as ml_outputs.recommendation_runs records it."""
        if self.source != "shortlist":
            picked = str(self.source)
        else:
            picked = (
                f"probe_top_k:{self.candidates_per_genre}"
                f"/probes_per_segment:{self.probe_users_per_segment}"
            )
        if self.diversity:
            picked += f"+mmr:{self.diversity:g}/pool:{self.diversity_pool}"
        return picked


@dataclass(frozen=True)
class EvaluateSettings:
    """Which split judges the recommenders, at which depths, on how many users."""

    holdout_days: int = 30
    ks: tuple[int, ...] = (5, 10, 20)
    # depths at which the retrieval candidates' recall is measured (at most the dbt var
    # `retrieval_candidates`)
    candidate_ks: tuple[int, ...] = (50, 100, 200, 300)
    # Above this many users, a seeded sample of them is evaluated.
    max_users: int = 20_000
    seed: int = 42
    split: Split = "time"

    def __post_init__(self) -> None:
        _one_of("split", self.split, ("time", "random"))


@dataclass(frozen=True)
class AuditSettings:
    """Bounds a built warehouse must meet before it replaces the published one."""

    # rows of each audited table / rows in the published warehouse, when both exist
    min_row_ratio: float = 0.5
    max_row_ratio: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.min_row_ratio <= 1 <= self.max_row_ratio:
            raise SettingsError(
                "row bounds need 0 < min_row_ratio <= 1 <= max_row_ratio, got "
                f"{self.min_row_ratio} and {self.max_row_ratio}"
            )


@dataclass(frozen=True)
class PublishSettings:
    """How a run checks its input and what it keeps."""

    audit: AuditSettings = field(default_factory=AuditSettings)
    keep_versions: int = 3
    on_bad_rows: BadRows = "fail"

    def __post_init__(self) -> None:
        _one_of("on_bad_rows", self.on_bad_rows, ("fail", "quarantine"))
        if self.keep_versions < 1:
            raise SettingsError(f"keep_versions must be at least 1, got {self.keep_versions}")


@dataclass(frozen=True)
class NightlySettings:
    """The nightly's policy: when to retrain, whether to evaluate a new model."""

    max_model_age_days: float = 7.0
    evaluate_new_model: bool = True
    retrain: bool = False
    # rebuild the landed-data models from every landed file even when the published
    # warehouse could be continued incrementally (docs/incremental.md)
    full_refresh: bool = False
