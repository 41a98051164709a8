
    

    create  table
      "masked"."intermediate"."int_user_first_viewings"
  
    
    as (
      
-- incremental: the (user, film) pairs the new viewings touch (macros/incremental.sql)
-- depends_on: "masked"."staging"."stg_landing__interactions"

with

interactions as (
    select * from "masked"."core"."fct_interactions"
),

final as (
    select
        interactions.user_id,
        interactions.movie_id,
        min(interactions.interacted_at) as first_viewed_at
    from interactions
    group by
        interactions.user_id,
        interactions.movie_id
)

select * from final
    );
    
  
  