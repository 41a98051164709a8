{{ config(materialized='view') }}

{#-
    Retrieval: the films worth re-ranking for each requested (user, moment), from five
    cheap retrievers over the viewings before that moment (point-in-time, like the
    features):
    - knn: item-item cosine similarity of co-viewings (distinct viewers; at least
      `retrieval_min_support` co-viewers; each film's `retrieval_neighbours` nearest, as
      ml_retrieval_neighbours computed them for this run), summed over the user's whole
      history;
    - user_knn: the user's `retrieval_neighbour_users` nearest viewers by user-user cosine
      of their films; a film scores the similarity-weighted share of them who viewed it.
      Neighbours are searched among a pool of about `retrieval_neighbour_pool` users
      (every s-th user id, s = ceil(users / pool): all of them while the audience fits), so
      a request's cost stops growing with the audience;
    - popular: most viewers all-time; recent: most first viewings in the last
      `recent_popularity_days` days;
    - genre: for the user's three main genres (stated preferences where the catalogue has
      them, else the genres of their history), the genre's share x the film's viewers;
    - ease: EASE's item-item weights (ml_outputs.item_weights, fitted in Python when a
      model trains with `ease_lambda` > 0) summed over the user's history, for requests
      at or after the moment they were fitted at; none otherwise.
    Each retriever ranks the films the user had not viewed; the union keeps each film's
    best rank (ties: ease, knn, user_knn, popular, recent, genre, then the lower
    movie_id) and the first `retrieval_candidates` per request. A user without history gets popularity.

    Audiences and co-viewings come from the point-in-time interval histories
    (int_movie_viewer_histories_accumulated, int_movie_pair_histories_accumulated, through
    the film-level half), so
    requests at many different moments (one per user, as re-ranker training asks) cost
    about as much as their films' neighbourhoods, not a rebuild of co-viewing per moment.
    The film-level half (ml_retrieval_audiences, ml_retrieval_neighbours) runs before this
    one, once for all the requests of a run that share a moment; the depends_on below
    keeps it selected wherever this view is.
-#}

