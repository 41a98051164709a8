
  
    
  create view "masked"."ml"."ml_sampled_features__dbt_tmp" as (
    -- features of the sampled negatives of implicit-feedback training, each as of its own
-- moment; the same macro as the training rows, so a negative and a positive at the same
-- moment are described alike

with

sampled_requests as (
    select * from "masked"."staging"."stg_scoring__sampled_requests"
),

requests as (
    select
        user_id,
        movie_id,
        requested_at
    from sampled_requests
),

feature_users as (
    select * from "masked"."core"."dim_users"
),

feature_movies as (
    select * from "masked"."core"."dim_movies"
),

feature_movie_genres as (
    select * from "masked"."intermediate"."int_movie_genres_unnested"
),

feature_genre_flags as (
    select * from "masked"."intermediate"."int_movies_genre_encoded"
),

feature_preferred_genres as (
    select * from "masked"."intermediate"."int_user_preferred_genres_unnested"
),

feature_user_histories as (
    select * from "masked"."intermediate"."int_user_histories_accumulated"
),

feature_user_genre_histories as (
    select * from "masked"."intermediate"."int_user_genre_histories_accumulated"
),

feature_movie_histories as (
    select * from "masked"."intermediate"."int_movie_histories_accumulated"
),

feature_pair_histories as (
    select * from "masked"."intermediate"."int_movie_pair_histories_accumulated"
),

feature_interactions as (
    select * from "masked"."core"."fct_interactions"
),

-- retrieval's proposals of the current run, with each retriever's rank and score
feature_retrieved as (
    select * from "masked"."staging"."stg_scoring__retrieved_candidates"
),

request_keys as (
    select distinct
        user_id,
        movie_id,
        requested_at
    from requests
),

request_users as (
    select distinct
        user_id,
        requested_at
    from requests
),

-- a film may have several genres: take the strongest signal over them
genre_signals as (
    select
        request_keys.user_id,
        request_keys.movie_id,
        request_keys.requested_at,
        max(cast(case when feature_preferred_genres.user_id is not null then 1 else 0 end as double))
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
            and feature_user_genre_histories.valid_after < request_keys.requested_at
    and (feature_user_genre_histories.valid_until is null or request_keys.requested_at <= feature_user_genre_histories.valid_until)
    group by
        request_keys.user_id,
        request_keys.movie_id,
        request_keys.requested_at
),

request_films as (
    select distinct
        movie_id,
        requested_at
    from requests
),

-- the film's viewings before the request, and within the recent window before it
film_signals as (
    select
        request_films.movie_id,
        request_films.requested_at,
        coalesce(now_history.prior_interactions, 0) as film_prior_views,
        coalesce(now_history.prior_interactions, 0)
        - coalesce(window_history.prior_interactions, 0) as film_recent_views
    from request_films
    left join feature_movie_histories as now_history
        on
            request_films.movie_id = now_history.movie_id
            and now_history.valid_after < request_films.requested_at
    and (now_history.valid_until is null or request_films.requested_at <= now_history.valid_until)
    left join feature_movie_histories as window_history
        on
            request_films.movie_id = window_history.movie_id
            and window_history.valid_after < 

    (request_films.requested_at + cast(-30 as bigint) * interval 1 day)
    and (window_history.valid_until is null or 

    (request_films.requested_at + cast(-30 as bigint) * interval 1 day) <= window_history.valid_until)
),

-- each requesting user's latest distinct films before the request
ranked_history_films as (
    select
        request_users.user_id,
        request_users.requested_at,
        feature_interactions.movie_id as history_movie_id,
        row_number() over (
            partition by request_users.user_id, request_users.requested_at
            order by max(feature_interactions.interacted_at) desc, feature_interactions.movie_id
        ) as recency_rank
    from request_users
    inner join feature_interactions
        on
            request_users.user_id = feature_interactions.user_id
            and feature_interactions.interacted_at < request_users.requested_at
    group by
        request_users.user_id,
        request_users.requested_at,
        feature_interactions.movie_id
),

recent_history_films as (
    select
        user_id,
        requested_at,
        history_movie_id
    from ranked_history_films
    where recency_rank <= 10
),

-- item-item co-occurrence: users who had viewed both the candidate and one of the user's
-- recent films before the request, averaged over those films
co_view_signals as (
    select
        request_keys.user_id,
        request_keys.movie_id,
        request_keys.requested_at,
        avg(coalesce(pair_histories.prior_interactions, 0)) as cooccurrence_score
    from request_keys
    inner join recent_history_films
        on
            request_keys.user_id = recent_history_films.user_id
            and request_keys.requested_at = recent_history_films.requested_at
            and request_keys.movie_id != recent_history_films.history_movie_id
    left join feature_pair_histories as pair_histories
        on
            least(request_keys.movie_id, recent_history_films.history_movie_id)
            = pair_histories.movie_id
            and greatest(request_keys.movie_id, recent_history_films.history_movie_id)
            = pair_histories.other_movie_id
            and pair_histories.valid_after < request_keys.requested_at
    and (pair_histories.valid_until is null or request_keys.requested_at <= pair_histories.valid_until)
    group by
        request_keys.user_id,
        request_keys.movie_id,
        request_keys.requested_at
),

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
            and feature_user_histories.valid_after < request_users.requested_at
    and (feature_user_histories.valid_until is null or request_users.requested_at <= feature_user_histories.valid_until)
),

