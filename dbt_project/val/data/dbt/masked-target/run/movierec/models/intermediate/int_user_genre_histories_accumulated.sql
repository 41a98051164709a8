
    

    create  table
      "masked"."intermediate"."int_user_genre_histories_accumulated"
  
    
    as (
      
-- incremental: the users the new viewings touch (macros/incremental.sql)
-- depends_on: "masked"."staging"."stg_landing__interactions"

with

interactions as (
    select * from "masked"."core"."fct_interactions"
),

movie_genres as (
    select * from "masked"."intermediate"."int_movie_genres_unnested"
),

events as (
    select
        interactions.user_id,
        movie_genres.genre,
        interactions.interacted_at as event_at,
        count(*) as interactions,
        sum(case when interactions.is_liked then 1 else 0 end) as likes
    from interactions
    inner join movie_genres
        on interactions.movie_id = movie_genres.movie_id
    group by
        interactions.user_id,
        movie_genres.genre,
        interactions.interacted_at
),

final as (
    select
        user_id, genre,
        event_at as valid_after,
        lead(event_at) over (
            partition by user_id, genre order by event_at
        ) as valid_until,
        sum(interactions) over (
            partition by user_id, genre
            order by event_at
            rows between unbounded preceding and current row
        ) as prior_interactions,
        sum(likes) over (
            partition by user_id, genre
            order by event_at
            rows between unbounded preceding and current row
        ) as prior_likes
    from events
)

select * from final
    );
    
  
  