-- Keep the drawn (user, film) pairs of the registered batch negative_batch that the user
-- had not viewed before $until (ever, when NULL).
insert into negative_draws
select
    draws.row_number,
    draws.draw,
    draws.user_id,
    draws.movie_id,
    draws.requested_at
from negative_batch as draws
where not exists (
    select 1 from core.fct_interactions as seen
    where
        seen.user_id = draws.user_id
        and seen.movie_id = draws.movie_id
        and ($until is null or seen.interacted_at < $until)
)
