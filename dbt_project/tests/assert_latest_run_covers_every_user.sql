-- Every user with at least one unseen film has recommendations in the latest run
-- (checked only once a run exists). Returns the users left out.
with

users as (
    select * from {{ ref('dim_users') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

interactions as (
    select * from {{ ref('fct_interactions') }}
),

latest as (
    select * from {{ ref('ml_recommendations_latest') }}
),

seen_counts as (
    select
        user_id,
        count(distinct movie_id) as seen_films
    from interactions
    group by user_id
),

catalogue as (
    select count(*) as films from movies
)

select users.user_id
from users
cross join catalogue
left join seen_counts
    on users.user_id = seen_counts.user_id
where
    exists (select 1 from latest)
    and coalesce(seen_counts.seen_films, 0) < catalogue.films
    and users.user_id not in (select latest.user_id from latest)
