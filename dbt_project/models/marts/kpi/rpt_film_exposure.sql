with

latest as (
    select * from {{ ref('ml_recommendations_latest') }}
),

history as (
    select * from {{ ref('ml_recommendations') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

latest_counts as (
    select
        movie_id,
        count(*) as times_shown_latest,
        avg(recommendation_rank) as avg_rank_latest
    from latest
    group by movie_id
),

history_counts as (
    select
        movie_id,
        count(*) as times_shown_ever
    from history
    group by movie_id
),

final as (
    select
        -- keys
        movies.movie_id,

        -- attributes
        movies.title,
        movies.primary_genre,

        -- measures
        latest_counts.avg_rank_latest,
        movies.mean_rating,
        movies.popularity_score,
        coalesce(latest_counts.times_shown_latest, 0) as times_shown_latest,
        coalesce(history_counts.times_shown_ever, 0) as times_shown_ever,
        rank() over (
            order by coalesce(latest_counts.times_shown_latest, 0) desc
        ) as exposure_rank_latest,

        -- flags
        latest_counts.movie_id is null as is_unshown_latest,
        history_counts.movie_id is null as is_never_recommended
    from movies
    left join latest_counts
        on movies.movie_id = latest_counts.movie_id
    left join history_counts
        on movies.movie_id = history_counts.movie_id
)

select * from final
