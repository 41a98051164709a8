-- The first $wanted distinct films drawn for each positive row (in draw order) become
-- the sampled requests whose features ml_sampled_features computes.
insert into scoring.sampled_requests (user_id, movie_id, requested_at)
with

unique_draws as (
    select
        *,
        row_number() over (partition by row_number, movie_id order by draw asc) as occurrence
    from negative_draws
),

picked as (
    select
        *,
        row_number() over (partition by row_number order by draw asc) as pick
    from unique_draws
    where occurrence = 1
)

select
    user_id,
    movie_id,
    requested_at
from picked
where pick <= $wanted
