{{ config(materialized='view') }}

{#-
    Retrieval's film-level half: for each film some request of the current run had viewed
    before its moment (stg_scoring__retrieval_requests), its `retrieval_neighbours`
    nearest films by item-item cosine of co-viewings at that moment (distinct viewers; at
    least `retrieval_min_support` co-viewers; ties: the lower movie_id). Point-in-time:
    co-viewings come from the interval histories (int_movie_pair_histories_accumulated),
    audiences from ml_retrieval_audiences (kept for this run in
    scoring.retrieval_audiences), so a co-viewing at or after the moment is invisible.

    It depends on films and moments only, not on who asks: `retrieve` (warehouse/requests.py)
    keeps its rows in scoring.retrieval_neighbours, once for every request of a run that
    shares one moment (the nightly), else once per chunk of requests, and
    ml_retrieval_candidates, the user-level half, reads them from there.
-#}

-- depends_on: {{ ref('ml_retrieval_audiences') }}

with

{{ retrieval_request_ctes() }}

pair_histories as (
    select * from {{ ref('int_movie_pair_histories_accumulated') }}
),

-- every film's viewers at each moment, as ml_retrieval_audiences computed them
film_viewers as (
    select * from {{ ref('stg_scoring__retrieval_audiences') }}
),

-- the films whose neighbours some request needs, at that request's moment
history_films as (
    select distinct
        requested_at,
        movie_id
    from histories
),

-- co-viewers of each such film with every other film before the moment (pairs are
-- stored once, as (smaller id, larger id): look both ways)
co_viewers as (
    select
        history_films.requested_at,
        history_films.movie_id,
        pairs.other_movie_id,
        pairs.prior_interactions as co_viewers
    from history_films
    inner join pair_histories as pairs
        on
            history_films.movie_id = pairs.movie_id
            and {{ interval_holds('pairs', 'history_films.requested_at') }}
    where pairs.prior_interactions >= {{ var('retrieval_min_support') }}
    union all
    select
        history_films.requested_at,
        history_films.movie_id,
        pairs.movie_id as other_movie_id,
        pairs.prior_interactions as co_viewers
    from history_films
    inner join pair_histories as pairs
        on
            history_films.movie_id = pairs.other_movie_id
            and {{ interval_holds('pairs', 'history_films.requested_at') }}
    where pairs.prior_interactions >= {{ var('retrieval_min_support') }}
),

similarities as (
    select
        co_viewers.requested_at,
        co_viewers.movie_id,
        co_viewers.other_movie_id,
        co_viewers.co_viewers / sqrt(film.viewers * other_film.viewers) as similarity
    from co_viewers
    inner join film_viewers as film
        on
            co_viewers.requested_at = film.requested_at
            and co_viewers.movie_id = film.movie_id
    inner join film_viewers as other_film
        on
            co_viewers.requested_at = other_film.requested_at
            and co_viewers.other_movie_id = other_film.movie_id
),

neighbours as (
    select
        requested_at,
        movie_id,
        other_movie_id,
        similarity
    from (
        select
            *,
            row_number() over (
                partition by requested_at, movie_id
                order by similarity desc, other_movie_id asc
            ) as nearness
        from similarities
    ) as ranked
    where nearness <= {{ var('retrieval_neighbours') }}
),

final as (
    select
        -- keys
        movie_id,
        other_movie_id,

        -- measures
        similarity,

        -- timestamps
        requested_at
    from neighbours
)

select * from final
