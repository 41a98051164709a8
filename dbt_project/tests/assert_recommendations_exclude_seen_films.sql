-- A recommendation of the latest run must be a film the user had not viewed when the
-- run's features were computed. Returns the offending rows. Earlier runs were checked when
-- they were published; a later landing may bring viewings dated before them.
with

recommendations as (
    select * from {{ ref('ml_recommendations_latest') }}
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
