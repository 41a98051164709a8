-- The moment each user of temp table requested_users is served at: $as_of (NULL: the
-- default scoring moment), or with $at_latest_viewing just after the user's own latest
-- viewing before $as_of (a user without one is served at $as_of). Scoring requests and
-- retrieval requests both take their moments from here, so a scored pair and retrieval's
-- view of it meet at the same moment.
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
    served.user_id,
    case
        when $at_latest_viewing
            then
                coalesce(
                    latest.viewed_at + interval 1 microsecond, cast($as_of as timestamp)
                )
        else cast($as_of as timestamp)
    end as requested_at
from requested_users as served
left join latest on served.user_id = latest.user_id
