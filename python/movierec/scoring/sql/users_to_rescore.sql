-- The users whose lists an incremental run rescores (scoring/recommend.py): everyone the
-- run $run_id has no list for (new users), everyone with a viewing in a landed file this
-- build read first, and every list scored before $stale_before.
with

latest as (
    select
        user_id,
        min(coalesce(scored_at, generated_at)) as scored_at
    from ml_outputs.recommendations
    where run_id = $run_id
    group by user_id
),

new_viewers as (
    select distinct staged.user_id
    from staging.stg_landing__interactions as staged
    inner join ops.landed_batches as batches
        on staged.landed_file = batches.landed_file
    where batches.is_new
)

select users.user_id
from core.dim_users as users
left join latest
    on users.user_id = latest.user_id
where
    latest.user_id is null
    or latest.scored_at < $stale_before
    or users.user_id in (select new_viewers.user_id from new_viewers)
order by users.user_id
