-- A seeded, reproducible sample of $per_segment users from each segment.
select user_id
from (
    select
        user_id,
        row_number() over (partition by segment order by hash(user_id + $seed) asc) as pick
    from core.dim_users
) as drawn
where pick <= $per_segment
order by user_id