{#- each retriever as a number, its place in the tie order: a narrow key for the window
    that ranks each retriever's films per request -#}
{%- set retrievers = {'ease': 0, 'knn': 1, 'user_knn': 2, 'popular': 3, 'recent': 4, 'genre': 5} %}

-- depends_on: {{ ref('ml_retrieval_audiences') }}
-- depends_on: {{ ref('ml_retrieval_neighbours') }}

with

{{ retrieval_request_ctes() }}

movie_genres as (
    select * from {{ ref('int_movie_genres_unnested') }}
),

preferred_genres as (
    select * from {{ ref('int_user_preferred_genres_unnested') }}
),

user_film_histories as (
    select * from {{ ref('int_user_film_histories_accumulated') }}
),

item_weights as (
    select * from {{ ref('stg_ml_outputs__item_weights') }}
),

-- every film's viewers at each moment, all-time and recent, as ml_retrieval_audiences
-- computed them for this run's moments (kept by `retrieve` in scoring.retrieval_audiences)
film_viewers as (
    select * from {{ ref('stg_scoring__retrieval_audiences') }}
),

-- each history film's nearest films at the moment, as ml_retrieval_neighbours computed
-- them for this run's requests (kept by `retrieve` in scoring.retrieval_neighbours)
neighbours as (
    select * from {{ ref('stg_scoring__retrieval_neighbours') }}
),

knn_scores as (
    select
        histories.user_id,
        histories.requested_at,
        neighbours.other_movie_id as movie_id,
        {{ retrievers['knn'] }} as retriever,
        {{ exact_sum('neighbours.similarity') }} as score
    from histories
    inner join neighbours
        on
            histories.requested_at = neighbours.requested_at
            and histories.movie_id = neighbours.movie_id
    group by
        histories.user_id,
        histories.requested_at,
        neighbours.other_movie_id
),

-- EASE: the weights from the user's films, fitted on viewings before the request only
ease_scores as (
    select
        histories.user_id,
        histories.requested_at,
        item_weights.other_movie_id as movie_id,
        {{ retrievers['ease'] }} as retriever,
        {{ exact_sum('item_weights.weight') }} as score
    from histories
    inner join item_weights
        on
            histories.movie_id = item_weights.movie_id
            and histories.requested_at >= item_weights.fitted_at
    group by
        histories.user_id,
        histories.requested_at,
        item_weights.other_movie_id
),

-- how far down a global ranking a user must look to find their best unseen films
history_sizes as (
    select
        requests.user_id,
        requests.requested_at,
        count(histories.movie_id) as films
    from requests
    left join histories
        on
            requests.user_id = histories.user_id
            and requests.requested_at = histories.requested_at
    group by
        requests.user_id,
        requests.requested_at
),

-- the viewers user_knn may pick neighbours from: every `stride`-th user id, the stride
-- set by the audience's size (not by viewings: nothing here looks past the moment)
pool_stride as (
    select
        greatest(
            1, cast(ceil(count(*) * 1.0 / {{ var('retrieval_neighbour_pool') }}) as bigint)
        ) as stride
    from users
),

-- the pool's first viewings (read from the table, not the macro's first_views, which
-- stays read once so that only the requests' users are scanned), and its film counts
pool_views as (
    select first_views.*
    from {{ ref('int_user_first_viewings') }} as first_views
    cross join pool_stride
    where first_views.user_id % pool_stride.stride = 0
),

pool_film_histories as (
    select user_film_histories.*
    from user_film_histories
    cross join pool_stride
    where user_film_histories.user_id % pool_stride.stride = 0
),

-- user-user cosine before the moment: the films a requesting user shares with each other
-- viewer of the pool, over the square root of both users' film counts then
shared_films as (
    select
        histories.user_id,
        histories.requested_at,
        other_views.user_id as other_user_id,
        count(*) as shared_films
    from histories
    inner join pool_views as other_views
        on
            histories.movie_id = other_views.movie_id
            and histories.requested_at > other_views.first_viewed_at
            and histories.user_id != other_views.user_id
    group by
        histories.user_id,
        histories.requested_at,
        other_views.user_id
),

-- each of those viewers' film count at the moment, looked up once per (viewer, moment)
-- rather than once per requesting user who shares a film with them
pool_moments as (
    select distinct
        other_user_id,
        requested_at
    from shared_films
),

pool_film_counts as (
    select
        pool_moments.other_user_id,
        pool_moments.requested_at,
        other_films.prior_films
    from pool_moments
    inner join pool_film_histories as other_films
        on
            pool_moments.other_user_id = other_films.user_id
            and {{ interval_holds('other_films', 'pool_moments.requested_at') }}
),

user_similarities as (
    select
        shared_films.user_id,
        shared_films.requested_at,
        shared_films.other_user_id,
        shared_films.shared_films
        / sqrt(history_sizes.films * pool_film_counts.prior_films) as similarity
    from shared_films
    inner join history_sizes
        on
            shared_films.user_id = history_sizes.user_id
            and shared_films.requested_at = history_sizes.requested_at
    inner join pool_film_counts
        on
            shared_films.other_user_id = pool_film_counts.other_user_id
            and shared_films.requested_at = pool_film_counts.requested_at
),

-- each requesting user's nearest viewers, and their similarities' total
neighbour_users as (
    select
        user_id,
        requested_at,
        other_user_id,
        similarity,
        {{ exact_sum('similarity', over='partition by user_id, requested_at') }}
            as neighbourhood_similarity
    from (
        select
            *,
            row_number() over (
                partition by user_id, requested_at
                order by similarity desc, other_user_id asc
            ) as nearness
        from user_similarities
    ) as ranked
    where nearness <= {{ var('retrieval_neighbour_users') }}
),

-- the similarity-weighted share of the nearest viewers who had viewed the film (0..1)
user_knn_scores as (
    select
        neighbour_users.user_id,
        neighbour_users.requested_at,
        neighbour_views.movie_id,
        {{ retrievers['user_knn'] }} as retriever,
        {{ exact_sum('neighbour_users.similarity') }}
        / max(neighbour_users.neighbourhood_similarity) as score
    from neighbour_users
    inner join pool_views as neighbour_views
        on
            neighbour_users.other_user_id = neighbour_views.user_id
            and neighbour_users.requested_at > neighbour_views.first_viewed_at
    group by
        neighbour_users.user_id,
        neighbour_users.requested_at,
        neighbour_views.movie_id
),

film_ranks as (
    select
        film_viewers.requested_at,
        film_viewers.movie_id,
        film_viewers.viewers,
        film_viewers.recent_viewers,
        row_number() over (
            partition by film_viewers.requested_at
            order by film_viewers.viewers desc, film_viewers.movie_id asc
        ) as popularity_place,
        row_number() over (
            partition by film_viewers.requested_at
            order by film_viewers.recent_viewers desc, film_viewers.movie_id asc
        ) as recent_place
    from film_viewers
),

popularity_scores as (
    select
        history_sizes.user_id,
        history_sizes.requested_at,
        film_ranks.movie_id,
        {{ retrievers['popular'] }} as retriever,
        cast(film_ranks.viewers as {{ dbt.type_float() }}) as score
    from history_sizes
    inner join film_ranks
        on
            history_sizes.requested_at = film_ranks.requested_at
            and film_ranks.popularity_place
            <= {{ var('retrieval_candidates') }} + history_sizes.films
    union all
    select
        history_sizes.user_id,
        history_sizes.requested_at,
        film_ranks.movie_id,
        {{ retrievers['recent'] }} as retriever,
        cast(film_ranks.recent_viewers as {{ dbt.type_float() }}) as score
    from history_sizes
    inner join film_ranks
        on
            history_sizes.requested_at = film_ranks.requested_at
            and film_ranks.recent_place
            <= {{ var('retrieval_candidates') }} + history_sizes.films
    where film_ranks.recent_viewers > 0
),

-- stated preferences where the catalogue has them, else the genres of the user's history
stated_genres as (
    select
        requests.user_id,
        requests.requested_at,
        preferred.genre,
        count(*) as films
    from requests
    inner join preferred_genres as preferred on requests.user_id = preferred.user_id
    group by
        requests.user_id,
        requests.requested_at,
        preferred.genre
),

learned_genres as (
    select
        histories.user_id,
        histories.requested_at,
        movie_genres.genre,
        count(*) as films
    from histories
    inner join movie_genres on histories.movie_id = movie_genres.movie_id
    left join stated_genres
        on
            histories.user_id = stated_genres.user_id
            and histories.requested_at = stated_genres.requested_at
    where stated_genres.user_id is null
    group by
        histories.user_id,
        histories.requested_at,
        movie_genres.genre
),

genre_shares as (
    select
        user_id,
        requested_at,
        genre,
        films / sum(films) over (partition by user_id, requested_at) as genre_share,
        row_number() over (
            partition by user_id, requested_at order by films desc, genre asc
        ) as genre_place
    from (
        select * from stated_genres
        union all
        select * from learned_genres
    ) as genre_counts
),

genre_film_ranks as (
    select
        film_ranks.requested_at,
        movie_genres.genre,
        film_ranks.movie_id,
        film_ranks.viewers,
        row_number() over (
            partition by film_ranks.requested_at, movie_genres.genre
            order by film_ranks.viewers desc, film_ranks.movie_id asc
        ) as genre_film_place
    from film_ranks
    inner join movie_genres on film_ranks.movie_id = movie_genres.movie_id
),

-- the user's three main genres, each film scored by share x viewers
genre_scores as (
    select
        genre_shares.user_id,
        genre_shares.requested_at,
        genre_film_ranks.movie_id,
        {{ retrievers['genre'] }} as retriever,
        max(genre_shares.genre_share * genre_film_ranks.viewers) as score
    from genre_shares
    inner join history_sizes
        on
            genre_shares.user_id = history_sizes.user_id
            and genre_shares.requested_at = history_sizes.requested_at
    inner join genre_film_ranks
        on
            genre_shares.requested_at = genre_film_ranks.requested_at
            and genre_shares.genre = genre_film_ranks.genre
            and genre_film_ranks.genre_film_place
            <= {{ var('retrieval_candidates') }} + history_sizes.films
    where genre_shares.genre_place <= 3
    group by
        genre_shares.user_id,
        genre_shares.requested_at,
        genre_film_ranks.movie_id
),

scores as (
    select * from ease_scores
    union all
    select * from knn_scores
    union all
    select * from user_knn_scores
    union all
    select * from popularity_scores
    union all
    select * from genre_scores
),

-- each retriever's ranking of the films the user had not viewed by the moment
retriever_ranks as (
    select
        scores.user_id,
        scores.requested_at,
        scores.movie_id,
        scores.retriever,
        scores.score,
        row_number() over (
            partition by scores.user_id, scores.requested_at, scores.retriever
            order by scores.score desc, scores.movie_id asc
        ) as retriever_rank
    from scores
    left join histories
        on
            scores.user_id = histories.user_id
            and scores.requested_at = histories.requested_at
            and scores.movie_id = histories.movie_id
    where histories.movie_id is null
),

merged as (
    select
        user_id,
        requested_at,
        movie_id,
        min(retriever_rank) as best_rank,
        min(retriever) as first_retriever,
        max(case when retriever = {{ retrievers['ease'] }} then score end) as ease_score,
        min(case when retriever = {{ retrievers['ease'] }} then retriever_rank end)
            as ease_rank,
        max(case when retriever = {{ retrievers['knn'] }} then score end) as knn_score,
        min(case when retriever = {{ retrievers['knn'] }} then retriever_rank end)
            as knn_rank,
        max(case when retriever = {{ retrievers['user_knn'] }} then score end)
            as user_knn_score,
        min(case when retriever = {{ retrievers['user_knn'] }} then retriever_rank end)
            as user_knn_rank,
        min(case when retriever = {{ retrievers['popular'] }} then retriever_rank end)
            as popularity_rank,
        min(case when retriever = {{ retrievers['recent'] }} then retriever_rank end)
            as recent_popularity_rank,
        min(case when retriever = {{ retrievers['genre'] }} then retriever_rank end)
            as genre_rank
    from retriever_ranks
    where retriever_rank <= {{ var('retrieval_candidates') }}
    group by
        user_id,
        requested_at,
        movie_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by user_id, requested_at
            order by best_rank asc, first_retriever asc, movie_id asc
        ) as candidate_rank
    from merged
),

final as (
    select
        -- keys
        user_id,
        movie_id,

        -- measures
        candidate_rank,
        knn_score,
        knn_rank,
        user_knn_score,
        user_knn_rank,
        popularity_rank,
        recent_popularity_rank,
        genre_rank,
        ease_score,
        ease_rank,

        -- timestamps
        requested_at
    from ranked
    where candidate_rank <= {{ var('retrieval_candidates') }}
)

select * from final
