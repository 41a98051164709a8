-- The (user_id, movie_id) pairs to score for the users of temp table chunk_users: the
-- films retrieval proposed them (scoring.retrieved_candidates, seen films already left
-- out). A user proposed fewer than $top_n films gets every film instead, so nobody
-- receives fewer recommendations than their unseen catalogue allows.
with

proposed as (
    select
        retrieved.user_id,
        retrieved.movie_id
    from scoring.retrieved_candidates as retrieved
    inner join chunk_users on retrieved.user_id = chunk_users.user_id
),

proposal_counts as (
    select
        chunk_users.user_id,
        count(proposed.movie_id) as films
    from chunk_users
    left join proposed on chunk_users.user_id = proposed.user_id
    group by chunk_users.user_id
),

short_users as (
    select user_id
    from proposal_counts
    where films < $top_n
)

select
    user_id,
    movie_id
from proposed
where user_id not in (select short_users.user_id from short_users)
union all
select
    short_users.user_id,
    movies.movie_id
from short_users
cross join core.dim_movies as movies
