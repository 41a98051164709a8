-- The users an evaluation judges: every user, or a seeded sample of $max_users of them.
create or replace temp table evaluation_users as
select
    user_id,
    segment
from core.dim_users
order by hash(user_id, $seed)
limit $max_users
