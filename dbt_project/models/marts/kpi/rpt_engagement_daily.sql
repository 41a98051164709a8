with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

final as (
    select
        -- keys
        cast({{ dbt.date_trunc('day', 'interactions.interacted_at') }} as date) as activity_date,
        users.segment,
        movies.primary_genre as genre,

        -- measures
        count(*) as interactions,
        count(distinct interactions.user_id) as active_users,
        sum(case when interactions.is_liked then 1 else 0 end) as likes,
        avg(
            cast(case when interactions.is_liked then 1 else 0 end as {{ type_double() }})
        ) as like_rate,
        avg(interactions.watch_fraction) as avg_watch_fraction
    from interactions
    inner join users
        on interactions.user_id = users.user_id
    inner join movies
        on interactions.movie_id = movies.movie_id
    group by
        cast({{ dbt.date_trunc('day', 'interactions.interacted_at') }} as date),
        users.segment,
        movies.primary_genre
)

select * from final
