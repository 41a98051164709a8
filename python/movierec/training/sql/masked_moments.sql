-- Masked-history training, in the masked world: one moment per user with a hidden film
-- (intermediate.int_masked_viewings) first viewed before $until (ever, when NULL) and a
-- visible viewing before it. The moment is the one scoring serves users at
-- (warehouse/sql/user_moments.sql): $until (NULL: the default scoring moment), or with
-- $at_latest_viewing just after the user's latest visible viewing before $until.
with

hidden as (
    select distinct user_id
    from intermediate.int_masked_viewings
    where cast($until as timestamp) is null or first_viewed_at < cast($until as timestamp)
),

latest as (
    select
        user_id,
        max(interacted_at) as viewed_at
    from core.fct_interactions
    where cast($until as timestamp) is null or interacted_at < cast($until as timestamp)
    group by user_id
)

select
    hidden.user_id,
    case
        when $at_latest_viewing then latest.viewed_at + interval 1 microsecond
        else cast($until as timestamp)
    end as requested_at
from hidden
inner join latest on hidden.user_id = latest.user_id
