-- Replace-by-insert of the scoring requests: the pairs of temp table requested_pairs, each
-- at $as_of (NULL: the default scoring moment), or with $at_latest_viewing just after the
-- user's own latest viewing before $as_of (a user without one is scored at $as_of).
insert into scoring.scoring_requests (user_id, movie_id, requested_at)
with

latest as (
    select
        user_id,
        max(interacted_at) as viewed_at
    from core.fct_interactions
    where
        $at_latest_viewing
        and (cast($as_of as timestamp) is null or interacted_at < cast($as_of as timestamp))
    group by user_id
)

select
    pairs.user_id,
    pairs.movie_id,
    case
        when $at_latest_viewing
            then
                coalesce(
                    latest.viewed_at + interval 1 microsecond, cast($as_of as timestamp)
                )
        else cast($as_of as timestamp)
    end as requested_at
from requested_pairs as pairs
left join latest on pairs.user_id = latest.user_id
