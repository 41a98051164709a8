-- The film-level half of the scoring features: the signals of each film the current
-- scoring requests ask for, at the request's moment, for the (film, moment) pairs not kept
-- yet. They depend on films and moments only, so the scorer keeps them (scoring.film_signals)
-- and every later chunk of the run reads them there. Computed by the same macro as the
-- training rows' (macros/features.sql).

with

scoring_requests as (
    select * from {{ ref('stg_scoring__scoring_requests') }}
),

kept_film_signals as (
    select * from {{ ref('stg_scoring__film_signals') }}
),

{{ scoring_moment_ctes('scoring_requests') }}

-- the requested (film, moment) pairs whose signals are not kept yet
missing_films as (
    select distinct
        scoring_moments.movie_id,
        scoring_moments.requested_at
    from scoring_moments
    left join kept_film_signals
        on
            scoring_moments.movie_id = kept_film_signals.movie_id
            and scoring_moments.requested_at = kept_film_signals.requested_at
    where kept_film_signals.movie_id is null
),

{{ film_signal_ctes('missing_films') }}

final as (
    select
        movie_id,
        requested_at,
        film_prior_views,
        film_recent_views
    from film_signals
)

select * from final
