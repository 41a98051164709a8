{#-
    The one definition of the model's features.

    `feature_ctes(requests)` emits CTEs (ending with `features as (...)` and a trailing
    comma) that turn a CTE of requests into feature rows. A request is (user_id, movie_id,
    requested_at, any passthrough columns): a past viewing at its own time for training,
    an unseen film at the scoring moment for recommendations. Both ml_ models call this
    macro, so training and scoring cannot compute a feature differently, and every history
    feature only sees viewings strictly before requested_at.

    Optional raw attributes that are NULL take the defaults documented on
    ml_training_features (0, or film age 0 for an unknown release year).

    The film-level signals (each requested film's views at the moment and at the recent
    window's start) depend on films and moments only. `film_signals`, when given, is a
    relation holding them for every requested (film, moment), computed by
    `film_signal_ctes` beforehand (ml_scoring_film_signals, kept once per run and moment by
    the scorer); otherwise they are computed here from the requests, with the same macro.
-#}
{% macro feature_ctes(requests, film_signals=none) -%}
feature_users as (
    select * from {{ ref('dim_users') }}
),

feature_movies as (
    select * from {{ ref('dim_movies') }}
),

feature_movie_genres as (
    select * from {{ ref('int_movie_genres_unnested') }}
),

feature_genre_flags as (
    select * from {{ ref('int_movies_genre_encoded') }}
),

feature_preferred_genres as (
    select * from {{ ref('int_user_preferred_genres_unnested') }}
),

feature_user_histories as (
    select * from {{ ref('int_user_histories_accumulated') }}
),

feature_user_genre_histories as (
    select * from {{ ref('int_user_genre_histories_accumulated') }}
),

-- retrieval's proposals of the current run, with each retriever's rank and score
feature_retrieved as (
    select * from {{ ref('stg_scoring__retrieved_candidates') }}
),

request_keys as (
    select distinct
        user_id,
        movie_id,
        requested_at
    from {{ requests }}
),

request_users as (
    select distinct
        user_id,
        requested_at
    from {{ requests }}
),

-- a film may have several genres: take the strongest signal over them
genre_signals as (
    select
        request_keys.user_id,
        request_keys.movie_id,
        request_keys.requested_at,
        max({{ as_flag('feature_preferred_genres.user_id is not null') }})
            as is_preferred_genre,
        max(coalesce(feature_user_genre_histories.prior_interactions, 0))
            as user_genre_prior_interactions,
        max(coalesce(feature_user_genre_histories.prior_likes, 0))
            as user_genre_prior_likes
    from request_keys
    inner join feature_movie_genres
        on request_keys.movie_id = feature_movie_genres.movie_id
    left join feature_preferred_genres
        on
            request_keys.user_id = feature_preferred_genres.user_id
            and feature_movie_genres.genre = feature_preferred_genres.genre
    left join feature_user_genre_histories
        on
            request_keys.user_id = feature_user_genre_histories.user_id
            and feature_movie_genres.genre = feature_user_genre_histories.genre
            and {{ interval_holds('feature_user_genre_histories', 'request_keys.requested_at') }}
    group by
        request_keys.user_id,
        request_keys.movie_id,
        request_keys.requested_at
),

{% if film_signals is none -%}
request_films as (
    select distinct
        movie_id,
        requested_at
    from {{ requests }}
),

{{ film_signal_ctes('request_films') }}
{%- else -%}
film_signals as (
    select * from {{ film_signals }}
),
{%- endif %}

user_signals as (
    select
        request_users.user_id,
        request_users.requested_at,
        coalesce(feature_user_histories.prior_interactions, 0) as user_prior_interactions,
        coalesce(feature_user_histories.prior_likes, 0) as user_prior_likes
    from request_users
    left join feature_user_histories
        on
            request_users.user_id = feature_user_histories.user_id
            and {{ interval_holds('feature_user_histories', 'request_users.requested_at') }}
),

features as (
    select
        {{ requests }}.*,

        -- the seed's features: user attributes
        feature_users.age_years as user_age_years,
        coalesce(feature_users.subscription_months, 0.0) as subscription_months,
        cast(coalesce(feature_users.sessions_per_week, 0) as {{ type_double() }})
            as sessions_per_week,

        -- the seed's features: film attributes
        cast(
            coalesce(feature_movies.release_year, extract(year from {{ requests }}.requested_at))
            as {{ type_double() }}
        ) as release_year,
        coalesce(feature_movies.duration_minutes, 0.0) as duration_minutes,
        coalesce(feature_movies.mean_rating, 0.0) as mean_rating,
        cast(coalesce(feature_movies.vote_count, 0) as {{ type_double() }}) as vote_count,

        -- the seed's features: one-hot segment and genre
        {% for segment in var('segments') -%}
        {{ as_flag("feature_users.segment = '" ~ segment ~ "'") }} as is_segment_{{ segment }},
        {% endfor -%}
        {% for genre in var('genres') -%}
        coalesce(feature_genre_flags.is_genre_{{ genre_slug(genre) }}, 0.0)
            as is_genre_{{ genre_slug(genre) }},
        {% endfor -%}

        -- the seed's derived features, film age taken at the request's year
        cast(
            extract(year from {{ requests }}.requested_at)
            - coalesce(feature_movies.release_year, extract(year from {{ requests }}.requested_at))
            as {{ type_double() }}
        ) as film_age_years,
        coalesce(feature_movies.duration_minutes, 0.0) / feature_users.age_years
            as duration_per_user_age_year,
        coalesce(feature_movies.popularity_score, 0.0) as popularity_score,

        -- features the seed lacked: stated preferences and point-in-time history
        genre_signals.is_preferred_genre,
        {{ as_flag('feature_users.has_stated_preferences') }} as has_stated_preferences,
        cast(user_signals.user_prior_interactions as {{ type_double() }})
            as user_prior_interactions,
        {{ smoothed_rate('user_signals.user_prior_likes', 'user_signals.user_prior_interactions') }}
            as user_prior_like_rate,
        cast(genre_signals.user_genre_prior_interactions as {{ type_double() }})
            as user_genre_prior_interactions,
        cast(genre_signals.user_genre_prior_likes as {{ type_double() }})
            as user_genre_prior_likes,
        {{ smoothed_rate(
            'genre_signals.user_genre_prior_likes',
            'genre_signals.user_genre_prior_interactions'
        ) }} as user_genre_prior_like_rate,

        -- collaborative features: the film's audience now and lately, the user's genre share
        cast(film_signals.film_prior_views as {{ type_double() }}) as film_prior_views,
        cast(film_signals.film_recent_views as {{ type_double() }}) as film_recent_views,
        cast(genre_signals.user_genre_prior_interactions as {{ type_double() }})
        / greatest(user_signals.user_prior_interactions, 1) as user_genre_share,

        -- retrieval's view of the pair at the same moment: each retriever's rank (one
        -- past the cap when it did not propose the film) and the knn and EASE scores (0)
        {% for rank in ['candidate_rank', 'knn_rank', 'user_knn_rank', 'popularity_rank',
                        'recent_popularity_rank', 'genre_rank', 'ease_rank'] -%}
        cast(
            coalesce(feature_retrieved.{{ rank }}, {{ var('retrieval_candidates') + 1 }})
            as {{ type_double() }}
        ) as {{ 'retrieval_rank' if rank == 'candidate_rank' else rank }},
        {% endfor -%}
        cast(coalesce(feature_retrieved.knn_score, 0) as {{ type_double() }}) as knn_score,
        cast(coalesce(feature_retrieved.user_knn_score, 0) as {{ type_double() }})
            as user_knn_score,
        cast(coalesce(feature_retrieved.ease_score, 0) as {{ type_double() }}) as ease_score
    from {{ requests }}
    inner join feature_users
        on {{ requests }}.user_id = feature_users.user_id
    inner join feature_movies
        on {{ requests }}.movie_id = feature_movies.movie_id
    left join feature_genre_flags
        on {{ requests }}.movie_id = feature_genre_flags.movie_id
    inner join genre_signals
        on
            {{ requests }}.user_id = genre_signals.user_id
            and {{ requests }}.movie_id = genre_signals.movie_id
            and {{ requests }}.requested_at = genre_signals.requested_at
    inner join user_signals
        on
            {{ requests }}.user_id = user_signals.user_id
            and {{ requests }}.requested_at = user_signals.requested_at
    inner join film_signals
        on
            {{ requests }}.movie_id = film_signals.movie_id
            and {{ requests }}.requested_at = film_signals.requested_at
    left join feature_retrieved
        on
            {{ requests }}.user_id = feature_retrieved.user_id
            and {{ requests }}.movie_id = feature_retrieved.movie_id
            and {{ requests }}.requested_at = feature_retrieved.requested_at
),
{%- endmacro %}


{#-
    The film-level signals of `request_films` (a CTE of distinct (movie_id, requested_at)):
    CTEs ending with `film_signals as (...)` and a trailing comma, holding the film's views
    strictly before the moment (`film_prior_views`) and within the recent window before it
    (`film_recent_views`). Used by `feature_ctes`, and by ml_scoring_film_signals to compute
    them once per scoring run.
-#}
{% macro film_signal_ctes(request_films) -%}
-- read twice (the film's viewings now and at the window's start): inlined, not
-- materialised whole once per query (macros/portable.sql)
feature_movie_histories as {{ not_materialized() }} (
    select * from {{ ref('int_movie_histories_accumulated') }}
),

-- the film's viewings before the request, and at the start of the recent window before it
-- (each joined on its own, so each join builds on the requested films, not on the history)
film_views_now as (
    select
        {{ request_films }}.movie_id,
        {{ request_films }}.requested_at,
        coalesce(now_history.prior_interactions, 0) as prior_views
    from {{ request_films }}
    left join feature_movie_histories as now_history
        on
            {{ request_films }}.movie_id = now_history.movie_id
            and {{ interval_holds('now_history', request_films ~ '.requested_at') }}
),

film_views_before_window as (
    select
        {{ request_films }}.movie_id,
        {{ request_films }}.requested_at,
        coalesce(window_history.prior_interactions, 0) as prior_views
    from {{ request_films }}
    left join feature_movie_histories as window_history
        on
            {{ request_films }}.movie_id = window_history.movie_id
            and {{ interval_holds(
                'window_history',
                dbt.dateadd(
                    'day', -var('recent_popularity_days'), request_films ~ '.requested_at'
                )
            ) }}
),

film_signals as (
    select
        film_views_now.movie_id,
        film_views_now.requested_at,
        film_views_now.prior_views as film_prior_views,
        film_views_now.prior_views - film_views_before_window.prior_views as film_recent_views
    from film_views_now
    inner join film_views_before_window
        on
            film_views_now.movie_id = film_views_before_window.movie_id
            and film_views_now.requested_at = film_views_before_window.requested_at
),
{%- endmacro %}


{#-
    The moment of each scoring request of `scoring_requests` (a CTE of user_id, movie_id,
    requested_at): CTEs ending with `scoring_moments as (...)` and a trailing comma. A
    request's own moment (an evaluation cut-off, or a user's latest viewing) when it
    carries one, else the default (`scoring_as_of`, below).
-#}
{% macro scoring_moment_ctes(scoring_requests) -%}
default_moment as (
    select {{ scoring_as_of('max(interacted_at)') }} as requested_at
    from {{ ref('fct_interactions') }}
),

scoring_moments as (
    select
        {{ scoring_requests }}.user_id,
        {{ scoring_requests }}.movie_id,
        coalesce({{ scoring_requests }}.requested_at, default_moment.requested_at)
            as requested_at
    from {{ scoring_requests }}
    cross join default_moment
),
{%- endmacro %}


{#-
    The scoring moment: the `scoring_as_of` var when set, else one second after
    `latest_viewing` (an aggregate expression) so every known viewing counts as history.
-#}
{% macro scoring_as_of(latest_viewing) -%}
    {%- if var('scoring_as_of') -%}
        cast('{{ var("scoring_as_of") }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        {{ dbt.dateadd('second', 1, latest_viewing) }}
    {%- endif -%}
{%- endmacro %}
