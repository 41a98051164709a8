
    

    create  table
      "masked"."intermediate"."int_masked_viewings__dbt_tmp"
  
    
    as (
      with

interactions as (
    select * from "masked"."staging"."stg_landing__interactions"
),

films as (
    select
        user_id,
        movie_id,
        min(interacted_at) as first_viewed_at
    from interactions
    group by
        user_id,
        movie_id
),

drawn as (
    select
        user_id,
        movie_id,
        first_viewed_at,
        row_number() over (
            partition by user_id
            order by hash(user_id, movie_id, 7), movie_id
        ) as draw,
        count(*) over (partition by user_id) as films
    from films
),

final as (
    select
        user_id,
        movie_id,
        first_viewed_at
    from drawn
    where draw <= floor(films * 0.25)
)

select * from final
    );
    
  