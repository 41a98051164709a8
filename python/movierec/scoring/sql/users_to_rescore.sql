-- The users whose lists an incremental run rescores (scoring/recommend.py): everyone the
-- run $run_id has no list for (new users), everyone with a viewing in a landed file this
-- build read first, and every list scored before $stale_before.
with

latest_lists as (
    select
        user_id,
        min(coalesce(scored_at, generated_at)) < cast($stale_before as timestamp) as is_stale
    from ml_outputs.recommendations
    where run_id = cast($run_id as varchar)
    group by user_id
),

new_viewers as (
    select distinct staged.user_id
    from staging.stg_landing__interactions as staged
    inner join ops.landed_batches as batches
        on staged.landed_file = batches.landed_file
    where batches.is_new
)

select known.user_id
from core.dim_users as known
left join latest_lists
    on known.user_id = latest_lists.user_id
where
    latest_lists.user_id is null
    or latest_lists.is_stale
    or known.user_id in (select new_viewers.user_id from new_viewers)
order by known.user_id
