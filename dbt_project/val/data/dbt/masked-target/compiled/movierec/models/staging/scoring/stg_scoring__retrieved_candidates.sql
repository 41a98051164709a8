with

source as (
    select * from "masked"."scoring"."retrieved_candidates"
),

renamed as (
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

        -- timestamps
        requested_at
    from source
)

select * from renamed