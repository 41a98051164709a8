-- Users without a viewing before $moment: the ones retrieval can only serve popular films.
select count(*) as cold_start_users
from core.dim_users as audience
where
    not exists (
        select 1
        from core.fct_interactions as seen
        where
            seen.user_id = audience.user_id
            and seen.interacted_at < $moment
    )
