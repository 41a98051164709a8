-- The catalogue as the catalogue metrics need it: each film's main genre and its views
-- before $cutoff.
select
    movies.movie_id,
    movies.primary_genre as genre,
    count(past.movie_id) as prior_views
from core.dim_movies as movies
left join core.fct_interactions as past
    on movies.movie_id = past.movie_id and past.interacted_at < $cutoff
group by all
