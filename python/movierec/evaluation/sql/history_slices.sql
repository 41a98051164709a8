-- Every evaluated user's slice by history at the cut-off: 'no_history' (no viewing before
-- it, so retrieval proposes them only popular, recent and stated-genre films) or
-- 'with_history'. The metrics are kept per slice beside the user segments.
with

past_users as (
    select distinct user_id
    from core.fct_interactions
    where interacted_at < $cutoff
)

select
    evaluation_users.user_id,
    case when past_users.user_id is null then 'no_history' else 'with_history' end as segment
from evaluation_users
left join past_users on evaluation_users.user_id = past_users.user_id
