-- The hits: films an evaluated user viewed (or with $liked_only, liked) in temp table
-- later_viewings at or after $cutoff, and had not viewed before it.
select distinct
    later.user_id,
    later.movie_id
from later_viewings as later
inner join evaluation_users as evaluated on later.user_id = evaluated.user_id
where
    later.interacted_at >= $cutoff
    and (not $liked_only or later.is_liked)
    and not exists (
        select 1 from core.fct_interactions as seen
        where
            seen.user_id = later.user_id
            and seen.movie_id = later.movie_id
            and seen.interacted_at < $cutoff
    )