features as (
    select
        requests.*,

        -- the seed's features: user attributes
        feature_users.age_years as user_age_years,
        coalesce(feature_users.subscription_months, 0.0) as subscription_months,
        cast(coalesce(feature_users.sessions_per_week, 0) as double)
            as sessions_per_week,

        -- the seed's features: film attributes
        cast(
            coalesce(feature_movies.release_year, extract(year from requests.requested_at))
            as double
        ) as release_year,
        coalesce(feature_movies.duration_minutes, 0.0) as duration_minutes,
        coalesce(feature_movies.mean_rating, 0.0) as mean_rating,
        cast(coalesce(feature_movies.vote_count, 0) as double) as vote_count,

        -- the seed's features: one-hot segment and genre
        cast(case when feature_users.segment = 'young' then 1 else 0 end as double) as is_segment_young,
        cast(case when feature_users.segment = 'adult' then 1 else 0 end as double) as is_segment_adult,
        cast(case when feature_users.segment = 'senior' then 1 else 0 end as double) as is_segment_senior,
        coalesce(feature_genre_flags.is_genre_action, 0.0)
            as is_genre_action,
        coalesce(feature_genre_flags.is_genre_animation, 0.0)
            as is_genre_animation,
        coalesce(feature_genre_flags.is_genre_comedy, 0.0)
            as is_genre_comedy,
        coalesce(feature_genre_flags.is_genre_drama, 0.0)
            as is_genre_drama,
        coalesce(feature_genre_flags.is_genre_horror, 0.0)
            as is_genre_horror,
        coalesce(feature_genre_flags.is_genre_romance, 0.0)
            as is_genre_romance,
        coalesce(feature_genre_flags.is_genre_sci_fi, 0.0)
            as is_genre_sci_fi,
        coalesce(feature_genre_flags.is_genre_thriller, 0.0)
            as is_genre_thriller,
        coalesce(feature_genre_flags.is_genre_documentary, 0.0)
            as is_genre_documentary,
        coalesce(feature_genre_flags.is_genre_adventure, 0.0)
            as is_genre_adventure,
        coalesce(feature_genre_flags.is_genre_childrens, 0.0)
            as is_genre_childrens,
        coalesce(feature_genre_flags.is_genre_crime, 0.0)
            as is_genre_crime,
        coalesce(feature_genre_flags.is_genre_fantasy, 0.0)
            as is_genre_fantasy,
        coalesce(feature_genre_flags.is_genre_film_noir, 0.0)
            as is_genre_film_noir,
        coalesce(feature_genre_flags.is_genre_musical, 0.0)
            as is_genre_musical,
        coalesce(feature_genre_flags.is_genre_mystery, 0.0)
            as is_genre_mystery,
        coalesce(feature_genre_flags.is_genre_war, 0.0)
            as is_genre_war,
        coalesce(feature_genre_flags.is_genre_western, 0.0)
            as is_genre_western,
        coalesce(feature_genre_flags.is_genre_unknown, 0.0)
            as is_genre_unknown,
        -- the seed's derived features, film age taken at the request's year
        cast(
            extract(year from requests.requested_at)
            - coalesce(feature_movies.release_year, extract(year from requests.requested_at))
            as double
        ) as film_age_years,
        coalesce(feature_movies.duration_minutes, 0.0) / feature_users.age_years
            as duration_per_user_age_year,
        coalesce(feature_movies.popularity_score, 0.0) as popularity_score,

        -- features the seed lacked: stated preferences and point-in-time history
        genre_signals.is_preferred_genre,
        cast(case when feature_users.has_stated_preferences then 1 else 0 end as double) as has_stated_preferences,
        cast(user_signals.user_prior_interactions as double)
            as user_prior_interactions,
        (cast(coalesce(user_signals.user_prior_likes, 0) as double) + 1)
    / (cast(coalesce(user_signals.user_prior_interactions, 0) as double) + 2)
            as user_prior_like_rate,
        cast(genre_signals.user_genre_prior_interactions as double)
            as user_genre_prior_interactions,
        cast(genre_signals.user_genre_prior_likes as double)
            as user_genre_prior_likes,
        (cast(coalesce(genre_signals.user_genre_prior_likes, 0) as double) + 1)
    / (cast(coalesce(genre_signals.user_genre_prior_interactions, 0) as double) + 2) as user_genre_prior_like_rate,

        -- collaborative features: the film's audience, and co-viewing with the user's films
        cast(film_signals.film_prior_views as double) as film_prior_views,
        cast(film_signals.film_recent_views as double) as film_recent_views,
        cast(genre_signals.user_genre_prior_interactions as double)
        / greatest(user_signals.user_prior_interactions, 1) as user_genre_share,
        cast(coalesce(co_view_signals.cooccurrence_score, 0) as double)
            as cooccurrence_score,

        -- retrieval's view of the pair at the same moment: each retriever's rank (one
        -- past the cap when it did not propose the film) and the knn scores (0)
        cast(
            coalesce(feature_retrieved.candidate_rank, 301)
            as double
        ) as retrieval_rank,
        cast(
            coalesce(feature_retrieved.knn_rank, 301)
            as double
        ) as knn_rank,
        cast(
            coalesce(feature_retrieved.user_knn_rank, 301)
            as double
        ) as user_knn_rank,
        cast(
            coalesce(feature_retrieved.popularity_rank, 301)
            as double
        ) as popularity_rank,
        cast(
            coalesce(feature_retrieved.recent_popularity_rank, 301)
            as double
        ) as recent_popularity_rank,
        cast(
            coalesce(feature_retrieved.genre_rank, 301)
            as double
        ) as genre_rank,
        cast(coalesce(feature_retrieved.knn_score, 0) as double) as knn_score,
        cast(coalesce(feature_retrieved.user_knn_score, 0) as double)
            as user_knn_score
    from requests
    inner join feature_users
        on requests.user_id = feature_users.user_id
    inner join feature_movies
        on requests.movie_id = feature_movies.movie_id
    left join feature_genre_flags
        on requests.movie_id = feature_genre_flags.movie_id
    inner join genre_signals
        on
            requests.user_id = genre_signals.user_id
            and requests.movie_id = genre_signals.movie_id
            and requests.requested_at = genre_signals.requested_at
    inner join user_signals
        on
            requests.user_id = user_signals.user_id
            and requests.requested_at = user_signals.requested_at
    inner join film_signals
        on
            requests.movie_id = film_signals.movie_id
            and requests.requested_at = film_signals.requested_at
    left join co_view_signals
        on
            requests.user_id = co_view_signals.user_id
            and requests.movie_id = co_view_signals.movie_id
            and requests.requested_at = co_view_signals.requested_at
    left join feature_retrieved
        on
            requests.user_id = feature_retrieved.user_id
            and requests.movie_id = feature_retrieved.movie_id
            and requests.requested_at = feature_retrieved.requested_at
),

final as (
    select * from features
)

select * from final
  );
