{{ config(materialized='view') }}

{#-
    Retrieval's film-level audiences: every film's distinct viewers before each moment of
    the current run's requests (stg_scoring__retrieval_requests), and those who first
    viewed it within the `recent_popularity_days` before that moment. Point-in-time: they
    come from the interval histories (int_movie_viewer_histories_accumulated), so a viewing
    at or after the moment is not counted.

    It depends on films and moments only, not on who asks: `retrieve`
    (warehouse/requests.py) keeps its rows in scoring.retrieval_audiences, once for every
    request of a run that shares one moment (the nightly), else once per chunk of
    requests, where ml_retrieval_neighbours (the cosine's denominators) and
    ml_retrieval_candidates (the popular, recent and genre retrievers) read them.
-#}

with

{{ retrieval_request_ctes() }}

movies as (
    select * from {{ ref('dim_movies') }}
),

-- read twice (the audience now and at the window's start): inlined, not materialised
-- whole once per query (macros/portable.sql)
viewer_histories as {{ not_materialized() }} (
    select * from {{ ref('int_movie_viewer_histories_accumulated') }}
),

audiences as (
    select
        moments.requested_at,
        movies.movie_id,
        now_history.prior_viewers as viewers,
        now_history.prior_viewers - coalesce(window_history.prior_viewers, 0)
            as recent_viewers
    from moments
    cross join movies
    inner join viewer_histories as now_history
        on
            movies.movie_id = now_history.movie_id
            and {{ interval_holds('now_history', 'moments.requested_at') }}
    left join viewer_histories as window_history
        on
            movies.movie_id = window_history.movie_id
            and {{ interval_holds(
                'window_history',
                dbt.dateadd('day', -var('recent_popularity_days'), 'moments.requested_at')
            ) }}
),

final as (
    select
        -- keys
        movie_id,

        -- measures
        viewers,
        recent_viewers,

        -- timestamps
        requested_at
    from audiences
)

select * from final
