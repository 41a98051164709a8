with

movie_genres as (
    select * from "masked"."intermediate"."int_movie_genres_unnested"
),

-- one-hot over the `genres` var; a film with several genres has several flags set,
-- a genre outside the vocabulary sets none
final as (
    select
        movie_id,
        
        max(cast(case when genre = 'Action' then 1 else 0 end as double)) as is_genre_action,
        
        max(cast(case when genre = 'Animation' then 1 else 0 end as double)) as is_genre_animation,
        
        max(cast(case when genre = 'Comedy' then 1 else 0 end as double)) as is_genre_comedy,
        
        max(cast(case when genre = 'Drama' then 1 else 0 end as double)) as is_genre_drama,
        
        max(cast(case when genre = 'Horror' then 1 else 0 end as double)) as is_genre_horror,
        
        max(cast(case when genre = 'Romance' then 1 else 0 end as double)) as is_genre_romance,
        
        max(cast(case when genre = 'Sci-Fi' then 1 else 0 end as double)) as is_genre_sci_fi,
        
        max(cast(case when genre = 'Thriller' then 1 else 0 end as double)) as is_genre_thriller,
        
        max(cast(case when genre = 'Documentary' then 1 else 0 end as double)) as is_genre_documentary,
        
        max(cast(case when genre = 'Adventure' then 1 else 0 end as double)) as is_genre_adventure,
        
        max(cast(case when genre = 'Children''s' then 1 else 0 end as double)) as is_genre_childrens,
        
        max(cast(case when genre = 'Crime' then 1 else 0 end as double)) as is_genre_crime,
        
        max(cast(case when genre = 'Fantasy' then 1 else 0 end as double)) as is_genre_fantasy,
        
        max(cast(case when genre = 'Film-Noir' then 1 else 0 end as double)) as is_genre_film_noir,
        
        max(cast(case when genre = 'Musical' then 1 else 0 end as double)) as is_genre_musical,
        
        max(cast(case when genre = 'Mystery' then 1 else 0 end as double)) as is_genre_mystery,
        
        max(cast(case when genre = 'War' then 1 else 0 end as double)) as is_genre_war,
        
        max(cast(case when genre = 'Western' then 1 else 0 end as double)) as is_genre_western,
        
        max(cast(case when genre = 'unknown' then 1 else 0 end as double)) as is_genre_unknown
        
    from movie_genres
    group by movie_id
)

select * from final