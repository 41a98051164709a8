-- A recommendation must be a film the user had not viewed when the run's features were
-- computed. Returns the offending rows.
with

recommendations as (
    select * from {{ ref('ml_recommendations') }}
),

interactions as (
    select * from {{ ref('fct_interactions') }}
)

select
    recommendations.run_id,
    recommendations.user_id,
    recommendations.movie_id
from recommendations
inner join interactions
    on
        recommendations.user_id = interactions.user_id
        and recommendations.movie_id = interactions.movie_id
        and recommendations.features_as_of > interactions.interacted_at
