-- A viewing dated before its film's release year is implausible but not impossible: a
-- festival or preview screening, or a catalogue whose release year is the wide release
-- (MovieLens-100k has such ratings). The contract lands them and the models keep them;
-- this test counts them in every build as a warning, so a clock or catalogue error that
-- produces many of them is seen in `dbt build`'s output, not silently learned from.
{{ config(severity='warn') }}

with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
)

select
    interactions.interaction_id,
    interactions.movie_id,
    interactions.interacted_at,
    movies.release_year
from interactions
inner join movies on interactions.movie_id = movies.movie_id
where year(interactions.interacted_at) < movies.release_year
