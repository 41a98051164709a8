-- features of the sampled negatives of implicit-feedback training, each as of its own
-- moment; the same macro as the training rows, so a negative and a positive at the same
-- moment are described alike

with

sampled_requests as (
    select * from {{ ref('stg_scoring__sampled_requests') }}
),

requests as (
    select
        user_id,
        movie_id,
        requested_at
    from sampled_requests
),

{{ feature_ctes('requests') }}

final as (
    select * from features
)

select * from final
