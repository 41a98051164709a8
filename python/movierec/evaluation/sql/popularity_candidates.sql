-- Most viewed films before $cutoff, overall or (with $by_segment) within the user's
-- segment: the $depth most viewed as each evaluated user's candidates, in that order.
create or replace temp table baseline_candidates as
with

views as (
    select
        case when $by_segment then viewers.segment else 'all' end as segment,
        past.movie_id,
        count(*) as viewings
    from core.fct_interactions as past
    inner join core.dim_users as viewers on past.user_id = viewers.user_id
    where past.interacted_at < $cutoff
    group by all
),

popularity as (
    select
        segment,
        movie_id,
        row_number() over (
            partition by segment order by viewings desc, movie_id asc
        ) as preference
    from views
)

select
    evaluated.user_id,
    popularity.movie_id,
    popularity.preference
from evaluation_users as evaluated
inner join popularity
    on
        (case when $by_segment then evaluated.segment else 'all' end) = popularity.segment
        and popularity.preference <= $depth
