
    

    create  table
      "masked"."core"."fct_interactions"
  
    
    as (
      
-- incremental: the viewings of the new landed files (macros/incremental.sql)

with

interactions as (
    select * from "masked"."staging"."stg_landing__interactions"
),

-- empty unless this is the masked world re-ranker training builds (int_masked_viewings)
masked as (
    select * from "masked"."intermediate"."int_masked_viewings"
),

final as (
    select
        -- keys
        interactions.interaction_id,
        interactions.user_id,
        interactions.movie_id,

        -- measures
        interactions.watch_fraction,
        interactions.rating,

        -- flags
        interactions.is_liked,

        -- timestamps
        interactions.interacted_at,

        -- how the viewer came to the film, and the list in front of them
        interactions.viewing_source,
        interactions.run_id,
        interactions.model_id,
        interactions.recommendation_rank
    from interactions
    left join masked
        on
            interactions.user_id = masked.user_id
            and interactions.movie_id = masked.movie_id
    where masked.user_id is null
)

select * from final
    );
    
  
  