-- A baseline's top-$k lists: its candidates (temp table baseline_candidates, best
-- preference first) without the films each user had viewed before $cutoff.
select
    user_id,
    rank,
    movie_id
from (
    select
        candidates.user_id,
        candidates.movie_id,
        row_number() over (
            partition by candidates.user_id order by candidates.preference
        ) as rank
    from baseline_candidates as candidates
    where not exists (
        select 1 from core.fct_interactions as seen
        where
            seen.user_id = candidates.user_id
            and seen.movie_id = candidates.movie_id
            and seen.interacted_at < $cutoff
    )
) as ranked
where rank <= $k
