-- The (user_id, movie_id) pairs to score for the users of temp table chunk_users: their
-- segment's shortlisted films. A user left with fewer than $top_n shortlisted films unseen
-- at $as_of (NULL: ever) gets every film instead, so nobody receives fewer
-- recommendations than their unseen catalogue allows.
with

chunk as (
    select
        known.user_id,
        known.segment
    from core.dim_users as known
    inner join chunk_users as wanted on known.user_id = wanted.user_id
),

shortlisted as (
    select
        chunk.user_id,
        shortlist.movie_id
    from chunk
    inner join shortlist on chunk.segment = shortlist.segment
),

unseen_counts as (
    select
        shortlisted.user_id,
        count(*) as unseen
    from shortlisted
    anti join core.fct_interactions as seen
        on
            shortlisted.user_id = seen.user_id
            and shortlisted.movie_id = seen.movie_id
            and (
                cast($as_of as timestamp) is null
                or seen.interacted_at < cast($as_of as timestamp)
            )
    group by shortlisted.user_id
),

short_users as (
    select chunk.user_id
    from chunk
    left join unseen_counts on chunk.user_id = unseen_counts.user_id
    where coalesce(unseen_counts.unseen, 0) < $top_n
)

select
    user_id,
    movie_id
from shortlisted
where user_id not in (select short_users.user_id from short_users)
union all
select
    short_users.user_id,
    movies.movie_id
from short_users
cross join core.dim_movies as movies
