
    

    create  table
      "masked"."core"."dim_movies__dbt_tmp"
  
    
    as (
      with

movies as (
    select * from "masked"."staging"."stg_landing__movies"
),

movie_genres as (
    select * from "masked"."intermediate"."int_movie_genres_unnested"
),

genre_counts as (
    select
        movie_id,
        count(*) as genre_count
    from movie_genres
    group by movie_id
),

-- popularity is relative to the whole catalogue, not to whichever rows a model trains on
catalogue as (
    select max(vote_count) as max_vote_count
    from movies
),

final as (
    select
        -- keys
        movies.movie_id,

        -- attributes
        movies.title,
        movies.primary_genre,
        coalesce(genre_counts.genre_count, 0) as genre_count,
        movies.release_year,
        movies.duration_minutes,
        movies.mean_rating,
        movies.vote_count,
        case
            when catalogue.max_vote_count > 0
                then movies.vote_count / cast(catalogue.max_vote_count as double)
        end as popularity_score
    from movies
    cross join catalogue
    left join genre_counts
        on movies.movie_id = genre_counts.movie_id
)

select * from final
    );
    
  