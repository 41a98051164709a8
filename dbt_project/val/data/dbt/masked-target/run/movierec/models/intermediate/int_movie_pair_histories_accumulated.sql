
    

    create  table
      "masked"."intermediate"."int_movie_pair_histories_accumulated"
  
    
    as (
      
-- incremental: the pairs of films the new viewings touch (macros/incremental.sql)
-- depends_on: "masked"."staging"."stg_landing__interactions"

with

interactions as (
    select * from "masked"."core"."fct_interactions"
),

-- each user's first viewing of each film: a re-watch adds no co-viewer
first_views as (
    select
        user_id,
        movie_id,
        min(interacted_at) as first_viewed_at,
        max(case when is_liked then 1 else 0 end) as liked
    from interactions
    group by
        user_id,
        movie_id
),

-- two films become co-viewed by a user when the user has viewed both (the later view);
-- each unordered pair once, as (smaller id, larger id)
co_views as (
    select
        earlier.movie_id,
        later.movie_id as other_movie_id,
        greatest(earlier.first_viewed_at, later.first_viewed_at) as event_at,
        earlier.liked * later.liked as both_liked
    from first_views as earlier
    inner join first_views as later
        on
            earlier.user_id = later.user_id
            and earlier.movie_id < later.movie_id
),

events as (
    select
        movie_id,
        other_movie_id,
        event_at,
        count(*) as interactions,
        sum(both_liked) as likes
    from co_views
    group by
        movie_id,
        other_movie_id,
        event_at
),

final as (
    select
        movie_id, other_movie_id,
        event_at as valid_after,
        lead(event_at) over (
            partition by movie_id, other_movie_id order by event_at
        ) as valid_until,
        sum(interactions) over (
            partition by movie_id, other_movie_id
            order by event_at
            rows between unbounded preceding and current row
        ) as prior_interactions,
        sum(likes) over (
            partition by movie_id, other_movie_id
            order by event_at
            rows between unbounded preceding and current row
        ) as prior_likes
    from events
)

select * from final
    );
    
  
  